"""Helpers shared by the commands: the database URL, opening the database, printing errors."""

from __future__ import annotations

import argparse
import sys

from boxoffice.app import open_database
from boxoffice.config import load_settings, resolve_database_url
from boxoffice.db.engine import Database
from boxoffice.errors import DatabaseUnavailable

DATABASE_HELP = (
    "database URL (a SQLite file path, or postgresql://user@host/dbname); default: "
    "$BOXOFFICE_DATABASE_URL, else the settings, else the embedded SQLite file in the user data directory"
)


def add_database_option(parser: argparse.ArgumentParser, *, suppress_default: bool) -> None:
    # Sub-parsers must not overwrite a --database given before the sub-command: default SUPPRESS.
    parser.add_argument(
        "--database", metavar="URL", help=DATABASE_HELP,
        default=argparse.SUPPRESS if suppress_default else None,
    )


def database_url(args: argparse.Namespace) -> str:
    settings = load_settings().settings
    return resolve_database_url(getattr(args, "database", None), settings)


def open_migrated(args: argparse.Namespace) -> Database:
    """The database of ``args``, brought to the newest schema (as the app does at start)."""
    db, _revision = open_database(database_url(args))
    return db


def open_plain(args: argparse.Namespace) -> Database:
    """The database of ``args`` as it is (no migration), for read-only inspection."""
    try:
        return Database(database_url(args))
    except ValueError as exc:
        raise DatabaseUnavailable(str(exc)) from None


def error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
