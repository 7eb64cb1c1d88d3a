"""Rules for ticket types and add-ons shared by the conference import and the catalog screens.

Each ``*_problem`` function returns ``None`` when the value is acceptable, else a phrase that
completes "<the field> …" ("must be an amount of 0 or more, not -5"); the importer prefixes it
with the key path in the file, the catalog service with the field's name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from boxoffice.money import CENT, MAX_AMOUNT

MAX_NAME = 200
MAX_DESCRIPTION = 100_000
MAX_QUANTITY = 10_000_000
MAX_LIMIT_PER_USER = 10_000


def slugify(name: str) -> str:
    """DESK-7: lower-case; keep letters, digits, ``_``, space, ``-``; runs of spaces/hyphens → ``-``."""
    value = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    value = re.sub(r"[^\w\s-]", "", value)
    return re.sub(r"[-\s]+", "-", value).strip("-")


def text_problem(value: str, *, required: bool, max_len: int = MAX_NAME) -> str | None:
    if required and not value.strip():
        return "must not be empty"
    if len(value.strip()) > max_len:
        return f"is longer than {max_len} characters"
    return None


def price_problem(amount: Decimal) -> str | None:
    """A catalogue price: finite, 0 or more, whole cents, at most the largest amount."""
    if not amount.is_finite() or amount < 0:
        return f"must be an amount of 0 or more, not {amount}"
    if amount > MAX_AMOUNT:   # first: quantizing a huge amount is itself an error
        return f"{amount} is larger than the largest amount allowed ({MAX_AMOUNT})"
    if amount != amount.quantize(CENT):
        return f"{amount} has more than two decimals"
    return None


def quantity_problem(value: int) -> str | None:
    """A stock or capacity count (0 means unlimited)."""
    if value < 0 or value > MAX_QUANTITY:
        return f"must be a whole number from 0 to {MAX_QUANTITY}, not {value}"
    return None


def window_problem(opens: datetime | None, closes: datetime | None) -> str | None:
    if opens is not None and closes is not None and closes < opens:
        return "closes is before opens"
    return None


def stock_floor_problem(total_quantity: int, sold: int, held: int) -> str | None:
    """Stock may not drop below the units already sold or held (0 = unlimited is always fine)."""
    floor = sold + held
    if total_quantity != 0 and total_quantity < floor:
        return f"{floor} are already sold or held; the stock can't be lower than {floor}"
    return None


# --------------------------------------------------------------------------- voucher codes

# No 0/O, 1/I/L: codes are read aloud and typed from paper at the desk.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_CHARS_RE = re.compile(r"^[A-Z0-9_-]+$")
MAX_GENERATED = 10_000
MAX_PREFIX = 20
MIN_CODE_LENGTH, MAX_CODE_LENGTH = 4, 32


def code_problem(code: str) -> str | None:
    """A typed voucher code (already trimmed and upper-cased)."""
    if not code:
        return "must not be empty"
    if not CODE_CHARS_RE.match(code):
        return f"'{code}' may only contain letters, digits, '-' and '_'"
    return None


def prefix_problem(prefix: str) -> str | None:
    if len(prefix) > MAX_PREFIX:
        return f"is longer than {MAX_PREFIX} characters"
    if prefix and not CODE_CHARS_RE.match(prefix):
        return f"'{prefix}' may only contain letters, digits, '-' and '_'"
    return None


def draw_code(prefix: str, length: int, randbelow: Callable[[int], int]) -> str:
    """One code: ``prefix`` + ``length`` characters of ``CODE_ALPHABET`` (``randbelow`` from ``secrets``)."""
    return prefix + "".join(CODE_ALPHABET[randbelow(len(CODE_ALPHABET))] for _ in range(length))
