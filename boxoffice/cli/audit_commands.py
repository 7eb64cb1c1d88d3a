"""``boxoffice audit verify``: recompute the audit log's hash chain and name the first row that breaks it."""

from __future__ import annotations

import argparse

from boxoffice.cli.checks import UNCHECKED_EXIT
from boxoffice.cli.common import add_database_option, open_migrated
from boxoffice.cli.registry import command


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="audit_action", metavar="ACTION", required=True)
    verify = actions.add_parser(
        "verify", help="check that no audit row was deleted, edited or forged (exit 1 if one was, 2 if "
                       "keyed rows could not be checked without the PIN key)")
    add_database_option(verify, suppress_default=True)


@command("audit", help="the audit log (verify: prove no row was deleted, edited or forged)", configure=_configure)
def audit_command(args: argparse.Namespace) -> int:
    from boxoffice.services.staff.audit import unchecked_reason, verify_chain

    db = open_migrated(args)
    try:
        with db.read() as session:
            report = verify_chain(session)
    finally:
        db.dispose()
    if report.first_break is not None:
        print(f"BROKEN: {report.first_break.describe()}.")
        print("Keep this database as it is for inspection; compare it with the newest backup to see what changed.")
        return 1
    if report.unchecked:
        print(f"NOT CHECKED: {unchecked_reason(report)}")
        print(f"The audit log's {report.rows} row(s) follow each other without a gap"
              + (f", and the {report.rows - report.keyed} written before the chain was keyed hold."
                 if report.keyed < report.rows else "."))
        return UNCHECKED_EXIT
    keyed = (f" ({report.keyed} keyed with the PIN key, {report.rows - report.keyed} from before the "
             "chain was keyed)" if report.keyed < report.rows else "")
    print(f"OK: the audit log's {report.rows} row(s) form an unbroken hash chain{keyed}.")
    return 0
