"""Staff screen (admins): who may sign in, with which role; add, change role, reset, unlock, deactivate."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import UserError
from boxoffice.ui.models.rows_model import ROW_ROLE, SORT_ROLE
from boxoffice.ui.screens.staff.dialogs import StaffDialog
from boxoffice.ui.screens.staff.model import StaffModel
from boxoffice.ui.widgets.inline_message import InlineMessage


class StaffScreen(QWidget):
    """Lists ``AuthService.list_staff()``; every change goes through the service (admins only)."""

    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.dialog: StaffDialog | None = None
        layout = QVBoxLayout(self)
        title = QLabel("Staff")
        title.setObjectName("sectionTitle")
        hint = QLabel("Volunteers sign in with a PIN, leads and admins with a password. A lead can approve a "
                      "volunteer's refund, comp or cancellation with their password.")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(hint)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        self.model = StaffModel(desk.display, self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add staff member…")
        self.add_button.setProperty("role", "primary")
        self.role_button = QPushButton("Change role…")
        self.secret_button = QPushButton("New PIN / password…")
        self.unlock_button = QPushButton("Unlock")
        self.active_button = QPushButton("Deactivate")
        self.active_button.setProperty("role", "danger")
        for button in (self.add_button, self.role_button, self.secret_button, self.unlock_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.active_button)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(self._on_add_clicked)
        self.role_button.clicked.connect(self._on_role_clicked)
        self.secret_button.clicked.connect(self._on_secret_clicked)
        self.unlock_button.clicked.connect(self._on_unlock_clicked)
        self.active_button.clicked.connect(self._on_active_clicked)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_buttons()

    # --- data ------------------------------------------------------------------------------------

    def refresh(self) -> None:
        auth = self.desk.services.auth
        self.desk.tasks.read(auth.list_staff, self._show_rows, self._on_error, key="staff-list", owner=self)

    def _show_rows(self, rows: Any) -> None:
        keep = self.selected().id if self.selected() else None
        self.model.set_rows(rows)
        if keep is not None:
            self.select(keep)
        self._update_buttons()

    def selected(self) -> Any:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].data(ROW_ROLE) if rows else None

    def select(self, staff_id: int) -> None:
        for row in range(self.proxy.rowCount()):
            if self.proxy.index(row, 0).data(ROW_ROLE).id == staff_id:
                self.table.selectRow(row)
                return

    def _update_buttons(self, *_: Any) -> None:
        account = self.selected()
        for button in (self.role_button, self.secret_button, self.active_button):
            button.setEnabled(account is not None)
        self.unlock_button.setEnabled(account is not None and account.locked)
        self.active_button.setText("Reactivate" if account is not None and not account.active else "Deactivate")

    # --- actions ---------------------------------------------------------------------------------

    def _change(self, fn: Any, done_text: str) -> None:
        def done(account: Any) -> None:
            self.message.show_message(done_text.format(name=account.name), kind="info")
            self.refresh()
            self.select(account.id)

        self.desk.tasks.write(fn, done, self._on_error, owner=self)

    def _on_error(self, exc: BaseException) -> None:
        self.desk.messages.show_error(exc, near=self.message)

    def _open(self, dialog: StaffDialog) -> None:
        self.dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()

    def _dialog_change(self, dialog_ref: dict[str, StaffDialog], fn: Any, done_text: str) -> None:
        dialog = dialog_ref["dialog"]

        def done(account: Any) -> None:
            dialog.accept()
            self.message.show_message(done_text.format(name=account.name), kind="info")
            self.refresh()
            self.select(account.id)

        def failed(exc: BaseException) -> None:
            if isinstance(exc, UserError):
                dialog.fail(str(exc))
            else:
                dialog.fail("That could not be saved.")
                self.desk.messages.show_error(exc)

        self.desk.tasks.write(fn, done, failed, owner=dialog)

    def _on_add_clicked(self) -> None:
        auth = self.desk.services.auth
        ref: dict[str, StaffDialog] = {}
        ref["dialog"] = StaffDialog("add", lambda name, role, secret: self._dialog_change(
            ref, lambda: auth.add_staff(name, role, secret), "{name} was added and can sign in now."), parent=self)
        self._open(ref["dialog"])

    def _on_role_clicked(self) -> None:
        account, auth = self.selected(), self.desk.services.auth
        ref: dict[str, StaffDialog] = {}
        if account is None:
            return
        ref["dialog"] = StaffDialog("role", lambda _n, role, secret: self._dialog_change(
            ref, lambda: auth.set_role(account.id, role, secret=secret or None), "{name}'s role was changed."),
            account=account, parent=self)
        self._open(ref["dialog"])

    def _on_secret_clicked(self) -> None:
        account, auth = self.selected(), self.desk.services.auth
        ref: dict[str, StaffDialog] = {}
        if account is None:
            return
        ref["dialog"] = StaffDialog("secret", lambda _n, _r, secret: self._dialog_change(
            ref, lambda: auth.reset_secret(account.id, secret), "{name} has a new PIN or password."),
            account=account, parent=self)
        self._open(ref["dialog"])

    def _on_unlock_clicked(self) -> None:
        account, auth = self.selected(), self.desk.services.auth
        if account is not None:
            self._change(lambda: auth.unlock(account.id), "{name} can sign in again.")

    def _on_active_clicked(self) -> None:
        account, auth = self.selected(), self.desk.services.auth
        if account is None:
            return
        if account.active:
            self._change(lambda: auth.deactivate(account.id), "{name} can no longer sign in.")
        else:
            self._change(lambda: auth.reactivate(account.id), "{name} can sign in again.")
