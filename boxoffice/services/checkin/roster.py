"""The roster: an attendee for every ticket unit of an order, kept in step with the order's status.

Called inside the transaction that changes the order (``order_state``), so an order and its
attendees never disagree: a paid order has an attendee per ticket unit (ATT-1, ATT-3), and a
refunded or cancelled order's attendees are void, and so is the attendee of each ticket unit a lead
cancelled (DEC-10).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from boxoffice.domain.attendee_rules import new_access_code, plan_holders, search_words
from boxoffice.domain.models import (
    Attendee,
    AttendeeStatus,
    AttendeeWord,
    Customer,
    Order,
    OrderLineItem,
)
from boxoffice.errors import InvalidInput


def unique_access_code(session: Session) -> str:
    """A desk-made access code no attendee has yet."""
    for _ in range(50):
        code = new_access_code()
        if session.scalar(select(Attendee.id).where(Attendee.access_code == code)) is None:
            return code
    raise RuntimeError("could not draw a unique access code")


def index_words(session: Session, attendee: Attendee) -> None:
    """Rewrite the search words of ``attendee`` (after it was created or renamed); flushes it first."""
    if attendee.id is None:
        session.flush()
    session.execute(delete(AttendeeWord).where(AttendeeWord.attendee_id == attendee.id))
    words = search_words(attendee.name, attendee.email, attendee.company)
    if words:
        session.execute(insert(AttendeeWord), [
            {"conference_id": attendee.conference_id, "word": w, "attendee_id": attendee.id} for w in sorted(words)
        ])


def ensure_attendees(
    session: Session, order: Order, holders: list[tuple[str, str, str]] | None = None
) -> list[Attendee]:
    """Give every ticket unit of ``order`` its attendee (idempotent); returns the order's attendees.

    ``holders`` names the units in order (name, email, company); the others are named by
    ``plan_holders``: the buyer on the first unit, "Guest N of <buyer>" on the rest.
    """
    existing = {(a.order_line_id, a.unit): a for a in session.scalars(
        select(Attendee).where(Attendee.order_id == order.id)
    )}
    lines = session.execute(
        select(OrderLineItem.id, OrderLineItem.quantity, OrderLineItem.ticket_type_id)
        .where(OrderLineItem.order_id == order.id, OrderLineItem.addon_id.is_(None))
        .order_by(OrderLineItem.id)
    ).all()
    customer = session.get(Customer, order.customer_id)
    buyer_name = order.billing_name or (customer.name if customer else "")
    buyer = (buyer_name, order.billing_email or (customer.email or "" if customer else ""),
             order.billing_company or (customer.company if customer else ""))
    plan = plan_holders(sum(int(quantity) for _line, quantity, _tt in lines), buyer, holders)
    result: list[Attendee] = []
    position = 0
    for line_id, quantity, ticket_type_id in lines:
        for unit in range(1, int(quantity) + 1):
            position += 1
            attendee = existing.get((line_id, unit))
            if attendee is None:
                name, email, company = plan[position - 1]
                attendee = Attendee(
                    conference_id=order.conference_id, order_id=order.id, order_line_id=line_id, unit=unit,
                    ticket_type_id=ticket_type_id, customer_id=order.customer_id if position == 1 else None,
                    name=name, email=email, company=company, access_code=unique_access_code(session),
                )
                session.add(attendee)
                index_words(session, attendee)
            result.append(attendee)
    return result


def set_status(session: Session, order_id: int, status: AttendeeStatus) -> None:
    """Make every attendee of the order valid or void (a refunded or cancelled order is never admitted)."""
    session.execute(
        update(Attendee).where(Attendee.order_id == order_id, Attendee.status != status).values(status=status)
    )


def void_units(session: Session, line_id: int, count: int, named: Collection[int] = ()) -> list[int]:
    """Void the attendees of ``count`` cancelled units of a ticket line; returns their ids.

    ``named`` (attendee ids) chooses which ones; without it the highest unit numbers go first. A named
    attendee of another line, or one already void, is refused.
    """
    valid = session.scalars(
        select(Attendee)
        .where(Attendee.order_line_id == line_id, Attendee.status == AttendeeStatus.VALID)
        .order_by(Attendee.unit.desc())
        .with_for_update()
    ).all()
    chosen = [a for a in valid if a.id in set(named)]
    if named and len(chosen) != len(set(named)):
        raise InvalidInput(
            "An attendee chosen for a cancelled ticket is not a valid attendee of that line (already void, "
            "or of another line). Reload the order and choose again."
        )
    # Named ones first, then the highest unit numbers; a line may have fewer attendees than units.
    rest = [a for a in valid if a not in chosen]
    voided = (chosen + rest)[:count]
    for attendee in voided:
        attendee.status = AttendeeStatus.VOID
    return [a.id for a in voided]
