"""Cash drawer shifts: open with a float, every cash movement belongs to the open shift, close counted.

Expected cash = opening float + cash payments taken in the shift (the applied amount: what was
tendered minus the change given) - cash refunds paid out in the shift. Only succeeded payments
and refunds count; a voided payment counts for nothing. Opening and closing need
``Permission.OPEN_SHIFT``; the open shift of this desk may be looked at by anyone signed in, any
other shift (and the list of past shifts) by leads (``Permission.VIEW_REPORTS``). The report of
a shift lives in ``shift_report``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    AuditEntry,
    CashShift,
    Conference,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
    Staff,
)
from boxoffice.errors import InvalidInput, NoOpenShift, NotFound, NotSignedIn, ShiftError
from boxoffice.money import format_money, parse_amount, quantize
from boxoffice.services.context import ServiceContext
from boxoffice.services.desk.shift_report import ShiftReport, build_report, write_csv
from boxoffice.services.desk.shift_views import CLOSED, OPEN, ShiftView, shift_currency, shift_zone
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Permission, authorize, current_actor
from boxoffice.timeutil import format_local


def open_shift_id(session: Session, desk_name: str) -> int | None:
    """The id of ``desk_name``'s open shift, or None."""
    return session.scalar(
        select(CashShift.id).where(CashShift.desk_name == desk_name, CashShift.status == "open")
    )


def require_open_shift(session: Session, desk_name: str) -> int:
    """The open shift's id; cash may not move at a desk without one (a clear message otherwise)."""
    shift_id = open_shift_id(session, desk_name)
    if shift_id is None:
        raise NoOpenShift(
            f"No cash shift is open at {desk_name}. Open a shift (count the starting float into "
            "the drawer), then take the cash again. Nothing was recorded."
        )
    return shift_id


def cash_totals(session: Session, shift_id: int) -> tuple[Decimal, Decimal, int, int]:
    """(cash in, cash out, number of cash payments, number of cash refunds) of one shift."""
    paid_count, paid = session.execute(
        select(func.count(Payment.id), func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.shift_id == shift_id, Payment.method == PaymentMethod.CASH,
            Payment.status == PaymentStatus.SUCCEEDED,
        )
    ).one()
    refund_count, refunded = session.execute(
        select(func.count(Refund.id), func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.shift_id == shift_id, Refund.method == RefundMethod.CASH,
            Refund.status == RefundStatus.SUCCEEDED,
        )
    ).one()
    return _dec(paid), _dec(refunded), int(paid_count), int(refund_count)


def _dec(value: object) -> Decimal:
    return quantize(Decimal(str(value or 0)))


def _staff_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    return dict(session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted))).all())


def _audit_names(session: Session, shift_ids: list[int]) -> dict[tuple[str, int], str]:
    """Who opened/closed each shift as the audit log has it (for operators without a staff row)."""
    if not shift_ids:
        return {}
    rows = session.execute(
        select(AuditEntry.action, AuditEntry.target_id, AuditEntry.actor_name).where(
            AuditEntry.action.in_((audit.SHIFT_OPEN, audit.SHIFT_CLOSE)),
            AuditEntry.target_type == "cash_shift", AuditEntry.target_id.in_(shift_ids),
        )
    ).all()
    return {(action, target): name for action, target, name in rows if target is not None}


def shift_views(session: Session, shifts: list[CashShift]) -> list[ShiftView]:
    """Views of ``shifts`` (names looked up in one query each)."""
    names = _staff_names(session, {s.opened_by_id for s in shifts} | {s.closed_by_id for s in shifts})
    audit_names = _audit_names(session, [s.id for s in shifts])
    views = []
    for shift in shifts:
        cash_in, cash_out, n_in, n_out = cash_totals(session, shift.id)
        computed = quantize(shift.opening_float + cash_in - cash_out)
        expected = shift.expected_cash if shift.status == CLOSED and shift.expected_cash is not None else computed
        counted = shift.counted_cash if shift.status == CLOSED else None
        views.append(ShiftView(
            id=shift.id, desk_name=shift.desk_name, conference_id=shift.conference_id, status=shift.status,
            opened_at=shift.opened_at,
            opened_by=names.get(shift.opened_by_id or -1) or audit_names.get((audit.SHIFT_OPEN, shift.id), ""),
            opening_float=shift.opening_float, cash_in=cash_in, cash_out=cash_out, expected=expected,
            counted=counted, difference=None if counted is None else quantize(counted - expected),
            closed_at=shift.closed_at,
            closed_by=names.get(shift.closed_by_id or -1)
            or (audit_names.get((audit.SHIFT_CLOSE, shift.id), "") if shift.status == CLOSED else ""),
            note=shift.note, cash_payments=n_in, cash_refunds=n_out,
        ))
    return views


def _signed_in() -> Actor:
    actor = current_actor()
    if actor is None:
        raise NotSignedIn("Nobody is signed in at this desk. Sign in with your name and PIN first.")
    return actor


def may_see_shift(actor: Actor, shift: CashShift, desk_name: str) -> bool:
    """Anyone signed in sees this desk's open shift; whoever closed a shift sees it; leads see all."""
    if actor.may(Permission.VIEW_REPORTS):
        return True
    if shift.status == OPEN and shift.desk_name == desk_name:
        return True
    return shift.closed_by_id is not None and shift.closed_by_id == actor.staff_id


def load_shift(session: Session, shift_id: int, desk_name: str, *, lock: bool = False) -> CashShift:
    """The shift, if it exists and the acting operator may see it (else a clear error)."""
    if isinstance(shift_id, bool) or not isinstance(shift_id, int):
        raise InvalidInput(f"{shift_id!r} is not a shift number.")
    actor = _signed_in()
    query = select(CashShift).where(CashShift.id == shift_id)
    shift = session.scalars(query.with_for_update() if lock else query).one_or_none()
    if shift is None:
        raise NotFound(f"Cash shift #{shift_id} does not exist. Look the shifts up again.")
    if not may_see_shift(actor, shift, desk_name):
        authorize(Permission.VIEW_REPORTS)  # raises with the message naming who may
    return shift


def _amount(value: Decimal | str | int, what: str) -> Decimal:
    if isinstance(value, float):
        raise InvalidInput(f"The {what} must be an exact amount such as 100.00, not a float.", field=what)
    try:
        return parse_amount(value)
    except ValueError as exc:
        raise InvalidInput(f"{what.capitalize()}: {exc}", field=what) from None


class ShiftService:
    """Open, close and report on this desk's cash drawer shifts."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # ------------------------------------------------------------------ queries

    def current(self, desk_name: str | None = None) -> ShiftView | None:
        """The open shift of ``desk_name`` (default: this desk), or None; anyone signed in may look."""
        desk = desk_name or self._ctx.desk_name
        actor = _signed_in()
        if desk != self._ctx.desk_name and not actor.may(Permission.VIEW_REPORTS):
            authorize(Permission.VIEW_REPORTS)
        with self._ctx.db.read() as session:
            shift = session.scalars(
                select(CashShift).where(CashShift.desk_name == desk, CashShift.status == OPEN)
            ).one_or_none()
            return None if shift is None else shift_views(session, [shift])[0]

    def expected_cash(self, shift_id: int) -> Decimal:
        """Float + cash in - cash out, computed from the shift's payments and refunds."""
        with self._ctx.db.read() as session:
            shift = load_shift(session, shift_id, self._ctx.desk_name)
            cash_in, cash_out, _, _ = cash_totals(session, shift.id)
            return quantize(shift.opening_float + cash_in - cash_out)

    def summary(self, shift_id: int) -> ShiftView:
        with self._ctx.db.read() as session:
            return shift_views(session, [load_shift(session, shift_id, self._ctx.desk_name)])[0]

    def list(self, desk_name: str | None = None, *, limit: int = 50) -> list[ShiftView]:
        """Shifts of ``desk_name`` (default: this desk), newest first (leads and admins)."""
        authorize(Permission.VIEW_REPORTS)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInput("Ask for between 1 and 1,000 shifts.")
        desk = desk_name or self._ctx.desk_name
        with self._ctx.db.read() as session:
            shifts = list(session.scalars(
                select(CashShift).where(CashShift.desk_name == desk)
                .order_by(CashShift.opened_at.desc(), CashShift.id.desc()).limit(limit)
            ))
            return shift_views(session, shifts)

    def my_last_closed(self) -> ShiftView | None:
        """The last shift the signed-in operator closed (at any desk), or None: whoever closed a
        shift may reprint its report, volunteers included (``may_see_shift``)."""
        actor = authorize(Permission.OPEN_SHIFT)
        if actor.staff_id is None:
            return None
        with self._ctx.db.read() as session:
            shift = session.scalars(
                select(CashShift).where(CashShift.closed_by_id == actor.staff_id, CashShift.status == CLOSED)
                .order_by(CashShift.closed_at.desc(), CashShift.id.desc()).limit(1)
            ).one_or_none()
            return None if shift is None else shift_views(session, [shift])[0]

    # ------------------------------------------------------------------ changes

    def open(self, opening_float: Decimal | str | int, *, conference_id: int | None = None,
             note: str = "") -> ShiftView:
        """Open this desk's drawer with ``opening_float`` counted into it."""
        actor = authorize(Permission.OPEN_SHIFT)
        amount = _amount(opening_float, "starting float")
        if conference_id is not None and (isinstance(conference_id, bool) or not isinstance(conference_id, int)):
            raise InvalidInput(f"{conference_id!r} is not a conference id.")
        desk, now = self._ctx.desk_name, self._ctx.clock.now()
        try:
            with self._ctx.db.write() as session:
                existing = session.scalars(
                    select(CashShift).where(CashShift.desk_name == desk, CashShift.status == OPEN)
                ).one_or_none()
                if existing is not None:
                    raise self._already_open(session, existing)
                if conference_id is not None and session.get(Conference, conference_id) is None:
                    raise NotFound(f"Conference #{conference_id} does not exist.")
                staff_id = actor.staff_id if actor.staff_id is not None and session.get(
                    Staff, actor.staff_id) is not None else None
                shift = CashShift(desk_name=desk, conference_id=conference_id, status=OPEN, opened_at=now,
                                  opened_by_id=staff_id, opening_float=amount, note=(note or "").strip())
                session.add(shift)
                session.flush()
                audit.record(session, self._ctx, audit.SHIFT_OPEN, target_type="cash_shift", target_id=shift.id,
                             target_label=f"{desk} shift #{shift.id}", amount_after=amount,
                             detail={"opening_float": amount})
                return shift_views(session, [shift])[0]
        except IntegrityError as exc:
            # Another desk with the same name opened one between our check and insert (PostgreSQL).
            if "uq_cash_shift_open_desk" not in str(exc.orig) and "cash_shift.desk_name" not in str(exc.orig):
                raise
            with self._ctx.db.read() as session:
                existing = session.scalars(
                    select(CashShift).where(CashShift.desk_name == desk, CashShift.status == OPEN)
                ).one_or_none()
                if existing is not None:
                    raise self._already_open(session, existing) from None
            raise ShiftError(f"Another desk named {desk} opened a shift at the same moment. "
                             "Look at the Shifts screen before opening one.") from None

    def close(self, shift_id: int, counted_cash: Decimal | str | int, *, note: str = "") -> ShiftView:
        """Close the shift with the cash counted in the drawer; stores expected and counted."""
        actor = authorize(Permission.OPEN_SHIFT)
        counted = _amount(counted_cash, "counted cash")
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            shift = load_shift(session, shift_id, self._ctx.desk_name, lock=True)
            zone = shift_zone(session, shift.conference_id)
            if shift.status != OPEN:
                when = format_local(shift.closed_at, zone, "%Y-%m-%d %H:%M") if shift.closed_at else ""
                raise ShiftError(
                    f"Shift #{shift.id} at {shift.desk_name} was already closed{' at ' + when if when else ''}; "
                    "a shift cannot be closed twice. Open a new shift to take cash again."
                )
            if shift.desk_name != self._ctx.desk_name:
                raise ShiftError(
                    f"Shift #{shift.id} belongs to {shift.desk_name}; count and close it at that desk."
                )
            cash_in, cash_out, _, _ = cash_totals(session, shift.id)
            expected = quantize(shift.opening_float + cash_in - cash_out)
            difference = quantize(counted - expected)
            shift.status = CLOSED
            shift.closed_at = now
            shift.closed_by_id = actor.staff_id if actor.staff_id is not None and session.get(
                Staff, actor.staff_id) is not None else None
            shift.expected_cash = expected
            shift.counted_cash = counted
            text = (note or "").strip()
            if text:
                shift.note = f"{shift.note}\n{text}".strip() if shift.note else text
            session.flush()
            audit.record(session, self._ctx, audit.SHIFT_CLOSE, target_type="cash_shift", target_id=shift.id,
                         target_label=f"{shift.desk_name} shift #{shift.id}", amount_before=expected,
                         amount_after=counted, detail={"difference": difference, "note": text})
            return shift_views(session, [shift])[0]

    # ------------------------------------------------------------------ reports

    def report(self, shift_id: int) -> ShiftReport:
        """Totals of one shift (interim while open): see ``shift_report.build_report``."""

        with self._ctx.db.read() as session:
            shift = load_shift(session, shift_id, self._ctx.desk_name)
            return build_report(session, shift, shift_views(session, [shift])[0], self._ctx.clock.now())

    def report_csv(self, shift_id: int, path: Path | str) -> int:
        """Write the report of ``shift_id`` to ``path`` as CSV (atomically); returns the rows written."""

        return write_csv(self.report(shift_id), path)

    # ------------------------------------------------------------------ helpers

    def _already_open(self, session: Session, shift: CashShift) -> ShiftError:
        zone = shift_zone(session, shift.conference_id)
        since = format_local(shift.opened_at, zone, "%H:%M")
        day = format_local(shift.opened_at, zone, "%Y-%m-%d")
        today = format_local(self._ctx.clock.now(), zone, "%Y-%m-%d")
        money = format_money(shift.opening_float, shift_currency(session, shift.conference_id))
        return ShiftError(
            f"A shift is already open at {shift.desk_name} since {since}"
            f"{'' if day == today else ' on ' + day} (shift #{shift.id}, float {money}). "
            "Keep selling in it, or close it first (Shifts screen) to start a new one."
        )


__all__ = ["ShiftService", "ShiftView", "cash_totals", "open_shift_id", "require_open_shift"]
