"""Event sync by polling: fetch /v1/events page by page into StripeEvent rows, then apply them in order."""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import sqlite3
import threading
import traceback
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import Connection, and_, bindparam, or_, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from boxoffice.db.types import UTCDateTime
from boxoffice.domain.models import (
    CARD_METHODS,
    EventProcessingException,
    Order,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
    StripeEvent,
)
from boxoffice.errors import ConfigError
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.ports import EventPage, GatewayRequestRefused, GatewayUnavailable
from boxoffice.stripe_sync import cursor
from boxoffice.stripe_sync.handlers import (
    HANDLED_TYPES,
    HandlerContext,
    RefundLister,
    apply_event,
    event_problem,
    not_ours,
)

log = logging.getLogger(__name__)

SAFETY_MARGIN_SECONDS = 300  # events can become visible a little after their ``created`` time
PAGE_SIZE = 100
PROCESS_BATCH = 100
MAX_BACKOFF = timedelta(hours=1)
EVENT_WINDOW = timedelta(days=30)  # Stripe keeps events for 30 days
WARN_AFTER = timedelta(days=25)
REFUND_WINDOW = timedelta(days=180)  # how long after a card charge Stripe still refunds it
DISPUTE_WINDOW = timedelta(days=120)  # and how long after it the cardholder may dispute it
LOOK_BACK = max(REFUND_WINDOW, DISPUTE_WINDOW)  # paid card payments older than that cannot change any more
LOOKUP_WORKERS = 4  # objects looked up at once past the event window (each one a GET)


class MalformedEvent(ValueError):
    """Stripe sent an event this desk cannot read; it is kept, failed, with the reason."""


class EventSource(Protocol):
    def list_events_page(
        self,
        *,
        created_gte: int | None,
        starting_after: str | None,
        types: Sequence[str] = (),
        limit: int = 100,
    ) -> EventPage: ...


@runtime_checkable
class ObjectSource(Protocol):
    """What the catch-up past Stripe's event window reads besides the events (the gateway has it all)."""

    def list_objects_page(
        self, kind: str, *, created_gte: int, starting_after: str | None, limit: int = 100
    ) -> EventPage: ...

    def retrieve_object(
        self, kind: str, object_id: str, *, expand: Sequence[str] = ()
    ) -> dict[str, Any] | None: ...

    def list_charge_refunds(self, charge_id: str) -> list[dict[str, Any]]: ...

    def list_charge_disputes(self, charge_id: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class SyncReport:
    fetched: int
    new: int
    processed: int
    ignored: int
    failed: int
    online: bool = True
    message: str = ""
    finished_at: datetime | None = None
    warning: str = ""  # the last successful poll is near (or past) Stripe's 30-day event window

    def as_dict(self) -> dict[str, int]:
        return {
            "fetched": self.fetched,
            "new": self.new,
            "processed": self.processed,
            "ignored": self.ignored,
            "failed": self.failed,
        }


@dataclass(frozen=True)
class EventView:
    id: int
    stripe_id: str
    kind: str
    stripe_created: int
    processed: bool
    ignored: bool
    attempts: int
    next_attempt_at: datetime | None
    last_error: str


@dataclass(frozen=True)
class ExceptionView:
    id: int
    event_id: int | None
    stripe_id: str
    kind: str
    message: str
    traceback: str
    created_at: datetime


_SQLITE_PAGE_INSERT = sql_text(
    "INSERT INTO stripe_event (stripe_id, kind, livemode, payload, customer_id, api_version, processed, "
    "created_at, stripe_created, ignored, attempts) "
    "SELECT json_extract(value, '$.stripe_id'), json_extract(value, '$.kind'), "
    "json_extract(value, '$.livemode'), json_extract(value, '$.payload'), "
    "json_extract(value, '$.customer_id'), json_extract(value, '$.api_version'), "
    "json_extract(value, '$.processed'), :now, json_extract(value, '$.stripe_created'), "
    "json_extract(value, '$.ignored'), json_extract(value, '$.attempts') "
    "FROM json_each(:page) WHERE true ON CONFLICT (stripe_id) DO NOTHING RETURNING ignored"
).bindparams(bindparam("now", type_=UTCDateTime()))


def _put(ready: queue.Queue[tuple[str, Any]], stop: threading.Event, item: tuple[str, Any]) -> None:
    """Queue ``item`` for the storing thread unless it has stopped listening."""
    while not stop.is_set():
        try:
            ready.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


def _created(event: dict[str, Any]) -> int:
    """Stripe's ``created`` (epoch seconds), or 0 when it is not a number (the event then fails)."""
    created = event.get("created")
    return created if isinstance(created, int) and not isinstance(created, bool) and created >= 0 else 0


def _newest(events: list[Any]) -> int:
    return max((_created(e) for e in events if isinstance(e, dict)), default=0)


def _last_id(events: list[Any]) -> str:
    """The id the next page starts after: the last event on the page that has one."""
    for event in reversed(events):
        event_id = event.get("id") if isinstance(event, dict) else None
        if isinstance(event_id, str) and event_id:
            return event_id
    return ""


def _make_storable(rows: list[dict[str, Any]]) -> None:
    """A payload that cannot be written as JSON (nested too deep, odd values) is replaced by a note
    saying why, so the event is stored and fails with that reason instead of stopping the sync."""
    try:
        json.dumps([r["payload"] for r in rows])
        return
    except (ValueError, TypeError, RecursionError):
        pass
    for row in rows:
        try:
            json.dumps(row["payload"])
        except (ValueError, TypeError, RecursionError) as exc:
            reason = "nested too deep" if isinstance(exc, RecursionError) else f"not JSON ({exc})"
            row["payload"] = {"id": row["stripe_id"], "type": row["kind"],
                              "boxoffice_problem": f"The event could not be stored: {reason}."}


def window_warning(last_success: datetime | None, now: datetime) -> str:
    """A warning when the last successful poll is older than 25 days ("" otherwise)."""
    if last_success is None or now - last_success <= WARN_AFTER:
        return ""
    days = (now - last_success).days
    if now - last_success < EVENT_WINDOW:
        return (f"The last successful sync with Stripe was {days} days ago. Stripe keeps events for 30 "
                "days only: connect this desk to Stripe soon, or card payments and refunds made "
                "meanwhile may never reach the orders.")
    return (f"The last successful sync with Stripe was {days} days ago, longer than the 30 days Stripe "
            "keeps events: some card payments, refunds or disputes may be missing. Compare the orders "
            "with the Stripe dashboard.")


def caught_up_warning(last_success: datetime, now: datetime, found: int) -> str:
    """After a catch-up from the objects themselves: what was done, and what still deserves a look."""
    days = (now - last_success).days
    return (f"The last successful sync with Stripe was {days} days ago, longer than the 30 days Stripe keeps "
            "events, so the card payments, refunds and disputes made since were read from Stripe directly, "
            f"and each card payment still open or made in the last {days + LOOK_BACK.days} days was "
            f"looked up ({found} objects read). Changes to older card payments may be missing. Compare the "
            "orders with the Stripe dashboard.")


def _intent_event_type(intent: dict[str, Any]) -> str:
    status = intent.get("status")
    if status == "succeeded":
        return "payment_intent.succeeded"
    if status == "canceled":
        return "payment_intent.canceled"
    if status == "requires_payment_method" and intent.get("last_payment_error"):
        return "payment_intent.payment_failed"
    return ""  # still open (processing, requires capture, ...): its events come later, within the window


def _dispute_event_type(dispute: dict[str, Any]) -> str:
    closed = dispute.get("status") in ("won", "lost", "warning_closed", "charge_refunded")
    return "charge.dispute.closed" if closed else "charge.dispute.created"


def _session_event_type(cs: dict[str, Any]) -> str:
    status = cs.get("status")
    if status == "complete":
        return "checkout.session.completed"  # paid, or paid by a method whose money comes later
    return "checkout.session.expired" if status == "expired" else ""


# kind listed -> the event type the object stands for ("" to skip it)
_CATCH_UP_KINDS: tuple[tuple[str, Any], ...] = (
    ("payment_intent", _intent_event_type),
    ("refund", lambda refund: "refund.updated"),
    ("dispute", _dispute_event_type),
)


def object_as_event(kind: str, obj: dict[str, Any], event_type: str) -> dict[str, Any]:
    """A stand-in event for an object read directly: the same handlers apply it. Its id names the object,
    its state and a digest of all it says, so a second catch-up of an unchanged object stores nothing new
    and any change (a charge refunded again) is applied."""
    created = obj.get("created")
    state = obj.get("status") if isinstance(obj.get("status"), str) else ""
    try:
        digest = hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]
    except (ValueError, TypeError, RecursionError):
        digest = ""
    return {
        "id": f"catchup_{obj.get('id')}_{state}_{digest}"[:255],
        "object": "event",
        "type": event_type,
        "created": created if isinstance(created, int) and not isinstance(created, bool) else 0,
        "livemode": obj.get("livemode") is True,
        "api_version": None,
        "data": {"object": obj},
        "boxoffice_catch_up": kind,
    }


@dataclass(frozen=True)
class LiveObject:
    """A local card payment whose Stripe objects may have changed while their events were lost."""

    intent: str
    charge: str
    session: str  # the Checkout Session of a pay-on-phone attempt Stripe has not paid yet
    paid: bool  # paid: its charge is read (refunds, disputes); else the attempt's intent or session
    refunds_known: bool  # Box Office has card refunds of it
    disputed: bool  # its order has an open dispute


LIVE_ATTEMPT = (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)


def live_objects(session: Session, since: datetime) -> list[LiveObject]:
    """What Stripe may have changed after ``since`` that no list by creation shows: every card attempt
    still open (its intent or Checkout Session), and every paid card payment whose charge Stripe can
    still refund or see disputed, has a refund pending, or has an open dispute."""
    horizon = since - LOOK_BACK
    card_refund = select(Refund.id).where(Refund.payment_id == Payment.id, Refund.method == RefundMethod.CARD)
    pending_refund = card_refund.where(Refund.status == RefundStatus.PENDING)
    rows = session.execute(
        select(Payment.status, Payment.method, Payment.stripe_payment_intent_id, Payment.stripe_charge_id,
               Payment.reference, Order.disputed, card_refund.exists())
        .join(Order, Order.id == Payment.order_id)
        .where(
            Payment.method.in_(CARD_METHODS),
            or_(
                Payment.status.in_(LIVE_ATTEMPT),
                and_(Payment.status.in_(PAID),
                     or_(Payment.created_at >= horizon, Order.disputed.is_(True), pending_refund.exists())),
            ),
        )
        .order_by(Payment.id)
    ).all()
    found = []
    for status, method, intent, charge, reference, disputed, refunds_known in rows:
        session_id = reference if method == PaymentMethod.STRIPE and reference.startswith("cs_") else ""
        paid = status in PAID
        if (paid and not (intent or charge)) or (not paid and not (intent or session_id)):
            continue  # nothing Stripe could be asked about
        found.append(LiveObject(intent, charge, session_id, paid, bool(refunds_known), bool(disputed)))
    return found


def _positive(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def look_up(source: ObjectSource, live: LiveObject) -> tuple[int, list[dict[str, Any]]]:
    """Read one live object from Stripe: (objects read, the stand-in events for what it says now)."""
    if not live.paid:
        kind = "payment_intent" if live.intent else "checkout_session"
        obj = source.retrieve_object(kind, live.intent or live.session)
        if obj is None:
            return 0, []
        event_type = _intent_event_type(obj) if live.intent else _session_event_type(obj)
        return 1, [object_as_event(kind, obj, event_type)] if event_type else []
    charge = source.retrieve_object("charge", live.charge) if live.charge else None
    if charge is None and live.intent:
        intent = source.retrieve_object("payment_intent", live.intent, expand=("latest_charge",))
        latest = intent.get("latest_charge") if intent is not None else None
        charge = latest if isinstance(latest, dict) else None
    charge_id = charge.get("id") if charge is not None else None
    if charge is None or not isinstance(charge_id, str) or not charge_id:
        return 0, []
    read, events = 1, []
    if _positive(charge.get("amount_refunded")) or live.refunds_known:
        refunds = source.list_charge_refunds(charge_id)
        read += len(refunds)
        listed = {"object": "list", "data": refunds, "has_more": False}
        events.append(object_as_event("charge", {**charge, "refunds": listed}, "charge.refunded"))
    if charge.get("disputed") is True or live.disputed:
        disputes = source.list_charge_disputes(charge_id)
        read += len(disputes)
        events.extend(object_as_event("dispute", d, _dispute_event_type(d)) for d in disputes)
    return read, events


def retry_delay(attempts: int) -> timedelta:
    """Backoff for a failing event: 10 s, 20 s, 40 s, ... up to an hour."""
    return min(timedelta(seconds=10 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


class Poller:
    """Catch up with Stripe's events and apply them; every step idempotent, memory flat."""

    def __init__(
        self,
        ctx: ServiceContext,
        source: EventSource | None,
        *,
        holder: str | None = None,
        page_size: int = PAGE_SIZE,
        safety_margin: int = SAFETY_MARGIN_SECONDS,
    ) -> None:
        self._ctx, self._source = ctx, source
        # Unique per process: two desks may share a name, and a restarted desk must not reuse a lease.
        self._holder = holder or f"{ctx.desk_name}#{uuid.uuid4().hex[:8]}"
        self._page_size, self._margin = page_size, safety_margin
        self._instance_cache: str | None = None
        lister = getattr(source, "list_charge_refunds", None)
        self._refunds_of: RefundLister | None = lister if callable(lister) else None

    # ------------------------------------------------------------------ one catch-up

    def poll_once(self) -> SyncReport:
        """Fetch every page since the cursor (minus a margin), store it, then process what is due.

        When Stripe cannot be reached the report says so (``online`` False, ``message``); events
        already stored are still processed, so the desk catches up as far as it can.
        """
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            if not cursor.acquire_lease(session, self._holder, now):
                return SyncReport(0, 0, 0, 0, 0, message="another desk is syncing", finished_at=now)
        problem = ""
        with self._ctx.db.read() as session:
            last_success = cursor.last_successful_poll(session)
        warning = window_warning(last_success, now)
        if warning:
            log.warning("stripe sync: %s", warning)
        try:
            fetched = new = settled = 0
            if last_success is not None and now - last_success >= EVENT_WINDOW:
                # The events since then are partly gone: read the objects created since, then the events.
                fetched, new, settled, problem = self._catch_up_objects(last_success)
                if not problem:
                    warning = caught_up_warning(last_success, now, fetched)
            if not problem:
                more_fetched, more_new, more_settled, problem = self._fetch()
                fetched, new, settled = fetched + more_fetched, new + more_new, settled + more_settled
            processed, ignored, failed = self.process_pending()
            ignored += settled
            if not problem:
                with self._ctx.db.write() as session:
                    cursor.record_successful_poll(session, self._ctx.clock.now())
        finally:
            with self._ctx.db.write() as session:
                cursor.release_lease(session, self._holder, self._ctx.clock.now())
        report = SyncReport(
            fetched,
            new,
            processed,
            ignored,
            failed,
            online=not problem,
            message=problem,
            finished_at=self._ctx.clock.now(),
            warning=warning,
        )
        if fetched or processed or failed:
            log.info("stripe sync: %s", report.as_dict())
        return report

    def _fetch(self) -> tuple[int, int, int, str]:
        """Returns (fetched, new, new but settled as ignored at once, why Stripe failed or "").

        Pages stored before Stripe failed stay stored (and are counted). Stripe lists newest first,
        so the cursor moves only when a pass has read every page down to its lower bound; a pass cut
        short is continued from its last event by the next poll (``cursor.PassState``).

        The next page is fetched on a helper thread while this one is stored (at most two pages in
        memory, however long the backlog): network and database waits overlap.
        """
        if self._source is None:
            return 0, 0, 0, ""
        with self._ctx.db.read() as session:
            last = cursor.read_cursor(session)
            state = cursor.read_pass(session)
        if state is None:
            created_gte = max(last - self._margin, 0) if last is not None else None
            state = cursor.PassState(created_gte, "", last or 0)
        fetched = new = settled = 0
        try:
            try:
                for events, after in self._pages(state.created_gte, state.after or None):
                    fetched += len(events)
                    state = cursor.PassState(state.created_gte, after or state.after,
                                             max(state.newest, _newest(events)))
                    stored, ignored = self._store(events, state)
                    new, settled = new + stored, settled + ignored
            except GatewayRequestRefused as exc:
                if exc.param != "starting_after":
                    raise
                # The event the pass stopped at is gone from Stripe (older than its 30 days): read the
                # pass again from the top; what is stored already is skipped.
                log.warning("stripe sync: the interrupted pass cannot be continued (%s); starting over",
                            exc.message)
                state = cursor.PassState(state.created_gte, "", state.newest)
                for events, after in self._pages(state.created_gte, None):
                    fetched += len(events)
                    state = cursor.PassState(state.created_gte, after or state.after,
                                             max(state.newest, _newest(events)))
                    stored, ignored = self._store(events, state)
                    new, settled = new + stored, settled + ignored
        except (GatewayUnavailable, ConfigError, GatewayRequestRefused) as exc:
            return fetched, new, settled, exc.message
        with self._ctx.db.write() as session:
            cursor.finish_pass(session, state.newest, self._ctx.clock.now())
        return fetched, new, settled, ""

    def _catch_up_objects(self, since: datetime) -> tuple[int, int, int, str]:
        """When Stripe no longer has every event since ``since``: the payment intents, refunds and disputes
        created since (minus the margin), then every local object Stripe may have changed since
        (``live_objects``), each stored as a stand-in event for the same handlers.
        Returns (objects read, new, settled as ignored, why Stripe failed or "")."""
        source = self._source
        if not isinstance(source, ObjectSource):
            log.warning("stripe sync: events older than 30 days are gone and this source cannot list objects")
            return 0, 0, 0, ""
        created_gte = max(int(since.timestamp()) - self._margin, 0)
        fetched = new = settled = 0
        try:
            for kind, event_type in _CATCH_UP_KINDS:
                after: str | None = None
                while True:
                    page = source.list_objects_page(
                        kind, created_gte=created_gte, starting_after=after, limit=self._page_size)
                    fetched += len(page.events)
                    events = [object_as_event(kind, o, t) for o in page.events if (t := event_type(o))]
                    if events:
                        stored, ignored = self._store(events, None)
                        new, settled = new + stored, settled + ignored
                    last = _last_id(page.events)
                    if not page.has_more or not last:
                        break
                    after = last
            read, stored, ignored = self._look_up_live(source, since)
            fetched, new, settled = fetched + read, new + stored, settled + ignored
        except (GatewayUnavailable, ConfigError, GatewayRequestRefused) as exc:
            return fetched, new, settled, exc.message
        log.warning("stripe sync: caught up from %d object(s) read on Stripe (last successful sync %s)",
                    fetched, since.isoformat())
        return fetched, new, settled, ""

    def _look_up_live(self, source: ObjectSource, since: datetime) -> tuple[int, int, int]:
        """Every live local object read from Stripe, a few at a time; the stand-ins stored page by page."""
        with self._ctx.db.read() as session:
            targets = live_objects(session, since)
        log.warning("stripe sync: looking up %d open or recent card payment(s) on Stripe", len(targets))
        read = new = settled = 0
        pool = ThreadPoolExecutor(max_workers=LOOKUP_WORKERS, thread_name_prefix="stripe-lookup")
        try:
            for start in range(0, len(targets), self._page_size):
                with self._ctx.db.write() as session:  # a long catch-up keeps its lease
                    cursor.acquire_lease(session, self._holder, self._ctx.clock.now())
                events: list[dict[str, Any]] = []
                for count, found in pool.map(lambda live: look_up(source, live),
                                             targets[start:start + self._page_size]):
                    read += count
                    events.extend(found)
                if events:
                    stored, ignored = self._store(events, None)
                    new, settled = new + stored, settled + ignored
        finally:
            pool.shutdown(wait=True, cancel_futures=True)  # Stripe failed: the rest is not asked
        return read, new, settled

    def _pages(
        self, created_gte: int | None, starting_after: str | None
    ) -> Iterator[tuple[list[Any], str]]:
        """Every page since ``created_gte`` (after ``starting_after``) with the id the next page starts
        after, one ahead: the fetcher thread waits while a page is queued."""
        source = self._source
        assert source is not None
        ready: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
        stop = threading.Event()

        def fetch_all() -> None:
            after = starting_after
            try:
                while not stop.is_set():
                    page = source.list_events_page(
                        created_gte=created_gte,
                        starting_after=after,
                        types=HANDLED_TYPES,
                        limit=self._page_size,
                    )
                    last = _last_id(page.events)
                    if page.events:
                        _put(ready, stop, ("page", (page.events, last)))
                    if not page.has_more or not last:
                        break
                    after = last
            except BaseException as exc:  # noqa: BLE001 - handed to the storing thread, raised there
                _put(ready, stop, ("error", exc))
                return
            _put(ready, stop, ("end", None))

        fetcher = threading.Thread(target=fetch_all, name="stripe-events-fetch", daemon=True)
        fetcher.start()
        try:
            while True:
                kind, value = ready.get()
                if kind == "page":
                    yield value
                elif kind == "error":
                    raise value
                else:
                    return
        finally:
            stop.set()  # storing failed or finished: the fetcher stops after its current request
            fetcher.join()

    def _store(self, events: list[Any], state: cursor.PassState | None) -> tuple[int, int]:
        """Insert a page; ids already stored are skipped by the unique constraint (EVT-1).

        An event without an id is logged and skipped; any other odd event is stored as it came and
        fails when it is applied, with its reason on the Sync screen: the events behind it go on.
        """
        now = self._ctx.clock.now()
        rows: list[dict[str, Any]] = []
        for event in events:
            event_id = event.get("id") if isinstance(event, dict) else None
            if not isinstance(event_id, str) or not event_id:
                log.warning("stripe sync: skipped an event without an id: %.200r", event)
                continue
            data = event.get("data")
            obj = data.get("object") if isinstance(data, dict) else None
            customer = obj.get("customer") if isinstance(obj, dict) else None
            kind, version = event.get("type"), event.get("api_version")
            rows.append(
                {
                    "stripe_id": event_id[:255],
                    "kind": kind[:100] if isinstance(kind, str) else "",
                    "livemode": event.get("livemode") is True,
                    "payload": event,
                    "customer_id": customer[:255] if isinstance(customer, str) else "",
                    "api_version": version[:50] if isinstance(version, str) else "",
                    "processed": False,
                    "created_at": now,
                    "stripe_created": _created(event),
                    "ignored": False,
                    "attempts": 0,
                }
            )
        if not self._returning_insert():
            _make_storable(rows)  # the one-statement insert below checks while it encodes the page
        with self._ctx.db.write() as session:
            connection = session.connection()
            # Events certainly not about our objects are stored already settled as ignored: most of a
            # backlog never needs a second look (the same test the processing pass makes).
            if not rows:
                new = settled = 0
            elif self._returning_insert():
                for index in not_ours(session, list(enumerate(r["payload"] for r in rows)),
                                      self._instance_id(session)):
                    rows[index].update(processed=True, ignored=True, attempts=1)
                inserted = self._insert_returning(connection, rows, now)
                new, settled = len(inserted), sum(1 for ignored in inserted if ignored)
            else:
                ids = [r["stripe_id"] for r in rows]
                known = set(connection.scalars(
                    select(StripeEvent.stripe_id).where(StripeEvent.stripe_id.in_(ids))))
                fresh = [r for r in rows if r["stripe_id"] not in known]
                skip = not_ours(session, list(enumerate(r["payload"] for r in fresh)), self._instance_id(session))
                for index in skip:
                    fresh[index].update(processed=True, ignored=True, attempts=1)
                if fresh:
                    insert = pg_insert if self._ctx.db.is_postgresql else sqlite_insert
                    connection.execute(
                        insert(StripeEvent.__table__).on_conflict_do_nothing(index_elements=["stripe_id"]), fresh
                    )
                new, settled = len(fresh), len(skip)
            if state is not None:
                cursor.save_pass(session, state, now)
        return new, settled

    def _returning_insert(self) -> bool:
        """SQLite 3.35+ (RETURNING): a page goes in with one statement that says which rows were new."""
        return self._ctx.db.is_sqlite and sqlite3.sqlite_version_info >= (3, 35)

    @staticmethod
    def _insert_returning(connection: Connection, rows: list[dict[str, Any]], now: datetime) -> list[bool]:
        """One ``INSERT ... SELECT FROM json_each(:page) ... RETURNING`` for the page: one statement step
        (an executemany steps once per row and gives the GIL away at each step; while the next page is
        fetched and decoded, winning it back costs more than the insert itself). Ids stored before (the
        safety margin re-reads them, or another poller stored them) are skipped; returns the new rows'
        ``ignored`` flags."""
        try:
            page = json.dumps([{k: v for k, v in row.items() if k != "created_at"} for row in rows])
        except (ValueError, TypeError, RecursionError):
            _make_storable(rows)
            page = json.dumps([{k: v for k, v in row.items() if k != "created_at"} for row in rows])
        return [bool(r[0]) for r in connection.execute(_SQLITE_PAGE_INSERT, {"page": page, "now": now})]

    # ------------------------------------------------------------------ processing

    def process_pending(self, *, only_due: bool = True) -> tuple[int, int, int]:
        """Apply stored unprocessed events in (created, id) order, each in its own (nested) transaction.

        A batch shares one commit, each event runs in a savepoint: a failing handler rolls back only
        its own changes (EVT-3) and a crash mid-batch only leaves events unprocessed, to be applied
        again later (every handler is idempotent). One commit per batch keeps a backlog fast.
        """
        processed = ignored = failed = 0
        after: tuple[int, str] | None = None
        instance = self._instance()
        while True:
            now = self._ctx.clock.now()
            with self._ctx.db.write() as session:
                query = select(StripeEvent.id, StripeEvent.stripe_created, StripeEvent.stripe_id).where(
                    StripeEvent.processed.is_(False)
                )
                if only_due:
                    query = query.where(
                        or_(StripeEvent.next_attempt_at.is_(None), StripeEvent.next_attempt_at <= now)
                    )
                if after is not None:
                    query = query.where(
                        or_(
                            StripeEvent.stripe_created > after[0],
                            and_(StripeEvent.stripe_created == after[0], StripeEvent.stripe_id > after[1]),
                        )
                    )
                batch = session.execute(
                    query.order_by(StripeEvent.stripe_created, StripeEvent.stripe_id).limit(PROCESS_BATCH)
                ).all()
                payloads: dict[int, Any] = {}
                if batch:
                    payloads = {
                        row[0]: row[1]
                        for row in session.execute(
                            select(StripeEvent.id, StripeEvent.payload).where(
                                StripeEvent.id.in_([r[0] for r in batch])
                            )
                        )
                    }
                skip = not_ours(session, list(payloads.items()), instance)
                if skip:
                    session.execute(
                        update(StripeEvent)
                        .where(StripeEvent.id.in_(skip))
                        .values(
                            processed=True,
                            ignored=True,
                            attempts=StripeEvent.attempts + 1,
                            next_attempt_at=None,
                        )
                    )
                    ignored += len(skip)
                for event_id, created, stripe_id in batch:
                    after = (created, stripe_id)
                    if event_id in skip:
                        continue
                    outcome = self._apply_one(session, event_id, instance, now)
                    processed += outcome == "processed"
                    ignored += outcome == "ignored"
                    failed += outcome == "failed"
            if not batch:
                return processed, ignored, failed

    def _instance_id(self, session: Session) -> str:
        if self._instance_cache is None:
            self._instance_cache = cursor.instance_id(session, self._ctx.clock.now())
        return self._instance_cache

    def _instance(self) -> str:
        with self._ctx.db.write() as session:
            return cursor.instance_id(session, self._ctx.clock.now())

    def process_event(self, event_id: int, *, instance: str | None = None) -> str:
        """EVT-2/3 for one stored event: 'processed', 'ignored', 'skipped' (already done) or 'failed'."""
        instance = instance or self._instance()
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            return self._apply_one(session, event_id, instance, now)

    def _apply_one(self, session: Session, event_id: int, instance: str, now: datetime) -> str:
        event = session.get(StripeEvent, event_id, with_for_update=True)
        if event is None or event.processed:
            return "skipped"
        payload = event.payload
        try:
            with session.begin_nested():
                problem = event_problem(payload)
                if problem:
                    raise MalformedEvent(problem)
                ours = apply_event(session, payload, HandlerContext(instance, now, payload, self._refunds_of))
                event.processed, event.ignored = True, not ours
                event.attempts += 1
                event.next_attempt_at = None
        except Exception as exc:  # noqa: BLE001 - one failing event must not stop the events behind it
            # Any payload can make a handler fail (a bug, an odd event). The savepoint is rolled back so
            # none of its changes remain; the failure is logged, stored for the Sync screen and retried.
            self._record_failure(session, event_id, payload, exc, now)
            return "failed"
        return "processed" if ours else "ignored"

    @staticmethod
    def _record_failure(
        session: Session, event_id: int, payload: Any, exc: BaseException, now: datetime
    ) -> None:
        """EVT-3: the exception row, the attempt count and the next try survive the handler's rollback."""
        text = "".join(traceback.format_exception(exc))
        log.warning("stripe event #%d failed: %s", event_id, type(exc).__name__)
        event = session.get(StripeEvent, event_id)
        if event is None:
            return
        event.attempts += 1
        event.next_attempt_at = now + retry_delay(event.attempts)
        session.add(
            EventProcessingException(
                event_id=event.id,
                data=repr(payload)[:100_000],
                message=text[:500],
                traceback=text,
                created_at=now,
            )
        )
        session.flush()

    # ------------------------------------------------------------------ Sync screen use cases

    def retry(self, event_id: int) -> str:
        """EVT-13: run the stored event again now, whatever its backoff says."""
        return self.process_event(event_id)

    def retry_all(self) -> SyncReport:
        with self._ctx.db.write() as session:
            session.execute(
                update(StripeEvent).where(StripeEvent.processed.is_(False)).values(next_attempt_at=None)
            )
        processed, ignored, failed = self.process_pending(only_due=False)
        return SyncReport(0, 0, processed, ignored, failed, finished_at=self._ctx.clock.now())


def list_events(ctx: ServiceContext, *, failed_only: bool = False, limit: int = 200) -> list[EventView]:
    with ctx.db.read() as session:
        query = select(StripeEvent).order_by(StripeEvent.stripe_created.desc(), StripeEvent.stripe_id.desc())
        if failed_only:
            query = query.where(StripeEvent.processed.is_(False), StripeEvent.attempts > 0)
        events = session.scalars(query.limit(limit)).all()
        last: dict[int, str] = {}
        if events:
            for ev_id, message in session.execute(
                select(EventProcessingException.event_id, EventProcessingException.traceback)
                .where(EventProcessingException.event_id.in_([e.id for e in events]))
                .order_by(EventProcessingException.id)
            ):
                if ev_id is not None:  # always, by the IN filter (the column is nullable: SET NULL)
                    last[ev_id] = message
        return [
            EventView(
                e.id,
                e.stripe_id,
                e.kind,
                e.stripe_created,
                e.processed,
                e.ignored,
                e.attempts,
                e.next_attempt_at,
                last.get(e.id, "") if not e.processed else "",
            )
            for e in events
        ]


def list_exceptions(ctx: ServiceContext, *, limit: int = 200) -> list[ExceptionView]:
    with ctx.db.read() as session:
        rows = session.execute(
            select(EventProcessingException, StripeEvent.stripe_id, StripeEvent.kind)
            .outerjoin(StripeEvent, StripeEvent.id == EventProcessingException.event_id)
            .order_by(EventProcessingException.id.desc())
            .limit(limit)
        ).all()
        return [
            ExceptionView(x.id, x.event_id, sid or "", kind or "", x.message, x.traceback, x.created_at)
            for x, sid, kind in rows
        ]
