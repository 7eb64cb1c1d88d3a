"""Card readers screen (admins): the Stripe Terminal readers, this desk's reader, registering a new one.

Signals: ``refreshed()`` after the list was reloaded; ``reader_chosen(str)`` after this desk's reader
was saved (the payment dialog then offers it first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from boxoffice.services.money.card_readers import choose_desk_reader, new_registration_key, register_reader
from boxoffice.ui.models.rows_model import RowsTableModel
from boxoffice.ui.widgets.inline_message import InlineMessage

STATUS = {"online": "Online", "offline": "Offline"}


class ReadersModel(RowsTableModel):
    """``GatewayReader`` rows; the desk's own reader is marked."""

    HEADERS: ClassVar[tuple[str, ...]] = ("Name", "Status", "This desk", "Device", "Reader id", "Location",
                                          "Serial number")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.desk_reader = ""

    def set_desk_reader(self, reader_id: str) -> None:
        self.desk_reader = reader_id
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 2), self.index(self.rowCount() - 1, 2))

    def display(self, row: Any, column: int) -> str:
        values = (row.label or "(no name)", STATUS.get(row.status, row.status or "Unknown"),
                  "✔ This desk" if row.id == self.desk_reader else "", row.device_type.replace("_", " "),
                  row.id, row.location, row.serial_number)
        return values[column]

    def sort_key(self, row: Any, column: int) -> Any:
        return self.display(row, column).lower()

    def find(self, reader_id: str) -> int:
        for index, row in enumerate(self._rows):
            if row.id == reader_id:
                return index
        return -1


class ReadersScreen(QWidget):
    """List readers (any operator); choose this desk's reader and register readers (admins)."""

    refreshed = Signal()
    reader_chosen = Signal(str)

    def __init__(self, desk: Any, cards: Any, gateway: Any, *, reader_id: str,
                 save_reader: Callable[[str], Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self._cards, self._gateway, self._save = desk, cards, gateway, save_reader
        self._registration_key = new_registration_key()

        title = QLabel("Card readers")
        title.setObjectName("sectionTitle")
        hint = QLabel("The Stripe Terminal readers of this account. Choose the one on this desk: card "
                      "payments go to it first. A new reader shows a registration code on its screen.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        self.current = QLabel()
        self.current.setObjectName("bigAmount")
        self.model = ReadersModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate((200, 90, 110, 150, 190, 170)):
            self.table.setColumnWidth(column, width)
        self.reload_button = QPushButton("&Reload")
        self.use_button = QPushButton("&Use for this desk")
        self.use_button.setProperty("role", "primary")
        self.clear_button = QPushButton("No reader on this desk")
        self.message = InlineMessage()
        actions = QHBoxLayout()
        actions.addWidget(self.use_button)
        actions.addWidget(self.clear_button)
        actions.addStretch(1)
        actions.addWidget(self.reload_button)

        self.code = QLineEdit()
        self.code.setPlaceholderText("e.g. simulated-wpe (shown on the reader)")
        self.label = QLineEdit()
        self.label.setPlaceholderText("e.g. Desk 1 reader")
        self.location = QLineEdit()
        self.location.setPlaceholderText("tml_… (Stripe dashboard › Terminal › Locations)")
        self.register_button = QPushButton("Re&gister reader")
        self.register_message = InlineMessage()
        form = QFormLayout()
        form.addRow("Registration &code", self.code)
        form.addRow("&Name", self.label)
        form.addRow("&Location", self.location)
        register = QGroupBox("Register a new reader")
        register_layout = QVBoxLayout(register)
        register_layout.addLayout(form)
        register_row = QHBoxLayout()
        register_row.addWidget(self.register_button)
        register_row.addStretch(1)
        register_layout.addLayout(register_row)
        register_layout.addWidget(self.register_message)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addWidget(self.current)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        layout.addWidget(register)

        self.reload_button.clicked.connect(self.refresh)
        self.use_button.clicked.connect(self._on_use_clicked)
        self.clear_button.clicked.connect(lambda: self._choose(""))
        self.register_button.clicked.connect(self._on_register_clicked)
        for field in (self.code, self.label, self.location):
            field.textEdited.connect(self._new_attempt)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())
        self.table.doubleClicked.connect(lambda _index: self._on_use_clicked())
        self._show_current(reader_id)

    # ------------------------------------------------------------------ list

    def refresh(self) -> None:
        self.message.clear_message()
        self.desk.tasks.read(self._cards.list_readers, self._show_readers, self._failed(self.message),
                             key=f"readers-{id(self)}", owner=self)

    def _show_readers(self, readers: Any) -> None:
        selected = self.selected_reader_id() or self.model.desk_reader
        self.model.set_rows(readers)
        row = self.model.find(selected)
        if row >= 0:
            self.table.selectRow(row)
        self._show_current(self.model.desk_reader)
        if not readers:
            self.message.show_message("No reader is registered with Stripe yet: register one below.",
                                      kind="info")
        self.refreshed.emit()

    def selected_reader_id(self) -> str:
        index = self.table.currentIndex()
        return self.model.row_of(index.row()).id if index.isValid() else ""

    def _show_current(self, reader_id: str) -> None:
        self.model.set_desk_reader(reader_id)
        row = self.model.find(reader_id)
        if not reader_id:
            self.current.setText("This desk has no card reader chosen.")
        elif row >= 0:
            reader = self.model.row_of(row)
            self.current.setText(f"This desk uses: {reader.label or reader.id} ({reader.id})")
        else:
            self.current.setText(f"This desk uses: {reader_id}")
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.selected_reader_id()
        self.use_button.setEnabled(bool(chosen) and chosen != self.model.desk_reader)
        self.clear_button.setEnabled(bool(self.model.desk_reader))

    # ------------------------------------------------------------------ choose

    def _on_use_clicked(self) -> None:
        reader_id = self.selected_reader_id()
        if reader_id:
            self._choose(reader_id)

    def _choose(self, reader_id: str) -> None:
        save = self._save
        self.message.clear_message()
        self.desk.tasks.write(lambda: choose_desk_reader(reader_id, save), self._on_chosen,
                              self._failed(self.message), owner=self)

    def _on_chosen(self, reader_id: str) -> None:
        self._show_current(reader_id)
        text = "This desk now has no card reader." if not reader_id else \
            f"Saved: card payments on this desk go to {self.current.text().removeprefix('This desk uses: ')}."
        self.desk.messages.info(text, near=self.message)
        self.reader_chosen.emit(reader_id)

    # ------------------------------------------------------------------ register

    def _new_attempt(self, _text: str = "") -> None:
        # Another code or name is another registration; an unchanged form retried keeps its key.
        self._registration_key = new_registration_key()

    def _on_register_clicked(self) -> None:
        gateway, key = self._gateway, self._registration_key
        code, label, location = self.code.text(), self.label.text(), self.location.text()
        self.register_message.clear_message()
        self.register_button.setEnabled(False)

        def work() -> Any:
            return register_reader(gateway, registration_code=code, label=label, location=location,
                                   idempotency_key=key)

        def failed(exc: BaseException) -> None:
            self.register_button.setEnabled(True)
            self._failed(self.register_message)(exc)

        self.desk.tasks.write(work, self._on_registered, failed, owner=self)

    def _on_registered(self, reader: Any) -> None:
        self.register_button.setEnabled(True)
        self.code.clear()
        self.label.clear()
        self._new_attempt()
        self.desk.messages.info(f"Registered {reader.label} ({reader.id}). Select it and press “Use for "
                                "this desk” to take card payments on it here.", near=self.register_message)
        self.refresh()

    def _failed(self, near: InlineMessage) -> Callable[[BaseException], None]:
        return lambda exc: self.desk.messages.show_error(exc, near=near)
