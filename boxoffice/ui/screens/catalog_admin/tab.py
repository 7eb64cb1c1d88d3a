"""What the Catalog tabs share: a sortable table of one kind of item with an editor beside it.

A subclass builds its model, table, notice and editor fields (``_start_editor`` makes the form and
its title, ``_editor_buttons`` and ``_place`` the rest), then fills in the hooks below: how to load,
clear and fill the form, read it back, create and update.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import NotSignedIn, PermissionDenied
from boxoffice.ui.desk import Desk
from boxoffice.ui.models.rows_model import ROW_ROLE, SORT_ROLE, RowsTableModel
from boxoffice.ui.screens.catalog_admin.fields import FieldForm

REFUSED = (PermissionDenied, NotSignedIn)


def make_table(model: RowsTableModel, parent: QWidget, widths: tuple[int, ...]) -> tuple[QTableView, Any]:
    proxy = QSortFilterProxyModel(parent)
    proxy.setSourceModel(model)
    proxy.setSortRole(SORT_ROLE)
    table = QTableView()
    table.setModel(proxy)
    table.setSortingEnabled(True)
    table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)   # keep the service's display order
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    table.horizontalHeader().setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    return table, proxy


class CatalogTab(QWidget):
    """List, select to edit, New, Save, Deactivate; the editor hides while the catalog may not be changed."""

    kind = "item"
    edit_title = "Edit {kind}: {label}"
    label_field = "name"

    model: RowsTableModel
    table: QTableView
    proxy: Any
    notice: Any
    editor: FieldForm
    title: QLabel

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.admin = desk.services.catalog_admin
        self.current: Any = None

    # ----------------------------------------------------------------- building

    def _start_editor(self) -> None:
        self.editor = FieldForm(self.desk.messages)
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")

    def _editor_buttons(self) -> QHBoxLayout:
        self.new_button = QPushButton(f"New {self.kind}")
        self.save_button = QPushButton("Save")
        self.save_button.setProperty("role", "primary")
        self.deactivate_button = QPushButton("Deactivate")
        self.deactivate_button.setProperty("role", "danger")
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.deactivate_button)
        buttons.addWidget(self.save_button)
        return buttons

    def _place(self, buttons: QLayout, *, editor_width: int, sizes: list[int],
               top: QLayout | None = None) -> None:
        """The table and the scrolling editor side by side, under ``top`` and the notice."""
        editor_box = QWidget()
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.addWidget(self.title)
        editor_layout.addWidget(self.editor)
        editor_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(editor_box)
        # The form scrolls on a low screen; its buttons stay below it, always in view.
        column = QWidget()
        self.editor_panel = column    # hidden while the operator may not change the catalog
        column_layout = QVBoxLayout(column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.addWidget(scroll, 1)
        column_layout.addLayout(buttons)
        column.setMinimumWidth(editor_width)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(column)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes(sizes)
        layout = QVBoxLayout(self)
        if top is not None:
            layout.addLayout(top)
        layout.addWidget(self.notice)
        layout.addWidget(splitter, 1)

    def _connect_editing(self) -> None:
        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self.save)
        self.deactivate_button.clicked.connect(self.toggle_active)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._on_selection_changed())

    # ----------------------------------------------------------------- subclass hooks

    def _show_loaded(self, loaded: Any) -> None:
        self.model.set_rows(loaded)

    def _usable_widgets(self) -> tuple[QWidget, ...]:
        return (self.editor, self.new_button, self.save_button, self.deactivate_button)

    def _clear_form(self) -> None:
        raise NotImplementedError

    def _fill_form(self, row: Any) -> None:
        raise NotImplementedError

    def values(self) -> dict[str, Any] | None:
        """What the form says, or None after showing why a typed value can't be read."""
        raise NotImplementedError

    def _changes(self, current: Any, values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if getattr(current, k) != v}

    def _create(self, values: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _update(self, item_id: int, changes: dict[str, Any]) -> Any:
        raise NotImplementedError

    # ----------------------------------------------------------------- loading

    def _on_loaded(self, loaded: Any) -> None:
        self.notice.clear_message()
        self._set_usable(True)
        keep = self.current.id if self.current is not None else None
        self._show_loaded(loaded)
        if keep is not None:
            self.select_id(keep)

    def _on_load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, REFUSED):
            self.model.set_rows(())
            self.start_new()
            self.title.setText("")
            self._set_usable(False)
        self.desk.messages.show_error(exc, near=self.notice)

    def _set_usable(self, usable: bool) -> None:
        for widget in self._usable_widgets():
            widget.setEnabled(usable)
        self.editor_panel.setVisible(usable)
        if usable:
            self.deactivate_button.setEnabled(self.current is not None)

    def rows(self) -> list[Any]:
        return [self.proxy.data(self.proxy.index(r, 0), ROW_ROLE) for r in range(self.proxy.rowCount())]

    def select_id(self, item_id: int) -> bool:
        for row in range(self.proxy.rowCount()):
            if self.proxy.data(self.proxy.index(row, 0), ROW_ROLE).id == item_id:
                self.table.selectRow(row)
                return True
        return False

    def _on_selection_changed(self) -> None:
        selected = self.table.selectionModel().selectedRows()
        if selected:
            self.edit(self.proxy.data(selected[0], ROW_ROLE))

    # ----------------------------------------------------------------- editing

    def start_new(self) -> None:
        self.current = None
        self.table.clearSelection()
        self.title.setText(f"New {self.kind}")
        self._clear_form()
        self.editor.clear_errors()
        self.deactivate_button.setEnabled(False)
        self.deactivate_button.setText("Deactivate")

    def edit(self, row: Any) -> None:
        if self.current is None or self.current.id != row.id:
            self.editor.clear_errors()     # a notice about the same item (Saved …) stays
        self.current = row
        self.title.setText(self.edit_title.format(kind=self.kind, label=getattr(row, self.label_field)))
        self._fill_form(row)
        self.deactivate_button.setEnabled(True)
        self.deactivate_button.setText("Deactivate" if row.is_active else "Reactivate")

    def save(self) -> None:
        values = self.values()
        if values is None:
            return
        current = self.current
        if current is None:
            work = lambda: self._create(values)
        else:
            changes = self._changes(current, values)
            if not changes:
                self.editor.notice("Nothing to save: no field was changed.")
                return
            work = lambda: self._update(current.id, changes)
        self.save_button.setEnabled(False)
        self.desk.tasks.write(work, self._on_saved, self._on_save_failed, owner=self)

    def toggle_active(self) -> None:
        current = self.current
        if current is None:
            return
        wanted = not current.is_active
        self.desk.tasks.write(lambda: self._update(current.id, {"is_active": wanted}), self._on_saved,
                              self._on_save_failed, owner=self)

    def _show_saved(self, view: Any) -> None:
        self.save_button.setEnabled(True)
        self.current = view
        self.edit(view)
        self.editor.notice(f"Saved {self.kind} {getattr(view, self.label_field)}.")

    def _on_saved(self, view: Any) -> None:
        self._show_saved(view)
        self.refresh()

    def _on_save_failed(self, exc: BaseException) -> None:
        self.save_button.setEnabled(True)
        self.editor.show_error(exc)

    def refresh(self) -> None:
        raise NotImplementedError
