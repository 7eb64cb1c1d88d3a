"""The audit log's hash chain: each row's hash covers its content and the hash of the row before it.

A row's ``chain_hash`` is SHA-256 over the previous row's ``chain_hash`` (its ``prev_hash``) and a
canonical text of the row's fields. Walking the log in id order and recomputing every hash finds
the first row that was edited, forged (inserted by hand, without the desk's chain) or that follows
a deleted one. Pure functions: the services write rows, ``verify_rows`` judges them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from boxoffice.money import quantize

GENESIS = "0" * 64   # the prev_hash of the first row

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


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The chain hash of one row whose fields are ``row`` and whose predecessor's hash is ``prev_hash``."""
    body = json.dumps([_canonical(name, row.get(name)) for name in FIELDS], ensure_ascii=False,
                      separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first row whose hash does not hold, and why."""

    row_id: int
    at: datetime | None
    action: str
    reason: str

    def describe(self) -> str:
        when = f" of {self.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if self.at is not None else ""
        return f"audit row {self.row_id}{when} ({self.action or 'no action'}): {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    rows: int
    first_break: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.first_break is None


def verify_rows(rows: Iterable[Mapping[str, Any]]) -> ChainReport:
    """Walk rows (id order, each with ``id``, ``prev_hash``, ``chain_hash`` and the FIELDS)."""
    expected_prev = GENESIS
    count = 0
    for row in rows:
        count += 1
        stored_prev, stored_hash = row.get("prev_hash") or "", row.get("chain_hash") or ""
        reason = ""
        if not stored_hash:
            reason = "it carries no chain hash, so it was not written by Box Office (a forged row)"
        elif stored_prev != expected_prev:
            reason = ("it does not follow the row before it: a row before it was deleted, or it was "
                      "inserted by hand")
        elif row_hash(stored_prev, row) != stored_hash:
            reason = "its content does not match its hash: it was edited or forged"
        if reason:
            return ChainReport(count, ChainBreak(int(row["id"]), row.get("at"), str(row.get("action") or ""),
                                                 reason))
        expected_prev = stored_hash
    return ChainReport(count, None)
