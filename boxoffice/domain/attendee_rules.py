"""Attendee rules without a database: access codes, who holds each ticket, and the words search matches."""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Sequence

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


Holder = tuple[str, str, str]   # (name, email, company)


def plan_holders(units: int, buyer: Holder, named: Sequence[Holder] | None = None) -> list[Holder]:
    """Who holds each of an order's ``units`` ticket units, in line order (ATT-1): the holder named for
    the unit (``named[i]``, when any part of it is given), else the buyer on the first unit and
    "Guest N of <buyer>" on the others; each part trimmed."""
    given = list(named or [])
    plan: list[Holder] = []
    for position in range(1, units + 1):
        if position <= len(given) and any(given[position - 1]):
            holder = given[position - 1]
        elif position == 1:
            holder = buyer
        else:
            holder = (guest_name(position - 1, buyer[0]), "", "")
        plan.append((holder[0].strip(), holder[1].strip(), holder[2].strip()))
    return plan


# What badges and receipts encode as QR codes; a scan of either is recognised at the door (CIN-1).
QR_PREFIX = "BOXOFFICE:"
ORDER_QR_PREFIX = "BOXOFFICE-ORDER:"


def qr_payload(code: str) -> str:
    """The QR payload of an attendee's badge: ``BOXOFFICE:<access code>``."""
    return QR_PREFIX + normalize_code(code)


def order_qr_payload(reference: str) -> str:
    """The QR payload of an order's receipt: ``BOXOFFICE-ORDER:<reference>``."""
    return ORDER_QR_PREFIX + normalize_code(reference)


def parse_scan(text: str) -> tuple[str, str]:
    """What a scan holds: ("code", code), ("order", reference) for a QR payload, else ("", text trimmed)."""
    raw = (text or "").strip()
    upper = raw.upper()
    if upper.startswith(ORDER_QR_PREFIX):
        return "order", normalize_code(raw[len(ORDER_QR_PREFIX):])
    if upper.startswith(QR_PREFIX):
        return "code", normalize_code(raw[len(QR_PREFIX):])
    return "", raw


def reference_candidates(text: str, prefix: str) -> list[str]:
    """The order references a typed reference may mean: as typed, and with the desk's prefix and dash.

    "PYC-7KQ2M9XA", "pyc7kq2m9xa" and "7KQ2M9XA" all name PYC-7KQ2M9XA; a web reference is
    matched as typed.
    """
    typed = normalize_code(text).replace(" ", "")
    if not typed:
        return []
    found = [typed]
    p = normalize_code(prefix)
    if p:
        if typed.startswith(p + "-"):
            body = typed[len(p) + 1:]
        elif typed.startswith(p) and len(typed) > len(p) + 1:
            body = typed[len(p):]
        else:
            body = typed
        body = body.lstrip("-")
        if body:
            found.append(f"{p}-{body}")
        if not typed.startswith(p + "-"):   # a body that happens to begin with the prefix's letters
            found.append(f"{p}-{typed}")
    return list(dict.fromkeys(found))
