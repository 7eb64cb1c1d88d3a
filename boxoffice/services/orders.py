"""Order look-up for the desk: summaries, prefix search, detail, cancel and the stale sweep (ORD-*)."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from boxoffice.domain.models import (
    Credit,
    Order,
    OrderLineItem,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    Staff,
    TerminalPayment,
)
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.money import ZERO, quantize
from boxoffice.services import order_state
from boxoffice.services import audit
from boxoffice.services.access import Permission, authorize
from boxoffice.services.context import ServiceContext
from boxoffice.timeutil import UTC, ensure_aware

MAX_PAGE = 1000

# --------------------------------------------------------------------------- DTOs


@dataclass(frozen=True)
class OrderSummary:
    id: int
    reference: str
    status: str
    customer_id: int
    billing_name: str
    billing_email: str
    billing_company: str
    subtotal: Decimal
    discount: Decimal
    total: Decimal
    paid: Decimal
    balance: Decimal
    refunded: Decimal
    created_at: datetime
    hold_expires_at: datetime | None
    needs_attention: str
    disputed: bool


@dataclass(frozen=True)
class OrderLineView:
    id: int
    kind: str  # "ticket" | "addon"
    product_id: int | None
    description: str
    quantity: int
    unit_price: Decimal
    discount: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class PaymentView:
    id: int
    method: str
    status: str
    amount: Decimal
    amount_tendered: Decimal | None
    change_given: Decimal
    reference: str
    note: str
    operator_name: str
    card_brand: str
    card_last4: str
    credit_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class RefundView:
    id: int
    method: str
    status: str
    amount: Decimal
    reason: str
    stripe_refund_id: str
    operator_name: str
    credit_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class OrderCreditView:
    """A store credit seen from one order: drawn on to pay it, or issued by refunding it."""

    id: int
    amount: Decimal
    remaining: Decimal
    status: str
    used_here: Decimal  # Σ credit payments of this order drawn on it (0 for issued credits)
    expires_at: datetime | None
    note: str


@dataclass(frozen=True)
class OrderDetail:
    summary: OrderSummary
    conference_id: int
    voucher_code: str
    lines: tuple[OrderLineView, ...]
    payments: tuple[PaymentView, ...]
    refunds: tuple[RefundView, ...]
    credits_applied: tuple[OrderCreditView, ...]
    credits_issued: tuple[OrderCreditView, ...]


# --------------------------------------------------------------------------- builders


def _dec(value: Any) -> Decimal:
    return quantize(Decimal(str(value or 0)))


def pairs(rows: Iterable[Any]) -> dict[Any, Any]:
    """``{first column: second column}`` of a two-column result."""
    return {row[0]: row[1] for row in rows}


def paid_and_refunded(session: Session, order_ids: Sequence[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """Σ succeeded payments and Σ succeeded refunds per order, in two grouped queries."""
    if not order_ids:
        return {}
    paid = pairs(
        session.execute(
            select(Payment.order_id, func.sum(Payment.amount))
            .where(Payment.order_id.in_(order_ids), Payment.status == PaymentStatus.SUCCEEDED)
            .group_by(Payment.order_id)
        )
    )
    refunded = pairs(
        session.execute(
            select(Refund.order_id, func.sum(Refund.amount))
            .where(Refund.order_id.in_(order_ids), Refund.status == RefundStatus.SUCCEEDED)
            .group_by(Refund.order_id)
        )
    )
    return {i: (_dec(paid.get(i)), _dec(refunded.get(i))) for i in order_ids}


def _summary(order: Order, paid: Decimal, refunded: Decimal) -> OrderSummary:
    return OrderSummary(
        id=order.id,
        reference=order.reference,
        status=OrderStatus(order.status).value,
        customer_id=order.customer_id,
        billing_name=order.billing_name,
        billing_email=order.billing_email,
        billing_company=order.billing_company,
        subtotal=order.subtotal,
        discount=order.discount_amount,
        total=order.total,
        paid=paid,
        balance=max(order.total - paid, ZERO),
        refunded=refunded,
        created_at=order.created_at,
        hold_expires_at=order.hold_expires_at,
        needs_attention=order.needs_attention,
        disputed=order.disputed,
    )


def summarize(session: Session, order: Order) -> OrderSummary:
    """The summary of one order (flushes pending changes first so the sums include them)."""
    session.flush()
    paid, refunded = paid_and_refunded(session, [order.id])[order.id]
    return _summary(order, paid, refunded)


def summarize_many(session: Session, orders: Sequence[Order]) -> list[OrderSummary]:
    sums = paid_and_refunded(session, [o.id for o in orders])
    return [_summary(o, *sums[o.id]) for o in orders]


def get_order(session: Session, order_id: int, *, lock: bool = False) -> Order:
    """Load an order by id (row-locked when ``lock``), or raise NotFound."""
    if isinstance(order_id, bool) or not isinstance(order_id, int):
        raise InvalidInput(f"{order_id!r} is not an order id.")
    query = select(Order).where(Order.id == order_id)
    if lock:
        query = query.with_for_update()
    order = session.scalars(query).one_or_none()
    if order is None:
        raise NotFound(f"Order #{order_id} does not exist (any more). Search for it again.")
    return order


def check_operator(session: Session, operator_id: int | None) -> None:
    """An operator id, when given, must name an existing staff member (DESK-2)."""
    if operator_id is None:
        return
    if isinstance(operator_id, bool) or not isinstance(operator_id, int):
        raise InvalidInput(f"{operator_id!r} is not a staff id.")
    if session.get(Staff, operator_id) is None:
        raise NotFound(f"Staff member #{operator_id} does not exist. Choose the operator again.")


def operator_label(session: Session, operator_id: int | None) -> str:
    if operator_id is None:
        return ""
    staff = session.get(Staff, operator_id)
    return staff.name if staff is not None else ""


# --------------------------------------------------------------------------- search
#
# The GUI searches as the operator types, so a search is one prepared Core statement (cached per
# filter shape, values bound), with the paid/refunded sums as correlated subqueries: no ORM objects.


def _next_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _prefix_range(column: ColumnElement[Any], low: str, high: str) -> ColumnElement[bool]:
    """``low <= column < high``: a range the column's index serves (unlike LIKE/startswith on SQLite)."""
    return (column >= bindparam(low, type_=String())) & (column < bindparam(high, type_=String()))


def _matching_ids() -> Any:
    """Ids of orders whose reference, name, email or company starts with the text (any case).

    A UNION ALL of four index range scans: the reference (unique index; references are upper-case)
    and the lower(...) expression indexes of migration 0002.
    """
    return union_all(
        select(Order.id).where(_prefix_range(Order.reference, "ref_lo", "ref_hi")),
        select(Order.id).where(_prefix_range(func.lower(Order.billing_name), "low_lo", "low_hi")),
        select(Order.id).where(_prefix_range(func.lower(Order.billing_email), "low_lo", "low_hi")),
        select(Order.id).where(_prefix_range(func.lower(Order.billing_company), "low_lo", "low_hi")),
    )


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


def _utc(value: Any) -> datetime | None:
    """Driver value → aware UTC: SQLite stores ISO text in UTC, PostgreSQL returns aware datetimes."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


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


def _where(query: Select[Any], has_text: bool, has_status: bool, has_from: bool, has_to: bool) -> Select[Any]:
    if has_text:
        # "+ 0" keeps the planner on the text indexes instead of walking all the conference's orders.
        query = query.where(Order.id.in_(_matching_ids()), (Order.conference_id + 0) == bindparam("conf"))
    else:
        query = query.where(Order.conference_id == bindparam("conf"))
    if has_status:
        query = query.where(Order.status.in_(bindparam("statuses", expanding=True)))
    if has_from:
        query = query.where(Order.created_at >= bindparam("created_from"))
    if has_to:
        query = query.where(Order.created_at < bindparam("created_to"))
    return query


@functools.lru_cache(maxsize=256)
def search_statement(
    has_text: bool, has_status: bool, has_from: bool, has_to: bool, sort: str, descending: bool
) -> Select[Any]:
    """The page query for one filter shape (values are bound at execution).

    The page of ids is chosen first (index scans, sort, limit); only its rows get their sums.
    """
    column = _SORTS[sort]
    page = (
        _where(select(Order.id.label("id"), column.label("key")), has_text, has_status, has_from, has_to)
        .order_by(*([column.desc(), Order.id.desc()] if descending else [column.asc(), Order.id.asc()]))
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
        .subquery("page")
    )
    order_by = [page.c.key.desc(), page.c.id.desc()] if descending else [page.c.key.asc(), page.c.id.asc()]
    return select(*_ROW).join(page, page.c.id == Order.id).order_by(*order_by)


@functools.lru_cache(maxsize=64)
def count_statement(has_text: bool, has_status: bool, has_from: bool, has_to: bool) -> Select[Any]:
    return _where(select(func.count()).select_from(Order), has_text, has_status, has_from, has_to)


def search_params(
    conference_id: int,
    text: str,
    statuses: Iterable[str | OrderStatus] | None,
    created_from: datetime | None,
    created_to: datetime | None,
) -> tuple[tuple[bool, bool, bool, bool], dict[str, Any]]:
    """Validated bound values and the filter shape they need."""
    text = (text or "").strip()
    params: dict[str, Any] = {"conf": conference_id}
    if text:
        params.update(ref_lo=text.upper(), ref_hi=_next_prefix(text.upper()),
                      low_lo=text.lower(), low_hi=_next_prefix(text.lower()))
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
        refunded=_money(row[15]), created_at=_utc(row[10]), hold_expires_at=_utc(row[11]),  # type: ignore[arg-type]
        needs_attention=row[12], disputed=bool(row[13]),
    )


# --------------------------------------------------------------------------- service


class OrderService:
    """Find, show, cancel and sweep orders; one transaction per call."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def search(
        self,
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
        shape, params = search_params(conference_id, text, statuses, created_from, created_to)
        params.update(limit=limit, offset=offset)
        query = search_statement(*shape, sort, bool(descending))
        with self._ctx.db.engine.connect() as conn:
            return [_row_summary(row) for row in conn.execute(query, params)]

    def count(
        self,
        conference_id: int,
        text: str = "",
        *,
        statuses: Iterable[str | OrderStatus] | None = None,
        created_from: datetime | None = None,
        created_to: datetime | None = None,
    ) -> int:
        """How many orders ``search`` would find with the same filters."""
        shape, params = search_params(conference_id, text, statuses, created_from, created_to)
        with self._ctx.db.engine.connect() as conn:
            return int(conn.execute(count_statement(*shape), params).scalar() or 0)

    def by_reference(self, reference: str) -> OrderSummary:
        ref = (reference or "").strip().upper()
        with self._ctx.db.read() as session:
            order = session.scalars(select(Order).where(Order.reference == ref)).one_or_none()
            if order is None:
                raise NotFound(f"No order has the reference '{ref}'. Check the spelling and try again.")
            return summarize(session, order)

    def get(self, order_id: int) -> OrderSummary:
        with self._ctx.db.read() as session:
            return summarize(session, get_order(session, order_id))

    def detail(self, order_id: int) -> OrderDetail:
        """The order with its lines, payments (operator, method, tendered/change, card), refunds, credits."""
        with self._ctx.db.read() as session:
            order = get_order(session, order_id)
            return _detail(session, order)

    def cancel(self, order_id: int, *, operator_id: int | None = None) -> OrderSummary:
        """ORD-1: cancel a pending order (refused while cash or card money is in, ORD-3)."""
        authorize(Permission.CANCEL_ORDER)
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            before = order.status.value
            order_state.cancel_order(session, order)
            summary = summarize(session, order)
            audit.record(
                session, self._ctx, audit.CANCEL_ORDER, target_type="order", target_id=order.id,
                target_label=order.reference, amount_before=summary.total, amount_after=Decimal("0.00"),
                detail={"status_before": before, "status_after": order.status.value},
            )
            return summary

    def sweep_stale(self, conference_id: int) -> int:
        """ORD-6/8: cancel the conference's pending orders whose hold lapsed; returns how many."""
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            return len(order_state.sweep_stale_orders(session, conference_id, now))


def _detail(session: Session, order: Order) -> OrderDetail:
    lines = tuple(
        OrderLineView(
            id=li.id,
            kind="addon" if li.addon_id is not None else "ticket",
            product_id=li.addon_id if li.addon_id is not None else li.ticket_type_id,
            description=li.description,
            quantity=li.quantity,
            unit_price=li.unit_price,
            discount=li.discount_amount,
            line_total=li.line_total,
        )
        for li in session.scalars(
            select(OrderLineItem).where(OrderLineItem.order_id == order.id).order_by(OrderLineItem.id)
        )
    )
    staff = pairs(session.execute(select(Staff.id, Staff.name)))
    payments_rows = session.scalars(select(Payment).where(Payment.order_id == order.id).order_by(Payment.id)).all()
    terminal = {
        t.payment_id: t
        for t in session.scalars(
            select(TerminalPayment).where(TerminalPayment.payment_id.in_([p.id for p in payments_rows]))
        )
    }
    payments = tuple(
        PaymentView(
            id=p.id,
            method=p.method.value,
            status=p.status.value,
            amount=p.amount,
            amount_tendered=p.amount_tendered,
            change_given=p.change_given,
            reference=p.reference,
            note=p.note,
            operator_name=staff.get(p.created_by_id, "") if p.created_by_id else "",
            card_brand=p.card_brand or (terminal[p.id].card_brand if p.id in terminal else ""),
            card_last4=p.card_last4 or (terminal[p.id].card_last4 if p.id in terminal else ""),
            credit_id=p.credit_id,
            created_at=p.created_at,
        )
        for p in payments_rows
    )
    refunds = tuple(
        RefundView(
            id=r.id,
            method=r.method.value,
            status=r.status.value,
            amount=r.amount,
            reason=r.reason,
            stripe_refund_id=r.stripe_refund_id,
            operator_name=staff.get(r.created_by_id, "") if r.created_by_id else "",
            credit_id=r.credit_id,
            created_at=r.created_at,
        )
        for r in session.scalars(select(Refund).where(Refund.order_id == order.id).order_by(Refund.id))
    )
    used: dict[int, Decimal] = {}
    for p in payments_rows:
        if p.method == PaymentMethod.CREDIT and p.credit_id is not None and p.status == PaymentStatus.SUCCEEDED:
            used[p.credit_id] = used.get(p.credit_id, ZERO) + p.amount
    applied_rows = session.scalars(
        select(Credit)
        .where(or_(Credit.id.in_(list(used)), Credit.applied_to_order_id == order.id))
        .order_by(Credit.id)
    ).all()
    issued_rows = session.scalars(
        select(Credit).where(Credit.source_order_id == order.id).order_by(Credit.id)
    ).all()

    def credit_view(c: Credit, used_here: Decimal) -> OrderCreditView:
        return OrderCreditView(
            c.id, c.amount, c.remaining_amount, c.status.value, used_here, c.expires_at, c.note
        )

    return OrderDetail(
        summary=summarize(session, order),
        conference_id=order.conference_id,
        voucher_code=order.voucher_code,
        lines=lines,
        payments=payments,
        refunds=refunds,
        credits_applied=tuple(credit_view(c, used.get(c.id, ZERO)) for c in applied_rows),
        credits_issued=tuple(credit_view(c, ZERO) for c in issued_rows),
    )
