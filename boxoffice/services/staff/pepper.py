"""The PIN pepper: a random secret mixed into every PIN and password hash, kept outside the database.

A stolen database file alone cannot be cracked offline: each hash also needs the pepper, which
lives in the OS keychain (service ``boxoffice-staff``, account ``pin-pepper``) or, for desks that
share one PostgreSQL database, in ``BOXOFFICE_PIN_PEPPER`` (64 hex digits, the same on every desk).
The first hash made on a desk without one creates it in the keychain.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading

from boxoffice import keychain
from boxoffice.errors import ConfigError

PEPPER_ENV = "BOXOFFICE_PIN_PEPPER"
KEYCHAIN_SERVICE = "boxoffice-staff"
KEYCHAIN_ACCOUNT = "pin-pepper"
PEPPER_BYTES = 32

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


def load_pepper(*, create: bool) -> bytes | None:
    """The pepper from the environment or the keychain; made and saved when ``create`` and none exists."""
    global _cached
    env = os.environ.get(PEPPER_ENV, "")
    if env.strip():
        return _parse(env, PEPPER_ENV)
    with _lock:
        if _cached is not None:
            return _cached
        try:
            stored = keychain.get_password(KEYCHAIN_SERVICE, KEYCHAIN_ACCOUNT)
        except keychain.KeychainError as exc:
            raise ConfigError(
                f"The PIN key could not be read from the system keychain ({exc}). Unlock or start the "
                f"keychain, or set {PEPPER_ENV}.") from None
        if stored:
            _cached = _parse(stored, "the keychain")
            return _cached
        if not create:
            return None
        fresh = secrets.token_bytes(PEPPER_BYTES)
        try:
            keychain.set_password(KEYCHAIN_SERVICE, KEYCHAIN_ACCOUNT, fresh.hex())
        except keychain.KeychainError as exc:
            raise ConfigError(
                f"The PIN key could not be saved in the system keychain ({exc}). Unlock or start the "
                f"keychain (GNOME Keyring, KWallet), or set {PEPPER_ENV} to 64 random hex digits.") from None
        _cached = fresh
        return fresh


def forget_cached() -> None:
    """Drop the pepper held in memory (tests; a keychain changed under a running desk)."""
    global _cached
    with _lock:
        _cached = None
