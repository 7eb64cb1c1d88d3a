"""Test data builders that write through the ORM (catalogue set-up only; sales go through services)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from boxoffice.db.engine import Database
from boxoffice.domain.models import (
    AddOn,
    CashShift,
    Conference,
    Customer,
    Staff,
    TicketType,
    Voucher,
    VoucherType,
)


def _add(db: Database, obj: Any) -> Any:
    with db.write() as session:
        session.add(obj)
        session.flush()
        session.expunge(obj)
    return obj


def conference(db: Database, **kw: Any) -> Conference:
    kw.setdefault("name", "Python 2077")
    kw.setdefault("slug", "python-2077")
    kw.setdefault("timezone", "America/New_York")
    kw.setdefault("currency", "USD")
    return _add(db, Conference(**kw))


def ticket_type(db: Database, conference_id: int, **kw: Any) -> TicketType:
    kw.setdefault("name", "Individual")
    kw.setdefault("slug", kw["name"].lower().replace(" ", "-"))
    kw.setdefault("price", Decimal("100.00"))
    return _add(db, TicketType(conference_id=conference_id, **kw))


def addon(db: Database, conference_id: int, *, requires: list[int] = (), **kw: Any) -> AddOn:  # type: ignore[assignment]
    kw.setdefault("name", "T-Shirt")
    kw.setdefault("slug", kw["name"].lower().replace(" ", "-"))
    kw.setdefault("price", Decimal("25.00"))
    with db.write() as session:
        obj = AddOn(conference_id=conference_id, **kw)
        obj.requires_ticket_types = [session.get(TicketType, i) for i in requires]  # type: ignore[misc]
        session.add(obj)
        session.flush()
        session.expunge_all()
    return obj


def voucher(
    db: Database, conference_id: int, *, ticket_types: list[int] = (), addons: list[int] = (),  # type: ignore[assignment]
    **kw: Any,
) -> Voucher:
    kw.setdefault("code", "SPRING")
    kw.setdefault("voucher_type", VoucherType.PERCENTAGE)
    kw.setdefault("discount_value", Decimal("25.00"))
    kw.setdefault("max_uses", 10)
    kw["code"] = kw["code"].upper()
    with db.write() as session:
        obj = Voucher(conference_id=conference_id, **kw)
        obj.applicable_ticket_types = [session.get(TicketType, i) for i in ticket_types]  # type: ignore[misc]
        obj.applicable_addons = [session.get(AddOn, i) for i in addons]  # type: ignore[misc]
        session.add(obj)
        session.flush()
        session.expunge_all()
    return obj


def customer(db: Database, **kw: Any) -> Customer:
    kw.setdefault("name", "Ada Lovelace")
    kw.setdefault("email", "ada@example.org")
    return _add(db, Customer(**kw))


def staff(db: Database, name: str = "Grace") -> Staff:
    return _add(db, Staff(name=name))


def open_shift(db: Database, desk_name: str = "Desk 1", opening_float: Decimal = Decimal("100.00"),
               conference_id: int | None = None) -> CashShift:
    """An open cash drawer shift at ``desk_name`` (cash sales and refunds need one)."""
    return _add(db, CashShift(desk_name=desk_name, opening_float=opening_float, status="open",
                              conference_id=conference_id))


def ensure_open_shift(db: Database, desk_name: str = "Desk 1") -> int:
    """The open shift at ``desk_name``, opened with a 100.00 float when there is none."""
    from boxoffice.services.desk.shifts import open_shift_id

    with db.read() as session:
        existing = open_shift_id(session, desk_name)
    return existing if existing is not None else open_shift(db, desk_name).id


def at(text: str) -> datetime:
    """``at("2027-05-01 12:00")`` → aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=__import__("datetime").timezone.utc)


def session_get(session: Session, model: type, ident: int) -> Any:
    return session.get(model, ident)


def sell(ctx: Any, conference_id: int, customer_id: int, items: list[tuple[str, int, int]],
         *, voucher: str | None = None) -> Any:
    """Sell through the real services: open the customer's cart, add ``(kind, id, qty)``, check out."""
    from boxoffice.services.sales.cart import CartService
    from boxoffice.services.sales.checkout import CheckoutService

    carts = CartService(ctx)
    cart = carts.open_cart(conference_id, customer_id)
    for kind, product_id, quantity in items:
        if kind == "ticket":
            carts.add_ticket(cart.id, product_id, quantity)
        else:
            carts.add_addon(cart.id, product_id, quantity)
    if voucher is not None:
        carts.apply_voucher(cart.id, voucher)
    return CheckoutService(ctx).checkout(cart.id)


def mark_order_paid(db: Database, order_id: int) -> None:
    """Settle an order through the order-state transition (as a completed payment would)."""
    from boxoffice.domain.models import Order
    from boxoffice.services.sales import order_state

    with db.write() as session:
        order_state.mark_paid(session, session.get(Order, order_id))
