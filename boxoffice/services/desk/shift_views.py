"""What the shift services return: a shift as plain data, and the zone and currency it is told in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.domain.models import Conference

OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True)
class ShiftView:
    """One cash drawer shift with its running (or, once closed, final) cash figures."""

    id: int
    desk_name: str
    conference_id: int | None
    status: str                     # "open" or "closed"
    opened_at: datetime
    opened_by: str
    opening_float: Decimal
    cash_in: Decimal                # cash payments kept (tendered - change)
    cash_out: Decimal               # cash refunds paid out
    expected: Decimal               # float + in - out (the stored figure once closed)
    counted: Decimal | None         # None while open
    difference: Decimal | None      # counted - expected: positive over, negative short
    closed_at: datetime | None
    closed_by: str
    note: str
    cash_payments: int              # how many cash payments
    cash_refunds: int               # how many cash refunds

    @property
    def is_open(self) -> bool:
        return self.status == OPEN


def shift_zone(session: Session, conference_id: int | None) -> str:
    """The time zone shift times are told in: the conference's, else UTC."""
    if conference_id is not None:
        zone_name = session.scalar(select(Conference.timezone).where(Conference.id == conference_id))
        if zone_name:
            return zone_name
    return "UTC"


def shift_currency(session: Session, conference_id: int | None) -> str:
    if conference_id is not None:
        currency = session.scalar(select(Conference.currency).where(Conference.id == conference_id))
        if currency:
            return currency
    return "USD"
