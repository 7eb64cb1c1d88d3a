"""Ports the services call for the outside world; stripe_sync provides the Stripe implementation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from boxoffice.errors import PaymentError


class GatewayUnavailable(PaymentError):
    """Stripe could not be reached (network down, timeout, rate limit or Stripe error after retries).

    The local attempt is kept, so the same operation can be retried safely later.
    """


class GatewayRequestRefused(PaymentError):
    """Stripe answered 4xx for a reason other than a card decline (bad parameter, missing object)."""

    def __init__(self, message: str, *, code: str = "", param: str = "", status: int = 0) -> None:
        super().__init__(message)
        self.code, self.param, self.status = code, param, status


class GatewayKeySpent(GatewayUnavailable):
    """A keyed request failed in a way Stripe saved under its idempotency key (a 5xx it replays for a
    day, or a key first used with other parameters): sending it again with that key cannot succeed.
    The caller settles the attempt by looking the object up, or retries under a new key."""


@dataclass(frozen=True)
class GatewayRefund:
    refund_id: str
    status: str  # Stripe's refund status: pending, succeeded, failed, canceled
    amount: Decimal


@dataclass(frozen=True)
class GatewayIntent:
    id: str
    status: str  # requires_payment_method, requires_capture, processing, succeeded, canceled, ...
    amount: Decimal
    currency: str
    latest_charge: str = ""
    card_brand: str = ""
    card_last4: str = ""
    receipt_url: str = ""
    failure_message: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class GatewayReader:
    id: str
    label: str
    status: str  # online / offline
    device_type: str
    location: str
    serial_number: str
    action_type: str = ""
    action_status: str = ""  # in_progress, succeeded, failed, or "" when idle
    action_payment_intent: str = ""
    action_failure_message: str = ""


@dataclass(frozen=True)
class GatewaySession:
    id: str
    url: str
    status: str  # open, complete, expired
    payment_status: str  # paid, unpaid, no_payment_required
    payment_intent: str = ""
    expires_at: int = 0


@dataclass(frozen=True)
class EventPage:
    events: list[dict[str, Any]]
    has_more: bool


class PaymentGateway(Protocol):
    """Card money operations the services need. Implementations raise UserError subclasses."""

    def refund_card(
        self,
        *,
        payment_intent_id: str,
        amount: Decimal,
        currency: str,
        reason: str,
        idempotency_key: str,
    ) -> GatewayRefund: ...


class CardGateway(PaymentGateway, Protocol):
    """Everything card payments at the desk need: Terminal, Checkout Sessions, customers."""

    def create_payment_intent(
        self,
        *,
        amount: Decimal,
        currency: str,
        idempotency_key: str,
        metadata: dict[str, str],
        description: str,
        card_present: bool = True,
        customer: str | None = None,
    ) -> GatewayIntent: ...

    def retrieve_payment_intent(self, intent_id: str, *, currency: str) -> GatewayIntent: ...

    def find_payment_intent(self, *, payment_id: str, instance: str) -> GatewayIntent | None:
        """The newest intent this database made for local attempt ``payment_id``, if any."""
        ...

    def capture_payment_intent(
        self, intent_id: str, *, currency: str, idempotency_key: str
    ) -> GatewayIntent: ...

    def cancel_payment_intent(
        self, intent_id: str, *, currency: str, idempotency_key: str
    ) -> GatewayIntent: ...

    def list_readers(self, *, location: str | None = None) -> list[GatewayReader]: ...

    def retrieve_reader(self, reader_id: str) -> GatewayReader: ...

    def process_payment_intent(
        self, reader_id: str, intent_id: str, *, idempotency_key: str
    ) -> GatewayReader: ...

    def cancel_reader_action(self, reader_id: str, *, idempotency_key: str) -> GatewayReader: ...

    def create_checkout_session(
        self,
        *,
        amount: Decimal,
        currency: str,
        item_name: str,
        idempotency_key: str,
        metadata: dict[str, str],
        success_url: str,
        cancel_url: str,
        customer: str | None = None,
    ) -> GatewaySession: ...

    def expire_checkout_session(self, session_id: str, *, idempotency_key: str) -> GatewaySession: ...

    def retrieve_checkout_session(self, session_id: str) -> GatewaySession: ...

    def find_checkout_session(self, *, payment_id: str, instance: str) -> GatewaySession | None:
        """The newest Checkout Session this database made for local attempt ``payment_id``, if any."""
        ...

    def create_customer(
        self, *, email: str, name: str, metadata: dict[str, str], idempotency_key: str
    ) -> str: ...
