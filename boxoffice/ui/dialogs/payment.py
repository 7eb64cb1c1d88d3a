"""The payment dialog: cash, store credit, comp, manual/other, and card methods plugged in by others.

Card methods (Stripe Terminal, payment link) live outside this module. They register a
``PaymentMethodPlugin`` in ``PaymentDialog.extra_methods`` at start-up::

    PaymentDialog.extra_methods.append(PaymentMethodPlugin(
        key="terminal", label="Card (reader)", build=lambda host: TerminalPage(host)))

``build(host)`` returns a QWidget shown when the operator picks the method. ``host`` is the dialog
(``PaymentHost`` in ``payment_pages``): ``host.order`` is the current ``OrderSummary`` (its ``balance``
is what is still due), ``host.desk`` gives services, task runner and presenter, ``host.record(work)``
runs ``work()`` (which must return a ``PaymentResult``) on the writer thread and handles the result,
``host.record_cash(work)`` does the same for cash (when no cash shift is open it asks for one and
tries once more), and ``host.fail(text)`` shows an input problem. The page may define ``activate()`` (called when it
is shown) and ``submit()`` (called by the Take payment button and Enter); a page that finishes on
its own, e.g. when a reader reports a capture, calls ``host.accept_result(result)`` with the
``PaymentResult``. Signals: ``paid(PaymentResult)`` once the order is paid in full;
``left_pending(OrderSummary)`` when the dialog closes without full payment (or after Cancel sale).

When the dialog opens and no cash shift is open at the desk it asks for one first (the
open-shift dialog, ``shift_prompt``); the sale goes on whether or not the operator opens one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import NoOpenShift
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.payment_pages import CashPage, CompPage, CreditPage, ManualPage
from boxoffice.ui.dialogs.shift_open import ShiftOpenDialog, shift_notifier
from boxoffice.ui.widgets.inline_message import InlineMessage


@dataclass(frozen=True)
class PaymentMethodPlugin:
    key: str
    label: str
    build: Callable[[Any], QWidget]


class PaymentDialog(QDialog):
    """Take payment for one pending order (see the module docstring for plug-in card methods)."""

    paid = Signal(object)
    left_pending = Signal(object)
    extra_methods: ClassVar[list[PaymentMethodPlugin]] = []

    def __init__(self, desk: Desk, order: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.order = order
        self._busy = False
        self._done = False
        self.shift_prompt: ShiftOpenDialog | None = None
        self.setWindowTitle(f"Payment for {order.reference}")
        self.setModal(True)
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        self.header = QLabel()
        self.header.setObjectName("reference")
        self.due = QLabel()
        self.due.setObjectName("bigAmount")
        font = self.due.font()
        font.setPointSizeF(font.pointSizeF() * 2.2)
        self.due.setFont(font)
        layout.addWidget(self.header)
        layout.addWidget(self.due)

        methods = QHBoxLayout()
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self.pages = QStackedWidget()
        self.cash = CashPage(self)
        self.credit = CreditPage(self)
        self.comp = CompPage(self)
        self.manual = ManualPage(self)
        self.method_buttons: dict[str, QPushButton] = {}
        builtin: list[tuple[str, str, QWidget]] = [
            ("cash", "&Cash", self.cash), ("credit", "Store c&redit", self.credit),
            ("comp", "Co&mp", self.comp), ("manual", "&Other / manual", self.manual)]
        for key, label, page in builtin:
            self._add_method(methods, key, label, page)
        if self.extra_methods:
            separator = QFrame()
            separator.setFrameShape(QFrame.Shape.VLine)
            methods.addWidget(separator)
            for plugin in self.extra_methods:
                self._add_method(methods, plugin.key, plugin.label, plugin.build(self))
        layout.addLayout(methods)
        layout.addWidget(self.pages, 1)
        for page in (self.cash, self.comp, self.manual):
            page.submitted.connect(self.submit)

        self.message = InlineMessage()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        self.cancel_sale = QPushButton("Cancel sale")
        self.cancel_sale.setProperty("role", "danger")
        self.leave = QPushButton("Pay later (Esc)")
        self.take = QPushButton("Take payment (Enter)")
        self.take.setProperty("role", "primary")
        self.take.setMinimumHeight(52)
        buttons.addWidget(self.cancel_sale)
        buttons.addStretch(1)
        buttons.addWidget(self.leave)
        buttons.addWidget(self.take)
        layout.addLayout(buttons)
        self.take.clicked.connect(self.submit)
        self.leave.clicked.connect(self.reject)
        self.cancel_sale.clicked.connect(self._on_cancel_sale_clicked)
        self._group.idClicked.connect(self._on_method_clicked)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.submit)
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)   # Enter belongs to the page (tendered field, reason...)
        self._show_order()
        self.choose("comp" if order.balance <= 0 else "cash")
        self._check_shift()

    # ------------------------------------------------------------------ PaymentHost

    def record(self, work: Callable[[], Any], approval: str = "") -> None:
        if self._busy:
            return
        self._set_busy(True)
        self.message.clear_message()
        self.desk.tasks.write(work, self.accept_result, self._on_record_failed, approval=approval)

    def record_cash(self, work: Callable[[], Any]) -> None:
        """``record`` for cash: without an open shift, ask for one, then take the cash once more."""
        if self._busy:
            return
        self._set_busy(True)
        self.message.clear_message()

        def failed(exc: BaseException) -> None:
            if not isinstance(exc, NoOpenShift):
                self._on_record_failed(exc)
                return
            self._set_busy(False)
            self.prompt_open_shift(str(exc), then=lambda: self.record(work))

        self.desk.tasks.write(work, self.accept_result, failed)

    def prompt_open_shift(self, reason: str = "", *, then: Callable[[], None] | None = None) -> None:
        """Ask for the starting float and open the desk's shift; ``then()`` runs once it is open."""
        if self.shift_prompt is not None or self._done:
            return
        text = reason or (f"No cash shift is open at {self.desk.services.ctx.desk_name}. Count the starting "
                          "float into the drawer and open a shift to take cash; card, credit and comp "
                          "payments work without one.")
        dialog = ShiftOpenDialog(self.desk, self, reason=text)

        def opened(shift: Any) -> None:
            self.desk.messages.info(
                f"Shift #{shift.id} opened with a float of {self.desk.display.money(shift.opening_float)}. "
                "Carry on with the sale.", near=self.message)
            if then is not None:
                then()

        dialog.opened.connect(opened)
        dialog.finished.connect(lambda _code: setattr(self, "shift_prompt", None))
        self.shift_prompt = dialog
        dialog.open()

    def fail(self, text: str) -> None:
        self.desk.messages.error_text(text, near=self.message)

    def accept_result(self, result: Any) -> None:
        self._set_busy(False)
        if result.method == "cash":
            shift_notifier().cash_moved.emit()
        self.order = result.order
        self.last_result = result
        self._show_order()
        if result.paid_in_full:
            self._done = True
            self.paid.emit(result)
            self.accept()
            return
        self.desk.messages.info(
            f"{self.desk.display.money(result.applied)} taken. "
            f"{self.desk.display.money(self.order.balance)} still due: choose how to pay the rest.",
            near=self.message)
        self.choose("cash")

    # ------------------------------------------------------------------ actions

    def choose(self, key: str, *, prefer_credit_id: int | None = None) -> None:
        if prefer_credit_id is not None:
            self.credit.preferred_id = prefer_credit_id
        button = self.method_buttons[key]
        button.setChecked(True)
        page = self.pages.widget(self._group.id(button))
        if page is None:
            raise KeyError(key)
        self.pages.setCurrentWidget(page)
        activate = getattr(page, "activate", None)
        if activate is not None:
            activate()

    def current_method(self) -> str:
        for key, button in self.method_buttons.items():
            if button.isChecked():
                return key
        return ""

    def submit(self) -> None:
        if self._busy:
            return
        if self.order.balance <= 0:
            order_id, operator = self.order.id, self.desk.operator_id
            payments = self.desk.services.payments
            self.record(lambda: payments.complete_free_order(order_id, operator_id=operator))
            return
        submit = getattr(self.pages.currentWidget(), "submit", None)
        if submit is not None:
            submit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter takes the payment wherever the focus is (a method or quick-amount button too); a
        # line edit has already handled its own Enter (returnPressed) before passing it up.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers() \
                and not isinstance(self.focusWidget(), QLineEdit):
            self.submit()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        if not self._done:
            self._done = True
            self.left_pending.emit(self.order)
        super().reject()

    def _check_shift(self) -> None:
        shifts = self.desk.services.shifts
        self.desk.tasks.read(shifts.current, self._on_shift_checked, lambda _exc: None, owner=self)

    def _on_shift_checked(self, shift: Any) -> None:
        if shift is None and not self._done and self.order.balance > 0:
            self.prompt_open_shift()

    def _on_cancel_sale_clicked(self) -> None:
        order_id, operator = self.order.id, self.desk.operator_id
        orders = self.desk.services.orders
        self._set_busy(True)

        def cancelled(summary: Any) -> None:
            self._set_busy(False)
            self.order = summary
            self.reject()

        self.desk.tasks.write(lambda: orders.cancel(order_id, operator_id=operator), cancelled,
                              self._on_record_failed,
                              approval=f"Cancel order {self.order.reference} ({self.desk.display.money(self.order.total)})")

    def _on_record_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.desk.messages.show_error(exc, near=self.message)

    def _on_method_clicked(self, index: int) -> None:
        for key, button in self.method_buttons.items():
            if self._group.id(button) == index:
                self.choose(key)

    # ------------------------------------------------------------------ helpers

    def _add_method(self, row: QHBoxLayout, key: str, label: str, page: QWidget) -> None:
        button = QPushButton(label)
        button.setCheckable(True)
        button.setProperty("role", "nav")
        index = self.pages.addWidget(page)
        self._group.addButton(button, index)
        self.method_buttons[key] = button
        row.addWidget(button)

    def _show_order(self) -> None:
        money = self.desk.display.money
        order = self.order
        name = order.billing_name or order.billing_email or "Walk-up"
        self.header.setText(f"Order {order.reference}  ·  {name}  ·  total {money(order.total)}")
        self.due.setText(f"Due {money(order.balance)}")
        self.cash.update_change()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.take.setEnabled(not busy)
        self.cancel_sale.setEnabled(not busy)
        self.setCursor(Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor)
