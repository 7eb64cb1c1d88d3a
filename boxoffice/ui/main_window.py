"""The main window: navigation (F1 Sell, F2 Orders, F3 Credits, more via add_screen), a banner, the status bar.

It also owns the desk's sign-in state: with nobody signed in, a lock screen covers the content
(the screens and the sale in progress stay as they are underneath). Lock (Ctrl+L) and the idle
timer lock the desk; whoever signs in next becomes the operator. Screens added with a
``permission`` show their nav button only to operators whose role has it.

Screens are built on first use: ``add_screen`` takes a widget or a function that builds one, and
a screen given as a function is built when it is first shown or its attribute is first read
(``window.orders``, ``window.settings_screen``...). Until then a blank page holds its place, so
the window (and its sign-in screen) shows before the screens behind it are made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from boxoffice.services.staff.access import Actor, Permission, Role, current_actor
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.override import install_override
from boxoffice.ui.idle import IdleWatcher
from boxoffice.ui.input_hold import InputHold
from boxoffice.ui.widgets.elided_label import ElidedLabel
from boxoffice.ui.widgets.inline_message import Banner
from boxoffice.ui.widgets.lock_screen import LockScreen
from boxoffice.ui.widgets.nav_bar import NavBar
from boxoffice.ui.widgets.status_label import StatusLabel

ScreenFactory = Callable[[], QWidget]


def _key_order(key: str) -> int:
    """F-keys in their number order; any other key after them."""
    return int(key[1:]) if key[:1] == "F" and key[1:].isdigit() else 99


class _Lazy:
    """A screen not built yet: its factory, the attribute it answers to, and who waits for it."""

    def __init__(self, factory: ScreenFactory, name: str | None) -> None:
        self.factory = factory
        self.name = name
        self.waiting: list[Callable[[QWidget], Any]] = []


class MainWindow(QMainWindow):
    """Hosts the screens (Sell, Orders, Credits; Sync when Stripe is on).

    ``status_sync`` is the status-bar slot the Stripe sync fills (see ``boxoffice.ui.stripe_wiring``).
    Signals: ``operator_changed(object)`` with the new ``Actor`` after a sign-in, ``None`` on lock.
    The window starts locked unless an operator is already acting (tests, the self-test).
    ``idle_ms`` overrides the idle lock interval (``desk.idle_lock_minutes``; 0 turns it off).
    """

    operator_changed = Signal(object)

    def __init__(self, desk: Desk, *, conference_name: str, database_label: str,
                 idle_ms: int | None = None) -> None:
        super().__init__()
        self.desk = desk
        self._screen_permissions: dict[int, Permission] = {}
        self._lazy: dict[int, _Lazy] = {}   # nav index -> a screen not built yet
        self._nav_order: list[int] = []   # the key order of each nav button, by index
        self.setWindowTitle(f"Box Office — {conference_name}")
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        nav = NavBar()
        nav_layout = nav.row
        self._nav = nav
        self.sync_controller: Any | None = None   # set by boxoffice.ui.stripe_wiring when Stripe is on
        self.banner = Banner()
        desk.messages.set_banner(self.banner, self)
        self.stack = QStackedWidget()
        self._group = QButtonGroup(self)
        self.nav_buttons: list[QPushButton] = []
        self.add_screen("Sell", "F1", self._make_sell, name="sell")
        self.add_screen("Orders", "F2", self._make_orders, name="orders")
        self.add_screen("Credits", "F3", self._make_credits, name="credits")
        nav_layout.addStretch(1)
        self.lock_button = QPushButton("Lock / switch  [Ctrl+L]")
        self.lock_button.setObjectName("lockButton")
        self.lock_button.setToolTip("Lock the desk now; the next person to sign in becomes the operator (Ctrl+L)")
        nav_layout.addWidget(self.lock_button)
        nav.fixed.append(self.lock_button)
        self._group.idClicked.connect(self.show_screen)
        layout.addWidget(nav)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.content = central
        self.lock_screen = LockScreen(desk)
        self._root = QStackedWidget()
        self._root.addWidget(central)
        self._root.addWidget(self.lock_screen)
        self.setCentralWidget(self._root)
        self.lock_button.clicked.connect(lambda: self.lock())
        QShortcut(QKeySequence("Ctrl+L"), self, lambda: self.lock(),
                  context=Qt.ShortcutContext.ApplicationShortcut)
        self.lock_screen.signed_in.connect(self._on_lock_screen_signed_in)
        minutes_ms = IdleWatcher.minutes_to_ms(desk.idle_lock_minutes)
        self.idle = IdleWatcher(minutes_ms if idle_ms is None else idle_ms, self)
        self.idle.idle.connect(self._on_idle)
        install_override(desk, self)
        self.input_hold = InputHold(desk.tasks, self)   # keys typed while a write runs wait for it

        bar = self.statusBar()
        bar.setSizeGripEnabled(False)   # the grip drew an unstyled square; the window frame resizes
        # Who is signed in stays whole; the conference and sync states shorten with "…" when the bar is
        # full, and the database location (a path, a server URL) gives way too, its whole in the tooltip.
        self.status_conference = StatusLabel(f"Conference: {conference_name}", least=220)
        self.status_operator = QLabel()
        short = database_label if "://" in database_label else database_label.replace("\\", "/").rsplit("/", 1)[-1]
        self.status_database = ElidedLabel(f"Database: {short}")
        self.status_database.setToolTip(database_label)
        self.status_sync = StatusLabel("")
        for label in (self.status_conference, self.status_operator):
            bar.addWidget(label)
        bar.addWidget(self.status_database, 1)
        bar.addPermanentWidget(self.status_sync)
        from boxoffice.ui.database_wait import install_database_wait

        self.database_wait = install_database_wait(self)   # another program's lock, said within seconds

        actor = current_actor()
        if actor is None:
            self.lock(reason="Sign in to start selling.")
        else:
            if not desk.operator_role:
                desk.operator_role = actor.role.value
            self._show_operator()
            self.idle.start()
            self.show_screen(0)

    # --- the three desk screens, built on first use ---------------------------------------------

    def _make_sell(self) -> QWidget:
        from boxoffice.ui.screens.sell.screen import SellScreen

        sell = SellScreen(self.desk)
        sell.order_scanned.connect(self._on_sell_order_scanned)
        sell.sale_completed.connect(lambda _order: self.refresh_if_built("orders"))
        return sell

    def _make_orders(self) -> QWidget:
        from boxoffice.ui.screens.orders.screen import OrdersScreen

        orders = OrdersScreen(self.desk)
        orders.take_payment_requested.connect(self._on_orders_take_payment)
        orders.credit_issued.connect(lambda: self.refresh_if_built("credits"))
        orders.stock_changed.connect(lambda: self.is_built("sell") and self.sell.refresh_catalog())
        return orders

    def _make_credits(self) -> QWidget:
        from boxoffice.ui.screens.credits.screen import CreditsScreen

        credits = CreditsScreen(self.desk)
        credits.apply_requested.connect(self._on_credits_apply_requested)
        return credits

    # --- sign-in state ------------------------------------------------------------------------

    def is_locked(self) -> bool:
        return self._root.currentWidget() is self.lock_screen

    def lock(self, reason: str = "") -> None:
        """Lock the desk now: nobody is signed in until the next sign-in (the sale stays as it is)."""
        if self.is_locked():
            return
        previous = self.desk.operator_name
        self.banner.clear_message()   # nothing meant for this operator stays for the next one
        self.desk.set_operator(None)
        self.idle.stop()
        self.content.setEnabled(False)
        self._root.setCurrentWidget(self.lock_screen)
        self.lock_screen.prepare(
            reason=reason or (f"{previous} locked the desk. Sign in to continue; the sale in progress is kept."
                              if previous else "Sign in to continue."),
            previous=previous)
        self._show_operator()
        self.operator_changed.emit(None)

    def sign_in_as(self, actor: Actor) -> None:
        """Make ``actor`` the operator and show the screens their role allows."""
        self.desk.set_operator(actor)
        self.content.setEnabled(True)
        self._root.setCurrentWidget(self.content)
        self._show_operator()
        self._apply_permissions()
        current = self.stack.currentIndex()
        self.show_screen(current if current >= 0 and not self.nav_buttons[current].isHidden() else 0)
        self.idle.start()
        self.operator_changed.emit(actor)

    def _on_lock_screen_signed_in(self, actor: Actor) -> None:
        self.sign_in_as(actor)

    def _on_idle(self) -> None:
        if QApplication.activeModalWidget() is not None:   # a payment in progress: wait for it to close
            self.idle.start()
            return
        minutes = self.desk.idle_lock_minutes
        self.lock(reason=f"Locked after {minutes} minute{'s' if minutes != 1 else ''} without use. "
                  "Sign in to continue; the sale in progress is kept.")

    def _show_operator(self) -> None:
        desk = self.desk
        if not desk.operator_name and self.is_locked():
            self.status_operator.setText("Desk locked")
        else:
            role = f" ({Role(desk.operator_role).label})" if desk.operator_role else ""
            self.status_operator.setText(f"Operator: {desk.operator_name or '—'}{role}")

    def _apply_permissions(self) -> None:
        actor = current_actor()
        for index, permission in self._screen_permissions.items():
            self.nav_buttons[index].setVisible(actor is not None and actor.may(permission))
        self._nav.fit()

    # --- screens ---------------------------------------------------------------------------------

    def add_screen(self, label: str, key: str, screen: QWidget | ScreenFactory, *,
                   permission: Permission | None = None, name: str | None = None) -> int:
        """Append a screen with its nav button and shortcut; ``refresh()`` is called when it is shown.

        ``screen`` is a widget, or a function that builds it on first use (shown, or read as
        ``window.<name>``). With ``permission`` the screen is offered only to operators who have
        it (the services still check every call).
        """
        index = len(self.nav_buttons)
        button = QPushButton()
        button.setCheckable(True)
        button.setProperty("role", "nav")
        button.setToolTip(f"{label} ({key})")
        self._group.addButton(button, index)
        # Buttons stand in the order of their keys (F1, F2, ... F10), whenever a screen is added.
        self._nav.add_button(button, f"{label}  [{key}]", label,
                             sum(1 for o in self._nav_order if o <= _key_order(key)))
        self._nav_order.append(_key_order(key))
        self.nav_buttons.append(button)
        if isinstance(screen, QWidget):
            self.stack.addWidget(screen)
            if name:
                setattr(self, name, screen)
        else:
            self.stack.addWidget(QWidget())   # holds the place until the screen is built
            self._lazy[index] = _Lazy(screen, name)
        QShortcut(QKeySequence(key), self, lambda i=index: self.show_screen(i),
                  context=Qt.ShortcutContext.ApplicationShortcut)
        if permission is not None:
            self._screen_permissions[index] = permission
            actor = current_actor()
            button.setVisible(actor is not None and actor.may(permission))
        self._nav.fit()
        return index

    def screen_at(self, index: int) -> QWidget:
        """The screen behind nav button ``index``, built now if it was not yet."""
        widget = self.stack.widget(index)
        if widget is None:
            raise IndexError(f"no screen at nav index {index}")
        lazy = self._lazy.get(index)
        if lazy is None:
            return widget
        placeholder = widget
        current = self.stack.currentIndex()
        screen = lazy.factory()   # if it fails, the screen stays unbuilt and the next show tries again
        del self._lazy[index]
        self.stack.insertWidget(index, screen)
        self.stack.removeWidget(placeholder)
        placeholder.deleteLater()
        if current == index:
            self.stack.setCurrentIndex(index)
        if lazy.name:
            setattr(self, lazy.name, screen)
        for callback in lazy.waiting:
            callback(screen)
        return screen

    def _lazy_index(self, name: str) -> int | None:
        return next((i for i, lazy in self._lazy.items() if lazy.name == name), None)

    def is_built(self, name: str) -> bool:
        return name in self.__dict__

    def when_built(self, name: str, callback: Callable[[QWidget], Any]) -> None:
        """Call ``callback(screen)`` once the screen called ``name`` exists (now, if it does)."""
        index = self._lazy_index(name)
        if index is None:
            callback(getattr(self, name))
        else:
            self._lazy[index].waiting.append(callback)

    def refresh_if_built(self, name: str) -> None:
        """Refresh a screen that exists; one not built yet loads fresh data when first shown anyway."""
        if self.is_built(name):
            getattr(self, name).refresh()

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not set yet: a lazy screen is built on first read.
        index = self._lazy_index(name) if "_lazy" in self.__dict__ else None
        if index is not None:
            return self.screen_at(index)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def set_sync_state(self, text: str) -> None:
        """Stripe sync state for the status bar (filled by the sync controller)."""
        self.status_sync.setText(text)

    def show_screen(self, index: int) -> None:
        if self.is_locked() or not 0 <= index < len(self.nav_buttons) \
                or self.nav_buttons[index].isHidden():
            return
        screen = self.screen_at(index)
        if self.stack.currentIndex() != index:
            self.banner.clear_message()   # a message about the last screen does not follow to the next
        self.nav_buttons[index].setChecked(True)
        self.stack.setCurrentIndex(index)
        if screen is self.__dict__.get("sell"):
            screen.refresh_catalog()
            screen.focus_scan_field()
        elif screen is self.__dict__.get("orders"):
            screen.refresh()
            screen.search.setFocus()
        else:
            refresh = getattr(screen, "refresh", None)
            if refresh is not None:
                refresh()

    def _on_sell_order_scanned(self, reference: str) -> None:
        self.show_screen(1)
        self.orders.show_reference(reference)

    def _on_orders_take_payment(self, order: Any) -> None:
        self.show_screen(0)
        self.sell.open_payment(order)

    def _on_credits_apply_requested(self, credit: Any) -> None:
        self.show_screen(0)
        self.sell.use_credit_of(credit)

    def fit_to_screen(self) -> None:
        """Open at 1280×820, or filling the screen (maximized) when the screen is not larger than that:
        a 1280×720 laptop, 1366×768, or 1920×1080 at 150 % (1280×720 in Qt's pixels)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            self.resize(1280, 820)
            return
        room = screen.availableGeometry()
        if room.width() <= 1366 or room.height() <= 820:
            self.resize(min(1280, room.width()), min(820, room.height()))
            self.setWindowState(self.windowState() | Qt.WindowState.WindowMaximized)
        else:
            self.resize(1280, 820)
            self.move(room.center() - self.rect().center())

    @staticmethod
    def confirm_quit(parent: QWidget, text: str) -> bool:
        """Ask before quitting with the drawer's shift open (tests replace this)."""
        box = QMessageBox(QMessageBox.Icon.Warning, "Quit Box Office?", text, parent=parent)
        quit_button = box.addButton("Quit, leave the shift open", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Keep Box Office open", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        return box.clickedButton() is quit_button

    def closeEvent(self, event: QCloseEvent) -> None:
        status = getattr(self, "status_shift", None)
        shift = getattr(status, "shift", None)
        if shift is not None and not self.confirm_quit(self, (
                f"Cash shift #{shift.id} is still open at {shift.desk_name}, with "
                f"{self.desk.display.money(shift.expected)} expected in the drawer.\n\n"
                "To hand over the drawer, keep Box Office open and close the shift on the Shifts "
                "screen (F6): count the cash and save the report. If you quit now the shift stays "
                "open and the next person at this desk carries on with it.")):
            event.ignore()
            return
        self.idle.detach()
        if self.sync_controller is not None:
            self.sync_controller.stop()
        self.desk.tasks.wait_idle(5000)
        super().closeEvent(event)
