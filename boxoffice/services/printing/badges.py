"""Badges (BDG-2..5): what a badge shows, printing one with the print log and the reprint guard, bulk lists.

The drawing is Qt's and lives outside the services: the desk hands ``BadgeService`` a
``BadgeOutput`` (``ui/badge_output.py``) that renders a ``BadgeView`` to the desk's
badge printer. ``print_badge`` checks the guard first (a badge already printed is reprinted only
with a reason; the second reprint of the same attendee needs a lead), renders outside any
transaction, then records the print (printed, or failed with the reason), and audits reprints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice.domain.attendee_rules import fold, normalize_code, qr_payload
from boxoffice.domain.models import Attendee, AttendeeStatus, BadgePrint, Conference, TicketType
from boxoffice.errors import InvalidInput, NotFound, UserError
from boxoffice.services.context import ServiceContext
from boxoffice.services.printing.badge_templates import TemplateView, template_in
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize, current_actor
from boxoffice.timeutil import format_local

MAX_REASON = 500


class ReprintNeedsReason(UserError):
    """A badge already printed is reprinted only with a reason (BDG-5)."""


class BadgeNotPrinted(UserError):
    """The badge printer failed; ``reason`` is why ("printer Front desk is not installed")."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Badge not printed: {reason}")
        self.reason = reason


@dataclass(frozen=True)
class BadgeView:
    """Everything a badge shows, with the template it is drawn by."""

    attendee_id: int
    name: str
    company: str
    ticket_type: str
    ticket_type_id: int | None
    conference: str
    access_code: str
    qr_payload: str
    banner_color: str
    template: TemplateView

    @property
    def sort_key(self) -> tuple[str, str]:
        """Last name first (BDG-3 bulk order), then the whole name."""
        words = self.name.split()
        return (fold(words[-1]) if words else "", fold(self.name))


@dataclass(frozen=True)
class BadgePrintView:
    id: int
    attendee_id: int
    at: datetime
    timezone: str
    desk: str
    operator_name: str
    approver_name: str
    printer: str
    reprint: bool
    reason: str
    status: str
    error: str

    @property
    def label(self) -> str:
        """What the check-in result shows: "Badge printed 08:40" (or why it failed)."""
        when = format_local(self.at, self.timezone, "%H:%M")
        return f"Badge printed {when}" if self.status == "printed" else f"Badge not printed {when}: {self.error}"


class BadgeOutput(Protocol):
    """Draws a badge and sends it to a printer; raises an exception whose text says why it failed."""

    def print_badge(self, badge: BadgeView, printer: str) -> str:
        """Print ``badge`` on ``printer`` ("" for the desk's saved one); returns the printer's name."""
        ...


class BadgeService:
    """Badge data, printing with the guard, and the print log. ``output`` is set by the desk."""

    def __init__(self, ctx: ServiceContext, output: BadgeOutput | None = None) -> None:
        self._ctx = ctx
        self.output = output

    def badge(self, attendee_id: int) -> BadgeView:
        with self._ctx.db.read() as session:
            return _badge(session, _attendee(session, attendee_id))

    def by_code(self, conference_id: int, code: str) -> BadgeView:
        """The badge of the attendee with this access code (typed or scanned, any case)."""
        wanted = normalize_code(code.removeprefix("BOXOFFICE:"))
        with self._ctx.db.read() as session:
            attendee = session.scalar(select(Attendee).where(Attendee.conference_id == conference_id,
                                                             Attendee.access_code == wanted))
            if attendee is None:
                raise NotFound(f"No attendee of this conference has the access code {wanted!r}. "
                               "Check the code or search by name.")
            return _badge(session, attendee)

    def bulk(self, conference_id: int, *, ticket_type_id: int | None = None) -> list[BadgeView]:
        """Every valid attendee's badge (of one ticket type when given), sorted by last name."""
        with self._ctx.db.read() as session:
            query = select(Attendee).where(Attendee.conference_id == conference_id,
                                           Attendee.status == AttendeeStatus.VALID)
            if ticket_type_id is not None:
                query = query.where(Attendee.ticket_type_id == ticket_type_id)
            cache: dict[int | None, TemplateView] = {}
            names: dict[int, str] = {row.id: row.name for row in session.execute(
                select(TicketType.id, TicketType.name).where(TicketType.conference_id == conference_id))}
            conference = session.get(Conference, conference_id)
            if conference is None:
                raise NotFound("That conference does not exist.")
            badges = []
            for attendee in session.scalars(query):
                key = attendee.ticket_type_id
                if key not in cache:
                    cache[key] = template_in(session, conference_id, key)
                badges.append(_view(attendee, conference.name, names.get(key, "") if key else "", cache[key]))
        return sorted(badges, key=lambda b: b.sort_key)

    def bulk_by_slug(self, conference_slug: str, ticket_type_slug: str | None = None) -> list[BadgeView]:
        """``bulk`` by the slugs the command line is given; a clear message when one is unknown."""
        with self._ctx.db.read() as session:
            conference_id = session.scalar(select(Conference.id).where(Conference.slug == conference_slug))
            if conference_id is None:
                known = ", ".join(session.scalars(select(Conference.slug).order_by(Conference.slug))) or "none yet"
                raise NotFound(f"No conference has the slug {conference_slug!r} (known: {known}).")
            ticket_type_id = None
            if ticket_type_slug:
                ticket_type_id = session.scalar(select(TicketType.id).where(
                    TicketType.conference_id == conference_id, TicketType.slug == ticket_type_slug))
                if ticket_type_id is None:
                    known = ", ".join(session.scalars(select(TicketType.slug).where(
                        TicketType.conference_id == conference_id).order_by(TicketType.slug)))
                    raise NotFound(f"The conference has no ticket type {ticket_type_slug!r} (its ticket types: "
                                   f"{known}).")
        return self.bulk(conference_id, ticket_type_id=ticket_type_id)

    def print_badge(self, attendee_id: int, *, reason: str = "", printer: str = "") -> BadgePrintView:
        """Print the attendee's badge on ``printer`` (the desk's saved one when ""), guarded and logged."""
        authorize(Permission.SELL)
        reason = " ".join(reason.split())[:MAX_REASON]
        with self._ctx.db.read() as session:
            attendee = _attendee(session, attendee_id)
            if attendee.status != AttendeeStatus.VALID:
                raise InvalidInput(f"{attendee.name or attendee.access_code}'s ticket is void (refunded or "
                                   "cancelled): no badge is printed.")
            badge = _badge(session, attendee)
            printed = _printed(session, attendee_id)
            last = _last(session, attendee_id, printed_only=True)
        if printed >= 1 and not reason:
            when = last.label.removeprefix("Badge printed ") if last else ""
            raise ReprintNeedsReason(f"{badge.name}'s badge was already printed at {when}. "
                                     "Give a reason to print it again (lost, misspelt name, damaged).")
        if printed >= 2:
            authorize(Permission.REPRINT_BADGE)   # the second reprint: a lead approves
        if self.output is None:
            raise BadgeNotPrinted("this desk has no badge printer set up (Settings → Printers)")
        try:
            used = self.output.print_badge(badge, printer)
        except Exception as exc:
            message = str(exc).strip() or type(exc).__name__
            self._record(badge, printer, printed >= 1, reason, "failed", message)
            raise BadgeNotPrinted(message) from exc
        return self._record(badge, used or printer, printed >= 1, reason, "printed", "")

    def last_print(self, attendee_id: int) -> BadgePrintView | None:
        """The newest print of the attendee's badge (printed or failed), for "Badge printed 08:40"."""
        with self._ctx.db.read() as session:
            return _last(session, attendee_id, printed_only=False)

    def prints(self, attendee_id: int) -> list[BadgePrintView]:
        """The attendee's print log, oldest first."""
        with self._ctx.db.read() as session:
            zone = _zone(session, attendee_id)
            rows = session.scalars(select(BadgePrint).where(BadgePrint.attendee_id == attendee_id)
                                   .order_by(BadgePrint.id))
            return [_print_view(r, zone) for r in rows]

    def _record(self, badge: BadgeView, printer: str, reprint: bool, reason: str, status: str,
                error: str) -> BadgePrintView:
        actor = current_actor()
        with self._ctx.db.write() as session:
            row = BadgePrint(attendee_id=badge.attendee_id, conference_id=badge.template.conference_id,
                             at=self._ctx.clock.now(), desk=self._ctx.desk_name,
                             operator_id=actor.staff_id if actor else None, operator_name=actor.name if actor else "",
                             approver_name=actor.approver.name if actor and actor.approver else "",
                             printer=printer[:200], reprint=reprint, reason=reason, status=status,
                             error=error[:2000])
            session.add(row)
            session.flush()
            if reprint and status == "printed":
                audit.record(session, self._ctx, audit.BADGE_REPRINT, target_type="attendee",
                             target_id=badge.attendee_id, target_label=badge.name,
                             detail={"reason": reason, "printer": printer,
                                     "reprint_number": _printed(session, badge.attendee_id) - 1})
            return _print_view(row, _zone(session, badge.attendee_id))


def _attendee(session: Session, attendee_id: int) -> Attendee:
    attendee = session.get(Attendee, attendee_id)
    if attendee is None:
        raise NotFound("That attendee no longer exists. Search again.")
    return attendee


def _badge(session: Session, attendee: Attendee) -> BadgeView:
    conference = session.get(Conference, attendee.conference_id)
    ticket = session.get(TicketType, attendee.ticket_type_id) if attendee.ticket_type_id else None
    template = template_in(session, attendee.conference_id, attendee.ticket_type_id)
    return _view(attendee, conference.name if conference else "", ticket.name if ticket else "", template)


def _view(attendee: Attendee, conference: str, ticket_type: str, template: TemplateView) -> BadgeView:
    return BadgeView(attendee.id, attendee.name.strip(), attendee.company.strip(), ticket_type,
                     attendee.ticket_type_id, conference, attendee.access_code, qr_payload(attendee.access_code),
                     template.banner_for(attendee.ticket_type_id), template)


def _printed(session: Session, attendee_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(BadgePrint).where(
        BadgePrint.attendee_id == attendee_id, BadgePrint.status == "printed")) or 0)


def _last(session: Session, attendee_id: int, *, printed_only: bool) -> BadgePrintView | None:
    query = select(BadgePrint).where(BadgePrint.attendee_id == attendee_id)
    if printed_only:
        query = query.where(BadgePrint.status == "printed")
    row = session.scalar(query.order_by(BadgePrint.id.desc()).limit(1))
    return _print_view(row, _zone(session, attendee_id)) if row is not None else None


def _zone(session: Session, attendee_id: int) -> str:
    return session.scalar(select(Conference.timezone).join(Attendee, Attendee.conference_id == Conference.id)
                          .where(Attendee.id == attendee_id)) or "UTC"


def _print_view(row: BadgePrint, zone: str) -> BadgePrintView:
    return BadgePrintView(row.id, row.attendee_id, row.at, zone, row.desk, row.operator_name, row.approver_name,
                          row.printer, row.reprint, row.reason, row.status, row.error)
