"""The name + PIN/password form used by the lock screen (sign-in) and the lead's override dialog."""

from __future__ import annotations

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import QCompleter, QFormLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from boxoffice.ui.widgets.inline_message import InlineMessage


class SignInForm(QWidget):
    """Name (completed from the staff who can sign in), secret, one button, an inline message.

    Signals: ``submitted(name, secret)`` when the button is clicked or Enter is pressed with both filled.
    Enter and the button are one path (``submit``); while a check is in flight (``set_busy``) the
    fields keep the focus (read-only, not disabled, so focus never jumps to another button) and
    a second Enter or click is ignored.
    """

    submitted = Signal(str, str)

    def __init__(self, button_text: str = "Sign in", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("Your name")
        self.name.setMinimumWidth(280)
        self._names = QStringListModel(self)   # who can sign in, offered as the name is typed
        self._completer = QCompleter(self._names, self)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.name.setCompleter(self._completer)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("PIN or password")
        form.addRow("&Name", self.name)
        form.addRow("&PIN or password", self.secret)
        layout.addLayout(form)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        self.button = QPushButton(button_text)
        self.button.setProperty("role", "primary")
        self.button.setAutoDefault(False)   # Enter is handled once, by the fields (see ``submit``)
        layout.addWidget(self.button)
        self._busy = False
        self.button.clicked.connect(self.submit)
        self.name.returnPressed.connect(self._on_name_return)
        self.secret.returnPressed.connect(self.submit)

    def set_names(self, names: list[str]) -> None:
        self._names.setStringList(names)

    def names(self) -> list[str]:
        return list(self._names.stringList())

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.button.setEnabled(not busy)
        self.name.setReadOnly(busy)
        self.secret.setReadOnly(busy)

    def is_busy(self) -> bool:
        return self._busy

    def show_error(self, text: str) -> None:
        self.set_busy(False)
        self.secret.clear()
        self.message.show_message(text)
        self.secret.setFocus()

    def reset(self, *, keep_name: bool = False) -> None:
        if not keep_name:
            self.name.clear()
        self.secret.clear()
        self.message.clear_message()
        self.set_busy(False)
        (self.secret if keep_name and self.name.text() else self.name).setFocus()

    def _on_name_return(self) -> None:
        if self.secret.text():
            self.submit()
        else:
            self.secret.setFocus()

    def submit(self) -> None:
        """Emit ``submitted`` once for the typed name and secret (Enter, the button, a dialog's Enter)."""
        if self._busy:
            return
        name, secret = self.name.text().strip(), self.secret.text()
        if not name:
            self.message.show_message("Type your name.")
            self.name.setFocus()
            return
        if not secret:
            self.message.show_message("Type your PIN or password.")
            self.secret.setFocus()
            return
        self.message.clear_message()
        self.set_busy(True)
        self.submitted.emit(name, secret)
