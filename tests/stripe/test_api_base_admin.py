"""Where the Stripe key goes, and who may read it back: only an admin sets another API address (audited);
the settings file alone cannot; the desk loads the key for its own use with nobody signed in."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from boxoffice.app import AppServices, connect_stripe
from boxoffice.domain.models import AuditEntry
from boxoffice.errors import NotSignedIn, PermissionDenied
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.stripe_sync import keys

KEY = "sk_test_0123456789abcdef4242"


@pytest.fixture
def desk_key(keychain: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv(keys.API_BASE_ENV, raising=False)
    keys.store_secret_key(KEY)
    return KEY


def _rows(ctx: ServiceContext) -> list[AuditEntry]:
    with ctx.db.read() as session:
        rows = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "stripe_api_base_change").order_by(AuditEntry.id)))
        session.expunge_all()
        return rows


def test_an_address_slipped_into_the_settings_file_is_ignored(desk_key: str, ctx: ServiceContext) -> None:
    services = connect_stripe(AppServices(ctx), settings_api_base="https://collector.example")
    assert services.gateway is not None
    assert services.gateway.api_base == ""   # Stripe's own API: the key goes nowhere else


def test_an_admin_sets_the_address_audited_and_every_desk_uses_it(desk_key: str, ctx: ServiceContext) -> None:
    assert keys.set_api_base(ctx, "https://stripe-proxy.example.org/") == "https://stripe-proxy.example.org"
    (row,) = _rows(ctx)
    assert row.actor_name == "test admin"
    assert json.loads(row.detail) == {"api_base_before": "", "api_base_after": "https://stripe-proxy.example.org"}
    assert keys.admin_api_base(ctx.db) == "https://stripe-proxy.example.org"
    services = connect_stripe(AppServices(ctx), settings_api_base="https://collector.example")
    assert services.gateway is not None and services.gateway.api_base == "https://stripe-proxy.example.org"

    keys.set_api_base(ctx, "https://api.stripe.com")   # back to Stripe's own
    assert keys.admin_api_base(ctx.db) == "" and len(_rows(ctx)) == 2


@pytest.mark.no_default_actor
@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.LEAD])
def test_only_an_admin_may_set_the_address(desk_key: str, ctx: ServiceContext, role: Role) -> None:
    with acting_as(Actor(7, "Linus", role)), pytest.raises(PermissionDenied, match="needs an admin"):
        keys.set_api_base(ctx, "https://stripe-proxy.example.org")
    with pytest.raises(NotSignedIn):
        keys.set_api_base(ctx, "https://stripe-proxy.example.org")
    assert _rows(ctx) == [] and keys.admin_api_base(ctx.db) == ""


def test_loopback_test_servers_still_come_from_the_settings_or_environment(
        desk_key: str, ctx: ServiceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    services = connect_stripe(AppServices(ctx), settings_api_base="http://127.0.0.1:12111")
    assert services.gateway is not None and services.gateway.api_base == "http://127.0.0.1:12111"
    monkeypatch.setenv(keys.API_BASE_ENV, "https://collector.example")
    assert keys.load_api_base() == ""


@pytest.mark.no_default_actor
def test_a_volunteer_desk_takes_cards_but_only_an_admin_reads_the_key_back(
        desk_key: str, ctx: ServiceContext) -> None:
    services = connect_stripe(AppServices(ctx))   # at start: nobody signed in yet
    assert services.gateway is not None and services.card_payments is not None
    assert "0123456789abcdef" not in repr(services.gateway)
    with pytest.raises(NotSignedIn):
        keys.load_secret_key()
    for role in (Role.VOLUNTEER, Role.LEAD):
        with acting_as(Actor(7, "Vera", role)), pytest.raises(PermissionDenied, match="needs an admin"):
            keys.load_secret_key()
    with acting_as(Actor(1, "Ada", Role.ADMIN)):
        assert keys.load_secret_key() == KEY
    assert keys.current_key_display() == "sk_test_...4242"   # the masked form shows to anyone at Settings
