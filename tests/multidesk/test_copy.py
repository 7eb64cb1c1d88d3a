"""`boxoffice db copy` moves a single-desk SQLite database onto PostgreSQL keeping every row; compare proves it."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update

from bench.datagen import Scale, build
from boxoffice.db.copy import compare_databases, copy_database, run_compare, run_copy, tables_in_fk_order
from boxoffice.db.engine import Database, sqlite_url
from boxoffice.domain.models import Customer, Order
from boxoffice.errors import ConfigError
from boxoffice.services.sales.order_state import recount
from tests import factories

SMALL = Scale(orders=400, ticket_types=8, addons=4, vouchers=3, staff=2)


@pytest.fixture(scope="module")
def source_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A realistic single-desk database: catalogue, customers, orders in every status, payments, refunds."""
    path = tmp_path_factory.mktemp("copy-source") / "desk.sqlite3"
    build(path, SMALL, seed=7)
    return path


@pytest.fixture
def source_url(source_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "desk.sqlite3"
    path.write_bytes(source_template.read_bytes())
    return sqlite_url(path)


def row_counts(url: str) -> dict[str, int]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                    for t in tables_in_fk_order()}
    finally:
        db.dispose()


@pytest.fixture
def pg_target(pg_url: str) -> Iterator[str]:
    yield pg_url


def test_copy_sqlite_to_postgresql_keeps_every_row(source_url: str, pg_target: str) -> None:
    before = row_counts(source_url)
    assert before["order"] == 400 and before["payment"] > 0 and before["refund"] > 0
    report = copy_database(source_url, pg_target)
    assert report.rows == before
    assert row_counts(pg_target) == before
    comparison = compare_databases(source_url, pg_target)
    assert comparison.ok, comparison.differences()
    target = Database(pg_target)
    try:
        with target.read() as s:
            assert recount(s) == []  # the inventory counters still agree with the orders
    finally:
        target.dispose()


def test_copy_resets_postgresql_sequences_so_new_rows_get_fresh_ids(source_url: str, pg_target: str) -> None:
    copy_database(source_url, pg_target)
    target = Database(pg_target)
    try:
        with target.read() as s:
            highest = s.scalar(select(func.max(Customer.id)))
        new = factories.customer(target, name="After the move", email="new@example.org")
        assert new.id == highest + 1
    finally:
        target.dispose()


def test_compare_finds_a_changed_row(source_url: str, pg_target: str) -> None:
    copy_database(source_url, pg_target)
    target = Database(pg_target)
    try:
        with target.write() as s:
            first = s.scalar(select(func.min(Order.id)))
            s.execute(update(Order).where(Order.id == first).values(billing_name="Someone Else"))
    finally:
        target.dispose()
    comparison = compare_databases(source_url, pg_target)
    assert not comparison.ok
    assert [t.table for t in comparison.differences()] == ["order"]
    diff = comparison.differences()[0]
    assert diff.rows_a == diff.rows_b  # same count, different content: caught by the checksum


def test_copy_refuses_a_target_that_already_holds_data(source_url: str, pg_target: str) -> None:
    target = Database(pg_target)
    try:
        factories.customer(target)
    finally:
        target.dispose()
    with pytest.raises(ConfigError, match="already holds data"):
        copy_database(source_url, pg_target)
    assert row_counts(pg_target)["customer"] == 1
    assert row_counts(pg_target)["order"] == 0


def test_copy_failing_midway_leaves_nothing_behind(source_url: str, pg_target: str) -> None:
    """SQLite does not enforce VARCHAR lengths; PostgreSQL does. The copy fails as a whole."""
    src = Database(source_url)
    try:
        with src.engine.begin() as conn:
            conn.execute(text("UPDATE customer SET name = :n WHERE id = (SELECT max(id) FROM customer)"),
                         {"n": "x" * 300})
    finally:
        src.dispose()
    with pytest.raises(ConfigError, match="Nothing was copied"):
        copy_database(source_url, pg_target)
    assert set(row_counts(pg_target).values()) == {0}


def test_copy_postgresql_back_to_a_new_sqlite_file(source_url: str, pg_target: str, tmp_path: Path) -> None:
    copy_database(source_url, pg_target)
    back = sqlite_url(tmp_path / "back.sqlite3")
    copy_database(pg_target, back)
    assert compare_databases(source_url, back).ok


def test_commands_print_and_exit_codes(source_url: str, pg_target: str) -> None:
    out = io.StringIO()
    args = argparse.Namespace(from_url=source_url, to_url=pg_target)
    assert run_copy(args, out) == 0
    assert "The two databases hold the same rows" in out.getvalue()
    target = Database(pg_target)
    try:
        factories.staff(target, "Late Volunteer")
    finally:
        target.dispose()
    out = io.StringIO()
    assert run_compare(args, out) == 2
    assert "The databases differ in: staff." in out.getvalue()
