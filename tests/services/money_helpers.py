"""Build pending orders directly (Order + lines + held counters) for the payment/refund/order tests."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from boxoffice.db.engine import Database
from boxoffice.domain.models import Order, OrderLineItem, OrderStatus, Payment, PaymentMethod, PaymentStatus
from boxoffice.errors import PaymentError
from boxoffice.money import quantize
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.ports import GatewayRefund, GatewayUnavailable
from boxoffice.services.sales import order_state
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
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
    total = quantize(sum((q * p for _, _, q, p, _ in lines), Decimal(0)))
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


def checked_out(ctx: ServiceContext, s: Shop, *, tickets: int = 1, addons: int = 0, voucher: str = "") -> int:
    """A real pending order through CartService + CheckoutService; returns its id."""
    carts = CartService(ctx)
    cart = carts.open_cart(s.conference_id, s.customer_id)
    if tickets:
        carts.add_ticket(cart.id, s.ticket_type_id, tickets)
    if addons:
        carts.add_addon(cart.id, s.addon_id, addons)
    if voucher:
        carts.apply_voucher(cart.id, voucher)
    return CheckoutService(ctx).checkout(cart.id).id


def card_payment(
    db: Database, order_id: int, amount: Decimal, intent: str, *, method: PaymentMethod = PaymentMethod.STRIPE
) -> int:
    """A succeeded card payment as Stripe sync records it (that code is not ours to call here)."""
    with db.write() as session:
        order = session.get(Order, order_id)
        payment = Payment(
            order_id=order_id, method=method, status=PaymentStatus.SUCCEEDED, amount=amount,
            stripe_payment_intent_id=intent, card_brand="visa", card_last4="4242",
        )
        session.add(payment)
        session.flush()
        order_state.settle_if_fully_paid(session, order)
        return payment.id


@dataclass
class FakeGateway:
    """Stands in for Stripe behind the PaymentGateway port: records calls, answers as told."""

    status: str = "succeeded"
    fail_on_call: int | None = None  # 1-based call number that raises PaymentError
    unreachable_on_call: int | None = None  # 1-based call number that raises GatewayUnavailable
    calls: list[dict[str, object]] = field(default_factory=list)

    def refund_card(
        self, *, payment_intent_id: str, amount: Decimal, currency: str, reason: str, idempotency_key: str
    ) -> GatewayRefund:
        self.calls.append({"payment_intent_id": payment_intent_id, "amount": amount, "currency": currency,
                           "reason": reason, "idempotency_key": idempotency_key})
        if self.fail_on_call == len(self.calls):
            raise PaymentError("Your card was declined.")
        if self.unreachable_on_call == len(self.calls):
            raise GatewayUnavailable("Stripe did not answer in time.")
        return GatewayRefund(f"re_{len(self.calls)}", self.status, amount)
