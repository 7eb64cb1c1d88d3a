"""Table models of the Catalog screen: ticket types, add-ons and vouchers (tuples of admin DTOs)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject

from boxoffice.ui.formatting import Display
from boxoffice.ui.models.rows_model import RowsTableModel

VOUCHER_TYPES = (("percentage", "Percentage off"), ("fixed_amount", "Fixed amount off"),
                 ("comp", "Free (comp)"))
VOUCHER_TYPE_LABELS = dict(VOUCHER_TYPES)


def _stock(total: int) -> str:
    return "Unlimited" if total == 0 else str(total)


def _window(display: Display, opens: Any, closes: Any) -> str:
    """Dates only in the table (the editor shows the times)."""
    if opens is None and closes is None:
        return "Always"
    return f"{display.when(opens)[:10] or '…'} – {display.when(closes)[:10] or '…'}"


class TicketTypesModel(RowsTableModel):
    HEADERS = ("Name", "Price", "Stock", "Sold", "Held", "Per customer", "On sale", "Voucher", "Active")
    RIGHT_ALIGNED = frozenset({1, 2, 3, 4, 5})

    def __init__(self, display: Display, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display = display

    def display(self, t: Any, column: int) -> Any:
        return (t.name, self._display.money(t.price), _stock(t.total_quantity), t.sold_quantity, t.held_quantity,
                t.limit_per_user, _window(self._display, t.available_from, t.available_until),
                "Needed" if t.requires_voucher else "", "Yes" if t.is_active else "No")[column]

    def tooltip(self, t: Any, column: int) -> Any:
        if column == 6:
            return f"{self._display.when(t.available_from) or 'any time'} to " \
                   f"{self._display.when(t.available_until) or 'any time'}"
        return None

    def sort_key(self, t: Any, column: int) -> Any:
        return (t.name.lower(), t.price, t.total_quantity, t.sold_quantity, t.held_quantity, t.limit_per_user,
                str(t.available_from), t.requires_voucher, t.is_active)[column]


class AddOnsModel(RowsTableModel):
    HEADERS = ("Name", "Price", "Stock", "Sold", "Held", "Needs ticket", "On sale", "Active")
    RIGHT_ALIGNED = frozenset({1, 2, 3, 4})

    def __init__(self, display: Display, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display = display

    def display(self, a: Any, column: int) -> Any:
        needs = ", ".join(a.requires_ticket_names) or "Any or none"
        return (a.name, self._display.money(a.price), _stock(a.total_quantity), a.sold_quantity, a.held_quantity,
                needs, _window(self._display, a.available_from, a.available_until),
                "Yes" if a.is_active else "No")[column]

    def tooltip(self, a: Any, column: int) -> Any:
        if column == 6:
            return f"{self._display.when(a.available_from) or 'any time'} to " \
                   f"{self._display.when(a.available_until) or 'any time'}"
        return None

    def sort_key(self, a: Any, column: int) -> Any:
        return (a.name.lower(), a.price, a.total_quantity, a.sold_quantity, a.held_quantity,
                ", ".join(a.requires_ticket_names), str(a.available_from), a.is_active)[column]


class VouchersModel(RowsTableModel):
    HEADERS = ("Code", "Type", "Value", "Used", "Max uses", "Valid from", "Valid until", "Unlocks", "Active")
    RIGHT_ALIGNED = frozenset({2, 3, 4})

    def __init__(self, display: Display, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._display = display

    def value_text(self, v: Any) -> str:
        if v.voucher_type == "percentage":
            return f"{v.discount_value.normalize():f} %"
        if v.voucher_type == "fixed_amount":
            return self._display.money(v.discount_value)
        return "100 %"

    def display(self, v: Any, column: int) -> Any:
        when = self._display.when
        return (v.code, VOUCHER_TYPE_LABELS.get(v.voucher_type, v.voucher_type), self.value_text(v), v.times_used,
                v.max_uses, when(v.valid_from) or "—", when(v.valid_until) or "—",
                "Hidden tickets" if v.unlocks_hidden_tickets else "", "Yes" if v.is_active else "No")[column]

    def sort_key(self, v: Any, column: int) -> Any:
        return (v.code, v.voucher_type, v.discount_value, v.times_used, v.max_uses, str(v.valid_from),
                str(v.valid_until), v.unlocks_hidden_tickets, v.is_active)[column]
