"""Registrations as the web system holds them: read, read-only, from a django-program database.

``read_django_program(url, slug)`` returns every order of one conference as plain ``WebOrder`` rows
(money as ``Decimal`` with 2 places, times aware UTC), the same shape the CSV reader gives, so both
map to the same import. Each order carries a fingerprint of its source rows (status, amounts,
lines, payments, refunds, the buyer's attendee and check-ins), which the database computes: given
the fingerprints the desk stored, only orders whose fingerprint changed are read whole (with the
other orders of the same buyer, whose attendee may move between them). Nothing is written: SQLite
is opened with ``mode=ro``, PostgreSQL in a READ ONLY transaction. A source that is wrong, unreachable, not a django-program database, or of
another schema version raises ``RegistrationSourceError`` with one message saying which.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchTableError, SQLAlchemyError

from boxoffice.db.engine import postgresql_url
from boxoffice.errors import UserError

DJANGO_PROGRAM = "django-program"
CSV_SOURCE = "csv"
CENT = Decimal("0.01")
ORDER_STATUSES = ("pending", "paid", "refunded", "partially_refunded", "cancelled")
SETTLED = ("paid", "partially_refunded")
CONNECT_TIMEOUT_S = 10

R = "program_registration_"
# The columns the import reads, by table: a database lacking one is of another schema version.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "program_conference_conference": ("id", "slug"),
    "auth_user": ("id", "first_name", "last_name", "email"),
    R + "order": ("id", "status", "subtotal", "discount_amount", "total", "voucher_code", "billing_name",
                  "billing_email", "billing_company", "reference", "created_at", "conference_id", "user_id",
                  "hold_expires_at"),
    R + "orderlineitem": ("id", "description", "quantity", "unit_price", "discount_amount", "line_total",
                          "addon_id", "order_id", "ticket_type_id"),
    R + "tickettype": ("id", "slug"),
    R + "addon": ("id", "slug"),
    R + "payment": ("order_id", "amount", "status"),
    R + "credit": ("amount", "source_order_id", "conference_id"),
    R + "attendee": ("id", "access_code", "conference_id", "user_id", "order_id"),
    R + "checkin": ("attendee_id", "checked_in_at", "station", "conference_id"),
}


class RegistrationSourceError(UserError):
    """The registrations source could not be read; nothing was imported."""


@dataclass(frozen=True)
class WebLine:
    source_id: str
    kind: str                 # "ticket" or "addon"
    slug: str
    description: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class WebCheckIn:
    at: datetime
    station: str


@dataclass(frozen=True)
class WebHolder:
    """The named holder of one ticket unit: ``position`` counts the order's ticket units from 1."""

    position: int
    source_id: str
    access_code: str | None   # kept exactly; None: the desk draws one
    name: str
    email: str
    company: str
    check_ins: tuple[WebCheckIn, ...] = ()


@dataclass(frozen=True)
class WebOrder:
    source_id: str
    reference: str
    status: str
    created_at: datetime | None
    hold_expires_at: datetime | None
    buyer_name: str
    buyer_email: str
    buyer_company: str
    billing_name: str
    billing_email: str
    billing_company: str
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    voucher_code: str
    paid: Decimal
    refunded: Decimal
    lines: tuple[WebLine, ...]
    holders: tuple[WebHolder, ...] = ()
    fingerprint: str = ""     # of the source rows as read; the desk stores it to skip unchanged orders


@dataclass(frozen=True)
class Skip:
    source_id: str
    reference: str
    reason: str


@dataclass
class SourceData:
    """The orders to look at; ``unchanged`` counts those left out because the desk's fingerprint matched."""

    system: str
    label: str
    orders: list[WebOrder] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    unchanged: int = 0


def md5_hex(text: str) -> str:
    return hashlib.md5(text.encode("utf-8", "surrogatepass"), usedforsecurity=False).hexdigest()


def python_fingerprint(order: WebOrder) -> str:
    """A fingerprint of an order read whole (a CSV file's), over every field the import uses."""
    return md5_hex(repr(replace(order, fingerprint="")))


def money(value: Any) -> Decimal:
    """A source amount as Decimal with 2 places (SQLite hands back int or float, PostgreSQL Decimal)."""
    if value is None or isinstance(value, bool):
        raise ValueError("no amount")
    try:
        amount = Decimal(str(value).strip()).quantize(CENT)
    except InvalidOperation:
        raise ValueError(f"{value!r} is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount")
    return amount


def utc(value: Any) -> datetime | None:
    """A source time as aware UTC: SQLite text has no offset and is UTC; PostgreSQL gives aware values."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).strip())
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def describe_url(url: str) -> str:
    """The source as it may be shown and logged: never its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def with_password(url: str, password: str | None) -> str:
    """``url`` with ``password`` set (the keychain keeps it apart from the settings file)."""
    if not password:
        return url
    return make_url(url).set(password=password).render_as_string(hide_password=False)


def without_password(url: str) -> tuple[str, str]:
    """``url`` split into the URL without its password and the password ('' when there is none)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url, ""
    password = parsed.password
    if password is None:
        return url, ""
    # URL.set(password=None) leaves the password as it is; the named tuple's _replace clears it.
    return parsed._replace(password=None).render_as_string(hide_password=False), str(password)


def is_database_url(source: str) -> bool:
    return "://" in source


# --------------------------------------------------------------------------- opening the source


def _open(url: str) -> tuple[Engine, str]:
    """A read-only engine on the source and the kind of database it is."""
    shown = describe_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise RegistrationSourceError(
            f"'{shown}' is not a database URL. Give sqlite:///path/to/db.sqlite3 or "
            "postgresql://user@host/dbname, or a CSV file."
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or not path.is_file():
            raise RegistrationSourceError(
                f"The registrations database {shown} is wrong: there is no file {path}. Check the path."
            )
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        engine = create_engine("sqlite://", creator=lambda: _sqlite_connect(uri))
        return engine, "sqlite"
    if backend == "postgresql":
        engine = create_engine(postgresql_url(url), connect_args={"connect_timeout": CONNECT_TIMEOUT_S}, pool_pre_ping=False)
        return engine, "postgresql"
    raise RegistrationSourceError(
        f"The registrations source {shown} is wrong: only sqlite:/// and postgresql:// databases (or a CSV "
        "file) can be read."
    )


class _SortedJoin:
    """SQLite's side of PostgreSQL's ``string_agg(x, '|' ORDER BY x)``: the values sorted and joined."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def step(self, value: Any, /) -> None:   # Any: the stub types SQLite aggregates as int-only
        if value is not None:
            self.values.append(str(value))

    def finalize(self) -> Any:
        return "|".join(sorted(self.values)) if self.values else None


def _sqlite_connect(uri: str) -> sqlite3.Connection:
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    conn.create_function("md5", 1, lambda text: None if text is None else md5_hex(str(text)), deterministic=True)
    conn.create_aggregate("sorted_join", 1, _SortedJoin)
    return conn


def _connection_problem(exc: BaseException, shown: str) -> RegistrationSourceError:
    detail = str(getattr(exc, "orig", exc))
    if "3D000" in detail:
        return RegistrationSourceError(f"The registrations database {shown} is wrong: that database does not "
                                       "exist on the server. Check the name in the URL.")
    if "28P01" in detail or "28000" in detail or "password" in detail.lower():
        return RegistrationSourceError(f"The registrations database {shown} refused the user or password. "
                                       "Check them in Settings.")
    if "file is not a database" in detail or "not a database" in detail:
        return RegistrationSourceError(f"{shown} is not a django-program database: it is not a database at all.")
    return RegistrationSourceError(
        f"The registrations database {shown} is unreachable ({detail.splitlines()[0][:160]}). Check that "
        "the server is running and the network is up, then sync again."
    )


def _check_schema(conn: Connection, shown: str) -> None:
    inspector = inspect(conn)
    tables = set(inspector.get_table_names())
    core = ("program_conference_conference", R + "order", R + "attendee")
    if not all(t in tables for t in core):
        raise RegistrationSourceError(
            f"{shown} is not a django-program database: it has no {', '.join(t for t in core if t not in tables)} "
            "table. Choose the web system's database."
        )
    problems: list[str] = []
    for table, wanted in REQUIRED_COLUMNS.items():
        if table not in tables:
            problems.append(f"no table {table}")
            continue
        try:
            have = {c["name"] for c in inspector.get_columns(table)}
        except NoSuchTableError:
            problems.append(f"no table {table}")
            continue
        missing = [c for c in wanted if c not in have]
        if missing:
            problems.append(f"{table} lacks {', '.join(missing)}")
    if problems:
        raise RegistrationSourceError(
            f"{shown} is a django-program database of another schema version ({'; '.join(problems)}). "
            "This desk reads the schema of django-program 0.x as of its registration migrations; update "
            "the web system or export a CSV instead."
        )


# --------------------------------------------------------------------------- reading


def read_django_program(
    url: str, conference_slug: str, *, known: Mapping[str, str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SourceData:
    """The orders of the conference ``conference_slug`` in the django-program database at ``url``:
    every order, or with ``known`` (the desk's fingerprints by web order id) only those that changed."""
    shown = describe_url(url)
    engine, kind = _open(url)
    try:
        with engine.connect() as conn:
            if kind == "postgresql":
                # One snapshot for every query, and times as text in UTC whatever the server's zone.
                conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                conn.exec_driver_sql("SET TIME ZONE 'UTC'")
            else:
                conn.exec_driver_sql("BEGIN")
            _check_schema(conn, shown)
            if progress:
                progress("reading")
            data = _read(conn, conference_slug, shown, kind, known or {})
            conn.rollback()
            return data
    except RegistrationSourceError:
        raise
    except (DBAPIError, SQLAlchemyError, sqlite3.Error, OSError) as exc:
        raise _connection_problem(exc, shown) from None
    finally:
        engine.dispose()


def _rows(conn: Connection, sql: str, **params: Any) -> Iterable[Any]:
    return conn.execute(text(sql), params).all()


def _field(column: str) -> str:
    """A column as text with its length in front, so no two different rows join to the same text."""
    value = f"coalesce(CAST({column} AS TEXT), '')"
    return f"length({value}) || ':' || {value}"


def _fields(*columns: str) -> str:
    return " || ',' || ".join(_field(c) for c in columns)


def _fingerprint_sql(kind: str) -> str:
    """Per order of conference :c: its id, its buyer and the md5 of everything the import reads of it.

    Each part is a subquery on the order's own rows (an index lookup each), so the plan stays cheap
    whatever the server's statistics say."""
    def agg(expression: str) -> str:
        if kind == "postgresql":
            return f"string_agg({expression}, '|' ORDER BY {expression})"
        return f"sorted_join({expression})"

    line = _fields("l.id", "l.ticket_type_id", "l.addon_id", "l.description", "l.quantity", "l.unit_price",
                   "l.discount_amount", "l.line_total",
                   f"(SELECT t.slug FROM {R}tickettype t WHERE t.id = l.ticket_type_id)",
                   f"(SELECT a.slug FROM {R}addon a WHERE a.id = l.addon_id)")
    lines = f"SELECT {agg(line)} FROM {R}orderlineitem l WHERE l.order_id = o.id"
    payments = (f"SELECT {agg(_fields('p.id', 'p.amount', 'p.status'))} FROM {R}payment p "
                "WHERE p.order_id = o.id AND p.status IN ('succeeded', 'refunded')")
    credits = (f"SELECT {agg(_fields('r.id', 'r.amount'))} FROM {R}credit r "
               "WHERE r.source_order_id = o.id")
    check_ins = (f"SELECT {agg(_fields('k.id', 'k.checked_in_at', 'k.station'))} FROM {R}checkin k "
                 "WHERE k.attendee_id = s.id")
    parts = " || '#' || ".join([
        _fields("o.reference", "o.status", "o.created_at", "o.hold_expires_at", "o.billing_name", "o.billing_email",
                "o.billing_company", "o.subtotal", "o.discount_amount", "o.total", "o.voucher_code", "o.user_id",
                "u.first_name", "u.last_name", "u.email", "s.id", "s.access_code"),
        *(f"coalesce(({query}), '')" for query in (lines, payments, credits, check_ins)),
    ])
    return f"""
        SELECT o.id, o.user_id, md5({parts})
        FROM {R}order o JOIN auth_user u ON u.id = o.user_id
        LEFT JOIN {R}attendee s ON s.user_id = o.user_id AND s.conference_id = :c
        WHERE o.conference_id = :c"""


def _id_list(ids: Iterable[int]) -> str:
    return ", ".join(str(int(i)) for i in sorted(ids)) or "NULL"


def _read(conn: Connection, slug: str, shown: str, kind: str, known: Mapping[str, str]) -> SourceData:
    found = conn.execute(text("SELECT id FROM program_conference_conference WHERE slug = :s"), {"s": slug}).first()
    if found is None:
        slugs = [r[0] for r in _rows(conn, "SELECT slug FROM program_conference_conference ORDER BY slug")]
        raise RegistrationSourceError(
            f"The registrations database {shown} has no conference '{slug}'"
            + (f"; it has {', '.join(slugs)}." if slugs else ".")
            + " Check --conference."
        )
    cid = found[0]
    data = SourceData(DJANGO_PROGRAM, shown)
    fingerprints: dict[int, str] = {}
    buyers: dict[int, int] = {}
    for oid, user_id, fingerprint in _rows(conn, _fingerprint_sql(kind), c=cid):
        fingerprints[oid], buyers[oid] = str(fingerprint), user_id
    # A buyer's attendee sits on their first settled ticket order: a change to one of their orders
    # may move it to another, so every order of a buyer with a change is read.
    changed_buyers = {buyers[oid] for oid, fp in fingerprints.items() if known.get(str(oid)) != fp}
    wanted = {oid for oid, user_id in buyers.items() if user_id in changed_buyers}
    data.unchanged = len(fingerprints) - len(wanted)
    # Few orders to read: name them in each query; many: read all and drop the others here.
    only, users = ("", "") if 2 * len(wanted) > len(fingerprints) else (
        f" AND o.id IN ({_id_list(wanted)})", f" AND user_id IN ({_id_list(changed_buyers)})")
    lines: defaultdict[int, list[Any]] = defaultdict(list)
    for row in _rows(conn, f"""
            SELECT l.id, l.order_id, l.ticket_type_id, l.addon_id, l.description, l.quantity, l.unit_price,
                   l.discount_amount, l.line_total, t.slug, a.slug
            FROM {R}orderlineitem l JOIN {R}order o ON o.id = l.order_id
            LEFT JOIN {R}tickettype t ON t.id = l.ticket_type_id LEFT JOIN {R}addon a ON a.id = l.addon_id
            WHERE o.conference_id = :c{only} ORDER BY l.order_id, l.id""", c=cid):
        lines[row[1]].append(row)
    paid: defaultdict[int, list[Any]] = defaultdict(list)
    for order_id, amount in _rows(conn, f"""
            SELECT p.order_id, p.amount FROM {R}payment p JOIN {R}order o ON o.id = p.order_id
            WHERE o.conference_id = :c AND p.status IN ('succeeded', 'refunded'){only}""", c=cid):
        paid[order_id].append(amount)
    credited: defaultdict[int, list[Any]] = defaultdict(list)
    for order_id, amount in _rows(conn, f"""
            SELECT source_order_id, amount FROM {R}credit
            WHERE conference_id = :c AND source_order_id IS NOT NULL{only.replace("o.id", "source_order_id")}""",
            c=cid):
        credited[order_id].append(amount)
    attendees = {row[2]: row for row in _rows(conn, f"""
            SELECT id, access_code, user_id FROM {R}attendee WHERE conference_id = :c{users}""", c=cid)}
    of_attendees = f" AND attendee_id IN ({_id_list(row[0] for row in attendees.values())})" if users else ""
    check_ins: defaultdict[int, list[WebCheckIn]] = defaultdict(list)
    for attendee_id, at, station in _rows(conn, f"""
            SELECT attendee_id, checked_in_at, station FROM {R}checkin WHERE conference_id = :c{of_attendees}
            ORDER BY checked_in_at, id""", c=cid):
        moment = utc(at)
        if moment is not None:
            check_ins[attendee_id].append(WebCheckIn(moment, station or ""))
    orders = _rows(conn, f"""
            SELECT o.id, o.reference, o.status, o.created_at, o.hold_expires_at, o.billing_name, o.billing_email,
                   o.billing_company, o.subtotal, o.discount_amount, o.total, o.voucher_code, o.user_id,
                   u.first_name, u.last_name, u.email
            FROM {R}order o JOIN auth_user u ON u.id = o.user_id WHERE o.conference_id = :c{only}
            ORDER BY o.id""", c=cid)
    placed: set[int] = set()   # users whose attendee already sits on their first settled ticket order
    for row in orders:
        oid, reference, status = row[0], str(row[1] or ""), str(row[2] or "")
        if oid not in wanted:
            continue
        try:
            order = _order(row, lines[oid], paid[oid], credited[oid])
        except ValueError as exc:
            data.skipped.append(Skip(str(oid), reference, str(exc)))
            continue
        user_id = row[12]
        attendee = attendees.get(user_id)
        if (attendee is not None and user_id not in placed and status in SETTLED
                and any(line.kind == "ticket" and line.quantity > 0 for line in order.lines)):
            placed.add(user_id)
            holder = WebHolder(
                1, f"attendee:{attendee[0]}", str(attendee[1]), order.buyer_name, order.buyer_email,
                order.billing_company, tuple(check_ins.get(attendee[0], ())),
            )
            order = replace(order, holders=(holder,))
        data.orders.append(replace(order, fingerprint=fingerprints.get(oid, "")))
    return data


def _order(row: Any, line_rows: list[Any], payments: list[Any], credits: list[Any]) -> WebOrder:
    (oid, reference, status, created, hold, b_name, b_email, b_company, subtotal, discount, total, voucher,
     _user, first, last, email) = row
    if status not in ORDER_STATUSES:
        raise ValueError(f"unknown order status '{status}'")
    if not reference:
        raise ValueError("the order has no reference")
    lines: list[WebLine] = []
    for lid, _order_id, ticket_id, addon_id, description, quantity, unit_price, line_discount, line_total, t_slug, \
            a_slug in line_rows:
        if ticket_id is None and addon_id is None:
            raise ValueError(f"line {lid} ({description}) names no product (it was deleted in the web system)")
        kind, slug = ("ticket", t_slug) if ticket_id is not None else ("addon", a_slug)
        lines.append(WebLine(str(lid), kind, str(slug or ""), str(description or "")[:300], int(quantity),
                             money(unit_price), money(line_discount), money(line_total)))
    paid_total = sum((money(a) for a in payments), Decimal("0.00"))
    refunded = sum((money(a) for a in credits), Decimal("0.00"))
    if status == "refunded" and refunded == 0:
        refunded = paid_total
    refunded = min(refunded, paid_total)
    buyer = " ".join(p for p in (str(first or "").strip(), str(last or "").strip()) if p)
    return WebOrder(
        source_id=str(oid), reference=str(reference), status=status, created_at=utc(created),
        hold_expires_at=utc(hold), buyer_name=buyer or str(b_name or ""), buyer_email=str(email or b_email or ""),
        buyer_company=str(b_company or ""), billing_name=str(b_name or ""), billing_email=str(b_email or ""),
        billing_company=str(b_company or ""), subtotal=money(subtotal), discount=money(discount),
        total=money(total), voucher_code=str(voucher or ""), paid=paid_total, refunded=refunded,
        lines=tuple(lines),
    )
