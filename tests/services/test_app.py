"""build_app wires every service to one migrated database; the demo data is sellable through them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from boxoffice.app import AppServices, build_app
from boxoffice.cli.checks import run_checks
from boxoffice.db.engine import sqlite_url
from boxoffice.db.migrate import current_revision, head_revision
from boxoffice.demo.seed import seed_demo, seed_if_empty
from boxoffice.errors import DatabaseUnavailable
from boxoffice.timeutil import UTC, FixedClock
from tests import factories

TODAY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[AppServices]:
    services = build_app(sqlite_url(tmp_path / "desk.sqlite3"), clock=FixedClock(TODAY), desk_name="Desk 2")
    yield services
    services.close()


def test_build_app_migrates_a_new_database_and_wires_every_service(app: AppServices) -> None:
    assert current_revision(app.db) == head_revision(app.db) == app.schema_revision
    assert app.ctx.desk_name == "Desk 2"
    for name in ("customers", "catalog", "carts", "checkout", "orders", "payments", "refunds", "credits",
                 "staff", "conferences"):
        assert getattr(app, name).__class__.__name__.endswith("Service"), name
    assert app.conferences.list() == []


def test_demo_seed_only_into_an_empty_database(app: AppServices) -> None:
    first = seed_if_empty(app.ctx)
    assert first is not None and first.vouchers_created == ("SPRING25", "STUDENT", "SPEAKER", "FRIEND10")
    assert seed_if_empty(app.ctx) is None
    again = seed_demo(app.ctx)
    assert again.vouchers_created == () and again.catalog.created == 0 and again.catalog.updated == 0
    assert app.staff.list() == []   # no staff and no default password: the first start makes the admin


def test_demo_conference_sells_today_with_its_vouchers(app: AppServices) -> None:
    demo = seed_demo(app.ctx)
    catalog = app.catalog.list_products(demo.conference_id)
    states = {p.name: p.state for p in catalog.tickets}
    assert states["Individual"] == "on_sale" and states["Early Bird"] == "on_sale"
    assert states["Student"] == "voucher_only"

    cart = app.carts.new_walkup_cart(demo.conference_id)
    cart = app.carts.apply_voucher(cart.id, "STUDENT")
    unlocked = {p.name: p for p in app.catalog.list_products(demo.conference_id, cart_id=cart.id).tickets}
    assert unlocked["Student"].state == "on_sale"
    cart = app.carts.add_ticket(cart.id, unlocked["Student"].id, 1)
    assert cart.total == Decimal("25.00")  # STUDENT unlocks without a discount (VCH-10)

    order = app.checkout.checkout(cart.id, billing_name="Sam Student")
    factories.ensure_open_shift(app.db, app.ctx.desk_name)
    paid = app.payments.pay_cash(order.id, Decimal("30.00"), )
    assert paid.change_due == Decimal("5.00") and paid.order.status == "paid"
    remaining = app.catalog.remaining_all(demo.conference_id)
    assert remaining[("ticket", unlocked["Student"].id)] == 99
    with app.db.read() as session:
        assert run_checks(session) == []


def test_spring25_takes_a_quarter_off_individual_tickets(app: AppServices) -> None:
    demo = seed_demo(app.ctx)
    individual = next(p for p in app.catalog.list_products(demo.conference_id).tickets if p.name == "Individual")
    cart = app.carts.new_walkup_cart(demo.conference_id)
    app.carts.add_ticket(cart.id, individual.id, 2)
    cart = app.carts.apply_voucher(cart.id, "SPRING25")
    assert (cart.subtotal, cart.discount, cart.total) == (Decimal("240.00"), Decimal("60.00"), Decimal("180.00"))


@pytest.mark.parametrize("url", [
    "postgresql://nobody@127.0.0.1:1/none",
    "postgresql+psycopg://nobody@127.0.0.1:1/none",  # as saved by versions that shipped psycopg
])
def test_unreachable_database_is_a_clear_user_error(url: str) -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
        build_app(url)


def test_unsupported_url_is_a_clear_user_error() -> None:
    with pytest.raises(DatabaseUnavailable, match="Unsupported database URL"):
        build_app("mysql://somewhere/db")


def test_spring25_says_it_covers_every_add_on_as_the_readme_does(app: AppServices) -> None:
    """VCH-7: SPRING25 lists no add-ons, so it discounts every add-on; the README says so."""
    from pathlib import Path

    demo = seed_demo(app.ctx)
    products = app.catalog.list_products(demo.conference_id)
    dinner = next(p for p in products.addons if p.name == "Conference Dinner")
    individual = next(p for p in products.tickets if p.name == "Individual")
    cart = app.carts.new_walkup_cart(demo.conference_id)
    cart = app.carts.apply_voucher(cart.id, "SPRING25")
    offer = "takes 25 % off Corporate and Individual tickets and every add-on"
    assert cart.voucher_offer == offer and cart.discount == Decimal("0.00")
    app.carts.add_ticket(cart.id, individual.id, 1)
    cart = app.carts.add_addon(cart.id, dinner.id, 1)
    assert cart.discount == Decimal("46.25")                 # 25 % of $120.00 and of the $65.00 dinner
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "`SPRING25` (25 % off Individual and Corporate tickets and every add-on)" in readme
