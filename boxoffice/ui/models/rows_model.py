"""Shared roles and a read-only table model over a tuple of DTO rows (reset with ``set_rows``).

``PagedRowsModel`` fills such a model lazily: pages fetched off the GUI thread through ``tasks.read``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from boxoffice.ui.tasks import TaskRunner

SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # the raw Decimal / datetime / text to sort by
ROW_ROLE = Qt.ItemDataRole.UserRole + 2   # the DTO of the row
Index = QModelIndex | QPersistentModelIndex
QueryT = TypeVar("QueryT")   # what a paged model searches for (a frozen dataclass of filters)
ROOT = QModelIndex()   # the invalid index: the parent of every row in a table


class RowsTableModel(QAbstractTableModel):
    """Subclasses give ``HEADERS``, ``display`` and ``sort_key``; optionally ``tooltip``, ``RIGHT_ALIGNED``."""

    HEADERS: ClassVar[tuple[str, ...]] = ()
    RIGHT_ALIGNED: ClassVar[frozenset[int]] = frozenset()  # money columns

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: tuple[Any, ...] = ()

    def set_rows(self, rows: Any) -> None:
        self.beginResetModel()
        self._rows = tuple(rows)
        self.endResetModel()

    def row_of(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = ROOT) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == ROW_ROLE:
            return row
        if role == SORT_ROLE:
            return self.sort_key(row, column)
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in self.RIGHT_ALIGNED:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def display(self, row: Any, column: int) -> Any:
        raise NotImplementedError

    def sort_key(self, row: Any, column: int) -> Any:
        raise NotImplementedError

    def tooltip(self, row: Any, column: int) -> Any:
        return None


class PagedRowsModel(RowsTableModel, Generic[QueryT]):
    """A ``RowsTableModel`` read a page at a time: the first page and the total count arrive together,
    ``canFetchMore``/``fetchMore`` ask for the next page when the view scrolls near the end.

    Subclasses give ``TASK_KEY``, ``_count(query)`` and ``_page(query, offset, limit)``; the last two run
    on a reader thread, so they touch only what ``__init__`` set.

    Signals: ``loaded()`` after a query (first page and count) has arrived; ``failed(exception)``.
    """

    PAGE_SIZE: ClassVar[int] = 200
    TASK_KEY: ClassVar[str] = "paged-model"
    loaded = Signal()
    failed = Signal(object)

    def __init__(self, tasks: TaskRunner, query: QueryT, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._query = query
        self._total = 0
        self._generation = 0
        self._fetching = False

    @property
    def query(self) -> QueryT:
        return self._query

    @property
    def total(self) -> int:
        return self._total

    def set_query(self, query: QueryT) -> None:
        """Start a new search; the rows are replaced when its first page arrives."""
        self._query = query
        self._generation += 1
        generation, limit = self._generation, self.PAGE_SIZE

        def work() -> tuple[int, list[Any]]:
            return self._count(query), self._page(query, 0, limit)

        self._fetching = True
        self._tasks.read(work, lambda result: self._on_first_page(generation, result), self._on_failed,
                         key=f"{self.TASK_KEY}-{id(self)}", owner=self)

    def refresh(self) -> None:
        self.set_query(self._query)

    def _count(self, query: QueryT) -> int:
        raise NotImplementedError

    def _page(self, query: QueryT, offset: int, limit: int) -> list[Any]:
        raise NotImplementedError

    def _on_first_page(self, generation: int, result: tuple[int, list[Any]]) -> None:
        if generation != self._generation:
            return
        self._fetching = False
        self.beginResetModel()
        self._total, self._rows = result[0], tuple(result[1])
        self.endResetModel()
        self.loaded.emit()

    def _on_failed(self, exc: BaseException) -> None:
        self._fetching = False
        self.failed.emit(exc)

    def canFetchMore(self, parent: Index = ROOT) -> bool:
        return not parent.isValid() and not self._fetching and len(self._rows) < self._total

    def fetchMore(self, parent: Index = ROOT) -> None:
        if not self.canFetchMore(parent):
            return
        self._fetching = True
        generation, query, offset, limit = self._generation, self._query, len(self._rows), self.PAGE_SIZE
        self._tasks.read(lambda: self._page(query, offset, limit),
                         lambda rows: self._on_more(generation, offset, rows), self._on_failed, owner=self)

    def _on_more(self, generation: int, offset: int, rows: list[Any]) -> None:
        if generation != self._generation or offset != len(self._rows):
            return
        self._fetching = False
        if rows:
            self.beginInsertRows(QModelIndex(), offset, offset + len(rows) - 1)
            self._rows = self._rows + tuple(rows)
            self.endInsertRows()
        else:
            self._total = len(self._rows)   # fewer rows than counted (they changed meanwhile): stop asking
