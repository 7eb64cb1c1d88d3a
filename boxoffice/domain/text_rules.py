"""Characters no record holds: NUL and other control characters, lone surrogates and Unicode noncharacters.

PostgreSQL refuses NUL in text, and a noncharacter such as U+10FFFF has no next character for a
prefix search's upper bound; nobody types them, so they are refused with a message naming them.
"""

from __future__ import annotations

_ALLOWED_CONTROLS = frozenset("\t\n\r")


def bad_character(text: str) -> str | None:
    """A description of the first character of ``text`` no record may hold, or None."""
    for char in text:
        code = ord(char)
        if code < 0x20 and char not in _ALLOWED_CONTROLS or code == 0x7F:
            return "a NUL or other control character" if code else "a NUL character"
        if 0xD800 <= code <= 0xDFFF:
            return f"an unpaired surrogate (U+{code:04X})"
        if 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
            return f"the noncharacter U+{code:04X}"
    return None


def text_problem(text: str, what: str) -> str | None:
    """The operator's message when ``text`` (the ``what``, e.g. "search text") holds such a character."""
    found = bad_character(text)
    if found is None:
        return None
    return f"The {what} holds {found}, which cannot be stored or searched for. Remove it and try again."
