"""``boxoffice checkin CODE``: one JSON line, exit 0 admitted or already in, 1 refused; as a named operator."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from boxoffice.db.engine import Database, sqlite_url
from boxoffice.services.checkin.attendees import AttendeeService
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.payments import PaymentService
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.customers import CustomerService
from boxoffice.services.staff.access import SYSTEM, acting_as
from boxoffice.services.staff.auth import AuthService
from tests.services.test_cli import ADMIN, AS_OPERATOR, boxoffice, first_admin

VOLUNTEER = {"BOXOFFICE_OPERATOR_SECRET": "246813"}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def desk(tmp_path: Path, home: Path) -> tuple[Path, str, str]:
    """A demo database with a volunteer, one paid and one unpaid order: (file, paid code, unpaid code)."""
    dbfile = tmp_path / "desk.sqlite3"
    first_admin(dbfile, home)
    assert boxoffice("seed-demo", "--database", str(dbfile), *ADMIN, home=home, env=AS_OPERATOR).returncode == 0
    db = Database(sqlite_url(dbfile))
    try:
        ctx = ServiceContext(db=db)
        with acting_as(SYSTEM):
            AuthService(ctx).add_staff("Vic", "volunteer", "246813")
            with db.read() as session:
                from boxoffice.domain.models import Conference, TicketType

                conference = session.query(Conference).one()
                ticket = session.query(TicketType).filter_by(conference_id=conference.id, slug="individual").one()
                assert ticket is not None
                conference_id, ticket_id = conference.id, ticket.id
            codes = []
            for name, pay in (("Ada Lovelace", True), ("Bob Unpaid", False)):
                customer = CustomerService(ctx).get_or_create(name=name, email=f"{name[:3].lower()}@example.org",
                                                              company="")
                cart = CartService(ctx).open_cart(conference_id, customer.id)
                CartService(ctx).add_ticket(cart.id, ticket_id, 1)
                order = CheckoutService(ctx).checkout(cart.id)
                if pay:
                    if order.total:
                        PaymentService(ctx).pay_manual(order.id, order.total, reference="BANK-1")
                    else:
                        PaymentService(ctx).complete_free_order(order.id)
                codes.append(AttendeeService(ctx).for_order(order.id)[0].access_code)
    finally:
        db.dispose()
    return dbfile, codes[0], codes[1]


def _entries(dbfile: Path) -> int:
    with sqlite3.connect(dbfile) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM check_in").fetchone()[0])


def test_checkin_prints_one_json_line_and_exits_0_when_admitted_or_already_in(
        desk: tuple[Path, str, str], home: Path) -> None:
    dbfile, paid, _unpaid = desk
    args = ("checkin", paid.lower(), "--desk", "Door 2", "--operator", "Vic", "--database", str(dbfile))
    first = boxoffice(*args, home=home, env=VOLUNTEER)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["result"] == "admitted" and result["attendee"] == "Ada Lovelace"
    assert result["desk"] == "Door 2" and result["by"] == "Vic" and result["checked_in_at"]
    assert result["ticket_type"]
    again = boxoffice(*args, home=home, env=VOLUNTEER)
    assert again.returncode == 0, again.stderr
    repeat = json.loads(again.stdout)
    assert repeat["result"] == "already_checked_in" and repeat["desk"] == "Door 2"
    assert repeat["checked_in_at"] == result["checked_in_at"]
    assert _entries(dbfile) == 1


def test_checkin_refusals_exit_1_and_write_nothing(desk: tuple[Path, str, str], home: Path) -> None:
    dbfile, _paid, unpaid = desk
    for code, outcome in ((unpaid, "not_paid"), ("GARBAGE!!", "unknown")):
        done = boxoffice("checkin", code, "--operator", "Vic", "--database", str(dbfile), home=home, env=VOLUNTEER)
        assert done.returncode == 1, done.stderr
        assert json.loads(done.stdout)["result"] == outcome
    assert _entries(dbfile) == 0


def test_checkin_without_a_valid_operator_is_refused(desk: tuple[Path, str, str], home: Path) -> None:
    dbfile, paid, _unpaid = desk
    nobody = boxoffice("checkin", paid, "--database", str(dbfile), home=home, env=VOLUNTEER)
    assert nobody.returncode == 1 and "--operator NAME" in nobody.stderr and not nobody.stdout
    wrong = boxoffice("checkin", paid, "--operator", "Vic", "--database", str(dbfile), home=home,
                      env={"BOXOFFICE_OPERATOR_SECRET": "111111"})
    assert wrong.returncode == 1 and not wrong.stdout
    assert _entries(dbfile) == 0
