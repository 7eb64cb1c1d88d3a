"""Two OS processes check out the last seats of one ticket type at once on one SQLite file (CAP-5)."""

from __future__ import annotations

import multiprocessing
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.domain.models import Order, OrderLineItem, TicketType
from boxoffice.errors import SoldOut
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales import order_state
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.staff.access import SYSTEM, set_operator
from boxoffice.timeutil import FixedClock
from tests import factories as f


def _desk(path: str, cart_ids: list[int], start: object, results: object) -> None:
    """One desk in its own process: waits for the start signal, then checks out its carts."""
    set_operator(SYSTEM)  # a fresh process: nobody is signed in until the desk says who acts
    db = Database(sqlite_url(path))
    service = CheckoutService(ServiceContext(db=db, clock=FixedClock()))
    start.wait(30)  # type: ignore[attr-defined]
    outcome = []
    for cart_id in cart_ids:
        try:
            outcome.append(("sold", service.checkout(cart_id).reference))
        except SoldOut as exc:
            outcome.append(("sold_out", str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test with it
            outcome.append(("error", f"{type(exc).__name__}: {exc}"))
    results.put(outcome)  # type: ignore[attr-defined]
    db.dispose()


def test_two_processes_never_oversell_the_last_seats(db: Database, db_path: Path, ctx: ServiceContext) -> None:
    conf = f.conference(db)
    t = f.ticket_type(db, conf.id, name="Student", total_quantity=6, price=Decimal("10.00"))
    f.sell(ctx, conf.id, f.customer(db, email="early@example.org").id, [("ticket", t.id, 1)])  # 5 left
    carts = CartService(ctx)
    cart_ids = []
    for i in range(8):
        cart = carts.new_walkup_cart(conf.id)
        carts.add_ticket(cart.id, t.id, 1)
        cart_ids.append(cart.id)

    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    results = spawn.Queue()
    desks = [spawn.Process(target=_desk, args=(str(db_path), cart_ids[i::2], start, results)) for i in range(2)]
    for desk in desks:
        desk.start()
    start.set()
    outcomes = [item for _ in desks for item in results.get(timeout=120)]
    for desk in desks:
        desk.join(timeout=60)
        assert desk.exitcode == 0

    assert [o for o in outcomes if o[0] == "error"] == []
    assert sum(1 for o in outcomes if o[0] == "sold") == 5
    sold_out = [o[1] for o in outcomes if o[0] == "sold_out"]
    assert len(sold_out) == 3
    assert all("Student is sold out" in message for message in sold_out)
    with db.read() as session:
        units = session.scalar(
            select(func.sum(OrderLineItem.quantity)).join(Order).where(OrderLineItem.ticket_type_id == t.id)
        )
        assert units == 6
        assert session.get(TicketType, t.id).held_quantity == 6  # type: ignore[union-attr]
        assert order_state.recount(session) == []
