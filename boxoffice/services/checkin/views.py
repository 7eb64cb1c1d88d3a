"""What the check-in services return: attendees, scan results, add-on use and the door dashboard.

Plain frozen data built inside the service's transaction; ``attendee_rows`` is the one query that
turns attendee ids into ``AttendeeView``s (order, ticket type and the live entry joined in).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnClause, Connection, String, and_, literal_column, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import Attendee, CheckIn, CheckInKind, Order, TicketType

# ScanResult.outcome values. "undone" answers ``CheckInService.undo``; the others answer a scan.
ADMITTED = "admitted"
ALREADY_CHECKED_IN = "already_checked_in"
ATTENTION = "attention"          # a note must be read: admitting needs ``confirm_attention=True``
NOT_PAID = "not_paid"            # a pending order: take the payment (``order_id``), then admit
REFUNDED = "refunded"
CANCELLED = "cancelled"
VOID = "void"
UNKNOWN = "unknown"
OTHER_CONFERENCE = "other_conference"
MATCHES = "matches"              # the text was a search: ``matches`` holds the attendees found
UNDONE = "undone"

OUTCOMES = (ADMITTED, ALREADY_CHECKED_IN, ATTENTION, NOT_PAID, REFUNDED, CANCELLED, VOID, UNKNOWN,
            OTHER_CONFERENCE, MATCHES, UNDONE)
# Outcomes a door shows green / amber / red.
GREEN = frozenset({ADMITTED, UNDONE})
AMBER = frozenset({ALREADY_CHECKED_IN, ATTENTION, MATCHES})
RED = frozenset({NOT_PAID, REFUNDED, CANCELLED, VOID, UNKNOWN, OTHER_CONFERENCE})


@dataclass(frozen=True)
class AttendeeView:
    id: int
    conference_id: int
    order_id: int
    order_reference: str
    order_status: str
    imported: bool                    # came from the web registration system
    ticket_type_id: int | None
    ticket_type: str
    name: str
    email: str
    company: str
    access_code: str
    status: str                       # "valid" or "void"
    note: str                         # the attendee's own note (must be read at the door)
    ticket_note: str                  # the ticket type's check-in note (speaker, minor, VIP)
    checked_in_at: datetime | None    # the live entry, aware UTC; None while still expected
    checked_in_desk: str
    checked_in_by: str

    @property
    def checked_in(self) -> bool:
        return self.checked_in_at is not None

    @property
    def attention(self) -> str:
        """The notes the door must read, joined ("" when none)."""
        return " · ".join(n for n in (self.ticket_note.strip(), self.note.strip()) if n)


@dataclass(frozen=True)
class AddonUse:
    order_line_id: int
    addon_id: int | None
    name: str
    bought: int        # units of this add-on that belong to this attendee
    used: int          # units handed out (redemptions)
    redeemable: bool

    @property
    def left(self) -> int:
        return max(self.bought - self.used, 0)

    @property
    def label(self) -> str:
        """"Dinner: 0 of 1 used" (RDM-1)."""
        return f"{self.name}: {self.used} of {self.bought} used"


@dataclass(frozen=True)
class ScanResult:
    outcome: str                       # one of OUTCOMES
    attendee: AttendeeView | None
    headline: str                      # shown large: "Admitted", "Already checked in", ...
    detail: str                        # who, when, where, the notes
    next_step: str                     # what the volunteer does now ("" when nothing)
    check_in_id: int | None            # the entry written (admitted) or found (already checked in)
    addons: tuple[AddonUse, ...]
    matches: tuple[AttendeeView, ...]
    order_id: int | None

    @property
    def ok(self) -> bool:
        """The person may go in (admitted now, or already in): the command line exits 0."""
        return self.outcome in (ADMITTED, ALREADY_CHECKED_IN)

    @property
    def colour(self) -> str:
        return "green" if self.outcome in GREEN else "amber" if self.outcome in AMBER else "red"


@dataclass(frozen=True)
class CheckInDashboard:
    per_ticket_type: tuple[tuple[str, int, int], ...]     # (ticket type, checked in, expected)
    per_desk: tuple[tuple[str, int], ...]                  # (desk, entries)
    per_quarter_hour: tuple[tuple[datetime, int], ...]     # (start, aware UTC; entries)
    checked_in: int
    expected: int


def _value(value: Any) -> str:
    return value.value if isinstance(value, enum.Enum) else str(value)


# The entry kind written into the SQL, not bound: SQLite prepares a statement again each time a
# parameter it used to pick the partial index ``uq_check_in_entry`` is bound, which costs more than
# the lookup itself; PostgreSQL's generic plans can use that index only with the value in the text.
ENTRY_KIND: ColumnClause[str] = literal_column(f"'{CheckInKind.ENTRY.value}'", String())


def live_entry() -> Any:
    """The condition of a live entry (not undone) among ``check_in`` rows."""
    return and_(CheckIn.kind == ENTRY_KIND, CheckIn.undone_at.is_(None))


def live_entry_join() -> Any:
    """The join condition of an attendee's live entry (not undone)."""
    return and_(CheckIn.attendee_id == Attendee.id, live_entry())


# The columns of ``AttendeeView`` for attendees, in its order; add a WHERE (and an ORDER BY).
ATTENDEE_SELECT = (
    select(Attendee.id, Attendee.conference_id, Attendee.order_id, Order.reference, Order.status,
           Order.source_system, Attendee.ticket_type_id, TicketType.name, Attendee.name, Attendee.email,
           Attendee.company, Attendee.access_code, Attendee.status, Attendee.note, TicketType.checkin_note,
           CheckIn.at, CheckIn.desk, CheckIn.operator_name)
    .join(Order, Order.id == Attendee.order_id)
    .outerjoin(TicketType, TicketType.id == Attendee.ticket_type_id)
    .outerjoin(CheckIn, live_entry_join())
)


def attendee_view(row: Sequence[Any]) -> AttendeeView:
    (aid, conference_id, order_id, reference, order_status, source_system, ticket_type_id, ticket_type,
     name, email, company, code, status, note, ticket_note, at, desk, by) = row
    return AttendeeView(
        id=aid, conference_id=conference_id, order_id=order_id, order_reference=reference,
        order_status=_value(order_status), imported=bool(source_system), ticket_type_id=ticket_type_id,
        ticket_type=ticket_type or "", name=name, email=email, company=company, access_code=code,
        status=_value(status), note=note or "", ticket_note=ticket_note or "", checked_in_at=at,
        checked_in_desk=desk or "", checked_in_by=by or "",
    )


def attendee_rows(session: Session | Connection, ids: Sequence[int]) -> list[AttendeeView]:
    """Views of the attendees ``ids``, in the order given (missing ids are left out)."""
    if not ids:
        return []
    rows = session.execute(ATTENDEE_SELECT.where(Attendee.id.in_(list(ids)))).all()
    by_id = {row[0]: attendee_view(row) for row in rows}
    return [by_id[i] for i in ids if i in by_id]
