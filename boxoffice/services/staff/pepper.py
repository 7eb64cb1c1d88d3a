"""The PIN pepper: a random secret mixed into every PIN and password hash, kept outside the database.

A stolen database file alone cannot be cracked offline: each hash also needs the pepper, which
lives in the OS keychain (service ``boxoffice-staff``, account ``pin-pepper``) or, for desks that
share one PostgreSQL database, in ``BOXOFFICE_PIN_PEPPER`` (64 hex digits, the same on every desk).
The first hash made on a desk without one creates it in the keychain. A laptop with no keychain
running at all (no Secret Service on a bare Linux session) keeps it instead in ``pin-key`` in the
user's own settings folder, readable by that user only (0600 in a 0700 folder): still never in the
database, so a copy of the database file alone cannot be cracked.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
from pathlib import Path

from boxoffice import keychain, paths
from boxoffice.errors import ConfigError

log = logging.getLogger(__name__)

PEPPER_ENV = "BOXOFFICE_PIN_PEPPER"
KEYCHAIN_SERVICE = "boxoffice-staff"
KEYCHAIN_ACCOUNT = "pin-pepper"
PEPPER_BYTES = 32
KEY_FILE = "pin-key"

_lock = threading.Lock()
_cached: bytes | None = None


def pepper_id(pepper: bytes) -> str:
    """A short public name of a pepper (stored with each hash), so a missing one is told apart."""
    return hashlib.sha256(b"boxoffice-pepper-id" + pepper).hexdigest()[:8]


def _parse(text: str, where: str) -> bytes:
    try:
        value = bytes.fromhex(text.strip())
    except ValueError:
        value = b""
    if len(value) < 16:
        raise ConfigError(f"The PIN key in {where} is not valid: it must be at least 32 hex digits. "
                          "Copy it again from a desk whose sign-in works.")
    return value


def key_file() -> Path:
    """Where the PIN key is kept when no keychain is running."""
    return paths.config_dir() / KEY_FILE


def _from_file(*, create: bool) -> bytes | None:
    path = key_file()
    if path.exists():
        return _parse(path.read_text(encoding="ascii", errors="replace"), str(path))
    if not create:
        return None
    fresh = secrets.token_bytes(PEPPER_BYTES)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(fresh.hex())
    os.replace(tmp, path)
    return fresh


def load_pepper(*, create: bool) -> bytes | None:
    """The pepper from the environment, the keychain or (no keychain running) the key file.

    Made and saved when ``create`` and none exists yet.
    """
    global _cached
    env = os.environ.get(PEPPER_ENV, "")
    if env.strip():
        return _parse(env, PEPPER_ENV)
    with _lock:
        if _cached is not None:
            return _cached
        if not key_file().exists():
            try:
                stored = keychain.get_password(KEYCHAIN_SERVICE, KEYCHAIN_ACCOUNT)
            except keychain.KeychainError as exc:
                if exc.locked:
                    raise ConfigError(
                        f"The PIN key could not be read from the system keychain ({exc}). Unlock the "
                        f"keychain, or set {PEPPER_ENV}.") from None
                log.warning("no keychain (%s): the PIN key is kept in %s", exc, key_file())
                _cached = _from_file(create=create)
                return _cached
            if stored:
                _cached = _parse(stored, "the keychain")
                return _cached
            if not create:
                return None
            fresh = secrets.token_bytes(PEPPER_BYTES)
            try:
                keychain.set_password(KEYCHAIN_SERVICE, KEYCHAIN_ACCOUNT, fresh.hex())
                _cached = fresh
                return fresh
            except keychain.KeychainError as exc:
                if exc.locked:
                    raise ConfigError(
                        f"The PIN key could not be saved in the system keychain ({exc}). Unlock the "
                        f"keychain (GNOME Keyring, KWallet), or set {PEPPER_ENV} to 64 random hex "
                        "digits.") from None
                log.warning("no keychain (%s): the PIN key is kept in %s", exc, key_file())
        _cached = _from_file(create=create)
        return _cached


def forget_cached() -> None:
    """Drop the pepper held in memory (tests; a keychain changed under a running desk)."""
    global _cached
    with _lock:
        _cached = None
