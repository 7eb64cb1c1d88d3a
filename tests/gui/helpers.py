"""Make sales through the real services (test set-up for the Orders and Credits screens)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests import factories


def paid_cash_sale(services: Any, conference_id: int, *, name: str, email: str,
                   tickets: dict[int, int], addons: dict[int, int] | None = None) -> Any:
    customer = services.customers.get_or_create(name=name, email=email, company="")
    cart = services.carts.open_cart(conference_id, customer.id)
    for ticket_id, quantity in tickets.items():
        services.carts.add_ticket(cart.id, ticket_id, quantity)
    for addon_id, quantity in (addons or {}).items():
        services.carts.add_addon(cart.id, addon_id, quantity)
    order = services.checkout.checkout(cart.id)
    factories.ensure_open_shift(services.db, services.ctx.desk_name)
    result = services.payments.pay_cash(order.id, order.total + Decimal("0.00"))
    assert result.paid_in_full
    return result.order


def labels_without_buddy(widget: Any) -> list[str]:
    """Texts of the labels under ``widget`` that have an '&' but no buddy: such a label shows the '&'
    itself and its Alt shortcut goes nowhere (the widget must have at least one mnemonic label)."""
    from PySide6.QtWidgets import QLabel

    labels = [label for label in widget.findChildren(QLabel) if "&" in label.text().replace("&&", "")]
    assert labels, f"{type(widget).__name__} has no mnemonic label to check"
    return [label.text() for label in labels if label.buddy() is None]


def type_text(qtbot: Any, field: Any, text: str) -> None:
    """Type ``text`` into a line edit key by key, and return once it shows there.

    Keys typed while the desk saves something are held and applied after it (the input hold), so a
    test that clicks a button right after typing must wait as a person waits to see what they typed.
    """
    qtbot.keyClicks(field, text)
    qtbot.waitUntil(lambda: field.text().endswith(text))
