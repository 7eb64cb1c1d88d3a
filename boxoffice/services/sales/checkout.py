"""Checkout (CHK-1..14): one atomic write turning an open cart into a pending order with a hold.

The hot path uses Core statements only (no ORM unit of work): about a dozen statements for a
three-line cart with a voucher, whatever the number of orders in the database.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from boxoffice.domain import capacity
from boxoffice.domain.attendee_rules import new_access_code, plan_holders, search_words
from boxoffice.domain.models import (
    AddOn,
    Attendee,
    AttendeeStatus,
    AttendeeWord,
    Cart,
    CartStatus,
    Conference,
    Order,
    OrderLineItem,
    OrderStatus,
    TicketType,
    Voucher,
)
from boxoffice.domain.pricing import price
from boxoffice.domain.vouchers import hidden_ticket_problem, validity_problem
from boxoffice.errors import CartError, InvalidInput, LimitExceeded, SoldOut, VoucherExpired, VoucherInvalid
from boxoffice.money import ZERO, ceiling_message, over_ceiling
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales import order_state
from boxoffice.services.sales.cart import price_inputs
from boxoffice.services.sales.cart_state import (
    CartState,
    Lapsed,
    conn,
    load_cart,
    lock_stock,
    purchased_by_customer,
    sweep_if_lapsed,
)
from boxoffice.services.sales.catalog import check_id
from boxoffice.services.sales.order_views import OrderSummary
from boxoffice.services.staff.access import Permission, authorize

log = logging.getLogger(__name__)

# Easy to read aloud: no 0/O, no 1/I (CHK-8 [DESK]).
REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
REFERENCE_LENGTH = 8
REFERENCE_ATTEMPTS = 10


_ORDER = Order.__table__
_LINE = OrderLineItem.__table__
_INSERT_ORDER = {
    name: dialect.insert(_ORDER).on_conflict_do_nothing(index_elements=["reference"]).returning(_ORDER.c.id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}
# RETURNING in one batched statement; rows may come back in any order (sorted by id where it matters).
_INSERT_LINES = _LINE.insert().returning(_LINE.c.id, _LINE.c.ticket_type_id, _LINE.c.quantity)
_VOUCHER = Voucher.__table__
_COUNT_VOUCHER_USE = (
    update(_VOUCHER)
    .where(
        _VOUCHER.c.id == bindparam("voucher_id"),
        _VOUCHER.c.is_active.is_(True),
        _VOUCHER.c.times_used < _VOUCHER.c.max_uses,
        or_(_VOUCHER.c.valid_from.is_(None), _VOUCHER.c.valid_from <= bindparam("now")),
        or_(_VOUCHER.c.valid_until.is_(None), _VOUCHER.c.valid_until >= bindparam("now")),
    )
    .values(times_used=_VOUCHER.c.times_used + 1)
)
def _guarded_hold(model: Any, total: Any, sold: Any, held: Any) -> Any:
    """``held += delta`` only while ``total`` (0 = unlimited) leaves room for ``delta`` more units."""
    return (
        update(model)
        .where(model.id == bindparam("item_id"),
               or_(total == 0, total - sold - held >= bindparam("delta", type_=Integer())))
        .values({held: held + bindparam("delta", type_=Integer())})
    )


_GUARDED_HOLD = {
    "conference": _guarded_hold(Conference, Conference.total_capacity, Conference.tickets_sold,
                                Conference.tickets_held),
    "ticket": _guarded_hold(TicketType, TicketType.total_quantity, TicketType.sold_quantity,
                            TicketType.held_quantity),
    "addon": _guarded_hold(AddOn, AddOn.total_quantity, AddOn.sold_quantity, AddOn.held_quantity),
}
_CART = Cart.__table__
_CHECK_OUT_CART = (
    update(_CART).where(_CART.c.id == bindparam("cart_id")).values(status=bindparam("status"),
                                                                    updated_at=bindparam("now"))
)


def random_reference_body() -> str:
    """Eight characters drawn uniformly with the cryptographic RNG."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def _text(value: str | None, default: str, field: str, limit: int) -> str:
    if value is None:
        return default[:limit]
    if not isinstance(value, str):
        raise InvalidInput(f"The billing {field} must be text.", field=f"billing_{field}")
    value = " ".join(value.split())
    if len(value) > limit:
        raise InvalidInput(f"The billing {field} is too long (at most {limit} characters).",
                           field=f"billing_{field}")
    return value


_TAKEN_CODES = select(Attendee.access_code).where(Attendee.access_code.in_(bindparam("codes", expanding=True)))
_INSERT_ATTENDEE = insert(Attendee).returning(Attendee.id, Attendee.access_code)


def _add_attendees(session: Session, conference_id: int, order_id: int, customer_id: int,
                   ticket_lines: list[tuple[int, int | None, int]], buyer: tuple[str, str, str], holders: list[tuple[str, str, str]] | None, now: datetime) -> None:
    """An attendee per ticket unit of the new order, named as ``roster.ensure_attendees`` names them
    (``plan_holders``), in three statements."""
    c = conn(session)
    units: list[tuple[int, int | None, int]] = [
        (line_id, ticket_type_id, unit)
        for line_id, ticket_type_id, quantity in ticket_lines
        for unit in range(1, int(quantity) + 1)
    ]
    if not units:
        return
    codes = [new_access_code() for _ in units]
    for _ in range(10):   # a drawn code already taken (or drawn twice) is drawn again
        taken = set(c.execute(_TAKEN_CODES, {"codes": codes}).scalars()) if codes else set()
        clash = [i for i, code in enumerate(codes) if code in taken or codes.index(code) != i]
        if not clash:
            break
        for i in clash:
            codes[i] = new_access_code()
    else:
        raise CartError("Could not draw free access codes. Nothing was saved; try the checkout again.")
    rows = []
    plan = plan_holders(len(units), buyer, holders)
    for position, ((line_id, ticket_type_id, unit), code, holder) in enumerate(zip(units, codes, plan, strict=True), start=1):
        rows.append({
            "conference_id": conference_id, "order_id": order_id, "order_line_id": line_id, "unit": unit,
            "ticket_type_id": ticket_type_id, "customer_id": customer_id if position == 1 else None,
            "name": holder[0], "email": holder[1], "company": holder[2], "access_code": code,
            "status": AttendeeStatus.VALID, "note": "", "renamed_at_desk": False, "source_system": "",
            "source_id": "", "created_at": now, "updated_at": now,
        })
    ids = {code: attendee_id for attendee_id, code in c.execute(_INSERT_ATTENDEE, rows)}
    words = [{"conference_id": conference_id, "word": w, "attendee_id": ids[str(row["access_code"])]}
             for row in rows
             for w in sorted(search_words(str(row["name"]), str(row["email"]), str(row["company"])))]
    if words:
        c.execute(insert(AttendeeWord), words)


def _holders(holders: list[tuple[str, str, str]] | None) -> list[tuple[str, str, str]] | None:
    """The ticket holders' (name, email, company), trimmed; refused before anything is written."""
    if holders is None:
        return None
    if not isinstance(holders, (list, tuple)) or len(holders) > 999:
        raise InvalidInput("Name at most one holder per ticket.", field="holders")
    cleaned = []
    for number, holder in enumerate(holders, start=1):
        if not isinstance(holder, (list, tuple)) or len(holder) != 3:
            raise InvalidInput(f"Ticket holder {number} needs a name, an email and a company.", field="holders")
        parts = []
        for part, field, limit in zip(holder, ("name", "email", "company"), (200, 254, 200)):
            if not isinstance(part, str):
                raise InvalidInput(f"Ticket holder {number}: the {field} must be text.", field="holders")
            part = " ".join(part.split())
            if len(part) > limit:
                raise InvalidInput(f"Ticket holder {number}: the {field} is too long (at most {limit} "
                                   "characters).", field="holders")
            parts.append(part)
        name, email, company = parts
        if email and "@" not in email:
            raise InvalidInput(f"Ticket holder {number}: '{email}' is not an email address. Correct it or leave "
                               "it empty.", field="holders")
        cleaned.append((name, email, company))
    return cleaned


class CheckoutService:
    """Checks out carts. ``reference_body`` may be replaced (tests force a reference collision)."""

    def __init__(self, ctx: ServiceContext, *, reference_body: Callable[[], str] = random_reference_body) -> None:
        self._ctx = ctx
        self._reference_body = reference_body

    def checkout(self, cart_id: int, *, billing_name: str | None = None, billing_email: str | None = None,
                 billing_company: str | None = None,
                 holders: list[tuple[str, str, str]] | None = None) -> OrderSummary:
        """CHK-1..14: re-validate everything, snapshot the lines, hold the stock, count the voucher.

        Every ticket unit gets its attendee at once (a pending order's attendee scans as "not
        paid"): ``holders`` names them in line order as (name, email, company); the first unit
        defaults to the buyer, further ones to "Guest N of <buyer>".
        """
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        for value, field, limit in ((billing_name, "name", 200), (billing_email, "email", 254),
                                    (billing_company, "company", 200)):
            _text(value, "", field, limit)  # rejected before the transaction starts
        named = _holders(holders)
        now = self._ctx.clock.now()
        # A deadlock or serialization failure between desks is retried transparently.
        return self._ctx.db.run_write(
            lambda session: self._checkout(session, cart_id, now, billing_name, billing_email, billing_company,
                                           named)
        )

    def _checkout(self, session: Session, cart_id: int, now: datetime, billing_name: str | None,
                  billing_email: str | None, billing_company: str | None,
                  holders: list[tuple[str, str, str]] | None = None) -> OrderSummary:
        # PostgreSQL: the cart and the customer are locked now; the conference row (the one every
        # desk's checkout needs) only once the order is written, just before the counters move.
        # SQLite: BEGIN IMMEDIATE already holds the database for the whole checkout.
        late_lock = session.get_bind().dialect.name == "postgresql"
        # (The customer lock serialises one customer's checkouts: DEC-9 limits count their orders.)
        state = load_cart(session, cart_id, lock=True, lock_conference=not late_lock, lock_customer=late_lock,
                          lapsed_at=now)
        if state.any_lapsed:
            lapsed, swept = sweep_if_lapsed(session, state.conference_id, now)  # CHK-1 (ORD-6/8)
        else:  # no hold has lapsed: nothing to sweep and no lapsed units (asked with the cart itself)
            lapsed, swept = Lapsed({}, 0), False
        if swept:  # the sweep may have released voucher uses: re-read the cart's voucher
            state = load_cart(session, cart_id, lock=True, lock_conference=not late_lock, lock_customer=late_lock)

        self._check_cart(state, now)
        self._check_lines(session, state, lapsed, now)
        terms = state.voucher.terms if state.voucher else None
        summary = price(price_inputs(state.lines), terms)
        if over_ceiling(summary.subtotal):   # a cart from before the ceiling was checked on every change
            raise CartError(ceiling_message("The order's total", summary.subtotal))
        if state.voucher is not None:
            v = state.voucher
            problem = validity_problem(code=v.terms.code, is_active=v.is_active, times_used=v.times_used,
                                       max_uses=v.max_uses, valid_from=v.valid_from, valid_until=v.valid_until,
                                       now=now)
            if problem is not None:
                raise problem

        name = _text(billing_name, state.customer_name, "name", 200)
        email = _text(billing_email, state.customer_email, "email", 254)
        company = _text(billing_company, state.customer_company, "company", 200)
        hold = now + timedelta(minutes=state.conference.hold_minutes)
        values = {
            "conference_id": state.conference_id, "customer_id": state.customer_id,
            "status": OrderStatus.PENDING, "subtotal": summary.subtotal,
            "discount_amount": summary.discount, "total": summary.total,
            "voucher_code": terms.code if terms else "", "voucher_details": terms.details_json() if terms else "",
            "billing_name": name, "billing_email": email, "billing_company": company,
            "hold_expires_at": hold, "needs_attention": "", "disputed": False,
            "created_at": now, "updated_at": now,
        }
        order_id, reference = self._insert_order(session, state.conference.reference_prefix, values)
        c = conn(session)
        inserted = c.execute(
            _INSERT_LINES,
            [
                {
                    "order_id": order_id, "description": line.product.name[:300], "quantity": line.quantity,
                    "unit_price": line.product.price, "discount_amount": priced.discount,
                    "line_total": priced.line_total,
                    "ticket_type_id": line.product.id if line.product.kind == "ticket" else None,
                    "addon_id": line.product.id if line.product.kind == "addon" else None,
                    "created_at": now,
                }
                for line, priced in zip(state.lines, summary.lines)
            ],
        ).all()
        ticket_lines = sorted((row.id, row.ticket_type_id, row.quantity) for row in inserted if row.ticket_type_id)
        c.execute(_CHECK_OUT_CART, {"cart_id": state.id, "status": CartStatus.CHECKED_OUT, "now": now})
        if late_lock and not (lapsed.by_item or lapsed.tickets):
            self._hold_guarded(session, state, lapsed, now)
        else:
            if late_lock:  # stock re-checked against the counters as they are under the conference lock
                locked, locked_lapsed = lock_stock(session, state, now, lapsed)
                self._check_stock(locked, locked_lapsed)
            order_state.apply_counter_delta(
                session, state.conference_id,
                [(ln.product.id if ln.product.kind == "ticket" else None,
                  ln.product.id if ln.product.kind == "addon" else None, ln.quantity) for ln in state.lines],
                "held", +1,
            )
        if state.voucher is not None:
            self._count_voucher_use(session, state, now)
        _add_attendees(session, state.conference_id, order_id, state.customer_id, ticket_lines,
                       (name, email, company), holders, now)
        log.info("checkout: order %s (%s lines, total %s)", reference, len(state.lines), summary.total)
        return OrderSummary(
            id=order_id, reference=reference, status=OrderStatus.PENDING.value, customer_id=state.customer_id,
            billing_name=name, billing_email=email, billing_company=company, subtotal=summary.subtotal,
            discount=summary.discount, total=summary.total, paid=ZERO, balance=summary.total, refunded=ZERO,
            created_at=now, hold_expires_at=hold, needs_attention="", disputed=False,
        )

    # ------------------------------------------------------------------ checks

    @staticmethod
    def _check_cart(state: CartState, now: datetime) -> None:
        """CHK-2."""
        if state.status != CartStatus.OPEN:
            raise CartError(f"Only open carts can be checked out; this cart is "
                            f"{state.status.value.replace('_', ' ')}.")
        if state.expires_at is not None and state.expires_at < now:
            raise CartError("This cart has expired. Open a new cart for the customer.")
        if not state.lines:
            raise CartError("The cart is empty. Add a ticket or an add-on first.")

    @staticmethod
    def _check_lines(session: Session, state: CartState, lapsed: Lapsed, now: datetime) -> None:
        """CHK-3/4/5, CAP-4 and the DEC-9 per-customer limit, in cart order."""
        tickets_in_cart = state.ticket_ids()
        terms = state.voucher.terms if state.voucher else None
        for line in state.lines:
            product = line.product
            left = product.remaining(lapsed.by_item)
            if product.kind == "ticket":
                window = capacity.stock_state(product.window(now), left)
                if window == capacity.SOLD_OUT:
                    raise SoldOut(f"{product.name} is sold out. Remove it or choose another ticket.")
                if window != capacity.ON_SALE:
                    raise CartError(f"{product.name} is no longer available. Remove it from the cart.")
                problem = capacity.stock_problem(product.name, "ticket", left, line.quantity)
                if problem:
                    raise SoldOut(problem)
                if product.requires_voucher:  # CHK-4 [FIX]: the hidden-ticket gate again
                    problem = hidden_ticket_problem(product.name, product.id, terms)
                    if problem:
                        raise VoucherInvalid(problem)
            else:
                if product.requires and not product.requires & tickets_in_cart:
                    raise CartError(f"{product.name} requires a ticket type that is not in the cart. "
                                    "Add the ticket or remove the add-on.")
                window = product.window(now)
                if window == capacity.INACTIVE:
                    raise CartError(f"{product.name} is no longer active. Remove it from the cart.")
                if window == capacity.NOT_YET:
                    raise CartError(f"{product.name} is not on sale yet. Remove it from the cart.")
                if window == capacity.ENDED:
                    raise CartError(f"{product.name} is no longer on sale. Remove it from the cart.")
                problem = capacity.stock_problem(product.name, "addon", left, line.quantity)
                if problem:
                    raise SoldOut(problem)
        units = state.ticket_units()
        if units:
            CheckoutService._check_venue(state, lapsed, units)
            bought = purchased_by_customer(session, state.customer_id, state.conference_id, tickets_in_cart, now)
            for line in state.lines:
                if line.product.kind == "ticket":
                    problem = capacity.limit_problem(line.product.name, line.product.limit_per_user,
                                                     bought.get(line.product.id, 0), line.quantity)
                    if problem:
                        raise LimitExceeded(problem)

    def _hold_guarded(self, session: Session, state: CartState, lapsed: Lapsed, now: datetime) -> None:
        """PostgreSQL with no lapsed hold: each counter moves only if the stock is there, in one guarded
        UPDATE per row (conference first, then items by id: the lock order of every counter change).
        The row lock comes with the UPDATE, whose condition is evaluated on the row's newest version."""
        c = conn(session)
        units = state.ticket_units()
        steps: list[tuple[Any, int, int]] = [(_GUARDED_HOLD["conference"], state.conference_id, units)] if units else []
        for kind in ("ticket", "addon"):
            steps += sorted((_GUARDED_HOLD[kind], ln.product.id, ln.quantity)
                            for ln in state.lines if ln.product.kind == kind)
        for statement, item_id, delta in steps:
            if c.execute(statement, {"item_id": item_id, "delta": delta}).rowcount != 1:
                # Not enough left: say what is left (read under the lock), then give up (rolled back).
                locked, locked_lapsed = lock_stock(session, state, now, lapsed)
                self._check_stock(locked, locked_lapsed)
                raise SoldOut("What is in the cart just sold out at another desk. Check the cart and try again.")

    @staticmethod
    def _check_stock(state: CartState, lapsed: Lapsed) -> None:
        """CHK-3/CAP-4 again, with counters read under the conference lock (PostgreSQL)."""
        for line in state.lines:
            product = line.product
            problem = capacity.stock_problem(product.name, product.kind, product.remaining(lapsed.by_item),
                                             line.quantity)
            if problem:
                raise SoldOut(problem)
        units = state.ticket_units()
        if units:
            CheckoutService._check_venue(state, lapsed, units)

    @staticmethod
    def _check_venue(state: CartState, lapsed: Lapsed, units: int) -> None:
        """CAP-4: the venue's capacity left (lapsed holds given back) covers the cart's ticket units."""
        conf = state.conference
        venue_left = capacity.venue_remaining(conf.total_capacity, conf.tickets_sold, conf.tickets_held,
                                              lapsed.tickets)
        problem = capacity.venue_problem(conf.total_capacity, venue_left, units)
        if problem:
            raise SoldOut(problem)

    # ------------------------------------------------------------------ writes

    def _insert_order(self, session: Session, prefix: str, values: dict[str, object]) -> tuple[int, str]:
        """CHK-8: a fresh reference; a collision (unique index) draws again, at most 10 times."""
        stmt = _INSERT_ORDER["postgresql" if session.get_bind().dialect.name == "postgresql" else "sqlite"]
        c = conn(session)
        for _ in range(REFERENCE_ATTEMPTS):
            reference = f"{prefix or 'ORD'}-{self._reference_body()}"
            order_id = c.execute(stmt, {"reference": reference, **values}).scalar()
            if order_id is not None:
                return int(order_id), reference
            log.warning("order reference %s already taken; drawing another", reference)
        raise CartError("Could not find a free order reference. Nothing was saved; try the checkout again.")

    @staticmethod
    def _count_voucher_use(session: Session, state: CartState, now: datetime) -> None:
        """VCH-11: one conditional increment; no row means another desk took the last use."""
        assert state.voucher is not None
        result = conn(session).execute(_COUNT_VOUCHER_USE, {"voucher_id": state.voucher.id, "now": now})
        if result.rowcount != 1:
            raise VoucherExpired(f"Voucher {state.voucher.terms.code} is no longer valid (another desk used "
                                 "it up or it was switched off). Remove it and check out again.")

