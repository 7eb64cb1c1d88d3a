"""STR-2 [DESK]: secret keys from the environment or the keychain, never shown in clear; masked display."""

from __future__ import annotations

from collections.abc import Iterator

import keyring
import pytest
from keyring.backend import KeyringBackend

from boxoffice.errors import ConfigError
from boxoffice.stripe_sync import keys


class MemoryKeyring(KeyringBackend):
    """A keyring backend held in memory, so tests never touch the real OS keychain."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def memory_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv(keys.SECRET_KEY_ENV, raising=False)
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.mark.parametrize(
    ("secret", "shown"),
    [("sk_test_abcdef1234", "****1234"), ("rk_live_zz9876", "****9876"), ("abc", "****"), ("", "****")],
)
def test_str2_mask_shows_only_the_last_four(secret: str, shown: str) -> None:
    assert keys.mask(secret) == shown


def test_keychain_round_trip_per_conference_with_a_desk_wide_fallback(memory_keyring: MemoryKeyring) -> None:
    assert keys.load_secret_key("pycon") is None
    assert keys.store_secret_key("  rk_test_restricted_5678 ", None) == "****5678"
    assert keys.load_secret_key("pycon") == "rk_test_restricted_5678"
    keys.store_secret_key("sk_test_conference_1111", "pycon")
    assert keys.load_secret_key("pycon") == "sk_test_conference_1111"
    keys.delete_secret_key("pycon")
    assert keys.load_secret_key("pycon") == "rk_test_restricted_5678"


def test_environment_wins_and_bad_keys_are_refused(memory_keyring: MemoryKeyring, monkeypatch) -> None:
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
        memory_keyring: MemoryKeyring, ctx) -> None:
    keys.store_secret_key("sk_test_oldoldoldold1111")
    shown = keys.change_secret_key(ctx, " sk_test_newnewnewnew4242 ")
    assert shown == "sk_test_...4242" == keys.current_key_display()
    assert keys.load_secret_key() == "sk_test_newnewnewnew4242"
    (row,) = _audit_rows(ctx)
    assert row.action == "stripe_key_change" and row.actor_name == "test admin"
    assert "sk_test_...1111" in row.detail and "sk_test_...4242" in row.detail
    assert "newnewnew" not in row.detail and "oldoldold" not in row.detail


@pytest.mark.no_default_actor
def test_only_an_admin_may_change_the_key(memory_keyring: MemoryKeyring, ctx) -> None:
    from boxoffice.errors import PermissionDenied
    from boxoffice.services.access import Actor, Role, acting_as

    with acting_as(Actor(7, "Linus", Role.LEAD)), pytest.raises(PermissionDenied, match="needs an admin"):
        keys.change_secret_key(ctx, "sk_test_newnewnewnew4242")
    assert keys.load_secret_key() is None and _audit_rows(ctx) == []


def test_a_bad_key_is_refused_without_an_audit_row(memory_keyring: MemoryKeyring, ctx) -> None:
    with pytest.raises(ConfigError, match="does not look like"):
        keys.change_secret_key(ctx, "pk_test_publishable_key")
    assert _audit_rows(ctx) == []
