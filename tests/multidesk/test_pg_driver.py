"""The psycopg driver on the real server: URL spellings, SQLSTATEs, constraint errors, lost connections, waits, round-trips."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from boxoffice.app import build_app
from boxoffice.config import normalise_database_url
from boxoffice.db.engine import Database, create_db_engine
from boxoffice.domain.models import StripeEvent, TicketType
from boxoffice.errors import ConcurrentChange, DatabaseUnavailable
from boxoffice.timeutil import UTC
from tests import factories
from tests.multidesk.conftest import PG_HOST, PG_PORT, PG_USER


def _spellings(pg_url: str) -> list[str]:
    rest = pg_url.split("://", 1)[1]
    return [f"postgresql://{rest}", f"postgres://{rest}", f"postgresql+pg8000://{rest}",
            f"postgresql+psycopg://{rest}"]


def test_every_postgresql_url_spelling_opens_the_database_with_psycopg(pg_url: str) -> None:
    for url in _spellings(pg_url):
        assert normalise_database_url(url).startswith("postgresql+psycopg://"), url
        db = Database(url)
        try:
            assert db.engine.dialect.driver == "psycopg"
            assert db.url.startswith("postgresql+psycopg://")
            with db.read() as session:
                assert session.scalar(text("SELECT current_database()")) == pg_url.rsplit("/", 1)[1]
        finally:
            db.dispose()


def _hold_row_lock(db: Database, conference_id: int) -> tuple[object, object]:
    other = db.engine.connect()
    tx = other.begin()
    other.execute(text("SELECT id FROM conference WHERE id = :id FOR UPDATE"), {"id": conference_id})
    return other, tx


def _lock_nowait(session: Session, conference_id: int) -> int:
    return session.execute(
        text("SELECT id FROM conference WHERE id = :id FOR UPDATE NOWAIT"), {"id": conference_id}
    ).scalar_one()


def test_a_row_another_desk_holds_is_a_concurrent_change(pg_db: Database) -> None:
    conf = factories.conference(pg_db)
    other, tx = _hold_row_lock(pg_db, conf.id)
    try:
        with pytest.raises(ConcurrentChange, match="Nothing was saved"), pg_db.write() as session:
            _lock_nowait(session, conf.id)  # 55P03 lock_not_available
    finally:
        tx.rollback()  # type: ignore[attr-defined]
        other.close()  # type: ignore[attr-defined]


def test_run_write_retries_a_lock_conflict_and_commits_once_it_clears(pg_db: Database) -> None:
    conf = factories.conference(pg_db)
    other, tx = _hold_row_lock(pg_db, conf.id)
    attempts: list[int] = []

    def work(session: Session) -> int:
        attempts.append(1)
        if len(attempts) == 2:
            tx.rollback()  # type: ignore[attr-defined]  # the other desk finishes between the tries
        return _lock_nowait(session, conf.id)

    try:
        assert pg_db.run_write(work) == conf.id
        assert len(attempts) == 2
    finally:
        if tx.is_active:  # type: ignore[attr-defined]
            tx.rollback()  # type: ignore[attr-defined]
        other.close()  # type: ignore[attr-defined]


def test_a_deadlock_between_two_desks_is_a_concurrent_change(pg_db: Database) -> None:
    a = factories.conference(pg_db, name="A", slug="a")
    b = factories.conference(pg_db, name="B", slug="b")

    other, tx = _hold_row_lock(pg_db, a.id)
    waiting = threading.Event()
    failures: list[BaseException] = []

    def other_desk() -> None:
        waiting.wait(10)
        try:
            # Waits for b (held below) while holding a: one of the two is chosen as the deadlock victim.
            other.execute(text("SELECT id FROM conference WHERE id = :id FOR UPDATE"), {"id": b.id})  # type: ignore[attr-defined]
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            tx.rollback()  # type: ignore[attr-defined]

    thread = threading.Thread(target=other_desk)
    thread.start()
    try:
        with pg_db.write() as session:
            session.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
            session.execute(text("SELECT id FROM conference WHERE id = :id FOR UPDATE"), {"id": b.id})
            waiting.set()
            session.execute(text("SELECT id FROM conference WHERE id = :id FOR UPDATE"), {"id": a.id})
    except ConcurrentChange:
        ours_failed = True
    else:
        ours_failed = False
    finally:
        waiting.set()
        thread.join(30)
        other.close()  # type: ignore[attr-defined]
    # Exactly one side is the victim; when it is the other desk, its error carries SQLSTATE 40P01.
    if not ours_failed:
        assert len(failures) == 1 and "40P01" in str(failures[0])
    else:
        assert failures == []


def test_a_statement_may_wait_longer_than_the_connect_timeout(pg_url: str) -> None:
    # The connect timeout bounds connecting only: a row lock held longer by another desk is waited for.
    engine = create_db_engine(pg_url, connect_args={"connect_timeout": 1})
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 7 FROM pg_sleep(1.5)")).scalar_one() == 7
            assert conn.execute(text("SELECT 8")).scalar_one() == 8
    finally:
        engine.dispose()


@pytest.mark.parametrize(("who_where", "says"), [
    (f"{PG_USER}@{PG_HOST}:{PG_PORT}/boxoffice_no_such_database", "cannot be reached"),  # FATAL 3D000
    (f"boxoffice_no_such_role@{PG_HOST}:{PG_PORT}/postgres", "refused this desk's user name"),  # FATAL 28000
    (f"{PG_USER}@{PG_HOST}:1/postgres", "cannot be reached"),  # nothing listens: libpq's own failure
])
def test_a_server_that_refuses_the_session_is_a_clear_user_error(pg_server: None, who_where: str,
                                                                  says: str) -> None:
    with pytest.raises(DatabaseUnavailable, match=says):
        build_app(f"postgresql://{who_where}", use_stripe=False)


def test_foreign_key_and_check_violations_are_integrity_errors(pg_db: Database) -> None:
    conf = factories.conference(pg_db)
    tt = factories.ticket_type(pg_db, conf.id)
    with pytest.raises(IntegrityError) as fk, pg_db.write() as session:
        session.execute(update(TicketType).where(TicketType.id == tt.id).values(conference_id=conf.id + 999))
    assert getattr(fk.value.orig, "sqlstate", None) == "23503"   # foreign_key_violation
    with pytest.raises(IntegrityError) as check, pg_db.write() as session:
        session.execute(update(TicketType).where(TicketType.id == tt.id).values(price=Decimal("-1.00")))
    assert getattr(check.value.orig, "sqlstate", None) == "23514"   # check_violation
    with pg_db.read() as session:
        assert session.get(TicketType, tt.id).price >= 0  # type: ignore[union-attr]


def _terminate_other_backends(pg_db: Database) -> None:
    """What a server restart or an administrator does to every other desk's session."""
    admin = create_db_engine(pg_db.url, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            conn.commit()
    finally:
        admin.dispose()


def test_a_session_the_server_ends_mid_transaction_is_database_unavailable(pg_db: Database) -> None:
    conf = factories.conference(pg_db)
    with pytest.raises(DatabaseUnavailable, match="cannot be reached. Nothing was saved"), \
            pg_db.write() as session:
        session.execute(text("SELECT id FROM conference WHERE id = :id FOR UPDATE"), {"id": conf.id})
        _terminate_other_backends(pg_db)
        session.execute(text("SELECT 1"))
    # The pool's pre-ping replaces the dead connections: the next unit of work just works.
    with pg_db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM conference")) == 1


def test_a_connection_lost_while_reading_is_database_unavailable(pg_db: Database) -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot be reached"), pg_db.connect() as conn:
        conn.execute(text("SELECT 1"))
        _terminate_other_backends(pg_db)
        conn.execute(text("SELECT 1"))


def test_money_times_and_json_round_trip_exactly(pg_db: Database) -> None:
    conf = factories.conference(pg_db)
    tt = factories.ticket_type(pg_db, conf.id, price=Decimal("1234567.05"))
    when = datetime(2027, 3, 28, 1, 30, 15, 123456, tzinfo=UTC)
    payload = {"id": "evt_1", "amount": 1999, "nested": {"ok": True, "list": [1, "zwei", None]}, "name": "Zoë ✓"}
    with pg_db.write() as session:
        session.add(StripeEvent(stripe_id="evt_1", kind="charge.succeeded", payload=payload,
                                created_at=when))
    with pg_db.read() as session:
        price = session.scalar(select(TicketType.price).where(TicketType.id == tt.id))
        stored, created_at = session.execute(
            select(StripeEvent.payload, StripeEvent.created_at).where(StripeEvent.stripe_id == "evt_1")
        ).one()
        raw = session.execute(text("SELECT price, created_at FROM ticket_type WHERE id = :id"), {"id": tt.id}).one()
    assert isinstance(price, Decimal) and str(price) == "1234567.05"
    assert stored == payload
    assert created_at == when and created_at.utcoffset() == timedelta(0)
    # What the driver itself hands back, under the column types: Decimal and aware datetimes.
    assert isinstance(raw.price, Decimal) and raw.created_at.tzinfo is not None
