"""Ports the services call for the outside world; stripe_sync provides the Stripe implementation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class GatewayRefund:
    refund_id: str
    status: str          # Stripe's refund status: pending, succeeded, failed, canceled
    amount: Decimal


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
