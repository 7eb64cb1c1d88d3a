"""Input at the edges, on SQLite and PostgreSQL alike: the money ceiling, huge ids, unstorable characters, odd files."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from boxoffice.db.engine import Database
from boxoffice.domain.models import Order
from boxoffice.errors import CartError, ImportError_, InvalidInput, NotFound
from boxoffice.money import MAX_AMOUNT, parse_amount
from boxoffice.services.admin.conference_import import import_conference_text
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.cart import CartService
from boxoffice.services.sales.checkout import CheckoutService
from boxoffice.services.sales.customers import CustomerService
from boxoffice.services.sales.orders import OrderService
from boxoffice.timeutil import FixedClock
from tests import factories as f

EXAMPLE = Path(__file__).resolve().parent.parent / "data" / "conference.example.toml"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Database:
    return request.getfixturevalue("db" if request.param == "sqlite" else "pg_db")


@pytest.fixture
def sale(database: Database) -> dict[str, Any]:
    ctx = ServiceContext(db=database, clock=FixedClock())
    conf = f.conference(database)
    dearest = f.ticket_type(database, conf.id, name="Patron", price=MAX_AMOUNT, limit_per_user=5000)
    return {"ctx": ctx, "conference": conf.id, "dearest": dearest.id, "carts": CartService(ctx)}


def test_999_of_the_dearest_ticket_is_refused_before_anything_is_written(sale: dict[str, Any]) -> None:
    carts: CartService = sale["carts"]
    cart = carts.new_walkup_cart(sale["conference"])
    with pytest.raises(CartError, match=r"more than the largest amount one order may hold \(99,999,999\.99\)"):
        carts.add_ticket(cart.id, sale["dearest"], 999)
    assert carts.get(cart.id).lines == ()
    one = carts.add_ticket(cart.id, sale["dearest"], 1)
    with pytest.raises(CartError, match="largest amount"):
        carts.set_quantity(cart.id, one.lines[0].item_id, 999)
    assert [line.quantity for line in carts.get(cart.id).lines] == [1]
    order = CheckoutService(sale["ctx"]).checkout(cart.id)
    assert order.total == MAX_AMOUNT   # the ceiling itself is stored exactly on both databases
    assert OrderService(sale["ctx"]).detail(order.id).summary.total == MAX_AMOUNT


def test_ids_of_2_to_the_63_or_more_are_not_found(sale: dict[str, Any]) -> None:
    carts: CartService = sale["carts"]
    orders = OrderService(sale["ctx"])
    cart = carts.new_walkup_cart(sale["conference"])
    for call in (lambda: carts.get(2**63), lambda: orders.detail(2**64),
                 lambda: carts.add_ticket(cart.id, 2**63), lambda: orders.search(2**63, "a"),
                 lambda: carts.open_cart(sale["conference"], 2**70)):
        with pytest.raises(NotFound, match="No record has that number"):
            call()


@pytest.mark.parametrize("text", ["ab\x00c", "\x00", "liz\U0010ffff", "\U0010ffff", "a\ufffe"])
def test_unstorable_characters_in_a_search_get_a_plain_message(sale: dict[str, Any], text: str) -> None:
    with pytest.raises(InvalidInput, match="cannot be stored or searched for"):
        OrderService(sale["ctx"]).search(sale["conference"], text)
    with pytest.raises(InvalidInput, match="cannot be stored or searched for"):
        OrderService(sale["ctx"]).count(sale["conference"], text)
    with pytest.raises(InvalidInput, match="cannot be stored or searched for"):
        CustomerService(sale["ctx"]).find(text)
    with pytest.raises(InvalidInput, match="cannot be stored or searched for"):
        CustomerService(sale["ctx"]).get_or_create(name=text, email="", company="")


def test_the_database_backstop_names_an_amount_too_large(sale: dict[str, Any], database: Database) -> None:
    """Past the services (a hand-made statement): PostgreSQL's overflow is a plain message too."""
    carts: CartService = sale["carts"]
    cart = carts.new_walkup_cart(sale["conference"])
    carts.add_ticket(cart.id, sale["dearest"], 1)
    order = CheckoutService(sale["ctx"]).checkout(cart.id)
    if not database.is_postgresql:
        pytest.skip("SQLite stores any number; the services keep amounts under the ceiling")
    with pytest.raises(InvalidInput, match="larger than the database can hold"), database.write() as session:
        session.execute(update(Order).where(Order.id == order.id).values(total=Decimal("1e11")))


# --------------------------------------------------------------------------- conference files

def _numbers(text: str) -> list[re.Match[str]]:
    return list(re.finditer(r"(?m)^(\w+) = (-?[0-9][0-9_]*(?:\.[0-9]+)?)$", text))


@pytest.mark.parametrize("value", ["1e30", "-1e30", "1e-30", "inf", "nan", "9" * 40, "18446744073709551616"])
def test_every_number_of_a_conference_file_at_the_edges_is_a_plain_refusal(
        database: Database, value: str) -> None:
    ctx = ServiceContext(db=database, clock=FixedClock())
    text = EXAMPLE.read_text()
    numbers = _numbers(text)
    assert len(numbers) > 10
    for match in numbers:
        variant = text[:match.start(2)] + value + text[match.end(2):]
        try:
            import_conference_text(ctx, variant)
        except ImportError_ as refused:
            assert "Nothing was imported" in str(refused) or match.group(1) in str(refused), str(refused)


def test_price_1e30_names_the_key(database: Database) -> None:
    ctx = ServiceContext(db=database, clock=FixedClock())
    variant = EXAMPLE.read_text().replace("price = 100.00", "price = 1e30", 1)
    with pytest.raises(ImportError_, match=r"price.*larger than the largest amount"):
        import_conference_text(ctx, variant)


def test_deeply_nested_arrays_are_refused_not_a_crash(database: Database) -> None:
    ctx = ServiceContext(db=database, clock=FixedClock())
    variant = EXAMPLE.read_text().replace("venue = ", f"deep = {'[' * 2000}{']' * 2000}\nvenue = ", 1)
    with pytest.raises(ImportError_, match="too deeply"):
        import_conference_text(ctx, variant)


@pytest.mark.parametrize("text", ["1e30", "-1e30", "1e400", "99999999999999999999999999999.99", "NaN", "1e-30"])
def test_parse_amount_refuses_edge_amounts_plainly(text: str) -> None:
    with pytest.raises(ValueError, match=r"amount|decimals"):
        parse_amount(text)
