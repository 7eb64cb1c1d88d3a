"""First start: choose or create the database, import a conference file or open the demo, name the operator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QRadioButton, QVBoxLayout, QWidget,
)

from boxoffice.ui.widgets.inline_message import InlineMessage


@dataclass(frozen=True)
class FirstStartChoice:
    database: str          # a file path or database URL; empty keeps the database already open
    conference_file: str   # empty: the demo conference (or the conference already in the database)
    operator_name: str


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
        layout.addWidget(QLabel("Set up this desk. You can change these later in the settings file."))
        form = QFormLayout()
        self.database = QLineEdit()
        self.database.setPlaceholderText(database_label)
        browse_db = QPushButton("Choose…")
        db_row = QHBoxLayout()
        db_row.addWidget(self.database, 1)
        db_row.addWidget(browse_db)
        form.addRow("&Database", db_row)
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
        self.operator = QLineEdit()
        self.operator.setPlaceholderText("Your name, as it appears on payments")
        form.addRow("&Operator", self.operator)
        layout.addLayout(form)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        buttons = QHBoxLayout()
        quit_button = QPushButton("Quit")
        self.start = QPushButton("Start selling")
        self.start.setProperty("role", "primary")
        self.start.setDefault(True)
        buttons.addWidget(quit_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start)
        layout.addLayout(buttons)
        quit_button.clicked.connect(self.reject)
        self.start.clicked.connect(self._on_start_clicked)
        browse_db.clicked.connect(self._on_browse_database)
        browse_conf.clicked.connect(self._on_browse_conference)
        self.conference_path.textEdited.connect(lambda: self.import_file.setChecked(True))

    def choice(self) -> FirstStartChoice:
        conference = self.conference_path.text().strip() if self.import_file.isChecked() else ""
        return FirstStartChoice(self.database.text().strip(), conference, self.operator.text().strip())

    def _on_start_clicked(self) -> None:
        choice = self.choice()
        if not choice.operator_name:
            self.message.show_message("Type your name so payments record who took them.")
            self.operator.setFocus()
            return
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
