"""The lock screen: covers the main window's content until someone signs in (start, Lock, idle)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from boxoffice.errors import UserError
from boxoffice.ui.dialogs.sign_in import SignInForm


class LockScreen(QWidget):
    """Signs an operator in through ``AuthService.sign_in`` on the task runner (the names for the
    name field come from ``StaffDirectory``, which needs no ORM, so they show at once on start).

    Signals: ``signed_in(Actor)`` after a successful sign-in; ``became_ready()`` the first time the
    database answers. ``ready`` is True from then on (the staff names for the name field arrived),
    and a sign-in goes through.
    """

    signed_in = Signal(object)
    became_ready = Signal()

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.desk = desk
        self.ready = False
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        panel = QFrame()
        panel.setObjectName("panel")
        panel.setMinimumWidth(420)
        panel.setMaximumWidth(620)
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(12)
        self.title = QLabel("Desk locked")
        self.title.setObjectName("sectionTitle")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.title.setFont(font)
        self.hint = QLabel()
        self.hint.setObjectName("muted")
        self.hint.setWordWrap(True)
        self.form = SignInForm("Sign in", pick_list=True)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addWidget(self.form)
        outer.addWidget(panel, 6, Qt.AlignmentFlag.AlignHCenter)   # the name list takes the height
        outer.addStretch(1)
        self.form.submitted.connect(self._on_form_submitted)

    def prepare(self, *, reason: str, previous: str = "") -> None:
        """Show the screen for a new sign-in; ``previous`` names the operator who was signed in.

        The form starts empty with the cursor in the name field, never with the previous
        operator's name: the next person would type their own name as that operator's password.
        """
        self.title.setText("Desk locked" if previous or "Locked" in reason else "Sign in")
        self.hint.setText(reason)
        self.form.reset()
        self.desk.tasks.read(self.desk.services.directory.sign_in_names, self._on_names,
                             lambda _exc: None, owner=self)

    def _on_names(self, names: list[str]) -> None:
        self.form.set_names(names)
        if not self.ready:
            self.ready = True
            self.became_ready.emit()

    def _on_form_submitted(self, name: str, secret: str) -> None:
        auth = self.desk.services.auth
        self.desk.tasks.write(lambda: auth.sign_in(name, secret), self._on_signed_in, self._on_failed,
                              owner=self, approvable=False)

    def _on_signed_in(self, actor: Any) -> None:
        self.form.reset()
        self.signed_in.emit(actor)

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserError):
            self.form.show_error(str(exc))
        else:
            self.form.set_busy(False)
            self.desk.messages.show_error(exc)
