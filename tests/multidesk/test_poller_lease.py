"""Exactly one desk polls Stripe; another takes over within a minute when the holder dies or hangs."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from boxoffice.db.engine import Database
from boxoffice.db.locks import PollerLease, lease_rows
from boxoffice.timeutil import FixedClock
from tests.multidesk.workers import hold_lease

TAKEOVER_DEADLINE_S = 60.0


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 0.1) -> float:
    """Poll ``condition`` until true; returns the seconds it took (fails the test on timeout)."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"condition not met within {timeout} s")
        time.sleep(step)
    return time.monotonic() - start


@pytest.fixture
def spawn() -> Iterator[multiprocessing.context.SpawnContext]:
    ctx = multiprocessing.get_context("spawn")
    yield ctx
    for child in multiprocessing.active_children():
        child.kill()
        child.join(5)


# --------------------------------------------------------------------------- PostgreSQL


def test_only_one_desk_holds_the_pg_lease(pg_db: Database) -> None:
    a = PollerLease(pg_db, holder="desk-a")
    b = PollerLease(pg_db, holder="desk-b")
    try:
        assert a.ensure() is True
        assert b.ensure() is False
        assert a.ensure() is True  # renewal keeps it
        assert a.held and not b.held
        a.release()
        assert b.ensure() is True
        assert a.ensure() is False
    finally:
        a.close()
        b.close()


def test_pg_lease_taken_over_when_holder_process_exits(
    pg_url: str, spawn: multiprocessing.context.SpawnContext
) -> None:
    acquired, die = spawn.Event(), spawn.Event()
    proc = spawn.Process(target=hold_lease, args=(pg_url, 30.0, acquired, die, "exit", "dying-desk"))
    proc.start()
    assert acquired.wait(30), "the holder process never took the lease"
    db = Database(pg_url)
    taker = PollerLease(db, holder="survivor")
    try:
        assert taker.ensure() is False  # held by the other process
        die.set()
        proc.join(10)
        assert proc.exitcode == 0
        took = wait_until(taker.ensure, TAKEOVER_DEADLINE_S)
        assert took < TAKEOVER_DEADLINE_S
        assert taker.held
    finally:
        taker.close()
        db.dispose()


def test_pg_lease_taken_over_when_holder_hangs(
    pg_url: str, spawn: multiprocessing.context.SpawnContext
) -> None:
    """A hung holder keeps its process and connection but stops renewing: the server drops it."""
    lease_s = 2.0
    acquired, die = spawn.Event(), spawn.Event()
    proc = spawn.Process(target=hold_lease, args=(pg_url, lease_s, acquired, die, "hang", "hung-desk"))
    proc.start()
    assert acquired.wait(30), "the holder process never took the lease"
    db = Database(pg_url)
    taker = PollerLease(db, holder="survivor", lease_seconds=lease_s)
    try:
        assert taker.ensure() is False
        took = wait_until(taker.ensure, TAKEOVER_DEADLINE_S, step=0.25)
        assert took < 4 * lease_s + 2
        assert proc.is_alive()  # it was a hang, not an exit
    finally:
        taker.close()
        db.dispose()


def test_pg_holder_that_missed_renewals_knows_it_lost_the_lease(pg_db: Database) -> None:
    holder = PollerLease(pg_db, holder="sleepy", lease_seconds=1.0)
    other = PollerLease(pg_db, holder="awake", lease_seconds=1.0)
    try:
        assert holder.ensure()
        wait_until(other.ensure, 15, step=0.2)
        assert holder.held is False
        assert holder.ensure() is False  # wakes up, finds the lease taken, does not poll
        assert other.ensure() is True
    finally:
        holder.close()
        other.close()


# --------------------------------------------------------------------------- SQLite lease row


def test_sqlite_lease_row_excludes_a_second_desk_until_it_expires(db: Database) -> None:
    clock = FixedClock()
    a = PollerLease(db, holder="desk-a", lease_seconds=30, clock=clock)
    b = PollerLease(db, holder="desk-b", lease_seconds=30, clock=clock)
    assert a.ensure() is True
    assert b.ensure() is False
    clock.advance(seconds=29)
    assert b.ensure() is False
    clock.advance(seconds=2)  # desk-a stopped renewing 31 s ago: its lease has expired
    assert b.ensure() is True
    assert [(r.name, r.holder) for r in lease_rows(db)] == [("stripe-poller", "desk-b")]
    assert a.ensure() is False  # desk-a wakes up: taken, so it must not poll


def test_sqlite_renewal_pushes_the_expiry_forward(db: Database) -> None:
    clock = FixedClock()
    a = PollerLease(db, holder="desk-a", lease_seconds=30, clock=clock)
    b = PollerLease(db, holder="desk-b", lease_seconds=30, clock=clock)
    assert a.ensure()
    for _ in range(4):
        clock.advance(seconds=20)
        assert a.ensure() is True
        assert b.ensure() is False
    info = a.holder_info()
    assert info is not None and info.holder == "desk-a"
    assert info.expires_at == clock.now() + timedelta(seconds=30)


def test_sqlite_release_frees_the_lease_at_once(db: Database) -> None:
    clock = FixedClock()
    a = PollerLease(db, holder="desk-a", clock=clock)
    b = PollerLease(db, holder="desk-b", clock=clock)
    assert a.ensure()
    a.release()
    assert lease_rows(db) == []
    assert b.ensure() is True


def test_sqlite_lease_taken_over_after_holder_process_exits(
    db: Database, spawn: multiprocessing.context.SpawnContext
) -> None:
    acquired, die = spawn.Event(), spawn.Event()
    proc = spawn.Process(target=hold_lease, args=(db.url, 30.0, acquired, die, "exit", "dying-desk"))
    proc.start()
    assert acquired.wait(30)
    die.set()
    proc.join(10)
    clock = FixedClock()
    clock.current = lease_rows(db)[0].expires_at - timedelta(seconds=1)
    taker = PollerLease(db, holder="survivor", clock=clock)
    assert taker.ensure() is False  # the dead desk's lease still runs for a second
    clock.advance(seconds=1)
    assert taker.ensure() is True
