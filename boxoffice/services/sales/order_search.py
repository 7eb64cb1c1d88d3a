"""Order search for the Orders screen: prefix text over reference/name/email/company, filters, pages.

The GUI searches as the operator types, so a search is one prepared Core statement (cached per
filter shape, values bound), with the paid/refunded sums as correlated subqueries: no ORM objects.

With text, the page is chosen from four index range scans (migration 0004's search indexes, which
lead with the prefix column and carry conference, created_at and status): the matching ids with
their sort key, de-duplicated (an order may match by name and by email), sorted, cut to the page;
only the page's rows are then read from the order table. ``OrderService.search``/``count`` (in
``boxoffice.services.sales.orders``) are the public entry points.

A reference is found from any start of it, with or without the conference's prefix and dash
(``PY27-ZD7U``, ``PY27ZD7U``, ``ZD7U``): three ranges over the reference index. Every range is
compared in code-point order (``bytewise``), so it holds under any PostgreSQL collation.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    func,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType

from boxoffice.db.bytewise import bytewise
from boxoffice.db.engine import Database
from boxoffice.domain.models import (
    Conference,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from boxoffice.errors import InvalidInput
from boxoffice.money import ZERO, quantize
from boxoffice.services.sales.order_views import OrderSummary
from boxoffice.timeutil import UTC, ensure_aware

MAX_PAGE = 1000

Shape = tuple[bool, bool, bool, bool]  # has text, statuses, created_from, created_to


def _next_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _prefix_range(column: ColumnElement[Any], low: str, high: str) -> ColumnElement[bool]:
    """``low <= column < high`` in code-point order: a range the column's index serves (unlike
    LIKE/startswith on SQLite), whatever the database's collation."""
    return (column >= bindparam(low, type_=String())) & (column < bindparam(high, type_=String()))


# Each prefix column with its bound range (references are stored upper-case, the rest compared lower);
# each has its search index (migrations 0004 and 0006: ix_order_{reference,name,email,company}_search).
# The reference has three: as typed, with the dash put back after the prefix, and with the prefix added.
_PREFIX_COLUMNS: tuple[tuple[Any, str, str], ...] = (
    (bytewise(Order.reference), "ref_lo", "ref_hi"),
    (bytewise(Order.reference), "ref2_lo", "ref2_hi"),
    (bytewise(Order.reference), "ref3_lo", "ref3_hi"),
    (bytewise(func.lower(Order.billing_name)), "low_lo", "low_hi"),
    (bytewise(func.lower(Order.billing_email)), "low_lo", "low_hi"),
    (bytewise(func.lower(Order.billing_company)), "low_lo", "low_hi"),
)
DEFAULT_REFERENCE_PREFIX = "ORD"   # what checkout uses when the conference has no prefix


def reference_spellings(text: str, prefix: str) -> tuple[str, str]:
    """The reference starts ``text`` may stand for besides itself: (dash put back, prefix added).

    With the conference's ``prefix`` PY27, ``PY27ZD7U`` stands for ``PY27-ZD7U`` and ``ZD7U`` (or
    ``zd7u``) for ``PY27-ZD7U``; an empty string where the reading does not apply.
    """
    prefix = (prefix or DEFAULT_REFERENCE_PREFIX).upper()
    bare = "".join(text.split()).replace("-", "").upper()
    if not bare or not bare.isascii() or not bare.isalnum():
        return "", ""
    dashed = f"{prefix}-{bare[len(prefix):]}" if bare.startswith(prefix) and len(bare) > len(prefix) else ""
    return dashed, f"{prefix}-{bare}"


def conference_reference_prefix(conn: Any, conference_id: int) -> str:
    prefix = conn.execute(select(Conference.reference_prefix).where(Conference.id == conference_id)).scalar()
    return str(prefix or DEFAULT_REFERENCE_PREFIX)

_SORTS: dict[str, Any] = {
    "created_at": Order.created_at,
    "reference": Order.reference,
    "billing_name": Order.billing_name,
    "name": Order.billing_name,
    "billing_email": Order.billing_email,
    "email": Order.billing_email,
    "billing_company": Order.billing_company,
    "company": Order.billing_company,
    "total": Order.total,
    "status": Order.status,
}

_PAID = (
    select(func.coalesce(func.sum(Payment.amount), 0))
    .where(Payment.order_id == Order.id, Payment.status == PaymentStatus.SUCCEEDED)
    .correlate(Order)
    .scalar_subquery()
)
_REFUNDED = (
    select(func.coalesce(func.sum(Refund.amount), 0))
    .where(Refund.order_id == Order.id, Refund.status == RefundStatus.SUCCEEDED)
    .correlate(Order)
    .scalar_subquery()
)


def _raw(column: Any) -> Any:
    """The column's value as the driver returns it (converted by ``_money``/``_utc`` below, cheaply)."""
    return type_coerce(column, NullType())


_ROW = (
    Order.id, Order.reference, Order.status, Order.customer_id, Order.billing_name, Order.billing_email,
    Order.billing_company, _raw(Order.subtotal), _raw(Order.discount_amount), _raw(Order.total),
    _raw(Order.created_at), _raw(Order.hold_expires_at), Order.needs_attention, Order.disputed,
    _raw(_PAID), _raw(_REFUNDED),
)


def _money(value: Any) -> Decimal:
    """Driver value → two-place Decimal: SQLite gives int or float, PostgreSQL Decimal."""
    if isinstance(value, Decimal):
        return quantize(value)
    if isinstance(value, float):
        return Decimal(f"{value:.2f}")
    return Decimal(f"{int(value or 0)}.00")


def _utc(value: datetime | str) -> datetime:
    """Driver value → aware UTC: SQLite stores ISO text in UTC, PostgreSQL returns aware datetimes."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_or_none(value: datetime | str | None) -> datetime | None:
    return None if value is None else _utc(value)


def _statuses(statuses: Iterable[str | OrderStatus] | None) -> list[OrderStatus] | None:
    if statuses is None:
        return None
    result = []
    for status in statuses:
        try:
            result.append(OrderStatus(status))
        except ValueError:
            names = ", ".join(s.value for s in OrderStatus)
            raise InvalidInput(f"'{status}' is not an order status. Use one of: {names}.") from None
    return result


class _unindexed(FunctionElement[Any]):
    """The column itself, written ``+column`` on SQLite: a term its planner will not pick an index for."""

    name = "unindexed"
    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


@compiles(_unindexed)
def _compile_unindexed(element: _unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(next(iter(element.clauses)), **kw))


@compiles(_unindexed, "sqlite")
def _compile_unindexed_sqlite(element: _unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(next(iter(element.clauses)), **kw))


def _filters(query: Select[Any], has_status: bool, has_from: bool, has_to: bool, *,
             within_search_index: bool = False) -> Select[Any]:
    """Conference, status and date filters; ``within_search_index``: checked inside the search index
    scan rather than chosen as the access path (SQLite without statistics would rather walk
    ix_order_conf_created, every order of the conference, for the equality on conference_id)."""
    def term(column: Any) -> Any:
        return _unindexed(column) if within_search_index else column

    query = query.where(term(Order.conference_id) == bindparam("conf"))
    if has_status:
        query = query.where(term(Order.status).in_(bindparam("statuses", expanding=True)))
    if has_from:
        query = query.where(term(Order.created_at) >= bindparam("created_from"))
    if has_to:
        query = query.where(term(Order.created_at) < bindparam("created_to"))
    return query


def _matches(key: Any, has_status: bool, has_from: bool, has_to: bool, *, descending: bool | None = None) -> Any:
    """(id, sort key) of the orders matching the text and the filters, once each.

    One range scan per prefix column (its search index); every filter is answered from that index.
    With ``descending`` (a page query) each scan keeps only its first ``depth`` (offset + limit)
    rows in page order: the page is among them, and a broad prefix ("John" matches 1,300 names and
    as many emails of 100,000 orders) then sorts and de-duplicates a few hundred rows, not thousands.
    """
    branches = []
    for column, low, high in _PREFIX_COLUMNS:
        branch = _filters(select(Order.id.label("id"), key.label("key")).where(_prefix_range(column, low, high)),
                          has_status, has_from, has_to, within_search_index=True)
        if descending is not None:
            order = [key.desc(), Order.id.desc()] if descending else [key.asc(), Order.id.asc()]
            top = branch.order_by(*order).limit(bindparam("depth", type_=Integer())).subquery()
            branch = select(top.c.id, top.c.key)
        branches.append(branch)
    found = union_all(*branches).subquery("found")
    return select(found.c.id, found.c.key).distinct().subquery("matches")


@functools.lru_cache(maxsize=256)
def search_statement(
    has_text: bool, has_status: bool, has_from: bool, has_to: bool, sort: str, descending: bool
) -> Select[Any]:
    """The page query for one filter shape (values are bound at execution).

    The page of ids is chosen first (index scans, sort, limit); only its rows get their sums.
    """
    column = _SORTS[sort]
    if has_text:
        matches = _matches(column, has_status, has_from, has_to, descending=descending)
        source: Select[Any] = select(matches.c.id.label("id"), matches.c.key.label("key"))
        key, ident = matches.c.key, matches.c.id
    else:
        source = _filters(select(Order.id.label("id"), column.label("key")), has_status, has_from, has_to)
        key, ident = column, Order.id
    page = (
        source.order_by(*([key.desc(), ident.desc()] if descending else [key.asc(), ident.asc()]))
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
        .subquery("page")
    )
    order_by = [page.c.key.desc(), page.c.id.desc()] if descending else [page.c.key.asc(), page.c.id.asc()]
    return select(*_ROW).join(page, page.c.id == Order.id).order_by(*order_by)


@functools.lru_cache(maxsize=64)
def count_statement(has_text: bool, has_status: bool, has_from: bool, has_to: bool) -> Select[Any]:
    if has_text:
        return select(func.count()).select_from(_matches(Order.created_at, has_status, has_from, has_to))
    return _filters(select(func.count()).select_from(Order), has_status, has_from, has_to)


def _range(prefix: str) -> tuple[str, str]:
    """(low, high) of the strings starting with ``prefix``; ("", ""), which holds nothing, for none."""
    return (prefix, _next_prefix(prefix)) if prefix else ("", "")


def search_params(
    conference_id: int,
    text: str,
    statuses: Iterable[str | OrderStatus] | None,
    created_from: datetime | None,
    created_to: datetime | None,
    reference_prefix: str = DEFAULT_REFERENCE_PREFIX,
) -> tuple[Shape, dict[str, Any]]:
    """Validated bound values and the filter shape they need (``reference_prefix``: the conference's)."""
    text = (text or "").strip()
    params: dict[str, Any] = {"conf": conference_id}
    if text:
        dashed, prefixed = reference_spellings(text, reference_prefix)
        params.update(ref_lo=text.upper(), ref_hi=_next_prefix(text.upper()),
                      low_lo=text.lower(), low_hi=_next_prefix(text.lower()))
        params["ref2_lo"], params["ref2_hi"] = _range(dashed)
        params["ref3_lo"], params["ref3_hi"] = _range(prefixed)
    wanted = _statuses(statuses)
    if wanted is not None:
        params["statuses"] = wanted
    if created_from is not None:
        params["created_from"] = ensure_aware(created_from)
    if created_to is not None:
        params["created_to"] = ensure_aware(created_to)
    shape = (bool(text), wanted is not None, created_from is not None, created_to is not None)
    return shape, params


def _row_summary(row: Any) -> OrderSummary:
    total, paid = _money(row[9]), _money(row[14])
    return OrderSummary(
        id=row[0], reference=row[1], status=OrderStatus(row[2]).value, customer_id=row[3],
        billing_name=row[4], billing_email=row[5], billing_company=row[6], subtotal=_money(row[7]),
        discount=_money(row[8]), total=total, paid=paid, balance=max(total - paid, ZERO),
        refunded=_money(row[15]), created_at=_utc(row[10]), hold_expires_at=_utc_or_none(row[11]),
        needs_attention=row[12], disputed=bool(row[13]),
    )


def search_orders(
    db: Database,
    conference_id: int,
    text: str = "",
    *,
    statuses: Iterable[str | OrderStatus] | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
    sort: str = "created_at",
    descending: bool = True,
    offset: int = 0,
    limit: int = 100,
) -> list[OrderSummary]:
    """A page of orders matching ``text`` as a case-insensitive prefix (reference/name/email/company)."""
    if sort not in _SORTS:
        raise InvalidInput(f"Orders cannot be sorted by '{sort}'. Use one of: {', '.join(_SORTS)}.")
    if not (0 <= offset) or not (1 <= limit <= MAX_PAGE):
        raise InvalidInput(f"Ask for 1 to {MAX_PAGE} orders from a non-negative offset.")
    with db.engine.connect() as conn:
        prefix = conference_reference_prefix(conn, conference_id) if (text or "").strip() else ""
        shape, params = search_params(conference_id, text, statuses, created_from, created_to, prefix)
        params.update(limit=limit, offset=offset, depth=offset + limit)
        query = search_statement(*shape, sort, bool(descending))
        return [_row_summary(row) for row in conn.execute(query, params)]


def count_orders(
    db: Database,
    conference_id: int,
    text: str = "",
    *,
    statuses: Iterable[str | OrderStatus] | None = None,
    created_from: datetime | None = None,
    created_to: datetime | None = None,
) -> int:
    """How many orders ``search_orders`` would find with the same filters."""
    with db.engine.connect() as conn:
        prefix = conference_reference_prefix(conn, conference_id) if (text or "").strip() else ""
        shape, params = search_params(conference_id, text, statuses, created_from, created_to, prefix)
        return int(conn.execute(count_statement(*shape), params).scalar() or 0)
