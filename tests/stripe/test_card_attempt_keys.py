"""Card attempts under Stripe's idempotency rules: a saved 5xx, another desk's retry, a restricted key."""

from __future__ import annotations

import contextlib
import json

from boxoffice.domain.models import Payment, PaymentStatus
from boxoffice.errors import PaymentError
from boxoffice.services.context import ServiceContext
from boxoffice.services.money.card_payments import CardPaymentService


def _live_intents(fake, order_id):
    return [o for o in fake.objects.values() if o.get("object") == "payment_intent"
            and o["metadata"].get("order_id") == str(order_id) and o["status"] not in ("canceled",)]


def test_a_replayed_5xx_on_create_is_settled_with_one_live_intent(cards, fake, make_order):
    order = make_order(1)
    fake.add_fault("post", "/v1/payment_intents", status=500)  # saved under the key: replayed for 24 h
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    assert attempt.payment_intent_id and len(_live_intents(fake, order.id)) == 1
    keys = [k for m, p, k in fake.requests if m == "post" and p == "/v1/payment_intents"]
    assert len(set(keys)) == 2  # the spent key, then a new one


def test_a_5xx_after_stripe_made_the_intent_adopts_it(cards, fake, make_order, gateway, db):
    """Stripe made the intent but answered 500: the lookup finds it, no second intent is made."""
    order = make_order(1)
    fake.add_fault("post", "/v1/terminal/readers", status=500)  # the dispatch fails, saved
    with contextlib.suppress(PaymentError):  # whatever the first try says, resume settles it
        cards.start_terminal_payment(order.id, "tmr_desk1")
    attempt = cards.in_flight(order.id)
    assert attempt is not None
    resumed = cards.resume(attempt.payment_id)
    assert resumed.status == "pending" and len(_live_intents(fake, order.id)) == 1
    assert fake.objects["tmr_desk1"]["action"]["process_payment_intent"]["payment_intent"] == resumed.payment_intent_id


def test_cancel_after_a_replayed_5xx_cancels_and_frees_the_order(cards, fake, make_order):
    order = make_order(1)
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    fake.add_fault("post", f"/v1/payment_intents/{attempt.payment_intent_id}/cancel", status=500)
    cancelled = cards.cancel(attempt.payment_id)
    assert cancelled.status == "failed" and fake.objects[attempt.payment_intent_id]["status"] == "canceled"
    assert cards.start_terminal_payment(order.id, "tmr_desk2").status == "pending"


def test_resume_from_another_desk_resends_the_same_parameters(ctx, gateway, fake, make_order, db):
    order = make_order(1)
    fake.add_fault("post", "/v1/payment_intents", kind="drop")  # made, answer lost
    desk1 = CardPaymentService(ctx, gateway)
    with contextlib.suppress(PaymentError):  # the lost answer
        desk1.start_terminal_payment(order.id, "tmr_desk1")
    payment_id = desk1.in_flight(order.id).payment_id
    desk2 = CardPaymentService(ServiceContext(db=ctx.db, clock=ctx.clock, desk_name="Desk 2"), gateway)
    resumed = desk2.resume(payment_id)
    assert resumed.payment_intent_id and len(_live_intents(fake, order.id)) == 1
    assert fake.objects[resumed.payment_intent_id]["metadata"]["desk"] == ctx.desk_name
    with db.read() as s:
        stored = json.loads(s.get(Payment, payment_id).stripe_request)
    assert stored["metadata"]["desk"] == ctx.desk_name


def test_a_key_without_customers_write_still_takes_card_payments(cards, fake, make_order, db):
    fake.forbidden.add("/v1/customers")
    order = make_order(1, email="named@example.org")
    attempt = cards.start_terminal_payment(order.id, "tmr_desk1")
    assert attempt.status == "pending" and attempt.payment_intent_id
    fake.present_payment_method("tmr_desk1")
    assert cards.check_terminal_payment(attempt.payment_id).status == PaymentStatus.SUCCEEDED.value


def test_the_key_message_names_the_customers_permission(fake, gateway):
    import pytest

    from boxoffice.errors import ConfigError

    fake.forbidden.add("/v1/customers")
    with pytest.raises(ConfigError, match="Customers"):
        gateway.create_customer(email="a@b.c", name="A", metadata={}, idempotency_key="k1")
