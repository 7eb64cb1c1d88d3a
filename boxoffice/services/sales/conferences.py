"""Conferences the desk can sell for, as plain data.

Read with SQLAlchemy Core on a light ``table()`` clause rather than the mapped ``Conference``
class: the desk needs its conference before the sign-in screen shows, and this keeps the ORM off
that path. ``tests/services/test_directory.py`` checks the columns against the mapped table.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, Integer, String, column, select, table

from boxoffice.errors import InvalidInput, NotFound
from boxoffice.services.context import ServiceContext

CONFERENCE = table(
    "conference",
    column("id", Integer), column("name", String), column("slug", String), column("timezone", String),
    column("currency", String), column("total_capacity", Integer), column("reference_prefix", String),
    column("is_active", Boolean), column("start_date", String), column("end_date", String),
    column("venue", String), column("cart_expiry_minutes", Integer), column("hold_minutes", Integer),
    column("tickets_sold", Integer), column("tickets_held", Integer),
)


@dataclass(frozen=True)
class ConferenceView:
    id: int
    name: str
    slug: str
    timezone: str
    currency: str
    total_capacity: int
    reference_prefix: str
    is_active: bool
    start_date: str
    end_date: str
    venue: str
    cart_expiry_minutes: int
    hold_minutes: int
    tickets_sold: int
    tickets_held: int


class ConferenceService:
    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def list(self) -> list[ConferenceView]:
        """Every conference, active ones first, then by name."""
        c = CONFERENCE.c
        with self._ctx.db.connect() as conn:
            rows = conn.execute(select(CONFERENCE).order_by(c.is_active.desc(), c.name, c.id)).all()
            return [ConferenceView(**r._asdict()) for r in rows]

    def get(self, conference_id: int) -> ConferenceView:
        if isinstance(conference_id, bool) or not isinstance(conference_id, int):
            raise InvalidInput("Choose a conference.", field="conference_id")
        with self._ctx.db.connect() as conn:
            row = conn.execute(select(CONFERENCE).where(CONFERENCE.c.id == conference_id)).first()
            if row is None:
                raise NotFound(f"Conference #{conference_id} does not exist. Choose a conference.")
            return ConferenceView(**row._asdict())
