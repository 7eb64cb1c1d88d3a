"""Database passwords live in the OS keychain: a PostgreSQL URL is saved without its password.

The password of a URL saved in the settings file (``postgresql://desk:secret@host/boxoffice``) is
kept in the keychain under service ``boxoffice-database`` and the account ``user@host/db`` (with
``:port`` after the host when the URL names one), and put back into the URL when the desk connects.
"""

from __future__ import annotations

import logging

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from boxoffice import keychain
from boxoffice.errors import ConfigError

log = logging.getLogger(__name__)

SERVICE = "boxoffice-database"


def _postgresql(url: str) -> URL | None:
    if "://" not in url:
        return None
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    return parsed if parsed.get_backend_name() == "postgresql" else None


def account(url: URL) -> str:
    """``user@host/db`` (``user@host:port/db`` with a port): whose password the keychain entry holds."""
    host = f"{url.host or 'localhost'}:{url.port}" if url.port else (url.host or "localhost")
    return f"{url.username or ''}@{host}/{url.database or ''}"


def _render(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def without_password(url: str) -> str:
    """``url`` with no password in it (other URLs unchanged): what a settings file may hold."""
    parsed = _postgresql(url)
    if parsed is None or parsed.password is None:
        return url
    return _render(parsed._replace(password=None))


def keep_password(url: str) -> str:
    """Save the password of a PostgreSQL ``url`` in the keychain; returns the URL without it.

    Raises ConfigError (saying nothing was saved) when the keychain cannot take it.
    """
    parsed = _postgresql(url)
    if parsed is None or not parsed.password:
        return url
    try:
        keychain.set_password(SERVICE, account(parsed), str(parsed.password))
    except keychain.KeychainError as exc:
        raise ConfigError(
            f"The database password could not be kept: {exc}. It is never written to the settings "
            "file; unlock or start the keychain and try again, or give the desk the URL in the "
            "BOXOFFICE_DATABASE_URL environment variable instead."
        ) from None
    return _render(parsed._replace(password=None))


def with_password(url: str) -> str:
    """A PostgreSQL ``url`` without a password gets the one the keychain holds for it, if any.

    A keychain that cannot be read is logged and the URL is used as it is: the server may not need
    a password (trust, peer or certificate sign-in), and if it does it says so when the desk connects.
    """
    parsed = _postgresql(url)
    if parsed is None or parsed.password is not None or not parsed.username:
        return url
    try:
        secret = keychain.get_password(SERVICE, account(parsed))
    except keychain.KeychainError as exc:
        log.warning("the database password could not be read from the keychain (%s)", exc)
        return url
    return _render(parsed.set(password=secret)) if secret else url
