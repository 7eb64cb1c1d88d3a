"""The cart: attendee, lines with quantity steppers and per-line discount, totals and the Pay button."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.formatting import Display
from boxoffice.ui.widgets.inline_message import InlineMessage

WALKUP_OFF = "&Walk-up, no details"
WALKUP_ON = "✓ &Walk-up: selling without details"


class AttendeeBox(QFrame):
    """Name, email, company with lookup, or an explicit walk-up without details.

    Signals: ``lookup_requested(text)`` as the operator types; ``customer_picked(view)``.
    """

    lookup_requested = Signal(str)
    customer_picked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Attendee")
        title.setObjectName("sectionTitle")
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("Full name")
        self.email = QLineEdit()
        self.email.setPlaceholderText("name@example.org")
        self.company = QLineEdit()
        self.company.setPlaceholderText("Optional")
        form.addRow("&Name", self.name)
        form.addRow("E&mail", self.email)
        form.addRow("Compan&y", self.company)
        self.matches = QListWidget()
        self.matches.setMaximumHeight(110)
        self.matches.hide()
        self.walkup = QPushButton(WALKUP_OFF)
        self.walkup.setObjectName("walkup")
        self.walkup.setCheckable(True)
        self.walkup.setToolTip("Sell without a name or email (Alt+W); press again to enter details")
        self.message = InlineMessage()
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(self.matches)
        layout.addWidget(self.walkup)
        layout.addWidget(self.message)
        self.picked_customer: Any = None
        self.walkup.toggled.connect(self._on_walkup_toggled)
        for field in (self.name, self.email):
            field.textEdited.connect(self._on_text_edited)
        self.company.textEdited.connect(self._forget_pick)
        self.matches.itemActivated.connect(self._on_match_chosen)
        self.matches.itemClicked.connect(self._on_match_chosen)

    def has_details(self) -> bool:
        return bool(self.name.text().strip() or self.email.text().strip())

    def details(self) -> tuple[str, str, str]:
        return self.name.text().strip(), self.email.text().strip(), self.company.text().strip()

    def show_matches(self, customers: list[Any]) -> None:
        if not self.has_details() or self.walkup.isChecked():
            customers = []   # a late answer for the previous customer: the fields were cleared since
        self.matches.clear()
        for customer in customers:
            label = customer.label or customer.name or customer.email
            item = QListWidgetItem(f"{label}  <{customer.email}>" if customer.email else label)
            item.setData(Qt.ItemDataRole.UserRole, customer)
            self.matches.addItem(item)
        self.matches.setVisible(bool(customers))

    def reset(self) -> None:
        for field in (self.name, self.email, self.company):
            field.clear()
        self.walkup.setChecked(False)
        self.picked_customer = None
        self.matches.clear()
        self.matches.hide()
        self.message.clear_message()

    def _on_walkup_toggled(self, checked: bool) -> None:
        self.walkup.setText(WALKUP_ON if checked else WALKUP_OFF)   # the state reads on the button too
        for field in (self.name, self.email, self.company):
            field.setEnabled(not checked)
        if checked:
            self.matches.hide()
            self.message.clear_message()

    def _forget_pick(self) -> None:
        self.picked_customer = None

    def _on_text_edited(self, text: str) -> None:
        self.picked_customer = None
        self.message.clear_message()
        if len(text.strip()) >= 2:
            self.lookup_requested.emit(text.strip())
        else:
            self.show_matches([])

    def _on_match_chosen(self, item: QListWidgetItem) -> None:
        customer = item.data(Qt.ItemDataRole.UserRole)
        self.name.setText(customer.name or "")
        self.email.setText(customer.email or "")
        self.company.setText(customer.company or "")
        self.picked_customer = customer
        self.matches.hide()
        self.customer_picked.emit(customer)


class HoldersBox(QFrame):
    """Names each ticket's holder when the cart has several tickets; empty fields keep the defaults
    (the buyer for the first ticket, "Guest N of <buyer>" for the others)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Ticket holders")
        title.setObjectName("sectionTitle")
        hint = QLabel("Who uses each ticket (for the badge and the door). Leave empty for the default.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self._grid = QGridLayout()
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(self._grid)
        self.names: list[QLineEdit] = []
        self.emails: list[QLineEdit] = []
        self.hide()

    def set_units(self, units: int, buyer: str) -> None:
        """Show one row per ticket unit (two or more), keeping what was typed."""
        count = units if units >= 2 else 0
        while len(self.names) > count:
            for field in (self.names.pop(), self.emails.pop()):
                self._grid.removeWidget(field)
                field.deleteLater()
        while len(self.names) < count:
            number = len(self.names) + 1
            name, email = QLineEdit(), QLineEdit()
            name.setAccessibleName(f"Holder of ticket {number}")
            email.setAccessibleName(f"Email of the holder of ticket {number}")
            email.setPlaceholderText("email (optional)")
            self._grid.addWidget(name, number - 1, 0)
            self._grid.addWidget(email, number - 1, 1)
            self.names.append(name)
            self.emails.append(email)
        who = buyer or "the buyer"
        for number, field in enumerate(self.names, start=1):
            field.setPlaceholderText(f"1: {who}" if number == 1 else f"{number}: Guest {number - 1} of {who}")
        self.setVisible(count > 0)

    def holders(self) -> list[tuple[str, str, str]] | None:
        """(name, email, company) per unit in order; None when no holder was named."""
        rows = [(n.text().strip(), e.text().strip(), "") for n, e in zip(self.names, self.emails)]
        return rows if any(any(row) for row in rows) else None

    def reset(self) -> None:
        for field in (*self.names, *self.emails):
            field.clear()


class CartLineRow(QWidget):
    """One cart line. Signals: ``quantity_changed(item_id, qty)``, ``remove_requested(item_id)``."""

    quantity_changed = Signal(int, int)
    remove_requested = Signal(int)

    def __init__(self, line: Any, display: Display, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = line
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 2)
        self.name = QLabel(line.name)
        self.name.setWordWrap(True)
        self.quantity = QSpinBox()
        self.quantity.setRange(1, 999)
        self.quantity.setValue(line.quantity)
        self.quantity.setKeyboardTracking(False)
        self.quantity.setAccessibleName(f"Quantity of {line.name}")
        self.quantity.setMinimumWidth(84)
        amounts = display.money(line.line_total)
        if line.discount:
            amounts = f"{display.money(line.line_subtotal)}\n−{display.money(line.discount)}\n{amounts}"
        self.amount = QLabel(amounts)
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.amount.setMinimumWidth(90)
        self.remove = QPushButton("Remove")
        self.remove.setProperty("role", "danger")
        self.remove.setAccessibleName(f"Remove {line.name}")
        layout.addWidget(self.name, 1)
        layout.addWidget(self.quantity)
        layout.addWidget(self.amount)
        layout.addWidget(self.remove)
        self.message = InlineMessage()
        self.quantity.valueChanged.connect(lambda value: self.quantity_changed.emit(line.item_id, value))
        self.remove.clicked.connect(lambda: self.remove_requested.emit(line.item_id))


class CartPanel(QFrame):
    """Shows a ``CartView``. Signals: ``pay_requested``, plus the line signals re-emitted."""

    pay_requested = Signal()
    quantity_changed = Signal(int, int)
    remove_requested = Signal(int)

    def __init__(self, display: Display, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panel")
        self._display = display
        self.rows: list[CartLineRow] = []
        layout = QVBoxLayout(self)
        self.attendee = AttendeeBox()
        layout.addWidget(self.attendee)
        cart_title = QLabel("Cart")
        cart_title.setObjectName("sectionTitle")
        layout.addWidget(cart_title)
        self.empty_label = QLabel("Empty. Click a ticket on the left to add it.")
        self.empty_label.setObjectName("muted")
        layout.addWidget(self.empty_label)
        # The lines scroll once there are more than fit: the totals and Pay stay in view on a low screen.
        lines_box = QWidget()
        lines_box.setObjectName("cartLines")
        self._lines = QVBoxLayout(lines_box)
        self._lines.setContentsMargins(0, 0, 0, 0)
        self._lines.addStretch(1)
        self.lines_area = QScrollArea()
        self.lines_area.setWidgetResizable(True)
        self.lines_area.setFrameShape(QFrame.Shape.NoFrame)
        self.lines_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.lines_area.setWidget(lines_box)
        self.lines_area.setStyleSheet("QScrollArea, QWidget#cartLines { background: transparent; }")
        layout.addWidget(self.lines_area, 1)
        self.holders = HoldersBox()
        layout.addWidget(self.holders)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        totals = QGridLayout()
        self.subtotal = QLabel()
        self.discount = QLabel()
        self.total = QLabel()
        self.total.setObjectName("bigAmount")
        font = self.total.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        self.total.setFont(font)
        for row, (label, value) in enumerate(
                (("Subtotal", self.subtotal), ("Discount", self.discount), ("Total", self.total))):
            totals.addWidget(QLabel(label), row, 0)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            totals.addWidget(value, row, 1)
        layout.addLayout(totals)
        self.pay_button = QPushButton("Pay  (Ctrl+Enter)")
        self.pay_button.setProperty("role", "primary")
        self.pay_button.setMinimumHeight(56)
        self.pay_button.clicked.connect(self.pay_requested)
        layout.addWidget(self.pay_button)
        self.set_cart(None)

    def set_cart(self, cart: Any) -> None:
        for row in self.rows:
            row.deleteLater()
        self.rows = []
        lines = cart.lines if cart is not None else ()
        for line in lines:
            row = CartLineRow(line, self._display)
            row.quantity_changed.connect(self.quantity_changed)
            row.remove_requested.connect(self.remove_requested)
            self._lines.insertWidget(self._lines.count() - 1, row)   # above the closing stretch
            self.rows.append(row)
        self.empty_label.setVisible(not lines)
        units = sum(line.quantity for line in lines if line.kind == "ticket")
        self.holders.set_units(units, self.attendee.name.text().strip() or (
            cart.customer_label if cart is not None and not self.attendee.walkup.isChecked() else ""))
        zero = Decimal("0.00")
        self.subtotal.setText(self._display.money(cart.subtotal if cart else zero))
        discount = cart.discount if cart else zero
        self.discount.setText(f"−{self._display.money(discount)}" if discount else self._display.money(zero))
        self.total.setText(self._display.money(cart.total if cart else zero))
        self.pay_button.setEnabled(bool(lines))

    def row(self, name: str) -> CartLineRow:
        for row in self.rows:
            if row.line.name == name:
                return row
        raise KeyError(name)
