"""Imported orders at the desk (IMP-6): found, checked in, renamed, badged; their money stays online."""

from __future__ import annotations

from boxoffice.domain.models import Order
from boxoffice.errors import OrderStateError

PAID_ONLINE = "This order was paid online; refund it in the web system"


def refuse_money_operation(order: Order) -> None:
    """Refunds, payments, voids and cancels of an imported order are refused: the desk did not take that money."""
    if order.source_system:
        raise OrderStateError(f"{PAID_ONLINE} (order {order.reference}).")
