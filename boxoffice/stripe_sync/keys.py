"""Stripe secret keys: read from the environment or the OS keychain, never stored in clear, shown masked.

The keychain is keyring's backend (``boxoffice/keychain.py``: the Secret Service on Linux,
Credential Manager on Windows, Keychain on macOS); entries are service ``boxoffice-stripe``, account ``secret-key:<conference slug>``
with the desk-wide ``secret-key`` as fallback.

``change_secret_key`` is the admin-only way to replace the key: it checks the permission, saves the
key to the keychain and writes a STRIPE_KEY_CHANGE audit row holding only the masked keys.

Who may read the key: the desk itself, for its own connection to Stripe (``desk_secret_key``, used
by the gateway at start, before anyone signs in, so a volunteer's desk still takes cards); a
person reading it back (``load_secret_key``: to show, copy or export it) must be an admin.

The API base: Stripe's own API unless an admin set another (``set_api_base``: https only, audited;
the newest STRIPE_API_BASE_CHANGE audit row is the one in force). The environment or the settings
file may only name Stripe's API or a test server on this computer; any other address there is
ignored, since anyone using the laptop's account can edit that file.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

from boxoffice import keychain
from boxoffice.errors import ConfigError
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import Permission, authorize

if TYPE_CHECKING:
    from boxoffice.db.engine import Database

log = logging.getLogger(__name__)

SECRET_KEY_ENV = "BOXOFFICE_STRIPE_SECRET_KEY"
API_BASE_ENV = "BOXOFFICE_STRIPE_API_BASE"
KEYRING_SERVICE = "boxoffice-stripe"
_VALID_PREFIXES = ("sk_", "rk_")


def mask(secret: str | None) -> str:
    """STR-2: ``****`` followed by the last 4 characters; keys shorter than 4 give ``****``."""
    if not secret or len(secret) < 4:
        return "****"
    return "****" + secret[-4:]


def describe(secret: str | None) -> str:
    """The key's kind and last 4 characters (``sk_test_...4242``); nothing in between, ever."""
    if not secret or len(secret) < 16:
        return mask(secret) if secret else ""
    for kind in ("sk_test_", "sk_live_", "rk_test_", "rk_live_", "sk_", "rk_"):
        if secret.startswith(kind):
            return f"{kind}...{secret[-4:]}"
    return mask(secret)


def _account(conference_slug: str | None) -> str:
    return f"secret-key:{conference_slug}" if conference_slug else "secret-key"


def validate_secret_key(secret: str) -> str:
    """Accept standard (sk_) and restricted (rk_) keys; refuse anything else with an actionable text."""
    cleaned = secret.strip()
    if not cleaned.startswith(_VALID_PREFIXES) or len(cleaned) < 8:
        raise ConfigError(
            f"The Stripe key {mask(cleaned)} does not look like a secret key. Paste a key that starts "
            "with sk_ or rk_ from the Stripe dashboard (Developers > API keys)."
        )
    return cleaned


def load_secret_key(conference_slug: str | None = None) -> str | None:
    """Admins: the key itself, read back for a person (to show, copy or export it)."""
    authorize(Permission.MANAGE_STRIPE_KEY)
    return desk_secret_key(conference_slug)


def desk_secret_key(conference_slug: str | None = None) -> str | None:
    """The key for this desk's own connection to Stripe: BOXOFFICE_STRIPE_SECRET_KEY, then the keychain.

    No sign-in is asked: the desk loads it at start for its gateway, whose only use of it is the
    Authorization header of requests to the (https) Stripe API. Nothing shows it to a person; for
    that, ``load_secret_key`` (admins). A keychain that cannot be read gives None (logged), so a
    broken keychain never stops cash sales.
    """
    env = os.environ.get(SECRET_KEY_ENV, "").strip()
    if env:
        return validate_secret_key(env)
    try:
        for account in (_account(conference_slug), _account(None)):
            value = keychain.get_password(KEYRING_SERVICE, account)
            if value:
                return validate_secret_key(value)
    except keychain.KeychainError as exc:
        log.warning("the OS keychain could not be read: %s", exc)
    return None


def store_secret_key(secret: str, conference_slug: str | None = None) -> str:
    """Save a key to the OS keychain; returns its masked form for display."""
    cleaned = validate_secret_key(secret)
    try:
        keychain.set_password(KEYRING_SERVICE, _account(conference_slug), cleaned)
    except keychain.KeychainError as exc:
        raise ConfigError(
            f"The Stripe key could not be saved in the system keychain: {exc}. Unlock or start the "
            f"keychain (GNOME Keyring, KWallet), or set {SECRET_KEY_ENV} in the environment instead."
        ) from None
    log.info("Stripe key %s saved to the keychain", mask(cleaned))
    return mask(cleaned)


def delete_secret_key(conference_slug: str | None = None) -> None:
    """Remove the conference's key (or the desk-wide one) from the keychain; no key is not an error."""
    try:
        keychain.delete_password(KEYRING_SERVICE, _account(conference_slug))
    except keychain.KeychainError as exc:
        raise ConfigError(f"The Stripe key could not be removed from the keychain: {exc}.") from None


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def validate_api_base(value: str) -> str:
    """An https URL (plain http only to this machine, for test servers); anything else is refused.

    The secret key travels in every request's Authorization header, so it must never be sent in
    clear over the network or to a URL someone slipped into the settings file.
    """
    from urllib.parse import urlsplit

    cleaned = value.strip().rstrip("/") if isinstance(value, str) else ""
    if not cleaned:
        return ""
    try:
        parts = urlsplit(cleaned)
        host = (parts.hostname or "").lower()
    except ValueError:
        parts, host = None, ""
    if parts is not None and host and not parts.username and not parts.password and (
            parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK_HOSTS)):
        return cleaned
    raise ConfigError(
        f"The Stripe API address {cleaned[:80]!r} is refused: the Stripe key is only sent over https "
        "(plain http only to this computer, for a test server). Remove stripe_api_base from the settings "
        "file to use Stripe's own API.")


STRIPE_API = "https://api.stripe.com"


def _is_loopback(base: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(base).hostname or "").lower() in _LOOPBACK_HOSTS


def load_api_base(settings_value: str = "", *, admin_value: str = "") -> str:
    """The API base in force ("" for Stripe's own); https only.

    BOXOFFICE_STRIPE_API_BASE, else the settings value, counts when it names Stripe's API or a
    server on this computer (tests); another address there is ignored (logged). Otherwise the
    address an admin set (``admin_value``: ``admin_api_base(db)``), else Stripe's own.
    """
    local = validate_api_base(os.environ.get(API_BASE_ENV, "").strip() or settings_value.strip())
    if local and (local == STRIPE_API or _is_loopback(local)):
        return local
    admin = validate_api_base(admin_value)
    if local and local != admin:
        log.warning("Stripe API address %r from the settings ignored: only an admin may set another "
                    "address (Settings > Stripe), and that change is audited", local[:80])
    return admin


def admin_api_base(db: Database) -> str:
    """The API base an admin set (the newest STRIPE_API_BASE_CHANGE audit row), "" for none."""
    import json

    from sqlalchemy import text

    from boxoffice.services.staff.audit import STRIPE_API_BASE_CHANGE

    with db.connect() as conn:
        detail = conn.execute(text(
            "SELECT detail FROM audit_log WHERE action = :action ORDER BY id DESC LIMIT 1"),
            {"action": STRIPE_API_BASE_CHANGE}).scalar()
    if not detail:
        return ""
    try:
        value = json.loads(detail).get("api_base_after", "")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def set_api_base(ctx: ServiceContext, value: str) -> str:
    """Admins: the Stripe API address this database's desks use ("" for Stripe's own); audited.

    https only (plain http only to this computer). Returns the address now in force.
    """
    from boxoffice.services.staff import audit

    authorize(Permission.MANAGE_STRIPE_KEY)
    cleaned = validate_api_base(value)
    if cleaned == STRIPE_API:
        cleaned = ""
    before = admin_api_base(ctx.db)
    with ctx.db.write() as session:
        audit.record(
            session, ctx, audit.STRIPE_API_BASE_CHANGE, target_type="stripe_api_base", target_label="all desks",
            detail={"api_base_before": before, "api_base_after": cleaned},
        )
    log.info("Stripe API address set to %s", cleaned or "Stripe's own")
    return cleaned


def env_key_overrides() -> bool:
    """True when BOXOFFICE_STRIPE_SECRET_KEY is set: it wins over the keychain."""
    return bool(os.environ.get(SECRET_KEY_ENV, "").strip())


def current_key_display(conference_slug: str | None = None) -> str:
    """The configured key described for the Settings screen, or "" when there is none."""
    try:
        return describe(desk_secret_key(conference_slug))   # masked: nothing of the key in between
    except ConfigError:
        return "(the configured key is not valid)"


def change_secret_key(ctx: ServiceContext, secret: str, conference_slug: str | None = None) -> str:
    """Admins: save a new Stripe secret key to the keychain and audit it (masked); returns its description."""
    from boxoffice.services.staff import audit  # the ORM: not needed to look a key up at start

    authorize(Permission.MANAGE_STRIPE_KEY)
    cleaned = validate_secret_key(secret)
    try:
        before = desk_secret_key(conference_slug)
    except ConfigError:
        before = None
    with ctx.db.write() as session:
        audit.record(
            session, ctx, audit.STRIPE_KEY_CHANGE, target_type="stripe_key",
            target_label=conference_slug or "this desk",
            detail={"key_before": describe(before), "key_after": describe(cleaned)},
        )
        store_secret_key(cleaned, conference_slug)  # a keychain failure rolls the audit row back
    return describe(cleaned)
