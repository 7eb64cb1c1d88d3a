"""Attendee rules without a database: access codes, guest names, and the folded words search matches."""

from __future__ import annotations

import secrets
import unicodedata

# The order-reference alphabet: no 0/O and no 1/I, so a code read aloud or off a badge is not misread.
ACCESS_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ACCESS_CODE_LENGTH = 8
MAX_WORD = 254


def new_access_code() -> str:
    """A fresh desk-made access code (ATT-2); the caller checks it is not taken."""
    return "".join(secrets.choice(ACCESS_CODE_ALPHABET) for _ in range(ACCESS_CODE_LENGTH))


def normalize_code(text: str) -> str:
    """What a typed or scanned code is compared as: trimmed, upper case (codes are case-insensitive)."""
    return (text or "").strip().upper()


def fold(text: str) -> str:
    """Lower case without accents, so "José" matches "jose" and "ÅSA" matches "asa"."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def search_words(name: str, email: str, company: str) -> set[str]:
    """The words an attendee is found by: each word of the name and company, and the whole email."""
    words = {w for w in fold(name).split() if w}
    words |= {w for w in fold(company).split() if w}
    if email and email.strip():
        words.add(fold(email.strip()))
    return {w[:MAX_WORD] for w in words}


def guest_name(number: int, buyer: str) -> str:
    """The placeholder name of a further ticket unit until the desk names its holder (ATT-1)."""
    return f"Guest {number} of {buyer}" if buyer else f"Guest {number}"


def qr_payload(code: str) -> str:
    """What an attendee's badge QR code holds: ``BOXOFFICE:<access code>`` (the scanner reads it back)."""
    return f"BOXOFFICE:{normalize_code(code)}"


def order_qr_payload(reference: str) -> str:
    """What a receipt's QR code holds: ``BOXOFFICE-ORDER:<order reference>``."""
    return f"BOXOFFICE-ORDER:{(reference or '').strip()}"
