"""A run that handles a Stripe key, a webhook secret and card details leaves no trace of them in the log files.

Real code paths at DEBUG: the key loaded from the environment into the Stripe gateway, the gateway
creating a payment intent, the stripe library's own logger posting card details, an exception that
carries a card number; then every rotated log file on disk is read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import stripe

from boxoffice.app import stripe_gateway_from_environment
from boxoffice.errors import PaymentDeclined
from boxoffice.logging_setup import LOG_FILE_NAME, configure_logging
from boxoffice.stripe_sync import keys
from tests.fakes.fake_stripe import FakeStripe

KEY_BODY = "51ScrubTestXyZaBcDeFgHiJkLmNo"
KEY = "sk_test_" + KEY_BODY
WEBHOOK_SECRET = "whsec_" + "ScrubTestWebhookSecret9876"
CARD_DIGITS = "4000056655665556"
CARD_SPACED = "4000 0566 5566 5556"
CVC = "737"


@pytest.fixture
def log_dir(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    level = root.level
    directory = tmp_path / "logs"
    configure_logging(level=logging.DEBUG, log_dir=directory, max_bytes=3000, backup_count=50)
    yield directory
    for handler in [h for h in root.handlers if getattr(h, "_boxoffice", False)]:
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    server = FakeStripe(api_keys=(KEY,)).start()
    yield server
    server.stop()


def _charge_and_fail(card: str) -> None:
    raise PaymentDeclined(f"The card {card} was declined (cvc={CVC}); ask for another card.")


def test_keys_and_card_details_never_reach_the_rotated_log_files(
        log_dir: Path, fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> None:
    log = logging.getLogger("boxoffice.selftest.scrub")
    monkeypatch.setenv(keys.SECRET_KEY_ENV, KEY)

    # The desk's own path: key from the environment, gateway logged on start, a payment intent created.
    gateway, why_off = stripe_gateway_from_environment(settings_api_base=fake.url)
    assert gateway is not None, why_off
    intent = gateway.create_payment_intent(amount=Decimal("90.00"), currency="USD", idempotency_key="scrub-1",
                                           metadata={"order": "PD27-SCRUB"}, description="Scrub test")
    assert intent.id

    # The stripe library's own debug logging of a request carrying card details (form-encoded).
    client = stripe.StripeClient(KEY, base_addresses={"api": fake.url}, max_network_retries=0)
    try:
        client.v1.payment_methods.create(params={  # type: ignore[typeddict-item]
            "type": "card", "card": {"number": CARD_DIGITS, "cvc": CVC, "exp_month": 12, "exp_year": 2031}})
    except stripe.StripeError as exc:
        log.warning("card tokenisation refused: %s", exc)

    # Careless messages a developer might write: the headers, a webhook secret, a card in a traceback.
    log.debug("request headers %s", {"Authorization": f"Bearer {KEY}", "Stripe-Version": "2024-12-18"})
    log.info("webhook endpoint secret %s loaded", WEBHOOK_SECRET)
    log.debug("secret key from %s: %s", keys.SECRET_KEY_ENV, keys.load_secret_key())
    log.debug('payload {"card": {"number": "%s", "cvc": "%s"}}', CARD_SPACED, CVC)
    try:
        _charge_and_fail(CARD_SPACED)
    except PaymentDeclined:
        log.exception("card payment failed")
    for n in range(40):  # enough ordinary lines to rotate the file several times
        log.info("order PD27-%04d paid 90.00 by cash", n)

    for handler in logging.getLogger().handlers:
        handler.flush()
    files = sorted(log_dir.glob(f"{LOG_FILE_NAME}*"))
    assert len(files) > 2, "the log should have rotated"
    text = "\n".join(path.read_text(encoding="utf-8") for path in files)

    # The code paths really ran and were logged ...
    assert "Post details" in text and "card payments on" in text and "Request to Stripe api" in text
    assert "card payment failed" in text and "Traceback" in text and "PaymentDeclined" in text
    assert "[card number removed]" in text and "sk_test_***" in text and "whsec_***" in text
    assert "Bearer [redacted]" in text and "card[number]=[card number removed]&card[cvc]=[redacted]" in text
    # ... and nothing secret survived in any file.
    for secret in (KEY, KEY_BODY, KEY_BODY[:12], WEBHOOK_SECRET[6:], CARD_DIGITS, CARD_SPACED,
                   f"cvc={CVC}", f'"cvc": "{CVC}"', f"cvc%5D={CVC}", f"Bearer {KEY[:12]}"):
        assert secret not in text, secret
