"""Functions run in separate OS processes (multiprocessing spawn) by the multi-desk tests."""

from __future__ import annotations

import os
import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event
from typing import Any

from boxoffice.db.engine import Database
from boxoffice.db.locks import PollerLease


def hold_lease(
    url: str, lease_seconds: float, acquired: Event, die: Event, mode: str, holder: str
) -> None:
    """Take the lease, say so; then exit abruptly once told ("exit") or hang without renewing ("hang")."""
    db = Database(url)
    lease = PollerLease(db, holder=holder, lease_seconds=lease_seconds)
    deadline = time.monotonic() + 20
    while not lease.ensure():
        if time.monotonic() > deadline:
            raise SystemExit(3)
        time.sleep(0.05)
    acquired.set()
    if mode == "exit":
        die.wait(30)
        os._exit(0)  # no release, no clean-up: as if the desk's process died
    while True:  # "hang": alive, connection open, never renewing
        time.sleep(1)


# --------------------------------------------------------------------------- sales races


def _services(url: str, desk: int) -> tuple[Database, Any]:
    from boxoffice.services.context import ServiceContext
    from boxoffice.services.money.payments import PaymentService
    from boxoffice.services.sales.cart import CartService
    from boxoffice.services.sales.checkout import CheckoutService
    from boxoffice.services.staff.access import SYSTEM, set_operator

    set_operator(SYSTEM)  # a fresh process: act as the system operator
    db = Database(url)
    ctx = ServiceContext(db=db, desk_name=f"Desk {desk}")
    from tests import factories

    factories.ensure_open_shift(db, ctx.desk_name)  # cash goes into this desk's open drawer
    return db, (CartService(ctx), CheckoutService(ctx), PaymentService(ctx))


class Desk:
    """One desk's sales loop on its own engine and services."""

    def __init__(self, url: str, desk: int, conference_id: int, ticket_type_id: int,
                 voucher: str | None) -> None:
        self.db, (self.carts, self.checkout, self.payments) = _services(url, desk)
        self.conference_id, self.ticket_type_id, self.voucher = conference_id, ticket_type_id, voucher
        self.walkup_cart: int | None = None

    def sale(self, customer_id: int | None) -> int:
        """Walk-up cart, one ticket, optionally handed to a named customer (limit re-checked), optional
        voucher, checkout, cash. Returns the order id. A cart whose checkout failed is abandoned."""
        from boxoffice.errors import UserError

        if self.walkup_cart is None:
            self.walkup_cart = self.carts.new_walkup_cart(self.conference_id).id
        cart_id = self.walkup_cart
        self.carts.add_ticket(cart_id, self.ticket_type_id, 1)  # refused: the empty cart is kept
        self.walkup_cart = None
        try:
            if customer_id is not None:
                self.carts.assign_customer(cart_id, customer_id)
            if self.voucher:
                self.carts.apply_voucher(cart_id, self.voucher)
            order = self.checkout.checkout(cart_id)
        except UserError:
            try:
                self.carts.abandon(cart_id)
            except UserError:
                pass  # already abandoned by another desk (the customer's newer cart won)
            raise
        if order.total > 0:
            self.payments.pay_cash(order.id, order.total)
        else:
            self.payments.complete_free_order(order.id)
        return int(order.id)


def desk_sales(url: str, desk: int, attempts: int, conference_id: int, ticket_type_id: int,
               customers: list[int], voucher: str | None, start: Barrier, results: Queue) -> None:
    """``attempts`` sales from one desk; reports outcome counts by error class and the orders made."""
    from boxoffice.errors import ConcurrentChange, DatabaseBusy, DatabaseUnavailable, UserError

    seller = Desk(url, desk, conference_id, ticket_type_id, voucher)
    outcomes: Counter[str] = Counter()
    orders: list[int] = []
    unexpected: list[str] = []
    start.wait(60)
    began = time.perf_counter()
    for i in range(attempts):
        customer = customers[(desk + i) % len(customers)] if customers else None
        try:
            orders.append(seller.sale(customer))
            outcomes["ok"] += 1
        except (ConcurrentChange, DatabaseBusy, DatabaseUnavailable) as exc:
            outcomes[type(exc).__name__] += 1
            unexpected.append(f"{type(exc).__name__}: {exc}")
        except UserError as exc:
            outcomes[type(exc).__name__] += 1
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any of these
            outcomes["crash"] += 1
            unexpected.append(f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - began
    seller.db.dispose()
    results.put({"desk": desk, "outcomes": dict(outcomes), "orders": orders, "unexpected": unexpected[:5],
                 "seconds": seconds})


def desk_apply_credits(url: str, desk: int, rounds: list[tuple[int, int]], start: Barrier,
                       results: Queue) -> None:
    """Each round: wait for every desk, then apply credit ``c`` to this desk's order ``o``."""
    from boxoffice.errors import UserError

    db, (_carts, _checkout, payments) = _services(url, desk)
    outcomes: Counter[str] = Counter()
    unexpected: list[str] = []
    for order_id, credit_id in rounds:
        start.wait(60)
        try:
            payments.apply_credit(order_id, credit_id)
            outcomes["ok"] += 1
        except UserError as exc:
            outcomes[type(exc).__name__] += 1
            if type(exc).__name__ != "CreditError":
                unexpected.append(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any of these
            outcomes["crash"] += 1
            unexpected.append(f"{type(exc).__name__}: {exc}")
    db.dispose()
    results.put({"desk": desk, "outcomes": dict(outcomes), "unexpected": unexpected[:5]})
