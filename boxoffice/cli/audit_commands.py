"""``boxoffice audit verify``: recompute the audit log's hash chain and name the first row that breaks it."""

from __future__ import annotations

import argparse

from boxoffice.cli.common import add_database_option, open_migrated
from boxoffice.cli.registry import command


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify", help="check that no audit row was deleted, edited or forged (exit 1 if one was)")
    add_database_option(verify, suppress_default=True)


@command("audit", help="the audit log (verify: prove no row was deleted, edited or forged)", configure=_configure)
def audit_command(args: argparse.Namespace) -> int:
    from boxoffice.services.staff.audit import verify_chain

    db = open_migrated(args)
    try:
        with db.read() as session:
            report = verify_chain(session)
    finally:
        db.dispose()
    if report.first_break is None:
        print(f"OK: the audit log's {report.rows} row(s) form an unbroken hash chain.")
        return 0
    print(f"BROKEN: {report.first_break.describe()}.")
    print("Keep this database as it is for inspection; compare it with the newest backup to see what changed.")
    return 1
