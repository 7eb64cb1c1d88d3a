"""The append-only audit trail: who did what, to what, with which amounts, at which desk.

``record`` is called by the services inside the transaction of the change it records, so an
action and its audit row commit or roll back together. ``AuditService`` lets leads and admins
filter the log and export it as CSV.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import AuditEntry
from boxoffice.errors import InvalidInput, UserError
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import SYSTEM, Actor, Permission, authorize, current_actor


class ExportFailed(UserError):
    """An export file could not be written (folder missing, read-only, disk full)."""


# Actions (the ``action`` column). Keep names stable: exports and filters use them.
REFUND = "refund"
COMP = "comp"
MANUAL_PAYMENT = "manual_payment"
CANCEL_ORDER = "cancel_order"
CANCEL_UNITS = "cancel_units"
ADMIT_OVERSOLD = "admit_oversold"
CREDIT_ISSUE = "credit_issue"
CREDIT_EXPIRE = "credit_expire"
CREDIT_APPLY = "credit_apply"
VOID_PAYMENT = "void_payment"
PRICE_CHANGE = "price_change"
STOCK_CHANGE = "stock_change"
CATALOG_CHANGE = "catalog_change"
VOUCHER_CHANGE = "voucher_change"
STAFF_CHANGE = "staff_change"
SETTINGS_CHANGE = "settings_change"
STRIPE_KEY_CHANGE = "stripe_key_change"
OVERRIDE = "override"
SIGN_IN_FAILED = "sign_in_failed"
ACCOUNT_LOCKED = "account_locked"
SHIFT_OPEN = "shift_open"
SHIFT_CLOSE = "shift_close"
CONFERENCE_IMPORT = "conference_import"

ACTIONS = (
    REFUND, COMP, MANUAL_PAYMENT, CANCEL_ORDER, CANCEL_UNITS, ADMIT_OVERSOLD, CREDIT_ISSUE, CREDIT_EXPIRE, CREDIT_APPLY, VOID_PAYMENT,
    PRICE_CHANGE, STOCK_CHANGE, CATALOG_CHANGE, VOUCHER_CHANGE, STAFF_CHANGE, SETTINGS_CHANGE,
    STRIPE_KEY_CHANGE, OVERRIDE, SIGN_IN_FAILED, ACCOUNT_LOCKED, SHIFT_OPEN, SHIFT_CLOSE, CONFERENCE_IMPORT,
)


def record(
    session: Session,
    ctx: ServiceContext,
    action: str,
    *,
    target_type: str = "",
    target_id: int | None = None,
    target_label: str = "",
    amount_before: Decimal | None = None,
    amount_after: Decimal | None = None,
    detail: Mapping[str, Any] | None = None,
    actor: Actor | None = None,
    at: datetime | None = None,
) -> None:
    """Append one audit row in ``session``'s transaction (the acting operator unless ``actor``)."""
    who = actor or current_actor() or SYSTEM
    approver = who.approver
    session.execute(
        insert(AuditEntry).values(
            at=at or ctx.clock.now(),
            desk=ctx.desk_name,
            actor_id=who.staff_id,
            actor_name=who.name,
            actor_role=who.role.value if hasattr(who.role, "value") else str(who.role),
            approver_id=approver.staff_id if approver else None,
            approver_name=approver.name if approver else "",
            action=action,
            target_type=target_type,
            target_id=target_id,
            target_label=target_label[:300],
            amount_before=amount_before,
            amount_after=amount_after,
            detail=json.dumps(dict(detail), default=str, sort_keys=True) if detail else "",
        )
    )


@dataclass(frozen=True)
class AuditView:
    id: int
    at: datetime
    desk: str
    actor_name: str
    actor_role: str
    approver_name: str
    action: str
    target_type: str
    target_id: int | None
    target_label: str
    amount_before: Decimal | None
    amount_after: Decimal | None
    detail: str


CSV_HEADER = ("id", "at_utc", "desk", "actor", "role", "approved_by", "action", "target_type", "target_id",
              "target", "amount_before", "amount_after", "detail")


class AuditService:
    """Read the audit trail (leads and admins): filter, page, export."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def search(
        self,
        *,
        actions: Iterable[str] | None = None,
        actor_name: str = "",
        text: str = "",
        at_from: datetime | None = None,
        at_to: datetime | None = None,
        desk: str = "",
        offset: int = 0,
        limit: int = 500,
    ) -> list[AuditView]:
        """Newest first. ``text`` matches the target label or detail; ``at_to`` is exclusive."""
        authorize(Permission.VIEW_AUDIT)
        if not (isinstance(limit, int) and 1 <= limit <= 100_000) or not isinstance(offset, int) or offset < 0:
            raise InvalidInput("The audit page size must be between 1 and 100,000.")
        query = self._filtered(actions, actor_name, text, at_from, at_to, desk)
        query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset(offset).limit(limit)
        with self._ctx.db.read() as session:
            return [_view(row) for row in session.scalars(query)]

    def export_csv(self, path: Path | str, **filters: Any) -> int:
        """Write the filtered log (oldest first) to ``path`` as CSV; returns the number of rows."""
        authorize(Permission.VIEW_AUDIT)
        query = self._filtered(
            filters.get("actions"), filters.get("actor_name", ""), filters.get("text", ""),
            filters.get("at_from"), filters.get("at_to"), filters.get("desk", ""),
        ).order_by(AuditEntry.at, AuditEntry.id)
        target = Path(path)
        tmp = target.with_name(target.name + ".part")
        try:
            return self._write_csv(query, target, tmp)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ExportFailed(
                f"The audit log could not be written to {target} ({exc.strerror or exc}). Choose another "
                "folder (for example your Documents folder or a USB stick) and export again."
            ) from exc

    def _write_csv(self, query: Any, target: Path, tmp: Path) -> int:
        count = 0
        with self._ctx.db.read() as session, tmp.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(CSV_HEADER)
            for e in session.scalars(query.execution_options(yield_per=1000)):
                writer.writerow([
                    e.id, e.at.isoformat(), e.desk, e.actor_name, e.actor_role, e.approver_name, e.action,
                    e.target_type, "" if e.target_id is None else e.target_id, e.target_label,
                    "" if e.amount_before is None else f"{e.amount_before:.2f}",
                    "" if e.amount_after is None else f"{e.amount_after:.2f}", e.detail,
                ])
                count += 1
        tmp.replace(target)
        return count

    def count(self, **filters: Any) -> int:
        authorize(Permission.VIEW_AUDIT)
        query = self._filtered(
            filters.get("actions"), filters.get("actor_name", ""), filters.get("text", ""),
            filters.get("at_from"), filters.get("at_to"), filters.get("desk", ""),
        )
        with self._ctx.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    @staticmethod
    def _filtered(actions: Iterable[str] | None, actor_name: str, text: str, at_from: datetime | None,
                  at_to: datetime | None, desk: str) -> Any:
        query = select(AuditEntry)
        if actions:
            wanted = list(actions)
            unknown = [a for a in wanted if a not in ACTIONS]
            if unknown:
                raise InvalidInput(f"Unknown audit action {unknown[0]!r}.")
            query = query.where(AuditEntry.action.in_(wanted))
        if actor_name.strip():
            query = query.where(
                func.lower(AuditEntry.actor_name).like(_escape(actor_name.strip().lower()) + "%", escape="\\")
            )
        if text.strip():
            pattern = "%" + _escape(text.strip().lower()) + "%"
            query = query.where(
                func.lower(AuditEntry.target_label).like(pattern, escape="\\")
                | func.lower(AuditEntry.detail).like(pattern, escape="\\")
            )
        if at_from is not None:
            query = query.where(AuditEntry.at >= at_from)
        if at_to is not None:
            query = query.where(AuditEntry.at < at_to)
        if desk.strip():
            query = query.where(AuditEntry.desk == desk.strip())
        return query


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _view(e: AuditEntry) -> AuditView:
    return AuditView(
        id=e.id, at=e.at, desk=e.desk, actor_name=e.actor_name, actor_role=e.actor_role,
        approver_name=e.approver_name, action=e.action, target_type=e.target_type, target_id=e.target_id,
        target_label=e.target_label, amount_before=e.amount_before, amount_after=e.amount_after,
        detail=e.detail,
    )
