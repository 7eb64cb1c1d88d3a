"""PostgreSQL fixtures: one fresh, migrated database per test session, emptied before each test.

Without a server the tests are skipped with the reason shown; with ``CI=true`` a missing server fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from boxoffice.db.engine import Database
from boxoffice.db.migrate import upgrade
from boxoffice.domain.models import Base

PG_HOST = os.environ.get("BOXOFFICE_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BOXOFFICE_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("BOXOFFICE_TEST_PG_USER", "postgres")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests here that use the server are marked ``multidesk`` (``-m "not multidesk"`` skips them)."""
    for item in items:
        if "pg_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.multidesk)


def _admin_connect() -> Any:
    """A psycopg connection to the ``postgres`` database: each statement commits by itself."""
    import psycopg

    return psycopg.connect(user=PG_USER, host=PG_HOST, port=PG_PORT, dbname="postgres", connect_timeout=15,
                           autocommit=True)


def pg_url_for(name: str) -> str:
    return f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


def create_database(name: str) -> str:
    """CREATE DATABASE ``name`` (outside a transaction) and return its SQLAlchemy URL."""
    conn = _admin_connect()
    try:
        conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return pg_url_for(name)


def drop_database(name: str) -> None:
    conn = _admin_connect()
    try:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        conn.close()


def unique_db_name(prefix: str = "boxoffice_test") -> str:
    return f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"


def _server_problem() -> str | None:
    try:
        conn = _admin_connect()
    except ImportError:
        return "psycopg is not installed (pip install -e '.[postgres]')"
    except Exception as exc:  # noqa: BLE001 - any connection failure (refused, timeout, auth) is the reason
        return f"no PostgreSQL server at {PG_HOST}:{PG_PORT} as {PG_USER}: {exc}".strip()
    conn.close()
    return None


@pytest.fixture(scope="session")
def pg_server() -> None:
    """Skip (or, with CI=true, fail) when the PostgreSQL server cannot be reached."""
    problem = _server_problem()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but PostgreSQL tests cannot run: {problem}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {problem}")


@pytest.fixture(scope="session")
def pg_session_url(pg_server: None) -> Iterator[str]:
    """A fresh database for this test session, migrated by the real migrations, dropped at the end."""
    name = unique_db_name()
    url = create_database(name)
    try:
        database = Database(url)
        upgrade(database)
        database.dispose()
        yield url
    finally:
        drop_database(name)


def truncate_all(database: Database) -> None:
    """Empty every application table and restart its id sequence (the schema stays).

    The audit log refuses TRUNCATE by trigger; the tests' superuser sets its triggers aside here.
    """
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with database.engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def pg_url(pg_session_url: str) -> str:
    """The session database URL, with every table emptied before the test."""
    database = Database(pg_session_url)
    try:
        truncate_all(database)
    finally:
        database.dispose()
    return pg_session_url


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.dispose()
