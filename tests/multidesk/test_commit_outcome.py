"""A write whose COMMIT got no answer is looked up, and the desk is told the truth (PostgreSQL).

The backend of the desk's own connection is killed at COMMIT time from a second connection
(``pg_terminate_backend``): once before the COMMIT reaches it (nothing was saved), once right after
the server committed but before the answer came back (it was saved). Then a desk loop of checkouts
and cash payments with backends killed at random commits: what the desk reported is what the
database holds.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select

from boxoffice.db.engine import Database
from boxoffice.domain.models import Customer, Order, OrderStatus, Payment, PaymentMethod
from boxoffice.errors import DatabaseUnavailable
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.timeutil import FixedClock
from tests import factories
from tests.multidesk.conftest import _admin_connect

DESK = "Desk 1"


class Killer:
    """Kills the backend of the connection that is committing, when armed."""

    def __init__(self, db: Database) -> None:
        self.mode: str | None = None  # "before": COMMIT never arrives; "after": committed, answer lost
        self.kills = 0
        event.listen(db.engine, "commit", self._on_commit)

    def _on_commit(self, conn: Any) -> None:
        mode, self.mode = self.mode, None
        if mode is None:
            return
        cursor = conn.connection.dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
        if mode == "after":
            cursor.execute("COMMIT")  # the server saves it; the desk will never hear so
        admin = _admin_connect()
        try:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        finally:
            admin.close()
        self.kills += 1


@pytest.fixture
def world(pg_db: Database, clock: FixedClock) -> Iterator[tuple[ServiceContext, Killer, int, int]]:
    ctx = ServiceContext(pg_db, clock, DESK)
    conf = factories.conference(pg_db)
    ticket = factories.ticket_type(pg_db, conf.id, price=Decimal("50.00"), total_quantity=1000)
    factories.open_shift(pg_db, DESK, conference_id=conf.id)
    yield ctx, Killer(pg_db), conf.id, ticket.id


def _pending(ctx: ServiceContext, conference_id: int, ticket_id: int, killer: Killer | None = None,
             mode: str | None = None) -> int:
    """A checked-out order; ``mode`` arms the killer for the checkout's commit."""
    customer = factories.customer(ctx.db, email=f"buyer{random.random()}@example.org")
    carts = CartService(ctx)
    cart = carts.open_cart(conference_id, customer.id)
    carts.add_ticket(cart.id, ticket_id, 1)
    if killer is not None:
        killer.mode = mode
    return CheckoutService(ctx).checkout(cart.id).id


def _cash_payments(db: Database, order_id: int) -> int:
    with db.read() as session:
        return session.scalar(select(func.count(Payment.id)).where(
            Payment.order_id == order_id, Payment.method == PaymentMethod.CASH)) or 0


def test_a_commit_killed_before_it_arrives_says_nothing_was_saved_and_nothing_was(world) -> None:  # type: ignore[no-untyped-def]
    ctx, killer, conference_id, ticket_id = world
    order_id = _pending(ctx, conference_id, ticket_id)
    killer.mode = "before"
    with pytest.raises(DatabaseUnavailable, match="confirms that nothing was saved"):
        PaymentService(ctx).pay_cash(order_id, Decimal("50.00"))
    assert killer.kills == 1
    assert _cash_payments(ctx.db, order_id) == 0
    assert PaymentService(ctx).pay_cash(order_id, Decimal("50.00")).paid_in_full  # the desk goes on


def test_a_commit_whose_answer_was_lost_is_reported_saved(world) -> None:  # type: ignore[no-untyped-def]
    ctx, killer, conference_id, ticket_id = world
    order_id = _pending(ctx, conference_id, ticket_id)
    killer.mode = "after"
    result = PaymentService(ctx).pay_cash(order_id, Decimal("50.00"))
    assert killer.kills == 1
    assert result.paid_in_full and result.order.status == "paid"
    assert _cash_payments(ctx.db, order_id) == 1
    with ctx.db.read() as session:
        assert session.get(Order, order_id).status == OrderStatus.PAID


def test_the_write_context_reports_a_lost_but_saved_commit_as_saved(world) -> None:  # type: ignore[no-untyped-def]
    ctx, killer, _conference_id, _ticket_id = world
    killer.mode = "after"
    with ctx.db.write() as session:
        session.add(Customer(name="Grace", email="grace@example.org"))
    with ctx.db.read() as session:
        assert session.scalar(select(func.count(Customer.id)).where(Customer.email == "grace@example.org")) == 1


def test_a_desk_loop_with_backends_killed_at_commit_reports_the_truth(world) -> None:  # type: ignore[no-untyped-def]
    ctx, killer, conference_id, ticket_id = world
    rng = random.Random(15)
    reported: dict[str, list[int]] = {"checkout saved": [], "paid": [], "payment not saved": []}
    checkouts_not_saved = 0
    for _ in range(24):
        try:
            order_id = _pending(ctx, conference_id, ticket_id, killer, rng.choice((None, "before", "after")))
        except DatabaseUnavailable as exc:
            assert "nothing was saved" in str(exc)
            checkouts_not_saved += 1
            continue
        reported["checkout saved"].append(order_id)
        killer.mode = rng.choice((None, "before", "after"))
        try:
            PaymentService(ctx).pay_cash(order_id, Decimal("50.00"))
        except DatabaseUnavailable as exc:
            assert "nothing was saved" in str(exc)
            reported["payment not saved"].append(order_id)
        else:
            reported["paid"].append(order_id)
    assert killer.kills >= 10 and checkouts_not_saved and reported["payment not saved"]
    with ctx.db.read() as session:
        orders = session.scalar(select(func.count(Order.id))) or 0
    assert orders == len(reported["checkout saved"])
    assert all(_cash_payments(ctx.db, o) == 1 for o in reported["paid"])
    assert all(_cash_payments(ctx.db, o) == 0 for o in reported["payment not saved"])


def test_when_the_server_cannot_be_asked_the_desk_is_told_it_is_not_known() -> None:
    from boxoffice.db.engine import CommitOutcomeUnknown, translate_error

    message = str(translate_error(CommitOutcomeUnknown(None, ConnectionResetError(104, "reset by peer"))))
    assert "cannot be asked yet whether it was saved" in message and "Nothing was saved" not in message
