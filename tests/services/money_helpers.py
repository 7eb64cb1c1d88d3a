"""Build pending orders directly (Order + lines + held counters) for the payment/refund/order tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from boxoffice.db.engine import Database
from boxoffice.domain.models import Order, OrderLineItem, OrderStatus
from boxoffice.money import quantize
from boxoffice.services import order_state
from tests import factories

_refs = itertools.count(1)


@dataclass(frozen=True)
class Shop:
    """A conference with one ticket type, an add-on, a customer and an operator."""

    conference_id: int
    ticket_type_id: int
    addon_id: int
    customer_id: int
    staff_id: int


def shop(db: Database, *, price: Decimal = Decimal("100.00"), total_quantity: int = 0) -> Shop:
    conf = factories.conference(db)
    ticket = factories.ticket_type(db, conf.id, price=price, total_quantity=total_quantity)
    addon = factories.addon(db, conf.id)
    customer = factories.customer(db)
    staff = factories.staff(db)
    return Shop(conf.id, ticket.id, addon.id, customer.id, staff.id)


def pending_order(
    db: Database,
    s: Shop,
    now: datetime,
    *,
    tickets: int = 1,
    addons: int = 0,
    unit_price: Decimal = Decimal("100.00"),
    addon_price: Decimal = Decimal("25.00"),
    customer_id: int | None = None,
    billing_name: str = "Ada Lovelace",
    billing_email: str = "ada@example.org",
    billing_company: str = "",
    reference: str | None = None,
    hold_minutes: int = 15,
    created_at: datetime | None = None,
) -> int:
    """A pending order with a live hold, its units added to the held counters; returns its id."""
    lines: list[tuple[int | None, int | None, int, Decimal, str]] = []
    if tickets:
        lines.append((s.ticket_type_id, None, tickets, unit_price, "Individual"))
    if addons:
        lines.append((None, s.addon_id, addons, addon_price, "T-Shirt"))
    total = quantize(sum((q * p for _, _, q, p, _ in lines), Decimal("0")))
    with db.write() as session:
        order = Order(
            conference_id=s.conference_id,
            customer_id=customer_id or s.customer_id,
            status=OrderStatus.PENDING,
            subtotal=total,
            discount_amount=Decimal("0.00"),
            total=total,
            billing_name=billing_name,
            billing_email=billing_email,
            billing_company=billing_company,
            reference=reference or f"ORD-T{next(_refs):07d}",
            hold_expires_at=now + timedelta(minutes=hold_minutes),
            created_at=created_at or now,
        )
        session.add(order)
        session.flush()
        for tt, ad, qty, price, name in lines:
            session.add(
                OrderLineItem(
                    order_id=order.id, description=name, quantity=qty, unit_price=price,
                    line_total=quantize(qty * price), ticket_type_id=tt, addon_id=ad,
                )
            )
        session.flush()
        order_state.apply_counter_delta(
            session, s.conference_id, [(tt, ad, qty) for tt, ad, qty, _, _ in lines], "held", +1
        )
        return order.id


def counters_consistent(db: Database) -> bool:
    with db.read() as session:
        return order_state.recount(session) == []
