"""The audit log's hash chain: each row's hash covers its content and the hash of the row before it.

A row's ``chain_hash`` is an HMAC-SHA256 over the previous row's ``chain_hash`` (its ``prev_hash``)
and a canonical text of the row's fields, keyed with a key derived from the desk's PIN key
(``chain_key``), which is never in the database; ``chain_key_id`` names that PIN key. Rows written
before the chain was keyed carry no key id and a plain SHA-256 over the same text; the first keyed
row covers the last of them, so they cannot be changed either once one exists, and a row without
the key (or keyed with another) after a keyed row is a forgery. Walking the log in id order and
recomputing every hash finds the first row that was edited, forged (inserted by hand, without the
desk's key) or that follows a deleted one. Pure functions: the services write rows, ``verify_rows``
judges them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boxoffice.money import quantize

GENESIS = "0" * 64   # the prev_hash of the first row
CHAIN_KEY_LABEL = b"boxoffice audit chain"   # sets the chain's key apart from the PIN key's other uses

# The fields a row's hash covers, in this order (everything but the id and the two hashes).
FIELDS = (
    "at", "desk", "actor_id", "actor_name", "actor_role", "approver_id", "approver_name", "action",
    "target_type", "target_id", "target_label", "amount_before", "amount_after", "detail",
)


def _canonical(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "at":
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError("an audit row's time must be an aware datetime")
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if name in ("amount_before", "amount_after"):
        return str(quantize(Decimal(value)))
    if name in ("actor_id", "approver_id", "target_id"):
        return int(value)
    return str(value)


def chain_key(pepper: bytes) -> bytes:
    """The key of the audit chain, derived from the PIN key (a key of its own, not the PIN key itself)."""
    return hmac.new(pepper, CHAIN_KEY_LABEL, hashlib.sha256).digest()


def row_hash(prev_hash: str, row: Mapping[str, Any], key: bytes | None = None) -> str:
    """The chain hash of one row whose fields are ``row`` and whose predecessor's hash is ``prev_hash``:
    an HMAC with ``key`` (a ``chain_key``), or without one the plain SHA-256 of unkeyed rows."""
    body = json.dumps([_canonical(name, row.get(name)) for name in FIELDS], ensure_ascii=False,
                      separators=(",", ":"))
    message = f"{prev_hash}\n{body}".encode()
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first row whose hash does not hold, and why."""

    row_id: int
    at: datetime | None
    action: str
    reason: str

    def describe(self) -> str:
        if self.row_id <= 0:   # about the log as a whole, not one row
            return self.reason
        when = f" of {self.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if self.at is not None else ""
        return f"audit row {self.row_id}{when} ({self.action or 'no action'}): {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    """What a walk of the log found.

    ``first_break`` is the first row that does not hold. ``unchecked`` keyed rows could only be
    checked for their place in the chain, not their content: the key they name (``key_id``) was not
    given (a database copied to a machine without the PIN key, or a desk with another one).
    """

    rows: int
    first_break: ChainBreak | None
    keyed: int = 0
    unchecked: int = 0
    key_id: str = ""

    @property
    def intact(self) -> bool:
        """Every row checked, and none found wrong."""
        return self.first_break is None and self.unchecked == 0


def verify_rows(rows: Iterable[Mapping[str, Any]], keys: Mapping[str, bytes] | None = None) -> ChainReport:
    """Walk rows (id order, each with ``id``, ``prev_hash``, ``chain_hash``, ``chain_key_id`` and the
    FIELDS); ``keys`` maps a key id to its ``chain_key``."""
    keys = keys or {}
    expected_prev, log_key = GENESIS, ""
    count = keyed = unchecked = 0
    for row in rows:
        count += 1
        stored_prev, stored_hash = row.get("prev_hash") or "", row.get("chain_hash") or ""
        key_id = row.get("chain_key_id") or ""
        reason, checked = "", True
        if not stored_hash:
            reason = "it carries no chain hash, so it was not written by Box Office (a forged row)"
        elif stored_prev != expected_prev:
            reason = ("it does not follow the row before it: a row before it was deleted, or it was "
                      "inserted by hand")
        elif not key_id and log_key:
            reason = ("it is not keyed with the PIN key although rows before it are, so it was not "
                      "written by Box Office (a forged row)")
        elif key_id and log_key and key_id != log_key:
            reason = (f"it is keyed with another PIN key (id {key_id}) than the rows before it (id "
                      f"{log_key}): a forged row, or one written by a desk with the wrong PIN key")
        elif key_id and key_id not in keys:
            checked = False
        elif not hmac.compare_digest(row_hash(stored_prev, row, keys[key_id] if key_id else None).encode(),
                                     stored_hash.encode()):
            reason = "its content does not match its hash: it was edited or forged"
        if reason:
            return ChainReport(count, ChainBreak(int(row["id"]), row.get("at"), str(row.get("action") or ""),
                                                 reason), keyed, unchecked, log_key)
        if key_id:
            keyed += 1
            if not checked:
                unchecked += 1
            log_key = key_id
        expected_prev = stored_hash
    return ChainReport(count, None, keyed, unchecked, log_key)
