"""Cancelling chosen units of a settled order's lines (DEC-10): what they are worth, and their release.

``plan_units`` checks the choice and prices it (each unit's share of its line total, rounded so all
units of a line add up to it); ``release_units`` marks the units cancelled, gives their stock back
and voids the attendees of cancelled ticket units, in the caller's transaction. The money goes back
through ``RefundService.cancel_units``, which calls both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import SETTLED_STATUSES, Attendee, Order, OrderLineItem, Redemption
from boxoffice.errors import InvalidInput, RefundError
from boxoffice.money import ZERO, units_share
from boxoffice.services.checkin import roster
from boxoffice.services.sales import order_state


@dataclass(frozen=True)
class UnitChoice:
    line_id: int
    description: str
    count: int
    value: Decimal
    attendee_ids: tuple[int, ...]  # named by the caller for this line (ticket lines only)


@dataclass(frozen=True)
class UnitPlan:
    choices: tuple[UnitChoice, ...]
    value: Decimal

    def detail(self) -> dict[str, int]:
        """The units per line id, as the audit row keeps them."""
        return {str(c.line_id): c.count for c in self.choices}

    @property
    def units(self) -> int:
        return sum(c.count for c in self.choices)


def units_input(units: Mapping[int, int]) -> dict[int, int]:
    """Line id → units to cancel, as whole numbers of at least 1; at least one line."""
    wanted: dict[int, int] = {}
    for line_id, count in dict(units).items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise InvalidInput(f"{count!r} is not a number of units. Enter a whole number such as 1.",
                               field="units")
        if count:
            wanted[int(line_id)] = count
    if not wanted:
        raise InvalidInput("Choose at least one unit of a line to cancel.", field="units")
    return wanted


def plan_units(
    session: Session, order: Order, units: Mapping[int, int], attendee_ids: Collection[int] = ()
) -> UnitPlan:
    """Check the choice against the order (its lines, units left, add-ons handed out) and price it."""
    if order.status not in SETTLED_STATUSES:
        raise RefundError(
            f"Only units of paid or partially refunded orders can be cancelled; order {order.reference} is "
            f"{order.status.value.replace('_', ' ')}."
        )
    lines = {
        line.id: line
        for line in session.scalars(
            select(OrderLineItem).where(OrderLineItem.order_id == order.id).with_for_update()
        )
    }
    redeemed = dict(
        session.execute(
            select(Redemption.order_line_id, func.count(Redemption.id))
            .where(Redemption.order_line_id.in_(list(lines)))
            .group_by(Redemption.order_line_id)
        ).all()
    )
    named: dict[int, list[int]] = {}
    if attendee_ids:
        found = session.execute(
            select(Attendee.id, Attendee.order_line_id).where(
                Attendee.order_id == order.id, Attendee.id.in_(list(set(attendee_ids)))
            )
        ).all()
        if len(found) != len(set(attendee_ids)):
            raise InvalidInput(
                f"An attendee chosen is not on order {order.reference}. Reload the order and choose again.",
                field="attendees",
            )
        for attendee_id, line_id in found:
            named.setdefault(line_id, []).append(attendee_id)
    choices = []
    for line_id, count in sorted(units.items()):
        line = lines.get(line_id)
        if line is None:
            raise InvalidInput(
                f"Line #{line_id} is not on order {order.reference}. Reload the order and choose again.",
                field="units",
            )
        live = line.quantity - line.cancelled_quantity
        handed_out = int(redeemed.get(line_id, 0)) if line.addon_id is not None else 0
        most = max(live - handed_out, 0)
        if count > most:
            already = f" ({handed_out} already handed out)" if handed_out else ""
            raise RefundError(
                f"Order {order.reference} has {most} {line.description} left to cancel{already}; "
                f"{count} were chosen. Choose at most {most}."
            )
        chosen = tuple(sorted(named.pop(line_id, [])))
        if len(chosen) > count:
            raise InvalidInput(
                f"{len(chosen)} attendees were chosen for {count} cancelled {line.description}. Choose "
                "as many attendees as units.", field="attendees",
            )
        value = units_share(line.line_total, line.quantity, line.cancelled_quantity, count)
        choices.append(UnitChoice(line.id, line.description, count, value, chosen))
    if named:
        raise InvalidInput(
            "An attendee was chosen on a line none of whose units are being cancelled. Choose their ticket "
            "line too, or leave the attendee out.", field="attendees",
        )
    return UnitPlan(tuple(choices), sum((c.value for c in choices), ZERO))


def release_units(session: Session, order: Order, plan: UnitPlan) -> list[int]:
    """Mark the planned units cancelled, give their stock back and void their attendees (ids returned).

    The order is settled, so its units sit in the sold counters; the caller has the order locked.
    """
    lines = {line.id: line for line in session.scalars(
        select(OrderLineItem).where(OrderLineItem.id.in_([c.line_id for c in plan.choices])).with_for_update()
    )}
    moved: list[tuple[int | None, int | None, int]] = []
    voided: list[int] = []
    for choice in plan.choices:
        line = lines[choice.line_id]
        if line.cancelled_quantity + choice.count > line.quantity:  # cancelled meanwhile at another desk
            raise RefundError(
                f"Some of the {line.description} on order {order.reference} were cancelled meanwhile. "
                "Reload the order and choose again."
            )
        line.cancelled_quantity += choice.count
        moved.append((line.ticket_type_id, line.addon_id, choice.count))
        if line.addon_id is None:
            voided += roster.void_units(session, line.id, choice.count, choice.attendee_ids)
    if order.status in SETTLED_STATUSES:
        order_state.apply_counter_delta(session, order.conference_id, moved, "sold", -1)
    session.flush()
    return voided
