"""Cheap change detection: has any desk sold, paid, refunded, checked someone in or changed the catalogue?

``ChangeWatcher.poll()`` runs one small aggregate query (counts, sums and maxima over the tables the
Sell screen and the Orders list show) and compares the result with the previous one. The GUI calls it
from a worker thread on a timer (every second or so) and refreshes its screens when it returns True, so
another desk's sale appears within about two seconds. It works the same on SQLite and PostgreSQL and
does not depend on the desks' clocks agreeing: counts and inventory counters change with every sale
whatever time a desk believes it is.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import ScalarSelect, func, select
from sqlalchemy.orm import Session

from boxoffice.db.engine import Database
from boxoffice.domain.models import (
    AddOn,
    Attendee,
    CheckIn,
    Conference,
    Credit,
    Order,
    Payment,
    PaymentStatus,
    Redemption,
    Refund,
    TicketType,
    Voucher,
)

DEFAULT_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class DataVersion:
    """A fingerprint of everything another desk can change that a screen shows."""

    values: tuple[Hashable, ...]


def _subqueries() -> list[ScalarSelect[object]]:
    succeeded = Payment.status == PaymentStatus.SUCCEEDED
    return [
        # Orders: new ones, status/hold changes (through the counters), edits (updated_at).
        select(func.count(Order.id)).scalar_subquery(),
        select(func.max(Order.id)).scalar_subquery(),
        select(func.max(Order.updated_at)).scalar_subquery(),
        # Inventory counters move with every checkout, payment, cancel and sweep.
        select(func.coalesce(func.sum(TicketType.sold_quantity), 0)).scalar_subquery(),
        select(func.coalesce(func.sum(TicketType.held_quantity), 0)).scalar_subquery(),
        select(func.coalesce(func.sum(AddOn.sold_quantity), 0)).scalar_subquery(),
        select(func.coalesce(func.sum(AddOn.held_quantity), 0)).scalar_subquery(),
        select(func.coalesce(func.sum(Conference.tickets_sold + Conference.tickets_held), 0)).scalar_subquery(),
        # Catalogue edits (price, window, activity) on any desk.
        select(func.count(TicketType.id)).scalar_subquery(),
        select(func.max(TicketType.updated_at)).scalar_subquery(),
        select(func.count(AddOn.id)).scalar_subquery(),
        select(func.max(AddOn.updated_at)).scalar_subquery(),
        select(func.coalesce(func.sum(Voucher.times_used), 0)).scalar_subquery(),
        # Money: payments (and their status changes), refunds, credits.
        select(func.count(Payment.id)).scalar_subquery(),
        select(func.max(Payment.id)).scalar_subquery(),
        select(func.count(Payment.id)).where(succeeded).scalar_subquery(),
        select(func.count(Refund.id)).scalar_subquery(),
        select(func.max(Refund.id)).scalar_subquery(),
        select(func.count(Credit.id)).scalar_subquery(),
        select(func.coalesce(func.sum(Credit.remaining_amount), 0)).scalar_subquery(),
        select(func.max(Credit.updated_at)).scalar_subquery(),
        # Check-in: entries (new rows), undos, add-ons handed out, attendees renamed or noted.
        select(func.max(CheckIn.id)).scalar_subquery(),
        select(func.max(CheckIn.undone_at)).scalar_subquery(),
        select(func.max(Redemption.id)).scalar_subquery(),
        select(func.max(Attendee.updated_at)).scalar_subquery(),
    ]


def data_version(session: Session) -> DataVersion:
    """Read the fingerprint in one round trip."""
    row = session.execute(select(*_subqueries())).one()
    return DataVersion(tuple(str(v) if v is not None else None for v in row))


class ChangeWatcher:
    """Tells a desk when the shared data changed; safe to call from any one thread at a time.

    The first ``poll()`` records a baseline and returns False (the screen has just loaded its data).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._last: DataVersion | None = None
        self._mutex = threading.Lock()

    def current(self) -> DataVersion:
        with self.db.read() as session:
            return data_version(session)

    def poll(self) -> bool:
        """True when something changed since the previous call."""
        version = self.current()
        with self._mutex:
            previous, self._last = self._last, version
        return previous is not None and previous != version

    def reset(self) -> None:
        """Forget the baseline (e.g. after switching databases); the next poll returns False."""
        with self._mutex:
            self._last = None
