"""Order search on a PostgreSQL database with a linguistic (ICU en-US) collation: prefixes still hold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from boxoffice.db.engine import Database
from boxoffice.db.migrate import upgrade
from boxoffice.domain.models import Conference, Order
from boxoffice.services.context import ServiceContext
from boxoffice.services.sales.order_search import _PREFIX_COLUMNS, _prefix_range
from boxoffice.services.sales.orders import OrderService
from boxoffice.timeutil import FixedClock
from tests.multidesk.conftest import _admin_connect, drop_database, pg_url_for, truncate_all, unique_db_name
from tests.services.money_helpers import pending_order, shop


@pytest.fixture(scope="module")
def icu_url(pg_server: None) -> Iterator[str]:
    name = unique_db_name("boxoffice_icu")
    conn = _admin_connect()
    try:
        conn.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                     "LOCALE 'C.UTF-8'")
    finally:
        conn.close()
    try:
        database = Database(pg_url_for(name))
        upgrade(database)
        database.dispose()
        yield pg_url_for(name)
    finally:
        drop_database(name)


@pytest.fixture
def icu_db(icu_url: str) -> Iterator[Database]:
    database = Database(icu_url)
    truncate_all(database)
    yield database
    database.dispose()


ORDERS = [
    ("PY27-ZD7UXZP3", "Zoe Zed", "zoe@example.org", ""),
    ("PY27-AB12CD34", "Liz Taylor", "liz@example.org", ""),
    ("PY27-QQ11RR22", "Ada Lovelace", "ada@example.org", "9 Lives Ltd"),
    ("PY27-MM00NN00", "Zoe Adams", "zadams@example.org", "Lizard Labs"),
]


@pytest.fixture
def icu_orders(icu_db: Database) -> tuple[ServiceContext, int]:
    clock = FixedClock()
    s = shop(icu_db)
    with icu_db.write() as session:
        session.get(Conference, s.conference_id).reference_prefix = "PY27"  # type: ignore[union-attr]
    for i, (ref, name, email, company) in enumerate(ORDERS):
        pending_order(icu_db, s, clock.now() - timedelta(minutes=i), reference=ref, billing_name=name,
                      billing_email=email, billing_company=company)
    return ServiceContext(db=icu_db, clock=clock), s.conference_id


def test_the_database_really_sorts_linguistically(icu_db: Database) -> None:
    # What broke the plain range: "lizzy" sorts after "li{" (punctuation first), digits after ":".
    with icu_db.connect() as conn:
        assert conn.execute(text("SELECT 'lizzy' < 'li{', '9 lives' < ':', 'zoe zed' < 'zoe {'")).one() == (
            False, False, False)


@pytest.mark.parametrize(("typed", "expected"), [
    ("liz", ["PY27-AB12CD34", "PY27-MM00NN00"]),          # a name, an email and a company start
    ("zoe z", ["PY27-ZD7UXZP3"]),
    ("9", ["PY27-QQ11RR22"]),
    ("PY27-ZD7UXZP3", ["PY27-ZD7UXZP3"]),
    ("py27-ab12cd34", ["PY27-AB12CD34"]),
    ("ZD7UXZP3", ["PY27-ZD7UXZP3"]),
    ("PY27ZD7U", ["PY27-ZD7UXZP3"]),
    ("zoe", ["PY27-MM00NN00", "PY27-ZD7UXZP3"]),
])
def test_prefixes_are_found_under_an_icu_collation(icu_orders: tuple[ServiceContext, int], typed: str,
                                                    expected: list[str]) -> None:
    ctx, conference_id = icu_orders
    orders = OrderService(ctx)
    assert sorted(o.reference for o in orders.search(conference_id, typed)) == expected
    assert orders.count(conference_id, typed) == len(expected)


def test_each_search_range_is_served_by_its_code_point_index(icu_orders: tuple[ServiceContext, int]) -> None:
    """The ranges compare ``(expr) COLLATE "C"``, the expressions migration 0006 indexes."""
    ctx, _conference_id = icu_orders
    names = ["ix_order_reference_search"] * 3 + ["ix_order_name_search", "ix_order_email_search",
                                                  "ix_order_company_search"]
    for (column, low, high), index in zip(_PREFIX_COLUMNS, names, strict=True):
        query = select(Order.id).where(_prefix_range(column, low, high)).params(**{low: "liz", high: "li{"})
        sql = str(query.compile(dialect=ctx.db.engine.dialect, compile_kwargs={"literal_binds": True}))
        with ctx.db.read() as session:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(session.execute(text("EXPLAIN " + sql)).scalars())
        assert f"Index Scan using {index}" in plan and "Index Cond" in plan, plan
