"""Admission at the door: scan or type, admit, re-admit, undo, add-on redemption, the dashboard.

A scan is one short write transaction of Core statements on a plain connection (no ORM session):
one SELECT of the attendee by access code with everything the answer needs (order status, ticket
type and its note, the live entry, the conference's zone, the add-ons and their use), the decision,
and at most one INSERT; an order reference reads the order and its attendees first. Refusals write
nothing. Two desks admitting one attendee at once are decided by the partial unique index
``uq_check_in_entry`` (one live entry per attendee): the loser's INSERT fails inside a savepoint
and it answers "already checked in" with the winner's desk, time and operator (CIN-4).
Redemptions lock the attendee (PostgreSQL ``FOR UPDATE``; SQLite's writes are serialised by BEGIN
IMMEDIATE) and count before inserting, so they never exceed what was bought (RDM-2).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from boxoffice.domain.attendee_rules import normalize_code, parse_scan, reference_candidates
from boxoffice.domain.models import (
    AddOn,
    Attendee,
    AttendeeStatus,
    CheckIn,
    CheckInKind,
    Conference,
    Order,
    OrderLineItem,
    OrderStatus,
    Redemption,
    TicketType,
)
from boxoffice.errors import InvalidInput, NotFound, UserError
from boxoffice.services.checkin import views as v
from boxoffice.services.checkin.attendees import (
    addon_columns,
    addon_use,
    addon_uses,
    load_attendee,
    search_ids,
    write_csv,
)
from boxoffice.services.checkin.views import (
    ATTENDEE_SELECT,
    AddonUse,
    AttendeeView,
    CheckInDashboard,
    ScanResult,
    attendee_rows,
    attendee_view,
    live_entry,
    live_entry_join,
)
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.catalog import check_id
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Permission, authorize
from boxoffice.timeutil import format_local

log = logging.getLogger(__name__)

_VIEW_COLUMNS = len(ATTENDEE_SELECT.selected_columns)


def _door_select(where: Any) -> Any:
    """An attendee's view, live entry id and conference zone, one row per add-on line (or one row)."""
    return (
        ATTENDEE_SELECT.add_columns(CheckIn.id, Conference.timezone, *addon_columns(OrderLineItem, Attendee.id))
        .join(Conference, Conference.id == Attendee.conference_id)
        .outerjoin(OrderLineItem, and_(OrderLineItem.order_id == Attendee.order_id,
                                       OrderLineItem.addon_id.is_not(None)))
        .outerjoin(AddOn, AddOn.id == OrderLineItem.addon_id)
        .where(where)
        .order_by(OrderLineItem.id)
    )


_BY_CODE = _door_select(Attendee.access_code == bindparam("code"))
_BY_ID = _door_select(Attendee.id == bindparam("id"))
_ORDER_BY_REFERENCE = (
    select(Order.id, Order.conference_id, Order.status, Order.reference)
    .where(Order.reference.in_(bindparam("refs", expanding=True)))
)
_ATTENDEES_OF_ORDER = (
    select(Attendee.id).where(Attendee.order_id == bindparam("order_id"))
    .order_by(Attendee.order_line_id, Attendee.unit)
)
_CONFERENCE = select(Conference.name, Conference.timezone, Conference.reference_prefix).where(
    Conference.id == bindparam("id"))
_INSERT = insert(CheckIn).values(
    attendee_id=bindparam("attendee_id"), conference_id=bindparam("conference_id"), kind=bindparam("kind"),
    at=bindparam("at"), desk=bindparam("desk"), operator_id=bindparam("operator_id"),
    operator_name=bindparam("operator_name"),
)

_UNKNOWN_NEXT = "Check the code on the ticket or badge, or type the attendee's name to search."


def _result(outcome: str, headline: str, *, attendee: AttendeeView | None = None, detail: str = "",
            next_step: str = "", check_in_id: int | None = None, addons: tuple[AddonUse, ...] = (),
            matches: tuple[AttendeeView, ...] = (), order_id: int | None = None) -> ScanResult:
    return ScanResult(outcome=outcome, attendee=attendee, headline=headline, detail=detail, next_step=next_step,
                      check_in_id=check_in_id, addons=addons, matches=matches,
                      order_id=order_id if order_id is not None else (attendee.order_id if attendee else None))


def _who(view: AttendeeView) -> str:
    return view.name or view.access_code


@dataclass(frozen=True)
class _AtTheDoor:
    """What a door decision reads of one attendee, in one statement."""

    view: AttendeeView
    entry_id: int | None        # the live entry, when checked in
    timezone: str               # the attendee's conference's, for "Checked in at 09:12"
    addons: tuple[AddonUse, ...]


def _at_the_door(c: Connection, statement: Any, params: dict[str, Any]) -> _AtTheDoor | None:
    rows = c.execute(statement, params).all()
    if not rows:
        return None
    first, lines = rows[0], _VIEW_COLUMNS + 2
    return _AtTheDoor(view=attendee_view(first[:_VIEW_COLUMNS]), entry_id=first[_VIEW_COLUMNS],
                      timezone=first[_VIEW_COLUMNS + 1] or "UTC",
                      addons=tuple(addon_use(row[lines:]) for row in rows if row[lines] is not None))


def _already(found: _AtTheDoor) -> ScanResult:
    """"Checked in at 09:12 at Desk 2 by Vic", from the live entry read with the attendee."""
    view = found.view
    at, desk, by = view.checked_in_at, view.checked_in_desk, view.checked_in_by
    detail = f"Checked in at {format_local(at, found.timezone, '%H:%M')}" + (f" at {desk}" if desk else "") + (
        f" by {by}" if by else "")
    return _result(v.ALREADY_CHECKED_IN, "Already checked in", attendee=view, detail=detail,
                   next_step="Admit again only if they left and came back.", check_in_id=found.entry_id)


class CheckInService:
    """The door: scan, admit, undo, redeem add-ons, count who is in (CIN-1..6, RDM-1..2)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # ------------------------------------------------------------------ scan and admit

    def scan(self, conference_id: int, text: str, *, admit_again: bool = False,
             confirm_attention: bool = False) -> ScanResult:
        """CIN-1: an access code, an order reference (with or without prefix and dash) or a QR payload
        admits (or says why not); anything else is a name/email search (``matches``; none admitted)."""
        actor = authorize(Permission.CHECK_IN)
        check_id(conference_id, "conference")
        if not isinstance(text, str):
            raise InvalidInput("Scan a code or type a name.", field="text")
        kind, value = parse_scan(text)
        if not value:
            return _result(v.UNKNOWN, "Nothing scanned", detail="The scan was empty.",
                           next_step="Scan the code again or type the attendee's name.")
        now = self._ctx.clock.now()
        found = self._ctx.db.run_core_write(
            lambda c: self._scan(c, actor, conference_id, kind, value, now, admit_again, confirm_attention))
        if found is not None:
            return found
        if kind:   # a QR payload whose code or order is not in this database
            return _result(v.UNKNOWN, "Unknown code", detail=f"No attendee or order has the code {value}.",
                           next_step=_UNKNOWN_NEXT)
        with self._ctx.db.connect() as c:
            matches = tuple(attendee_rows(c, search_ids(c, conference_id, value, 20)))
        if not matches:
            return _result(v.UNKNOWN, "Unknown code", detail=f"Nothing matches “{value[:60]}”.",
                           next_step=_UNKNOWN_NEXT)
        return _result(v.MATCHES, f"{len(matches)} found" if len(matches) < 20 else "Many found",
                       detail="Nobody was admitted.", next_step="Choose the attendee to admit.", matches=matches)

    def _scan(self, c: Connection, actor: Actor, conference_id: int, kind: str, value: str, now: datetime,
              admit_again: bool, confirm_attention: bool) -> ScanResult | None:
        if kind in ("", "code"):
            found = _at_the_door(c, _BY_CODE, {"code": normalize_code(value)})
            if found is not None:
                return self._admit(c, actor, conference_id, found, now, admit_again, confirm_attention)
        if kind in ("", "order"):
            prefix = c.execute(_CONFERENCE, {"id": conference_id}).first()
            refs = reference_candidates(value, prefix.reference_prefix if prefix else "")
            orders = c.execute(_ORDER_BY_REFERENCE, {"refs": refs}).all() if refs else []
            if orders:
                order = next((o for o in orders if o.conference_id == conference_id), orders[0])
                return self._scan_order(c, actor, conference_id, order, now, admit_again, confirm_attention)
        return None

    def _scan_order(self, c: Connection, actor: Actor, conference_id: int, order: Any, now: datetime,
                    admit_again: bool, confirm_attention: bool) -> ScanResult:
        ids = c.execute(_ATTENDEES_OF_ORDER, {"order_id": order.id}).scalars().all()
        views = attendee_rows(c, ids)
        if order.conference_id != conference_id:
            return self._other_conference(c, order.conference_id, views[0] if views else None, order.id)
        status = getattr(order.status, "value", order.status)
        if not views or status in (OrderStatus.PENDING.value, OrderStatus.REFUNDED.value,
                                   OrderStatus.CANCELLED.value):
            refusal = self._order_refusal(status, order.reference, views[0] if views else None, order.id)
            if refusal is not None:
                return refusal
        valid = [a for a in views if a.status == AttendeeStatus.VALID.value]
        if len(valid) == 1:
            found = _at_the_door(c, _BY_ID, {"id": valid[0].id})
            if found is not None:   # read in this transaction a moment ago
                return self._admit(c, actor, conference_id, found, now, admit_again, confirm_attention)
        if not valid:
            return _result(v.VOID, "Not valid", attendee=views[0] if views else None, order_id=order.id,
                           detail=f"Every ticket of order {order.reference} was cancelled or refunded.",
                           next_step="Send the person to a lead; the ticket cannot be used.")
        return _result(v.MATCHES, f"Order {order.reference}: {len(valid)} attendees", matches=tuple(valid),
                       order_id=order.id, detail="Nobody was admitted.",
                       next_step="Choose who is arriving, or scan their own badge code.")

    def _order_refusal(self, status: str, reference: str, attendee: AttendeeView | None,
                       order_id: int | None) -> ScanResult | None:
        if status == OrderStatus.PENDING.value:
            return _result(v.NOT_PAID, "Not paid", attendee=attendee, order_id=order_id,
                           detail=f"Order {reference} is not paid yet.",
                           next_step="Take the payment now, then admit.")
        if status == OrderStatus.REFUNDED.value:
            return _result(v.REFUNDED, "Refunded", attendee=attendee, order_id=order_id,
                           detail=f"Order {reference} was refunded; its tickets are no longer valid.",
                           next_step="Do not admit. The person can buy a new ticket at the desk.")
        if status == OrderStatus.CANCELLED.value:
            return _result(v.CANCELLED, "Cancelled", attendee=attendee, order_id=order_id,
                           detail=f"Order {reference} was cancelled.",
                           next_step="Do not admit. The person can buy a new ticket at the desk.")
        if attendee is None:
            return _result(v.UNKNOWN, "No tickets", order_id=order_id, detail=f"Order {reference} has no tickets.",
                           next_step="Send the person to a lead.")
        return None

    def _other_conference(self, c: Connection, other_id: int, attendee: AttendeeView | None,
                          order_id: int | None) -> ScanResult:
        other = c.execute(_CONFERENCE, {"id": other_id}).first()
        name = other.name if other else "another conference"
        return _result(v.OTHER_CONFERENCE, "Other conference", attendee=attendee, order_id=order_id,
                       detail=f"This ticket is for {name}.",
                       next_step="Do not admit here. Check the conference on the ticket.")

    def _admit(self, c: Connection, actor: Actor, conference_id: int, found: _AtTheDoor, now: datetime,
               admit_again: bool, confirm_attention: bool) -> ScanResult:
        view = found.view
        if view.conference_id != conference_id:
            return self._other_conference(c, view.conference_id, view, view.order_id)
        refusal = self._order_refusal(view.order_status, view.order_reference, view, view.order_id)
        if refusal is not None:
            return refusal
        if view.status == AttendeeStatus.VOID.value:
            return _result(v.VOID, "Not valid", attendee=view,
                           detail=f"The ticket of {_who(view)} was cancelled or refunded.",
                           next_step="Do not admit. Send the person to a lead.")
        if view.checked_in_at is not None and not admit_again:
            return _already(found)
        attention = view.attention
        if attention and not confirm_attention and view.checked_in_at is None:
            return _result(v.ATTENTION, "Read the note", attendee=view, detail=attention,
                           next_step="Read the note, then confirm to admit.", addons=found.addons)
        kind = CheckInKind.REENTRY if view.checked_in_at is not None else CheckInKind.ENTRY
        params = {"attendee_id": view.id, "conference_id": conference_id, "kind": kind.value, "at": now,
                  "desk": self._ctx.desk_name, "operator_id": actor.staff_id, "operator_name": actor.name}
        try:
            if c.dialect.name == "postgresql":
                # SAVEPOINT first: a lost race rolls back to it and the transaction goes on.
                with c.begin_nested():
                    check_in_id = c.execute(_INSERT, params).inserted_primary_key[0]  # type: ignore[index]  # an INSERT always has its key
            else:   # SQLite: BEGIN IMMEDIATE already serialised the desks; a failed INSERT undoes only itself
                check_in_id = c.execute(_INSERT, params).inserted_primary_key[0]  # type: ignore[index]  # an INSERT always has its key
        except IntegrityError:   # another desk recorded the entry a moment ago (CIN-4)
            winner = _at_the_door(c, _BY_ID, {"id": view.id})
            return _already(winner or found)
        admitted = view if kind is CheckInKind.REENTRY else replace(
            view, checked_in_at=now, checked_in_desk=self._ctx.desk_name, checked_in_by=actor.name)
        addons = found.addons
        handout = [u.label for u in addons if u.redeemable and u.left]
        detail = " · ".join(p for p in (view.ticket_type, attention, ", ".join(handout)) if p)
        return _result(v.ADMITTED, "Admitted again" if kind is CheckInKind.REENTRY else "Admitted",
                       attendee=admitted, detail=detail, check_in_id=int(check_in_id), addons=addons,
                       next_step="Hand out: " + ", ".join(handout) if handout else "")

    def admit(self, attendee_id: int, *, admit_again: bool = False, confirm_attention: bool = False) -> ScanResult:
        """Admit one attendee chosen from a search or an order (the same rules as a scan)."""
        actor = authorize(Permission.CHECK_IN)
        check_id(attendee_id, "attendee")
        now = self._ctx.clock.now()

        def write(c: Connection) -> ScanResult:
            found = _at_the_door(c, _BY_ID, {"id": attendee_id})
            if found is None:
                raise NotFound(f"Attendee #{attendee_id} does not exist. Search for the attendee again.")
            return self._admit(c, actor, found.view.conference_id, found, now, admit_again, confirm_attention)

        return self._ctx.db.run_core_write(write)

    def admit_order(self, order_id: int) -> list[ScanResult]:
        """CIN-5: admit every valid attendee of a walk-up sale not in yet (its notes already seen at the sale)."""
        actor = authorize(Permission.CHECK_IN)
        check_id(order_id, "order")
        now = self._ctx.clock.now()

        def write(c: Connection) -> list[ScanResult]:
            results = []
            for attendee_id in c.execute(_ATTENDEES_OF_ORDER, {"order_id": order_id}).scalars().all():
                found = _at_the_door(c, _BY_ID, {"id": attendee_id})
                if found is not None and found.view.checked_in_at is None:
                    results.append(self._admit(c, actor, found.view.conference_id, found, now, False, True))
            return results

        return self._ctx.db.run_core_write(write)

    def undo(self, check_in_id: int, *, reason: str) -> ScanResult:
        """CIN-3: a lead undoes a check-in with a reason; the row stays, marked undone; audited."""
        actor = authorize(Permission.UNDO_CHECKIN)
        check_id(check_in_id, "check-in")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput("Give a reason for undoing the check-in.", field="reason")
        reason = reason.strip()[:500]
        now = self._ctx.clock.now()

        def write(session: Session) -> ScanResult:
            stmt = select(CheckIn).where(CheckIn.id == check_in_id)
            if session.get_bind().dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            row = session.scalars(stmt).first()
            if row is None:
                raise NotFound(f"Check-in #{check_in_id} does not exist. Refresh the attendee.")
            if row.undone_at is not None:
                raise UserError("This check-in was already undone. Refresh the attendee.")
            session.execute(update(CheckIn).where(CheckIn.id == row.id).values(
                undone_at=now, undone_by_id=actor.staff_id, undo_reason=reason))
            view = attendee_rows(session, [row.attendee_id])[0]
            audit.record(session, self._ctx, audit.CHECKIN_UNDO, target_type="attendee", target_id=row.attendee_id,
                         target_label=f"{view.access_code} {view.name}",
                         detail={"check_in_id": row.id, "kind": row.kind, "at": row.at.isoformat(),
                                 "desk": row.desk, "by": row.operator_name, "reason": reason})
            return _result(v.UNDONE, "Check-in undone", attendee=view, check_in_id=row.id,
                           detail=f"{_who(view)} is no longer checked in ({reason}).",
                           next_step="Scan again to admit.")

        return self._ctx.db.run_write(write)

    # ------------------------------------------------------------------ add-ons

    def redeem(self, attendee_id: int, order_line_id: int) -> tuple[AddonUse, ...]:
        """RDM-1/2: hand out one unit of a redeemable add-on; never more than the attendee's units."""
        actor = authorize(Permission.CHECK_IN)
        check_id(attendee_id, "attendee")
        check_id(order_line_id, "add-on")
        now = self._ctx.clock.now()

        def write(session: Session) -> tuple[AddonUse, ...]:
            attendee = load_attendee(session, attendee_id, lock=True)
            order = session.get(Order, attendee.order_id)
            if attendee.status != AttendeeStatus.VALID or order is None or order.status not in (
                    OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED):
                raise UserError(f"{attendee.name or attendee.access_code}'s ticket is not valid; nothing was "
                                "handed out. Send the person to a lead.")
            uses = {u.order_line_id: u for u in addon_uses(session, attendee.id, attendee.order_id)}
            use = uses.get(order_line_id)
            if use is None:
                raise InvalidInput("That add-on is not part of this attendee's order. Choose one of its add-ons.",
                                   field="order_line_id")
            if not use.redeemable:
                raise UserError(f"{use.name} is not handed out at the desk.")
            if use.used >= use.bought:
                raise UserError(f"{use.label}: nothing left to hand out for this attendee.")
            session.execute(insert(Redemption).values(
                attendee_id=attendee.id, order_line_id=order_line_id, addon_id=use.addon_id, at=now,
                desk=self._ctx.desk_name, operator_id=actor.staff_id, operator_name=actor.name))
            return addon_uses(session, attendee.id, attendee.order_id)

        return self._ctx.db.run_write(write)

    # ------------------------------------------------------------------ dashboard

    def dashboard(self, conference_id: int) -> CheckInDashboard:
        """CIN-6: checked in / expected per ticket type, entries per desk and per 15 minutes."""
        authorize(Permission.CHECK_IN)
        check_id(conference_id, "conference")
        with self._ctx.db.read() as session:
            settled = (Order.status.in_([OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED]))
            rows = session.execute(
                select(TicketType.name, func.count(Attendee.id), func.count(CheckIn.id))
                .select_from(Attendee).join(Order, Order.id == Attendee.order_id)
                .outerjoin(TicketType, TicketType.id == Attendee.ticket_type_id)
                .outerjoin(CheckIn, live_entry_join())
                .where(Attendee.conference_id == conference_id, Attendee.status == AttendeeStatus.VALID, settled)
                .group_by(TicketType.name).order_by(TicketType.name)
            ).all()
            per_desk = session.execute(
                select(CheckIn.desk, func.count()).where(CheckIn.conference_id == conference_id, live_entry())
                .group_by(CheckIn.desk).order_by(func.count().desc(), CheckIn.desk)
            ).all()
            times = session.scalars(select(CheckIn.at).where(
                CheckIn.conference_id == conference_id, live_entry())).all()
        quarters: dict[datetime, int] = {}
        for at in times:
            start = at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)
            quarters[start] = quarters.get(start, 0) + 1
        per_type = tuple((name or "(no ticket type)", int(checked), int(expected)) for name, expected, checked in rows)
        return CheckInDashboard(
            per_ticket_type=per_type,
            per_desk=tuple((desk or "(no desk)", int(n)) for desk, n in per_desk),
            per_quarter_hour=tuple(sorted(quarters.items())),
            checked_in=sum(t[1] for t in per_type), expected=sum(t[2] for t in per_type),
        )

    def expected_csv(self, conference_id: int, path: Path | str) -> int:
        """CIN-6: who is still expected (valid, settled, not checked in), as CSV; returns the rows written."""
        authorize(Permission.CHECK_IN)
        check_id(conference_id, "conference")
        with self._ctx.db.read() as session:
            rows = session.execute(
                select(Attendee.name, Attendee.email, Attendee.company, TicketType.name, Attendee.access_code,
                       Order.reference)
                .select_from(Attendee).join(Order, Order.id == Attendee.order_id)
                .outerjoin(TicketType, TicketType.id == Attendee.ticket_type_id)
                .outerjoin(CheckIn, live_entry_join())
                .where(Attendee.conference_id == conference_id, Attendee.status == AttendeeStatus.VALID,
                       Order.status.in_([OrderStatus.PAID, OrderStatus.PARTIALLY_REFUNDED]), CheckIn.id.is_(None))
                .order_by(Attendee.name, Attendee.id)
            ).all()
        return write_csv(Path(path), ("name", "email", "company", "ticket_type", "access_code", "order_reference"),
                         [tuple(r[i] or "" for i in range(6)) for r in rows])

