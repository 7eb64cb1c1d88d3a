"""Start the desk GUI: QApplication, style, first-start set-up and first admin when needed, then the main window.

The window opens locked: nobody sells before signing in (the command line's SYSTEM operator is
cleared first).
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from boxoffice import gc_pause, paths
from boxoffice.config import LoadedSettings, Settings, normalise_database_url, save_settings
from boxoffice.errors import DatabaseDamaged, UserError
from boxoffice.services.staff.access import set_operator
from boxoffice.ui.crash import install_crash_handler
from boxoffice.ui.desk import Desk, DeskPrinters
from boxoffice.ui.formatting import Display
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.messages import Messages
from boxoffice.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from boxoffice.ui.dialogs.first_start import FirstStartChoice

log = logging.getLogger(__name__)


def application() -> QApplication:
    """The QApplication with the desk style and icon (fonts keep the system's size and scale)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Box Office")
    app.setDesktopFileName("boxoffice")
    icon = paths.resources_dir() / "icon.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    style = paths.resources_dir() / "style.qss"
    if style.exists():
        app.setStyleSheet(style.read_text(encoding="utf-8"))
    return app


def apply_first_start(services: Any, settings: Settings, choice: FirstStartChoice) -> tuple[Any, Settings, bool]:
    """Open the chosen database and load the conference; returns (services, settings, owned)."""
    from boxoffice.app import build_app  # the wiring module, only on first start
    from boxoffice.db.credentials import keep_password, with_password
    from boxoffice.demo.seed import seed_demo
    from boxoffice.services.admin.conference_import import import_conference

    owned = False
    if choice.database:
        url = normalise_database_url(choice.database)
        if url != services.db.url:
            saved = keep_password(url)   # the password goes to the keychain, never to settings.json
            services = build_app(with_password(url), desk_name=settings.desk_name or "Desk 1",
                                 stripe_api_base=settings.stripe_api_base, stripe_later=True)
            owned = True
            settings = replace(settings, database_url=saved)
    if choice.conference_file:
        conference_id = import_conference(services.ctx, choice.conference_file).conference_id
    else:
        existing = services.conferences.list()
        conference_id = existing[0].id if existing else seed_demo(services.ctx).conference_id
    return services, replace(settings, conference_id=conference_id), owned


def install_features(window: MainWindow, settings: Settings, *, settings_path: Any = None) -> None:
    """Every optional screen of the desk, in nav order; the self-test builds its window with this too.

    F4 Sync (with Stripe), F6 Shifts, F7 Catalog, F8 Audit log, F9 Staff, F10 Settings, F11 Check-in, and
    the receipt printer's faults in the status bar; each nav
    button shows only to operators whose role may use it (the services check every call anyway).
    Each screen is built when first shown. While the Stripe key is still being looked up
    (``connect_stripe_later``), Stripe is wired in once it is found, not now.
    """
    from boxoffice.app import STRIPE_PENDING
    from boxoffice.ui.admin_wiring import install_admin
    from boxoffice.ui.receipt_jobs import install_printer_status
    from boxoffice.ui.screens.checkin.wiring import install_checkin
    from boxoffice.ui.screens.settings.wiring import install_admin_screens
    from boxoffice.ui.shift_wiring import install_shifts

    if getattr(window.desk.services, "card_status", "") == STRIPE_PENDING:
        window.set_sync_state(f"Card payments: {STRIPE_PENDING}")
    else:
        from boxoffice.ui.stripe_wiring import install_stripe

        install_stripe(window, reader_id=settings.stripe_reader_id)
    install_shifts(window)
    install_printer_status(window)   # "Receipt not printed: <reason>" with Retry
    install_admin(window)
    from boxoffice.ui.registrations_sync import install_registrations_sync

    install_registrations_sync(window, settings)   # before Settings, which shows its Sync now
    install_admin_screens(window, settings, settings_path=settings_path)  # the desk-wide Stripe key
    install_checkin(window)


def ensure_first_admin(services: Any) -> tuple[bool, Any]:
    """On a database without an admin, ask for the first one and sign them in.

    Returns (go on, the new admin signed in or None): (False, None) when the operator quits. The
    admin who just chose their password is not asked for it again on the lock screen.
    """
    if not services.directory.needs_first_admin():
        return True, None
    gc_pause.resume()
    from boxoffice.ui.dialogs.first_start import FirstAdminDialog

    dialog = FirstAdminDialog(services.auth.create_first_admin)
    if dialog.exec() != FirstAdminDialog.DialogCode.Accepted:
        return False, None
    return True, services.auth.sign_in(dialog.account.name, dialog.password.text())


def connect_stripe_later(window: MainWindow, settings: Settings) -> None:
    """Look for the Stripe key (keychain, Stripe SDK) on a worker; card payments come on when found.

    Until then the status bar says so, and the desk sells for cash, comp and credit.
    """
    from boxoffice.app import STRIPE_PENDING, connect_stripe

    desk = window.desk
    if getattr(desk.services, "card_status", "") != STRIPE_PENDING:
        return
    window.set_sync_state(f"Card payments: {STRIPE_PENDING}")

    def connected(services: Any) -> None:
        from boxoffice.ui.stripe_wiring import install_stripe

        desk.services = services
        install_stripe(window, reader_id=settings.stripe_reader_id)

    def failed(exc: BaseException) -> None:
        log.warning("card payments off: the Stripe key could not be looked up (%s)", type(exc).__name__)
        window.set_sync_state("Card payments off: the Stripe key could not be looked up; restart to try again")

    services = desk.services
    desk.tasks.read(lambda: connect_stripe(services, conference_slug=None,
                                           settings_api_base=settings.stripe_api_base),
                    connected, failed, owner=window)


def check_file_later(window: MainWindow) -> None:
    """SQLite's quick check of the desk's file on a worker: the window shows at once, however large the file.

    Until the check has passed every write waits for it (``Database.file_check``), so no sale
    reaches a damaged file; a damaged file closes the desk with the refusal the command line
    gives, naming the newest backup.
    """
    check = window.desk.services.db.file_check
    if check is None:
        return

    def failed(exc: BaseException) -> None:
        if not isinstance(exc, DatabaseDamaged):   # the check itself failed: the first write runs it again
            log.error("the quick check of the database file could not run", exc_info=exc)
            return
        refuse_damaged(window, str(exc))

    window.desk.tasks.read(check.require, None, failed, owner=window)


def refuse_damaged(window: MainWindow, text: str) -> None:
    """Tell the operator the file is damaged and what to do, then end the desk (exit code 1)."""
    log.error("database refused: %s", text)
    print(f"error: {text}", file=sys.stderr)
    QMessageBox.critical(window, "Box Office", text)
    QApplication.exit(1)


# How long after_ready waits for the sign-in names before it loads the rest anyway (a database
# that does not answer at start must not leave collection paused and card payments unlooked-for).
READY_FALLBACK_MS = 3000


def after_ready(window: MainWindow, settings: Settings, *, fallback_ms: int = READY_FALLBACK_MS) -> None:
    """Once the sign-in screen is ready: load the data model on a worker, then look for the Stripe key.

    The window shows and takes a sign-in before the ORM is loaded (the sign-in list is read with
    Core); loading it now means the first sign-in and sale need not wait for it. Garbage
    collection, paused for the start, comes back on first. If the sign-in names have not come
    within ``fallback_ms``, the same happens then.
    """
    desk = window.desk
    started = False

    def then_stripe(_result: object = None) -> None:
        connect_stripe_later(window, settings)

    def start() -> None:
        nonlocal started
        if started:
            return
        started = True
        gc_pause.resume()
        desk.tasks.read(desk.services.warm_up, then_stripe, lambda _exc: then_stripe(), owner=window)

    if window.lock_screen.ready:
        start()
        return
    window.lock_screen.became_ready.connect(start)
    QTimer.singleShot(fallback_ms, window, start)


def _needs_setup(services: Any, loaded: LoadedSettings) -> bool:
    settings = loaded.settings
    if loaded.first_start:
        return True
    ids = {c.id for c in services.conferences.list()}
    return settings.conference_id not in ids


def launch(services: Any, loaded: LoadedSettings) -> int:
    """Run the desk until the window closes; returns the process exit code."""
    app = application()
    install_crash_handler()   # an unhandled error shows a dialog and a report; the sale data stays safe
    set_operator(None)   # the desk acts for whoever signs in, never as the command line's SYSTEM
    settings = loaded.settings
    owned = False
    if _needs_setup(services, loaded):
        gc_pause.resume()   # a person answers dialogs now; nothing is gained by waiting
        from boxoffice.ui.dialogs.first_start import FirstStartDialog

        dialog = FirstStartDialog(database_label=services.db.display_url, problem=loaded.problem)
        while True:
            if dialog.exec() != FirstStartDialog.DialogCode.Accepted:
                return 0
            try:
                services, settings, owned = apply_first_start(services, settings, dialog.choice())
                break
            except UserError as exc:
                dialog.message.show_message(str(exc))
        save_settings(settings)
    go_on, first_admin = ensure_first_admin(services)
    if not go_on:
        if owned:
            services.close()
        return 0
    conference = services.conferences.get(settings.conference_id)
    tasks = TaskRunner()
    messages = Messages()
    desk = Desk(services=services, tasks=tasks, messages=messages, conference_id=conference.id,
                display=Display(conference.currency, conference.timezone),
                quick_cash_notes=tuple(settings.quick_cash_notes), idle_lock_minutes=settings.idle_lock_minutes,
                checkin_walkups=settings.checkin_walkups, printers=DeskPrinters.of(settings))
    window = MainWindow(desk, conference_name=conference.name, database_label=services.db.display_url)
    check_file_later(window)   # runs while the window is built and shown
    install_features(window, settings)
    if first_admin is not None:
        window.sign_in_as(first_admin)
    window.fit_to_screen()
    window.show()
    after_ready(window, settings)
    if loaded.problem and not loaded.first_start:
        messages.info(loaded.problem)
    try:
        return int(app.exec())
    except Exception:  # last resort: log, tell the operator, exit non-zero
        log.exception("the desk stopped unexpectedly")
        QMessageBox.critical(None, "Box Office", "Box Office stopped unexpectedly; see the log file.")
        return 1
    finally:
        tasks.wait_idle(5000)
        if owned:
            services.close()
