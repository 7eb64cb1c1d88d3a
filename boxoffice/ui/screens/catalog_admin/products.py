"""The Ticket types and Add-ons tabs: a table of the conference's products and an editor beside it.

Signals: ``changed()`` after a save (the vouchers tab re-reads its ticket and add-on choices).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPlainTextEdit, QSpinBox, QWidget

from boxoffice.money import parse_amount
from boxoffice.ui.desk import Desk
from boxoffice.ui.models.rows_model import RowsTableModel
from boxoffice.ui.screens.catalog_admin.fields import Checklist, FieldForm, OptionalDateTime, checklist_items
from boxoffice.ui.screens.catalog_admin.models import AddOnsModel, TicketTypesModel
from boxoffice.ui.screens.catalog_admin.tab import REFUSED, CatalogTab, make_table
from boxoffice.ui.widgets.inline_message import InlineMessage

__all__ = ["REFUSED", "AddOnsTab", "ProductTab", "TicketTypesTab", "make_table"]


class ProductTab(CatalogTab):
    """Shared by ticket types and add-ons: list, select to edit, New, Save, Deactivate."""

    changed = Signal()
    kind = "product"
    widths: tuple[int, ...] = ()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(desk, parent)
        self.model = self._make_model()
        self.table, self.proxy = make_table(self.model, self, self.widths)
        self.notice = InlineMessage()

        self._start_editor()
        self.name = QLineEdit()
        self.slug = QLineEdit()
        self.slug.setPlaceholderText("made from the name")
        self.description = QPlainTextEdit()
        self.description.setFixedHeight(64)
        self.price = QLineEdit()
        self.price.setPlaceholderText("e.g. 100.00")
        self.stock = QSpinBox()
        self.stock.setRange(0, 10_000_000)
        self.stock.setSpecialValueText("Unlimited")
        self.stock.setGroupSeparatorShown(True)
        self.counters = QLabel()
        self.counters.setObjectName("muted")
        self.counters.setWordWrap(True)
        tz = desk.display.zone
        self.opens = OptionalDateTime("From", tz)
        self.closes = OptionalDateTime("Until", tz, end_of_day=True)
        self.active = QCheckBox("On sale (active)")
        self.order = QSpinBox()
        self.order.setRange(0, 1_000_000)
        e = self.editor
        e.add_row("&Name", self.name, "name")
        e.add_row("S&lug", self.slug, "slug")
        e.add_row("&Price", self.price, "price")
        e.add_row("&Stock", self.stock, "total_quantity")
        e.add_row("", self.counters)
        self._add_specific_fields(e)
        e.add_row("Sale opens", self.opens, "available_from")
        e.add_row("Sale closes", self.closes, "available_until")
        e.add_row("", self.active, "is_active")
        e.add_row("Display &order", self.order, "order")
        e.add_row("&Description", self.description, "description")

        self._place(self._editor_buttons(), editor_width=420, sizes=[880, 480])
        self._connect_editing()
        self.start_new()

    # ----------------------------------------------------------------- subclass hooks

    def _make_model(self) -> RowsTableModel:
        raise NotImplementedError

    def _add_specific_fields(self, form: FieldForm) -> None:
        pass

    def _load(self) -> Any:
        raise NotImplementedError

    def _fill_specific(self, row: Any) -> None:
        pass

    def _specific_values(self) -> dict[str, Any]:
        return {}

    # ----------------------------------------------------------------- loading

    def refresh(self) -> None:
        self.desk.tasks.read(self._load, self._on_loaded, self._on_load_failed, key=f"catalog-{self.kind}",
                             owner=self)

    # ----------------------------------------------------------------- editing

    def start_new(self) -> None:
        super().start_new()
        self.name.setFocus()

    def _clear_form(self) -> None:
        for edit in (self.name, self.slug, self.price):
            edit.clear()
        self.description.clear()
        self.stock.setValue(0)
        self.opens.set_value(None)
        self.closes.set_value(None)
        self.active.setChecked(True)
        self.order.setValue(max((r.order for r in self.model._rows), default=-1) + 1)
        self.counters.setText("Stock 0 = unlimited.")
        self._fill_specific(None)

    def _fill_form(self, row: Any) -> None:
        self.name.setText(row.name)
        self.slug.setText(row.slug)
        self.description.setPlainText(row.description)
        self.price.setText(f"{row.price:.2f}")
        self.stock.setValue(row.total_quantity)
        floor = row.sold_quantity + row.held_quantity
        self.counters.setText(
            f"{row.sold_quantity} sold, {row.held_quantity} held: the stock can't be lower than {floor}. "
            "Stock 0 = unlimited." if floor else "Nothing sold or held yet. Stock 0 = unlimited.")
        self.opens.set_value(row.available_from)
        self.closes.set_value(row.available_until)
        self.active.setChecked(row.is_active)
        self.order.setValue(row.order)
        self._fill_specific(row)

    def values(self) -> dict[str, Any] | None:
        """What the form says, or None after showing why a typed value can't be read."""
        try:
            price = parse_amount(self.price.text())
        except ValueError as exc:
            self.editor.field_error("price", str(exc))
            self.price.setFocus()
            return None
        values: dict[str, Any] = {
            "name": self.name.text(), "slug": self.slug.text().strip(), "description": self.description.toPlainText(),
            "price": price, "total_quantity": self.stock.value(), "available_from": self.opens.value(),
            "available_until": self.closes.value(), "is_active": self.active.isChecked(),
            "order": self.order.value(),
        }
        values.update(self._specific_values())
        return values

    def _on_saved(self, view: Any) -> None:
        self._show_saved(view)
        self.changed.emit()
        self.refresh()


class TicketTypesTab(ProductTab):
    kind = "ticket type"
    widths = (150, 80, 75, 50, 50, 105, 180, 70)

    def _make_model(self) -> RowsTableModel:
        return TicketTypesModel(self.desk.display, self)

    def _add_specific_fields(self, form: FieldForm) -> None:
        self.limit = QSpinBox()
        self.limit.setRange(1, 10_000)
        self.requires_voucher = QCheckBox("Hidden: sold only with a voucher that unlocks it")
        form.add_row("Per-customer &limit", self.limit, "limit_per_user")
        form.add_row("", self.requires_voucher, "requires_voucher")

    def _fill_specific(self, row: Any) -> None:
        self.limit.setValue(10 if row is None else max(row.limit_per_user, 1))
        self.requires_voucher.setChecked(False if row is None else row.requires_voucher)

    def _specific_values(self) -> dict[str, Any]:
        values: dict[str, Any] = {"requires_voucher": self.requires_voucher.isChecked()}
        # An imported limit of 0 shows as 1; it only changes when someone edits it.
        if self.current is None or self.limit.value() != max(self.current.limit_per_user, 1):
            values["limit_per_user"] = self.limit.value()
        return values

    def _load(self) -> Any:
        admin, conference = self.admin, self.desk.conference_id
        return admin.list_ticket_types(conference)

    def _create(self, values: dict[str, Any]) -> Any:
        _drop_empty_slug(values)
        return self.admin.create_ticket_type(self.desk.conference_id, **values)

    def _update(self, item_id: int, changes: dict[str, Any]) -> Any:
        return self.admin.update_ticket_type(item_id, **changes)


class AddOnsTab(ProductTab):
    kind = "add-on"
    widths = (190, 80, 75, 50, 50, 200, 180)

    def _make_model(self) -> RowsTableModel:
        return AddOnsModel(self.desk.display, self)

    def _add_specific_fields(self, form: FieldForm) -> None:
        self.requires = Checklist()
        hint = QLabel("Tick the tickets a buyer must have; none ticked = anyone may buy it.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        form.add_row("Needs a ticket", self.requires, "requires_ticket_type_ids")
        form.add_row("", hint)

    def _load(self) -> Any:
        admin, conference = self.admin, self.desk.conference_id
        return admin.list_addons(conference), admin.list_ticket_types(conference)

    def _show_loaded(self, loaded: Any) -> None:
        addons, tickets = loaded
        checked = self.requires.checked_ids()
        self.requires.set_items(checklist_items(tickets), checked)
        self.model.set_rows(addons)

    def _fill_specific(self, row: Any) -> None:
        self.requires.set_checked(() if row is None else row.requires_ticket_type_ids)

    def _specific_values(self) -> dict[str, Any]:
        return {"requires_ticket_type_ids": self.requires.checked_ids()}

    def _create(self, values: dict[str, Any]) -> Any:
        _drop_empty_slug(values)
        return self.admin.create_addon(self.desk.conference_id, **values)

    def _update(self, item_id: int, changes: dict[str, Any]) -> Any:
        return self.admin.update_addon(item_id, **changes)


def _drop_empty_slug(values: dict[str, Any]) -> None:
    """A new product with no slug typed gets one made from its name."""
    if not values["slug"]:
        values.pop("slug")
