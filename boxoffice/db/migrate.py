"""Apply Alembic migrations programmatically (at start-up and by `boxoffice db upgrade`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect

from boxoffice.db.engine import Database

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic is imported only when a migration has to run: a desk whose schema is current starts
# without paying for it (see bench/gui.py).
MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
_REVISION_FILE = re.compile(r"^(\d{4})_\w+\.py$")


class UnknownSchema(Exception):
    """The database carries a revision this version does not ship (made by a newer version)."""


def packaged_head() -> str:
    """The newest revision shipped: files are named ``NNNN_name.py`` and declare revision ``NNNN``."""
    numbers = sorted(
        m.group(1) for p in (MIGRATIONS_DIR / "versions").iterdir() if (m := _REVISION_FILE.match(p.name))
    )
    return numbers[-1]


def stored_revision(db: Database) -> str | None:
    """The revision recorded in the database, read with plain SQL (no Alembic import)."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        value = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        return str(value) if value is not None else None


def alembic_config(db: Database) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", db.url.replace("%", "%%"))
    return cfg


def head_revision(db: Database) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(db)).get_current_head()


def current_revision(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(db: Database, revision: str = "head") -> str | None:
    """Bring the schema to ``revision``; returns the revision now in place."""
    if revision == "head":
        stored = stored_revision(db)
        if stored is not None and stored == packaged_head():
            return stored
    from alembic import command
    from alembic.util.exc import CommandError

    cfg = alembic_config(db)
    with db.engine.connect() as conn:
        raw = conn.connection.driver_connection if db.is_sqlite else None
        if raw is not None:
            # SQLite batch migrations rebuild a table (copy, drop, rename); with foreign keys on, the
            # drop would cascade-delete every child row. The pragma only works outside a transaction.
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                try:
                    command.upgrade(cfg, revision)
                except CommandError as exc:
                    raise UnknownSchema(str(exc)) from exc
                if raw is not None:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"migration left dangling references: {broken[:5]}")
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")
    return current_revision(db)


def needs_upgrade(db: Database) -> bool:
    return current_revision(db) != head_revision(db)
