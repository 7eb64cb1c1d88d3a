"""Consistency checks behind ``boxoffice db check``: the SQLite file, counters, voucher usage, credit balances, audit chain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice.db.engine import Database
from boxoffice.domain.models import (
    AddOn,
    Conference,
    Credit,
    Order,
    OrderLineItem,
    OrderStatus,
    TicketType,
    Voucher,
)
from boxoffice.services.sales.order_state import recount, repair_counters

# The exit code of a check that found nothing wrong but could not check everything here: keyed
# audit rows on a machine without the PIN key.
UNCHECKED_EXIT = 2


@dataclass(frozen=True)
class Finding:
    """One inconsistency; ``repairable`` ones are fixed by ``db check --repair``. A finding that is
    not a ``mismatch`` says what could not be checked here (keyed audit rows without the PIN key)."""

    kind: str
    message: str
    repairable: bool = False
    mismatch: bool = True


def counter_findings(session: Session) -> list[Finding]:
    """Stored sold/held counters against a full recount of the orders (CAP-1, CAT-1)."""
    return [Finding("counter", m.describe(), repairable=True) for m in recount(session)]


def voucher_findings(session: Session) -> list[Finding]:
    """VCH-11..13: times_used = orders carrying the code that still count (every status but cancelled)."""
    counted = {
        (row[0], row[1]): int(row[2])
        for row in session.execute(
            select(Order.conference_id, func.upper(Order.voucher_code), func.count(Order.id))
            .where(Order.voucher_code != "", Order.status != OrderStatus.CANCELLED)
            .group_by(Order.conference_id, func.upper(Order.voucher_code))
        )
    }
    findings = []
    for voucher_id, conference_id, code, times_used, max_uses in session.execute(
        select(Voucher.id, Voucher.conference_id, Voucher.code, Voucher.times_used, Voucher.max_uses)
    ):
        expected = counted.get((conference_id, code.upper()), 0)
        if times_used != expected:
            findings.append(Finding(
                "voucher", f"voucher {voucher_id} ({code}): times_used {times_used}, but {expected} "
                "non-cancelled orders carry this code",
            ))
        if times_used > max_uses:
            findings.append(Finding("voucher", f"voucher {voucher_id} ({code}): times_used {times_used} "
                                    f"is above max_uses {max_uses}"))
    return findings


def credit_findings(session: Session) -> list[Finding]:
    """CRD-1: a credit's remaining amount is between 0 and its original amount."""
    findings = []
    for credit_id, amount, remaining in session.execute(
        select(Credit.id, Credit.amount, Credit.remaining_amount).where(
            (Credit.remaining_amount > Credit.amount) | (Credit.remaining_amount < 0)
        )
    ):
        findings.append(Finding("credit", f"credit {credit_id}: remaining {remaining} is outside 0..{amount}"))
    return findings


def audit_findings(session: Session) -> list[Finding]:
    """The audit log's hash chain holds: no row deleted, edited or forged (``boxoffice audit verify``)."""
    from boxoffice.services.staff.audit import unchecked_reason, verify_chain

    report = verify_chain(session)
    if report.first_break is not None:
        return [Finding("audit", report.first_break.describe())]
    if report.unchecked:
        return [Finding("audit", unchecked_reason(report), mismatch=False)]
    return []


def file_findings(db: Database) -> list[Finding]:
    """SQLite: every page, row and index of the file, by ``PRAGMA integrity_check`` (PostgreSQL: none)."""
    from boxoffice.db.backup import sqlite_file
    from boxoffice.db.sqlite_health import integrity_findings

    path = sqlite_file(db)
    if path is None:
        return []
    return [Finding("file", f"{path}: {problem}") for problem in integrity_findings(path)]


def stock_findings(session: Session, now: datetime | None = None) -> list[Finding]:
    """CAT-1, DEC-14: sold plus live holds never above the stock (a lapsed hold paid after its stock
    was sold again shows here), nor sold tickets above the venue's capacity."""
    now = now or datetime.now(UTC)
    lapsed: dict[tuple[str, int], int] = {}
    for ticket_id, addon_id, units in session.execute(
        select(OrderLineItem.ticket_type_id, OrderLineItem.addon_id, func.sum(OrderLineItem.quantity))
        .join(Order, Order.id == OrderLineItem.order_id)
        .where(Order.status == OrderStatus.PENDING, Order.hold_expires_at.is_not(None),
               Order.hold_expires_at <= now)
        .group_by(OrderLineItem.ticket_type_id, OrderLineItem.addon_id)
    ):
        key = ("addon", addon_id) if addon_id is not None else ("ticket", ticket_id or 0)
        lapsed[key] = lapsed.get(key, 0) + int(units or 0)
    findings = []
    for model, kind, label in ((TicketType, "ticket", "ticket type"), (AddOn, "addon", "add-on")):
        for item_id, name, total, sold, held in session.execute(
            select(model.id, model.name, model.total_quantity, model.sold_quantity, model.held_quantity)
            .where(model.total_quantity > 0)
        ):
            live = held - lapsed.get((kind, item_id), 0)
            if sold + live > total:
                findings.append(Finding(
                    "stock", f"{label} {item_id} ({name}): {sold} sold + {live} held is above its stock "
                    f"of {total} (oversold by {sold + live - total})"))
    for conf_id, name, capacity, sold in session.execute(
        select(Conference.id, Conference.name, Conference.total_capacity, Conference.tickets_sold)
        .where(Conference.total_capacity > 0, Conference.tickets_sold > Conference.total_capacity)
    ):
        findings.append(Finding("stock", f"conference {conf_id} ({name}): {sold} tickets sold is above "
                                f"the venue's capacity of {capacity}"))
    return findings


def run_checks(session: Session) -> list[Finding]:
    return (counter_findings(session) + voucher_findings(session) + credit_findings(session)
            + audit_findings(session) + stock_findings(session))


def repair(session: Session) -> int:
    """Overwrite the counters with their recount (the other findings need a person to look)."""
    return repair_counters(session)
