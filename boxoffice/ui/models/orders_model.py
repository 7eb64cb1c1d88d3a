"""Orders as a lazily fetched table: pages of ``OrderService.search`` loaded off the GUI thread.

The model never holds a session: it keeps a list of ``OrderSummary`` rows and the total ``count``.
``canFetchMore``/``fetchMore`` ask for the next page when the view scrolls near the end, so a
conference with 100,000 orders opens with one page. Sorting is done by the database.

Signals: ``loaded()`` after a query (first page and count) has arrived; ``failed(exception)``.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt, Signal

from boxoffice.ui.formatting import Display, status_label
from boxoffice.ui.models.rows_model import ROW_ROLE, SORT_ROLE, Index
from boxoffice.ui.tasks import TaskRunner

PAGE_SIZE = 200
MAX_RELOAD_ROWS = 1_000  # an in-place reload re-reads at most this many rows (the ones fetched so far)


class Column(enum.IntEnum):
    REFERENCE = 0
    CREATED = 1
    NAME = 2
    EMAIL = 3
    STATUS = 4
    TOTAL = 5
    BALANCE = 6


HEADERS = {Column.REFERENCE: "Reference", Column.CREATED: "Created", Column.NAME: "Name",
           Column.EMAIL: "Email", Column.STATUS: "Status", Column.TOTAL: "Total", Column.BALANCE: "Due"}
SORT_KEYS = {Column.REFERENCE: "reference", Column.CREATED: "created_at", Column.NAME: "billing_name",
             Column.EMAIL: "billing_email", Column.STATUS: "status", Column.TOTAL: "total"}


@dataclass(frozen=True)
class OrderQuery:
    text: str = ""
    statuses: tuple[str, ...] | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    sort: str = "created_at"
    descending: bool = True


class OrdersModel(QAbstractTableModel):
    loaded = Signal()
    failed = Signal(object)

    def __init__(self, orders_service: Any, tasks: TaskRunner, conference_id: int, display: Display,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._service, self._tasks, self._conference_id, self._display = (
            orders_service, tasks, conference_id, display)
        self._rows: list[Any] = []
        self._total = 0
        self._query = OrderQuery()
        self._generation = 0
        self._fetching = False

    # ------------------------------------------------------------------ queries

    @property
    def query(self) -> OrderQuery:
        return self._query

    @property
    def total(self) -> int:
        return self._total

    def set_query(self, query: OrderQuery) -> None:
        """Start a new search; the rows are replaced when its first page arrives."""
        self._query = query
        self._generation += 1
        generation, service, conference = self._generation, self._service, self._conference_id

        def work() -> tuple[int, list[Any]]:
            total = service.count(conference, query.text, statuses=query.statuses,
                                  created_from=query.created_from, created_to=query.created_to)
            return total, self._page(service, conference, query, 0)

        self._fetching = True
        self._tasks.read(work, lambda result: self._on_first_page(generation, result), self._on_failed,
                         key=f"orders-model-{id(self)}", owner=self)

    def refresh(self) -> None:
        self.set_query(self._query)

    def reload(self, on_done: Callable[[], None] | None = None) -> None:
        """Re-read the rows shown so far for the same query and swap them in place.

        Unlike ``set_query`` this keeps the view's selection and current row on the same orders
        (persistent indexes follow the order ids), so another desk's sale can appear while the
        operator works. A newer query started meanwhile wins; the reload is then dropped.
        """
        generation, service, conference, query = (
            self._generation, self._service, self._conference_id, self._query)
        wanted = min(max(len(self._rows), PAGE_SIZE), MAX_RELOAD_ROWS)

        def work() -> tuple[int, list[Any]]:
            total = service.count(conference, query.text, statuses=query.statuses,
                                  created_from=query.created_from, created_to=query.created_to)
            return total, self._page(service, conference, query, 0, wanted)

        def done(result: tuple[int, list[Any]]) -> None:
            if generation != self._generation or self._fetching:
                return  # a new search or a page fetch is under way: its answer is newer
            self._swap_rows(result[0], result[1])
            if on_done is not None:
                on_done()

        self._tasks.read(work, done, self._on_failed, key=f"orders-reload-{id(self)}", owner=self)

    def _swap_rows(self, total: int, rows: list[Any]) -> None:
        self.layoutAboutToBeChanged.emit()
        new_rows = {summary.id: row for row, summary in enumerate(rows)}
        old_ids = [summary.id for summary in self._rows]
        persistent = self.persistentIndexList()
        moved = []
        for index in persistent:
            row = new_rows.get(old_ids[index.row()], -1) if 0 <= index.row() < len(old_ids) else -1
            moved.append(self.index(row, index.column()) if row >= 0 else QModelIndex())
        self._total, self._rows = total, rows
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def row_of(self, row: int) -> Any:
        return self._rows[row]

    def find_row(self, order_id: int) -> int:
        for row, summary in enumerate(self._rows):
            if summary.id == order_id:
                return row
        return -1

    def update_order(self, summary: Any) -> None:
        """Replace one row after an action (refund, cancel) without reloading the page."""
        row = self.find_row(summary.id)
        if row >= 0:
            self._rows[row] = summary
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1),
                                  [Qt.ItemDataRole.DisplayRole, SORT_ROLE, ROW_ROLE])

    @staticmethod
    def _page(service: Any, conference: int, query: OrderQuery, offset: int,
              limit: int = PAGE_SIZE) -> list[Any]:
        return list(service.search(conference, query.text, statuses=query.statuses,
                                   created_from=query.created_from, created_to=query.created_to,
                                   sort=query.sort, descending=query.descending, offset=offset,
                                   limit=limit))

    def _on_first_page(self, generation: int, result: tuple[int, list[Any]]) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        self.beginResetModel()
        self._total, self._rows = result[0], result[1]
        self.endResetModel()
        self.loaded.emit()

    def _on_failed(self, exc: BaseException) -> None:
        self._fetching = False
        self.failed.emit(exc)

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:
        return not parent.isValid() and not self._fetching and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        generation, service, conference, query = (
            self._generation, self._service, self._conference_id, self._query)
        offset = len(self._rows)
        self._tasks.read(lambda: self._page(service, conference, query, offset),
                         lambda rows: self._on_more(generation, offset, rows), self._on_failed, owner=self)

    def _on_more(self, generation: int, offset: int, rows: list[Any]) -> None:
        if generation != self._generation or offset != len(self._rows):
            return
        self._fetching = False
        if not rows:
            self._total = len(self._rows)
            return
        self.beginInsertRows(QModelIndex(), offset, offset + len(rows) - 1)
        self._rows.extend(rows)
        self.endInsertRows()

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(Column):
            return HEADERS[Column(section)]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        summary = self._rows[index.row()]
        column = Column(index.column())
        if role == ROW_ROLE:
            return summary
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display_text(summary, column)
        if role == SORT_ROLE:
            return {Column.REFERENCE: summary.reference, Column.CREATED: summary.created_at,
                    Column.NAME: summary.billing_name, Column.EMAIL: summary.billing_email,
                    Column.STATUS: summary.status, Column.TOTAL: summary.total,
                    Column.BALANCE: summary.balance}[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (Column.TOTAL, Column.BALANCE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display_text(self, summary: Any, column: Column) -> str:
        if column == Column.REFERENCE:
            return str(summary.reference)
        if column == Column.CREATED:
            return self._display.when(summary.created_at)
        if column == Column.NAME:
            return str(summary.billing_name or "Walk-up")
        if column == Column.EMAIL:
            return str(summary.billing_email or "")
        if column == Column.STATUS:
            text = status_label(summary.status)
            return f"{text} ⚠" if summary.needs_attention or summary.disputed else text
        if column == Column.TOTAL:
            return self._display.money(summary.total)
        return self._display.money(summary.balance) if summary.balance else ""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = SORT_KEYS.get(Column(column))
        if key is None:
            return
        self.set_query(replace(self._query, sort=key, descending=order == Qt.SortOrder.DescendingOrder))
