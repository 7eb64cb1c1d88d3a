"""The last audit row a desk wrote to its SQLite file, kept beside the desk's data, outside the file.

A hash chain finds an edited, forged or deleted row anywhere but at its end: rows cut off the end,
or a log emptied with its triggers dropped, leave a shorter chain that still holds. So after each
commit that recorded audit rows, the desk notes the id and hash of the newest one in its own data
folder (``audit-anchors/``, one small file per database file, 0600 in a 0700 folder), with an HMAC
under the audit chain's key, and ``audit verify`` checks that row is still in the log. A desk on
PostgreSQL needs none: its role may not delete audit rows at all.

A file put back from an older backup has lost rows too. The next row the desk writes after a cut
is preceded by one that records it (``audit_end_missing``, with the missing row's id and hash), so
the cut stays in the chain, and the note moves to the new end. Two programs of one desk may note
their rows in either order: either row is in the log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from boxoffice import paths
from boxoffice.domain.models import AuditEntry

log = logging.getLogger(__name__)

FOLDER = "audit-anchors"
_PENDING = "audit_anchor_pending"   # session.info: (database file, row id, chain hash, chain key)


@dataclass(frozen=True)
class Anchor:
    database: str
    row_id: int
    chain_hash: str


def database_file(session: Session) -> Path | None:
    """The SQLite file ``session`` writes to (None for PostgreSQL or an in-memory database)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def anchor_path(database: Path) -> Path:
    name = hashlib.sha256(str(database).encode()).hexdigest()[:24]
    return paths.private_dir(paths.data_dir() / FOLDER) / f"{name}.json"


def _mac(key: bytes, database: str, row_id: int, chain_hash: str) -> str:
    return hmac.new(key, f"anchor\n{database}\n{row_id}\n{chain_hash}".encode(), hashlib.sha256).hexdigest()


def note_row(session: Session, row_id: int, chain_hash: str, key: bytes) -> None:
    """Remember ``row_id`` as the newest audit row once ``session``'s transaction commits."""
    database = database_file(session)
    if database is None:
        return
    if _PENDING not in session.info:
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_rollback", _after_rollback)
    session.info[_PENDING] = (database, row_id, chain_hash, key)


def _after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    database, row_id, chain_hash, key = pending
    try:
        _write(database, row_id, chain_hash, key)
    except OSError as exc:   # the sale is saved; only the end-of-log check is weaker until the next row
        log.warning("the audit log's last row could not be noted (%s)", exc)


def _write(database: Path, row_id: int, chain_hash: str, key: bytes) -> None:
    path = anchor_path(database)
    body = {"database": str(database), "row_id": row_id, "chain_hash": chain_hash,
            "mac": _mac(key, str(database), row_id, chain_hash)}
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle)
    os.replace(tmp, path)


def _read_raw(path: Path) -> dict[str, object] | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def read(database: Path, key: bytes | None) -> tuple[Anchor | None, str]:
    """This desk's anchor for ``database`` and, when it cannot be trusted, why ("" when it can)."""
    path = anchor_path(database)
    if not path.exists():
        return None, ""
    raw = _read_raw(path)
    if raw is None:
        return None, f"the note of the last audit row ({path}) cannot be read"
    try:
        anchor = Anchor(str(raw["database"]), int(str(raw["row_id"])), str(raw["chain_hash"]))
        mac = str(raw["mac"])
    except (KeyError, ValueError):
        return None, f"the note of the last audit row ({path}) is not complete"
    if key is None:
        return anchor, ""   # checked for its row only; the PIN key's absence is reported with the chain
    if not hmac.compare_digest(mac.encode(), _mac(key, anchor.database, anchor.row_id, anchor.chain_hash).encode()):
        return None, f"the note of the last audit row ({path}) was changed by hand"
    return anchor, ""


def missing_end(session: Session, key: bytes) -> Anchor | None:
    """The last row this desk wrote to ``session``'s file when it is no longer in the log as written."""
    database = database_file(session)
    if database is None:
        return None
    anchor, untrusted = read(database, key)
    if anchor is None or untrusted:
        return None
    return None if stored_hash(session, anchor.row_id) == anchor.chain_hash else anchor


def stored_hash(session: Session, row_id: int) -> str | None:
    """The chain hash of audit row ``row_id`` as the log holds it (None when the row is gone)."""
    return session.scalar(select(AuditEntry.chain_hash).where(AuditEntry.id == row_id))
