"""Money as Decimal, and the one place that speaks Stripe's integer minor units."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The money ceiling: no price, payment, line or order total may be larger. Every stored amount is
# at most an order's total, so the NUMERIC(12, 2) columns always hold it, on SQLite and PostgreSQL.
MAX_AMOUNT = Decimal("99999999.99")

ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND",
     "VUV", "XAF", "XOF", "XPF"}
)


def _exponent(currency: str) -> int:
    if not currency or not currency.strip():
        raise ValueError("currency must be a non-empty ISO 4217 code")
    return 0 if currency.strip().upper() in ZERO_DECIMAL_CURRENCIES else 2


def quantize(amount: Decimal) -> Decimal:
    """Return ``amount`` with exactly two decimals, rounding half-up (ties away from zero)."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def round_half_up(amount: Decimal) -> Decimal:
    """Round to the cent with ties away from zero (never banker's rounding)."""
    return quantize(amount)


def units_share(line_total: Decimal, quantity: int, before: int, count: int) -> Decimal:
    """What units ``before+1 .. before+count`` of a line of ``quantity`` units carry of its total.

    Rounded cumulatively, so the shares of all units add up to the line total exactly (DEC-10).
    """
    if quantity <= 0 or count <= 0:
        return ZERO

    def upto(units: int) -> Decimal:
        return round_half_up(line_total * min(units, quantity) / quantity)

    return upto(before + count) - upto(before)


def parse_amount(text: str | Decimal | int) -> Decimal:
    """Parse operator input into a non-negative amount with at most two decimals.

    Raises ValueError with a message fit for the operator.
    """
    if isinstance(text, Decimal):
        value = text
    elif isinstance(text, int) and not isinstance(text, bool):
        value = Decimal(text)
    elif isinstance(text, str):
        cleaned = text.strip().replace(",", "").lstrip("$€£")
        if not cleaned:
            raise ValueError("Enter an amount, for example 20.00.")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise ValueError(f"'{text}' is not an amount. Enter a number such as 20.00.") from None
    else:
        # ValueError like every other refusal here: callers turn it into the operator's message.
        raise ValueError(f"{text!r} is not an amount.")  # noqa: TRY004
    if not value.is_finite():
        raise ValueError("Enter a real amount, for example 20.00.")
    if value < 0:
        raise ValueError("The amount cannot be negative.")
    if value > MAX_AMOUNT:
        raise ValueError(f"{value} is larger than the largest amount allowed ({MAX_AMOUNT}).")
    if value != value.quantize(CENT, rounding=ROUND_HALF_UP):   # safe: value is at most MAX_AMOUNT
        raise ValueError(f"{value} has more than two decimals.")
    return quantize(value)


def over_ceiling(amount: Decimal) -> bool:
    """``amount`` is larger than the money ceiling (``MAX_AMOUNT``): it must not be written."""
    return amount > MAX_AMOUNT


def ceiling_message(what: str, amount: Decimal) -> str:
    """Why a total above the ceiling was refused, for the operator."""
    return (f"{what} would be {quantize(amount):,.2f}, more than the largest amount one order may "
            f"hold ({MAX_AMOUNT:,.2f}). Lower the quantity or split the sale into several orders.")


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Convert an amount to Stripe's integer minor units; refuses anything finer than the currency."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__}")
    if not amount.is_finite():
        raise ValueError(f"{amount} is not a finite amount")
    scaled = amount.scaleb(_exponent(currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{amount} is finer than {currency.upper()} allows")
    return int(scaled)


def from_minor_units(units: int, currency: str) -> Decimal:
    """Convert Stripe's integer minor units back to a Decimal amount."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"minor units must be an int, not {type(units).__name__}")
    exponent = _exponent(currency)
    value = Decimal(units).scaleb(-exponent)
    return value.quantize(CENT) if exponent == 2 else value.quantize(Decimal(1))


def format_money(amount: Decimal, currency: str = "USD") -> str:
    """Format for display: ``$1,234.50`` for USD, ``1,234.50 EUR`` otherwise."""
    symbols = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$"}
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        text = f"{amount:,.0f}"
    else:
        text = f"{quantize(amount):,.2f}"
    if code in symbols:
        sign = "-" if amount < 0 else ""
        return f"{sign}{symbols[code]}{text.lstrip('-')}"
    return f"{text} {code}"
