"""A lead approves one refused action on the operator's screen with their PIN or password."""

from __future__ import annotations

from typing import Any

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from boxoffice.errors import PermissionDenied, UserError
from boxoffice.services.staff.access import Permission, Role
from boxoffice.ui.dialogs.sign_in import SignInForm
from boxoffice.ui.tasks import ResumeFn, TaskRunner


class OverrideDialog(QDialog):
    """Asks for a lead's name and secret; the operator stays signed in.

    Signals: ``approved(Actor)`` with the approver once ``AuthService.verify_override`` accepts.
    ``services``: the desk's services (``directory`` for the names, ``auth`` to check the secret).
    """

    approved = Signal(object)

    def __init__(self, services: Any, tasks: TaskRunner, error: PermissionDenied,
                 parent: QWidget | None = None, *, what: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("overrideDialog")
        self.setWindowTitle("Approval needed")
        self.setMinimumWidth(520)
        self._services, self._tasks = services, tasks
        self.permission = Permission(error.permission)
        needs = Role(error.needs or self.permission.min_role.value)
        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        self.title = QLabel(f"{self.permission.label} needs {needs.article} {needs.value}.")
        self.title.setObjectName("sectionTitle")
        self.title.setWordWrap(True)
        # What exactly the lead approves (action, amount, order), large enough to check at a glance.
        self.what = QLabel(what)
        self.what.setObjectName("approvalWhat")
        self.what.setWordWrap(True)
        font = self.what.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.what.setFont(font)
        self.what.setVisible(bool(what))
        explain = QLabel(f"{needs.article.capitalize()} {needs.value} can approve this once: they type their name "
                         "and PIN or password here. You stay signed in.")
        explain.setWordWrap(True)
        self.form = SignInForm("Approve")
        layout.addWidget(self.title)
        layout.addWidget(self.what)
        layout.addWidget(explain)
        layout.addWidget(self.form)
        row = QHBoxLayout()
        self.cancel = QPushButton("Cancel")
        self.cancel.setAutoDefault(False)   # Enter approves (one path with the button), never cancels
        row.addWidget(self.cancel)
        row.addStretch(1)
        layout.addLayout(row)
        self.cancel.clicked.connect(self.reject)
        self.form.submitted.connect(self._on_form_submitted)
        self._tasks.read(services.directory.sign_in_names, self.form.set_names, lambda _exc: None, owner=self)
        self.form.name.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # QDialog would click whichever button holds the focus or is default; Enter means "approve".
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.form.submit()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        if self.form.is_busy():   # a lead's approval is being checked: its answer decides
            return
        super().reject()

    def _on_form_submitted(self, name: str, secret: str) -> None:
        auth, permission = self._services.auth, self.permission
        self._tasks.write(lambda: auth.verify_override(name, secret, permission), self._on_verified,
                          self._on_failed, owner=self, approvable=False)

    def _on_verified(self, approver: Any) -> None:
        self.approved.emit(approver)
        self.accept()

    def _on_failed(self, exc: BaseException) -> None:
        self.form.show_error(str(exc) if isinstance(exc, UserError) else
                             "The approval could not be checked; try again.")


def install_override(desk: Any, parent: QWidget) -> None:
    """Every refused write started on ``desk.tasks`` offers the override dialog (window-modal, not
    blocking), checked with the desk's services of that moment."""
    tasks = desk.tasks

    def ask(error: PermissionDenied, resume: ResumeFn, what: str) -> None:
        try:
            dialog = OverrideDialog(desk.services, tasks, error, parent, what=what)
        except ValueError:          # an unknown permission: nothing a lead can approve here
            resume(None)
            return
        outcome: dict[str, Any] = {}
        focus = QApplication.focusWidget()   # where the operator was (the payment's tendered field...)

        def finished(_code: int) -> None:
            if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
                focus.activateWindow()
                focus.setFocus()   # Enter means what it meant before the approval was asked for
            resume(outcome.get("approver"))

        dialog.approved.connect(lambda approver: outcome.setdefault("approver", approver))
        dialog.finished.connect(finished)
        dialog.finished.connect(dialog.deleteLater)
        parent.override_dialog = dialog  # type: ignore[attr-defined]  # tests and screenshots find it here
        dialog.open()

    tasks.set_override_handler(ask)
