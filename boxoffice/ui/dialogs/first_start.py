"""First start: choose or create the database, import a conference file or open the demo; create the first admin.

There is no default password: on a database without an admin, ``FirstAdminDialog`` asks for the
first admin's name and a password (typed twice) before anyone can sign in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import UserError
from boxoffice.services.staff.auth import MIN_PASSWORD_LENGTH
from boxoffice.ui.widgets.button_row import dialog_buttons
from boxoffice.ui.widgets.inline_message import InlineMessage


@dataclass(frozen=True)
class FirstStartChoice:
    database: str          # a file path or database URL; empty keeps the database already open
    conference_file: str   # empty: the demo conference (or the conference already in the database)


class FirstStartDialog(QDialog):
    """Collects a ``FirstStartChoice``; ``problem`` (e.g. an unreadable settings file) is shown on top."""

    def __init__(self, *, database_label: str, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Box Office")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        self.problem = InlineMessage()
        self.problem.show_message(problem)
        layout.addWidget(self.problem)
        layout.addWidget(QLabel("Set up this desk. An admin can change the desk settings later."))
        form = QFormLayout()
        self.database = QLineEdit()
        self.database.setPlaceholderText(database_label)
        browse_db = QPushButton("Choose…")
        db_row = QHBoxLayout()
        db_row.addWidget(self.database, 1)
        db_row.addWidget(browse_db)
        database_label_widget = QLabel("&Database")
        database_label_widget.setBuddy(self.database)   # a row of a layout gets no buddy by itself
        form.addRow(database_label_widget, db_row)
        self.demo = QRadioButton("Open the &demo conference")
        self.import_file = QRadioButton("&Import a conference file:")
        self.conference_path = QLineEdit()
        browse_conf = QPushButton("Browse…")
        group = QButtonGroup(self)
        group.addButton(self.demo)
        group.addButton(self.import_file)
        self.demo.setChecked(True)
        conf_row = QHBoxLayout()
        conf_row.addWidget(self.import_file)
        conf_row.addWidget(self.conference_path, 1)
        conf_row.addWidget(browse_conf)
        form.addRow("Conference", self.demo)
        form.addRow("", conf_row)
        layout.addLayout(form)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        buttons, self.start = dialog_buttons(self, leave="Quit", primary="Continue")
        layout.addLayout(buttons)
        self.start.clicked.connect(self._on_start_clicked)
        browse_db.clicked.connect(self._on_browse_database)
        browse_conf.clicked.connect(self._on_browse_conference)
        self.conference_path.textEdited.connect(lambda: self.import_file.setChecked(True))

    def choice(self) -> FirstStartChoice:
        conference = self.conference_path.text().strip() if self.import_file.isChecked() else ""
        return FirstStartChoice(self.database.text().strip(), conference)

    def _on_start_clicked(self) -> None:
        choice = self.choice()
        if self.import_file.isChecked() and not Path(choice.conference_file).is_file():
            self.message.show_message("Choose the conference file to import (a .toml file), or pick the demo.")
            return
        self.accept()

    def _on_browse_database(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Choose or create a database file", "boxoffice.sqlite3",
                                              "SQLite database (*.sqlite3 *.db)",
                                              options=QFileDialog.Option.DontConfirmOverwrite)
        if name:
            self.database.setText(name)

    def _on_browse_conference(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Conference file", "", "Conference file (*.toml)")
        if name:
            self.conference_path.setText(name)
            self.import_file.setChecked(True)


class FirstAdminDialog(QDialog):
    """Create the first admin of a new database: name and a password typed twice.

    ``create(name, password)`` is called on Create (``AuthService.create_first_admin``); its
    ``UserError`` is shown in the dialog. ``account`` holds the created admin after ``accept()``.
    """

    def __init__(self, create: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._create = create
        self.account: Any = None
        self.setWindowTitle("Create the first admin")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        intro = QLabel("This database has no admin yet. Create yours: the admin adds volunteers and leads, "
                       f"changes the catalog and the settings. Use a password of at least {MIN_PASSWORD_LENGTH} "
                       "characters; there is no default password.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.name = QLineEdit()
        self.name.setPlaceholderText("Your name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat = QLineEdit()
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow("&Name", self.name)
        form.addRow("&Password", self.password)
        form.addRow("&Repeat password", self.repeat)
        layout.addLayout(form)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        buttons, self.create_button = dialog_buttons(self, leave="Quit", primary="Create admin")
        layout.addLayout(buttons)
        self.create_button.clicked.connect(self._on_create_clicked)

    def _on_create_clicked(self) -> None:
        name, password = self.name.text().strip(), self.password.text()
        if not name:
            self.message.show_message("Type your name.")
            self.name.setFocus()
            return
        if password != self.repeat.text():
            self.message.show_message("The two passwords differ. Type the same password twice.")
            self.repeat.clear()
            self.repeat.setFocus()
            return
        try:
            self.account = self._create(name, password)
        except UserError as exc:
            self.message.show_message(str(exc))
            return
        self.accept()
