"""Sync bookkeeping in SyncState rows: the event cursor, this database's instance id, the poller lease."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, cast, func, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from boxoffice.domain.models import SyncState
from boxoffice.services.money.card_payments import INSTANCE_KEY, instance_id

__all__ = [
    "INSTANCE_KEY",
    "PassState",
    "acquire_lease",
    "advance_cursor",
    "finish_pass",
    "instance_id",
    "read_cursor",
    "read_pass",
    "release_lease",
    "save_pass",
]

CURSOR_KEY = "stripe_events_cursor"
LEASE_KEY = "stripe_poller_lease"
LAST_POLL_KEY = "stripe_last_successful_poll"
PASS_KEY = "stripe_events_pass"


@dataclass(frozen=True)
class PassState:
    """A catch-up pass under way: its lower bound, the last event id read, the newest ``created`` seen.

    Stripe lists newest first, so the cursor may only move once a pass has read every page down to
    its lower bound; until then an interrupted pass is continued from ``after`` by the next poll.
    """

    created_gte: int | None
    after: str
    newest: int


def _row(session: Session, key: str, *, lock: bool = False) -> SyncState | None:
    query = select(SyncState).where(SyncState.key == key)
    if lock:
        query = query.with_for_update()
    return session.scalar(query)


def _put(session: Session, key: str, value: str, now: datetime) -> None:
    row = _row(session, key, lock=True)
    if row is None:
        session.add(SyncState(key=key, value=value, updated_at=now))
    elif row.value != value:
        row.value = value
        row.updated_at = now


def read_cursor(session: Session) -> int | None:
    """Stripe ``created`` (epoch seconds) of the newest event stored so far, or None before the first poll."""
    row = _row(session, CURSOR_KEY)
    return int(row.value) if row is not None and row.value.strip() else None


def advance_cursor(session: Session, created: int, now: datetime) -> None:
    """Move the cursor forward only (a page of older events never moves it back): one upsert."""
    dialect = session.get_bind().dialect.name
    if dialect not in ("sqlite", "postgresql"):
        current = read_cursor(session)
        if current is None or created > current:
            _put(session, CURSOR_KEY, str(created), now)
        return
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = SyncState.__table__
    statement = insert(table).values(key=CURSOR_KEY, value=str(created), updated_at=now)
    session.execute(statement.on_conflict_do_update(
        index_elements=[table.c.key],
        set_={"value": statement.excluded.value, "updated_at": statement.excluded.updated_at},
        where=or_(func.trim(table.c.value) == "",
                  cast(table.c.value, BigInteger) < cast(statement.excluded.value, BigInteger)),
    ))


def read_pass(session: Session) -> PassState | None:
    """The interrupted catch-up pass to continue, or None when the last pass finished."""
    row = _row(session, PASS_KEY)
    if row is None or not row.value:
        return None
    try:
        data = json.loads(row.value)
        gte = data["gte"]
        return PassState(int(gte) if gte is not None else None, str(data["after"]), int(data["newest"]))
    except (ValueError, KeyError, TypeError):
        return None


def save_pass(session: Session, state: PassState, now: datetime) -> None:
    """Record how far the pass has read, in the transaction that stored the page."""
    value = json.dumps({"gte": state.created_gte, "after": state.after, "newest": state.newest})
    _put(session, PASS_KEY, value, now)


def finish_pass(session: Session, newest: int, now: datetime) -> None:
    """Every page of the pass is stored: the cursor moves to its newest event and the pass is closed."""
    if newest > 0:
        advance_cursor(session, newest, now)
    row = _row(session, PASS_KEY, lock=True)
    if row is not None and row.value:
        row.value, row.updated_at = "", now


def read_instance_id(session: Session) -> str:
    row = _row(session, INSTANCE_KEY)
    return row.value if row is not None else ""


def acquire_lease(session: Session, holder: str, now: datetime, seconds: int = 60) -> bool:
    """One poller per database at a time (several desks share PostgreSQL); a lapsed lease is taken over."""
    row = _row(session, LEASE_KEY, lock=True)
    if row is not None and row.value:
        try:
            data = json.loads(row.value)
            held_by, until = str(data["holder"]), datetime.fromisoformat(data["until"])
        except (ValueError, KeyError, TypeError):
            held_by, until = "", now
        if held_by != holder and until > now:
            return False
    _put(
        session,
        LEASE_KEY,
        json.dumps({"holder": holder, "until": (now + timedelta(seconds=seconds)).isoformat()}),
        now,
    )
    return True


def release_lease(session: Session, holder: str, now: datetime) -> None:
    row = _row(session, LEASE_KEY, lock=True)
    if row is not None and row.value:
        try:
            if json.loads(row.value).get("holder") == holder:
                row.value, row.updated_at = "", now
        except ValueError:
            row.value = ""


def record_successful_poll(session: Session, now: datetime) -> None:
    _put(session, LAST_POLL_KEY, now.isoformat(), now)


def last_successful_poll(session: Session) -> datetime | None:
    row = _row(session, LAST_POLL_KEY)
    return datetime.fromisoformat(row.value) if row is not None and row.value else None
