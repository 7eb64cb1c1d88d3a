"""Core-statement loaders shared by catalog, cart and checkout: products, carts, lapsed holds, limits.

Everything here reads a constant number of rows-sets whatever the number of items (never a query
per item), so the catalogue and checkout stay fast with hundreds of products and 100k orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session

from boxoffice.domain import capacity
from boxoffice.domain.models import (
    SETTLED_STATUSES,
    AddOn,
    Cart,
    CartItem,
    CartStatus,
    Conference,
    Customer,
    Order,
    OrderLineItem,
    OrderStatus,
    TicketType,
    Voucher,
    VoucherType,
    addon_requires_ticket_type,
    voucher_addon,
    voucher_ticket_type,
)
from boxoffice.domain.vouchers import VoucherTerms
from boxoffice.errors import NotFound
from boxoffice.services.sales import order_state
from boxoffice.services.sales.customers import customer_label

ProductKey = tuple[str, int]

_TICKET_COLS = (
    TicketType.id, TicketType.conference_id, TicketType.name, TicketType.description, TicketType.price,
    TicketType.is_active, TicketType.available_from, TicketType.available_until,
    TicketType.total_quantity, TicketType.sold_quantity, TicketType.held_quantity, TicketType.order,
    TicketType.limit_per_user, TicketType.requires_voucher,
)
_ADDON_COLS = (
    AddOn.id, AddOn.conference_id, AddOn.name, AddOn.description, AddOn.price, AddOn.is_active,
    AddOn.available_from, AddOn.available_until, AddOn.total_quantity, AddOn.sold_quantity,
    AddOn.held_quantity, AddOn.order,
)


@dataclass(frozen=True)
class Product:
    """A ticket type or add-on as the sales rules see it (counters included)."""

    kind: str
    id: int
    conference_id: int
    name: str
    description: str
    price: Decimal
    is_active: bool
    available_from: datetime | None
    available_until: datetime | None
    total_quantity: int
    sold: int
    held: int
    order: int
    limit_per_user: int = 0
    requires_voucher: bool = False
    requires: frozenset[int] = frozenset()

    @property
    def key(self) -> ProductKey:
        return (self.kind, self.id)

    def remaining(self, lapsed: dict[ProductKey, int]) -> int | None:
        return capacity.remaining(self.total_quantity, self.sold, self.held, lapsed.get(self.key, 0))

    def window(self, now: datetime) -> str:
        return capacity.window_state(self.is_active, self.available_from, self.available_until, now)


def _ticket(values: Sequence[Any]) -> Product:
    return Product("ticket", *values)


def _addon(values: Sequence[Any], requires: Iterable[int] = ()) -> Product:
    (id_, conference_id, name, description, price, is_active, available_from, available_until,
     total_quantity, sold, held, order) = values  # the _ADDON_COLS
    return Product(
        "addon", id_, conference_id, name, description, price, is_active, available_from, available_until,
        total_quantity, sold, held, order, requires=frozenset(requires),
    )


# The association tables' columns hold product and voucher ids (Table columns carry no Python type).
_REQ_ADDON: ColumnElement[int] = addon_requires_ticket_type.c.addon_id
_REQ_TICKET: ColumnElement[int] = addon_requires_ticket_type.c.ticket_type_id
_VT_VOUCHER: ColumnElement[int] = voucher_ticket_type.c.voucher_id
_VT_TICKET: ColumnElement[int] = voucher_ticket_type.c.ticket_type_id
_VA_VOUCHER: ColumnElement[int] = voucher_addon.c.voucher_id
_VA_ADDON: ColumnElement[int] = voucher_addon.c.addon_id


_TICKETS_OF_CONF = (
    select(*_TICKET_COLS)
    .where(TicketType.conference_id == bindparam("conference_id"))
    .order_by(TicketType.order, TicketType.name, TicketType.id)
)
_ADDONS_OF_CONF = (
    select(*_ADDON_COLS)
    .where(AddOn.conference_id == bindparam("conference_id"))
    .order_by(AddOn.order, AddOn.name, AddOn.id)
)
_REQUIRES_OF_CONF = (
    select(_REQ_ADDON, _REQ_TICKET)
    .join(AddOn, AddOn.id == _REQ_ADDON)
    .where(AddOn.conference_id == bindparam("conference_id"))
)
_COUNTERS_OF_CONF = union_all(
    select(literal("ticket"), TicketType.id, TicketType.total_quantity, TicketType.sold_quantity,
           TicketType.held_quantity).where(TicketType.conference_id == bindparam("conference_id")),
    select(literal("addon"), AddOn.id, AddOn.total_quantity, AddOn.sold_quantity, AddOn.held_quantity)
    .where(AddOn.conference_id == bindparam("conference_id")),
)


def conn(session: Session) -> Connection:
    """Statements below run on the session's connection: Core only, no ORM layer on the hot path."""
    return session.connection()


def load_products(session: Session, conference_id: int) -> tuple[list[Product], list[Product]]:
    """Every ticket type and add-on of a conference in display order (MOD-TT-1): three queries."""
    c = conn(session)
    params = {"conference_id": conference_id}
    tickets = [_ticket(row) for row in c.execute(_TICKETS_OF_CONF, params)]
    requires: dict[int, set[int]] = {}
    for addon_id, ticket_id in c.execute(_REQUIRES_OF_CONF, params):
        requires.setdefault(addon_id, set()).add(ticket_id)
    addons = [_addon(row, requires.get(row[0], ())) for row in c.execute(_ADDONS_OF_CONF, params)]
    return tickets, addons


def stock_counters(session: Session, conference_id: int) -> list[tuple[str, int, int, int, int]]:
    """(kind, id, total, sold, held) of every product of a conference, in one query."""
    rows = conn(session).execute(_COUNTERS_OF_CONF, {"conference_id": conference_id})
    return [(kind, id_, total, sold, held) for kind, id_, total, sold, held in rows]


_TICKET_BY_ID = select(*_TICKET_COLS).where(TicketType.id == bindparam("id"))
_ADDON_BY_ID = select(*_ADDON_COLS).where(AddOn.id == bindparam("id"))
_REQUIRES_BY_ADDON = select(_REQ_TICKET).where(_REQ_ADDON == bindparam("id"))


def load_product(session: Session, kind: str, product_id: int) -> Product:
    """One ticket type or add-on by id (with its prerequisites), or NotFound."""
    c = conn(session)
    if kind == "ticket":
        row = c.execute(_TICKET_BY_ID, {"id": product_id}).first()
        if row is None:
            raise NotFound(f"Ticket type #{product_id} does not exist (any more). Reload the catalogue.")
        return _ticket(row)
    row = c.execute(_ADDON_BY_ID, {"id": product_id}).first()
    if row is None:
        raise NotFound(f"Add-on #{product_id} does not exist (any more). Reload the catalogue.")
    return _addon(row, c.execute(_REQUIRES_BY_ADDON, {"id": product_id}).scalars().all())


@dataclass(frozen=True)
class Lapsed:
    """Units of pending orders whose hold is at or before now: still in the held counters."""

    by_item: dict[ProductKey, int]
    tickets: int  # CAP-1: every line without an add-on, deleted ticket types included
    sweepable: bool = False  # some lapsed order is not already flagged for staff attention


_LAPSED = (
    select(OrderLineItem.ticket_type_id, OrderLineItem.addon_id, func.sum(OrderLineItem.quantity),
           func.max(type_coerce(case((Order.needs_attention == "", 1), else_=0), Integer)))
    .join(Order, Order.id == OrderLineItem.order_id)
    .where(
        Order.status == OrderStatus.PENDING,
        Order.hold_expires_at.is_not(None),
        Order.hold_expires_at <= bindparam("now"),
        Order.conference_id == bindparam("conference_id"),
    )
    .group_by(OrderLineItem.ticket_type_id, OrderLineItem.addon_id)
)


def lapsed_holds(session: Session, conference_id: int, now: datetime) -> Lapsed:
    """One grouped query over the few pending orders with a lapsed hold (ix_order_status_hold)."""
    rows = conn(session).execute(_LAPSED, {"now": now, "conference_id": conference_id}).all()
    by_item: dict[ProductKey, int] = {}
    tickets = 0
    sweepable = False
    for ticket_id, addon_id, units, unflagged in rows:
        units = int(units or 0)
        sweepable = sweepable or bool(unflagged)
        if addon_id is not None:
            by_item[("addon", addon_id)] = by_item.get(("addon", addon_id), 0) + units
        else:
            tickets += units
            if ticket_id is not None:
                by_item[("ticket", ticket_id)] = by_item.get(("ticket", ticket_id), 0) + units
    return Lapsed(by_item, tickets, sweepable)


def sweep_if_lapsed(session: Session, conference_id: int, now: datetime) -> tuple[Lapsed, bool]:
    """ORD-6: when any pending order's hold lapsed, cancel the stale ones (one query when none did).

    Orders the sweep already flagged for staff attention (money received, ORD-8) are not swept again
    at every sale. Returns the lapsed units left afterwards and whether a sweep ran.
    """
    lapsed = lapsed_holds(session, conference_id, now)
    if not lapsed.sweepable:
        return lapsed, False
    order_state.sweep_stale_orders(session, conference_id, now)
    session.flush()  # the ORM status changes must reach the database before the Core reads below
    return lapsed_holds(session, conference_id, now), True


_PURCHASED = (  # units a lead cancelled (DEC-10) no longer count against the customer's limit
    select(OrderLineItem.ticket_type_id, OrderLineItem.addon_id,
           func.sum(OrderLineItem.quantity - OrderLineItem.cancelled_quantity))
    .join(Order, Order.id == OrderLineItem.order_id)
    .where(
        # Only order columns are filtered here, so the plan starts from ix_order_customer_conf (the
        # customer's few orders); a filter on line columns lets SQLite scan thousands of lines instead.
        Order.customer_id == bindparam("customer_id"),
        Order.conference_id == bindparam("conference_id"),
        or_(
            Order.status.in_(SETTLED_STATUSES),
            and_(Order.status == OrderStatus.PENDING, Order.hold_expires_at > bindparam("now")),
        ),
    )
    .group_by(OrderLineItem.ticket_type_id, OrderLineItem.addon_id)
)


def purchased_by_customer(
    session: Session, customer_id: int, conference_id: int, ticket_ids: Iterable[int], now: datetime
) -> dict[int, int]:
    """DEC-9 / CART-8: units per ticket type in the customer's settled and live-held orders."""
    ids = sorted(set(ticket_ids))
    if not ids:
        return {}
    rows = conn(session).execute(
        _PURCHASED, {"customer_id": customer_id, "conference_id": conference_id, "now": now}
    ).all()
    wanted = set(ids)
    return {tid: int(units or 0) for tid, addon_id, units in rows if addon_id is None and tid in wanted}


@dataclass(frozen=True)
class ConferenceInfo:
    id: int
    name: str
    total_capacity: int
    tickets_sold: int
    tickets_held: int
    cart_expiry_minutes: int
    hold_minutes: int
    reference_prefix: str


@dataclass(frozen=True)
class VoucherInfo:
    id: int
    is_active: bool
    times_used: int
    max_uses: int
    valid_from: datetime | None
    valid_until: datetime | None
    terms: VoucherTerms


@dataclass(frozen=True)
class Line:
    item_id: int
    product: Product
    quantity: int


@dataclass(frozen=True)
class CartState:
    id: int
    customer_id: int
    customer_label: str
    customer_name: str
    customer_email: str
    customer_company: str
    status: CartStatus
    expires_at: datetime | None
    conference: ConferenceInfo
    voucher: VoucherInfo | None
    lines: tuple[Line, ...]
    # With ``load_cart(..., lapsed_at=now)``: whether any pending order of the conference has a
    # lapsed hold at ``now`` (None when not asked). False spares checkout the lapsed-units query.
    any_lapsed: bool | None = None

    @property
    def conference_id(self) -> int:
        return self.conference.id

    def ticket_units(self, *, excluding_item: int | None = None) -> int:
        return sum(
            line.quantity for line in self.lines
            if line.product.kind == "ticket" and line.item_id != excluding_item
        )

    def line_for(self, kind: str, product_id: int) -> Line | None:
        for line in self.lines:
            if line.product.kind == kind and line.product.id == product_id:
                return line
        return None

    def ticket_ids(self) -> set[int]:
        return {line.product.id for line in self.lines if line.product.kind == "ticket"}


_HEADER_COLS = (
    Cart.id, Cart.customer_id, Cart.status, Cart.expires_at,
    Customer.name, Customer.email, Customer.is_anonymous, Customer.company,
    Conference.id, Conference.name, Conference.total_capacity, Conference.tickets_sold,
    Conference.tickets_held, Conference.cart_expiry_minutes, Conference.hold_minutes,
    Conference.reference_prefix,
    Voucher.id, Voucher.code, Voucher.voucher_type, Voucher.discount_value, Voucher.unlocks_hidden_tickets,
    Voucher.is_active, Voucher.times_used, Voucher.max_uses, Voucher.valid_from, Voucher.valid_until,
)


_HEADER = (
    select(*_HEADER_COLS)
    .join(Conference, Conference.id == Cart.conference_id)
    .join(Customer, Customer.id == Cart.customer_id)
    .outerjoin(Voucher, Voucher.id == Cart.voucher_id)
    .where(Cart.id == bindparam("cart_id"))
)
# Checkout asks in the same round trip whether any hold of the conference has lapsed (ORD-6).
_ANY_LAPSED = (
    select(Order.id)
    .where(
        Order.conference_id == Cart.conference_id,
        Order.status == OrderStatus.PENDING,
        Order.hold_expires_at.is_not(None),
        Order.hold_expires_at <= bindparam("now"),
    )
    .exists()
    .label("any_lapsed")
)
_HEADER_LOCKED = _HEADER.with_for_update(of=[Cart.__table__, Conference.__table__], key_share=True)
# Cart edits lock their own cart row only (FOR NO KEY UPDATE OF cart): desks editing carts never queue
# behind each other; checkout, which moves the conference's counters, locks the conference row too.
_HEADER_CART_LOCKED = _HEADER.with_for_update(of=[Cart.__table__], key_share=True)
# Checkout on PostgreSQL: the cart and its customer (their per-customer limits count each other's orders).
_HEADER_CART_CUSTOMER_LOCKED = _HEADER.with_for_update(of=[Cart.__table__, Customer.__table__], key_share=True)
_LOCK_CUSTOMER_CARTS = (
    select(Cart.id)
    .where(
        or_(
            Cart.id == bindparam("cart_id"),
            and_(
                Cart.customer_id == bindparam("customer_id"),
                Cart.status == CartStatus.OPEN,
                Cart.conference_id
                == select(Cart.conference_id).where(Cart.id == bindparam("cart_id")).scalar_subquery(),
            ),
        )
    )
    .order_by(Cart.id)
    .with_for_update(key_share=True)
)
# PostgreSQL lock order: the conference row alone first, then carts, so an operation that touches a
# second cart (assign_customer abandons the customer's other carts) cannot deadlock with another desk.
_LOCK_CONFERENCE = (
    select(Conference.id)
    .where(Conference.id == select(Cart.conference_id).where(Cart.id == bindparam("cart_id")).scalar_subquery())
    .with_for_update(key_share=True)
)
_ITEMS = (
    select(CartItem.id, CartItem.quantity, CartItem.ticket_type_id, CartItem.addon_id, *_TICKET_COLS, *_ADDON_COLS)
    .outerjoin(TicketType, TicketType.id == CartItem.ticket_type_id)
    .outerjoin(AddOn, AddOn.id == CartItem.addon_id)
    .where(CartItem.cart_id == bindparam("cart_id"))
    .order_by(CartItem.id)
)

# Checkout reads the cart, whether any hold lapsed, and the cart's lines in one round trip: the
# header repeated on each line (outer joins, so an empty cart still gives its one header row).
_N_HEADER = len(_HEADER_COLS)
_WITH_ANY_LAPSED_AND_ITEMS = {
    h: h.add_columns(_ANY_LAPSED, *_ITEMS.selected_columns)
    .outerjoin(CartItem, CartItem.cart_id == Cart.id)
    .outerjoin(TicketType, TicketType.id == CartItem.ticket_type_id)
    .outerjoin(AddOn, AddOn.id == CartItem.addon_id)
    .order_by(CartItem.id)
    for h in (_HEADER, _HEADER_LOCKED, _HEADER_CART_LOCKED, _HEADER_CART_CUSTOMER_LOCKED)
}
_SCOPES = union_all(
    select(literal("vt"), _VT_VOUCHER, _VT_TICKET).where(_VT_VOUCHER == bindparam("voucher_id")),
    select(literal("va"), _VA_VOUCHER, _VA_ADDON).where(_VA_VOUCHER == bindparam("voucher_id")),
    select(literal("rq"), _REQ_ADDON, _REQ_TICKET).where(_REQ_ADDON.in_(bindparam("addon_ids", expanding=True))),
)


_LOCK_CONFERENCE_COUNTERS = (
    select(Conference.tickets_sold, Conference.tickets_held)
    .where(Conference.id == bindparam("conference_id"))
    .with_for_update(key_share=True)
)
_COUNTERS_OF_ITEMS = union_all(
    select(literal("ticket"), TicketType.id, TicketType.sold_quantity, TicketType.held_quantity)
    .where(TicketType.id.in_(bindparam("ticket_ids", expanding=True))),
    select(literal("addon"), AddOn.id, AddOn.sold_quantity, AddOn.held_quantity)
    .where(AddOn.id.in_(bindparam("addon_ids", expanding=True))),
)
def lock_stock(session: Session, state: CartState, now: datetime, lapsed: Lapsed) -> tuple[CartState, Lapsed]:
    """Lock the conference row (every stock change takes it first) and re-read the counters the cart's
    lines and the venue cap depend on, with the lapsed holds: the state to re-check stock against.

    Checkout on PostgreSQL validates the cart without this lock and takes it only just before it
    moves the counters, so desks wait for each other during a few statements, not a whole checkout.
    ``lapsed`` is what the caller read before: when no hold had lapsed at ``now`` none can have since
    (lapsed units only shrink, by sweeps and late payments), so they are read again only otherwise.
    """
    c = conn(session)
    sold, held = c.execute(_LOCK_CONFERENCE_COUNTERS, {"conference_id": state.conference_id}).one()
    tickets = [ln.product.id for ln in state.lines if ln.product.kind == "ticket"]
    addons = [ln.product.id for ln in state.lines if ln.product.kind == "addon"]
    fresh = {(kind, item): (s, h) for kind, item, s, h in
             c.execute(_COUNTERS_OF_ITEMS, {"ticket_ids": tickets, "addon_ids": addons})}
    lines = tuple(
        replace(ln, product=replace(ln.product, sold=fresh[ln.product.key][0], held=fresh[ln.product.key][1]))
        if ln.product.key in fresh else ln
        for ln in state.lines
    )
    conference = replace(state.conference, tickets_sold=sold, tickets_held=held)
    if lapsed.by_item or lapsed.tickets:
        lapsed = lapsed_holds(session, state.conference_id, now)
    return replace(state, conference=conference, lines=lines), lapsed


def lock_customer_carts(session: Session, cart_id: int, customer_id: int) -> None:
    """PostgreSQL: lock the cart and the customer's open carts of its conference, in id order."""
    c = conn(session)
    if c.dialect.name == "postgresql":
        c.execute(_LOCK_CUSTOMER_CARTS, {"cart_id": cart_id, "customer_id": customer_id}).all()


def load_cart(session: Session, cart_id: int, *, lock: bool = False, lock_conference: bool = True,
              lock_customer: bool = False, lapsed_at: datetime | None = None) -> CartState:
    """The cart with its conference, customer, voucher (and scope) and priced-ready lines.

    At most three queries whatever the size of the cart; ``lock`` takes row locks on PostgreSQL
    (SQLite writers already hold the database lock from BEGIN IMMEDIATE): the cart row, and with
    ``lock_conference`` first the conference row whose counters the caller will move, or else with
    ``lock_customer`` the cart's customer row.
    """
    c = conn(session)
    header = _HEADER
    if lock and c.dialect.name == "postgresql":
        if lock_conference:
            c.execute(_LOCK_CONFERENCE, {"cart_id": cart_id})
            header = _HEADER_LOCKED
        else:
            header = _HEADER_CART_CUSTOMER_LOCKED if lock_customer else _HEADER_CART_LOCKED
    any_lapsed: bool | None = None
    # The header (with the lines, for checkout) is wider than the ten columns SQLAlchemy types
    # positionally: its rows are read by position, typed by the dataclasses they fill.
    item_rows: Sequence[Sequence[Any]]
    if lapsed_at is None:
        row = c.execute(header, {"cart_id": cart_id}).first()
    else:
        rows = c.execute(_WITH_ANY_LAPSED_AND_ITEMS[header], {"cart_id": cart_id, "now": lapsed_at}).all()
        row = rows[0] if rows else None
    if row is None:
        raise NotFound(f"Cart #{cart_id} does not exist (any more). Open a new cart.")
    if lapsed_at is None:
        item_rows = c.execute(_ITEMS, {"cart_id": cart_id}).all()
    else:
        any_lapsed = bool(row[_N_HEADER])
        item_rows = [r[_N_HEADER + 1:] for r in rows if r[_N_HEADER + 1] is not None]
    head: Sequence[Any] = row[:_N_HEADER]
    (cid, customer_id, status, expires_at, c_name, c_email, c_anon, c_company,
     conf_id, conf_name, capacity_, sold, held, cart_minutes, hold_minutes, prefix,
     v_id, v_code, v_type, v_value, v_unlocks, v_active, v_used, v_max, v_from, v_until) = head
    conference = ConferenceInfo(conf_id, conf_name, capacity_, sold, held, cart_minutes, hold_minutes, prefix)

    addon_ids = [r[3] for r in item_rows if r[3] is not None]

    ticket_scope: set[int] = set()
    addon_scope: set[int] = set()
    requires: dict[int, set[int]] = {}
    if v_id is not None or addon_ids:
        for tag, owner, target in c.execute(_SCOPES, {"voucher_id": v_id, "addon_ids": addon_ids}):
            if tag == "vt":
                ticket_scope.add(target)
            elif tag == "va":
                addon_scope.add(target)
            else:
                requires.setdefault(owner, set()).add(target)

    n_ticket = len(_TICKET_COLS)
    lines = []
    for r in item_rows:
        addon_id = r[3]  # exactly one of ticket_type_id (r[2]) and addon_id is set
        if addon_id is None:
            product = _ticket(r[4:4 + n_ticket])
        else:
            product = _addon(r[4 + n_ticket:], requires.get(addon_id, ()))
        lines.append(Line(r[0], product, r[1]))

    voucher = None
    if v_id is not None:
        terms = VoucherTerms(v_code, VoucherType(v_type), v_value, bool(v_unlocks),
                             frozenset(ticket_scope), frozenset(addon_scope))
        voucher = VoucherInfo(v_id, bool(v_active), v_used, v_max, v_from, v_until, terms)
    return CartState(
        cid, customer_id, customer_label(customer_id, c_name, c_email, c_anon), c_name, c_email or "",
        c_company, CartStatus(status), expires_at, conference, voucher, tuple(lines), any_lapsed,
    )
