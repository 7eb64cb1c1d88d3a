"""The Ticket types and Add-ons tabs: a table of the conference's products and an editor beside it.

Signals: ``changed()`` after a save (the vouchers tab re-reads its ticket and add-on choices).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPlainTextEdit, QPushButton,
    QScrollArea, QSpinBox, QSplitter, QTableView, QVBoxLayout, QWidget,
)

from boxoffice.errors import NotSignedIn, PermissionDenied
from boxoffice.money import parse_amount
from boxoffice.ui.desk import Desk
from boxoffice.ui.models.rows_model import ROW_ROLE, SORT_ROLE, RowsTableModel
from boxoffice.ui.screens.catalog_admin.fields import Checklist, FieldForm, OptionalDateTime, checklist_items
from boxoffice.ui.screens.catalog_admin.models import AddOnsModel, TicketTypesModel
from boxoffice.ui.widgets.inline_message import InlineMessage

REFUSED = (PermissionDenied, NotSignedIn)


def make_table(model: RowsTableModel, parent: QWidget, widths: tuple[int, ...]) -> tuple[QTableView, Any]:
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    table = QTableView()
    table.setModel(proxy)
    table.setSortingEnabled(True)
    table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)   # keep the service's display order
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    return table, proxy


class ProductTab(QWidget):
    """Shared by ticket types and add-ons: list, select to edit, New, Save, Deactivate."""

    changed = Signal()
    kind = "product"
    widths: tuple[int, ...] = ()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.admin = desk.services.catalog_admin
        self.current: Any = None
        self.model = self._make_model()
        self.table, self.proxy = make_table(self.model, self, self.widths)
        self.notice = InlineMessage()

        self.editor = FieldForm(desk.messages)
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
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

        self.new_button = QPushButton(f"New {self.kind}")
        self.save_button = QPushButton("Save")
        self.save_button.setProperty("role", "primary")
        self.deactivate_button = QPushButton("Deactivate")
        self.deactivate_button.setProperty("role", "danger")
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.deactivate_button)
        buttons.addWidget(self.save_button)

        editor_box = QWidget()
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.addWidget(self.title)
        editor_layout.addWidget(self.editor)
        editor_layout.addStretch(1)
        editor_layout.addLayout(buttons)
        scroll = QScrollArea()
        self.editor_panel = scroll    # hidden while the operator may not change the catalog
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(editor_box)
        scroll.setMinimumWidth(420)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([880, 480])
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(splitter, 1)

        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self.save)
        self.deactivate_button.clicked.connect(self.toggle_active)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection_changed())
        self.start_new()

    # ----------------------------------------------------------------- subclass hooks

    def _make_model(self) -> RowsTableModel:
        raise NotImplementedError

    def _add_specific_fields(self, form: FieldForm) -> None:
        pass

    def _load(self) -> Any:
        raise NotImplementedError

    def _show_loaded(self, loaded: Any) -> None:
        self.model.set_rows(loaded)

    def _fill_specific(self, row: Any) -> None:
        pass

    def _specific_values(self) -> dict[str, Any]:
        return {}

    def _create(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _update(self, item_id: int, changes: dict[str, Any]) -> Any:
        raise NotImplementedError

    # ----------------------------------------------------------------- loading

    def refresh(self) -> None:
        self.desk.tasks.read(self._load, self._on_loaded, self._on_load_failed, key=f"catalog-{self.kind}",
                             owner=self)

    def _on_loaded(self, loaded: Any) -> None:
        self.notice.clear_message()
        self._set_usable(True)
        keep = self.current.id if self.current is not None else None
        self._show_loaded(loaded)
        if keep is not None:
            self.select_id(keep)

    def _on_load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, REFUSED):
            self.model.set_rows(())
            self.start_new()
            self.title.setText("")
            self._set_usable(False)
        self.desk.messages.show_error(exc, near=self.notice)

    def _set_usable(self, usable: bool) -> None:
        for widget in (self.editor, self.new_button, self.save_button, self.deactivate_button):
            widget.setEnabled(usable)
        self.editor_panel.setVisible(usable)
        if usable:
            self.deactivate_button.setEnabled(self.current is not None)

    def rows(self) -> list[Any]:
        return [self.proxy.data(self.proxy.index(r, 0), ROW_ROLE) for r in range(self.proxy.rowCount())]

    def select_id(self, item_id: int) -> bool:
        for row in range(self.proxy.rowCount()):
            if self.proxy.data(self.proxy.index(row, 0), ROW_ROLE).id == item_id:
                self.table.selectRow(row)
                return True
        return False

    def _on_selection_changed(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        if selected:
            self.edit(self.proxy.data(selected[0], ROW_ROLE))

    # ----------------------------------------------------------------- editing

    def start_new(self) -> None:
        self.current = None
        self.table.clearSelection()
        self.title.setText(f"New {self.kind}")
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
        self.editor.clear_errors()
        self.deactivate_button.setEnabled(False)
        self.deactivate_button.setText("Deactivate")
        self.name.setFocus()

    def edit(self, row: Any) -> None:
        if self.current is None or self.current.id != row.id:
            self.editor.clear_errors()     # a notice about the same item (Saved …) stays
        self.current = row
        self.title.setText(f"Edit {self.kind}: {row.name}")
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
        self.deactivate_button.setEnabled(True)
        self.deactivate_button.setText("Deactivate" if row.is_active else "Reactivate")

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

    def save(self) -> None:
        values = self.values()
        if values is None:
            return
        current = self.current
        if current is None:
            if not values["slug"]:
                values.pop("slug")
            work = lambda: self._create(values)  # noqa: E731
        else:
            changes = {k: v for k, v in values.items() if getattr(current, k) != v}
            if not changes:
                self.editor.notice("Nothing to save: no field was changed.")
                return
            work = lambda: self._update(current.id, changes)  # noqa: E731
        self.save_button.setEnabled(False)
        self.desk.tasks.write(work, self._on_saved, self._on_save_failed, owner=self)

    def toggle_active(self) -> None:
        current = self.current
        if current is None:
            return
        wanted = not current.is_active
        self.desk.tasks.write(lambda: self._update(current.id, {"is_active": wanted}), self._on_saved,
                              self._on_save_failed, owner=self)

    def _on_saved(self, view: Any) -> None:
        self.save_button.setEnabled(True)
        self.current = view
        self.edit(view)
        self.editor.notice(f"Saved {self.kind} {view.name}.")
        self.changed.emit()
        self.refresh()

    def _on_save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.editor.show_error(exc)


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
        return self.admin.create_addon(self.desk.conference_id, **values)

    def _update(self, item_id: int, changes: dict[str, Any]) -> Any:
        return self.admin.update_addon(item_id, **changes)
