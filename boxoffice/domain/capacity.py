"""Stock, sale-window and venue-capacity rules without a database (CAT-1..5, CAP-1..4)."""

from __future__ import annotations

from datetime import datetime

ON_SALE = "on_sale"
SOLD_OUT = "sold_out"
NOT_YET = "not_yet"
ENDED = "ended"
INACTIVE = "inactive"
VOUCHER_ONLY = "voucher_only"
NEEDS_TICKET = "needs_ticket"


def remaining(total_quantity: int, sold: int, held: int, lapsed_held: int) -> int | None:
    """CAT-1 from the counters: None when unlimited (total 0); may be negative."""
    if total_quantity == 0:
        return None
    return total_quantity - sold - held + lapsed_held


def window_state(
    is_active: bool, available_from: datetime | None, available_until: datetime | None, now: datetime
) -> str:
    """CAT-3 (a)-(c), CAT-5: inactive, not yet on sale, ended, or on sale (both ends inclusive)."""
    if not is_active:
        return INACTIVE
    if available_from is not None and now < available_from:
        return NOT_YET
    if available_until is not None and now > available_until:
        return ENDED
    return ON_SALE


def stock_state(window: str, left: int | None) -> str:
    """CAT-3 (d): a product inside its window with nothing left is sold out."""
    if window == ON_SALE and left is not None and left <= 0:
        return SOLD_OUT
    return window


def venue_remaining(total_capacity: int, tickets_sold: int, tickets_held: int, lapsed: int) -> int | None:
    """CAP-2: None when there is no venue cap."""
    if total_capacity == 0:
        return None
    return total_capacity - tickets_sold - tickets_held + lapsed


def venue_problem(total_capacity: int, left: int | None, desired: int) -> str | None:
    """CAP-3: the message when ``desired`` ticket units do not fit the venue (never a negative)."""
    if left is None or desired <= left:
        return None
    if left <= 0:
        return f"The conference is sold out (venue capacity: {total_capacity})."
    return (
        f"Only {left} tickets remaining for this conference (venue capacity: {total_capacity}). "
        "Lower the quantity."
    )


def stock_problem(name: str, kind: str, left: int | None, desired: int) -> str | None:
    """CART-5 step 5, CART-13, CHK-3/5: the message when ``desired`` units exceed what is left."""
    if left is None or desired <= left:
        return None
    noun = "tickets" if kind == "ticket" else "units"
    if left <= 0:
        return f"{name} is sold out. Choose another {'ticket' if kind == 'ticket' else 'item'}."
    return (
        f"Only {left} {name} {noun} left. Lower the quantity or choose another "
        f"{'ticket' if kind == 'ticket' else 'item'}."
    )


def limit_problem(name: str, limit: int, already: int, desired: int) -> str | None:
    """CART-7/8, DEC-9: the per-customer limit (0 means none may be bought)."""
    if already + desired <= limit:
        return None
    if limit == 0:
        return f"{name} cannot be bought by a customer (the per-customer limit is 0)."
    left = max(limit - already, 0)
    bought = f"{already} already bought; " if already else ""
    return (
        f"This would exceed the per-customer limit of {limit} {name} tickets "
        f"({bought}the cart would hold {desired}). At most {left} can be in the cart."
    )
