"""Order look-up for the desk: summaries, prefix search, detail, cancel and the stale sweep (ORD-*)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

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
from boxoffice.domain.text_rules import text_problem
from boxoffice.errors import InvalidInput, NotFound, OrderStateError
from boxoffice.money import ZERO, quantize
from boxoffice.services.checkin.registrations_guard import refuse_money_operation
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales import order_state
from boxoffice.services.sales.order_search import (
    conference_reference_prefix,
    count_orders,
    reference_spellings,
    search_orders,
)
from boxoffice.services.sales.order_views import (
    OrderCreditView,
    OrderDetail,
    OrderLineView,
    OrderSummary,
    PaymentView,
    RefundView,
)
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize

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


# --------------------------------------------------------------------------- service


def _check_search_text(text: object) -> None:
    problem = text_problem(text, "search text") if isinstance(text, str) else None
    if problem:
        raise InvalidInput(problem, field="text")


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
        _check_search_text(text)

        return search_orders(self._ctx.db, conference_id, text, statuses=statuses, created_from=created_from,
                             created_to=created_to, sort=sort, descending=descending, offset=offset,
                             limit=limit)

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
        _check_search_text(text)

        return count_orders(self._ctx.db, conference_id, text, statuses=statuses, created_from=created_from,
                            created_to=created_to)

    def by_reference(self, reference: str, *, conference_id: int | None = None) -> OrderSummary:
        """The order with this reference; with ``conference_id`` also typed without the conference's
        prefix or dash (``ZD7UXZP3``, ``PY27ZD7UXZP3`` for ``PY27-ZD7UXZP3``)."""
        ref = (reference or "").strip().upper()
        with self._ctx.db.read() as session:
            match = Order.reference == ref
            if conference_id is not None:
                prefix = conference_reference_prefix(session.connection(), conference_id)
                spelled = [r for r in reference_spellings(ref, prefix) if r]
                match = or_(match, Order.reference.in_(spelled) & (Order.conference_id == conference_id))
            found = list(session.scalars(select(Order).where(match)))
            if not found:
                raise NotFound(f"No order has the reference '{ref}'. Check the spelling and try again.")
            exact = [o for o in found if o.reference == ref]
            return summarize(session, (exact or found)[0])

    def get(self, order_id: int) -> OrderSummary:
        with self._ctx.db.read() as session:
            return summarize(session, get_order(session, order_id))

    def detail(self, order_id: int) -> OrderDetail:
        """The order with its lines, payments (operator, method, tendered/change, card), refunds, credits."""
        with self._ctx.db.read() as session:
            order = get_order(session, order_id)
            return _detail(session, order)

    def cancel(self, order_id: int, *, operator_id: int | None = None) -> OrderSummary:
        """ORD-1: cancel a pending order (refused while cash or card money is in, ORD-3).

        An order that has taken no money at all is anyone's to cancel who may sell (a volunteer
        backs out of a sale); its stock is released at once. One with store credit applied
        needs a lead (``Permission.CANCEL_ORDER``): the credit goes back to the customer.
        """
        authorize(Permission.SELL)
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            refuse_money_operation(order)   # IMP-6: imported orders keep their money online
            if order_state.paid_so_far(session, order.id) > 0:
                authorize(Permission.CANCEL_ORDER)
            before = order.status.value
            order_state.cancel_order(session, order)
            summary = summarize(session, order)
            audit.record(
                session, self._ctx, audit.CANCEL_ORDER, target_type="order", target_id=order.id,
                target_label=order.reference, amount_before=summary.total, amount_after=Decimal("0.00"),
                detail={"status_before": before, "status_after": order.status.value},
            )
            return summary

    def admit_oversold(self, order_id: int, *, reason: str, operator_id: int | None = None) -> OrderSummary:
        """DEC-14: a lead keeps an order flagged oversold (card money came in after its hold lapsed
        and its stock was sold meanwhile): its units count as sold even past the stock, which goes
        negative. Paid in full, the order becomes paid (attendees made); else its hold is renewed so
        the rest can be paid. Audited with what was short. Needs a lead and a reason."""
        authorize(Permission.ADMIT_OVERSOLD)
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("Say why this order is admitted beyond the stock (e.g. an extra chair).",
                               field="reason")
        now = self._ctx.clock.now()

        def admit(session: Session) -> OrderSummary:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            if order.status != OrderStatus.PENDING or order_state.OVERSOLD_NOTE not in order.needs_attention:
                raise OrderStateError(
                    f"Order {order.reference} is not waiting for a lead after an oversell; nothing to admit."
                )
            short = order_state.retake_lapsed_hold(session, order, now)  # "" when the stock came back
            remaining = order_state.outstanding_balance(session, order)
            # Its units never left the held counter (a lapsed hold still counts there), so renewing
            # the hold keeps them; paying moves them to sold, past the stock.
            order.hold_expires_at = now + timedelta(minutes=order.conference.hold_minutes or 15)
            order.needs_attention = "\n".join(
                line for line in order.needs_attention.splitlines() if line.strip() != order_state.OVERSOLD_NOTE
            ).strip()
            order_state.settle_if_fully_paid(session, order)
            session.flush()
            summary = summarize(session, order)
            audit.record(
                session, self._ctx, audit.ADMIT_OVERSOLD, target_type="order", target_id=order.id,
                target_label=order.reference, amount_before=remaining, amount_after=summary.balance,
                detail={"reason": reason, "short": short or "the stock came back meanwhile",
                        "status_after": order.status.value},
            )
            return summary

        return self._ctx.db.run_write(admit)

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
            cancelled=li.cancelled_quantity,
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
