"""``boxoffice import-registrations SOURCE --conference SLUG`` and ``boxoffice export-registrations``."""

from __future__ import annotations

import argparse
import sys
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from boxoffice.cli.common import error, open_migrated
from boxoffice.cli.registry import command
from boxoffice.db.engine import Database
from boxoffice.errors import NotFound, UserError
from boxoffice.services.context import ServiceContext

PASSWORD_ENV = "BOXOFFICE_REGISTRATIONS_PASSWORD"


def _add_operator(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--operator", metavar="NAME", default=None,
                        help="the admin the run is recorded for in the audit log (default: system)")


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("source", metavar="SOURCE",
                        help="a django-program database URL (sqlite:///web.sqlite3, postgresql://user@host/db) "
                             f"or a CSV file; a database password may also come from ${PASSWORD_ENV}")
    parser.add_argument("--conference", metavar="SLUG", required=True, help="the conference's slug")
    _add_operator(parser)


def _configure_export(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conference", metavar="SLUG", required=True, help="the conference's slug")
    parser.add_argument("file", type=Path, metavar="FILE.csv", help="where to write the registrations")
    _add_operator(parser)


def _acting(args: argparse.Namespace, db: Database) -> AbstractContextManager[object]:
    """Act as ``--operator`` (an active staff member; the service checks the role), else as the system."""
    if not args.operator:
        return nullcontext()
    from sqlalchemy import select

    from boxoffice.domain.models import Staff
    from boxoffice.services.staff.access import Actor, Role, acting_as

    with db.read() as session:
        row = session.execute(select(Staff.id, Staff.name, Staff.role).where(
            Staff.name == args.operator.strip(), Staff.is_active.is_(True))).first()
    if row is None:
        raise NotFound(f"There is no active staff member '{args.operator}'. Check the name (boxoffice run, Staff).")
    return acting_as(Actor(staff_id=row[0], name=row[1], role=Role(row[2])))


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
        with _acting(args, db):
            report = RegistrationService(ServiceContext(db=db)).import_registrations(source, args.conference)
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
        with _acting(args, db):
            rows = RegistrationService(ServiceContext(db=db)).export_registrations_csv(args.conference, args.file)
    except UserError as exc:
        return error(str(exc))
    finally:
        db.dispose()
    print(f"{rows} row(s) written to {args.file}")
    return 0
