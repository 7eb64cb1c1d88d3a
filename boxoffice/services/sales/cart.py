"""The cart at the desk (CART-1..16, VCH-4..10, DEC-4/5/9): add, change, remove, vouchers, expiry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from boxoffice.domain import capacity
from boxoffice.domain.models import AddOn, Cart, CartItem, CartStatus, Conference, TicketType, Voucher
from boxoffice.domain.pricing import PriceInput, price
from boxoffice.domain.vouchers import describe_offer, hidden_ticket_problem, normalize_code, validity_problem
from boxoffice.errors import CartError, InvalidInput, LimitExceeded, NotFound, SoldOut, VoucherInvalid
from boxoffice.money import ZERO, ceiling_message, over_ceiling
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.cart_state import (
    CartState,
    Line,
    Product,
    lapsed_holds,
    load_cart,
    load_product,
    lock_customer_carts,
    purchased_by_customer,
    sweep_if_lapsed,
)
from boxoffice.services.sales.catalog import check_id
from boxoffice.services.sales.customers import create_anonymous_customer, load_customer
from boxoffice.services.staff.access import Permission, authorize

MAX_QUANTITY = 999


@dataclass(frozen=True)
class CartLineView:
    item_id: int
    kind: str
    product_id: int
    name: str
    quantity: int
    unit_price: Decimal
    line_subtotal: Decimal
    discount: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class CartView:
    id: int
    conference_id: int
    customer_id: int
    customer_label: str
    status: str
    expires_at: datetime | None
    voucher_code: str | None
    lines: tuple[CartLineView, ...]
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    voucher_offer: str = ""    # what the voucher does ("takes 25 % off ..."), with a voucher applied


def check_quantity(quantity: object, *, minimum: int = 1) -> int:
    """CART-16: whole numbers only, within 1..999 for adds (checked before any rule runs)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidInput("The quantity must be a whole number.", field="quantity")
    if quantity < minimum:
        raise InvalidInput("The quantity must be at least 1.", field="quantity")
    if quantity > MAX_QUANTITY:
        raise InvalidInput(f"The quantity cannot be more than {MAX_QUANTITY}.", field="quantity")
    return quantity


def price_inputs(lines: tuple[Line, ...]) -> list[PriceInput]:
    return [PriceInput(ln.product.kind, ln.product.id, ln.product.price, ln.quantity) for ln in lines]


def cart_view(state: CartState, now: datetime) -> CartView:
    """PRC-1..9 over live catalogue prices (MOD-CI-3)."""
    summary = price(price_inputs(state.lines), state.voucher.terms if state.voucher else None)
    status = state.status
    if status == CartStatus.OPEN and state.expires_at is not None and state.expires_at < now:
        status = CartStatus.EXPIRED  # CART-3: idle past its expiry, even before CART-1 records it
    lines = tuple(
        CartLineView(ln.item_id, ln.product.kind, ln.product.id, ln.product.name, ln.quantity,
                     ln.product.price, p.line_subtotal, p.discount, p.line_total)
        for ln, p in zip(state.lines, summary.lines)
    )
    return CartView(
        state.id, state.conference_id, state.customer_id, state.customer_label, status.value,
        state.expires_at, state.voucher.terms.code if state.voucher else None, lines,
        summary.subtotal, summary.discount, summary.total,
    )


def with_offer(session: Session, view: CartView, state: CartState) -> CartView:
    """The view with its voucher's offer spelled out (one small query, only with a voucher)."""
    if state.voucher is None:
        return view
    terms = state.voucher.terms
    tickets = sorted(session.scalars(select(TicketType.name).where(TicketType.id.in_(terms.ticket_scope)))) \
        if terms.ticket_scope else []
    addons = sorted(session.scalars(select(AddOn.name).where(AddOn.id.in_(terms.addon_scope)))) \
        if terms.addon_scope else []
    return replace(view, voucher_offer=describe_offer(terms, tickets, addons))


def check_modifiable(state: CartState, now: datetime) -> None:
    """CART-3: expiry first (strictly before now), then the status."""
    if state.expires_at is not None and state.expires_at < now:
        raise CartError("This cart has expired. Open a new cart for the customer.")
    if state.status != CartStatus.OPEN:
        raise CartError(f"Only open carts can be changed; this cart is {state.status.value.replace('_', ' ')}.")


def check_window(product: Product, now: datetime) -> None:
    """CAT-3 (a)-(c) and CART-9 step 4."""
    state = product.window(now)
    if state == capacity.INACTIVE:
        raise CartError(f"{product.name} is not on sale (it is switched off).")
    if state == capacity.NOT_YET:
        raise CartError(f"{product.name} is not on sale yet.")
    if state == capacity.ENDED:
        raise CartError(f"{product.name} is no longer on sale.")


class CartService:
    """Every public method is one use case in one write transaction, returning a CartView.

    Writes go through ``Database.run_write``: a deadlock, serialization failure or busy database is
    retried a bounded number of times. On PostgreSQL a cart edit locks only its cart row (never the
    conference row, which would make every desk wait for every other); the stock and limit checks
    here are advisory, checkout re-checks them under its own locks.
    """

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # ------------------------------------------------------------------ carts

    def open_cart(self, conference_id: int, customer_id: int) -> CartView:
        """CART-1: expire stale open carts, reuse the newest open one, else create one."""
        authorize(Permission.SELL)
        check_id(conference_id, "conference")
        check_id(customer_id, "customer")
        now = self._ctx.clock.now()

        def work(session: Session) -> CartView:
            minutes = self._cart_minutes(session, conference_id)
            load_customer(session, customer_id)
            mine = (Cart.customer_id == customer_id, Cart.conference_id == conference_id,
                    Cart.status == CartStatus.OPEN)
            session.execute(
                update(Cart).where(*mine, Cart.expires_at.is_not(None), Cart.expires_at < now)
                .values(status=CartStatus.EXPIRED, updated_at=now)
            )
            row = session.execute(
                select(Cart.id, Cart.expires_at).where(*mine).order_by(Cart.created_at.desc(), Cart.id.desc())
                .limit(1)
            ).first()
            if row is None:
                cart_id = self._new_cart(session, conference_id, customer_id, now, minutes)
            else:
                cart_id = row[0]
                if row[1] is None:
                    session.execute(update(Cart).where(Cart.id == cart_id)
                                    .values(expires_at=now + timedelta(minutes=minutes), updated_at=now))
            return cart_view(load_cart(session, cart_id), now)

        return self._ctx.db.run_write(work)

    def new_walkup_cart(self, conference_id: int) -> CartView:
        """DEC-5: a fresh anonymous customer and a new cart for them."""
        authorize(Permission.SELL)
        check_id(conference_id, "conference")
        now = self._ctx.clock.now()

        def work(session: Session) -> CartView:
            minutes = self._cart_minutes(session, conference_id)
            customer = create_anonymous_customer(session, now)
            cart_id = self._new_cart(session, conference_id, customer.id, now, minutes)
            return cart_view(load_cart(session, cart_id), now)

        return self._ctx.db.run_write(work)

    def get(self, cart_id: int) -> CartView:
        check_id(cart_id, "cart")
        now = self._ctx.clock.now()
        with self._ctx.db.read() as session:
            return cart_view(load_cart(session, cart_id), now)

    def abandon(self, cart_id: int) -> CartView:
        """DEC-4: the operator clears the cart to serve the next person."""
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        now = self._ctx.clock.now()

        def work(session: Session) -> CartView:
            state = load_cart(session, cart_id, lock=True, lock_conference=False)
            if state.status != CartStatus.OPEN:
                raise CartError(f"This cart is already {state.status.value.replace('_', ' ')}.")
            session.execute(update(Cart).where(Cart.id == cart_id)
                            .values(status=CartStatus.ABANDONED, updated_at=now))
            return cart_view(load_cart(session, cart_id), now)

        return self._ctx.db.run_write(work)

    def assign_customer(self, cart_id: int, customer_id: int) -> CartView:
        """Move the open cart to another customer, re-checking their per-customer limits (DEC-9).

        The customer's other open carts for this conference are abandoned, so this cart is their
        one usable cart (CART-1).
        """
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        check_id(customer_id, "customer")
        now = self._ctx.clock.now()

        def work(session: Session) -> CartView:
            # PostgreSQL: this cart and the customer's other open carts (abandoned below) are locked
            # together in id order, so two desks handing carts to one customer cannot deadlock.
            lock_customer_carts(session, cart_id, customer_id)
            state = load_cart(session, cart_id, lock=True, lock_conference=False)
            check_modifiable(state, now)
            load_customer(session, customer_id)
            bought = purchased_by_customer(session, customer_id, state.conference_id, state.ticket_ids(), now)
            for line in state.lines:
                if line.product.kind == "ticket":
                    problem = capacity.limit_problem(line.product.name, line.product.limit_per_user,
                                                     bought.get(line.product.id, 0), line.quantity)
                    if problem:
                        raise LimitExceeded(problem)
            session.execute(
                update(Cart).where(Cart.customer_id == customer_id, Cart.conference_id == state.conference_id,
                                   Cart.status == CartStatus.OPEN, Cart.id != cart_id)
                .values(status=CartStatus.ABANDONED, updated_at=now)
            )
            session.execute(update(Cart).where(Cart.id == cart_id).values(customer_id=customer_id, updated_at=now))
            return cart_view(load_cart(session, cart_id), now)

        return self._ctx.db.run_write(work)

    def _edit(self, cart_id: int, now: datetime, change: Callable[[Session, CartState], None]) -> CartView:
        """One cart edit: lock the cart, check it may change (CART-3/4), apply ``change``, show it again."""

        def work(session: Session) -> CartView:
            state = load_cart(session, cart_id, lock=True, lock_conference=False)
            check_modifiable(state, now)
            change(session, state)
            after = load_cart(session, cart_id)
            return with_offer(session, cart_view(after, now), after)

        return self._ctx.db.run_write(work)

    # ------------------------------------------------------------------ lines

    def add_ticket(self, cart_id: int, ticket_type_id: int, quantity: int = 1) -> CartView:
        """CART-5 with the CART-8 fix (held pending orders count toward the per-customer limit)."""
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        check_id(ticket_type_id, "ticket type")
        quantity = check_quantity(quantity)
        now = self._ctx.clock.now()

        def change(session: Session, state: CartState) -> None:
            product = load_product(session, "ticket", ticket_type_id)
            self._same_conference(state, product)
            line = state.line_for("ticket", product.id)
            already = line.quantity if line else 0
            self._check_ticket(session, state, product, already + quantity, now,
                               other_units=state.ticket_units() - already)
            if product.requires_voucher:  # CART-11 / VCH-9
                problem = hidden_ticket_problem(product.name, product.id,
                                                state.voucher.terms if state.voucher else None)
                if problem:
                    raise VoucherInvalid(problem)
            self._store_line(session, state, line, product, already + quantity, now)

        return self._edit(cart_id, now, change)

    def add_addon(self, cart_id: int, addon_id: int, quantity: int = 1) -> CartView:
        """CART-9 with the CART-13 fix (held pending orders count at cart time too)."""
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        check_id(addon_id, "add-on")
        quantity = check_quantity(quantity)
        now = self._ctx.clock.now()

        def change(session: Session, state: CartState) -> None:
            product = load_product(session, "addon", addon_id)
            self._same_conference(state, product)
            check_window(product, now)
            if product.requires and not product.requires & state.ticket_ids():
                raise CartError(f"{product.name} requires one of the following ticket types in the cart: "
                                f"{self._ticket_names(session, product.requires)}.")
            line = state.line_for("addon", product.id)
            already = line.quantity if line else 0
            self._check_stock(session, state, product, already + quantity, now)
            self._store_line(session, state, line, product, already + quantity, now)

        return self._edit(cart_id, now, change)

    def set_quantity(self, cart_id: int, item_id: int, quantity: int) -> CartView:
        """CART-15: an absolute quantity; 0 or less removes the line as CART-14 does."""
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        check_id(item_id, "cart item")
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise InvalidInput("The quantity must be a whole number.", field="quantity")
        if quantity > MAX_QUANTITY:
            raise InvalidInput(f"The quantity cannot be more than {MAX_QUANTITY}.", field="quantity")
        now = self._ctx.clock.now()

        def change(session: Session, state: CartState) -> None:
            line = self._line(state, item_id)
            if quantity <= 0:
                self._remove(session, state, line, now)
            else:
                if line.product.kind == "ticket":
                    self._check_ticket(session, state, line.product, quantity, now,
                                       other_units=state.ticket_units(excluding_item=item_id),
                                       check_window_first=False)
                else:
                    self._check_stock(session, state, line.product, quantity, now)
                self._store_line(session, state, line, line.product, quantity, now)

        return self._edit(cart_id, now, change)

    def remove_item(self, cart_id: int, item_id: int) -> CartView:
        """CART-14: removing a ticket line also drops add-ons whose prerequisites are gone."""
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        check_id(item_id, "cart item")
        now = self._ctx.clock.now()

        def change(session: Session, state: CartState) -> None:
            self._remove(session, state, self._line(state, item_id), now)

        return self._edit(cart_id, now, change)

    # ------------------------------------------------------------------ vouchers

    def apply_voucher(self, cart_id: int, code: str) -> CartView:
        """VCH-4/5 with DEC-8: trimmed, case-insensitive; replaces any voucher; no expiry change."""
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        normalized = normalize_code(code)
        now = self._ctx.clock.now()

        def change(session: Session, state: CartState) -> None:
            # A lapsed pending order may still count a use of this voucher: sweep it first (ORD-6).
            sweep_if_lapsed(session, state.conference_id, now)
            row = session.execute(
                select(Voucher.id, Voucher.code, Voucher.is_active, Voucher.times_used, Voucher.max_uses,
                       Voucher.valid_from, Voucher.valid_until)
                .where(Voucher.conference_id == state.conference_id, func.upper(Voucher.code) == normalized)
            ).first()
            if row is None:
                raise VoucherInvalid(f"Voucher {normalized} was not found for this conference. Check the code.")
            problem = validity_problem(code=row[1], is_active=row[2], times_used=row[3], max_uses=row[4],
                                       valid_from=row[5], valid_until=row[6], now=now)
            if problem is not None:
                raise problem
            session.execute(update(Cart).where(Cart.id == cart_id).values(voucher_id=row[0], updated_at=now))

        return self._edit(cart_id, now, change)

    def remove_voucher(self, cart_id: int) -> CartView:
        """VCH-4 [DESK]: an open cart may drop its voucher (hidden tickets are re-checked at checkout)."""
        authorize(Permission.SELL)
        check_id(cart_id, "cart")
        now = self._ctx.clock.now()

        def change(session: Session, state: CartState) -> None:
            session.execute(update(Cart).where(Cart.id == cart_id).values(voucher_id=None, updated_at=now))

        return self._edit(cart_id, now, change)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _cart_minutes(session: Session, conference_id: int) -> int:
        minutes = session.scalar(select(Conference.cart_expiry_minutes).where(Conference.id == conference_id))
        if minutes is None:
            raise NotFound(f"Conference #{conference_id} does not exist. Choose a conference.")
        return int(minutes)

    @staticmethod
    def _new_cart(session: Session, conference_id: int, customer_id: int, now: datetime, minutes: int) -> int:
        return int(session.execute(
            insert(Cart).values(conference_id=conference_id, customer_id=customer_id, status=CartStatus.OPEN,
                                expires_at=now + timedelta(minutes=minutes), created_at=now, updated_at=now)
            .returning(Cart.id)
        ).scalar_one())

    @staticmethod
    def _same_conference(state: CartState, product: Product) -> None:
        if product.conference_id != state.conference_id:
            raise InvalidInput(f"{product.name} does not belong to this cart's conference.", field="product")

    @staticmethod
    def _line(state: CartState, item_id: int) -> Line:
        for line in state.lines:
            if line.item_id == item_id:
                return line
        raise NotFound("That line is not in this cart (any more). Reload the cart.")

    @staticmethod
    def _ticket_names(session: Session, ids: frozenset[int]) -> str:
        names = session.scalars(select(TicketType.name).where(TicketType.id.in_(sorted(ids)))
                                .order_by(TicketType.name)).all()
        return ", ".join(names)

    def _check_stock(self, session: Session, state: CartState, product: Product, desired: int,
                     now: datetime) -> None:
        left = product.remaining(lapsed_holds(session, state.conference_id, now).by_item)
        problem = capacity.stock_problem(product.name, product.kind, left, desired)
        if problem:
            raise SoldOut(problem)

    def _check_ticket(self, session: Session, state: CartState, product: Product, desired: int, now: datetime,
                      *, other_units: int, check_window_first: bool = True) -> None:
        """CART-5 steps 4-7 / CART-15: availability, stock, per-customer limit, venue cap."""
        if check_window_first:
            check_window(product, now)
        lapsed = lapsed_holds(session, state.conference_id, now)
        problem = capacity.stock_problem(product.name, "ticket", product.remaining(lapsed.by_item), desired)
        if problem:
            raise SoldOut(problem)
        bought = purchased_by_customer(session, state.customer_id, state.conference_id, [product.id], now)
        problem = capacity.limit_problem(product.name, product.limit_per_user, bought.get(product.id, 0), desired)
        if problem:
            raise LimitExceeded(problem)
        conf = state.conference
        venue_left = capacity.venue_remaining(conf.total_capacity, conf.tickets_sold, conf.tickets_held,
                                              lapsed.tickets)
        problem = capacity.venue_problem(conf.total_capacity, venue_left, other_units + desired)
        if problem:
            raise SoldOut(problem)

    def _store_line(self, session: Session, state: CartState, line: Line | None, product: Product,
                    quantity: int, now: datetime) -> None:
        """CART-5 steps 9-10: one line per product (MOD-CI-2), then the sliding expiry (CART-2).

        The cart's undiscounted total stays within the money ceiling (checked before writing).
        """
        others = sum((ln.product.price * ln.quantity for ln in state.lines
                      if line is None or ln.item_id != line.item_id), ZERO)
        if over_ceiling(others + product.price * quantity):
            raise CartError(ceiling_message("The cart's total", others + product.price * quantity),
                            field="quantity")
        if line is None:
            column = "ticket_type_id" if product.kind == "ticket" else "addon_id"
            session.execute(insert(CartItem).values(cart_id=state.id, quantity=quantity, created_at=now,
                                                    **{column: product.id}))
        else:
            session.execute(update(CartItem).where(CartItem.id == line.item_id).values(quantity=quantity))
        expires = now + timedelta(minutes=state.conference.cart_expiry_minutes)
        session.execute(update(Cart).where(Cart.id == state.id).values(expires_at=expires, updated_at=now))

    @staticmethod
    def _remove(session: Session, state: CartState, line: Line, now: datetime) -> None:
        doomed = [line.item_id]
        if line.product.kind == "ticket":
            left_tickets = state.ticket_ids() - {line.product.id}
            doomed += [
                ln.item_id for ln in state.lines
                if ln.product.kind == "addon" and ln.product.requires and not ln.product.requires & left_tickets
            ]
        session.execute(delete(CartItem).where(CartItem.id.in_(doomed)))
        session.execute(update(Cart).where(Cart.id == state.id).values(updated_at=now))
