"""Alembic environment: runs on the connection Box Office hands over (or on the configured URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from boxoffice.db.engine import create_db_engine
from boxoffice.domain import models

target_metadata = models.Base.metadata
config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


run_migrations_online()
