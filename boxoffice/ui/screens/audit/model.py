"""The audit log as a lazily fetched table: pages of ``AuditService.search``, newest first.

The first page and the total count arrive together; ``fetchMore`` asks for the next page when the
view scrolls near the end, so a log of a million rows opens with one page.

Signals: ``loaded()`` after a query has arrived; ``failed(exception)``.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject

from boxoffice.ui.formatting import Display
from boxoffice.ui.models.rows_model import PagedRowsModel
from boxoffice.ui.tasks import TaskRunner

PAGE_SIZE = 200


class Column(enum.IntEnum):
    TIME = 0
    OPERATOR = 1
    ACTION = 2
    TARGET = 3
    BEFORE = 4
    AFTER = 5
    DESK = 6
    DETAIL = 7


@dataclass(frozen=True)
class AuditQuery:
    """The filters of ``AuditService.search`` (``at_to`` exclusive)."""

    actions: tuple[str, ...] | None = None
    actor_name: str = ""
    text: str = ""
    at_from: datetime | None = None
    at_to: datetime | None = None

    def filters(self) -> dict[str, Any]:
        return asdict(self)


def action_label(action: str) -> str:
    return action.replace("_", " ").capitalize()


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value in (None, "") else str(value)


_FIRST_KEYS = ("count", "prefix", "voucher_type", "discount_value", "max_uses", "reason", "created")


def detail_text(detail: str) -> str:
    """The detail JSON as one line: ``price: 80.00 → 90.00; name: A → B``."""
    if not detail:
        return ""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return str(data)
    if set(data) >= {"before", "after"}:
        rest = {k: v for k, v in data.items() if k not in ("before", "after")}
        head = f"{_value(data['before'])} → {_value(data['after'])}"
        return "; ".join([head] + [f"{k}: {_value(v)}" for k, v in rest.items()])
    parts = []
    first = [k for k in _FIRST_KEYS if k in data]
    for key, value in [(k, data[k]) for k in first] + [(k, v) for k, v in data.items() if k not in first]:
        if isinstance(value, dict) and set(value) == {"before", "after"}:
            parts.append(f"{key.replace('_', ' ')}: {_value(value['before'])} → {_value(value['after'])}")
        elif isinstance(value, dict):
            inner = ", ".join(f"{k.replace('_', ' ')} {_value(v)}" for k, v in value.items())
            parts.append(f"{key.replace('_', ' ')}: {inner}")
        else:
            parts.append(f"{key.replace('_', ' ')}: {_value(value)}")
    return "; ".join(parts)


class AuditModel(PagedRowsModel[AuditQuery]):
    HEADERS = ("Time", "Operator", "Action", "Target", "Before", "After", "Desk", "Details")
    RIGHT_ALIGNED = frozenset({Column.BEFORE, Column.AFTER})
    PAGE_SIZE = PAGE_SIZE
    TASK_KEY = "audit-model"

    def __init__(self, audit_service: Any, tasks: TaskRunner, display: Display,
                 parent: QObject | None = None) -> None:
        super().__init__(tasks, AuditQuery(), parent)
        self._service, self._display = audit_service, display

    def _count(self, query: AuditQuery) -> int:
        count: int = self._service.count(**query.filters())
        return count

    def _page(self, query: AuditQuery, offset: int, limit: int) -> list[Any]:
        rows: list[Any] = self._service.search(**query.filters(), offset=offset, limit=limit)
        return rows

    def display(self, e: Any, column: int) -> Any:
        who = e.actor_name + (f" (approved by {e.approver_name})" if e.approver_name else "")
        target = e.target_label or (f"{e.target_type} #{e.target_id}" if e.target_id is not None else e.target_type)
        money = self._display.money
        return (self._display.when(e.at), who, action_label(e.action), target, money(e.amount_before),
                money(e.amount_after), e.desk, detail_text(e.detail)[:300])[column]

    def sort_key(self, e: Any, column: int) -> Any:
        return (e.at, e.actor_name, e.action, e.target_label, e.amount_before, e.amount_after, e.desk,
                e.detail)[column]

    def tooltip(self, e: Any, column: int) -> Any:
        if column == Column.DETAIL:
            return detail_text(e.detail) or None
        if column == Column.OPERATOR:
            return f"{e.actor_name}, {e.actor_role}" if e.actor_role else None
        if column == Column.TIME:
            return f"{e.at.isoformat()} UTC" if e.at else None
        return None
