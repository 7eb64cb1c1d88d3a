"""Refunds as rows of their own: to card (via the gateway), cash, manual or store credit (REF-*, DEC-1/2)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    CARD_METHODS,
    SETTLED_STATUSES,
    Credit,
    CreditStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
)
from boxoffice.errors import InvalidInput, RefundError, UserError
from boxoffice.money import ZERO, format_money, quantize
from boxoffice.services.checkin.registrations_guard import refuse_money_operation
from boxoffice.services.context import ServiceContext
from boxoffice.services.desk.shifts import open_shift_id, require_open_shift
from boxoffice.services.money.payments import amount_input
from boxoffice.services.money.ports import GatewayUnavailable, PaymentGateway
from boxoffice.services.sales import order_state, order_units
from boxoffice.services.sales.order_units import UnitPlan
from boxoffice.services.sales.order_views import OrderSummary
from boxoffice.services.sales.orders import check_operator, get_order, operator_label, summarize
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize, operator_id_for

log = logging.getLogger(__name__)

STRIPE_REASONS = ("requested_by_customer", "duplicate", "fraudulent")
_COUNTED = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)  # a pending refund already reserves its money
_MONEY_IN = (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED)  # "refunded" card rows still brought money in
_GATEWAY_STATUS = {
    "succeeded": RefundStatus.SUCCEEDED,
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}
_PAYMENT_GROUP = {
    PaymentMethod.STRIPE: "card",
    PaymentMethod.TERMINAL: "card",
    PaymentMethod.CASH: "cash",
    PaymentMethod.MANUAL: "manual",
    PaymentMethod.CREDIT: "credit",
}


@dataclass(frozen=True)
class RefundableView:
    order_id: int
    total_refundable: Decimal
    by_method: dict[str, Decimal]  # "card", "cash", "manual", "credit" → most that method can refund now


@dataclass(frozen=True)
class RefundResult:
    order: OrderSummary
    refund_id: int
    credit_id: int | None
    amount: Decimal
    method: str
    status: str
    refund_ids: tuple[int, ...] = field(default=())  # a card refund split across intents has several rows
    units_cancelled: int = 0  # DEC-10: units whose stock went back (refund_id is 0 when nothing was paid)
    attendees_voided: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class _CardChunk:
    refund_id: int
    payment_intent_id: str
    amount: Decimal
    idempotency_key: str


_Units = tuple[dict[int, int], tuple[int, ...]]  # line id → units to cancel, the attendees named


def _refund_method(method: RefundMethod | str) -> RefundMethod:
    try:
        return RefundMethod(method)
    except ValueError:
        names = ", ".join(m.value for m in RefundMethod)
        raise InvalidInput(f"'{method}' is not a refund method. Use one of: {names}.") from None


# --------------------------------------------------------------------------- arithmetic


def _money_in(session: Session, order_id: int) -> dict[str, Decimal]:
    rows = session.execute(
        select(Payment.method, func.sum(Payment.amount))
        .where(Payment.order_id == order_id, Payment.status.in_(_MONEY_IN))
        .group_by(Payment.method)
    )
    totals = {"card": ZERO, "cash": ZERO, "manual": ZERO, "credit": ZERO}
    for method, amount in rows:
        group = _PAYMENT_GROUP.get(PaymentMethod(method))
        if group is not None:
            totals[group] += quantize(Decimal(str(amount or 0)))
    return totals


def _refunded_by_method(session: Session, order_id: int) -> dict[str, Decimal]:
    rows = session.execute(
        select(Refund.method, func.sum(Refund.amount))
        .where(Refund.order_id == order_id, Refund.status.in_(_COUNTED))
        .group_by(Refund.method)
    )
    return {RefundMethod(m).value: quantize(Decimal(str(a or 0))) for m, a in rows}


def refundable_amounts(session: Session, order: Order) -> RefundableView:
    """DEC-1/2: each method refunds what it brought in minus what went back by it; never above what was paid.

    Store credit may stand in for any money (DEC-2). Comp payments brought in nothing.
    """
    methods = ("card", "cash", "manual", "credit")
    if order.status not in SETTLED_STATUSES:
        return RefundableView(order.id, ZERO, {m: ZERO for m in methods})
    money_in = _money_in(session, order.id)
    refunded = _refunded_by_method(session, order.id)
    total = max(min(order.total, sum(money_in.values(), ZERO)) - sum(refunded.values(), ZERO), ZERO)
    by_method = {
        m: min(max(money_in[m] - refunded.get(m, ZERO), ZERO), total) for m in ("card", "cash", "manual")
    }
    by_method["credit"] = total
    return RefundableView(order.id, total, by_method)


def apply_refund_status(session: Session, order: Order) -> None:
    """REF-5: refunded when the succeeded refunds reach the order total, else partially refunded.

    A REFUNDED order's units leave the sold counter (through ``order_state.transition``).
    """
    if order.status not in SETTLED_STATUSES:
        return
    session.flush()
    value = session.scalar(
        select(func.coalesce(func.sum(Refund.amount), 0)).where(
            Refund.order_id == order.id, Refund.status == RefundStatus.SUCCEEDED
        )
    )
    refunded = quantize(Decimal(str(value)))
    if refunded <= 0:
        return
    new = OrderStatus.REFUNDED if refunded >= order.total else OrderStatus.PARTIALLY_REFUNDED
    if new != order.status:
        order_state.transition(session, order, new)


def record_gateway_outcome(session: Session, refund_id: int, gateway_status: str, stripe_refund_id: str = "") -> Refund:
    """Store what Stripe said about a card refund (also used by event sync) and update the order status.

    Locks the order before the refund, the order every other writer uses (no deadlock).
    """
    order_id = session.scalar(select(Refund.order_id).where(Refund.id == refund_id))
    if order_id is None:
        raise RefundError(f"Refund #{refund_id} does not exist.")
    order = get_order(session, order_id, lock=True)
    refund = session.get(Refund, refund_id, with_for_update=True)
    assert refund is not None
    status = _GATEWAY_STATUS.get(gateway_status, RefundStatus.PENDING)
    if stripe_refund_id:
        refund.stripe_refund_id = stripe_refund_id
    if refund.status != RefundStatus.SUCCEEDED:  # a succeeded refund never goes back
        refund.status = status
    apply_refund_status(session, order)
    return refund


# --------------------------------------------------------------------------- service


class RefundService:
    """Refunds of paid orders; card money goes back through the PaymentGateway port."""

    def __init__(self, ctx: ServiceContext, gateway: PaymentGateway | None = None) -> None:
        self._ctx = ctx
        self._gateway = gateway

    def refundable(self, order_id: int) -> RefundableView:
        with self._ctx.db.read() as session:
            return refundable_amounts(session, get_order(session, order_id))

    def refund(
        self,
        order_id: int,
        amount: Decimal | str | int,
        *,
        method: RefundMethod | str,
        reason: str = "",
        operator_id: int | None = None,
    ) -> RefundResult:
        """Refund ``amount`` of a paid or partially refunded order by ``method`` (REF-1..9, DEC-1/2).

        Needs a lead. Cash comes out of this desk's open drawer shift (NoOpenShift without one).
        """
        authorize(Permission.REFUND)
        operator_id = operator_id_for(operator_id)
        how = _refund_method(method)
        amount = amount_input(amount, "refund amount")
        if amount <= 0:
            raise InvalidInput("A refund must be at least 0.01.", field="amount")
        reason = (reason or "").strip()
        if how == RefundMethod.CARD:
            self._need_gateway()
            return self._refund_card(order_id, amount, reason, operator_id)

        def refund_now(session: Session) -> RefundResult:
            check_operator(session, operator_id)
            order = self._checked(session, order_id, amount, how)
            return self._refund_here(session, order, amount, how, reason, operator_id)

        return self._ctx.db.run_write(refund_now)

    def cancel_units(
        self,
        order_id: int,
        units: Mapping[int, int],
        *,
        method: RefundMethod | str,
        reason: str = "",
        attendee_ids: Collection[int] = (),
        operator_id: int | None = None,
    ) -> RefundResult:
        """DEC-10: cancel ``units`` (order line id → how many) of a paid or partially refunded order.

        Their share of the line totals goes back by ``method`` (at most what is still refundable), their
        stock is released and the attendees of cancelled ticket units become void (``attendee_ids``
        chooses them, else the highest unit numbers), all in the transaction that records the refund;
        for a card, the one that records Stripe's answer, so a refused card refund cancels nothing.
        Needs a lead.
        """
        authorize(Permission.REFUND)
        operator_id = operator_id_for(operator_id)
        how = _refund_method(method)
        wanted = order_units.units_input(units)
        named = tuple(int(a) for a in attendee_ids)
        reason = (reason or "").strip()
        if how == RefundMethod.CARD:
            self._need_gateway()
            return self._refund_card(order_id, None, reason, operator_id, units=(wanted, named))

        def cancel_now(session: Session) -> RefundResult:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            plan = order_units.plan_units(session, order, wanted, named)
            amount = min(plan.value, refundable_amounts(session, order).total_refundable)
            if amount > 0:
                self._checked(session, order_id, amount, how)
            voided = order_units.release_units(session, order, plan)
            return self._refund_here(session, order, amount, how, reason, operator_id, plan, voided)

        return self._ctx.db.run_write(cancel_now)

    # ----------------------------------------------------------------- helpers

    def _need_gateway(self) -> None:
        if self._gateway is None:
            raise RefundError(
                "Card refunds need Stripe to be set up for this conference. Refund in cash or as "
                "store credit, or set up Stripe in Settings."
            )

    def _refund_here(
        self, session: Session, order: Order, amount: Decimal, how: RefundMethod, reason: str,
        operator_id: int | None, plan: UnitPlan | None = None, voided: list[int] | None = None,
    ) -> RefundResult:
        """A cash, manual or store-credit refund (and its audit row) in the caller's transaction.

        With a ``plan`` the units were released already; nothing left to refund writes no refund row.
        """
        refundable_before = refundable_amounts(session, order).total_refundable
        if how == RefundMethod.CASH and amount > 0:
            shift_id: int | None = require_open_shift(session, self._ctx.desk_name)
        else:
            shift_id = open_shift_id(session, self._ctx.desk_name)
        credit_id = None
        refund_id = 0
        if amount > 0:
            if how == RefundMethod.CREDIT:
                credit_id = self._issue_credit(session, order, amount, reason, operator_id)
            refund = Refund(
                order_id=order.id, amount=amount, method=how, status=RefundStatus.SUCCEEDED,
                reason=reason, credit_id=credit_id, created_by_id=operator_id, shift_id=shift_id,
                created_at=self._ctx.clock.now(),
            )
            session.add(refund)
            apply_refund_status(session, order)
            session.flush()
            refund_id = refund.id
        detail: dict[str, object] = {
            "refund_id": refund_id or None, "amount": amount, "method": how.value, "reason": reason,
            "credit_id": credit_id, "status": RefundStatus.SUCCEEDED.value,
        }
        if plan is not None:
            detail.update(units=plan.detail(), attendees_voided=voided or [], units_value=plan.value)
        audit.record(
            session, self._ctx, audit.REFUND if plan is None else audit.CANCEL_UNITS, target_type="order",
            target_id=order.id, target_label=order.reference, amount_before=refundable_before,
            amount_after=refundable_before - amount, detail=detail,
        )
        if plan is None:
            log.info("%s refund of %s on order %s", how.value, amount, order.reference)
        else:
            log.info("%d unit(s) of order %s cancelled, %s back by %s", plan.units, order.reference, amount,
                     how.value)
        return RefundResult(
            summarize(session, order), refund_id, credit_id, amount, how.value,
            RefundStatus.SUCCEEDED.value, (refund_id,) if refund_id else (),
            plan.units if plan is not None else 0, tuple(voided or ()),
        )

    def _checked(self, session: Session, order_id: int, amount: Decimal, how: RefundMethod) -> Order:
        order = get_order(session, order_id, lock=True)
        refuse_money_operation(order)   # IMP-6: imported orders keep their money online
        if order.status not in SETTLED_STATUSES:
            raise RefundError(
                f"Only paid or partially refunded orders can be refunded; order {order.reference} is "
                f"{order.status.value.replace('_', ' ')}."
            )
        view = refundable_amounts(session, order)
        currency = order.conference.currency
        limit = view.by_method[how.value]
        if amount > limit:
            if how == RefundMethod.CARD and not _money_in(session, order.id)["card"]:
                raise RefundError(
                    f"Order {order.reference} has no succeeded card payment, so nothing can go back to a "
                    "card. Refund in cash, by manual refund or as store credit."
                )
            if view.total_refundable <= 0:
                raise RefundError(f"Everything paid on order {order.reference} has already been refunded.")
            what = {"card": "to the card", "cash": "in cash", "manual": "by manual refund",
                    "credit": "as store credit"}[how.value]
            raise RefundError(
                f"{format_money(amount, currency)} exceeds the refundable balance of "
                f"{format_money(limit, currency)} {what} on order {order.reference}. Enter at most "
                f"{format_money(limit, currency)} or choose another refund method."
            )
        return order

    def _issue_credit(
        self, session: Session, order: Order, amount: Decimal, reason: str, operator_id: int | None
    ) -> int:
        by = operator_label(session, operator_id)
        note = f"Refund for order {order.reference}" + (f": {reason}" if reason else "")
        credit = Credit(
            customer_id=order.customer_id, conference_id=order.conference_id, amount=amount,
            remaining_amount=amount, status=CreditStatus.AVAILABLE, source_order_id=order.id,
            note=note + (f" by {by}" if by else ""), created_at=self._ctx.clock.now(),
            updated_at=self._ctx.clock.now(),
        )
        session.add(credit)
        session.flush()
        return credit.id

    def _plan_card(
        self, order_id: int, amount: Decimal | None, reason: str, operator_id: int | None,
        units: _Units | None = None,
    ) -> tuple[list[_CardChunk], str, str, Decimal, UnitPlan | None]:
        """Transaction 1: write the pending Refund rows (one per intent drawn on) and commit them.

        With ``units`` the amount is what the units are worth (at most what is refundable), and a plan
        with nothing left to refund cancels the units right here (no Stripe call).
        """
        stripe_reason = reason if reason in STRIPE_REASONS else "requested_by_customer"
        plan = None
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            if units is not None:
                order = get_order(session, order_id, lock=True)
                plan = order_units.plan_units(session, order, *units)
                amount = min(plan.value, refundable_amounts(session, order).total_refundable)
                if amount <= 0:
                    voided = order_units.release_units(session, order, plan)
                    self._refund_here(session, order, ZERO, RefundMethod.CARD, reason, operator_id, plan, voided)
                    return [], order.conference.currency, stripe_reason, ZERO, plan
            assert amount is not None
            order = self._checked(session, order_id, amount, RefundMethod.CARD)
            refundable_before = refundable_amounts(session, order).total_refundable
            shift_id = open_shift_id(session, self._ctx.desk_name)
            payments = session.scalars(
                select(Payment)
                .where(Payment.order_id == order.id, Payment.method.in_(CARD_METHODS),
                       Payment.status.in_(_MONEY_IN), Payment.stripe_payment_intent_id != "")
                .order_by(Payment.id)
            ).all()
            used = {
                pid: quantize(Decimal(str(total or 0)))
                for pid, total in session.execute(
                    select(Refund.payment_id, func.sum(Refund.amount))
                    .where(Refund.order_id == order.id, Refund.method == RefundMethod.CARD,
                           Refund.status.in_(_COUNTED))
                    .group_by(Refund.payment_id)
                )
            }
            chunks: list[_CardChunk] = []
            left = amount
            for payment in payments:
                if left <= 0:
                    break
                take = min(left, payment.amount - used.get(payment.id, ZERO))
                if take <= 0:
                    continue
                refund = Refund(
                    order_id=order.id, payment_id=payment.id, amount=take, method=RefundMethod.CARD,
                    status=RefundStatus.PENDING, reason=reason, created_by_id=operator_id,
                    shift_id=shift_id, created_at=self._ctx.clock.now(),
                )
                session.add(refund)
                session.flush()
                intent = payment.stripe_payment_intent_id
                refund.idempotency_key = f"refund-{intent}-{take}-{stripe_reason}-{refund.id}"  # STR-5 [FIX]
                chunks.append(_CardChunk(refund.id, intent, take, refund.idempotency_key))
                left -= take
            if left > 0:
                raise RefundError(
                    f"Only {format_money(amount - left, order.conference.currency)} of the card payments on "
                    f"order {order.reference} can be traced to a Stripe payment. Refund the rest in cash or "
                    "as store credit."
                )
            # The operator's decision is recorded with the pending rows, whatever Stripe answers next.
            detail: dict[str, object] = {
                "refund_ids": [c.refund_id for c in chunks], "amount": amount, "method": "card",
                "reason": reason, "status": "requested",
            }
            if plan is not None:  # the units are released once Stripe has taken the refund
                detail.update(units=plan.detail(), units_value=plan.value)
            audit.record(
                session, self._ctx, audit.REFUND if plan is None else audit.CANCEL_UNITS, target_type="order",
                target_id=order.id, target_label=order.reference, amount_before=refundable_before,
                amount_after=refundable_before - amount, detail=detail,
            )
            return chunks, order.conference.currency, stripe_reason, amount, plan

    def _refund_card(
        self, order_id: int, amount: Decimal | None, reason: str, operator_id: int | None,
        units: _Units | None = None,
    ) -> RefundResult:
        assert self._gateway is not None
        chunks, currency, stripe_reason, amount, plan = self._plan_card(order_id, amount, reason, operator_id, units)
        if not chunks:  # units with nothing left to refund: cancelled in the plan's transaction
            with self._ctx.db.read() as session:
                summary = summarize(session, get_order(session, order_id))
            assert plan is not None
            return RefundResult(summary, 0, None, ZERO, RefundMethod.CARD.value, RefundStatus.SUCCEEDED.value,
                                (), plan.units)
        outcomes: list[tuple[int, str, str]] = []  # refund id, gateway status, stripe refund id
        failure: str | None = None
        for chunk in chunks:  # outside any transaction: the Refund rows exist as pending first
            if failure is not None:
                outcomes.append((chunk.refund_id, "canceled", ""))
                continue
            try:
                result = self._gateway.refund_card(
                    payment_intent_id=chunk.payment_intent_id, amount=chunk.amount, currency=currency,
                    reason=stripe_reason, idempotency_key=chunk.idempotency_key,
                )
            except GatewayUnavailable as exc:
                # DESK-5: Stripe may have refunded before the answer was lost: pending, not failed.
                log.warning("card refund #%d: Stripe unreachable (%s)", chunk.refund_id, exc.message)
                failure = (
                    "Stripe could not be reached, so whether this part was refunded is not known yet; it "
                    "stays pending until the next sync with Stripe confirms it."
                )
                outcomes.append((chunk.refund_id, "pending", ""))
                continue
            except UserError as exc:
                failure = exc.message
                outcomes.append((chunk.refund_id, "failed", ""))
                continue
            except Exception:
                # DESK-5: the call may or may not have happened; this row stays pending for event sync.
                log.exception("card refund #%d: outcome unknown", chunk.refund_id)
                failure = (
                    "Stripe did not answer, so whether this part was refunded is not known yet; it stays "
                    "pending until the next sync with Stripe confirms it."
                )
                outcomes.append((chunk.refund_id, "pending", ""))
                continue
            outcomes.append((chunk.refund_id, result.status, result.refund_id))
        voided: list[int] = []
        with self._ctx.db.write() as session:
            if plan is not None and failure is None:
                # DEC-10: the units go with the refund Stripe took (or is taking), before the refund's
                # status can move the order's remaining units out of the counters.
                voided = order_units.release_units(session, get_order(session, order_id, lock=True), plan)
            statuses = [record_gateway_outcome(session, rid, st, sid).status for rid, st, sid in outcomes]
            order = get_order(session, order_id)
            apply_refund_status(session, order)
            summary = summarize(session, order)
        went = sum((c.amount for c, s in zip(chunks, statuses) if s == RefundStatus.SUCCEEDED), ZERO)
        if failure is not None:
            done = f"{format_money(went, currency)} went back to the card; " if went > 0 else ""
            kept = " No unit was cancelled." if plan is not None else ""
            raise RefundError(
                f"The card refund failed: {failure} {done}nothing else was refunded.{kept} Try again, or "
                "refund the rest in cash or as store credit."
            )
        overall = RefundStatus.PENDING if RefundStatus.PENDING in statuses else RefundStatus.SUCCEEDED
        log.info("card refund of %s on order %s: %s", amount, summary.reference, overall.value)
        return RefundResult(
            summary, chunks[0].refund_id, None, amount, RefundMethod.CARD.value, overall.value,
            tuple(c.refund_id for c in chunks), plan.units if plan is not None else 0, tuple(voided),
        )
