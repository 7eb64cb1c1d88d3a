"""Against localstripe (a Stripe-like server: oldest-first lists, no ``types``): intents, refunds, events."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import stripe

from boxoffice.domain.models import Order, OrderStatus, Payment, PaymentMethod, PaymentStatus
from boxoffice.services.context import ServiceContext
from boxoffice.stripe_sync.gateway import StripeGateway
from boxoffice.stripe_sync.poller import Poller

KEY = "sk_test_localstripe_1234"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    exe = Path(sys.executable).with_name("localstripe")
    if not exe.exists():
        pytest.skip("localstripe is not installed (pip install -e '.[test]')")
    port = _free_port()
    proc = subprocess.Popen(
        [str(exe), "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(url + "/v1/events", timeout=1)
            break
        except urllib.error.HTTPError:
            break  # it answers (401 without a key): up
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("localstripe did not start")
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def ls_gateway(localstripe_url: str) -> StripeGateway:
    return StripeGateway(KEY, api_base=localstripe_url, backoff=0.001, sleep=lambda s: None)


def _browser_confirms(url: str, intent_id: str, number: str) -> None:
    """What the buyer's browser (Stripe.js) would do: attach a card and confirm the intent."""
    client = stripe.StripeClient(KEY, base_addresses={"api": url})
    pm = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    try:
        # localstripe confirms only a payment method already on the intent
        client.v1.payment_intents.update(intent_id, params={"payment_method": pm.id})
        client.v1.payment_intents.confirm(intent_id)
    except stripe.CardError:
        pass


def _card_attempt(db, order_id: int, intent_id: str, amount: Decimal) -> int:
    with db.write() as s:
        payment = Payment(
            order_id=order_id,
            method=PaymentMethod.STRIPE,
            status=PaymentStatus.PENDING,
            amount=amount,
            stripe_payment_intent_id=intent_id,
            idempotency_key=f"ls-{intent_id}",
        )
        s.add(payment)
        s.flush()
        return payment.id


def _metadata(order, db) -> dict[str, str]:
    """As the card service tags its intents: localstripe is shared by every test (each its own database)."""
    from boxoffice.services.money.card_payments import instance_id
    from boxoffice.timeutil import SystemClock

    with db.write() as s:
        instance = instance_id(s, SystemClock().now())
    return {"order_id": str(order.id), "reference": order.reference, "boxoffice_instance": instance}


def _online_intent(gateway: Any, order: Any, db: Any) -> Any:
    """A $100 online (not card-present) PaymentIntent for ``order``; localstripe refuses descriptions."""
    return gateway.create_payment_intent(
        amount=Decimal("100.00"),
        currency="USD",
        card_present=False,
        idempotency_key=f"pi-{order.reference}",
        metadata=_metadata(order, db),
        description="",
    )


def test_evt5_online_intent_succeeds_and_sync_pays_the_order(
    ls_gateway, localstripe_url, make_order, ctx: ServiceContext, db
):
    order = make_order(1)
    intent = _online_intent(ls_gateway, order, db)
    assert intent.status == "requires_payment_method" and intent.amount == Decimal("100.00")
    payment_id = _card_attempt(db, order.id, intent.id, Decimal("100.00"))
    _browser_confirms(localstripe_url, intent.id, "4242424242424242")
    report = Poller(ctx, ls_gateway, page_size=5).poll_once()  # oldest-first pages, no ``types`` support
    assert report.online and report.failed == 0 and report.processed >= 1
    with db.read() as s:
        assert s.get(Payment, payment_id).status == PaymentStatus.SUCCEEDED
        assert s.get(Order, order.id).status == OrderStatus.PAID
        assert s.query(Payment).filter_by(order_id=order.id).count() == 1


def test_evt6_declined_card_fails_the_attempt_with_reason(ls_gateway, localstripe_url, make_order, ctx, db):
    order = make_order(1)
    intent = _online_intent(ls_gateway, order, db)
    payment_id = _card_attempt(db, order.id, intent.id, Decimal("100.00"))
    _browser_confirms(localstripe_url, intent.id, "4000000000000341")  # localstripe: declined when charged
    Poller(ctx, ls_gateway).poll_once()
    with db.read() as s:
        payment = s.get(Payment, payment_id)
        assert payment.status == PaymentStatus.FAILED and payment.failure_reason
        assert s.get(Order, order.id).status == OrderStatus.PENDING


def test_refund_card_partials_with_distinct_keys(ls_gateway, localstripe_url, make_order, db):
    from boxoffice.errors import PaymentError

    order = make_order(1)
    intent = _online_intent(ls_gateway, order, db)
    _browser_confirms(localstripe_url, intent.id, "4242424242424242")
    refund = ls_gateway.refund_card(
        payment_intent_id=intent.id,
        amount=Decimal("30.50"),
        currency="USD",
        reason="",
        idempotency_key=f"r-{intent.id}-1",
    )
    assert refund.refund_id.startswith("re_") and refund.amount == Decimal("30.50")
    again = ls_gateway.refund_card(
        payment_intent_id=intent.id,
        amount=Decimal("30.50"),
        currency="USD",
        reason="",
        idempotency_key=f"r-{intent.id}-2",
    )
    assert again.refund_id != refund.refund_id  # STR-5 [FIX]: equal partial refunds, distinct keys
    with pytest.raises(PaymentError, match="no Stripe PaymentIntent"):
        ls_gateway.refund_card(
            payment_intent_id="", amount=Decimal("1.00"), currency="USD", reason="", idempotency_key="r-none"
        )


def test_sk_key_is_masked_and_never_in_repr(ls_gateway):
    assert ls_gateway.masked_key == "****1234" and KEY not in repr(ls_gateway)
    assert isinstance(ls_gateway.list_events_page(created_gte=0, starting_after=None, limit=1).events, list)
