"""``boxoffice import-registrations SOURCE --conference SLUG`` and ``boxoffice export-registrations``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from boxoffice.cli.common import acting_operator, error, open_migrated, operator_option
from boxoffice.cli.registry import command
from boxoffice.errors import UserError
from boxoffice.services.context import ServiceContext

PASSWORD_ENV = "BOXOFFICE_REGISTRATIONS_PASSWORD"


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE",
                        help="a django-program database URL (sqlite:///web.sqlite3, postgresql://user@host/db) "
                             f"or a CSV file; a database password may also come from ${PASSWORD_ENV}")
    parser.add_argument("--conference", metavar="SLUG", required=True, help="the conference's slug")
    operator_option(parser)


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conference", metavar="SLUG", required=True, help="the conference's slug")
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="where to write the registrations")
    operator_option(parser)


@command(
    "import-registrations",
    help="import (or re-sync) registrations from the web system's database or a CSV file",
    configure=_configure_import,
)
def import_registrations_command(args: argparse.Namespace) -> int:
    import os

    from boxoffice.services.checkin.registrations import RegistrationService
    from boxoffice.services.checkin.registrations_source import (
        RegistrationSourceError,
        is_database_url,
        with_password,
    )

    source = args.source
    if is_database_url(source) and os.environ.get(PASSWORD_ENV):
        source = with_password(source, os.environ[PASSWORD_ENV])
    db = open_migrated(args)
    try:
        ctx = ServiceContext(db=db)
        with acting_operator(args, ctx):   # an admin, as in Settings (audited under their name)
            report = RegistrationService(ctx).import_registrations(source, args.conference)
    except RegistrationSourceError as exc:   # the source could not be read: nothing was written
        return error(str(exc))
    except UserError as exc:
        return error(str(exc))
    finally:
        db.dispose()
    print(report.describe())
    sys.stdout.flush()
    print(report.json_line())
    return 0


@command(
    "export-registrations",
    help="write the conference's attendees as a registrations CSV file (the import's format)",
    configure=_configure_export,
)
def export_registrations_command(args: argparse.Namespace) -> int:
    from boxoffice.services.checkin.registrations import RegistrationService

    db = open_migrated(args)
    try:
        ctx = ServiceContext(db=db)
        with acting_operator(args, ctx):   # the attendees' personal data: an admin
            rows = RegistrationService(ctx).export_registrations_csv(args.conference, args.file)
    except UserError as exc:
        return error(str(exc))
    finally:
        db.dispose()
    print(f"{rows} row(s) written to {args.file}")
    return 0
