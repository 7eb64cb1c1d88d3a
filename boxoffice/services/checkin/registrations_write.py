"""Writing imported registrations: new orders in bulk, changed ones one savepoint each.

New orders are added with their lines, one ``web`` payment (what the web recorded), a ``web``
refund, the customer matched by e-mail (DEC-5), an attendee per ticket unit (the web's attendee
keeps its access code, DEC-15) and the web's check-ins; their stock is added with
``apply_counter_delta``. A changed order moves through ``order_state.transition`` so the counters
follow (IMP-4); check-ins, redemptions, badge prints and desk renames are left as they are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from boxoffice.domain.attendee_rules import Holder, new_access_code, plan_holders, search_words
from boxoffice.domain.models import (
    Attendee,
    AttendeeStatus,
    AttendeeWord,
    CheckIn,
    CheckInKind,
    Customer,
    Order,
    OrderLineItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
)
from boxoffice.services.checkin import roster
from boxoffice.services.checkin.registrations_bulk import insert_rows, insert_with_ids, update_column
from boxoffice.services.checkin.registrations_source import SETTLED, Skip, WebHolder, WebOrder
from boxoffice.services.checkin.registrations_state import Catalog, DeskOrder, expected_hold, status_matches
from boxoffice.services.sales import order_state

__all__ = ["FEW_ORDERS", "BatchResult", "CodeBook", "Order", "add_orders", "customer_ids", "set_fingerprints",
           "unmappable", "update_orders"]

WEB_NOTE = "Taken by the web registration system"
WEB_REFUND_REASON = "Refunded in the web registration system"
WEB_OPERATOR = "web system"
Line = tuple[int | None, int | None, int]
FEW_ORDERS = 2000   # up to this many orders are named in a query; more are read with all the others


@dataclass
class BatchResult:
    written: int = 0
    skipped: list[Skip] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    check_ins: int = 0


class CodeBook:
    """The access codes in use at the desk, so web codes are checked and desk codes drawn without a query each."""

    def __init__(self, session: Session) -> None:
        self.used: set[str] = {c.upper() for c in session.scalars(select(Attendee.access_code))}

    def draw(self, local: set[str]) -> str:
        while True:
            code = new_access_code()
            if code not in self.used and code not in local:
                local.add(code)
                return code


def customer_ids(session: Session, emails: set[str]) -> dict[str, int]:
    """lower(e-mail) -> the desk's customer with that e-mail (the first, as the desk matches)."""
    wanted = sorted({e.strip().lower() for e in emails if _valid_email(e)})
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        rows: list[tuple[int, str]] = [(r[0], r[1]) for r in session.execute(
            select(Customer.id, func.lower(Customer.email))
            .where(func.lower(Customer.email).in_(wanted[start:start + 500])).order_by(Customer.id))]
        for cid, mail in rows:
            found.setdefault(mail, cid)
    return found


def _valid_email(email: str) -> bool:
    mail = (email or "").strip()
    return "@" in mail and " " not in mail and not mail.startswith("@") and not mail.endswith("@") and len(mail) <= 254


def unmappable(web: WebOrder, catalog: Catalog) -> str:
    """Why ``web`` cannot be imported (an unknown product, a bad amount), or ''."""
    for line in web.lines:
        if catalog.product(line.kind, line.slug) is None:
            what = "ticket type" if line.kind == "ticket" else "add-on"
            return f"unknown {what} '{line.slug}' ({line.description}); add it to the conference file and import it"
        if not 0 <= line.quantity <= 100_000:
            return f"line {line.source_id} has quantity {line.quantity}"
        if min(line.unit_price, line.discount, line.line_total) < 0:
            return f"line {line.source_id} has a negative amount"
    if min(web.subtotal, web.discount, web.total, web.paid, web.refunded) < 0:
        return "the order has a negative amount"
    if len(web.reference) > 100:
        return "the reference is longer than 100 characters"
    return ""


def _bucket(web: WebOrder) -> Literal["sold", "held"] | None:
    return order_state.bucket(OrderStatus(web.status), expected_hold(web))


def _product(catalog: Catalog, kind: str, slug: str) -> tuple[int | None, int | None]:
    product = catalog.product(kind, slug)
    assert product is not None   # unmappable() ran first
    return (product[0], None) if kind == "ticket" else (None, product[0])


def _plan(web: WebOrder, units: int) -> list[Holder]:
    """Who holds each of the order's ticket units: the web's holder when it has a name or an e-mail,
    else the desk's rule (``plan_holders``: the buyer first, then "Guest N of <buyer>")."""
    holders = {h.position: h for h in web.holders if h.name or h.email}
    named = [(holders[p].name, holders[p].email, holders[p].company) if p in holders else ("", "", "")
             for p in range(1, units + 1)]
    buyer = (web.billing_name or web.buyer_name, web.billing_email or web.buyer_email, web.billing_company)
    return [(name[:200], email[:254], company[:200]) for name, email, company in plan_holders(units, buyer, named)]


def _unit_source(web: WebOrder, line_source: str, unit: int) -> str:
    return f"unit:{web.source_id}:{line_source}/{unit}"


def _check_ins(attendee: Attendee, holder: WebHolder | None, have: set[tuple[datetime, str]],
               live_entry: bool) -> int:
    added = 0
    if holder is None:
        return 0
    for check_in in holder.check_ins:
        key = (check_in.at, check_in.station[:100])
        if key in have:
            continue
        have.add(key)
        kind = CheckInKind.REENTRY if live_entry else CheckInKind.ENTRY
        live_entry = True
        attendee.check_ins.append(CheckIn(
            conference_id=attendee.conference_id, kind=kind.value, at=check_in.at, desk=check_in.station[:100],
            operator_name=WEB_OPERATOR,
        ))
        added += 1
    return added


def _index(session: Session, attendees: list[Attendee]) -> None:
    rows = [{"conference_id": a.conference_id, "word": w, "attendee_id": a.id}
            for a in attendees for w in sorted(search_words(a.name, a.email, a.company))]
    insert_rows(session, AttendeeWord, rows)


def _counters(lines: list[Line]) -> list[Line]:
    """The lines summed per product, so the counters move with one UPDATE each."""
    summed: defaultdict[tuple[int | None, int | None], int] = defaultdict(int)
    for ticket_type_id, addon_id, quantity in lines:
        summed[(ticket_type_id, addon_id)] += quantity
    return [(tt, addon, quantity) for (tt, addon), quantity in summed.items()]


def add_orders(session: Session, conference_id: int, system: str, batch: list[WebOrder], catalog: Catalog,
               customers: dict[str, int], codes: CodeBook, now: datetime) -> BatchResult:
    """Add the orders of ``batch``; their stock, attendees, words and check-ins too (Core bulk INSERTs)."""
    result = BatchResult()
    local_codes: set[str] = set()
    accepted: list[WebOrder] = []
    for web in batch:
        taken = [h.access_code for h in web.holders if h.access_code
                 and (h.access_code.upper() in codes.used or h.access_code.upper() in local_codes)]
        if taken:
            result.skipped.append(Skip(web.source_id, web.reference, f"access code {taken[0]} is already used by "
                                       "another attendee at the desk"))
            continue
        local_codes |= {h.access_code.upper() for h in web.holders if h.access_code}
        accepted.append(web)
    # Customers: matched by e-mail (DEC-5); one new customer per new e-mail, and one per order without one.
    new_people: list[dict[str, Any]] = []
    pending: dict[str, int] = {}
    wanted: list[str | int] = []   # per order: the e-mail of a known customer, or the index of a new one
    for web in accepted:
        mail = web.buyer_email.strip().lower()
        valid = _valid_email(mail)
        if valid and mail in customers:
            wanted.append(mail)
            continue
        if valid and mail in pending:
            wanted.append(pending[mail])
            continue
        new_people.append({"name": (web.buyer_name or web.billing_name)[:200], "email": mail if valid else None,
                           "company": web.buyer_company[:200], "is_anonymous": False, "created_at": now,
                           "updated_at": now})
        if valid:
            pending[mail] = len(new_people) - 1
        wanted.append(len(new_people) - 1)
    people_ids = insert_with_ids(session, Customer, new_people)
    for row, person_id in zip(new_people, people_ids, strict=True):
        if row["email"] is not None:
            customers[row["email"]] = person_id
    customer_of = [customers[w] if isinstance(w, str) else people_ids[w] for w in wanted]
    order_ids = insert_with_ids(session, Order, [{
        "conference_id": conference_id, "customer_id": customer_id, "status": OrderStatus(web.status),
        "subtotal": web.subtotal, "discount_amount": web.discount, "total": web.total,
        "voucher_code": web.voucher_code[:100], "billing_name": web.billing_name[:200],
        "billing_email": web.billing_email[:254], "billing_company": web.billing_company[:200],
        "reference": web.reference, "hold_expires_at": expected_hold(web), "source_system": system,
        "source_id": web.source_id, "source_fingerprint": web.fingerprint, "created_at": web.created_at or now,
        "updated_at": now,
    } for web, customer_id in zip(accepted, customer_of, strict=True)])
    line_rows: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    refunds: list[dict[str, Any]] = []
    counters: dict[Literal["sold", "held"], list[Line]] = defaultdict(list)
    for web, order_id in zip(accepted, order_ids, strict=True):
        created = web.created_at or now
        for wl in web.lines:
            tt, addon = _product(catalog, wl.kind, wl.slug)
            line_rows.append({
                "order_id": order_id, "description": wl.description[:300], "quantity": wl.quantity,
                "unit_price": wl.unit_price, "discount_amount": wl.discount, "line_total": wl.line_total,
                "ticket_type_id": tt, "addon_id": addon, "source_id": wl.source_id, "created_at": created,
            })
        if web.paid > 0:
            payments.append({"order_id": order_id, "method": PaymentMethod.WEB, "status": PaymentStatus.SUCCEEDED,
                             "amount": web.paid, "reference": web.reference, "note": WEB_NOTE,
                             "created_at": created})
        if web.refunded > 0:
            refunds.append({"order_id": order_id, "amount": web.refunded, "method": RefundMethod.WEB,
                            "status": RefundStatus.SUCCEEDED, "reason": WEB_REFUND_REASON, "created_at": now})
        target = _bucket(web)
        if target is not None:
            counters[target].extend((r["ticket_type_id"], r["addon_id"], r["quantity"])
                                    for r in line_rows[len(line_rows) - len(web.lines):])
    line_ids = iter(insert_with_ids(session, OrderLineItem, line_rows))
    insert_rows(session, Payment, payments)
    insert_rows(session, Refund, refunds)
    people: list[dict[str, Any]] = []
    holders_of: list[WebHolder | None] = []
    for web, order_id, customer_id in zip(accepted, order_ids, customer_of, strict=True):
        ids = [next(line_ids) for _ in web.lines]
        if web.status not in SETTLED:
            continue
        holders = {h.position: h for h in web.holders}
        plan = _plan(web, sum(wl.quantity for wl in web.lines if wl.kind == "ticket"))
        position = 0
        for wl, line_id in zip(web.lines, ids, strict=True):
            if wl.kind != "ticket":
                continue
            tt, _addon = _product(catalog, wl.kind, wl.slug)
            for unit in range(1, wl.quantity + 1):
                position += 1
                holder = holders.get(position)
                name, email, company = plan[position - 1]
                people.append({
                    "conference_id": conference_id, "order_id": order_id, "order_line_id": line_id, "unit": unit,
                    "ticket_type_id": tt, "customer_id": customer_id if position == 1 else None,
                    "name": name, "email": email, "company": company,
                    "access_code": holder.access_code if holder and holder.access_code else codes.draw(local_codes),
                    "status": AttendeeStatus.VALID, "note": "", "renamed_at_desk": False, "source_system": system,
                    "source_id": holder.source_id if holder and holder.source_id else
                    _unit_source(web, wl.source_id, unit),
                    "created_at": now, "updated_at": now,
                })
                holders_of.append(holder)
    attendee_ids = insert_with_ids(session, Attendee, people)
    entries: list[dict[str, Any]] = []
    words: list[dict[str, Any]] = []
    for row, attendee_id, holder in zip(people, attendee_ids, holders_of, strict=True):
        words.extend({"conference_id": conference_id, "word": w, "attendee_id": attendee_id}
                     for w in sorted(search_words(row["name"], row["email"], row["company"])))
        seen: set[tuple[datetime, str]] = set()
        for check_in in holder.check_ins if holder is not None else ():
            key = (check_in.at, check_in.station[:100])
            if key in seen:
                continue
            kind = CheckInKind.REENTRY if seen else CheckInKind.ENTRY
            seen.add(key)
            entries.append({"attendee_id": attendee_id, "conference_id": conference_id, "kind": kind.value,
                            "at": check_in.at, "desk": check_in.station[:100], "operator_name": WEB_OPERATOR})
    insert_rows(session, CheckIn, entries)
    insert_rows(session, AttendeeWord, words)
    result.check_ins += len(entries)
    for counter, quantities in counters.items():
        order_state.apply_counter_delta(session, conference_id, _counters(quantities), counter, +1)
    result.written += len(accepted)
    codes.used |= local_codes   # the caller's run_write commits right after; a retry draws again
    return result


def set_fingerprints(session: Session, fingerprints: dict[int, str]) -> None:
    """Store the fingerprints of orders that were found the same as the source (order id -> fingerprint)."""
    update_column(session, Order, "source_fingerprint", fingerprints)


def update_orders(session: Session, conference_id: int, system: str, batch: list[WebOrder], catalog: Catalog,
                  codes: CodeBook, now: datetime) -> BatchResult:
    """Bring each changed order of ``batch`` in line with the web, each in a savepoint of its own."""
    result = BatchResult()
    local_codes: set[str] = set()
    for web in batch:
        try:
            with session.begin_nested():
                order = session.scalars(select(Order).where(
                    Order.source_system == system, Order.source_id == web.source_id).with_for_update()).one()
                result.check_ins += _update(session, order, web, catalog, codes, local_codes, now, result.conflicts)
            result.written += 1
        except Exception as exc:  # noqa: BLE001 - one order's failure must not stop the others (IMP-5)
            result.skipped.append(Skip(web.source_id, web.reference, f"could not be updated: {exc}"))
    codes.used |= local_codes
    return result


def _update(session: Session, order: Order, web: WebOrder, catalog: Catalog, codes: CodeBook,
            local_codes: set[str], now: datetime, conflicts: list[str]) -> int:
    old_bucket = order_state.bucket(order.status, order.hold_expires_at)
    before: list[Line] = [(li.ticket_type_id, li.addon_id, li.quantity) for li in order.line_items]
    desk_lines = {li.source_id: li for li in order.line_items}
    wanted = set()
    for wl in web.lines:
        tt, addon = _product(catalog, wl.kind, wl.slug)
        line = desk_lines.get(wl.source_id)
        if line is None:
            line = OrderLineItem(source_id=wl.source_id, created_at=web.created_at or now, unit_price=wl.unit_price,
                                 line_total=wl.line_total, description=wl.description[:300])
            order.line_items.append(line)
        line.description, line.quantity, line.unit_price = wl.description[:300], wl.quantity, wl.unit_price
        line.discount_amount, line.line_total = wl.discount, wl.line_total
        line.ticket_type_id, line.addon_id = tt, addon
        wanted.add(wl.source_id)
    for sid, line in desk_lines.items():
        if sid not in wanted and line.quantity:   # gone upstream: no units left, desk facts kept
            line.quantity, line.line_total, line.discount_amount = 0, Decimal("0.00"), Decimal("0.00")
    after: list[Line] = [(li.ticket_type_id, li.addon_id, li.quantity) for li in order.line_items]
    session.flush()
    if old_bucket is not None and sorted(before, key=str) != sorted(after, key=str):
        order_state.apply_counter_delta(session, order.conference_id, before, old_bucket, -1)
        order_state.apply_counter_delta(session, order.conference_id, after, old_bucket, +1)
    order.billing_name, order.billing_email = web.billing_name[:200], web.billing_email[:254]
    order.billing_company, order.voucher_code = web.billing_company[:200], web.voucher_code[:100]
    order.subtotal, order.discount_amount, order.total = web.subtotal, web.discount, web.total
    was_settled = order.status.value in SETTLED
    probe = DeskOrder(order.id, order.reference, order.status, order.hold_expires_at, ())
    if not status_matches(web, probe, now):
        order_state.transition(session, order, OrderStatus(web.status), hold_expires_at=expected_hold(web))
    if web.status in SETTLED and not was_settled:
        roster.set_status(session, order.id, AttendeeStatus.VALID)
    _money(session, order, web)
    order.source_fingerprint = web.fingerprint
    if web.status in SETTLED:
        session.flush()
        return _place(session, order, web, codes, local_codes, now, conflicts)
    return 0


def _money(session: Session, order: Order, web: WebOrder) -> None:
    payments = [p for p in order.payments if p.method == PaymentMethod.WEB and p.status == PaymentStatus.SUCCEEDED]
    if payments:
        payments[0].amount = web.paid
        for extra in payments[1:]:
            extra.amount = Decimal("0.00")
    elif web.paid > 0:
        order.payments.append(Payment(method=PaymentMethod.WEB, status=PaymentStatus.SUCCEEDED, amount=web.paid,
                                      reference=web.reference, note=WEB_NOTE))
    refunds = [r for r in order.refunds if r.method == RefundMethod.WEB]
    if sum((r.amount for r in refunds), Decimal("0.00")) != web.refunded:
        session.execute(delete(Refund).where(Refund.order_id == order.id, Refund.method == RefundMethod.WEB))
        session.expire(order, ["refunds"])
        if web.refunded > 0:
            session.add(Refund(order_id=order.id, amount=web.refunded, method=RefundMethod.WEB,
                               status=RefundStatus.SUCCEEDED, reason=WEB_REFUND_REASON))


def _place(session: Session, order: Order, web: WebOrder, codes: CodeBook, local_codes: set[str], now: datetime,
           conflicts: list[str]) -> int:
    """Every ticket unit has its attendee; the web's holders keep their codes and (unless renamed at the
    desk) their names; web check-ins missing at the desk are added."""
    existing = {(a.order_line_id, a.unit): a for a in session.scalars(
        select(Attendee).where(Attendee.order_id == order.id))}
    holders = {h.position: h for h in web.holders}
    added_check_ins = 0
    fresh: list[Attendee] = []
    renamed: list[Attendee] = []
    position = 0
    lines = sorted((li for li in order.line_items if li.addon_id is None), key=lambda li: li.id)
    plan = _plan(web, sum(line.quantity for line in lines))
    for line in lines:
        for unit in range(1, line.quantity + 1):
            position += 1
            holder = holders.get(position)
            attendee = existing.get((line.id, unit))
            code = holder.access_code if holder else None
            if code and code.upper() in codes.used | local_codes and (attendee is None or attendee.access_code != code):
                owner = session.scalar(select(Attendee.id).where(Attendee.access_code == code))
                if owner is not None and (attendee is None or owner != attendee.id):
                    conflicts.append(f"{web.reference}: the web's access code {code} is used by another attendee "
                                     "at the desk; this unit keeps a desk code.")
                    code = None
            if attendee is None:
                name, email, company = plan[position - 1]
                attendee = Attendee(
                    conference_id=order.conference_id, order_id=order.id, order_line_id=line.id, unit=unit,
                    ticket_type_id=line.ticket_type_id, customer_id=order.customer_id if position == 1 else None,
                    name=name, email=email, company=company,
                    access_code=code or codes.draw(local_codes), source_system=order.source_system,
                    source_id=holder.source_id if holder else _unit_source(web, line.source_id, unit),
                )
                session.add(attendee)
                fresh.append(attendee)
            elif holder is not None:
                if code and attendee.access_code != code:
                    attendee.access_code = code
                    local_codes.add(code.upper())
                if attendee.source_id != holder.source_id:
                    attendee.source_id = holder.source_id
                if holder.name and (attendee.name, attendee.email, attendee.company) != (
                        holder.name, holder.email, holder.company):
                    if attendee.renamed_at_desk:
                        conflicts.append(f"{web.reference}: renamed at the desk to '{attendee.name}'; the web says "
                                         f"'{holder.name}'. Kept the desk's name.")
                    else:
                        attendee.name, attendee.email = holder.name[:200], holder.email[:254]
                        attendee.company = holder.company[:200]
                        renamed.append(attendee)
            if holder is not None and holder.check_ins:
                have = {(c.at, c.desk) for c in attendee.check_ins}
                live = any(c.kind == CheckInKind.ENTRY.value and c.undone_at is None for c in attendee.check_ins)
                added_check_ins += _check_ins(attendee, holder, have, live)
    session.flush()
    _index(session, fresh)
    for attendee in renamed:
        roster.index_words(session, attendee)
    return added_check_ins
