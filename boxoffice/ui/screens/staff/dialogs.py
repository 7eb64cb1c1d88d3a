"""Add a staff member, change a role, or set a new PIN or password (admins)."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from boxoffice.services.staff.access import Role
from boxoffice.ui.widgets.button_row import dialog_buttons
from boxoffice.ui.widgets.inline_message import InlineMessage


class StaffDialog(QDialog):
    """One dialog for the three edits. ``mode`` is "add", "role" or "secret".

    Calls ``submit(name, role, secret)`` on Save; the caller closes it with ``accept()`` when the
    service agreed, or shows the error with ``fail(text)``.
    """

    def __init__(self, mode: str, submit: Any, *, account: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode, self._submit, self.account = mode, submit, account
        self.setWindowTitle({"add": "Add staff member", "role": f"Change role of {getattr(account, 'name', '')}",
                             "secret": f"New PIN or password for {getattr(account, 'name', '')}"}[mode])
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit()
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.label, role.value)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.hint = QLabel()
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        if mode == "add":
            form.addRow("&Name", self.name)
        if mode in ("add", "role"):
            form.addRow("&Role", self.role)
        if account is not None:
            self.role.setCurrentIndex(self.role.findData(account.role.value))
        form.addRow("&PIN / password", self.secret)
        form.addRow("Re&peat", self.repeat)
        layout.addLayout(form)
        layout.addWidget(self.hint)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        row, self.save = dialog_buttons(self, leave="Cancel", primary="Save")
        layout.addLayout(row)
        self.save.clicked.connect(self._on_save_clicked)
        self.role.currentIndexChanged.connect(self._update_hint)
        self._update_hint()

    def chosen_role(self) -> Role:
        return Role(self.role.currentData())

    def _update_hint(self) -> None:
        role = self.chosen_role() if self.mode != "secret" else self.account.role
        kind = "a PIN of 6 to 8 digits" if role is Role.VOLUNTEER else "a password of at least 8 characters"
        text = f"{role.label}s sign in with {kind}."
        if self.mode == "role":
            text += " Leave it empty to keep the current one (allowed when it stays a PIN or a password)."
        self.hint.setText(text)

    def _on_save_clicked(self) -> None:
        if self.secret.text() != self.repeat.text():
            self.fail("The two entries differ. Type the PIN or password twice.")
            return
        if self.mode == "add" and not self.name.text().strip():
            self.fail("Type the staff member's name.")
            return
        self.save.setEnabled(False)
        self._submit(self.name.text().strip(), self.chosen_role(), self.secret.text())

    def fail(self, text: str) -> None:
        self.save.setEnabled(True)
        self.message.show_message(text)
