"""Orders as a lazily fetched table: pages of ``OrderService.search`` loaded off the GUI thread.

The model never holds a session: it keeps the ``OrderSummary`` rows fetched so far and the total ``count``.
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

from PySide6.QtCore import QModelIndex, QObject, Qt

from boxoffice.ui.formatting import Display, status_label
from boxoffice.ui.models.rows_model import ROW_ROLE, SORT_ROLE, PagedRowsModel
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


class OrdersModel(PagedRowsModel[OrderQuery]):
    HEADERS = tuple(HEADERS[column] for column in Column)
    RIGHT_ALIGNED = frozenset({Column.TOTAL, Column.BALANCE})
    PAGE_SIZE = PAGE_SIZE
    TASK_KEY = "orders-model"

    def __init__(self, orders_service: Any, tasks: TaskRunner, conference_id: int, display: Display,
                 parent: QObject | None = None) -> None:
        super().__init__(tasks, OrderQuery(), parent)
        self._service, self._conference_id, self._display = orders_service, conference_id, display

    # ------------------------------------------------------------------ queries

    def reload(self, on_done: Callable[[], None] | None = None) -> None:
        """Re-read the rows shown so far for the same query and swap them in place.

        Unlike ``set_query`` this keeps the view's selection and current row on the same orders
        (persistent indexes follow the order ids), so another desk's sale can appear while the
        operator works. A newer query started meanwhile wins; the reload is then dropped.
        """
        generation, query = self._generation, self._query
        wanted = min(max(len(self._rows), PAGE_SIZE), MAX_RELOAD_ROWS)

        def work() -> tuple[int, list[Any]]:
            return self._count(query), self._page(query, 0, wanted)

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
        self._total, self._rows = total, tuple(rows)
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def find_row(self, order_id: int) -> int:
        for row, summary in enumerate(self._rows):
            if summary.id == order_id:
                return row
        return -1

    def update_order(self, summary: Any) -> None:
        """Replace one row after an action (refund, cancel) without reloading the page."""
        row = self.find_row(summary.id)
        if row >= 0:
            self._rows = (*self._rows[:row], summary, *self._rows[row + 1:])
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1),
                                  [Qt.ItemDataRole.DisplayRole, SORT_ROLE, ROW_ROLE])

    def _count(self, query: OrderQuery) -> int:
        count: int = self._service.count(self._conference_id, query.text, statuses=query.statuses,
                                         created_from=query.created_from, created_to=query.created_to)
        return count

    def _page(self, query: OrderQuery, offset: int, limit: int) -> list[Any]:
        return list(self._service.search(self._conference_id, query.text, statuses=query.statuses,
                                         created_from=query.created_from, created_to=query.created_to,
                                         sort=query.sort, descending=query.descending, offset=offset,
                                         limit=limit))

    # ------------------------------------------------------------------ Qt model API

    def display(self, summary: Any, column: int) -> Any:
        return self._display_text(summary, Column(column))

    def sort_key(self, summary: Any, column: int) -> Any:
        return (summary.reference, summary.created_at, summary.billing_name, summary.billing_email,
                summary.status, summary.total, summary.balance)[Column(column)]

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
