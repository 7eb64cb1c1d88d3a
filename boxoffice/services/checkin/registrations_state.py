"""The desk's copy of imported registrations, loaded in a few queries and compared with the source.

``fingerprints`` reads the stored fingerprint of every imported order of one conference and source
system; ``load_state`` reads those orders (all, or the few named) with their lines, web payments
and refunds, attendees and check-ins into plain dicts; ``differs`` says whether an upstream order
would change the desk's copy, so a re-sync with nothing changed writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    Attendee,
    CheckIn,
    Order,
    OrderLineItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
)
from boxoffice.services.checkin.registrations_source import WebOrder

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Catalog:
    """The conference's products by slug: (id, price, name)."""

    tickets: dict[str, tuple[int, Decimal, str]]
    addons: dict[str, tuple[int, Decimal, str]]

    def product(self, kind: str, slug: str) -> tuple[int, Decimal, str] | None:
        return (self.tickets if kind == "ticket" else self.addons).get(slug)


@dataclass
class DeskOrder:
    id: int
    reference: str
    status: OrderStatus
    hold: datetime | None
    fields: tuple[object, ...]
    fingerprint: str = ""
    lines: list[tuple[object, ...]] = field(default_factory=list)   # (id, source_id, tt, addon, qty, ...)
    paid: Decimal = ZERO
    refunded: Decimal = ZERO
    attendees: dict[tuple[int, int], tuple[object, ...]] = field(default_factory=dict)


@dataclass
class DeskState:
    orders: dict[str, DeskOrder]
    check_ins: dict[int, set[tuple[datetime, str]]]


def order_fields(billing_name: str, billing_email: str, billing_company: str, subtotal: Decimal,
                 discount: Decimal, total: Decimal, voucher: str) -> tuple[object, ...]:
    return (billing_name[:200], billing_email[:254], billing_company[:200], subtotal, discount, total, voucher[:100])


def web_fields(web: WebOrder) -> tuple[object, ...]:
    return order_fields(web.billing_name, web.billing_email, web.billing_company, web.subtotal, web.discount,
                        web.total, web.voucher_code)


def fingerprints(session: Session, conference_id: int, system: str) -> dict[str, str]:
    """Source id -> the fingerprint stored at the last import ('' before the desk stored one)."""
    return {source_id: fingerprint for source_id, fingerprint in session.execute(
        select(Order.source_id, Order.source_fingerprint)
        .where(Order.conference_id == conference_id, Order.source_system == system))}


def load_state(session: Session, conference_id: int, system: str,
               source_ids: Collection[str] | None = None) -> DeskState:
    """The desk's copy of the imported orders of ``system``: all, or those of ``source_ids``."""
    imported = (Order.conference_id == conference_id) & (Order.source_system == system)
    if source_ids is not None:
        imported &= Order.source_id.in_(sorted(source_ids))
    orders: dict[str, DeskOrder] = {}
    by_id: dict[int, DeskOrder] = {}
    for row in session.execute(select(
            Order.id, Order.source_id, Order.reference, Order.status, Order.hold_expires_at, Order.billing_name,
            Order.billing_email, Order.billing_company, Order.subtotal, Order.discount_amount, Order.total,
            Order.voucher_code, Order.source_fingerprint).where(imported)):
        values: tuple[object, ...] = tuple(row)
        desk = DeskOrder(row[0], row[2], row[3], row[4], order_fields(*values[5:12]),  # type: ignore[arg-type]
                         str(values[12]))
        orders[row[1]] = desk
        by_id[row[0]] = desk
    if not orders:
        return DeskState(orders, {})
    for line in session.execute(select(
            OrderLineItem.order_id, OrderLineItem.id, OrderLineItem.source_id, OrderLineItem.ticket_type_id,
            OrderLineItem.addon_id, OrderLineItem.quantity, OrderLineItem.unit_price, OrderLineItem.discount_amount,
            OrderLineItem.line_total, OrderLineItem.description)
            .join(Order, Order.id == OrderLineItem.order_id).where(imported).order_by(OrderLineItem.id)):
        by_id[line[0]].lines.append(tuple(line[1:]))
    for paid_id, paid in session.execute(
            select(Payment.order_id, func.sum(Payment.amount)).join(Order, Order.id == Payment.order_id)
            .where(imported, Payment.method == PaymentMethod.WEB, Payment.status == PaymentStatus.SUCCEEDED)
            .group_by(Payment.order_id)):
        by_id[paid_id].paid = Decimal(str(paid)).quantize(Decimal("0.01"))
    for refund_id, refunded in session.execute(
            select(Refund.order_id, func.sum(Refund.amount)).join(Order, Order.id == Refund.order_id)
            .where(imported, Refund.method == RefundMethod.WEB).group_by(Refund.order_id)):
        by_id[refund_id].refunded = Decimal(str(refunded)).quantize(Decimal("0.01"))
    attendee_ids: set[int] = set()
    for person in session.execute(select(
            Attendee.order_id, Attendee.order_line_id, Attendee.unit, Attendee.id, Attendee.access_code,
            Attendee.name, Attendee.email, Attendee.company, Attendee.renamed_at_desk, Attendee.source_id)
            .join(Order, Order.id == Attendee.order_id).where(imported)):
        by_id[person[0]].attendees[(person[1], person[2])] = tuple(person[3:])
        attendee_ids.add(person[3])
    check_ins: defaultdict[int, set[tuple[datetime, str]]] = defaultdict(set)
    entries = select(CheckIn.attendee_id, CheckIn.at, CheckIn.desk).where(CheckIn.conference_id == conference_id)
    if source_ids is not None:
        entries = entries.where(CheckIn.attendee_id.in_(sorted(attendee_ids)))
    for attendee_id, at, station in session.execute(entries):
        if attendee_id in attendee_ids:
            check_ins[attendee_id].add((at, station))
    return DeskState(orders, dict(check_ins))


def expected_hold(web: WebOrder) -> datetime | None:
    return web.hold_expires_at if web.status == OrderStatus.PENDING.value else None


def status_matches(web: WebOrder, desk: DeskOrder, now: datetime) -> bool:
    if web.status == desk.status.value:
        return desk.hold == expected_hold(web)
    # The desk's own sweep cancels a pending order whose hold lapsed; the web does the same later.
    lapsed = web.hold_expires_at is None or web.hold_expires_at <= now
    return web.status == OrderStatus.PENDING.value and desk.status == OrderStatus.CANCELLED and lapsed


def ticket_units(lines: list[tuple[object, ...]]) -> list[tuple[int, int]]:
    """(line id, unit) of every ticket unit of the desk's lines, in line order."""
    units: list[tuple[int, int]] = []
    for line in lines:
        line_id, _sid, _tt, addon_id, quantity = line[0], line[1], line[2], line[3], line[4]
        if addon_id is None:
            units.extend((int(line_id), unit) for unit in range(1, int(quantity) + 1))  # type: ignore[call-overload]
    return units


def differs(web: WebOrder, desk: DeskOrder, catalog: Catalog, check_ins: dict[int, set[tuple[datetime, str]]],
            now: datetime, conflicts: list[str]) -> bool:
    """True when importing ``web`` would change the desk's copy; desk-kept renames go to ``conflicts``."""
    if not status_matches(web, desk, now) or web_fields(web) != desk.fields:
        return True
    if web.paid != desk.paid or web.refunded != desk.refunded:
        return True
    desk_lines = {str(line[1]): line for line in desk.lines}
    wanted: set[str] = set()
    for wl in web.lines:
        product = catalog.product(wl.kind, wl.slug)
        line = desk_lines.get(wl.source_id)
        if line is None or product is None:
            return True
        tt, addon = (product[0], None) if wl.kind == "ticket" else (None, product[0])
        if line[2:] != (tt, addon, wl.quantity, wl.unit_price, wl.discount, wl.line_total, wl.description[:300]):
            return True
        wanted.add(wl.source_id)
    if any(line[4] for sid, line in desk_lines.items() if sid not in wanted):
        return True
    if web.status not in ("paid", "partially_refunded"):
        return False
    units = ticket_units(desk.lines)
    if len(desk.attendees) < len(units):
        return True
    for holder in web.holders:
        if holder.position > len(units):
            return True
        found = desk.attendees.get(units[holder.position - 1])
        if found is None:
            return True
        attendee_id, code, name, email, company, renamed, source_id = found
        if source_id != holder.source_id or (holder.access_code and code != holder.access_code):
            return True
        if holder.name and (name, email, company) != (holder.name, holder.email, holder.company):
            if not renamed:
                return True
            conflicts.append(f"{web.reference}: renamed at the desk to '{name}'; the web says '{holder.name}'. "
                             "Kept the desk's name.")
        have = check_ins.get(int(attendee_id), set())  # type: ignore[call-overload]
        if any((c.at, c.station[:100]) not in have for c in holder.check_ins):
            return True
    return False
