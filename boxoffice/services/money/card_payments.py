"""Card payments at the desk: Terminal readers and pay-on-phone Checkout Sessions (TRM-*, PAY-8/10/11).

Every attempt is a local ``Payment`` row written *before* Stripe is called, holding the idempotency
key every later call derives from; a crash or a lost answer is recovered by ``resume``, which repeats
the calls with the same keys, so Stripe replays them instead of charging twice (DESK-5).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    CARD_METHODS,
    CaptureStatus,
    Conference,
    Customer,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    StripeCustomer,
    SyncState,
    TerminalPayment,
)
from boxoffice.errors import NotFound, OrderStateError, PaymentError, SoldOut, UserError
from boxoffice.money import format_money
from boxoffice.services.context import ServiceContext
from boxoffice.services.desk.shifts import open_shift_id
from boxoffice.services.money.ports import (
    CardGateway,
    GatewayIntent,
    GatewayKeySpent,
    GatewayReader,
    GatewaySession,
    GatewayUnavailable,
)
from boxoffice.services.sales import order_state
from boxoffice.services.staff.access import Permission, authorize, operator_id_for

log = logging.getLogger(__name__)

INSTANCE_KEY = "instance_id"
IN_FLIGHT = (PaymentStatus.PENDING, PaymentStatus.PROCESSING)
T = TypeVar("T")
STILL_FAILING = (
    "Stripe keeps failing this request. The attempt is saved and nothing was charged twice: try "
    "again in a few minutes, or cancel it and take cash, comp or credit."
)


def instance_id(session: Session, now: object) -> str:
    """A random id for this database, put in Stripe metadata and keys to tell our objects from others'."""
    row = session.get(SyncState, INSTANCE_KEY)
    if row is not None and row.value:
        return row.value
    value = uuid.uuid4().hex[:16]
    session.add(SyncState(key=INSTANCE_KEY, value=value, updated_at=now))
    session.flush()
    return value


@dataclass(frozen=True)
class CardAttemptView:
    payment_id: int
    order_id: int
    reference: str
    method: str  # terminal / stripe
    status: str  # pending / processing / succeeded / failed
    amount: Decimal
    currency: str
    payment_intent_id: str
    reader_id: str
    checkout_session_id: str
    checkout_url: str
    card_brand: str
    card_last4: str
    failure_reason: str
    order_status: str
    paid_in_full: bool

    @property
    def finished(self) -> bool:
        return self.status not in ("pending", "processing")


@dataclass(frozen=True)
class _Attempt:
    payment_id: int
    key: str
    amount: Decimal
    currency: str
    intent_id: str
    reader_id: str
    session_id: str
    metadata: dict[str, str]
    description: str
    customer: str | None
    keys: dict[str, str] = field(default_factory=dict)

    def key_for(self, purpose: str) -> str:
        """The idempotency key in use for one request of the attempt ("create", "process", ...)."""
        return self.keys.get(purpose) or (self.key if purpose == "create" else f"{self.key}-{purpose}")


def _stored_request(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text) if text else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class CardPaymentService:
    """Start, follow, cancel and recover card payments; one in flight per order (PAY-11)."""

    def __init__(self, ctx: ServiceContext, gateway: CardGateway | None) -> None:
        self._ctx, self._gateway = ctx, gateway

    @property
    def gateway(self) -> CardGateway | None:
        """The gateway card payments go through (the readers screen registers readers on it)."""
        return self._gateway

    def _gw(self) -> CardGateway:
        if self._gateway is None:
            raise PaymentError(
                "Card payments are not set up on this desk (no Stripe key). Take cash, comp or "
                "credit, or add the key in Settings > Stripe."
            )
        return self._gateway

    # ------------------------------------------------------------------ queries

    def list_readers(self, location: str | None = None) -> list[GatewayReader]:
        return self._gw().list_readers(location=location)

    def in_flight(self, order_id: int) -> CardAttemptView | None:
        with self._ctx.db.read() as session:
            payment = self._in_flight(session, order_id)
            return self._view(session, payment) if payment is not None else None

    def get(self, payment_id: int) -> CardAttemptView:
        with self._ctx.db.read() as session:
            return self._view(session, self._payment(session, payment_id))

    # ------------------------------------------------------------------ Terminal (card present)

    def start_terminal_payment(
        self, order_id: int, reader_id: str, *, operator_id: int | None = None
    ) -> CardAttemptView:
        """TRM-3/5: charge the outstanding balance on ``reader_id``; the intent is dispatched once."""
        authorize(Permission.SELL)
        if not reader_id.strip():
            raise PaymentError("Choose a card reader first (Settings > Card reader).")  # TRM-2
        self._gw()
        payment_id = self._new_attempt(
            order_id, PaymentMethod.TERMINAL, operator_id, reader_id=reader_id.strip()
        )
        return self._continue_terminal(payment_id)

    def _continue_terminal(self, payment_id: int) -> CardAttemptView:
        gw = self._gw()
        attempt = self._attempt(payment_id)
        intent_id = attempt.intent_id
        if not intent_id:
            try:
                intent_id = self._create_intent(payment_id).id
            except GatewayUnavailable:
                raise
            except UserError as exc:
                self._fail(payment_id, exc.message)
                raise
            self._store_intent(payment_id, intent_id)

        def dispatched() -> GatewayReader | None:
            reader = gw.retrieve_reader(attempt.reader_id)
            return reader if reader.action_payment_intent == intent_id else None

        try:  # TRM-5: one dispatch; a retry with the same key is replayed by Stripe, not re-sent
            self._keyed(
                payment_id,
                "process",
                lambda key: gw.process_payment_intent(attempt.reader_id, intent_id, idempotency_key=key),
                dispatched,
            )
        except GatewayUnavailable:
            raise
        except UserError as exc:
            self._cancel_intent_quietly(attempt, intent_id)
            self._fail(payment_id, f"The card reader could not start the payment: {exc.message}")
            raise PaymentError(
                f"The card reader could not start the payment: {exc.message} Check that the "
                "reader is on and online, then try again."
            ) from None
        return self.get(payment_id)

    def check_terminal_payment(self, payment_id: int) -> CardAttemptView:
        """Follow the reader: capture once the card is authorised (TRM-6), record a decline (TRM-11)."""
        gw = self._gw()
        view = self.get(payment_id)
        if view.finished or not view.payment_intent_id:
            return view
        attempt = self._attempt(payment_id)
        intent = gw.retrieve_payment_intent(view.payment_intent_id, currency=view.currency)
        if intent.status == "requires_capture" and self._stock_gone(payment_id):
            self._cancel_intent_quietly(attempt, intent.id)
            return self._fail(
                payment_id,
                "The card was not charged: the order's hold lapsed and its tickets were sold meanwhile.",
                CaptureStatus.CANCELLED,
            )
        if intent.status == "requires_capture":
            intent_id = intent.id

            def captured() -> GatewayIntent | None:
                now = gw.retrieve_payment_intent(intent_id, currency=view.currency)
                return now if now.status != "requires_capture" else None

            intent = self._keyed(
                payment_id,
                "capture",
                lambda key: gw.capture_payment_intent(intent_id, currency=view.currency, idempotency_key=key),
                captured,
            )
        if intent.status == "succeeded":
            return self._record_success(payment_id, intent)
        if intent.status == "canceled":
            return self._fail(payment_id, "The payment was cancelled.", CaptureStatus.CANCELLED)
        reason = intent.failure_message
        if not reason and intent.status == "requires_payment_method" and attempt.reader_id:
            reader = gw.retrieve_reader(attempt.reader_id)
            if reader.action_payment_intent == intent.id and reader.action_status == "failed":
                reason = reader.action_failure_message or "The card reader reported a failure."
        if reason:
            self._cancel_intent_quietly(attempt, intent.id)
            return self._fail(payment_id, reason, CaptureStatus.FAILED)
        return view

    # ------------------------------------------------------------------ pay on your phone (Checkout)

    def start_checkout_session(
        self,
        order_id: int,
        *,
        success_url: str = "https://checkout.stripe.com/done",
        cancel_url: str = "https://checkout.stripe.com/cancelled",
        operator_id: int | None = None,
    ) -> CardAttemptView:
        """PAY-8 [FIX]: a Checkout Session for the outstanding balance; completion arrives by event sync."""
        authorize(Permission.SELL)
        self._gw()
        payment_id = self._new_attempt(order_id, PaymentMethod.STRIPE, operator_id)
        return self._continue_checkout(payment_id, success_url, cancel_url)

    def _continue_checkout(self, payment_id: int, success_url: str, cancel_url: str) -> CardAttemptView:
        attempt = self._attempt(payment_id)
        gw = self._gw()
        try:
            cs = self._keyed(
                payment_id,
                "create",
                lambda key: gw.create_checkout_session(
                    amount=attempt.amount,
                    currency=attempt.currency,
                    item_name=attempt.description,
                    idempotency_key=key,
                    metadata=attempt.metadata,
                    success_url=success_url,
                    cancel_url=cancel_url,
                    customer=attempt.customer,
                ),
                lambda: gw.find_checkout_session(
                    payment_id=str(payment_id), instance=attempt.metadata["boxoffice_instance"]
                ),
            )
        except GatewayUnavailable:
            raise
        except UserError as exc:
            self._fail(payment_id, exc.message)
            raise
        with self._ctx.db.write() as session:
            payment = self._payment(session, payment_id, lock=True)
            payment.reference = cs.id
            view = self._view(session, payment)
        return CardAttemptView(**{**view.__dict__, "checkout_session_id": cs.id, "checkout_url": cs.url})

    # ------------------------------------------------------------------ cancel and recover

    def cancel(self, payment_id: int) -> CardAttemptView:
        """TRM-7: cancel on the stored reader, then the intent; a Checkout Session is expired early."""
        authorize(Permission.SELL)
        gw = self._gw()
        view = self.get(payment_id)
        if view.finished:
            return view
        attempt = self._attempt(payment_id)
        if view.method == PaymentMethod.STRIPE.value:
            if not attempt.session_id:
                return self._fail(payment_id, "Cancelled at the desk before the link was shown.")
            session_id = attempt.session_id

            def expired() -> GatewaySession | None:
                now = gw.retrieve_checkout_session(session_id)
                return now if now.status != "open" else None

            try:
                self._keyed(
                    payment_id,
                    "expire",
                    lambda key: gw.expire_checkout_session(session_id, idempotency_key=key),
                    expired,
                )
            except GatewayUnavailable:
                raise
            except UserError as exc:
                raise PaymentError(
                    f"The pay-on-phone link could not be cancelled: {exc.message} If the buyer "
                    "already paid, the next sync records it."
                ) from None
            return self._fail(payment_id, "The pay-on-phone link was cancelled at the desk.")
        intent_id = attempt.intent_id
        if not intent_id:
            # The intent may exist although its answer was lost: the same key finds it (or makes one).
            intent_id = self._create_intent(payment_id).id
            self._store_intent(payment_id, intent_id)
        if attempt.reader_id:
            try:
                gw.cancel_reader_action(
                    attempt.reader_id, idempotency_key=self._attempt(payment_id).key_for("cancel-action")
                )
            except GatewayUnavailable:
                pass  # the intent's cancel below stops the reader's action as well
            except UserError:
                pass  # nothing in progress on the reader any more
        cancel_intent = intent_id

        def cancelled() -> GatewayIntent | None:
            now = gw.retrieve_payment_intent(cancel_intent, currency=attempt.currency)
            return now if now.status == "canceled" else None

        try:
            self._keyed(
                payment_id,
                "cancel",
                lambda key: gw.cancel_payment_intent(cancel_intent, currency=attempt.currency, idempotency_key=key),
                cancelled,
            )
        except GatewayUnavailable:
            raise
        except UserError:
            intent = gw.retrieve_payment_intent(intent_id, currency=attempt.currency)
            if intent.status in ("succeeded", "requires_capture"):
                view = self.check_terminal_payment(payment_id)
                raise PaymentError(
                    f"The card was already charged {format_money(view.amount, view.currency)}; "
                    "the payment is recorded on the order. Refund it if needed."
                ) from None
            if intent.status != "canceled":
                raise
        return self._fail(payment_id, "Cancelled at the desk.", CaptureStatus.CANCELLED)

    def resume(self, payment_id: int) -> CardAttemptView:
        """After a crash or a lost answer: repeat the same calls with the same keys (no double charge)."""
        authorize(Permission.SELL)
        view = self.get(payment_id)
        if view.finished:
            return view
        if view.method == PaymentMethod.TERMINAL.value:
            if view.payment_intent_id:
                current = self.check_terminal_payment(payment_id)
                if current.finished:
                    return current
            return self._continue_terminal(payment_id)
        return self._continue_checkout(
            payment_id, "https://checkout.stripe.com/done", "https://checkout.stripe.com/cancelled"
        )

    # ------------------------------------------------------------------ customers (STR-3)

    def ensure_stripe_customer(self, customer_id: int, conference_id: int) -> str | None:
        """The Stripe customer of (customer, conference), created once; anonymous walk-ups get none."""
        with self._ctx.db.write() as session:
            row = session.scalar(
                select(StripeCustomer).where(
                    StripeCustomer.customer_id == customer_id, StripeCustomer.conference_id == conference_id
                )
            )
            if row is not None:
                return row.stripe_customer_id
            customer = session.get(Customer, customer_id)
            conference = session.get(Conference, conference_id)
            if customer is None or conference is None:
                raise NotFound("That customer or conference no longer exists.")
            if customer.is_anonymous or not customer.email:
                return None
            key = f"customer-{instance_id(session, self._ctx.clock.now())}-{conference_id}-{customer_id}"
            email, name, slug = customer.email, customer.name, conference.slug
        stripe_id = self._gw().create_customer(
            email=email,
            name=name,
            idempotency_key=key,
            metadata={"user_id": str(customer_id), "conference_slug": slug},
        )
        try:
            with self._ctx.db.write() as session:
                session.add(
                    StripeCustomer(
                        customer_id=customer_id,
                        conference_id=conference_id,
                        stripe_customer_id=stripe_id,
                        created_at=self._ctx.clock.now(),
                    )
                )
        except IntegrityError:  # another desk stored it first
            with self._ctx.db.read() as session:
                existing = session.scalar(
                    select(StripeCustomer.stripe_customer_id).where(
                        StripeCustomer.customer_id == customer_id,
                        StripeCustomer.conference_id == conference_id,
                    )
                )
                return existing or stripe_id
        return stripe_id

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _payment(session: Session, payment_id: int, *, lock: bool = False) -> Payment:
        payment = session.get(Payment, payment_id, with_for_update=lock)
        if payment is None or payment.method not in CARD_METHODS:
            raise NotFound(f"Card payment #{payment_id} does not exist.")
        return payment

    @staticmethod
    def _detail(session: Session, payment: Payment) -> TerminalPayment | None:
        return session.scalar(select(TerminalPayment).where(TerminalPayment.payment_id == payment.id))

    @staticmethod
    def _in_flight(session: Session, order_id: int) -> Payment | None:
        return session.scalar(
            select(Payment)
            .where(
                Payment.order_id == order_id, Payment.method.in_(CARD_METHODS), Payment.status.in_(IN_FLIGHT)
            )
            .order_by(Payment.id.desc())
            .limit(1)
        )

    def _new_attempt(
        self, order_id: int, method: PaymentMethod, operator_id: int | None, *, reader_id: str = ""
    ) -> int:
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            order = session.get(Order, order_id, with_for_update=True)
            if order is None:
                raise NotFound(f"Order #{order_id} does not exist.")
            if order.status != OrderStatus.PENDING:  # TRM-3
                raise OrderStateError(
                    f"Order {order.reference} is {order.status.value}, not pending; "
                    "there is nothing to charge."
                )
            balance = order_state.outstanding_balance(session, order)
            if balance <= 0:
                raise OrderStateError(f"Order {order.reference} is already fully paid.")
            problem = order_state.retake_lapsed_hold(session, order, now)
            if problem:  # DEC-14
                raise SoldOut(f"{problem} No card payment was started.")
            earlier = self._in_flight(session, order.id)
            if earlier is not None:  # PAY-11 [FIX]
                raise PaymentError(
                    f"A card payment of {format_money(earlier.amount, order.conference.currency)} for order "
                    f"{order.reference} is still in progress. Finish or cancel it before starting another."
                )
            payment = Payment(
                order_id=order.id,
                method=method,
                status=PaymentStatus.PENDING,
                amount=balance,
                created_by_id=operator_id_for(operator_id),
                shift_id=open_shift_id(session, self._ctx.desk_name),  # the desk's shift report counts it
                created_at=now,
            )
            session.add(payment)
            session.flush()
            payment.idempotency_key = f"bo-{instance_id(session, now)}-pay-{payment.id}"
            if method == PaymentMethod.TERMINAL:
                session.add(
                    TerminalPayment(
                        payment_id=payment.id,
                        conference_id=order.conference_id,
                        reader_id=reader_id,
                        payment_intent_id="",
                        created_at=now,
                        updated_at=now,
                    )
                )
            customer_id, conference_id = order.customer_id, order.conference_id
            log.info(
                "card attempt #%d (%s) for order %s: %s", payment.id, method.value, order.reference, balance
            )
            payment_id = payment.id
        try:
            self.ensure_stripe_customer(customer_id, conference_id)
        except UserError as exc:
            # The customer record is a convenience; the payment does not need it (a restricted key
            # without Customers write access, Stripe down for a moment).
            log.warning("card attempt #%d goes on without a Stripe customer: %s", payment_id, exc.message)
        return payment_id

    def _attempt(self, payment_id: int) -> _Attempt:
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            payment = self._payment(session, payment_id)
            order = payment.order
            conference = order.conference
            detail = self._detail(session, payment)
            customer = session.scalar(
                select(StripeCustomer.stripe_customer_id).where(
                    StripeCustomer.customer_id == order.customer_id,
                    StripeCustomer.conference_id == conference.id,
                )
            )
            terminal = payment.method == PaymentMethod.TERMINAL
            metadata = {
                "order_id": str(order.id),
                "reference": order.reference,
                "conference_id": str(conference.id),
                "conference_slug": conference.slug,
                "terminal": "true" if terminal else "false",
                "staff_user_id": str(payment.created_by_id or ""),
                "payment_id": str(payment.id),
                "desk": self._ctx.desk_name,
                "boxoffice_instance": instance_id(session, now),
            }
            description = (
                f"Order {order.reference} (terminal) for {conference.name}"
                if terminal
                else f"Order {order.reference} for {conference.name}"
            )
            # A keyed request is re-sent exactly as first sent, from whichever desk: Stripe refuses
            # the same key with other parameters (another desk's name, a customer made meanwhile).
            stored = _stored_request(payment.stripe_request)
            if not stored:
                stored = {"metadata": metadata, "description": description, "customer": customer, "keys": {}}
                payment.stripe_request = json.dumps(stored, sort_keys=True)
            keys = stored.get("keys")
            return _Attempt(
                payment.id,
                payment.idempotency_key or "",
                payment.amount,
                conference.currency,
                payment.stripe_payment_intent_id,
                detail.reader_id if detail else "",
                payment.reference if not terminal else "",
                {str(k): str(v) for k, v in (stored.get("metadata") or metadata).items()},
                str(stored.get("description") or description),
                stored.get("customer") or None,
                {str(k): str(v) for k, v in keys.items()} if isinstance(keys, dict) else {},
            )

    def _rotate(self, payment_id: int, purpose: str) -> _Attempt:
        """A new idempotency key for one request of the attempt (the old one only replays a failure)."""
        self._attempt(payment_id)  # the stored request exists from here on
        with self._ctx.db.write() as session:
            payment = self._payment(session, payment_id, lock=True)
            stored = _stored_request(payment.stripe_request)
            keys = stored.setdefault("keys", {})
            turn = int(stored.get("turn", 0)) + 1
            stored["turn"] = turn
            keys[purpose] = f"{payment.idempotency_key}-{purpose}-r{turn}"
            payment.stripe_request = json.dumps(stored, sort_keys=True)
            log.warning("card attempt #%d: new idempotency key for %s (%s)", payment_id, purpose, keys[purpose])
        return self._attempt(payment_id)

    def _keyed(
        self, payment_id: int, purpose: str, send: Callable[[str], T], settled: Callable[[], T | None]
    ) -> T:
        """Send one keyed request; when Stripe only replays a saved failure under its key (a 5xx,
        another request's parameters), look the outcome up (``settled``), else retry under a new key."""
        attempt = self._attempt(payment_id)
        for _ in range(2):
            try:
                return send(attempt.key_for(purpose))
            except GatewayKeySpent:
                done = settled()
                if done is not None:
                    return done
                attempt = self._rotate(payment_id, purpose)
        raise GatewayUnavailable(STILL_FAILING)

    def _create_intent(self, payment_id: int) -> GatewayIntent:
        """The attempt's PaymentIntent: created under its key, or found on Stripe when a saved
        failure hides whether the first request made one (never two live intents for one attempt)."""
        gw = self._gw()
        attempt = self._attempt(payment_id)
        return self._keyed(
            payment_id,
            "create",
            lambda key: gw.create_payment_intent(
                amount=attempt.amount,
                currency=attempt.currency,
                idempotency_key=key,
                metadata=attempt.metadata,
                description=attempt.description,
                card_present=True,
                customer=attempt.customer,
            ),
            lambda: gw.find_payment_intent(
                payment_id=str(payment_id), instance=attempt.metadata["boxoffice_instance"]
            ),
        )

    def _store_intent(self, payment_id: int, intent_id: str) -> None:
        with self._ctx.db.write() as session:
            payment = self._payment(session, payment_id, lock=True)
            payment.stripe_payment_intent_id = intent_id
            detail = self._detail(session, payment)
            if detail is not None:
                detail.payment_intent_id = intent_id

    def _record_success(self, payment_id: int, intent: GatewayIntent) -> CardAttemptView:
        """TRM-6 [FIX]: payment succeeded with card details; the order settles only when fully paid."""
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            payment = self._payment(session, payment_id, lock=True)
            order = session.get(Order, payment.order_id, with_for_update=True)
            assert order is not None
            if payment.status != PaymentStatus.SUCCEEDED:
                payment.status = PaymentStatus.SUCCEEDED
                payment.amount = intent.amount
                payment.stripe_payment_intent_id = intent.id
                payment.stripe_charge_id = intent.latest_charge or payment.stripe_charge_id
                payment.card_brand, payment.card_last4 = intent.card_brand, intent.card_last4[:4]
                payment.failure_reason = ""
                detail = self._detail(session, payment)
                if detail is not None:
                    detail.capture_status, detail.captured_at = CaptureStatus.CAPTURED, now
                    detail.card_brand, detail.card_last4 = intent.card_brand, intent.card_last4[:4]
                    detail.receipt_url = intent.receipt_url
                session.flush()
                if order.status == OrderStatus.PENDING:
                    if order_state.retake_lapsed_hold(session, order, now):  # DEC-14: money is in
                        if order_state.OVERSOLD_NOTE not in order.needs_attention:
                            order.needs_attention = (order.needs_attention + "\n" + order_state.OVERSOLD_NOTE).strip()
                    else:
                        order_state.settle_if_fully_paid(session, order)
                else:
                    order.needs_attention = (
                        order.needs_attention + "\nCard money received for an order that "
                        f"is {order.status.value}: refund it."
                    ).strip()
            return self._view(session, payment)

    def _stock_gone(self, payment_id: int) -> str:
        """DEC-14 before a capture: the order's lapsed hold is taken back, or what is missing."""
        with self._ctx.db.write() as session:
            payment = self._payment(session, payment_id)
            order = session.get(Order, payment.order_id, with_for_update=True)
            assert order is not None
            return order_state.retake_lapsed_hold(session, order, self._ctx.clock.now())

    def _fail(
        self, payment_id: int, reason: str, capture: CaptureStatus = CaptureStatus.FAILED
    ) -> CardAttemptView:
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            payment = self._payment(session, payment_id, lock=True)
            if payment.status in IN_FLIGHT:
                payment.status = PaymentStatus.FAILED
                payment.failure_reason = reason
                detail = self._detail(session, payment)
                if detail is not None and detail.capture_status == CaptureStatus.AUTHORIZED:
                    detail.capture_status = capture
                    if capture == CaptureStatus.CANCELLED:
                        detail.cancelled_at = now
            return self._view(session, payment)

    def _cancel_intent_quietly(self, attempt: _Attempt, intent_id: str) -> None:
        try:
            self._gw().cancel_payment_intent(
                intent_id, currency=attempt.currency, idempotency_key=attempt.key_for("cancel")
            )
        except UserError as exc:
            log.warning("could not cancel %s after a failure: %s", intent_id, exc.message)

    def _view(self, session: Session, payment: Payment) -> CardAttemptView:
        order = payment.order
        detail = self._detail(session, payment)
        return CardAttemptView(
            payment_id=payment.id,
            order_id=order.id,
            reference=order.reference,
            method=payment.method.value,
            status=payment.status.value,
            amount=payment.amount,
            currency=order.conference.currency,
            payment_intent_id=payment.stripe_payment_intent_id,
            reader_id=detail.reader_id if detail else "",
            checkout_session_id=payment.reference if payment.method == PaymentMethod.STRIPE else "",
            checkout_url="",
            card_brand=payment.card_brand,
            card_last4=payment.card_last4,
            failure_reason=payment.failure_reason,
            order_status=order.status.value,
            paid_in_full=order.status != OrderStatus.PENDING
            or order_state.outstanding_balance(session, order) <= 0,
        )
