"""Stripe secret keys: read from the environment or the OS keychain, never stored in clear, shown masked.

The keychain is keyring's backend (``boxoffice/keychain.py``: the Secret Service on Linux,
Credential Manager on Windows, Keychain on macOS); entries are service ``boxoffice-stripe``, account ``secret-key:<conference slug>``
with the desk-wide ``secret-key`` as fallback.

``change_secret_key`` is the admin-only way to replace the key: it checks the permission, saves the
key to the keychain and writes a STRIPE_KEY_CHANGE audit row holding only the masked keys.
"""

from __future__ import annotations

import logging
import os

from boxoffice import keychain
from boxoffice.errors import ConfigError
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import Permission, authorize

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
    """BOXOFFICE_STRIPE_SECRET_KEY first (headless use), then the keychain entry of the conference.

    A keychain that cannot be read gives None (logged), so a broken keychain never stops cash sales.
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


def load_api_base(settings_value: str = "") -> str:
    """BOXOFFICE_STRIPE_API_BASE, else the settings value, else empty (Stripe's own API); https only."""
    return validate_api_base(os.environ.get(API_BASE_ENV, "").strip() or settings_value.strip())


def env_key_overrides() -> bool:
    """True when BOXOFFICE_STRIPE_SECRET_KEY is set: it wins over the keychain."""
    return bool(os.environ.get(SECRET_KEY_ENV, "").strip())


def current_key_display(conference_slug: str | None = None) -> str:
    """The configured key described for the Settings screen, or "" when there is none."""
    try:
        return describe(load_secret_key(conference_slug))
    except ConfigError:
        return "(the configured key is not valid)"


def change_secret_key(ctx: ServiceContext, secret: str, conference_slug: str | None = None) -> str:
    """Admins: save a new Stripe secret key to the keychain and audit it (masked); returns its description."""
    from boxoffice.services.staff import audit  # the ORM: not needed to look a key up at start

    authorize(Permission.MANAGE_STRIPE_KEY)
    cleaned = validate_secret_key(secret)
    try:
        before = load_secret_key(conference_slug)
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
