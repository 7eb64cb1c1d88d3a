"""A scan at the door on PostgreSQL: the statements it sends, and the truth when its COMMIT is lost."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select

from boxoffice.db.engine import Database
from boxoffice.domain.models import CheckIn
from boxoffice.errors import DatabaseUnavailable
from boxoffice.services.checkin import views as v
from boxoffice.services.checkin.admission import CheckInService
from boxoffice.services.checkin.attendees import AttendeeService
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.customers import CustomerService
from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.timeutil import FixedClock
from tests import factories
from tests.multidesk.test_commit_outcome import Killer

DESK = "Desk 1"


@pytest.fixture
def door(pg_db: Database, clock: FixedClock) -> tuple[ServiceContext, int, str]:
    """A paid order of one ticket with a redeemable dinner: (context, conference, access code)."""
    ctx = ServiceContext(pg_db, clock, DESK)
    conf = factories.conference(pg_db).id
    ticket = factories.ticket_type(pg_db, conf, price=Decimal("50.00"), total_quantity=10).id
    dinner = factories.addon(pg_db, conf, name="Dinner", price=Decimal("5.00"), total_quantity=10,
                             redeemable=True).id
    factories.open_shift(pg_db, DESK, conference_id=conf)
    customer = CustomerService(ctx).get_or_create(name="Ada Lovelace", email="ada@example.org", company="")
    cart = CartService(ctx).open_cart(conf, customer.id)
    CartService(ctx).add_ticket(cart.id, ticket, 1)
    CartService(ctx).add_addon(cart.id, dinner, 1)
    order = CheckoutService(ctx).checkout(cart.id)
    PaymentService(ctx).pay_cash(order.id, order.total)
    [attendee] = AttendeeService(ctx).for_order(order.id)
    return ctx, conf, attendee.access_code


@contextmanager
def _sent(db: Database) -> Iterator[list[str]]:
    """The first word of every statement sent, and the SAVEPOINT commands whole."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        seen.append(" ".join(words[:2]) if words[0].upper() in ("RELEASE", "SAVEPOINT") else words[0].upper())

    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)


def _entries(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CheckIn)) or 0)


def test_an_admitting_scan_sends_one_select_and_one_insert_in_its_savepoint(
        door: tuple[ServiceContext, int, str]) -> None:
    ctx, conf, code = door
    with _sent(ctx.db) as sent, acting_as(Actor(None, "Vic", Role.VOLUNTEER)):
        admitted = CheckInService(ctx).scan(conf, code)
    assert admitted.outcome == v.ADMITTED and [u.label for u in admitted.addons] == ["Dinner: 0 of 1 used"]
    # the last SELECT notes the transaction id, for the commit lookup
    assert [s.split()[0] for s in sent] == ["SELECT", "SAVEPOINT", "INSERT", "RELEASE", "SELECT"]
    with _sent(ctx.db) as sent:
        again = CheckInService(ctx).scan(conf, code)
    assert again.outcome == v.ALREADY_CHECKED_IN and again.check_in_id == admitted.check_in_id
    assert again.detail == f"Checked in at 08:00 at {DESK} by Vic"   # 12:00 UTC in New York
    assert sent == ["SELECT", "SELECT"]
    assert _entries(ctx.db) == 1


def test_a_scan_whose_commit_answer_was_lost_is_reported_admitted(door: tuple[ServiceContext, int, str]) -> None:
    ctx, conf, code = door
    killer = Killer(ctx.db)
    killer.mode = "after"
    admitted = CheckInService(ctx).scan(conf, code)
    assert killer.kills == 1
    assert admitted.outcome == v.ADMITTED and _entries(ctx.db) == 1


def test_a_scan_whose_commit_never_arrived_says_nothing_was_saved(door: tuple[ServiceContext, int, str]) -> None:
    ctx, conf, code = door
    killer = Killer(ctx.db)
    killer.mode = "before"
    with pytest.raises(DatabaseUnavailable, match="confirms that nothing was saved"):
        CheckInService(ctx).scan(conf, code)
    assert killer.kills == 1 and _entries(ctx.db) == 0
    assert CheckInService(ctx).scan(conf, code).outcome == v.ADMITTED   # the door goes on
