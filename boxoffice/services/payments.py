"""Taking money at the desk: cash with change, manual, comp, store credit, free orders (PAY-*, CRD-*)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    Credit,
    CreditStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from boxoffice.errors import CreditError, InvalidInput, NotFound, PaymentError
from boxoffice.money import ZERO, format_money, parse_amount
from boxoffice.services import order_state
from boxoffice.services.context import ServiceContext
from boxoffice.services.orders import OrderSummary, check_operator, get_order, summarize

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
    ) -> PaymentResult:
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
        tendered = amount_input(tendered, "amount tendered")
        if tendered <= 0:
            raise InvalidInput("Enter the cash the customer handed over; it must be more than 0.00.")
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            _require_pending(order, "Cash payments")
            balance = _require_balance(session, order)
            applied = min(tendered, balance)
            return self._record(
                session, order, method=PaymentMethod.CASH, amount=applied, operator_id=operator_id,
                tendered=tendered, change=tendered - applied,
            )

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
        amount = amount_input(amount, "amount")
        if amount <= 0:
            raise InvalidInput("The payment amount must be greater than zero.", field="amount")
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            _require_pending(order, "Manual payments")
            balance = _require_balance(session, order)
            if amount > balance:
                raise PaymentError(
                    f"{_money(order, amount)} is more than the {_money(order, balance)} still owed on order "
                    f"{order.reference}. Enter at most {_money(order, balance)}, or take it as cash to give "
                    "change."
                )
            return self._record(
                session, order, method=PaymentMethod.MANUAL, amount=amount, operator_id=operator_id,
                reference=(reference or "").strip(), note=note or "",
            )

    def comp(self, order_id: int, *, reason: str, operator_id: int | None = None) -> PaymentResult:
        """PAY-2 for a zero total; [DESK] a comp for the outstanding balance, the reason as note."""
        reason = (reason or "").strip()
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
            _require_pending(order, "Comp payments")
            if order.total <= 0:
                return self._record(
                    session, order, method=PaymentMethod.COMP, amount=ZERO, operator_id=operator_id,
                    note=reason,
                )
            if not reason:
                raise InvalidInput(
                    "Say why this order is given away (for example 'speaker'); a reason is required.",
                    field="reason",
                )
            balance = _require_balance(session, order)
            return self._record(
                session, order, method=PaymentMethod.COMP, amount=balance, operator_id=operator_id,
                note=reason,
            )

    def complete_free_order(self, order_id: int, *, operator_id: int | None = None) -> PaymentResult:
        """DESK-3: a pending order with a 0.00 total is completed at once with a comp payment."""
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)
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

    def apply_credit(self, order_id: int, credit_id: int, *, operator_id: int | None = None) -> PaymentResult:
        """CRD-2..4: draw min(remaining, balance) from one credit; the payment links to it (ORD-5)."""
        if isinstance(credit_id, bool) or not isinstance(credit_id, int):
            raise InvalidInput(f"{credit_id!r} is not a credit id.")
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            check_operator(session, operator_id)
            order = get_order(session, order_id, lock=True)  # order first, then the credit
            credit = session.scalars(select(Credit).where(Credit.id == credit_id).with_for_update()).one_or_none()
            if credit is None:
                raise NotFound(f"Store credit #{credit_id} does not exist. Look the customer's credits up again.")
            _require_pending(order, "Credit payments")
            _check_credit(order, credit, now)
            balance = _require_balance(session, order)
            applied = min(credit.remaining_amount, balance)
            credit.remaining_amount -= applied
            credit.applied_to_order_id = order.id
            if credit.remaining_amount <= 0:
                credit.status = CreditStatus.APPLIED
            return self._record(
                session, order, method=PaymentMethod.CREDIT, amount=applied, operator_id=operator_id,
                credit_id=credit.id, note=f"Store credit #{credit.id}",
            )


def _check_credit(order: Order, credit: Credit, now: object) -> None:
    """CRD-2 preconditions with DEC-3 expiry; each failure says what to do."""
    if credit.status == CreditStatus.EXPIRED or (
        credit.expires_at is not None and credit.expires_at <= now  # type: ignore[operator]
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
