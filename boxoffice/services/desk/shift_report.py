"""The shift report: what one cash drawer shift took, by method, item and operator, and what went out.

Money in counts the shift's payments that brought money in (succeeded, or card payments later
refunded: the refund is listed on its own); failed, pending and voided payments count for
nothing, and comps are no payment: they are listed on their own (with who approved them) and
count neither in the payment totals nor as sales. Items count the order lines of the orders
*completed* in this shift (the order's last payment was taken in it), so an order paid over two
shifts is counted once; the part of an order a comp covered is taken off its lines' amounts, and
the units of wholly comped orders are shown as given free. Credits issued are
refunds as store credit in the shift plus goodwill credits issued at this desk while it was open
(the audit log's ``credit_issue`` rows).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    AuditEntry,
    CashShift,
    Order,
    OrderLineItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
    Staff,
)
from boxoffice.money import ZERO, quantize
from boxoffice.services.desk.shift_views import ShiftView, shift_currency, shift_zone
from boxoffice.services.staff import audit
from boxoffice.timeutil import to_local

MONEY_IN = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)
COMPLETED = (OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED, OrderStatus.REFUNDED)
PAYMENT_LABELS = {"cash": "Cash", "terminal": "Card (reader)", "stripe": "Card (online / phone)",
                  "manual": "Other / manual", "credit": "Store credit", "comp": "Comp"}
REFUND_LABELS = {"cash": "Cash from the drawer", "card": "Back to card", "credit": "Store credit",
                 "manual": "Other / manual"}
NOT_RECORDED = "(operator not recorded)"


@dataclass(frozen=True)
class MethodTotal:
    method: str
    label: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class ItemTotal:
    kind: str        # "ticket" or "addon"
    name: str
    units: int
    amount: Decimal  # sum of the lines' totals (after discounts), less what comps covered
    comped: int = 0  # of ``units``, those of wholly comped orders (given free)


@dataclass(frozen=True)
class OperatorTotal:
    name: str
    payments: int
    amount: Decimal
    cash: Decimal


@dataclass(frozen=True)
class RefundTotal:
    method: str
    label: str
    status: str      # "succeeded" or "pending" (pending card refunds are listed apart)
    count: int
    amount: Decimal


@dataclass(frozen=True)
class CompLine:
    order_reference: str
    amount: Decimal
    reason: str
    operator: str
    approver: str = ""   # the lead who approved it for a volunteer ("" when the operator could)


@dataclass(frozen=True)
class CreditLine:
    source: str      # "refund" (refund as store credit) or "issued" (goodwill credit)
    label: str
    amount: Decimal


@dataclass(frozen=True)
class ShiftReport:
    shift: ShiftView
    currency: str
    timezone: str
    generated_at: datetime
    payments_by_method: tuple[MethodTotal, ...]
    items: tuple[ItemTotal, ...]
    operators: tuple[OperatorTotal, ...]
    refunds: tuple[RefundTotal, ...]
    comps: tuple[CompLine, ...]
    credits: tuple[CreditLine, ...]
    orders_completed: int

    @property
    def interim(self) -> bool:
        """True while the shift is still open (the figures may still change)."""
        return self.shift.is_open

    @property
    def payments_total(self) -> Decimal:
        return quantize(sum((m.amount for m in self.payments_by_method), ZERO))

    @property
    def refunds_total(self) -> Decimal:
        return quantize(sum((r.amount for r in self.refunds), ZERO))

    @property
    def comps_total(self) -> Decimal:
        return quantize(sum((c.amount for c in self.comps), ZERO))

    @property
    def credits_total(self) -> Decimal:
        return quantize(sum((c.amount for c in self.credits), ZERO))

    @property
    def items_total(self) -> Decimal:
        return quantize(sum((i.amount for i in self.items), ZERO))


def _names(session: Session, ids: set[int | None]) -> dict[int | None, str]:
    wanted = [i for i in ids if i is not None]
    found = dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted))).all()) if wanted else {}
    return {i: found.get(i, NOT_RECORDED) if i is not None else NOT_RECORDED for i in ids}


def build_report(session: Session, shift: CashShift, view: ShiftView, now: datetime) -> ShiftReport:
    """The report of ``shift`` from its payments, refunds and the audit log (one read session)."""
    payments = list(session.execute(
        select(Payment.id, Payment.order_id, Payment.method, Payment.amount, Payment.created_by_id,
               Payment.note, Order.reference)
        .join(Order, Order.id == Payment.order_id)
        .where(Payment.shift_id == shift.id, Payment.status.in_(MONEY_IN))
        .order_by(Payment.id)
    ).all())
    refunds = list(session.execute(
        select(Refund.id, Refund.method, Refund.status, Refund.amount, Refund.credit_id, Order.reference)
        .join(Order, Order.id == Refund.order_id)
        .where(Refund.shift_id == shift.id, Refund.status.in_((RefundStatus.SUCCEEDED, RefundStatus.PENDING)))
        .order_by(Refund.id)
    ).all())
    names = _names(session, {p.created_by_id for p in payments})
    comp_orders = {p.order_id for p in payments if p.method == PaymentMethod.COMP}
    approvers = _comp_approvers(session, comp_orders)

    by_method: dict[str, list[Decimal]] = defaultdict(list)
    by_operator: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    comps: list[CompLine] = []
    for p in payments:
        if p.method == PaymentMethod.COMP:   # no money came in: listed apart, not a payment
            comps.append(CompLine(p.reference, p.amount, p.note, names[p.created_by_id],
                                  approvers.get(p.order_id, "")))
            continue
        method = p.method.value
        by_method[method].append(p.amount)
        by_operator[names[p.created_by_id]].append((method, p.amount))
    order_methods = [m.value for m in PaymentMethod]
    payments_by_method = tuple(
        MethodTotal(m, PAYMENT_LABELS.get(m, m), len(by_method[m]), quantize(sum(by_method[m], ZERO)))
        for m in sorted(by_method, key=order_methods.index)
    )
    operators = tuple(sorted(
        (OperatorTotal(name, len(rows), quantize(sum((a for _, a in rows), ZERO)),
                       quantize(sum((a for m, a in rows if m == PaymentMethod.CASH.value), ZERO)))
         for name, rows in by_operator.items()),
        key=lambda o: (-o.amount, o.name),
    ))

    grouped: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for r in refunds:
        grouped[(r.method.value, r.status.value)].append(r.amount)
    refund_order = [m.value for m in RefundMethod]
    refund_totals = tuple(
        RefundTotal(method, REFUND_LABELS.get(method, method) + (" (pending)" if status == "pending" else ""),
                    status, len(amounts), quantize(sum(amounts, ZERO)))
        for (method, status), amounts in sorted(grouped.items(), key=lambda kv: (refund_order.index(kv[0][0]),
                                                                               kv[0][1] != "succeeded"))
    )

    items, completed = _items(session, shift.id, {p.order_id for p in payments})
    credits = _credits(session, shift, view, refunds, now)
    return ShiftReport(
        shift=view, currency=shift_currency(session, shift.conference_id),
        timezone=shift_zone(session, shift.conference_id), generated_at=now,
        payments_by_method=payments_by_method, items=items, operators=operators, refunds=refund_totals,
        comps=tuple(comps), credits=credits, orders_completed=completed,
    )


def _comp_approvers(session: Session, order_ids: set[int]) -> dict[int, str]:
    """Who approved each comped order's comp (the audit log's ``comp`` rows), by order id."""
    if not order_ids:
        return {}
    rows = session.execute(
        select(AuditEntry.target_id, AuditEntry.approver_name)
        .where(AuditEntry.action == audit.COMP, AuditEntry.target_type == "order",
               AuditEntry.target_id.in_(order_ids))
        .order_by(AuditEntry.at, AuditEntry.id))
    return {target: approver for target, approver in rows if target is not None and approver}


def _items(session: Session, shift_id: int, order_ids: set[int]) -> tuple[tuple[ItemTotal, ...], int]:
    """Units and amounts of the lines of the orders whose last money-in payment is in this shift."""
    if not order_ids:
        return (), 0
    last_shift: dict[int, int | None] = {}
    comped: dict[int, Decimal] = defaultdict(lambda: ZERO)   # what comps covered, by order
    for order_id, payment_shift, method, amount in session.execute(
        select(Payment.order_id, Payment.shift_id, Payment.method, Payment.amount)
        .join(Order, Order.id == Payment.order_id)
        .where(Payment.order_id.in_(order_ids), Payment.status.in_(MONEY_IN), Order.status.in_(COMPLETED))
        .order_by(Payment.order_id, Payment.created_at, Payment.id)
    ):
        last_shift[order_id] = payment_shift
        if method == PaymentMethod.COMP:
            comped[order_id] += amount
    completed = sorted(o for o, s in last_shift.items() if s == shift_id)
    if not completed:
        return (), 0
    lines = list(session.execute(
        select(OrderLineItem.order_id, OrderLineItem.description, OrderLineItem.quantity,
               OrderLineItem.line_total, OrderLineItem.ticket_type_id)
        .where(OrderLineItem.order_id.in_(completed)).order_by(OrderLineItem.id)))
    order_totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for line in lines:
        order_totals[line.order_id] += line.line_total
    totals: dict[tuple[str, str], list[tuple[int, Decimal, int]]] = defaultdict(list)
    for line in lines:
        kind = "ticket" if line.ticket_type_id is not None else "addon"
        order_total, covered = order_totals[line.order_id], comped.get(line.order_id, ZERO)
        free = covered > 0 and covered >= order_total
        share = line.line_total if free else (
            quantize(line.line_total * covered / order_total) if covered and order_total else ZERO)
        totals[(kind, line.description)].append(
            (line.quantity, line.line_total - share, line.quantity if free else 0))
    items = tuple(
        ItemTotal(kind, name, sum(q for q, _, _ in rows), quantize(sum((a for _, a, _ in rows), ZERO)),
                  sum(f for _, _, f in rows))
        for (kind, name), rows in sorted(totals.items(), key=lambda kv: (kv[0][0] != "ticket", kv[0][1]))
    )
    return items, len(completed)


def _credits(session: Session, shift: CashShift, view: ShiftView, refunds: list[Any], now: datetime) -> tuple[CreditLine, ...]:
    lines: list[CreditLine] = []
    seen: set[int] = set()
    for r in refunds:
        if r.method == RefundMethod.CREDIT and r.status == RefundStatus.SUCCEEDED:
            lines.append(CreditLine("refund", f"Refund of order {r.reference} as store credit", r.amount))
            if r.credit_id is not None:
                seen.add(r.credit_id)
    query = select(AuditEntry).where(
        AuditEntry.action == audit.CREDIT_ISSUE, AuditEntry.desk == shift.desk_name,
        AuditEntry.at >= shift.opened_at,
    )
    if shift.closed_at is not None:
        query = query.where(AuditEntry.at <= shift.closed_at)
    for entry in session.scalars(query.order_by(AuditEntry.at, AuditEntry.id)):
        if entry.target_type == "credit" and entry.target_id is not None:
            if entry.target_id in seen:
                continue
            seen.add(entry.target_id)
        # The issue row records the credit's amount (a credit's amount never changes): no look-up per row.
        amount = entry.amount_after or entry.amount_before or ZERO
        who = entry.target_label or (f"credit #{entry.target_id}" if entry.target_id else "store credit")
        lines.append(CreditLine("issued", f"Credit issued: {who} (by {entry.actor_name})", quantize(amount)))
    return tuple(lines)


# --------------------------------------------------------------------------- CSV


def _m(amount: Decimal | None) -> str:
    return "" if amount is None else f"{amount:.2f}"


def _t(value: datetime | None, zone: str) -> str:
    return "" if value is None else to_local(value, zone).isoformat(timespec="seconds")


def csv_rows(report: ShiftReport) -> list[list[str]]:
    """The report as CSV rows: a heading block, then sections each with its own header row."""
    s, zone = report.shift, report.timezone
    rows: list[list[str]] = [
        ["Shift report" + (" (interim: shift still open)" if report.interim else "")],
        ["Desk", s.desk_name], ["Shift", str(s.id)], ["Status", s.status], ["Currency", report.currency],
        ["Opened at", _t(s.opened_at, zone)], ["Opened by", s.opened_by],
        ["Closed at", _t(s.closed_at, zone)], ["Closed by", s.closed_by],
        ["Report made at", _t(report.generated_at, zone)],
        [],
        ["Cash drawer"], ["Item", "Amount"],
        ["Opening float", _m(s.opening_float)], ["Cash in", _m(s.cash_in)], ["Cash out", _m(s.cash_out)],
        ["Expected cash", _m(s.expected)], ["Counted cash", _m(s.counted)], ["Difference", _m(s.difference)],
        [],
        ["Payments by method"], ["Method", "Count", "Amount"],
        *[[m.label, str(m.count), _m(m.amount)] for m in report.payments_by_method],
        ["Total", str(sum(m.count for m in report.payments_by_method)), _m(report.payments_total)],
        [],
        ["Sales by ticket type"], ["Kind", "Item", "Units", "Of which comped", "Amount"],
        *[["Ticket" if i.kind == "ticket" else "Add-on", i.name, str(i.units), str(i.comped), _m(i.amount)]
          for i in report.items],
        ["Total", f"{report.orders_completed} orders", str(sum(i.units for i in report.items)),
         str(sum(i.comped for i in report.items)), _m(report.items_total)],
        [],
        ["Payments by operator"], ["Operator", "Payments", "Amount", "Of which cash"],
        *[[o.name, str(o.payments), _m(o.amount), _m(o.cash)] for o in report.operators],
        [],
        ["Refunds"], ["Method", "Count", "Amount"],
        *[[r.label, str(r.count), _m(r.amount)] for r in report.refunds],
        ["Total", str(sum(r.count for r in report.refunds)), _m(report.refunds_total)],
        [],
        ["Comps (no money taken)"], ["Order", "Amount", "Reason", "Operator", "Approved by"],
        *[[c.order_reference, _m(c.amount), c.reason, c.operator, c.approver] for c in report.comps],
        ["Total", _m(report.comps_total)],
        [],
        ["Credits issued"], ["Source", "Detail", "Amount"],
        *[["Refund" if c.source == "refund" else "Issued", c.label, _m(c.amount)] for c in report.credits],
        ["Total", "", _m(report.credits_total)],
    ]
    if s.note:
        rows += [[], ["Note", s.note]]
    return rows


def write_csv(report: ShiftReport, path: Path | str) -> int:
    """Write ``report`` to ``path`` (via ``<name>.part``, then replaced); returns the rows written."""
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    rows = csv_rows(report)
    try:
        with tmp.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return len(rows)
