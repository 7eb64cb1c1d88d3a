"""The attendees of the order on show: who holds each ticket, their code and whether they are in; rename.

Signals: ``renamed(AttendeeView)`` after a rename (the code stays; the service audits old and new name).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.widgets.button_row import dialog_buttons
from boxoffice.ui.widgets.inline_message import InlineMessage


class RenameDialog(QDialog):
    """Name, email and company of the person who comes instead; accepted with a name."""

    def __init__(self, attendee: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Rename attendee {attendee.access_code}")
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        hint = QLabel("A colleague comes instead: the ticket and its code stay the same.")
        hint.setWordWrap(True)
        form = QFormLayout()
        self.name = QLineEdit(attendee.name)
        self.email = QLineEdit(attendee.email)
        self.company = QLineEdit(attendee.company)
        form.addRow("&Name", self.name)
        form.addRow("E&mail", self.email)
        form.addRow("Compan&y", self.company)
        self.message = InlineMessage()
        layout.addWidget(hint)
        layout.addLayout(form)
        layout.addWidget(self.message)
        row, self.save = dialog_buttons(self, leave="Cancel", primary="Rename")
        layout.addLayout(row)

    def values(self) -> tuple[str, str, str]:
        return self.name.text().strip(), self.email.text().strip(), self.company.text().strip()


class AttendeesPane(QWidget):
    """Lists ``AttendeeView``s of one order with a Rename button."""

    renamed = Signal(object)

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.rename_dialog: RenameDialog | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Attendees")
        title.setObjectName("sectionTitle")
        self.list = QListWidget()
        self.list.setMaximumHeight(130)
        self.rename_button = QPushButton("Re&name attendee…")
        self.rename_button.setEnabled(False)
        self.message = InlineMessage()
        row = QHBoxLayout()
        row.addWidget(title, 1)
        row.addWidget(self.rename_button)
        layout.addLayout(row)
        layout.addWidget(self.list)
        layout.addWidget(self.message)
        self.list.currentRowChanged.connect(lambda r: self.rename_button.setEnabled(r >= 0))
        self.list.itemActivated.connect(lambda _item: self.open_rename())
        self.rename_button.clicked.connect(self.open_rename)
        self._order_id: int | None = None

    def load(self, order_id: int | None) -> None:
        self._order_id = order_id
        self.message.clear_message()
        if order_id is None:
            self.set_attendees([])
            return
        attendees = self.desk.services.attendees
        self.desk.tasks.read(lambda: attendees.for_order(order_id), self._loaded_for(order_id),
                             lambda exc: self.desk.messages.show_error(exc, near=self.message),
                             key="orders-attendees", owner=self)

    def _loaded_for(self, order_id: int) -> Any:
        def loaded(views: list[Any]) -> None:
            if order_id == self._order_id:
                self.set_attendees(views)
        return loaded

    def set_attendees(self, views: list[Any]) -> None:
        self.list.clear()
        when = self.desk.display.when
        for view in views:
            state = "void" if view.status != "valid" else (
                f"checked in {when(view.checked_in_at)} at {view.checked_in_desk}" if view.checked_in_at
                else "expected")
            item = QListWidgetItem(f"{view.name or '(no name)'} · {view.ticket_type} · {view.access_code} · {state}")
            item.setData(Qt.ItemDataRole.UserRole, view)
            self.list.addItem(item)
        self.setVisible(bool(views))
        self.rename_button.setEnabled(False)

    def open_rename(self) -> None:
        item = self.list.currentItem()
        if item is None:
            return
        attendee = item.data(Qt.ItemDataRole.UserRole)
        dialog = RenameDialog(attendee, self)
        service = self.desk.services.attendees

        def save() -> None:
            name, email, company = dialog.values()
            dialog.save.setEnabled(False)

            def failed(exc: BaseException) -> None:
                dialog.save.setEnabled(True)
                self.desk.messages.show_error(exc, near=dialog.message)

            self.desk.tasks.write(lambda: service.rename(attendee.id, name=name, email=email, company=company),
                                  done, failed, owner=dialog)

        def done(view: Any) -> None:
            dialog.accept()
            self.desk.messages.info(f"Renamed to {view.name}; the code {view.access_code} stays.", near=self.message)
            self.renamed.emit(view)
            self.load(self._order_id)

        dialog.save.clicked.connect(save)
        dialog.finished.connect(lambda _code: setattr(self, "rename_dialog", None))
        self.rename_dialog = dialog
        dialog.open()
