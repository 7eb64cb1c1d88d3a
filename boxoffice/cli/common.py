"""Helpers shared by the commands: the database URL, opening the database, the acting operator, errors."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from boxoffice.app import open_database
from boxoffice.config import load_settings, resolve_database_url
from boxoffice.db.engine import Database
from boxoffice.errors import DatabaseUnavailable, NotSignedIn, SignInFailed

if TYPE_CHECKING:
    from boxoffice.services.context import ServiceContext
    from boxoffice.services.staff.access import Actor

OPERATOR_SECRET_ENV = "BOXOFFICE_OPERATOR_SECRET"
OPERATOR_HELP = (
    "the staff member this command acts as (audited under their name); their PIN or password comes "
    f"from ${OPERATOR_SECRET_ENV}, else it is asked for"
)

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


def operator_option(parser: argparse.ArgumentParser) -> None:
    """``--operator NAME``: every command that changes data acts as a signed-in staff member."""
    parser.add_argument("--operator", metavar="NAME", default=None, help=OPERATOR_HELP)


def read_secret(prompt: str, *, confirm: bool = False) -> str:
    """The secret from ``$BOXOFFICE_OPERATOR_SECRET``, else typed at a terminal (never echoed)."""
    secret = os.environ.get(OPERATOR_SECRET_ENV)
    if secret:
        return secret
    if not sys.stdin.isatty():
        raise SignInFailed(f"No PIN or password: set {OPERATOR_SECRET_ENV} or run the command at a terminal.")
    secret = getpass.getpass(prompt)
    if confirm and getpass.getpass("Again: ") != secret:
        raise SignInFailed("The two entries differ. Nothing was changed; run the command again.")
    return secret


@contextmanager
def acting_operator(args: argparse.Namespace, ctx: ServiceContext) -> Iterator[Actor]:
    """Sign ``args.operator`` in and run the enclosed calls as them; refuse before anything is written.

    A wrong secret counts towards the account's lockout, exactly as at the desk's sign-in screen.
    """
    from boxoffice.services.staff.access import acting_as
    from boxoffice.services.staff.auth import AuthService

    name = (getattr(args, "operator", None) or "").strip()
    if not name:
        raise NotSignedIn("This command changes data: name the staff member it acts as with --operator NAME "
                          f"(their PIN or password in {OPERATOR_SECRET_ENV}, or typed when asked). "
                          "A new database gets its first admin with `boxoffice staff create-admin NAME`.")
    actor = AuthService(ctx).sign_in(name, read_secret(f"PIN or password for {name}: "))
    with acting_as(actor):
        yield actor
