"""Apply one stored Stripe event to the local records (EVT-4..10 with their fixes); safe to re-run."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from boxoffice.domain.models import (
    CaptureStatus,
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
    TerminalPayment,
)
from boxoffice.money import format_money, from_minor_units
from boxoffice.services.money.refunds import apply_refund_status, record_gateway_outcome
from boxoffice.services.sales import order_state

log = logging.getLogger(__name__)

SEEN_ON_CHARGE = "Refunded outside Box Office (Stripe shows "
Handler = Callable[[Session, dict[str, Any], "HandlerContext"], bool]


RefundLister = Callable[[str], list[dict[str, Any]]]


class HandlerContext:
    """What a handler needs besides the session: this database's instance id, the time, and a way to
    read a charge's refunds from Stripe (event bodies since API version 2022-11-15 carry none)."""

    def __init__(
        self, instance: str, now: datetime, event: dict[str, Any], refunds_of: RefundLister | None = None
    ) -> None:
        self.instance, self.now, self.event, self.refunds_of = instance, now, event, refunds_of


def event_object(payload: Any) -> dict[str, Any]:
    """EVT-4: ``data.object``, or an empty object when any level is missing or not an object."""
    data = payload.get("data") if isinstance(payload, dict) else None
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}


def event_problem(payload: Any) -> str:
    """Why a stored event cannot be applied (the reason the Sync screen shows), or "" when it can."""
    if not isinstance(payload, dict):
        return "The event is not a JSON object."
    if payload.get("boxoffice_problem"):
        return str(payload["boxoffice_problem"])
    created = payload.get("created")
    if not isinstance(created, int) or isinstance(created, bool) or created < 0:
        return f"The event's time ('created') is not a Stripe time: {created!r:.60}."
    if not isinstance(payload.get("type"), str):
        return f"The event's type is not text: {payload.get('type')!r:.60}."
    data = payload.get("data")
    if not isinstance(data, dict):
        return f"The event's data is not an object: {data!r:.60}."
    if data.get("object") is not None and not isinstance(data["object"], dict):
        return f"The event's data.object is not an object: {data['object']!r:.60}."
    return ""


def _s(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else ""


def _metadata(obj: dict[str, Any]) -> dict[str, str]:
    meta = obj.get("metadata")
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}


def _foreign(meta: dict[str, str], ctx: HandlerContext) -> bool:
    """This database did not create the object: another Box Office database on the same Stripe
    account, or anything made elsewhere (the dashboard, another integration) that names an order."""
    return meta.get("boxoffice_instance", "") != ctx.instance


def _amount(obj: dict[str, Any], field: str) -> Decimal:
    return from_minor_units(int(obj.get(field) or 0), _s(obj.get("currency")) or "usd")


def _find_card_payment(session: Session, intent_id: str, meta: dict[str, str]) -> Payment | None:
    """The local attempt: by the payment id we put in the metadata, else by the intent id."""
    local_id = meta.get("payment_id", "")
    if local_id.isdigit():
        payment = session.get(Payment, int(local_id), with_for_update=True)
        if payment is not None and (not meta.get("order_id") or str(payment.order_id) == meta["order_id"]):
            return payment
    if not intent_id:
        return None
    return session.scalar(
        select(Payment)
        .where(Payment.stripe_payment_intent_id == intent_id)
        .order_by(Payment.id)
        .limit(1)
        .with_for_update()
    )


def _terminal_detail(session: Session, payment: Payment) -> TerminalPayment | None:
    return session.scalar(select(TerminalPayment).where(TerminalPayment.payment_id == payment.id))


def _attention(order: Order, text: str) -> None:
    if text not in order.needs_attention:
        order.needs_attention = (order.needs_attention + "\n" + text).strip()


# --------------------------------------------------------------------------- PaymentIntents


def record_intent_success(session: Session, intent: dict[str, Any], ctx: HandlerContext) -> bool:
    """EVT-5 with its [FIX]: update the pending attempt (never a second payment), settle only when due."""
    meta = _metadata(intent)
    order_id = meta.get("order_id", "")
    if not order_id or _foreign(meta, ctx):
        return False
    if not order_id.isdigit():
        raise ValueError(f"metadata.order_id {order_id!r} of {intent.get('id')} is not an order id")
    order = session.get(Order, int(order_id), with_for_update=True)
    if order is None:
        raise LookupError(f"order {order_id} named by {intent.get('id')} does not exist in this database")
    if meta.get("reference") and meta["reference"] != order.reference:
        return False  # same id, different order: not ours
    intent_id = _s(intent.get("id"))
    amount = _amount(intent, "amount_received") or _amount(intent, "amount")
    charge = _s(intent.get("latest_charge"))
    payment = _find_card_payment(session, intent_id, meta)
    if payment is not None and (
        payment.order_id != order.id
        or payment.method not in (PaymentMethod.STRIPE, PaymentMethod.TERMINAL)
        or (payment.stripe_payment_intent_id and intent_id and payment.stripe_payment_intent_id != intent_id)
    ):
        payment = None
    if payment is None:
        # Only the attempts this database made may pay its orders: an intent that names an order but
        # has no local attempt was made elsewhere. It stays stored; a lead can look at it.
        log.warning("payment intent %s names order %s but no local card attempt: ignored", intent_id, order_id)
        return False
    if payment.status == PaymentStatus.SUCCEEDED:
        return True  # EVT-5 / TRM-8: already recorded (e.g. by the Terminal capture)
    if payment.status == PaymentStatus.REFUNDED:
        return True
    payment.status = PaymentStatus.SUCCEEDED
    payment.amount = amount
    payment.stripe_payment_intent_id = intent_id
    if charge:
        payment.stripe_charge_id = charge
    payment.failure_reason = ""
    session.flush()
    detail = _terminal_detail(session, payment)
    if detail is not None and detail.capture_status != CaptureStatus.CAPTURED:
        detail.capture_status, detail.captured_at = CaptureStatus.CAPTURED, ctx.now  # TRM-8 [DESK]
    currency = order.conference.currency
    if order.status == OrderStatus.PENDING and order_state.retake_lapsed_hold(session, order, ctx.now):
        # DEC-14: the money is in, the stock is gone: recorded, the order waits for a lead.
        _attention(order, order_state.OVERSOLD_NOTE)
        log.warning("order %s: card money after its hold lapsed and its stock sold", order.reference)
    elif order.status == OrderStatus.PENDING:
        if not order_state.settle_if_fully_paid(session, order):
            log.info("order %s: card payment %s recorded, balance still due", order.reference, amount)
    else:  # new money on a settled, cancelled or refunded order: never revive it, alert staff
        _attention(
            order,
            f"Card money received ({format_money(amount, currency)}, {intent_id}) for an order "
            f"that is {order.status.value}: refund it or contact the buyer.",
        )
        log.warning("money received for %s order %s (%s)", order.status.value, order.reference, intent_id)
    return True


def _mark_attempt_failed(
    session: Session, intent: dict[str, Any], ctx: HandlerContext, reason: str, capture: CaptureStatus
) -> bool:
    meta = _metadata(intent)
    if not meta.get("order_id") or _foreign(meta, ctx):
        return False
    payment = _find_card_payment(session, _s(intent.get("id")), meta)
    if payment is None:
        log.warning("no local payment for %s (%s)", intent.get("id"), reason)
        return False
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):  # EVT-7: never downgrade
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = reason
        detail = _terminal_detail(session, payment)
        if detail is not None and detail.capture_status == CaptureStatus.AUTHORIZED:
            detail.capture_status = capture
            if capture == CaptureStatus.CANCELLED:
                detail.cancelled_at = ctx.now
    return True


def on_payment_intent_succeeded(session: Session, obj: dict[str, Any], ctx: HandlerContext) -> bool:
    return record_intent_success(session, obj, ctx)


def on_payment_intent_failed(session: Session, obj: dict[str, Any], ctx: HandlerContext) -> bool:
    """EVT-6 [DESK]: the decline reason is kept on the attempt so the desk can show it."""
    error = obj.get("last_payment_error")
    reason = _s(error.get("message")) if isinstance(error, dict) else ""
    return _mark_attempt_failed(session, obj, ctx, reason or "The payment failed.", CaptureStatus.FAILED)


def on_payment_intent_canceled(session: Session, obj: dict[str, Any], ctx: HandlerContext) -> bool:
    return _mark_attempt_failed(session, obj, ctx, "The payment was cancelled.", CaptureStatus.CANCELLED)


def on_payment_intent_requires_action(session: Session, obj: dict[str, Any], ctx: HandlerContext) -> bool:
    meta = _metadata(obj)
    if not meta.get("order_id") or _foreign(meta, ctx):
        return False
    payment = _find_card_payment(session, _s(obj.get("id")), meta)
    if payment is None:
        return False
    if payment.status == PaymentStatus.PENDING:
        payment.failure_reason = "The card needs an extra step (authentication) from the buyer."
    return True


# --------------------------------------------------------------------------- refunds and disputes


def _local_refund(session: Session, refund: dict[str, Any], ctx: HandlerContext) -> Refund | None:
    refund_id = _s(refund.get("id"))
    found = session.scalar(select(Refund).where(Refund.stripe_refund_id == refund_id)) if refund_id else None
    if found is not None:
        return found
    keys = {_metadata(refund).get("boxoffice_idempotency_key", "")}
    request = ctx.event.get("request")
    if isinstance(request, dict):
        keys.add(_s(request.get("idempotency_key")))
    keys.discard("")
    if not keys:
        return None
    return session.scalar(select(Refund).where(Refund.idempotency_key.in_(keys)))


def apply_refund_object(session: Session, refund: dict[str, Any], ctx: HandlerContext) -> bool:
    """Match a Stripe refund to its local row, or record a refund made outside Box Office (EVT-8 c)."""
    status = _s(refund.get("status"))
    local = _local_refund(session, refund, ctx)
    if local is not None:
        record_gateway_outcome(session, local.id, status, _s(refund.get("id")))
        return True
    intent_id = _s(refund.get("payment_intent"))
    if not intent_id:
        return False  # EVT-8 (a): no intent, nothing of ours to match
    payment = _find_card_payment(session, intent_id, {})
    if payment is None:
        return False
    if status not in ("succeeded", "pending"):
        return True
    amount = _amount(refund, "amount")
    placeholder = session.scalar(
        select(Refund).where(
            Refund.payment_id == payment.id,
            Refund.method == RefundMethod.CARD,
            Refund.stripe_refund_id == "",
            Refund.idempotency_key.is_(None),
            Refund.reason.startswith(SEEN_ON_CHARGE),
            Refund.amount >= amount,
        ).order_by(Refund.id).limit(1)
    )
    if placeholder is not None:
        # Recorded earlier from the charge's refunded amount alone: this is (part of) that money.
        if placeholder.amount == amount:
            placeholder.stripe_refund_id = _s(refund.get("id"))
            return True
        placeholder.amount -= amount
    outside = Refund(
        order_id=payment.order_id,
        payment_id=payment.id,
        amount=amount,
        method=RefundMethod.CARD,
        status=RefundStatus.SUCCEEDED if status == "succeeded" else RefundStatus.PENDING,
        stripe_refund_id=_s(refund.get("id")),
        reason="Refunded outside Box Office (Stripe dashboard)",
        created_at=ctx.now,
    )
    session.add(outside)
    session.flush()
    order = session.get(Order, payment.order_id, with_for_update=True)
    assert order is not None
    apply_refund_status(session, order)
    return True


def on_refund_event(session: Session, obj: dict[str, Any], ctx: HandlerContext) -> bool:
    return apply_refund_object(session, obj, ctx)


def _reconcile_refunded_amount(
    session: Session, charge: dict[str, Any], payment: Payment, ctx: HandlerContext
) -> None:
    """EVT-8 (c): the charge's ``amount_refunded`` is the truth whatever the event shape; money
    refunded on Stripe that no local refund accounts for is recorded as refunded outside Box Office
    (never the other way: a smaller figure from an older event changes nothing)."""
    if "amount_refunded" not in charge:
        return
    refunded = _amount(charge, "amount_refunded")
    session.flush()
    local = sum(
        (r.amount for r in session.scalars(
            select(Refund).where(
                Refund.payment_id == payment.id,
                Refund.method == RefundMethod.CARD,
                Refund.status.in_((RefundStatus.SUCCEEDED, RefundStatus.PENDING)),
            )
        )),
        Decimal(0),
    )
    missing = min(refunded, payment.amount) - local
    if missing <= 0:
        return
    session.add(
        Refund(
            order_id=payment.order_id,
            payment_id=payment.id,
            amount=missing,
            method=RefundMethod.CARD,
            status=RefundStatus.SUCCEEDED,
            stripe_refund_id="",
            reason=f"{SEEN_ON_CHARGE}{format_money(refunded, _s(charge.get('currency')).upper() or 'USD')} "
            f"refunded on {_s(charge.get('id'))})",
            created_at=ctx.now,
        )
    )
    session.flush()
    log.warning("charge %s: %s refunded on Stripe without a local refund", charge.get("id"), missing)


def on_charge_refunded(session: Session, charge: dict[str, Any], ctx: HandlerContext) -> bool:
    """EVT-8 with fixes (a)-(d): refunds reconciled one by one; statuses from succeeded refunds only."""
    intent_id = _s(charge.get("payment_intent"))
    if not intent_id:
        return False
    payment = _find_card_payment(session, intent_id, {})
    if payment is None:
        return False
    refunds = charge.get("refunds")
    listed = refunds.get("data") if isinstance(refunds, dict) else None
    if not isinstance(listed, list) and ctx.refunds_of is not None and _s(charge.get("id")):
        # Event bodies follow the account's API version at the event's creation: since 2022-11-15 a
        # charge carries no refunds list, and before 2024-10-28 no refund.* event comes for it.
        listed = ctx.refunds_of(_s(charge.get("id")))
    for refund in listed or []:
        if isinstance(refund, dict):
            apply_refund_object(session, refund, ctx)
    _reconcile_refunded_amount(session, charge, payment, ctx)
    if (charge.get("refunded") and _amount(charge, "amount_refunded") >= _amount(charge, "amount")
            and payment.status == PaymentStatus.SUCCEEDED):
        payment.status = PaymentStatus.REFUNDED
    order = session.get(Order, payment.order_id, with_for_update=True)
    assert order is not None
    apply_refund_status(session, order)  # (b) never back from refunded; (d) order total decides
    return True


def _dispute_order(session: Session, dispute: dict[str, Any]) -> Order | None:
    charge_id, intent_id = _s(dispute.get("charge")), _s(dispute.get("payment_intent"))
    conditions = [Payment.stripe_charge_id == charge_id] if charge_id else []
    if intent_id:
        conditions.append(Payment.stripe_payment_intent_id == intent_id)
    if not conditions:
        return None
    payment = session.scalar(select(Payment).where(or_(*conditions)).limit(1))
    return session.get(Order, payment.order_id, with_for_update=True) if payment is not None else None


def on_dispute_created(session: Session, dispute: dict[str, Any], ctx: HandlerContext) -> bool:
    """EVT-9 [DESK]: flag the order for staff."""
    order = _dispute_order(session, dispute)
    if order is None:
        return False
    order.disputed = True
    _attention(
        order,
        f"The buyer disputed the card payment ({_s(dispute.get('reason')) or 'no reason given'}, "
        f"{format_money(_amount(dispute, 'amount'), order.conference.currency)}): answer it "
        "in the Stripe dashboard.",
    )
    log.warning("dispute %s on order %s", dispute.get("id"), order.reference)
    return True


def on_dispute_closed(session: Session, dispute: dict[str, Any], ctx: HandlerContext) -> bool:
    order = _dispute_order(session, dispute)
    if order is None:
        return False
    order.disputed = False
    _attention(order, f"Dispute {_s(dispute.get('id'))} closed: {_s(dispute.get('status'))}.")
    return True


# --------------------------------------------------------------------------- Checkout Sessions and readers


def _session_payment(session: Session, cs: dict[str, Any], ctx: HandlerContext) -> Payment | None:
    """The local attempt of a Checkout Session: one this database made (its instance id and the
    attempt in the metadata), or the attempt that stored the session's id."""
    meta = _metadata(cs)
    payment = None if _foreign(meta, ctx) else _find_card_payment(session, "", meta)
    if payment is not None and payment.method != PaymentMethod.STRIPE:
        payment = None
    if payment is None and cs.get("id"):
        payment = session.scalar(
            select(Payment)
            .where(Payment.method == PaymentMethod.STRIPE, Payment.reference == _s(cs.get("id")))
            .with_for_update()
        )
    return payment


def on_checkout_paid(session: Session, cs: dict[str, Any], ctx: HandlerContext) -> bool:
    """completed (paid) / async_payment_succeeded: the attempt succeeds and the order settles if due."""
    payment = _session_payment(session, cs, ctx)
    if payment is None:
        return False
    intent_id = _s(cs.get("payment_intent"))
    if intent_id and not payment.stripe_payment_intent_id:
        payment.stripe_payment_intent_id = intent_id
    if cs.get("payment_status") != "paid":
        if payment.status == PaymentStatus.PENDING:
            payment.status = PaymentStatus.PROCESSING  # async method: money not there yet
        return True
    fake_intent = {
        "id": intent_id,
        "amount": cs.get("amount_total"),
        "currency": cs.get("currency"),
        "metadata": {**_metadata(cs), "payment_id": str(payment.id), "order_id": str(payment.order_id),
                     "boxoffice_instance": ctx.instance, "reference": payment.order.reference},
    }
    return record_intent_success(session, fake_intent, ctx)


def on_checkout_failed(session: Session, cs: dict[str, Any], ctx: HandlerContext) -> bool:
    """expired / async_payment_failed: the attempt fails, the order stays pending for another method."""
    payment = _session_payment(session, cs, ctx)
    if payment is None:
        return False
    if payment.status in (PaymentStatus.PENDING, PaymentStatus.PROCESSING):
        payment.status = PaymentStatus.FAILED
        payment.failure_reason = (
            "The pay-on-phone link expired."
            if cs.get("status") == "expired"
            else "The buyer's payment failed."
        )
    return True


def on_reader_action(session: Session, reader: dict[str, Any], ctx: HandlerContext) -> bool:
    """terminal.reader.action_*: a failure is recorded on the attempt (TRM-11); success waits for capture."""
    raw_action = reader.get("action")
    action: dict[str, Any] = raw_action if isinstance(raw_action, dict) else {}
    process = action.get("process_payment_intent")
    intent_id = _s(process.get("payment_intent")) if isinstance(process, dict) else ""
    if not intent_id:
        return False
    payment = _find_card_payment(session, intent_id, {})
    if payment is None:
        return False
    if action.get("status") == "failed" and payment.status == PaymentStatus.PENDING:
        payment.failure_reason = _s(action.get("failure_message")) or "The card reader reported a failure."
    return True


HANDLERS: dict[str, Handler] = {
    "payment_intent.succeeded": on_payment_intent_succeeded,
    "payment_intent.payment_failed": on_payment_intent_failed,
    "payment_intent.canceled": on_payment_intent_canceled,
    "payment_intent.requires_action": on_payment_intent_requires_action,
    "charge.refunded": on_charge_refunded,
    "refund.created": on_refund_event,
    "refund.updated": on_refund_event,
    "refund.failed": on_refund_event,
    "charge.dispute.created": on_dispute_created,
    "charge.dispute.closed": on_dispute_closed,
    "checkout.session.completed": on_checkout_paid,
    "checkout.session.async_payment_succeeded": on_checkout_paid,
    "checkout.session.expired": on_checkout_failed,
    "checkout.session.async_payment_failed": on_checkout_failed,
    "terminal.reader.action_succeeded": on_reader_action,
    "terminal.reader.action_failed": on_reader_action,
}
HANDLED_TYPES: tuple[str, ...] = tuple(HANDLERS)


def apply_event(session: Session, payload: dict[str, Any], ctx: HandlerContext) -> bool:
    """Run the handler of the event's type; False when the event is not about our objects (ignored)."""
    handler = HANDLERS.get(_s(payload.get("type")))
    if handler is None:
        return False  # EVT-12: unknown kinds are marked processed with no effect
    return handler(session, event_object(payload), ctx)


__all__ = [
    "HANDLED_TYPES",
    "HANDLERS",
    "HandlerContext",
    "apply_event",
    "event_object",
    "event_problem",
    "not_ours",
    "record_intent_success",
]


def _intent_ref(kind: str, obj: dict[str, Any]) -> str:
    """The PaymentIntent an event of these kinds hinges on (charge, dispute, reader action)."""
    if kind.startswith("terminal.reader."):
        action = obj.get("action") if isinstance(obj.get("action"), dict) else {}
        process = action.get("process_payment_intent") if isinstance(action, dict) else None
        return _s(process.get("payment_intent")) if isinstance(process, dict) else ""
    return _s(obj.get("payment_intent"))


def not_ours(session: Session, events: list[tuple[int, dict[str, Any]]], instance: str) -> set[int]:
    """The ids among ``events`` whose handler would certainly find nothing of ours (a catch-up is mostly
    other people's events): decided with one query per batch instead of one transaction per event.
    Anything not certain is left to its handler.
    """
    ctx = HandlerContext(instance, datetime.min, {})
    ignored: set[int] = set()
    lookups: list[tuple[int, str, str]] = []  # event id, intent id, charge id
    for event_id, payload in events:
        if event_problem(payload):
            continue  # left to the processing pass, which records why it fails
        kind = _s(payload.get("type"))
        obj = event_object(payload)
        if kind not in HANDLERS:
            ignored.add(event_id)
        elif kind.startswith("payment_intent."):
            meta = _metadata(obj)
            if not meta.get("order_id") or _foreign(meta, ctx):
                ignored.add(event_id)
        elif kind == "charge.refunded" or kind.startswith(("charge.dispute.", "terminal.reader.")):
            intent = _intent_ref(kind, obj)
            charge = _s(obj.get("charge")) if kind.startswith("charge.dispute.") else ""
            if not intent and not charge:
                ignored.add(event_id)
            else:
                lookups.append((event_id, intent, charge))
    if lookups:
        intents = {i for _, i, _ in lookups if i}
        charges = {c for _, _, c in lookups if c}
        known_intents = (
            set(
                session.scalars(
                    select(Payment.stripe_payment_intent_id).where(
                        Payment.stripe_payment_intent_id.in_(intents)
                    )
                )
            )
            if intents
            else set()
        )
        known_charges = (
            set(
                session.scalars(select(Payment.stripe_charge_id).where(Payment.stripe_charge_id.in_(charges)))
            )
            if charges
            else set()
        )
        for event_id, intent, charge in lookups:
            if intent not in known_intents and charge not in known_charges:
                ignored.add(event_id)
    return ignored
