"""The desk's attendees as registrations CSV: the import's own format, so a file goes round trip.

One row per ticket unit of every order of the conference (its attendee's name and access code
when it has one), one row for an order without tickets; add-ons go on the order's first row.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    AddOn,
    Attendee,
    Order,
    OrderLineItem,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    TicketType,
)
from boxoffice.services.checkin.registrations_csv import HEADER
from boxoffice.services.staff.audit import ExportFailed


def export_csv(session: Session, conference_id: int, path: Path) -> int:
    """Write the conference's registrations to ``path`` (atomically); returns the rows written."""
    tickets = dict(session.execute(select(TicketType.id, TicketType.slug).where(TicketType.conference_id ==
                                                                                 conference_id)).all())
    addons = dict(session.execute(select(AddOn.id, AddOn.slug).where(AddOn.conference_id == conference_id)).all())
    lines: defaultdict[int, list[tuple[int, int | None, int | None, int]]] = defaultdict(list)
    for order_id, line_id, tt, addon, qty in session.execute(
            select(OrderLineItem.order_id, OrderLineItem.id, OrderLineItem.ticket_type_id, OrderLineItem.addon_id,
                   OrderLineItem.quantity).join(Order, Order.id == OrderLineItem.order_id)
            .where(Order.conference_id == conference_id).order_by(OrderLineItem.id)):
        lines[order_id].append((line_id, tt, addon, qty))
    money_in: defaultdict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for order_id, amount in session.execute(
            select(Payment.order_id, Payment.amount).join(Order, Order.id == Payment.order_id)
            .where(Order.conference_id == conference_id, Payment.status.in_(
                [PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED]))):
        money_in[order_id] += amount
    money_out: defaultdict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for order_id, amount in session.execute(
            select(Refund.order_id, Refund.amount).join(Order, Order.id == Refund.order_id)
            .where(Order.conference_id == conference_id, Refund.status == RefundStatus.SUCCEEDED)):
        money_out[order_id] += amount
    attendees = {(line_id, unit): (name, email, company, code) for line_id, unit, name, email, company, code in
                 session.execute(select(Attendee.order_line_id, Attendee.unit, Attendee.name, Attendee.email,
                                        Attendee.company, Attendee.access_code)
                                 .where(Attendee.conference_id == conference_id))}
    rows: list[list[str]] = []
    for order in session.execute(
            select(Order.id, Order.reference, Order.status, Order.billing_name, Order.billing_email,
                   Order.billing_company, Order.total, Order.created_at)
            .where(Order.conference_id == conference_id).order_by(Order.id)):
        oid, reference, status, name, email, company, total, created = order
        addon_text = ";".join(f"{addons[a]}:{q}" for _l, _t, a, q in lines[oid] if a in addons and q)
        base = [reference, status.value, name, email, company]
        tail = [str(money_in[oid]), str(money_out[oid]), str(total), created.isoformat() if created else ""]
        units = [(line_id, tt, unit) for line_id, tt, a, q in lines[oid] if a is None and tt in tickets
                 for unit in range(1, q + 1)]
        if not units:
            rows.append(base + ["", "", "", "", "", addon_text] + tail)
            continue
        for index, (line_id, tt, unit) in enumerate(units):
            holder = attendees.get((line_id, unit), ("", "", "", ""))
            rows.append(base + [holder[0], holder[1], holder[2], tickets[tt], holder[3],
                                addon_text if index == 0 else ""] + tail)
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=".registrations-", suffix=".csv", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(rows)
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportFailed(f"The registrations could not be written to {path} ({exc.strerror or exc}). "
                           "Choose another folder.") from None
    return len(rows)
