"""Registrations from the web system's real PostgreSQL schema and sample, into a PostgreSQL desk.

The web database is made on the local server from ``schema.postgresql.sql`` and
``sample.postgresql.sql`` with psql, once for the module; each test that changes it upstream
makes its own.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from boxoffice.db.engine import Database
from boxoffice.domain.models import Attendee, CheckIn, Conference, Order, OrderStatus
from boxoffice.services.admin.conference_import import import_conference
from boxoffice.services.checkin.registrations import RegistrationService
from boxoffice.services.checkin.registrations_source import RegistrationSourceError, read_django_program
from boxoffice.services.checkin.registrations_state import fingerprints
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales import order_state
from boxoffice.timeutil import FixedClock
from tests.multidesk.conftest import PG_HOST, PG_PORT, PG_USER, create_database, drop_database, unique_db_name

SEEDS = Path("/work/shared/seeds")
WEB = SEEDS / "django-program"
SLUG = "python-2077"

pytestmark = pytest.mark.skipif(not (WEB / "schema.postgresql.sql").exists() or shutil.which("psql") is None,
                                reason="the django-program PostgreSQL files or psql are not on this machine")


def read_after(ctx: ServiceContext, url: str) -> set[str]:
    """The references a re-sync reads whole, given the fingerprints the desk holds."""
    with ctx.db.read() as session:
        known = fingerprints(session, session.scalars(select(Conference.id)).one(), "django-program")
    data = read_django_program(url, SLUG, known=known)
    assert data.unchanged + len(data.orders) == 50
    return {o.reference for o in data.orders}


def load_web_database(name: str) -> str:
    create_database(name)
    for part in ("schema.postgresql.sql", "sample.postgresql.sql"):
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER,
                        "-d", name, "-f", str(WEB / part)], check=True, capture_output=True)
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def upstream(name: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(user=PG_USER, host=PG_HOST, port=PG_PORT, dbname=name, connect_timeout=5,
                         autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def web(pg_server: None) -> Iterator[tuple[str, str]]:
    name = unique_db_name("djp_web")
    try:
        yield name, load_web_database(name)
    finally:
        drop_database(name)


@pytest.fixture
def desk(pg_db: Database) -> ServiceContext:
    ctx = ServiceContext(db=pg_db, clock=FixedClock())
    import_conference(ctx, Path(__file__).parents[1] / "data" / "conference.example.toml")
    return ctx


def test_the_postgresql_sample_imports_like_the_sqlite_one_and_again_changes_nothing(
        desk: ServiceContext, web: tuple[str, str]) -> None:
    _name, url = web
    service = RegistrationService(desk)
    first = service.import_registrations(url, SLUG)
    assert first.counts() == {"new": 50, "updated": 0, "unchanged": 0, "skipped": 0, "oversold": 0}
    assert first.check_ins == 13
    sqlite_copy = RegistrationService(desk).import_registrations(f"sqlite:///{WEB / 'sample.sqlite3'}", SLUG)
    # the SQLite copy of the same rows reads the same: nothing to change (column order, money types and
    # times differ between the engines)
    assert sqlite_copy.counts()["unchanged"] == 50 and sqlite_copy.updated == 0
    # the SQLite rows read as other text, so every order was compared and its fingerprint stored again
    assert read_after(desk, url) == {o.reference for o in read_django_program(url, SLUG).orders}
    again = service.import_registrations(url, SLUG)
    assert again.counts() == {"new": 0, "updated": 0, "unchanged": 50, "skipped": 0, "oversold": 0}
    assert read_after(desk, url) == set()
    with desk.db.read() as session:
        assert order_state.recount(session) == []
        assert session.scalar(select(func.count(Attendee.id)).where(Attendee.access_code == "0ELA4QKA")) == 1
        assert session.scalar(select(func.count(CheckIn.id))) == 13


def test_upstream_changes_skips_and_desk_facts_on_postgresql(desk: ServiceContext, web: tuple[str, str]) -> None:
    name, url = web
    service = RegistrationService(desk)
    service.import_registrations(url, SLUG)
    with desk.db.read() as session:
        liam = session.scalars(select(Attendee).join(Order).where(Order.reference == "ORD-CS9IVAB3")).one()
        liam_id = liam.id
    from boxoffice.services.checkin.admission import CheckInService
    from boxoffice.services.checkin.attendees import AttendeeService

    AttendeeService(desk).rename(liam_id, name="Liam at the Desk")
    CheckInService(desk).admit(liam_id)
    upstream(
        name,
        "UPDATE program_registration_order SET status = 'refunded' WHERE reference = 'ORD-GJJS2NMA'",
        "UPDATE program_registration_order SET status = 'cancelled', hold_expires_at = NULL "
        "WHERE reference = 'ORD-63Z5HZHY'",
        "UPDATE auth_user SET first_name = 'William' WHERE id = (SELECT user_id FROM program_registration_order "
        "WHERE reference = 'ORD-CS9IVAB3')",
        "UPDATE program_registration_tickettype SET slug = 'pupil' WHERE slug = 'student'",
    )
    read = read_after(desk, url)
    assert {"ORD-GJJS2NMA", "ORD-63Z5HZHY", "ORD-CS9IVAB3", "ORD-PAAOQGYF", "ORD-VGP5SB9B", "ORD-KGH2SE1I"} <= read
    assert len(read) < 20
    report = service.import_registrations(url, SLUG)
    assert report.updated == 2
    assert {s.reference for s in report.skipped} == {"ORD-PAAOQGYF", "ORD-VGP5SB9B", "ORD-KGH2SE1I"}
    assert any("Liam at the Desk" in c for c in report.conflicts)
    with desk.db.read() as session:
        assert order_state.recount(session) == []
        assert session.scalars(select(Order.status).where(Order.reference == "ORD-GJJS2NMA")).one() \
            == OrderStatus.REFUNDED
        kept = session.get(Attendee, liam_id)
        assert kept is not None and kept.name == "Liam at the Desk"
        assert session.scalar(select(func.count(CheckIn.id)).where(CheckIn.attendee_id == liam_id)) == 1


def test_a_postgresql_source_that_is_not_django_program_writes_nothing(
        desk: ServiceContext, pg_url: str, web: tuple[str, str]) -> None:
    desk_url = pg_url.replace("+psycopg", "")
    with pytest.raises(RegistrationSourceError, match="not a django-program database"):
        RegistrationService(desk).import_registrations(desk_url, SLUG)
    name, url = web
    upstream(name, "ALTER TABLE program_registration_payment DROP COLUMN status")
    with pytest.raises(RegistrationSourceError, match="another schema version.*payment lacks status"):
        RegistrationService(desk).import_registrations(url, SLUG)
    with pytest.raises(RegistrationSourceError, match="does not exist"):
        RegistrationService(desk).import_registrations(url + "_nope", SLUG)
    with desk.db.read() as session:
        assert session.scalar(select(func.count(Order.id))) == 0


def test_awkward_text_and_nulls_keep_their_exact_value_through_the_bulk_insert(
        desk: ServiceContext, web: tuple[str, str]) -> None:
    """Each column travels as one array literal on PostgreSQL: quotes, backslashes, braces, commas, the word
    NULL and non-ASCII come back as they were, and missing values stay NULL."""
    name, url = web
    awkward = 'O\'Brien "Bob" \\ {x,y} NULL, Zoë'
    upstream(name, "UPDATE auth_user SET first_name = 'O''Brien \"Bob\" \\ {x,y}', last_name = 'NULL, Zoë' "
                   "WHERE id = (SELECT user_id FROM program_registration_order WHERE reference = 'ORD-GJJS2NMA')",
             "UPDATE program_registration_order SET billing_company = 'a\"b\\c' WHERE reference = 'ORD-GJJS2NMA'")
    report = RegistrationService(desk).import_registrations(url, SLUG)
    assert report.new == 50 and not report.skipped
    with desk.db.read() as session:
        order = session.scalars(select(Order).where(Order.reference == "ORD-GJJS2NMA")).one()
        assert order.billing_company == 'a"b\\c'
        assert order.voucher_details == "" and order.needs_attention == ""   # column defaults applied
        buyer = session.scalars(select(Attendee).where(Attendee.order_id == order.id)
                                .order_by(Attendee.id)).first()
        assert buyer is not None and buyer.name == awkward
        assert buyer.customer_id == order.customer_id
        assert session.scalar(select(func.count(Order.id)).where(Order.hold_expires_at.is_(None))) >= 1
    again = RegistrationService(desk).import_registrations(url, SLUG)
    assert again.unchanged == 50
