"""CIN-4 and RDM-2 with real processes: eight desks scanning the same codes at the same moment record
exactly one entry per attendee, and never hand out more add-ons than were bought (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.db.migrate import upgrade
from boxoffice.domain.models import CheckIn, Redemption
from boxoffice.services.checkin.attendees import AttendeeService
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.customers import CustomerService
from boxoffice.services.staff.access import SYSTEM, acting_as
from tests import factories
from tests.multidesk.checkin_workers import desk_redeems, desk_scans
from tests.multidesk.test_races import SpawnContext, run_desks

DESKS = 8


@pytest.fixture
def spawn() -> Iterator[SpawnContext]:
    ctx = multiprocessing.get_context("spawn")
    yield ctx
    for child in multiprocessing.active_children():
        child.kill()
        child.join(5)


@pytest.fixture(params=["sqlite", "postgresql"])
def door_db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if request.param == "postgresql":
        return request.getfixturevalue("pg_db")  # type: ignore[no-any-return]
    db = Database(sqlite_url(tmp_path / "door.sqlite3"))
    upgrade(db)
    request.addfinalizer(db.dispose)
    return db


def _attendees(db: Database, orders: int, per_order: int) -> tuple[int, list[str], int, int]:
    """Paid orders of ``per_order`` tickets and one redeemable dinner each: (conference, codes, an
    attendee of a one-ticket order with one dinner, that dinner's line)."""
    ctx = ServiceContext(db=db)
    with acting_as(SYSTEM):
        conf = factories.conference(db, total_capacity=10_000).id
        ticket = factories.ticket_type(db, conf, price=Decimal("10.00"), total_quantity=10_000,
                                       limit_per_user=100).id
        dinner = factories.addon(db, conf, name="Dinner", price=Decimal("5.00"), total_quantity=10_000,
                                 redeemable=True).id
        factories.ensure_open_shift(db, ctx.desk_name)
        codes: list[str] = []
        single = line = 0
        for i in range(orders + 1):
            customer = CustomerService(ctx).get_or_create(name=f"Person {i}", email=f"p{i}@example.org", company="")
            cart = CartService(ctx).open_cart(conf, customer.id)
            CartService(ctx).add_ticket(cart.id, ticket, per_order if i < orders else 1)
            CartService(ctx).add_addon(cart.id, dinner, 1)
            order = CheckoutService(ctx).checkout(cart.id)
            PaymentService(ctx).pay_cash(order.id, order.total)
            attendees = AttendeeService(ctx).for_order(order.id)
            if i < orders:
                codes += [a.access_code for a in attendees]
            else:
                single = attendees[0].id
                line = AttendeeService(ctx).addons(single)[0].order_line_id
    return conf, codes, single, line


def test_eight_desks_scanning_the_same_codes_record_one_entry_each(door_db: Database, spawn: SpawnContext,
                                                                  ) -> None:
    conf, codes, _single, _line = _attendees(door_db, orders=6, per_order=5)
    results = run_desks(spawn, desk_scans, [(door_db.url, d, conf, codes) for d in range(1, DESKS + 1)])
    problems = [m for r in results for m in r["unexpected"]]
    assert problems == [], problems
    outcomes: Counter[str] = Counter()
    for r in results:
        outcomes.update(r["outcomes"])
    assert outcomes == {"admitted": len(codes), "already_checked_in": len(codes) * (DESKS - 1)}
    with door_db.read() as session:
        per_attendee = session.execute(select(CheckIn.attendee_id, func.count()).group_by(CheckIn.attendee_id)).all()
    assert len(per_attendee) == len(codes) and all(n == 1 for _, n in per_attendee)


def test_eight_desks_handing_out_one_dinner_hand_out_exactly_one(door_db: Database, spawn: SpawnContext,
                                                                ) -> None:
    _conf, _codes, single, line = _attendees(door_db, orders=0, per_order=1)
    results = run_desks(spawn, desk_redeems, [(door_db.url, d, single, line, 3) for d in range(1, DESKS + 1)])
    problems = [m for r in results for m in r["unexpected"]]
    assert problems == [], problems
    assert sum(r["outcomes"].get("handed_out", 0) for r in results) == 1
    with door_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Redemption)) == 1
