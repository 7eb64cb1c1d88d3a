"""Attendees at the desk: search as you type (ATT-4), an order's attendees, renames, notes, add-ons.

Search runs as Core statements on the session's connection: an access code or an order reference
(exact, or as a prefix), then the folded ``attendee_word`` index (a range scan per typed word, any
word of the name, the company, the whole email), so it stays fast over 100,000 attendees.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, String, and_, bindparam, exists, func, select
from sqlalchemy.orm import Session, aliased

from boxoffice.domain.attendee_rules import fold, normalize_code, reference_candidates
from boxoffice.domain.models import (
    AddOn,
    AddonAssignment,
    Attendee,
    AttendeeWord,
    Conference,
    Order,
    OrderLineItem,
    Redemption,
)
from boxoffice.errors import InvalidInput, NotFound, UserError
from boxoffice.services.checkin import roster
from boxoffice.services.checkin.views import AddonUse, AttendeeView, attendee_rows
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.catalog import check_id
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize

log = logging.getLogger(__name__)

MAX_LIMIT = 200
_MIN_PREFIX = 4   # a code or reference prefix shorter than this is treated as a name, not a code


def next_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _in_range(column: Any, prefix: str) -> Any:
    return and_(column >= prefix, column < next_prefix(prefix))


# ------------------------------------------------------------------ search statements

_CONFERENCE_PREFIX = select(Conference.reference_prefix).where(Conference.id == bindparam("cid"))

# Ranges on the unique code and reference indexes; the conference is checked on the few rows found
# (a conference condition in SQL lets SQLite prefer the conference index and scan every attendee).
_BY_CODE = (
    select(Attendee.id, Attendee.conference_id)
    .where(Attendee.access_code >= bindparam("lo", type_=String()),
           Attendee.access_code < bindparam("hi", type_=String()))
    .order_by(Attendee.access_code).limit(bindparam("limit"))
)

_ORDERS_BY_REFERENCE = (
    select(Order.id, Order.conference_id)
    .where(Order.reference >= bindparam("lo", type_=String()), Order.reference < bindparam("hi", type_=String()))
    .order_by(Order.reference).limit(bindparam("limit"))
)

_ATTENDEES_OF_ORDERS = (
    select(Attendee.id).where(Attendee.order_id.in_(bindparam("orders", expanding=True)))
    .order_by(Attendee.order_id, Attendee.order_line_id, Attendee.unit)
)


def _words_statement(count: int) -> Any:
    """Attendees having a word in each of ``count`` prefix ranges (the first range drives the scan)."""
    driver = aliased(AttendeeWord)
    stmt = select(driver.attendee_id).where(
        driver.conference_id == bindparam("cid"),
        driver.word >= bindparam("lo0", type_=String()), driver.word < bindparam("hi0", type_=String()),
    )
    for i in range(1, count):
        other = aliased(AttendeeWord)
        stmt = stmt.where(exists().where(
            other.attendee_id == driver.attendee_id, other.conference_id == driver.conference_id,
            other.word >= bindparam(f"lo{i}", type_=String()), other.word < bindparam(f"hi{i}", type_=String()),
        ))
    return stmt.distinct().limit(bindparam("limit"))


_WORDS = {n: _words_statement(n) for n in range(1, 5)}


def search_ids(c: Connection, conference_id: int, text: str, limit: int) -> list[int]:
    """Attendee ids matching ``text``: codes, then order references, then names/emails/companies."""
    found: dict[int, None] = {}

    def take(ids: Iterable[int]) -> bool:
        for i in ids:
            found.setdefault(i, None)
            if len(found) >= limit:
                return True
        return False

    def ours(rows: Iterable[Any]) -> list[int]:
        return [row[0] for row in rows if row[1] == conference_id]

    code = normalize_code(text)
    compact = code.replace(" ", "")
    if compact and " " not in text.strip() and len(compact) <= 100:
        if take(ours(c.execute(_BY_CODE, {"lo": compact, "hi": compact + "\x00", "limit": 1}))):
            return list(found)
        if len(compact) >= _MIN_PREFIX:
            if take(ours(c.execute(_BY_CODE, {"lo": compact, "hi": next_prefix(compact), "limit": limit}))):
                return list(found)
            prefix = c.execute(_CONFERENCE_PREFIX, {"cid": conference_id}).scalar() or ""
            orders: list[int] = []
            for candidate in reference_candidates(compact, prefix):
                orders += ours(c.execute(_ORDERS_BY_REFERENCE, {
                    "lo": candidate, "hi": next_prefix(candidate), "limit": limit}))
            if orders and take(c.execute(_ATTENDEES_OF_ORDERS, {"orders": list(dict.fromkeys(orders))}).scalars()):
                return list(found)
    words = sorted({w for w in fold(text).split() if w}, key=len, reverse=True)[:4]
    if words:
        params: dict[str, Any] = {"cid": conference_id, "limit": limit}
        for i, word in enumerate(words):
            params[f"lo{i}"], params[f"hi{i}"] = word, next_prefix(word)
        take(c.execute(_WORDS[len(words)], params).scalars())
    return list(found)


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"Ask for 1 to {MAX_LIMIT} results.", field="limit")
    return limit


def load_attendee(session: Session, attendee_id: int, *, lock: bool = False) -> Attendee:
    stmt = select(Attendee).where(Attendee.id == attendee_id)
    if lock and session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=Attendee)
    attendee = session.scalars(stmt).first()
    if attendee is None:
        raise NotFound(f"Attendee #{attendee_id} does not exist. Search for the attendee again.")
    return attendee


def one_view(session: Session, attendee_id: int) -> AttendeeView:
    views = attendee_rows(session, [attendee_id])
    if not views:
        raise NotFound(f"Attendee #{attendee_id} does not exist. Search for the attendee again.")
    return views[0]


# ------------------------------------------------------------------ add-ons of an attendee


def addon_columns(line: Any, attendee_id: Any) -> tuple[Any, ...]:
    """What ``addon_use`` needs of the add-on line ``line`` (``AddOn`` joined on it) for the attendee
    ``attendee_id`` (a parameter, or a column of the enclosing statement)."""
    tickets = aliased(OrderLineItem)
    return (
        line.id, line.addon_id, line.quantity, line.description, AddOn.name, AddOn.redeemable,
        select(func.coalesce(func.sum(tickets.quantity), 0))
        .where(tickets.order_id == line.order_id, tickets.addon_id.is_(None)).scalar_subquery(),
        select(AddonAssignment.quantity).where(AddonAssignment.order_line_id == line.id,
                                               AddonAssignment.attendee_id == attendee_id).scalar_subquery(),
        select(func.count()).select_from(AddonAssignment)
        .where(AddonAssignment.order_line_id == line.id).scalar_subquery(),
        select(func.count()).select_from(Redemption)
        .where(Redemption.order_line_id == line.id, Redemption.attendee_id == attendee_id)
        .scalar_subquery(),
    )


ADDON_COLUMNS = len(addon_columns(OrderLineItem, bindparam("aid")))

_ADDON_LINES = (
    select(*addon_columns(OrderLineItem, bindparam("aid")))
    .outerjoin(AddOn, AddOn.id == OrderLineItem.addon_id)
    .where(OrderLineItem.order_id == bindparam("oid"), OrderLineItem.addon_id.is_not(None))
    .order_by(OrderLineItem.id)
)


def addon_use(values: Sequence[Any]) -> AddonUse:
    """One add-on line of ``addon_columns`` as the attendee's ``AddonUse``.

    With one ticket unit in the order every add-on is that attendee's. With several, the desk's
    assignments decide; a line nobody was assigned yet that has exactly one unit per ticket unit
    gives each attendee one (one dinner each).
    """
    line_id, addon_id, quantity, description, name, redeemable, units, mine, assigned, used = values
    if int(units) <= 1:
        bought = int(quantity)
    elif assigned:
        bought = int(mine or 0)
    else:
        bought = 1 if int(quantity) == int(units) else 0
    return AddonUse(order_line_id=line_id, addon_id=addon_id, name=name or description, bought=bought,
                    used=int(used), redeemable=bool(redeemable))


def addon_uses(session: Session | Connection, attendee_id: int, order_id: int) -> tuple[AddonUse, ...]:
    """The add-ons of the attendee's order that are theirs, with how many are used (RDM-1/2); one query."""
    c = session.connection() if isinstance(session, Session) else session
    rows = c.execute(_ADDON_LINES, {"aid": attendee_id, "oid": order_id})
    return tuple(addon_use(row) for row in rows)


def _clean(value: str, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"The {field} must be text.", field=field)
    value = " ".join(value.split())
    if len(value) > limit:
        raise InvalidInput(f"The {field} is longer than {limit} characters. Shorten it.", field=field)
    return value


# ------------------------------------------------------------------ the service


class AttendeeService:
    """Find and edit attendees (ATT-1..4, RDM-2 assignments)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def search(self, conference_id: int, text: str, *, limit: int = 20) -> list[AttendeeView]:
        """ATT-4: by access code, order reference (with or without prefix and dash), any word of the
        name, the email or the company; prefix, case- and accent-insensitive."""
        check_id(conference_id, "conference")
        check_limit(limit)
        if not isinstance(text, str) or not text.strip():
            return []
        with self._ctx.db.read() as session:
            ids = search_ids(session.connection(), conference_id, text, limit)
            return attendee_rows(session, ids)

    def get(self, attendee_id: int) -> AttendeeView:
        check_id(attendee_id, "attendee")
        with self._ctx.db.read() as session:
            return one_view(session, attendee_id)

    def for_order(self, order_id: int) -> list[AttendeeView]:
        """The order's attendees, ticket line by ticket line, unit by unit."""
        check_id(order_id, "order")
        with self._ctx.db.read() as session:
            ids = session.connection().execute(_ATTENDEES_OF_ORDERS, {"orders": [order_id]}).scalars().all()
            return attendee_rows(session, ids)

    def rename(self, attendee_id: int, *, name: str, email: str = "", company: str = "") -> AttendeeView:
        """ATT-3: a colleague comes instead. The access code stays; audited with the old and new name."""
        authorize(Permission.RENAME_ATTENDEE)
        check_id(attendee_id, "attendee")
        name, email, company = _clean(name, "name", 200), _clean(email, "email", 254), _clean(company, "company", 200)
        if not name:
            raise InvalidInput("Type the attendee's name.", field="name")
        if email and ("@" not in email or " " in email):
            raise InvalidInput(f"'{email}' is not an email address. Correct it or leave it empty.", field="email")

        def write(session: Session) -> AttendeeView:
            attendee = load_attendee(session, attendee_id, lock=True)
            before = {"name": attendee.name, "email": attendee.email, "company": attendee.company}
            after = {"name": name, "email": email, "company": company}
            if before != after:
                attendee.name, attendee.email, attendee.company = name, email, company
                attendee.renamed_at_desk = True
                attendee.updated_at = self._ctx.clock.now()
                session.flush()
                roster.index_words(session, attendee)
                audit.record(session, self._ctx, audit.ATTENDEE_RENAME, target_type="attendee",
                             target_id=attendee.id, target_label=f"{attendee.access_code} {name}",
                             detail={"before": before, "after": after, "order_id": attendee.order_id})
            return one_view(session, attendee_id)

        return self._ctx.db.run_write(write)

    def set_note(self, attendee_id: int, note: str) -> AttendeeView:
        """The note the door must read before admitting (CIN-2 attention); "" clears it."""
        authorize(Permission.RENAME_ATTENDEE)
        check_id(attendee_id, "attendee")
        if not isinstance(note, str) or len(note) > 2000:
            raise InvalidInput("A note is text of at most 2,000 characters. Shorten it.", field="note")
        note = note.strip()

        def write(session: Session) -> AttendeeView:
            attendee = load_attendee(session, attendee_id, lock=True)
            if attendee.note != note:
                audit.record(session, self._ctx, audit.ATTENDEE_CHANGE, target_type="attendee",
                             target_id=attendee.id, target_label=f"{attendee.access_code} {attendee.name}",
                             detail={"note_before": attendee.note, "note_after": note})
                attendee.note = note
                attendee.updated_at = self._ctx.clock.now()
                session.flush()
            return one_view(session, attendee_id)

        return self._ctx.db.run_write(write)

    def addons(self, attendee_id: int) -> tuple[AddonUse, ...]:
        check_id(attendee_id, "attendee")
        with self._ctx.db.read() as session:
            attendee = load_attendee(session, attendee_id)
            return addon_uses(session, attendee.id, attendee.order_id)

    def assign_addon(self, attendee_id: int, order_line_id: int, quantity: int) -> tuple[AddonUse, ...]:
        """RDM-2: ``quantity`` units of an add-on line of the order belong to this attendee."""
        authorize(Permission.RENAME_ATTENDEE)
        check_id(attendee_id, "attendee")
        check_id(order_line_id, "add-on line")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= 999:
            raise InvalidInput("Assign 0 to 999 units.", field="quantity")

        def write(session: Session) -> tuple[AddonUse, ...]:
            attendee = load_attendee(session, attendee_id, lock=True)
            line = session.get(OrderLineItem, order_line_id)
            if line is None or line.order_id != attendee.order_id or line.addon_id is None:
                raise InvalidInput("That add-on is not part of this attendee's order. Choose one of its add-ons.",
                                   field="order_line_id")
            if session.get_bind().dialect.name == "postgresql":   # one assignment change per line at a time
                session.execute(select(OrderLineItem.id).where(OrderLineItem.id == line.id).with_for_update())
            current = {u.order_line_id: u for u in addon_uses(session, attendee.id, attendee.order_id)}[line.id]
            rows = {a.attendee_id: a for a in session.scalars(
                select(AddonAssignment).where(AddonAssignment.order_line_id == line.id))}
            if not rows:   # the default (one each) becomes explicit before it is changed
                for other in session.scalars(select(Attendee).where(Attendee.order_id == attendee.order_id)):
                    default = {u.order_line_id: u for u in addon_uses(session, other.id, other.order_id)}[line.id].bought
                    rows[other.id] = AddonAssignment(attendee_id=other.id, order_line_id=line.id, quantity=default)
                    session.add(rows[other.id])
            others = sum(a.quantity for aid, a in rows.items() if aid != attendee.id)
            if others + quantity > line.quantity:
                raise UserError(f"The order has {line.quantity} of {line.description}; {others} already belong "
                                f"to other attendees. Assign at most {max(line.quantity - others, 0)}.")
            if quantity < current.used:
                raise UserError(f"{current.used} of {line.description} were already handed out to this "
                                f"attendee. Assign at least {current.used}.")
            row = rows.get(attendee.id)
            if row is None:
                row = AddonAssignment(attendee_id=attendee.id, order_line_id=line.id, quantity=quantity)
                session.add(row)
            row.quantity = quantity
            attendee.updated_at = self._ctx.clock.now()   # other desks' change feed sees it
            session.flush()
            audit.record(session, self._ctx, audit.ATTENDEE_CHANGE, target_type="attendee", target_id=attendee.id,
                         target_label=f"{attendee.access_code} {attendee.name}",
                         detail={"addon_line": line.id, "addon": line.description, "quantity_before": current.bought,
                                 "quantity_after": quantity})
            return addon_uses(session, attendee.id, attendee.order_id)

        return self._ctx.db.run_write(write)

    def export_csv(self, conference_id: int, path: Path | str) -> int:
        """Every attendee of the conference in the registrations CSV format (the one
        ``import-registrations`` reads); returns the rows written."""
        from boxoffice.services.checkin.registrations_export import export_csv

        authorize(Permission.CHECK_IN)
        check_id(conference_id, "conference")
        with self._ctx.db.read() as session:
            return export_csv(session, conference_id, Path(path))


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a CSV atomically (a temporary file, then replaced); a clear error when it cannot be written."""
    temporary = path.with_name(path.name + ".part")
    count = 0
    try:
        with temporary.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                count += 1
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise audit.ExportFailed(f"Could not write {path} ({exc.strerror or exc}). Choose another folder.") \
            from exc
    return count

