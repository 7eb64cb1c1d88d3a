"""The PostgreSQL role desks connect as: it owns nothing and may only read and append the audit log.

Migrations run as the schema owner (the role that ran ``boxoffice db upgrade``). Desks connect as a
separate login role that may read and write the application's tables, but on ``audit_log`` only
SELECT and INSERT: it cannot TRUNCATE the log, disable its triggers (only an owner can) or DELETE
and UPDATE rows. ``grant_desk_role`` is idempotent; run it again after an upgrade.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from boxoffice.db.engine import Database
from boxoffice.errors import ConfigError

APPEND_ONLY_TABLES = ("audit_log",)
READ_ONLY_TABLES = ("alembic_version",)
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _quoted(role: str) -> str:
    if not _ROLE_NAME.match(role):
        raise ConfigError(
            f"{role!r} is not a usable role name: use lower-case letters, digits and underscores, "
            "starting with a letter (for example boxoffice_desk).")
    return f'"{role}"'


def grant_desk_role(db: Database, role: str, *, password: str | None = None) -> list[str]:
    """Create ``role`` (LOGIN) if missing and give it the desk's rights; returns what was done."""
    if not db.is_postgresql:
        raise ConfigError("Desk roles exist on PostgreSQL only; a SQLite file has no roles.")
    name = _quoted(role)
    done: list[str] = []
    with db.engine.begin() as conn:
        owner = str(conn.execute(text("SELECT current_user")).scalar_one())
        if owner == role:
            raise ConfigError(f"{role} is the role this command connects as (the schema owner). Choose "
                              "another name for the desks' role.")
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
        if exists is None:
            conn.execute(text(f"CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"))
            done.append(f"created the login role {role}")
        elif _owns_anything(conn, role):
            raise ConfigError(
                f"{role} owns tables in this database, so it could change the audit log. Desks need a role "
                "that owns nothing: choose a new name.")
        if password:
            conn.execute(text(f"ALTER ROLE {name} PASSWORD {_literal(conn, password)}"))
            done.append("set its password")
        database = str(conn.execute(text("SELECT current_database()")).scalar_one())
        conn.execute(text(f'GRANT CONNECT ON DATABASE "{database}" TO {name}'))
        conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {name}"))
        conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"))
        conn.execute(text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}"))
        for table in APPEND_ONLY_TABLES + READ_ONLY_TABLES:
            conn.execute(text(f'REVOKE ALL ON TABLE "{table}" FROM {name}'))
            rights = "SELECT, INSERT" if table in APPEND_ONLY_TABLES else "SELECT"
            conn.execute(text(f'GRANT {rights} ON TABLE "{table}" TO {name}'))
        done.append(f"granted {role} reading and writing the tables, and only SELECT and INSERT on the audit log")
    return done


def _owns_anything(conn: Connection, role: str) -> bool:
    return conn.execute(text(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) = :r LIMIT 1"), {"r": role}).first() is not None


def _literal(conn: Connection, value: str) -> str:
    """A string literal quoted by the server (ALTER ROLE takes no bind parameters)."""
    return str(conn.execute(text("SELECT quote_literal(:v)"), {"v": value}).scalar_one())
