"""The Vouchers tab: find and edit vouchers, generate batches of codes, export them as CSV."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.desk import Desk
from boxoffice.ui.screens.catalog_admin.fields import Checklist, FieldForm, OptionalDateTime, checklist_items
from boxoffice.ui.screens.catalog_admin.models import VOUCHER_TYPES, VouchersModel
from boxoffice.ui.screens.catalog_admin.tab import REFUSED, CatalogTab, make_table
from boxoffice.ui.widgets.inline_message import InlineMessage

SEARCH_DELAY_MS = 250


def parse_discount(text: str) -> Decimal:
    cleaned = text.strip().rstrip("%").strip().lstrip("$€£").replace(",", "")
    if not cleaned:
        raise ValueError("Enter the discount, such as 20 (percent) or 15.00 (amount).")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number. Enter a value such as 20 or 15.00.") from None
    if not value.is_finite():
        raise ValueError("Enter a real number, such as 20.")
    return value


def ask_csv_path(parent: QWidget, title: str, suggested: str) -> str:
    """The file to write, chosen by the operator ('' when they cancel)."""
    name, _ = QFileDialog.getSaveFileName(parent, title, suggested, "CSV files (*.csv)")
    if name and not name.lower().endswith(".csv"):
        name += ".csv"
    return name


class VoucherTerms(QWidget):
    """The fields a voucher and a generated batch share: type, discount, uses, validity, scope."""

    def __init__(self, desk: Desk, form: FieldForm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = QComboBox()
        for value, label in VOUCHER_TYPES:
            self.kind.addItem(label, value)
        self.discount = QLineEdit()
        self.discount.setPlaceholderText("e.g. 20 (percent) or 15.00 (amount)")
        self.max_uses = QSpinBox()
        self.max_uses.setRange(1, 1_000_000)
        tz = desk.display.zone
        self.valid_from = OptionalDateTime("From", tz)
        self.valid_until = OptionalDateTime("Until", tz, end_of_day=True)
        self.unlocks = QCheckBox("Unlocks hidden tickets (e.g. Student, Speaker)")
        self.tickets = Checklist()
        self.addons = Checklist()
        hint = QLabel("Nothing ticked = the voucher applies to every ticket (or every add-on).")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        form.add_row("&Type", self.kind, "voucher_type")
        form.add_row("&Discount", self.discount, "discount_value")
        form.add_row("&Max uses", self.max_uses, "max_uses")
        form.add_row("Valid", self.valid_from, "valid_from")
        form.add_row("", self.valid_until, "valid_until")
        form.add_row("", self.unlocks, "unlocks_hidden_tickets")
        form.add_row("For tickets", self.tickets, "ticket_type_ids")
        form.add_row("For add-ons", self.addons, "addon_ids")
        form.add_row("", hint)
        self.kind.currentIndexChanged.connect(lambda _i: self._on_kind_changed())
        self._on_kind_changed()

    def _on_kind_changed(self) -> None:
        comp = self.kind.currentData() == "comp"
        self.discount.setEnabled(not comp)
        if comp:
            self.discount.setText("0")

    def set_products(self, tickets: Any, addons: Any) -> None:
        self.tickets.set_items(checklist_items(tickets), self.tickets.checked_ids())
        self.addons.set_items(checklist_items(addons), self.addons.checked_ids())

    def fill(self, v: Any | None) -> None:
        self.kind.setCurrentIndex(max(self.kind.findData("percentage" if v is None else v.voucher_type), 0))
        self.discount.setText("" if v is None else f"{v.discount_value.normalize():f}")
        self.max_uses.setValue(1 if v is None else v.max_uses)
        self.valid_from.set_value(None if v is None else v.valid_from)
        self.valid_until.set_value(None if v is None else v.valid_until)
        self.unlocks.setChecked(False if v is None else v.unlocks_hidden_tickets)
        self.tickets.set_checked(() if v is None else v.ticket_type_ids)
        self.addons.set_checked(() if v is None else v.addon_ids)

    def values(self, form: FieldForm) -> dict[str, Any] | None:
        try:
            discount = parse_discount(self.discount.text())
        except ValueError as exc:
            form.field_error("discount_value", str(exc))
            return None
        return {"voucher_type": self.kind.currentData(), "discount_value": discount,
                "max_uses": self.max_uses.value(), "valid_from": self.valid_from.value(),
                "valid_until": self.valid_until.value(), "unlocks_hidden_tickets": self.unlocks.isChecked(),
                "ticket_type_ids": self.tickets.checked_ids(), "addon_ids": self.addons.checked_ids()}


class GenerateDialog(QDialog):
    """Generate N codes from one template, then export just that batch. Signals: ``generated(list)``."""

    generated = Signal(object)

    def __init__(self, desk: Desk, tickets: Any, addons: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.codes: list[str] = []
        self.setWindowTitle("Generate voucher codes")
        self.setMinimumWidth(560)
        self.form = FieldForm(desk.messages)
        self.count = QSpinBox()
        self.count.setRange(1, 10_000)
        self.count.setValue(50)
        self.prefix = QLineEdit()
        self.prefix.setPlaceholderText("optional, e.g. SPK-")
        self.prefix.setMaxLength(20)
        self.length = QSpinBox()
        self.length.setRange(4, 32)
        self.length.setValue(8)
        self.form.add_row("How &many codes", self.count, "count")
        self.form.add_row("&Prefix", self.prefix, "prefix")
        self.form.add_row("Random &characters", self.length, "length")
        self.terms = VoucherTerms(desk, self.form)
        self.terms.set_products(tickets, addons)
        self.terms.fill(None)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        self.close_button = QPushButton("Close")
        self.export_button = QPushButton("Export these codes…")
        self.export_button.setEnabled(False)
        self.generate_button = QPushButton("Generate")
        self.generate_button.setProperty("role", "primary")
        buttons = QHBoxLayout()
        buttons.addWidget(self.close_button)
        buttons.addStretch(1)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.generate_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(self.result_label)
        layout.addLayout(buttons)
        self.close_button.clicked.connect(self.accept)
        self.generate_button.clicked.connect(self.generate)
        self.export_button.clicked.connect(self.export)

    def generate(self) -> None:
        terms = self.terms.values(self.form)
        if terms is None:
            return
        admin, conference = self.desk.services.catalog_admin, self.desk.conference_id
        count, prefix, length = self.count.value(), self.prefix.text(), self.length.value()
        self.generate_button.setEnabled(False)
        self.form.clear_errors()
        self.desk.tasks.write(
            lambda: admin.generate_vouchers(conference, count, prefix=prefix, length=length, **terms),
            self._on_generated, self._on_failed, owner=self)

    def _on_generated(self, codes: list[str]) -> None:
        self.codes = list(codes)
        self.generate_button.setEnabled(True)
        sample = ", ".join(self.codes[:3]) + (" …" if len(self.codes) > 3 else "")
        self.form.notice(f"{len(self.codes)} codes generated ({sample}). Export them to hand them out.")
        self.export_button.setEnabled(True)
        self.export_button.setFocus()
        self.generated.emit(self.codes)

    def _on_failed(self, exc: BaseException) -> None:
        self.generate_button.setEnabled(True)
        self.form.show_error(exc)

    def export(self) -> None:
        if not self.codes:
            return
        path = ask_csv_path(self, "Export generated codes", f"vouchers-{len(self.codes)}.csv")
        if not path:
            return
        admin, conference, codes = self.desk.services.catalog_admin, self.desk.conference_id, list(self.codes)
        self.desk.tasks.read(lambda: admin.export_vouchers_csv(conference, path, codes=codes),
                             lambda n: self.form.notice(f"{n} codes written to {Path(path).name}."),
                             self.form.show_error, owner=self)


class VouchersTab(CatalogTab):
    """Vouchers of the conference with an editor; Generate codes… and Export CSV…."""

    kind = "voucher"
    edit_title = "Edit {kind} {label}"
    label_field = "code"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(desk, parent)
        self.generate_dialog: GenerateDialog | None = None
        self._tickets: Any = ()
        self._addons: Any = ()
        self.model = VouchersModel(desk.display, self)
        self.table, self.proxy = make_table(self.model, self, (150, 130, 80, 55, 75, 130, 130, 110))
        self.notice = InlineMessage()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find a code")
        self.search.setClearButtonEnabled(True)
        self.count_label = QLabel()
        self.count_label.setObjectName("muted")
        self.generate_button = QPushButton("Generate codes…")
        self.export_button = QPushButton("Export CSV…")
        top = QHBoxLayout()
        top.addWidget(QLabel("Find"))
        top.addWidget(self.search, 1)
        top.addWidget(self.count_label)
        top.addWidget(self.generate_button)
        top.addWidget(self.export_button)

        self._start_editor()
        self.code = QLineEdit()
        self.code.setPlaceholderText("e.g. SPEAKER2027")
        self.active = QCheckBox("Active (can be used)")
        self.editor.add_row("&Code", self.code, "code")
        self.terms = VoucherTerms(desk, self.editor)
        self.editor.add_row("", self.active, "is_active")
        self.usage = QLabel()
        self.usage.setObjectName("muted")
        self.usage.setWordWrap(True)
        self.editor.add_row("", self.usage)
        self._place(self._editor_buttons(), editor_width=460, sizes=[860, 500], top=top)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self._connect_editing()
        self.generate_button.clicked.connect(self.open_generate)
        self.export_button.clicked.connect(self.export)
        self.start_new()

    # ----------------------------------------------------------------- loading

    def refresh(self) -> None:
        admin, conference, text = self.admin, self.desk.conference_id, self.search.text()
        self.desk.tasks.read(
            lambda: (admin.list_vouchers(conference, text), admin.list_ticket_types(conference),
                     admin.list_addons(conference)),
            self._on_loaded, self._on_load_failed, key="catalog-vouchers", owner=self)

    def _show_loaded(self, loaded: Any) -> None:
        vouchers, self._tickets, self._addons = loaded
        self.terms.set_products(self._tickets, self._addons)
        self.model.set_rows(vouchers)
        filtered = " matching" if self.search.text().strip() else ""
        self.count_label.setText(f"{len(vouchers)}{filtered} voucher{'s' if len(vouchers) != 1 else ''}")

    def _on_load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, REFUSED):
            self.count_label.setText("")
        super()._on_load_failed(exc)

    def _usable_widgets(self) -> tuple[QWidget, ...]:
        return super()._usable_widgets() + (self.generate_button, self.export_button, self.search)

    # ----------------------------------------------------------------- editing

    def _clear_form(self) -> None:
        self.code.clear()
        self.terms.fill(None)
        self.active.setChecked(True)
        self.usage.setText("")

    def _fill_form(self, v: Any) -> None:
        self.code.setText(v.code)
        self.terms.fill(v)
        self.active.setChecked(v.is_active)
        self.usage.setText(f"Used {v.times_used} of {v.max_uses} times.")

    def values(self) -> dict[str, Any] | None:
        """What the form says, or None after showing why a typed value can't be read."""
        terms = self.terms.values(self.editor)
        if terms is None:
            return None
        return {"code": self.code.text(), "is_active": self.active.isChecked(), **terms}

    def _changes(self, current: Any, values: dict[str, Any]) -> dict[str, Any]:
        changes = super()._changes(current, values)
        if "code" in changes and changes["code"].strip().upper() == current.code:
            changes.pop("code")
        return changes

    def _create(self, values: dict[str, Any]) -> Any:
        return self.admin.create_voucher(self.desk.conference_id, **values)

    def _update(self, item_id: int, changes: dict[str, Any]) -> Any:
        return self.admin.update_voucher(item_id, **changes)

    # ----------------------------------------------------------------- batch and export

    def open_generate(self) -> None:
        dialog = GenerateDialog(self.desk, self._tickets, self._addons, self)
        dialog.generated.connect(lambda _codes: self.refresh())
        dialog.finished.connect(lambda _code: setattr(self, "generate_dialog", None))
        self.generate_dialog = dialog
        dialog.open()

    def export(self) -> None:
        """Export the vouchers listed (all of them, or those matching the search)."""
        filtered = bool(self.search.text().strip())
        codes = [v.code for v in self.rows()] if filtered else None
        path = ask_csv_path(self, "Export vouchers", "vouchers.csv")
        if not path:
            return
        admin, conference = self.admin, self.desk.conference_id
        self.desk.tasks.read(lambda: admin.export_vouchers_csv(conference, path, codes=codes),
                             lambda n: self.desk.messages.info(f"{n} vouchers written to {path}.",
                                                               near=self.notice),
                             lambda exc: self.desk.messages.show_error(exc, near=self.notice), owner=self)
