"""The name + PIN/password form used by the lock screen (sign-in) and the lead's override dialog."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSortFilterProxyModel, QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.ui.widgets.inline_message import InlineMessage


class SignInForm(QWidget):
    """Name (completed from the staff who can sign in), secret, one button, an inline message.

    With ``pick_list`` (the lock screen) the staff who can sign in are listed in large type under
    the name field, which filters the list as it is typed; a click, or Enter with one name
    matching (or one chosen with the arrow keys), picks the name and moves on to the secret.

    Signals: ``submitted(name, secret)`` when the button is clicked or Enter is pressed with both filled.
    Enter and the button are one path (``submit``); while a check is in flight (``set_busy``) the
    fields keep the focus (read-only, not disabled, so focus never jumps to another button) and
    a second Enter or click is ignored.
    """

    submitted = Signal(str, str)

    def __init__(self, button_text: str = "Sign in", parent: QWidget | None = None, *,
                 pick_list: bool = False) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.name = QLineEdit()
        self.name.setMinimumWidth(220)
        self._names = QStringListModel(self)   # who can sign in
        self.people: QListView | None = None
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("PIN or password")
        if pick_list:
            self._filter = QSortFilterProxyModel(self)
            self._filter.setSourceModel(self._names)
            self._filter.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            self.name.setPlaceholderText("Type to find your name, or pick it below")
            people = QListView()
            people.setObjectName("signInNames")
            people.setModel(self._filter)
            people.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            people.setUniformItemSizes(True)
            font = people.font()
            font.setPointSizeF(font.pointSizeF() * 1.4)
            people.setFont(font)
            people.setMinimumHeight(people.fontMetrics().height() * 4)
            people.clicked.connect(self._on_people_clicked)
            people.activated.connect(self._on_people_clicked)
            self.name.textChanged.connect(self._on_name_typed)
            self.name.installEventFilter(self)    # Up/Down in the name field move through the list
            self.people = people
            name_label = QLabel("&Name")
            name_label.setBuddy(self.name)
            secret_label = QLabel("&PIN or password")
            secret_label.setBuddy(self.secret)
            layout.addWidget(name_label)
            layout.addWidget(self.name)
            layout.addWidget(people, 1)
            layout.addWidget(secret_label)
            layout.addWidget(self.secret)
        else:
            self.name.setPlaceholderText("Your name")
            completer = QCompleter(self._names, self)   # offered as the name is typed
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            self.name.setCompleter(completer)
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
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
        if names != self._names.stringList():
            self._names.setStringList(names)
            self._select_single_match()

    def visible_names(self) -> list[str]:
        """The names the pick list shows now (all of them without a list)."""
        if self.people is None:
            return self.names()
        return [str(self._filter.index(row, 0).data()) for row in range(self._filter.rowCount())]

    def pick(self, name: str) -> None:
        """Choose ``name`` as if it was clicked in the list: the cursor goes to the secret field."""
        self.name.setText(name)
        self.secret.setFocus()

    def _on_name_typed(self, text: str) -> None:
        self._filter.setFilterFixedString(text.strip())
        self._select_single_match()

    def _select_single_match(self) -> None:
        if self.people is None:
            return
        rows = self._filter.rowCount()
        typed = self.name.text().strip()
        self.people.setCurrentIndex(self._filter.index(0, 0) if rows == 1 and typed else QModelIndex())

    def _on_people_clicked(self, index: QModelIndex) -> None:
        if index.isValid() and not self._busy:
            self.pick(str(index.data()))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.name and self.people is not None and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()))
            rows = self._filter.rowCount()
            if step is not None and rows:
                current = self.people.currentIndex().row()
                row = 0 if current < 0 else max(0, min(rows - 1, current + step))
                self.people.setCurrentIndex(self._filter.index(row, 0))
                return True
        return super().eventFilter(watched, event)

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
        if self.people is not None and self.people.currentIndex().isValid():
            self.name.setText(str(self.people.currentIndex().data()))
        if self.secret.text():
            self.submit()
        else:
            self.secret.setFocus()

    def submit(self) -> None:
        """Emit ``submitted`` once for the typed name and secret (Enter, the button, a dialog's Enter)."""
        if self._busy:
            return
        if self.people is not None and self.people.currentIndex().isValid():
            self.name.setText(str(self.people.currentIndex().data()))   # "ver" with Vera chosen is Vera
        name, secret = self.name.text().strip(), self.secret.text()
        if not name:
            self.message.show_message("Pick your name in the list or type it." if self.people is not None
                                      else "Type your name.")
            self.name.setFocus()
            return
        if not secret:
            self.message.show_message("Type your PIN or password.")
            self.secret.setFocus()
            return
        self.message.clear_message()
        self.set_busy(True)
        self.submitted.emit(name, secret)
