"""Voucher rules without a database: code normalisation, value checks, validity, scope, hidden gate."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from boxoffice.domain.models import VoucherType
from boxoffice.errors import InvalidInput, VoucherExpired, VoucherInvalid
from boxoffice.money import quantize

MAX_CODE_LENGTH = 100


def normalize_code(code: str) -> str:
    """DEC-8: trimmed and upper-cased; an empty code is refused."""
    if not isinstance(code, str):
        raise InvalidInput("Enter a voucher code.", field="voucher_code")
    cleaned = code.strip().upper()
    if not cleaned:
        raise InvalidInput("Enter a voucher code.", field="voucher_code")
    if len(cleaned) > MAX_CODE_LENGTH:
        raise InvalidInput(
            f"A voucher code has at most {MAX_CODE_LENGTH} characters.", field="voucher_code"
        )
    return cleaned


def check_discount_value(voucher_type: VoucherType, value: Decimal) -> Decimal:
    """MOD-VO-3 [FIX]: refuse a negative value, and a percentage above 100."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInput("The discount must be a number such as 20.00.", field="discount_value")
    if value < 0:
        raise InvalidInput("The discount cannot be negative.", field="discount_value")
    if voucher_type == VoucherType.PERCENTAGE and value > 100:
        raise InvalidInput("A percentage discount cannot be above 100.", field="discount_value")
    return quantize(value)


@dataclass(frozen=True)
class VoucherTerms:
    """What pricing and the gates need to know about one voucher."""

    code: str
    voucher_type: VoucherType
    discount_value: Decimal
    unlocks_hidden_tickets: bool
    ticket_scope: frozenset[int]
    addon_scope: frozenset[int]

    def applies_to(self, kind: str, product_id: int | None) -> bool:
        """VCH-7: each scope is independent; an empty scope means every product of that kind."""
        scope = self.ticket_scope if kind == "ticket" else self.addon_scope
        return not scope or (product_id is not None and product_id in scope)

    def details_json(self) -> str:
        """CHK-10: the snapshot stored on the order."""
        return json.dumps(
            {
                "code": self.code,
                "voucher_type": self.voucher_type.value,
                "discount_value": f"{quantize(self.discount_value):.2f}",
                "unlocks_hidden_tickets": self.unlocks_hidden_tickets,
            }
        )


def validity_problem(
    *,
    code: str,
    is_active: bool,
    times_used: int,
    max_uses: int,
    valid_from: datetime | None,
    valid_until: datetime | None,
    now: datetime,
) -> VoucherInvalid | None:
    """VCH-1 (window ends inclusive); the error to raise, or None when the voucher is valid."""
    if not is_active:
        return VoucherInvalid(f"Voucher {code} is no longer valid (it was switched off).")
    if times_used >= max_uses:
        return VoucherExpired(f"Voucher {code} is used up. Remove it or use another code.")
    if valid_from is not None and now < valid_from:
        return VoucherExpired(
            f"Voucher {code} is not valid yet (from {valid_from:%Y-%m-%d %H:%M} UTC)."
        )
    if valid_until is not None and now > valid_until:
        return VoucherExpired(
            f"Voucher {code} is no longer valid (it ended {valid_until:%Y-%m-%d %H:%M} UTC)."
        )
    return None


def hidden_ticket_problem(
    ticket_name: str, ticket_type_id: int, voucher: VoucherTerms | None
) -> str | None:
    """VCH-9: a requires_voucher ticket needs an unlocking voucher whose ticket scope covers it."""
    if voucher is None or not voucher.unlocks_hidden_tickets:
        return (
            f"{ticket_name} requires a voucher that unlocks hidden tickets. "
            "Apply the voucher to the cart first."
        )
    if voucher.ticket_scope and ticket_type_id not in voucher.ticket_scope:
        return f"Voucher {voucher.code} does not cover {ticket_name}."
    return None


def _names(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def describe_offer(terms: VoucherTerms, ticket_names: list[str], addon_names: list[str]) -> str:
    """What a voucher does, in the operator's words: "25 % off Individual and Corporate tickets and
    every add-on" (VCH-7: an empty scope is every product of that kind)."""
    tickets = f"{_names(ticket_names)} tickets" if ticket_names else "every ticket"
    addons = _names(addon_names) if addon_names else "every add-on"
    value = quantize(terms.discount_value)
    if terms.voucher_type.value == "comp":
        return f"makes {tickets} and {addons} free"
    if terms.voucher_type.value == "percentage" and value == 0:
        return f"unlocks {tickets}" if terms.unlocks_hidden_tickets else "takes nothing off"
    if terms.voucher_type.value == "percentage":
        return f"takes {value.normalize():f} % off {tickets} and {addons}"
    return f"takes {value:.2f} off the cart ({tickets} and {addons})"
