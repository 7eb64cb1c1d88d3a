"""The OS keychain through keyring's own backends: Secret Service on Linux, Credential Manager, Keychain.

Linux (and the BSDs) use keyring's SecretService backend (GNOME Keyring, KWallet, KeePassXC over
D-Bus) directly, so no other backend is tried and the session bus is looked up on every call;
Windows and macOS use keyring's platform backend. Every failure is a :class:`KeychainError` whose
message says what happened and never holds the secret.
"""

from __future__ import annotations

import sys
from typing import Any

LINUX = sys.platform not in ("win32", "darwin", "cygwin")


class KeychainError(Exception):
    """The keychain could not be used (none running, locked, or the prompt was dismissed)."""

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.locked = locked   # a keychain is there but locked (or its prompt was dismissed)


def _backend() -> Any:
    import keyring

    if LINUX:
        from keyring.backends import SecretService

        return SecretService.Keyring()  # type: ignore[no-untyped-call]  # keyring ships no annotations here
    return keyring.get_keyring()


def _failure(exc: BaseException, doing: str) -> KeychainError:
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    if "locked" in name.lower() or "locked" in text.lower():
        return KeychainError(f"the keychain is locked ({doing}); unlock it and try again", locked=True)
    return KeychainError(f"the keychain could not be used ({doing}: {text})")


def get_password(service: str, account: str) -> str | None:
    try:
        value = _backend().get_password(service, account)
    except Exception as exc:  # noqa: BLE001 - backends raise keyring, D-Bus and OS errors alike
        raise _failure(exc, "reading") from None
    return value if isinstance(value, str) and value else None


def set_password(service: str, account: str, value: str) -> None:
    try:
        _backend().set_password(service, account, value)
    except Exception as exc:  # noqa: BLE001 - backends raise keyring, D-Bus and OS errors alike
        raise _failure(exc, "saving") from None


def delete_password(service: str, account: str) -> None:
    """Remove an entry; an entry that is not there is not an error."""
    from keyring.errors import PasswordDeleteError

    try:
        _backend().delete_password(service, account)
    except PasswordDeleteError:
        return
    except Exception as exc:  # noqa: BLE001 - backends raise keyring, D-Bus and OS errors alike
        raise _failure(exc, "removing") from None
