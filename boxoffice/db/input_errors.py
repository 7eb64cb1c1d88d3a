"""Values the database cannot take, refused with a plain message instead of a driver error.

SQLite cannot bind an int of 2**63 or more (``OverflowError`` from the driver); PostgreSQL says
"integer out of range" or "numeric field overflow" (SQLSTATE 22003), and refuses text holding a
NUL character. These reach the database only from a hand-typed id, a scanned code or a file, so
the operator hears what was wrong; nothing was saved (the transaction rolls back).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event

from boxoffice.errors import InvalidInput, NotFound
from boxoffice.money import MAX_AMOUNT

LARGEST_ID = 2**63 - 1
_OUT_OF_RANGE = "22003"
_BAD_TEXT = frozenset({"22021", "22P05"})   # character not in repertoire, untranslatable character


def plain_error(original: BaseException) -> Exception | None:
    """The operator's message for a value the database refused, or None for any other failure."""
    text = str(original).lower()
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(original, OverflowError) and "too large to convert" in text:
        return NotFound(f"No record has that number: numbers here go up to {LARGEST_ID:,}. "
                        "Check the number and try again; nothing was saved.")
    if sqlstate == _OUT_OF_RANGE:
        if "integer" in text:
            return NotFound(f"No record has that number: numbers here go up to {LARGEST_ID:,}. "
                            "Check the number and try again; nothing was saved.")
        return InvalidInput(f"An amount is larger than the database can hold (the largest is "
                            f"{MAX_AMOUNT:,.2f}). Nothing was saved; check the amounts and quantities.")
    if "nul (0x00)" in text or "0x00" in text and "cannot contain" in text or sqlstate in _BAD_TEXT:
        return InvalidInput("The text holds a character that cannot be stored or searched for (a NUL "
                            "or other control character). Remove it and try again; nothing was saved.")
    return None


def install(engine: Engine) -> None:
    """Turn the failures of ``plain_error`` into its messages for every statement on ``engine``."""

    @event.listens_for(engine, "handle_error")
    def _on_error(context: Any) -> None:
        replacement = plain_error(context.original_exception)
        if replacement is not None:
            raise replacement from context.original_exception
