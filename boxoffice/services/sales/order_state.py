"""Order status transitions, and the sold/held inventory counters that move with them.

Every change of an order's status or hold goes through ``transition`` so that the per-item
counters (``sold_quantity``/``held_quantity`` on ticket types and add-ons, ``tickets_sold``/
``tickets_held`` on the conference) change in the same transaction. ``recount`` recomputes them
from the orders for ``boxoffice db check`` and the tests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, cast

from sqlalchemy import ColumnElement, CursorResult, Update, and_, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from boxoffice.db.base import Base
from boxoffice.domain.models import (
    SETTLED_STATUSES,
    AddOn,
    AttendeeStatus,
    Conference,
    Credit,
    CreditStatus,
    Order,
    OrderLineItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    TicketType,
    Voucher,
)
from boxoffice.errors import OrderStateError
from boxoffice.money import ZERO
from boxoffice.services.checkin import roster
from boxoffice.services.sales.order_views import OVERSOLD_MARK

log = logging.getLogger(__name__)

Bucket = Literal["sold", "held"] | None

def bucket(status: OrderStatus, hold_expires_at: datetime | None) -> Bucket:
    """Which counter an order's lines sit in: settled → sold; pending with a hold → held."""
    if status in SETTLED_STATUSES:
        return "sold"
    if status == OrderStatus.PENDING and hold_expires_at is not None:
        return "held"
    return None


# The units of a line still in the order: those a lead cancelled (DEC-10) left the counters.
LIVE_UNITS = OrderLineItem.quantity - OrderLineItem.cancelled_quantity


def _line_quantities(session: Session, order_id: int) -> list[tuple[int | None, int | None, int]]:
    rows = session.execute(
        select(OrderLineItem.ticket_type_id, OrderLineItem.addon_id, LIVE_UNITS).where(
            OrderLineItem.order_id == order_id
        )
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _counter_update(model: type[Base], column: str) -> Update:
    table = model.__table__
    return update(table).where(table.c.id == bindparam("item_id")).values(
        {column: table.c[column] + bindparam("delta")}
    )


# Prebuilt Core statements run on the session's connection: the ORM bulk-update path costs ~1 ms each.
_COUNTER_UPDATES = {
    (kind, target): _counter_update(model, f"{target}_quantity" if model is not Conference else f"tickets_{target}")
    for kind, model in (("ticket", TicketType), ("addon", AddOn), ("conference", Conference))
    for target in ("sold", "held")
}


def apply_counter_delta(
    session: Session,
    conference_id: int,
    lines: list[tuple[int | None, int | None, int]],
    target: Literal["sold", "held"],
    sign: int,
) -> None:
    """Add ``sign * quantity`` of each line to the ``target`` counter (Core UPDATEs, no ORM flush)."""
    tickets = 0
    per_kind: dict[str, list[dict[str, int]]] = {"ticket": [], "addon": []}
    for ticket_type_id, addon_id, quantity in lines:
        if quantity == 0:
            continue
        delta = sign * quantity
        if addon_id is not None:
            per_kind["addon"].append({"item_id": addon_id, "delta": delta})
        else:
            tickets += delta  # CAP-1: a line without add-on is a ticket line, even if its type was deleted
            if ticket_type_id is not None:
                per_kind["ticket"].append({"item_id": ticket_type_id, "delta": delta})
    connection = session.connection()
    # Lock order on PostgreSQL: conference row first (as checkout's FOR UPDATE does), then items by id,
    # so a payment and a checkout never wait on each other in a cycle (deadlock).
    if tickets:
        connection.execute(_COUNTER_UPDATES[("conference", target)], {"item_id": conference_id, "delta": tickets})
    for kind, params in per_kind.items():
        if params:
            connection.execute(_COUNTER_UPDATES[(kind, target)], sorted(params, key=lambda p: p["item_id"]))


def transition(
    session: Session,
    order: Order,
    new_status: OrderStatus,
    *,
    hold_expires_at: datetime | None | Literal["keep"] = "keep",
) -> None:
    """Set an order's status (and hold), moving its units between the counters as needed."""
    old = bucket(order.status, order.hold_expires_at)
    new_hold = order.hold_expires_at if hold_expires_at == "keep" else hold_expires_at
    new = bucket(new_status, new_hold)
    if old != new:
        lines = _line_quantities(session, order.id)
        if old is not None:
            apply_counter_delta(session, order.conference_id, lines, old, -1)
        if new is not None:
            apply_counter_delta(session, order.conference_id, lines, new, +1)
    order.status = new_status
    order.hold_expires_at = new_hold
    if new_status in (OrderStatus.REFUNDED, OrderStatus.CANCELLED):
        roster.set_status(session, order.id, AttendeeStatus.VOID)


# --------------------------------------------------------------------------- lapsed holds (DEC-14)

OVERSOLD_NOTE = (
    f"{OVERSOLD_MARK} Card money came in after this order's hold lapsed and its stock was "
    "sold meanwhile. Admit anyway or refund it."
)


def _lapsed_units(session: Session, conference_id: int, now: datetime) -> dict[tuple[str, int], int]:
    """Units per item (and ``("venue", 0)`` for ticket units) in pending orders whose hold lapsed."""
    rows = session.execute(
        select(OrderLineItem.ticket_type_id, OrderLineItem.addon_id, func.sum(OrderLineItem.quantity))
        .join(Order, Order.id == OrderLineItem.order_id)
        .where(
            Order.conference_id == conference_id,
            Order.status == OrderStatus.PENDING,
            Order.hold_expires_at.is_not(None),
            Order.hold_expires_at <= now,
        )
        .group_by(OrderLineItem.ticket_type_id, OrderLineItem.addon_id)
    ).all()
    units: dict[tuple[str, int], int] = {}
    for ticket_id, addon_id, quantity in rows:
        quantity = int(quantity or 0)
        if addon_id is not None:
            units[("addon", addon_id)] = units.get(("addon", addon_id), 0) + quantity
        else:
            units[("venue", 0)] = units.get(("venue", 0), 0) + quantity
            if ticket_id is not None:
                units[("ticket", ticket_id)] = units.get(("ticket", ticket_id), 0) + quantity
    return units


def retake_lapsed_hold(session: Session, order: Order, now: datetime) -> str:
    """DEC-14: before money is taken on a pending order whose hold lapsed (its stock was given back),
    take the stock back under the stock lock and renew the hold. Returns "" when the order's stock is
    there (or its hold has not lapsed), else what is missing; nothing is changed then."""
    if order.status != OrderStatus.PENDING or order.hold_expires_at is None or order.hold_expires_at > now:
        return ""
    conference = session.scalar(select(Conference).where(Conference.id == order.conference_id).with_for_update())
    assert conference is not None
    lines = _line_quantities(session, order.id)
    tickets = sorted({t for t, a, _ in lines if a is None and t is not None})
    addons = sorted({a for _, a, _ in lines if a is not None})
    items: dict[tuple[str, int], Any] = {}
    if tickets:  # the lock order of every counter change: conference, then items by id
        items.update({("ticket", t.id): t for t in session.scalars(
            select(TicketType).where(TicketType.id.in_(tickets)).order_by(TicketType.id).with_for_update())})
    if addons:
        items.update({("addon", a.id): a for a in session.scalars(
            select(AddOn).where(AddOn.id.in_(addons)).order_by(AddOn.id).with_for_update())})
    lapsed = _lapsed_units(session, order.conference_id, now)  # this order's own units among them
    wanted: dict[tuple[str, int], int] = {}
    for ticket_id, addon_id, quantity in lines:
        key = ("addon", addon_id) if addon_id is not None else ("ticket", ticket_id or 0)
        wanted[key] = wanted.get(key, 0) + quantity
    problems = []
    for key, quantity in sorted(wanted.items()):
        item = items.get(key)
        if item is None or not item.total_quantity:
            continue  # unlimited, or a ticket type deleted since
        left = item.total_quantity - item.sold_quantity - item.held_quantity + lapsed.get(key, 0)
        if left < quantity:
            problems.append(f"{max(left, 0)} {item.name} left (the order needs {quantity})")
    units = sum(q for (kind, _), q in wanted.items() if kind == "ticket")
    if units and conference.total_capacity:
        left = conference.total_capacity - conference.tickets_sold - conference.tickets_held + lapsed.get(("venue", 0), 0)
        if left < units:
            problems.append(f"{max(left, 0)} places left at the venue (the order needs {units})")
    if problems:
        return (f"The hold on order {order.reference} lapsed and its stock was sold meanwhile: "
                + "; ".join(problems) + ".")
    order.hold_expires_at = now + timedelta(minutes=conference.hold_minutes or 15)
    log.info("order %s: lapsed hold taken back until %s", order.reference, order.hold_expires_at)
    return ""


# --------------------------------------------------------------------------- paid so far


def paid_so_far(session: Session, order_id: int) -> Decimal:
    """Σ amount of the order's succeeded payments, whatever their method."""
    value = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.order_id == order_id, Payment.status == PaymentStatus.SUCCEEDED
        )
    )
    return Decimal(str(value)).quantize(Decimal("0.01"))


def outstanding_balance(session: Session, order: Order) -> Decimal:
    return max(order.total - paid_so_far(session, order.id), ZERO)


def mark_paid(session: Session, order: Order) -> bool:
    """PAY-6: pending → paid, hold cleared, the order-paid effect fired once.

    Returns True on the transition, False when the order was already paid (no second effect).
    """
    if order.status == OrderStatus.PAID:
        return False
    if order.status != OrderStatus.PENDING:
        raise OrderStateError(f"Order {order.reference} is {order.status.value}; it cannot be marked paid.")
    transition(session, order, OrderStatus.PAID, hold_expires_at=None)
    session.flush()
    roster.ensure_attendees(session, order)
    log.info("order %s paid", order.reference)
    return True


def settle_if_fully_paid(session: Session, order: Order) -> bool:
    """Mark a pending order paid when paid so far reaches its total (PAY-3, CRD-4)."""
    if order.status == OrderStatus.PENDING and paid_so_far(session, order.id) >= order.total:
        return mark_paid(session, order)
    return False


# --------------------------------------------------------------------------- cancel


@dataclass(frozen=True)
class CancelResult:
    order_id: int
    reference: str
    credits_restored: Decimal
    voucher_released: bool


def release_voucher_use(session: Session, conference_id: int, code: str) -> bool:
    """VCH-12: one use of the voucher with that code in that conference goes back, never below 0."""
    if not code:
        return False
    # An UPDATE runs through a cursor; Session.execute() is annotated with the general Result.
    result = cast("CursorResult[Any]", session.execute(
        update(Voucher)
        .where(
            Voucher.conference_id == conference_id,
            func.upper(Voucher.code) == code.upper(),
            Voucher.times_used > 0,
        )
        .values(times_used=Voucher.times_used - 1)
    ))
    return bool(result.rowcount)


def non_credit_money_received(session: Session, order_id: int) -> Decimal:
    value = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.order_id == order_id,
            Payment.status == PaymentStatus.SUCCEEDED,
            Payment.method.not_in([PaymentMethod.CREDIT, PaymentMethod.COMP]),
        )
    )
    return Decimal(str(value)).quantize(Decimal("0.01"))


def card_payment_in_flight(session: Session, order_id: int) -> bool:
    return (
        session.scalar(
            select(func.count(Payment.id)).where(
                Payment.order_id == order_id,
                Payment.method.in_([PaymentMethod.STRIPE, PaymentMethod.TERMINAL]),
                Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.PROCESSING]),
            )
        )
        or 0
    ) > 0


def _restore_credits(session: Session, order: Order) -> Decimal:
    """ORD-4 with the ORD-5 fix: each credit payment gives back exactly what it drew on its credit."""
    restored = ZERO
    credit_payments = session.scalars(
        select(Payment)
        .where(
            Payment.order_id == order.id,
            Payment.method == PaymentMethod.CREDIT,
            Payment.status == PaymentStatus.SUCCEEDED,
        )
        .order_by(Payment.id)
    ).all()
    for payment in credit_payments:
        payment.status = PaymentStatus.REFUNDED
        if payment.credit_id is None:
            continue
        credit = session.get(Credit, payment.credit_id, with_for_update=True)
        if credit is None:
            continue
        give_back = min(payment.amount, credit.amount - credit.remaining_amount)
        if give_back > 0:
            credit.remaining_amount += give_back
            restored += give_back
            if credit.status == CreditStatus.APPLIED:
                credit.status = CreditStatus.AVAILABLE
            if credit.applied_to_order_id == order.id:
                credit.applied_to_order_id = None
    return restored


def cancel_order(session: Session, order: Order, *, sweeping: bool = False) -> CancelResult:
    """ORD-1 with the fixes of ORD-3/4/5: refuse while money is in; restore each credit exactly."""
    if order.status != OrderStatus.PENDING:
        raise OrderStateError(
            f"Only pending orders can be cancelled; order {order.reference} is {order.status.value}."
        )
    received = non_credit_money_received(session, order.id)
    if received > 0:
        raise OrderStateError(
            f"Order {order.reference} has {received} paid in cash or card. Refund that money or take "
            "the rest of the payment before cancelling."
        )
    if card_payment_in_flight(session, order.id):
        raise OrderStateError(
            f"A card payment for order {order.reference} is still in progress. Cancel it on the "
            "payment screen first."
        )
    restored = _restore_credits(session, order)
    transition(session, order, OrderStatus.CANCELLED, hold_expires_at=None)
    released = release_voucher_use(session, order.conference_id, order.voucher_code)
    log.info("order %s cancelled%s", order.reference, " by the stale sweep" if sweeping else "")
    return CancelResult(order.id, order.reference, restored, released)


STALE_NOTE = "Hold lapsed with money received or a card payment in progress: check this order."


def sweep_stale_orders(session: Session, conference_id: int, now: datetime) -> list[CancelResult]:
    """ORD-6/8: cancel pending orders whose hold lapsed, by the full cancel procedure.

    Orders with card money in flight or cash/card received are not cancelled; they are flagged
    for staff attention instead (their hold is left, so their stock is released by CAT-1 anyway).
    The work is batched: a constant number of queries decides and moves the counters, however many
    holds lapsed while the desk was closed.
    """
    stale = session.scalars(
        select(Order)
        .where(
            Order.conference_id == conference_id,
            Order.status == OrderStatus.PENDING,
            Order.hold_expires_at.is_not(None),
            Order.hold_expires_at <= now,
        )
        .order_by(Order.id)
        .with_for_update()
    ).all()
    if not stale:
        return []
    ids = [order.id for order in stale]
    blocked = set(
        session.scalars(
            select(Payment.order_id)
            .where(
                Payment.order_id.in_(ids),
                or_(
                    and_(
                        Payment.status == PaymentStatus.SUCCEEDED,
                        Payment.method.not_in([PaymentMethod.CREDIT, PaymentMethod.COMP]),
                        Payment.amount > 0,
                    ),
                    and_(
                        Payment.method.in_([PaymentMethod.STRIPE, PaymentMethod.TERMINAL]),
                        Payment.status.in_([PaymentStatus.PENDING, PaymentStatus.PROCESSING]),
                    ),
                ),
            )
            .distinct()
        )
    )
    with_credit = set(
        session.scalars(
            select(Payment.order_id)
            .where(
                Payment.order_id.in_(ids),
                Payment.method == PaymentMethod.CREDIT,
                Payment.status == PaymentStatus.SUCCEEDED,
            )
            .distinct()
        )
    )
    cancel = [order for order in stale if order.id not in blocked]
    for order in stale:
        if order.id in blocked and order.needs_attention != STALE_NOTE:
            order.needs_attention = STALE_NOTE
    if not cancel:
        return []
    cancel_ids = [order.id for order in cancel]
    lines = [
        (r[0], r[1], r[2])
        for r in session.execute(
            select(OrderLineItem.ticket_type_id, OrderLineItem.addon_id, OrderLineItem.quantity).where(
                OrderLineItem.order_id.in_(cancel_ids)
            )
        )
    ]
    apply_counter_delta(session, conference_id, lines, "held", -1)  # every one is pending with a hold
    uses: dict[str, int] = {}
    results = []
    for order in cancel:
        restored = _restore_credits(session, order) if order.id in with_credit else ZERO
        order.status = OrderStatus.CANCELLED
        order.hold_expires_at = None
        if order.voucher_code:
            uses[order.voucher_code.upper()] = uses.get(order.voucher_code.upper(), 0) + 1
        results.append(CancelResult(order.id, order.reference, restored, bool(order.voucher_code)))
    for code, count in uses.items():
        # VCH-12 once per order, never below zero.
        session.execute(
            update(Voucher)
            .where(Voucher.conference_id == conference_id, func.upper(Voucher.code) == code)
            .values(times_used=case((Voucher.times_used > count, Voucher.times_used - count), else_=0))
        )
    log.info("stale sweep cancelled %d order(s), flagged %d", len(cancel), len(stale) - len(cancel))
    return results


# --------------------------------------------------------------------------- recount


@dataclass(frozen=True)
class CounterMismatch:
    what: str
    item_id: int
    name: str
    stored: tuple[int, int]
    recounted: tuple[int, int]

    def describe(self) -> str:
        return (
            f"{self.what} {self.item_id} ({self.name}): stored sold/held {self.stored}, "
            f"recounted {self.recounted}"
        )


def _recount_expr() -> tuple[ColumnElement[int], ColumnElement[int]]:
    sold = func.coalesce(
        func.sum(case((Order.status.in_(SETTLED_STATUSES), LIVE_UNITS), else_=0)), 0
    )
    held = func.coalesce(
        func.sum(
            case(
                (
                    and_(Order.status == OrderStatus.PENDING, Order.hold_expires_at.is_not(None)),
                    LIVE_UNITS,
                ),
                else_=0,
            )
        ),
        0,
    )
    return sold, held


def recount(session: Session, conference_id: int | None = None) -> list[CounterMismatch]:
    """Recompute every counter from the orders and list the ones that differ from what is stored."""
    sold, held = _recount_expr()
    mismatches: list[CounterMismatch] = []
    for model, fk, label in (
        (TicketType, OrderLineItem.ticket_type_id, "ticket type"),
        (AddOn, OrderLineItem.addon_id, "add-on"),
    ):
        counted = {
            row[0]: (int(row[1]), int(row[2]))
            for row in session.execute(
                select(fk, sold, held)
                .join(Order, Order.id == OrderLineItem.order_id)
                .where(fk.is_not(None))
                .group_by(fk)
            )
        }
        query = select(model.id, model.name, model.sold_quantity, model.held_quantity)
        if conference_id is not None:
            query = query.where(model.conference_id == conference_id)
        for item_id, name, s, h in session.execute(query):
            expected = counted.get(item_id, (0, 0))
            if (s, h) != expected:
                mismatches.append(CounterMismatch(label, item_id, name, (s, h), expected))
    conf_counts = {
        row[0]: (int(row[1]), int(row[2]))
        for row in session.execute(
            select(Order.conference_id, sold, held)
            .join(OrderLineItem, OrderLineItem.order_id == Order.id)
            .where(OrderLineItem.addon_id.is_(None))
            .group_by(Order.conference_id)
        )
    }
    query = select(Conference.id, Conference.name, Conference.tickets_sold, Conference.tickets_held)
    if conference_id is not None:
        query = query.where(Conference.id == conference_id)
    for conf_id, name, s, h in session.execute(query):
        expected = conf_counts.get(conf_id, (0, 0))
        if (s, h) != expected:
            mismatches.append(CounterMismatch("conference", conf_id, name, (s, h), expected))
    return mismatches


def repair_counters(session: Session) -> int:
    """Overwrite every counter with its recount; returns how many were wrong."""
    mismatches = recount(session)
    for m in mismatches:
        model = {"ticket type": TicketType, "add-on": AddOn, "conference": Conference}[m.what]
        if model is Conference:
            session.execute(
                update(Conference).where(Conference.id == m.item_id).values(
                    tickets_sold=m.recounted[0], tickets_held=m.recounted[1]
                )
            )
        else:
            session.execute(
                update(model).where(model.id == m.item_id).values(  # type: ignore[attr-defined]  # TicketType or AddOn here
                    sold_quantity=m.recounted[0], held_quantity=m.recounted[1]
                )
            )
    return len(mismatches)
