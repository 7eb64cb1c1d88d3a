"""``boxoffice --self-test``: prove an installed (or frozen) desk works end to end, without touching user data.

It builds a temporary database, runs the migrations, imports the demo conference, runs a cash sale
through the services (acting as the system operator, with a cash shift open), prints its receipt
to a file printer, loads Stripe's CA bundle, renders every screen of the main window offscreen, says
how the check-in sounds play, and checks that the log redacts secrets. One line per check; exit
code 0 when every check passed, 1 with the reason otherwise.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from boxoffice import __version__, paths

log = logging.getLogger(__name__)

MIN_SCREEN_WIDTH, MIN_SCREEN_HEIGHT = 300, 200


class CheckFailed(Exception):
    """A self-test check did not hold; the message says what was expected."""


@dataclass
class SelfTest:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    passed: int = 0
    failures: list[str] = field(default_factory=list)

    def ok(self, what: str) -> None:
        self.passed += 1
        print(f"ok    {what}", file=self.out, flush=True)

    def fail(self, what: str, reason: str) -> None:
        self.failures.append(f"{what}: {reason}")
        print(f"FAIL  {what}: {reason}", file=self.out, flush=True)

    def check(self, what: str, condition: bool, reason: str) -> None:
        if condition:
            self.ok(what)
        else:
            self.fail(what, reason)
            raise CheckFailed(f"{what}: {reason}")


def _bundle_checks(t: SelfTest) -> None:
    from boxoffice.db.migrate import MIGRATIONS_DIR, packaged_head

    frozen = bool(getattr(sys, "frozen", False))
    t.ok(f"Box Office {__version__} on Python {platform.python_version()} "
         f"({platform.system()} {platform.machine()}{', frozen build' if frozen else ''})")
    resources = paths.resources_dir()
    missing = [n for n in ("style.qss", "icon.svg", "icon.png") if not (resources / n).is_file()]
    t.check(f"resources present in {resources}", not missing, f"missing {', '.join(missing)}")
    t.check(f"migrations shipped up to revision {packaged_head()}", (MIGRATIONS_DIR / "env.py").is_file(),
            f"{MIGRATIONS_DIR / 'env.py'} is missing")
    demo = paths.demo_conference_file()
    t.check("demo conference file shipped", demo.is_file(), f"{demo} is missing")
    if frozen:
        program = paths.app_dir()
        inside = [f"{k} {p}" for k, p in paths.user_locations().items() if p.resolve().is_relative_to(program)]
        t.check("user data, settings, logs and backups live outside the program folder", not inside,
                f"inside {program}: {', '.join(inside)}")


def _database_checks(t: SelfTest, url: str) -> tuple[Any, int]:
    from boxoffice.app import build_app
    from boxoffice.db.migrate import packaged_head, stored_revision
    from boxoffice.demo.seed import seed_demo

    services = build_app(url, desk_name="Self-test desk", use_stripe=False)
    revision = stored_revision(services.db)
    t.check(f"temporary database created and migrated to {revision}", revision == packaged_head(),
            f"schema is at {revision}, expected {packaged_head()}")
    report = seed_demo(services.ctx)
    catalog = services.catalog.list_products(report.conference_id)
    conference = services.conferences.get(report.conference_id)
    t.check(f"demo conference imported: {conference.name}, {len(catalog.tickets)} ticket types, "
            f"{len(catalog.addons)} add-ons", len(catalog.tickets) > 0, "the demo has no ticket types")
    return services, report.conference_id


def _cash_sale(t: SelfTest, services: Any, conference_id: int) -> int:
    shift = services.shifts.open(Decimal("100.00"), conference_id=conference_id, note="self-test")
    t.ok(f"cash shift #{shift.id} open at {services.ctx.desk_name} with a float of 100.00")
    catalog = services.catalog.list_products(conference_id)
    ticket = next((p for p in catalog.tickets if p.allowed and p.price > 0), None)
    if ticket is None:
        raise CheckFailed("no demo ticket type is on sale")
    cart = services.carts.new_walkup_cart(conference_id)
    services.carts.add_ticket(cart.id, ticket.id, 1)
    order = services.checkout.checkout(cart.id, billing_name="Self Test", billing_email="selftest@example.org")
    t.check(f"checkout of 1 × {ticket.name}: order {order.reference} for {order.total}",
            order.total == ticket.price and order.status == "pending",
            f"order total {order.total} ({order.status}), expected {ticket.price} pending")
    tendered = (order.total / 50).to_integral_value(rounding="ROUND_CEILING") * 50 + 50
    paid = services.payments.pay_cash(order.id, tendered)
    t.check(f"cash payment of {tendered}: paid in full, change {paid.change_due}",
            paid.paid_in_full and paid.change_due == tendered - order.total,
            f"paid_in_full={paid.paid_in_full}, change {paid.change_due}")
    stored = services.orders.get(order.id)
    t.check(f"order {stored.reference} stored as {stored.status}", stored.status == "paid" and stored.balance == 0,
            f"status {stored.status}, balance {stored.balance}")
    drawer = services.shifts.expected_cash(shift.id)
    t.check(f"drawer expects {drawer} (float 100.00 + {order.total})", drawer == Decimal("100.00") + order.total,
            f"expected cash {drawer}, should be {Decimal('100.00') + order.total}")
    return int(order.id)


def _receipt_check(t: SelfTest, services: Any, order_id: int, workdir: Path) -> None:
    """The sale's receipt through python-escpos to a file printer: the very bytes a receipt printer gets."""
    target = workdir / "receipt.escpos"
    outcome = services.receipt_printer.print_receipt(order_id, f"file:{target}")
    job = services.receipt_printer.escpos_job(order_id)
    written = target.read_bytes() if target.is_file() else b""
    reference = services.orders.get(order_id).reference
    t.check(f"receipt of {reference} printed to a file printer: {len(written)} bytes of ESC/POS",
            outcome.printed_receipt and written == job and reference.encode() in written,
            f"printed={outcome.printed_receipt}, {len(written)} bytes written, {len(job)} expected")


def _https_check(t: SelfTest) -> None:
    """Stripe's client checks api.stripe.com's certificate against the CA bundle in the stripe package."""
    import ssl

    import stripe

    bundle = Path(stripe.ca_bundle_path)
    try:
        authorities = ssl.create_default_context(cafile=str(bundle)).cert_store_stats()["x509_ca"]
        problem = f"{bundle} holds no certificates"
    except (OSError, ssl.SSLError) as exc:
        authorities, problem = 0, f"its CA bundle {bundle} could not be loaded ({exc})"
    t.check(f"HTTPS to Stripe: {ssl.OPENSSL_VERSION}, {authorities} certificate authorities in stripe's bundle",
            authorities > 0, problem)


def _sound_check(t: SelfTest) -> None:
    """The check-in sounds: QSoundEffect where QtMultimedia and an audio output are there, else why not."""
    from boxoffice.ui.screens.checkin.sounds import ResultSounds

    sounds = ResultSounds()
    try:
        works, what = sounds.self_check()
    finally:
        sounds.deleteLater()
    t.check(f"check-in sounds: {what}", works, what)


def _render_screens(t: SelfTest, services: Any, conference_id: int, workdir: Path) -> None:
    """Build the main window as ``ui.launch`` does (``install_features``; no sign-in or first-start
    dialog: SYSTEM is acting) and render every page of its stack, so every screen is covered."""
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from boxoffice.config import Settings
    from boxoffice.ui.desk import Desk
    from boxoffice.ui.formatting import Display
    from boxoffice.ui.launch import application, install_features
    from boxoffice.ui.main_window import MainWindow
    from boxoffice.ui.messages import RecordingMessages
    from boxoffice.ui.tasks import TaskRunner

    app = application()
    t.ok(f"Qt {QApplication.platformName()} platform, style sheet {len(app.styleSheet())} characters")
    conference = services.conferences.get(conference_id)
    settings = Settings(conference_id=conference_id, desk_name=services.ctx.desk_name)
    tasks = TaskRunner()
    messages = RecordingMessages()
    desk = Desk(services=services, tasks=tasks, messages=messages, conference_id=conference.id,
                display=Display(conference.currency, conference.timezone),
                quick_cash_notes=tuple(settings.quick_cash_notes), idle_lock_minutes=0)
    window = MainWindow(desk, conference_name=conference.name, database_label=services.db.display_url)
    install_features(window, settings, settings_path=workdir / "settings.json")  # never the user's settings
    window.resize(1280, 820)
    window.show()
    try:
        count = window.stack.count()
        t.check(f"main window built with {count} screens", count > 0, "the window has no screens")
        for index in range(count):
            screen = window.screen_at(index)   # screens are built on first use
            label = window.nav_buttons[index].text().split("\n")[0] if index < len(window.nav_buttons) else ""
            name = f"screen {label or index} ({type(screen).__name__})"
            before = len(messages.shown)
            window.show_screen(index)
            _settle(app, tasks)
            if window.stack.currentIndex() != index:
                t.check(name, False, "the window would not show it (locked, or hidden for the operator)")
            pixmap = screen.grab()
            size = screen.size()
            errors = [s.text for s in messages.shown[before:] if s.kind != "info"]
            t.check(f"{name} rendered {size.width()}×{size.height()}",
                    not pixmap.isNull() and size.width() >= MIN_SCREEN_WIDTH
                    and size.height() >= MIN_SCREEN_HEIGHT and not errors,
                    f"pixmap null={pixmap.isNull()}, size {size.width()}×{size.height()}, errors {errors}")
        lock_screen = getattr(window, "lock_screen", None)
        if lock_screen is not None:
            window.lock(reason="Self-test: sign-in screen")
            _settle(app, tasks)
            pixmap = lock_screen.grab()
            t.check(f"sign-in screen rendered {lock_screen.width()}×{lock_screen.height()}",
                    not pixmap.isNull() and lock_screen.isVisible() and lock_screen.width() >= MIN_SCREEN_WIDTH,
                    f"pixmap null={pixmap.isNull()}, visible={lock_screen.isVisible()}")
    finally:
        window.confirm_quit = lambda parent, text: True  # type: ignore[method-assign]  # quits on purpose
        window.close()
        tasks.wait_idle(5000)
        window.deleteLater()
        app.processEvents()


def _settle(app: Any, tasks: Any, timeout: float = 10.0) -> None:
    """Process events until the screen's background loads have delivered (bounded)."""
    deadline = time.monotonic() + timeout
    app.processEvents()
    while time.monotonic() < deadline:
        tasks.wait_idle(100)
        app.processEvents()
        if not tasks.is_busy():
            app.processEvents()
            return
    raise CheckFailed(f"background loads still running after {timeout:.0f} s")


def _log_checks(t: SelfTest) -> None:
    from boxoffice.logging_setup import redact

    key = "sk_live_" + "51SelfTestAbCdEfGhIjKlMnOp"
    card = "4242 4242 4242 4242"
    cleaned = redact(f"key={key} card={card} cvc=123")
    t.check("log redaction masks Stripe keys, card numbers and CVC",
            key not in cleaned and "4242 4242" not in cleaned and "cvc=123" not in cleaned, cleaned)


def run(out: TextIO | None = None) -> int:
    """Run every check; returns the process exit code (0 only when all passed)."""
    from boxoffice.services.staff.access import SYSTEM, acting_as

    t = SelfTest(out=out or sys.stdout)
    started = time.monotonic()
    services = None
    with tempfile.TemporaryDirectory(prefix="boxoffice-selftest-") as tmp, acting_as(SYSTEM):
        try:
            _bundle_checks(t)
            from boxoffice.db.engine import sqlite_url

            services, conference_id = _database_checks(t, sqlite_url(Path(tmp) / "selftest.sqlite3"))
            order_id = _cash_sale(t, services, conference_id)
            _receipt_check(t, services, order_id, Path(tmp))
            _https_check(t)
            _render_screens(t, services, conference_id, Path(tmp))
            _sound_check(t)
            _log_checks(t)
        except CheckFailed:
            pass
        except Exception as exc:
            log.exception("self-test failed")
            t.fail("unexpected error", f"{type(exc).__name__}: {exc}")
            traceback.print_exc(file=t.out)
        finally:
            if services is not None:
                services.close()
    seconds = time.monotonic() - started
    if t.failures:
        print(f"SELF-TEST FAILED: {len(t.failures)} failed, {t.passed} passed in {seconds:.1f} s — "
              f"{t.failures[0]}", file=t.out, flush=True)
        return 1
    print(f"SELF-TEST PASSED: {t.passed} checks in {seconds:.1f} s", file=t.out, flush=True)
    return 0
