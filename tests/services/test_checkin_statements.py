"""What a scan costs the database (SQLite): one transaction, one read, at most one INSERT.

Every statement SQLite runs is seen through the driver's trace callback (the transaction's own
BEGIN and COMMIT included); the statement texts SQLAlchemy sends are seen through its events.
"""

from __future__ import annotations

import contextvars
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import event, func, select

from boxoffice.db.engine import Database
from boxoffice.domain.models import CheckIn
from boxoffice.services.checkin import views as v
from boxoffice.services.checkin.admission import CheckInService
from boxoffice.services.checkin.attendees import AttendeeService
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.customers import CustomerService
from boxoffice.services.staff.access import Actor, Role, acting_as
from tests import factories

D = Decimal


@pytest.fixture
def conf(db: Database) -> int:
    return factories.conference(db, reference_prefix="PYC", total_capacity=500).id


@pytest.fixture
def ticket(db: Database, conf: int) -> int:
    return factories.ticket_type(db, conf, name="Individual", price=D("100.00"), total_quantity=100).id


def _sell(ctx: ServiceContext, conf: int, items: list[tuple[str, int, int]], *, pay: bool = True) -> int:
    customer = CustomerService(ctx).get_or_create(name="Ada Lovelace", email="ada@example.org", company="")
    carts = CartService(ctx)
    cart = carts.open_cart(conf, customer.id)
    for kind, product, qty in items:
        (carts.add_ticket if kind == "ticket" else carts.add_addon)(cart.id, product, qty)
    order = CheckoutService(ctx).checkout(cart.id)
    if pay:
        factories.ensure_open_shift(ctx.db, ctx.desk_name)
        PaymentService(ctx).pay_cash(order.id, order.total)
    return order.id


class _Seen:
    def __init__(self) -> None:
        self.run: list[str] = []    # what SQLite ran, bound values written in
        self.sent: list[str] = []   # what SQLAlchemy sent, with its parameter markers

    def statements(self) -> list[str]:
        """What SQLite ran, without the busy-timeout PRAGMAs, each as its first word."""
        return [s.split(None, 1)[0].upper() + (" IMMEDIATE" if s.upper().startswith("BEGIN IMMEDIATE") else "")
                for s in self.run if not s.upper().startswith("PRAGMA")]


@contextmanager
def _watching(db: Database) -> Iterator[_Seen]:
    seen = _Seen()

    def on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.set_trace_callback(seen.run.append)

    def on_checkin(dbapi_connection: Any, _record: Any) -> None:
        if dbapi_connection is not None:
            dbapi_connection.set_trace_callback(None)

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.sent.append(statement)

    event.listen(db.engine, "checkout", on_checkout)
    event.listen(db.engine, "checkin", on_checkin)
    event.listen(db.engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", on_execute)
        event.remove(db.engine, "checkin", on_checkin)
        event.remove(db.engine, "checkout", on_checkout)


def _entries(db: Database) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(CheckIn)) or 0)


def test_an_admitting_scan_is_one_read_and_one_insert_in_one_transaction(
        ctx: ServiceContext, db: Database, conf: int, ticket: int) -> None:
    dinner = factories.addon(db, conf, name="Dinner", price=D("30.00"), total_quantity=50, redeemable=True).id
    shirt = factories.addon(db, conf, name="T-Shirt", price=D("20.00"), total_quantity=50).id
    order = _sell(ctx, conf, [("ticket", ticket, 1), ("addon", dinner, 1), ("addon", shirt, 1)])
    [attendee] = AttendeeService(ctx).for_order(order)
    with _watching(db) as seen:
        admitted = CheckInService(ctx).scan(conf, attendee.access_code)
    assert admitted.outcome == v.ADMITTED
    # the add-ons come with the same read (RDM-1)
    assert [u.label for u in admitted.addons] == ["Dinner: 0 of 1 used", "T-Shirt: 0 of 1 used"]
    assert admitted.next_step == "Hand out: Dinner: 0 of 1 used"
    assert seen.statements() == ["BEGIN IMMEDIATE", "SELECT", "INSERT", "COMMIT"]
    assert _entries(db) == 1


def test_an_already_checked_in_scan_reads_once_and_writes_nothing(
        ctx: ServiceContext, db: Database, conf: int, ticket: int) -> None:
    order = _sell(ctx, conf, [("ticket", ticket, 1)])
    [attendee] = AttendeeService(ctx).for_order(order)
    door = CheckInService(ctx)
    with acting_as(Actor(None, "Vic", Role.VOLUNTEER)):
        first = door.scan(conf, attendee.access_code)
    with _watching(db) as seen:
        again = door.scan(conf, attendee.access_code)
    # 12:00 UTC is 08:00 in New York: the conference's zone is read with the attendee
    assert (again.outcome, again.detail) == (v.ALREADY_CHECKED_IN, "Checked in at 08:00 at Desk 1 by Vic")
    assert again.check_in_id == first.check_in_id
    assert seen.statements() == ["BEGIN IMMEDIATE", "SELECT", "COMMIT"]
    # The entry kind is part of the statement's text, not a parameter: a bound value that decides
    # whether the partial unique index applies makes SQLite prepare the statement again each time.
    [lookup] = [s for s in seen.sent if s.lstrip().upper().startswith("SELECT")]
    assert "check_in.kind = 'entry'" in lookup
    assert _entries(db) == 1


def test_refusals_are_one_read_each(ctx: ServiceContext, db: Database, conf: int, ticket: int) -> None:
    pending = _sell(ctx, conf, [("ticket", ticket, 1)], pay=False)
    [attendee] = AttendeeService(ctx).for_order(pending)
    with _watching(db) as seen:
        refused = CheckInService(ctx).scan(conf, attendee.access_code)
    assert (refused.outcome, refused.order_id) == (v.NOT_PAID, pending)
    assert seen.statements() == ["BEGIN IMMEDIATE", "SELECT", "COMMIT"]
    assert _entries(db) == 0


def test_a_scan_shows_the_add_ons_assigned_to_that_attendee_and_their_use(
        ctx: ServiceContext, db: Database, conf: int, ticket: int) -> None:
    dinner = factories.addon(db, conf, name="Dinner", price=D("30.00"), total_quantity=50, redeemable=True).id
    order = _sell(ctx, conf, [("ticket", ticket, 2), ("addon", dinner, 2)])
    first, second = AttendeeService(ctx).for_order(order)
    people, door = AttendeeService(ctx), CheckInService(ctx)
    line = people.addons(first.id)[0].order_line_id
    people.assign_addon(second.id, line, 0)
    people.assign_addon(first.id, line, 2)
    door.redeem(first.id, line)
    scanned = door.scan(conf, first.access_code)
    assert scanned.outcome == v.ADMITTED
    assert scanned.addons == people.addons(first.id)
    assert [u.label for u in scanned.addons] == ["Dinner: 1 of 2 used"]
    other = door.scan(conf, second.access_code)
    assert other.addons == people.addons(second.id) and other.addons[0].bought == 0
    assert other.next_step == ""


def test_a_scan_waits_for_another_programs_lock_then_admits(
        ctx: ServiceContext, db: Database, conf: int, ticket: int) -> None:
    order = _sell(ctx, conf, [("ticket", ticket, 1)])
    [attendee] = AttendeeService(ctx).for_order(order)
    waiting = threading.Event()
    db.write_wait.add(lambda now_waiting: waiting.set() if now_waiting else None)
    other = sqlite3.connect(str(db.engine.url.database), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")   # another program holds the write lock
    outcome: dict[str, Any] = {}

    def scan() -> None:
        try:
            outcome["result"] = CheckInService(ctx).scan(conf, attendee.access_code)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=contextvars.copy_context().run, args=(scan,))
    worker.start()
    try:
        assert waiting.wait(5), "nobody was told the database is in use"
        assert worker.is_alive() and _entries(db) == 0
    finally:
        other.execute("COMMIT")
        other.close()
    worker.join(10)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["result"].outcome == v.ADMITTED
    assert _entries(db) == 1
