"""Taking money at the desk: cash with change, manual, comp, store credit, free orders (PAY-*, CRD-*)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    CARD_METHODS,
    Credit,
    CreditStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from boxoffice.errors import CreditError, InvalidInput, NotFound, OrderStateError, PaymentError, SoldOut
from boxoffice.money import ZERO, format_money, parse_amount
from boxoffice.services.checkin.registrations_guard import refuse_money_operation
from boxoffice.services.context import ServiceContext
from boxoffice.services.desk.shifts import open_shift_id, require_open_shift
from boxoffice.services.sales import order_state
from boxoffice.services.sales.order_views import OrderSummary
from boxoffice.services.sales.orders import check_operator, get_order, summarize
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize, operator_id_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PaymentResult:
    order: OrderSummary
    payment_id: int
    method: str
    applied: Decimal      # what the payment put towards the order
    change_due: Decimal   # cash handed back to the customer
    paid_in_full: bool    # the order is paid after this payment


def amount_input(value: Decimal | str | int, what: str) -> Decimal:
    """Parse an operator-entered amount (Decimal, int or text), refusing floats and garbage."""
    if isinstance(value, float):
        raise InvalidInput(f"The {what} must be an exact amount such as 20.00, not a float.")
    try:
        return parse_amount(value)
    except ValueError as exc:
        raise InvalidInput(f"{what.capitalize()}: {exc}", field=what) from None


def _money(order: Order, amount: Decimal) -> str:
    return format_money(amount, order.conference.currency if order.conference else "USD")


def _require_pending(order: Order, what: str) -> None:
    if order.status != OrderStatus.PENDING:
        raise PaymentError(
            f"{what} can only be recorded for pending orders; order {order.reference} is "
            f"{order.status.value.replace('_', ' ')}."
        )


def _require_balance(session: Session, order: Order) -> Decimal:
    balance = order_state.outstanding_balance(session, order)
    if balance <= 0:
        raise PaymentError(f"Order {order.reference} is already fully paid; nothing is owed.")
    return balance


class PaymentService:
    """Records desk payments; each call locks the order row and runs in one transaction."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def _record(
        self,
        session: Session,
        order: Order,
        *,
        method: PaymentMethod,
        amount: Decimal,
        operator_id: int | None,
        change: Decimal = ZERO,
        tendered: Decimal | None = None,
        reference: str = "",
        note: str = "",
        credit_id: int | None = None,
        shift_id: int | None = None,
    ) -> PaymentResult:
        problem = order_state.retake_lapsed_hold(session, order, self._ctx.clock.now())
        if problem:  # DEC-14: no money on stock that is gone
            raise SoldOut(f"{problem} Nothing was recorded: cancel the order, or sell what is left.")
        operator_id = operator_id_for(operator_id)
        if shift_id is None:
            shift_id = open_shift_id(session, self._ctx.desk_name)  # this desk's drawer, when open
        payment = Payment(
            order_id=order.id,
            method=method,
            status=PaymentStatus.SUCCEEDED,
            amount=amount,
            amount_tendered=tendered,
            change_given=change,
            reference=reference,
            note=note,
            created_by_id=operator_id,
            credit_id=credit_id,
            shift_id=shift_id,
            created_at=self._ctx.clock.now(),
        )
        session.add(payment)
        session.flush()
        order_state.settle_if_fully_paid(session, order)
        log.info("%s payment of %s on order %s", method.value, amount, order.reference)
        summary = summarize(session, order)
        return PaymentResult(
            order=summary,
            payment_id=payment.id,
            method=method.value,
            applied=amount,
            change_due=change,
            paid_in_full=summary.status == OrderStatus.PAID.value,
        )

    def pay_cash(
        self, order_id: int, tendered: Decimal | str | int, *, operator_id: int | None = None
    ) -> PaymentResult:
        """Cash into the drawer: applies up to the balance and returns the change due (PAY-5 [FIX])."""
        authorize(Permission.SELL)
        tendered = amount_input(tendered, "amount tendered")
        if tendered <= 0:
            raise InvalidInput("Enter the cash the customer handed over; it must be more than 0.00.")

        def pay(session: Session) -> PaymentResult:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            refuse_money_operation(order)   # IMP-6: imported orders keep their money online
            _require_pending(order, "Cash payments")
            balance = _require_balance(session, order)
            shift_id = require_open_shift(session, self._ctx.desk_name)
            applied = min(tendered, balance)
            return self._record(
                session, order, method=PaymentMethod.CASH, amount=applied, operator_id=operator_id,
                tendered=tendered, change=tendered - applied, shift_id=shift_id,
            )

        return self._ctx.db.run_write(pay)

    def pay_manual(
        self,
        order_id: int,
        amount: Decimal | str | int,
        *,
        reference: str = "",
        note: str = "",
        operator_id: int | None = None,
    ) -> PaymentResult:
        """PAY-3/4: cheque, transfer or other money; never more than the outstanding balance."""
        authorize(Permission.MANUAL_PAYMENT)
        amount = amount_input(amount, "amount")
        if amount <= 0:
            raise InvalidInput("The payment amount must be greater than zero.", field="amount")

        def pay(session: Session) -> PaymentResult:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            refuse_money_operation(order)   # IMP-6: imported orders keep their money online
            _require_pending(order, "Manual payments")
            balance = _require_balance(session, order)
            if amount > balance:
                raise PaymentError(
                    f"{_money(order, amount)} is more than the {_money(order, balance)} still owed on order "
                    f"{order.reference}. Enter at most {_money(order, balance)}, or take it as cash to give "
                    "change."
                )
            result = self._record(
                session, order, method=PaymentMethod.MANUAL, amount=amount, operator_id=operator_id,
                reference=(reference or "").strip(), note=note or "",
            )
            audit.record(
                session, self._ctx, audit.MANUAL_PAYMENT, target_type="order", target_id=order.id,
                target_label=order.reference, amount_before=balance, amount_after=balance - amount,
                detail={"payment_id": result.payment_id, "amount": amount, "reference": (reference or "").strip()},
            )
            return result

        return self._ctx.db.run_write(pay)

    def comp(self, order_id: int, *, reason: str, operator_id: int | None = None) -> PaymentResult:
        """PAY-2 for a zero total; [DESK] a comp for the outstanding balance, the reason as note."""
        authorize(Permission.COMP)
        reason = (reason or "").strip()

        def give(session: Session) -> PaymentResult:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            refuse_money_operation(order)   # IMP-6: imported orders keep their money online
            _require_pending(order, "Comp payments")
            if order.total <= 0:
                result = self._record(
                    session, order, method=PaymentMethod.COMP, amount=ZERO, operator_id=operator_id,
                    note=reason,
                )
                self._audit_comp(session, order, ZERO, result, reason)
                return result
            if not reason:
                raise InvalidInput(
                    "Say why this order is given away (for example 'speaker'); a reason is required.",
                    field="reason",
                )
            balance = _require_balance(session, order)
            result = self._record(
                session, order, method=PaymentMethod.COMP, amount=balance, operator_id=operator_id,
                note=reason,
            )
            self._audit_comp(session, order, balance, result, reason)
            return result

        return self._ctx.db.run_write(give)

    def _audit_comp(self, session: Session, order: Order, amount: Decimal, result: PaymentResult,
                    reason: str) -> None:
        audit.record(
            session, self._ctx, audit.COMP, target_type="order", target_id=order.id,
            target_label=order.reference, amount_before=amount, amount_after=ZERO,
            detail={"payment_id": result.payment_id, "comped": amount, "reason": reason},
        )

    def complete_free_order(self, order_id: int, *, operator_id: int | None = None) -> PaymentResult:
        """DESK-3: a pending order with a 0.00 total is completed at once with a comp payment."""
        authorize(Permission.SELL)

        def complete(session: Session) -> PaymentResult:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            refuse_money_operation(order)   # IMP-6: imported orders keep their money online
            _require_pending(order, "Comp payments")
            if order.total > 0:
                raise PaymentError(
                    f"Order {order.reference} costs {_money(order, order.total)}; it is not free. Take "
                    "a payment for it instead."
                )
            return self._record(
                session, order, method=PaymentMethod.COMP, amount=ZERO, operator_id=operator_id,
                note="Free order",
            )

        return self._ctx.db.run_write(complete)

    def apply_credit(self, order_id: int, credit_id: int, *, operator_id: int | None = None) -> PaymentResult:
        """CRD-2..4: draw min(remaining, balance) from one credit; the payment links to it (ORD-5)."""
        authorize(Permission.SELL)
        if isinstance(credit_id, bool) or not isinstance(credit_id, int):
            raise InvalidInput(f"{credit_id!r} is not a credit id.")
        now = self._ctx.clock.now()

        def apply(session: Session) -> PaymentResult:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)  # order first, then the credit
            refuse_money_operation(order)   # IMP-6: imported orders keep their money online
            credit = session.scalars(select(Credit).where(Credit.id == credit_id).with_for_update()).one_or_none()
            if credit is None:
                raise NotFound(f"Store credit #{credit_id} does not exist. Look the customer's credits up again.")
            _require_pending(order, "Credit payments")
            _check_credit(order, credit, now)
            balance = _require_balance(session, order)
            applied = min(credit.remaining_amount, balance)
            before = credit.remaining_amount
            credit.remaining_amount -= applied
            credit.applied_to_order_id = order.id
            if credit.remaining_amount <= 0:
                credit.status = CreditStatus.APPLIED
            result = self._record(
                session, order, method=PaymentMethod.CREDIT, amount=applied, operator_id=operator_id,
                credit_id=credit.id, note=f"Store credit #{credit.id}",
            )
            audit.record(
                session, self._ctx, audit.CREDIT_APPLY, target_type="credit", target_id=credit.id,
                target_label=f"Store credit #{credit.id} on {order.reference}", amount_before=before,
                amount_after=credit.remaining_amount,
                detail={"order": order.reference, "applied": applied, "payment_id": result.payment_id},
            )
            return result

        return self._ctx.db.run_write(apply)

    def void(self, payment_id: int, *, reason: str) -> PaymentResult:
        """A lead voids a desk payment recorded by mistake (wrong amount or method).

        Only cash, manual, comp and credit payments of a pending or paid order; a voided payment
        counts for nothing, a credit it drew on gets its money back, and a paid order that is no
        longer covered goes back to pending with a fresh hold. Card money is refunded instead.
        """
        authorize(Permission.VOID_PAYMENT)
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("Say why the payment is voided (for example 'wrong amount keyed').",
                               field="reason")
        if isinstance(payment_id, bool) or not isinstance(payment_id, int):
            raise InvalidInput(f"{payment_id!r} is not a payment id.")
        now = self._ctx.clock.now()

        def void(session: Session) -> PaymentResult:
            found = session.get(Payment, payment_id)
            if found is None:
                raise NotFound(f"Payment #{payment_id} does not exist. Open the order again.")
            order = get_order(session, found.order_id, lock=True)  # order first, then its payment
            refuse_money_operation(order)   # IMP-6: imported orders keep their money online
            payment = session.get(Payment, payment_id, with_for_update=True)
            assert payment is not None
            if payment.method in CARD_METHODS:
                raise PaymentError("Card payments cannot be voided here; refund the card instead.")
            if payment.status != PaymentStatus.SUCCEEDED:
                raise PaymentError(f"Payment #{payment.id} is {payment.status.value}; only a recorded payment "
                                   "can be voided.")
            if order.status not in (OrderStatus.PENDING, OrderStatus.PAID):
                raise OrderStateError(
                    f"Order {order.reference} is {order.status.value.replace('_', ' ')}; its payments can no "
                    "longer be voided. Refund instead."
                )
            paid_before = order_state.paid_so_far(session, order.id)
            payment.status = PaymentStatus.VOIDED
            payment.note = (payment.note + "\n" if payment.note else "") + f"Voided: {reason}"
            if payment.credit_id is not None and payment.amount > 0:
                credit = session.scalars(
                    select(Credit).where(Credit.id == payment.credit_id).with_for_update()
                ).one()
                credit.remaining_amount = min(credit.amount, credit.remaining_amount + payment.amount)
                if credit.status == CreditStatus.APPLIED:
                    credit.status = CreditStatus.AVAILABLE
            session.flush()
            paid_after = order_state.paid_so_far(session, order.id)
            if order.status == OrderStatus.PAID and paid_after < order.total:
                hold = now + timedelta(minutes=order.conference.hold_minutes)
                order_state.transition(session, order, OrderStatus.PENDING, hold_expires_at=hold)
            audit.record(
                session, self._ctx, audit.VOID_PAYMENT, target_type="payment", target_id=payment.id,
                target_label=f"{payment.method.value} payment on {order.reference}",
                amount_before=paid_before, amount_after=paid_after,
                detail={"order": order.reference, "amount": payment.amount, "method": payment.method.value,
                        "reason": reason},
            )
            summary = summarize(session, order)
            return PaymentResult(order=summary, payment_id=payment.id, method=payment.method.value,
                                 applied=-payment.amount, change_due=ZERO, paid_in_full=False)

        return self._ctx.db.run_write(void)


def _check_credit(order: Order, credit: Credit, now: datetime) -> None:
    """CRD-2 preconditions with DEC-3 expiry; each failure says what to do."""
    if credit.status == CreditStatus.EXPIRED or (
        credit.expires_at is not None and credit.expires_at <= now
    ):
        when = f" on {credit.expires_at:%Y-%m-%d}" if credit.expires_at is not None else ""
        raise CreditError(f"Store credit #{credit.id} expired{when} and cannot be used. Take another payment.")
    if credit.status != CreditStatus.AVAILABLE:
        raise CreditError(f"Store credit #{credit.id} is already used up. Take another payment.")
    if credit.remaining_amount <= 0:
        raise CreditError(f"Store credit #{credit.id} has no remaining balance. Take another payment.")
    if credit.customer_id != order.customer_id:
        raise CreditError(
            f"Store credit #{credit.id} belongs to another customer; it can only pay that customer's orders."
        )
    if credit.conference_id != order.conference_id:
        raise CreditError(
            f"Store credit #{credit.id} is for another conference; it can only pay orders of that conference."
        )
