"""STR-2 [DESK]: secret keys from the environment or the keychain, never shown in clear; masked display.

The keychain is the desk's real one for the platform: on Linux keyring's SecretService backend talking
over a private D-Bus session bus to the fake provider of tests/fakes/fake_secret_service.py; on
Windows/macOS keyring with an in-memory backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from boxoffice import keychain
from boxoffice.errors import ConfigError
from boxoffice.stripe_sync import keys
from tests.fakes.memory_keyring import MemoryKeyring


@pytest.mark.parametrize(
    ("secret", "shown"),
    [("sk_test_abcdef1234", "****1234"), ("rk_live_zz9876", "****9876"), ("abc", "****"), ("", "****")],
)
def test_str2_mask_shows_only_the_last_four(secret: str, shown: str) -> None:
    assert keys.mask(secret) == shown


def test_keychain_round_trip_per_conference_with_a_desk_wide_fallback(keychain: Any) -> None:
    assert keys.load_secret_key("pycon") is None
    assert keys.store_secret_key("  rk_test_restricted_5678 ", None) == "****5678"
    assert keys.load_secret_key("pycon") == "rk_test_restricted_5678"
    keys.store_secret_key("sk_test_conference_1111", "pycon")
    assert keys.load_secret_key("pycon") == "sk_test_conference_1111"
    keys.delete_secret_key("pycon")
    assert keys.load_secret_key("pycon") == "rk_test_restricted_5678"


def test_environment_wins_and_bad_keys_are_refused(keychain: Any, monkeypatch) -> None:
    keys.store_secret_key("sk_test_keychain_2222")
    monkeypatch.setenv(keys.SECRET_KEY_ENV, "sk_test_environment_3333")
    assert keys.load_secret_key() == "sk_test_environment_3333"
    monkeypatch.setenv(keys.SECRET_KEY_ENV, "pk_test_publishable_4444")
    with pytest.raises(ConfigError) as info:
        keys.load_secret_key()
    assert "****4444" in str(info.value) and "pk_test_publishable" not in str(info.value)


def test_api_base_from_environment_else_settings(monkeypatch) -> None:
    monkeypatch.delenv(keys.API_BASE_ENV, raising=False)
    assert keys.load_api_base("http://127.0.0.1:9/") == "http://127.0.0.1:9"
    monkeypatch.setenv(keys.API_BASE_ENV, "http://127.0.0.1:8420")
    assert keys.load_api_base("http://other") == "http://127.0.0.1:8420"


def _audit_rows(ctx) -> list:
    from sqlalchemy import select

    from boxoffice.domain.models import AuditEntry

    with ctx.db.read() as session:
        rows = list(session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


def test_an_admin_changes_the_key_and_the_audit_row_holds_only_the_masked_keys(
        keychain: Any, ctx) -> None:
    keys.store_secret_key("sk_test_oldoldoldold1111")
    shown = keys.change_secret_key(ctx, " sk_test_newnewnewnew4242 ")
    assert shown == "sk_test_...4242" == keys.current_key_display()
    assert keys.load_secret_key() == "sk_test_newnewnewnew4242"
    (row,) = _audit_rows(ctx)
    assert row.action == "stripe_key_change" and row.actor_name == "test admin"
    assert "sk_test_...1111" in row.detail and "sk_test_...4242" in row.detail
    assert "newnewnew" not in row.detail and "oldoldold" not in row.detail


@pytest.mark.no_default_actor
def test_only_an_admin_may_change_the_key(keychain: Any, ctx) -> None:
    from boxoffice.errors import PermissionDenied
    from boxoffice.services.staff.access import Actor, Role, acting_as

    with acting_as(Actor(7, "Linus", Role.LEAD)), pytest.raises(PermissionDenied, match="needs an admin"):
        keys.change_secret_key(ctx, "sk_test_newnewnewnew4242")
    assert keys.desk_secret_key() is None and _audit_rows(ctx) == []


def test_a_bad_key_is_refused_without_an_audit_row(keychain: Any, ctx) -> None:
    with pytest.raises(ConfigError, match="does not look like"):
        keys.change_secret_key(ctx, "pk_test_publishable_key")
    assert _audit_rows(ctx) == []


@pytest.fixture
def windows_macos_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    """The keyring path Windows and macOS take, with an in-memory backend."""
    import keyring

    monkeypatch.delenv(keys.SECRET_KEY_ENV, raising=False)
    monkeypatch.setattr(keychain, "LINUX", False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_windows_and_macos_keep_using_keyring(windows_macos_keyring: MemoryKeyring) -> None:
    keys.store_secret_key("rk_test_restricted_5678")
    keys.store_secret_key("sk_test_conference_1111", "pycon")
    assert windows_macos_keyring.items == {("boxoffice-stripe", "secret-key"): "rk_test_restricted_5678",
                                           ("boxoffice-stripe", "secret-key:pycon"): "sk_test_conference_1111"}
    assert keys.load_secret_key("pycon") == "sk_test_conference_1111"
    keys.delete_secret_key("pycon")
    keys.delete_secret_key("pycon")  # nothing left to delete is not an error
    assert keys.load_secret_key("pycon") == "rk_test_restricted_5678"


@pytest.mark.parametrize("base", ["http://attacker.example", "http://10.0.0.5:8080", "ftp://x", "https://u:p@x.example",
                                  "stripe.example", "http://localhost.attacker.example"])
def test_the_key_is_never_sent_to_a_plain_http_or_odd_api_base(base: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(keys.API_BASE_ENV, raising=False)
    with pytest.raises(ConfigError, match="only sent over https"):
        keys.load_api_base(base)


def test_a_refused_api_base_builds_no_gateway(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from boxoffice.stripe_sync.gateway import StripeGateway

    monkeypatch.setenv(keys.SECRET_KEY_ENV, "sk_test_0123456789abcdef")
    monkeypatch.delenv(keys.API_BASE_ENV, raising=False)
    with pytest.raises(ConfigError):
        StripeGateway.from_environment(settings_api_base="http://attacker.example")


@pytest.mark.parametrize("base", ["https://api.stripe.com", "http://127.0.0.1:12111/", "http://localhost:8420"])
def test_https_and_loopback_test_servers_are_accepted(base: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(keys.API_BASE_ENV, raising=False)
    assert keys.load_api_base(base) == base.rstrip("/")
