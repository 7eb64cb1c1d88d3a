"""The catalogue at the desk: every product with its remaining quantity and sale state (CAT-1..7)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from boxoffice.domain import capacity
from boxoffice.domain.models import Conference
from boxoffice.domain.vouchers import hidden_ticket_problem
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.cart_state import (
    CartState,
    Lapsed,
    Product,
    conn,
    lapsed_holds,
    load_cart,
    load_products,
    stock_counters,
)
from boxoffice.timeutil import format_local


@dataclass(frozen=True)
class ProductView:
    kind: str  # "ticket" | "addon"
    id: int
    name: str
    description: str
    price: Decimal
    remaining: int | None  # None: unlimited
    state: str  # on_sale, sold_out, not_yet, ended, inactive, voucher_only, needs_ticket
    requires_voucher: bool
    unlocked: bool  # False only for a hidden ticket the cart's voucher does not unlock
    allowed: bool  # can be added to the cart now
    reason: str  # short text for every state but on_sale


@dataclass(frozen=True)
class CatalogView:
    conference_id: int
    tickets: tuple[ProductView, ...]
    addons: tuple[ProductView, ...]
    conference_name: str = ""


@dataclass(frozen=True)
class _ConferenceRow:
    id: int
    timezone: str
    total_capacity: int
    tickets_sold: int
    tickets_held: int
    name: str


def check_id(value: object, what: str) -> int:
    """Ids are ints; anything else is invalid input (checked before any query)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"Choose a {what} first.", field=what.replace(" ", "_"))
    return value


_CONFERENCE = select(
    Conference.id, Conference.timezone, Conference.total_capacity, Conference.tickets_sold, Conference.tickets_held,
    Conference.name,
).where(Conference.id == bindparam("id"))


def _conference(session: Session, conference_id: int) -> _ConferenceRow:
    row = conn(session).execute(_CONFERENCE, {"id": conference_id}).first()
    if row is None:
        raise NotFound(f"Conference #{conference_id} does not exist. Choose a conference.")
    return _ConferenceRow(*row)


def _when(value: datetime | None, tz: str) -> str:
    return format_local(value, tz) if value is not None else ""


def _view(
    product: Product, *, now: datetime, lapsed: Lapsed, conf: _ConferenceRow, venue_left: int | None,
    cart: CartState | None, names: dict[int, str],
) -> ProductView:
    left = product.remaining(lapsed.by_item)
    window = product.window(now)
    state = capacity.stock_state(window, left)
    reason = ""
    if state == capacity.INACTIVE:
        reason = "Not on sale (switched off)."
    elif state == capacity.NOT_YET:
        reason = f"On sale from {_when(product.available_from, conf.timezone)}."
    elif state == capacity.ENDED:
        reason = f"Sales ended {_when(product.available_until, conf.timezone)}."
    elif state == capacity.SOLD_OUT:
        reason = "Sold out."
    unlocked = True
    if product.kind == "ticket":
        if state == capacity.ON_SALE and venue_left is not None and venue_left <= 0:
            state = capacity.SOLD_OUT
            reason = f"The conference is sold out (venue capacity: {conf.total_capacity})."
        if product.requires_voucher:
            problem = hidden_ticket_problem(product.name, product.id, cart.voucher.terms if cart and cart.voucher else None)
            unlocked = problem is None
            if not unlocked and state == capacity.ON_SALE:
                state, reason = capacity.VOUCHER_ONLY, problem or ""
    elif product.requires and state == capacity.ON_SALE:
        in_cart = cart.ticket_ids() if cart is not None else set()
        if not product.requires & in_cart:
            needed = ", ".join(sorted(names.get(i, f"#{i}") for i in product.requires))
            state, reason = capacity.NEEDS_TICKET, f"Needs one of these tickets in the cart: {needed}."
    return ProductView(
        product.kind, product.id, product.name, product.description, product.price, left, state,
        product.requires_voucher, unlocked, state == capacity.ON_SALE, reason,
    )


class CatalogService:
    """What can be sold now, and how many are left (constant number of queries for all items)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def list_products(self, conference_id: int, *, cart_id: int | None = None) -> CatalogView:
        """CAT-6: every product of the conference with its state for the given cart (if any)."""
        check_id(conference_id, "conference")
        if cart_id is not None:
            check_id(cart_id, "cart")
        now = self._ctx.clock.now()
        with self._ctx.db.read() as session:
            conf = _conference(session, conference_id)
            cart = load_cart(session, cart_id) if cart_id is not None else None
            if cart is not None and cart.conference_id != conference_id:
                raise InvalidInput(f"Cart #{cart_id} belongs to another conference.", field="cart_id")
            tickets, addons = load_products(session, conference_id)
            lapsed = lapsed_holds(session, conference_id, now)
        venue_left = capacity.venue_remaining(conf.total_capacity, conf.tickets_sold, conf.tickets_held,
                                              lapsed.tickets)
        names = {t.id: t.name for t in tickets}
        view = partial(_view, now=now, lapsed=lapsed, conf=conf, venue_left=venue_left, cart=cart, names=names)
        return CatalogView(conference_id, tuple(view(p) for p in tickets), tuple(view(p) for p in addons),
                           conf.name)

    def remaining_all(self, conference_id: int) -> dict[tuple[str, int], int | None]:
        """CAT-1 for every ticket type and add-on at once: (kind, id) → remaining (None = unlimited)."""
        check_id(conference_id, "conference")
        now = self._ctx.clock.now()
        with self._ctx.db.read() as session:
            _conference(session, conference_id)
            counters = stock_counters(session, conference_id)
            lapsed = lapsed_holds(session, conference_id, now).by_item
        return {
            (kind, item_id): capacity.remaining(total, sold, held, lapsed.get((kind, item_id), 0))
            for kind, item_id, total, sold, held in counters
        }
