"""Conferences the desk can sell for, as plain data."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from boxoffice.domain.models import Conference
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.services.context import ServiceContext

_COLUMNS = (
    Conference.id, Conference.name, Conference.slug, Conference.timezone, Conference.currency,
    Conference.total_capacity, Conference.reference_prefix, Conference.is_active, Conference.start_date,
    Conference.end_date, Conference.venue, Conference.cart_expiry_minutes, Conference.hold_minutes,
    Conference.tickets_sold, Conference.tickets_held,
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
        with self._ctx.db.read() as session:
            rows = session.execute(
                select(*_COLUMNS).order_by(Conference.is_active.desc(), Conference.name, Conference.id)
            ).all()
            return [ConferenceView(*r) for r in rows]

    def get(self, conference_id: int) -> ConferenceView:
        if isinstance(conference_id, bool) or not isinstance(conference_id, int):
            raise InvalidInput("Choose a conference.", field="conference_id")
        with self._ctx.db.read() as session:
            row = session.execute(select(*_COLUMNS).where(Conference.id == conference_id)).first()
            if row is None:
                raise NotFound(f"Conference #{conference_id} does not exist. Choose a conference.")
            return ConferenceView(*row)
