"""The append-only audit trail: who did what, to what, with which amounts, at which desk.

``record`` is called by the services inside the transaction of the change it records, so an
action and its audit row commit or roll back together. Each row carries a hash chained to the row
before it (``domain/audit_chain.py``), keyed with a key derived from the PIN key (``pepper.py``), so
a row appended by hand with a recomputed hash is found; on PostgreSQL the writers of several desks
take turns on a transaction-scoped advisory lock so the chain stays one line. ``verify_chain`` walks it.
``AuditService`` lets leads and admins filter the log and export it as CSV.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from boxoffice.domain.audit_chain import (
    FIELDS,
    GENESIS,
    ChainBreak,
    ChainReport,
    chain_key,
    row_hash,
    verify_rows,
)
from boxoffice.domain.models import AuditEntry
from boxoffice.errors import ConfigError, InvalidInput, UserError
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit_anchor
from boxoffice.services.staff.access import SYSTEM, Actor, Permission, authorize, current_actor
from boxoffice.services.staff.pepper import PEPPER_ENV, load_pepper, pepper_id


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
STRIPE_API_BASE_CHANGE = "stripe_api_base_change"   # the newest one is the Stripe API address in force
OVERRIDE = "override"
SIGN_IN_FAILED = "sign_in_failed"
ACCOUNT_LOCKED = "account_locked"
SHIFT_OPEN = "shift_open"
SHIFT_CLOSE = "shift_close"
CONFERENCE_IMPORT = "conference_import"
REGISTRATIONS_IMPORT = "registrations_import"
ATTENDEE_RENAME = "attendee_rename"
ATTENDEE_CHANGE = "attendee_change"      # an attendee's note or add-on assignment
CHECKIN_UNDO = "checkin_undo"
BADGE_REPRINT = "badge_reprint"
BADGE_TEMPLATE_CHANGE = "badge_template_change"
DRAWER_OPEN = "drawer_open"
AUDIT_END_MISSING = "audit_end_missing"   # the last row this desk wrote to its file was gone (rows cut off)

ACTIONS = (
    REFUND, COMP, MANUAL_PAYMENT, CANCEL_ORDER, CANCEL_UNITS, ADMIT_OVERSOLD, CREDIT_ISSUE, CREDIT_EXPIRE, CREDIT_APPLY, VOID_PAYMENT,
    PRICE_CHANGE, STOCK_CHANGE, CATALOG_CHANGE, VOUCHER_CHANGE, STAFF_CHANGE, SETTINGS_CHANGE,
    STRIPE_KEY_CHANGE, STRIPE_API_BASE_CHANGE, OVERRIDE, SIGN_IN_FAILED, ACCOUNT_LOCKED, SHIFT_OPEN, SHIFT_CLOSE,
    CONFERENCE_IMPORT, REGISTRATIONS_IMPORT, ATTENDEE_RENAME, ATTENDEE_CHANGE, CHECKIN_UNDO,
    BADGE_REPRINT, BADGE_TEMPLATE_CHANGE, DRAWER_OPEN, AUDIT_END_MISSING,
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
    values: dict[str, Any] = {
        "at": at or ctx.clock.now(),
        "desk": ctx.desk_name,
        "actor_id": who.staff_id,
        "actor_name": who.name,
        "actor_role": who.role.value if hasattr(who.role, "value") else str(who.role),
        "approver_id": approver.staff_id if approver else None,
        "approver_name": approver.name if approver else "",
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "target_label": target_label[:300],
        "amount_before": amount_before,
        "amount_after": amount_after,
        "detail": json.dumps(dict(detail), default=str, sort_keys=True) if detail else "",
    }
    prev, head_key_id = chain_head(session)
    key_id, key = _desk_chain_key(head_key_id)
    missing = audit_anchor.missing_end(session, key)
    if missing is not None:
        # Rows were cut off the end of the log since this desk last wrote to it. Say so in the chain
        # itself before the new row, so the next rows do not hide the cut.
        prev = _append(session, {**values, "actor_id": None, "actor_name": SYSTEM.name,
                                 "actor_role": SYSTEM.role.value, "approver_id": None, "approver_name": "",
                                 "action": AUDIT_END_MISSING, "target_type": "audit_log",
                                 "target_id": missing.row_id, "target_label": f"audit row {missing.row_id}",
                                 "amount_before": None, "amount_after": None,
                                 "detail": json.dumps({"missing_row": missing.row_id,
                                                       "missing_hash": missing.chain_hash}, sort_keys=True)},
                       prev, key_id, key)
    _append(session, values, prev, key_id, key)


def _append(session: Session, values: dict[str, Any], prev: str, key_id: str, key: bytes) -> str:
    """Insert one chained row after ``prev``; its hash (the next row's ``prev``)."""
    values = {**values, "chain_key_id": key_id, "prev_hash": prev, "chain_hash": row_hash(prev, values, key)}
    row_id = session.execute(insert(AuditEntry).values(**values).returning(AuditEntry.id)).scalar_one()
    audit_anchor.note_row(session, row_id, values["chain_hash"], key)
    return str(values["chain_hash"])


# pg_advisory_xact_lock key of the audit chain ("BoxAudit" as a signed 64-bit integer).
CHAIN_LOCK_KEY = int.from_bytes(b"BoxAudit", "big", signed=True)


def chain_head(session: Session) -> tuple[str, str]:
    """The hash and key id of the newest row, taking the chain's lock first on PostgreSQL (held
    until commit).

    On SQLite the write transaction (BEGIN IMMEDIATE) already holds the only write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK_KEY})
    last = session.execute(
        select(AuditEntry.chain_hash, AuditEntry.chain_key_id).order_by(AuditEntry.id.desc()).limit(1)
    ).first()
    return (last.chain_hash or GENESIS, last.chain_key_id or "") if last is not None else (GENESIS, "")


def _desk_chain_key(head_key_id: str) -> tuple[str, bytes]:
    """This desk's chain key and its id; refused when the log is keyed with another PIN key.

    A desk without the PIN key of the desks before it would write rows that look forged, so it
    writes none (it cannot sign anyone in either). The first keyed row may make the PIN key.
    """
    pepper = load_pepper(create=not head_key_id)
    if pepper is None or (head_key_id and pepper_id(pepper) != head_key_id):
        raise ConfigError(
            "This desk does not have the PIN key the audit log is kept with, so it cannot record "
            f"anything. Set {PEPPER_ENV} to the key of the other desks (or copy the keychain entry "
            "boxoffice-staff / pin-pepper), then start again.")
    return pepper_id(pepper), chain_key(pepper)


def verify_chain(session: Session) -> ChainReport:
    """Recompute every row's hash in id order; the report names the first row that does not hold.

    Keyed rows need this desk's PIN key; without it only their place in the chain is checked
    (``unchecked_reason`` says so).
    """
    pepper = load_pepper(create=False)
    keys = {pepper_id(pepper): chain_key(pepper)} if pepper is not None else {}
    columns = [AuditEntry.id, AuditEntry.prev_hash, AuditEntry.chain_hash, AuditEntry.chain_key_id,
               *(getattr(AuditEntry, name) for name in FIELDS)]
    result = session.execute(select(*columns).order_by(AuditEntry.id).execution_options(yield_per=2000))
    report = verify_rows((dict(row._mapping) for row in result), keys)
    if report.first_break is None:
        report = _check_anchor(session, report, chain_key(pepper) if pepper is not None else None)
    return report


def _check_anchor(session: Session, report: ChainReport, key: bytes | None) -> ChainReport:
    """An intact chain must still hold the last row this desk wrote to this SQLite file (rows cut off
    the end of the log, or all of them, leave a chain that holds)."""
    database = audit_anchor.database_file(session)
    if database is None:
        return report
    anchor, untrusted = audit_anchor.read(database, key)
    if untrusted:
        return replace(report, first_break=ChainBreak(0, None, "", f"{untrusted}, so rows cut off the end of "
                                                                   "the log could be missed"))
    if anchor is None:
        return report
    stored = audit_anchor.stored_hash(session, anchor.row_id)
    if stored == anchor.chain_hash:
        return report
    newest = session.scalar(select(func.max(AuditEntry.id)))
    left = f"the log now ends at row {newest}" if newest is not None else "the log is empty"
    return replace(report, first_break=ChainBreak(
        anchor.row_id, None, "the last row this desk wrote",
        f"this desk wrote it to this file, but it is {'gone' if stored is None else 'not as written'} and "
        f"{left}: rows were deleted from the end of the log, or the file was put back from an older "
        "backup. The next row this desk writes records the cut in the log itself"))


def unchecked_reason(report: ChainReport) -> str:
    """Why some keyed rows of ``report`` could not be checked, and how to let them be ("" when all were)."""
    if not report.unchecked:
        return ""
    pepper = load_pepper(create=False)
    if pepper is None:
        why = "this desk has no PIN key"
    else:
        why = (f"this desk's PIN key (id {pepper_id(pepper)}) is not the one they were written with "
               f"(id {report.key_id})")
    return (f"{report.unchecked} keyed audit row(s) cannot be checked without the PIN key ({why}); only "
            f"their place in the chain was checked. Set {PEPPER_ENV} to the PIN key of the desks that "
            "wrote them (or copy the keychain entry boxoffice-staff / pin-pepper from one of them) and "
            "check again.")


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
