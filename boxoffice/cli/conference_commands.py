"""``boxoffice import-conference FILE.toml`` and ``boxoffice seed-demo``."""

from __future__ import annotations

import argparse
from pathlib import Path

from boxoffice.cli.common import acting_operator, open_migrated, operator_option
from boxoffice.cli.registry import command
from boxoffice.demo.seed import seed_demo
from boxoffice.services.admin.conference_import import import_conference
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import Permission, authorize


def _configure_import(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", type=Path, metavar="FILE.toml", help="the conference file to import")
    operator_option(parser)


@command(
    "import-conference",
    help="import a conference, its tickets and add-ons from a TOML file (idempotent)",
    configure=_configure_import,
)
def import_conference_command(args: argparse.Namespace) -> int:
    db = open_migrated(args)
    try:
        ctx = ServiceContext(db=db)
        with acting_operator(args, ctx):   # an admin, as on the catalog screen (audited)
            report = import_conference(ctx, args.file)
    finally:
        db.dispose()
    print(report.describe())
    return 0


@command("seed-demo", help="add the demo conference, its vouchers and a demo operator",
         configure=operator_option)
def seed_demo_command(args: argparse.Namespace) -> int:
    db = open_migrated(args)
    try:
        ctx = ServiceContext(db=db)
        with acting_operator(args, ctx):
            authorize(Permission.MANAGE_CATALOG)
            report = seed_demo(ctx)
    finally:
        db.dispose()
    print(report.describe())
    return 0
