"""``boxoffice db upgrade|current|check|grant-desk-role|copy|compare``: schema, consistency, the desks'
role and moving databases."""

from __future__ import annotations

import argparse

from boxoffice.cli.checks import UNCHECKED_EXIT, Finding, file_findings, repair, run_checks
from boxoffice.cli.common import (
    acting_operator,
    add_database_option,
    open_migrated,
    open_plain,
    operator_option,
)
from boxoffice.cli.registry import command
from boxoffice.db.engine import Database
from boxoffice.db.migrate import current_revision, head_revision


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="db_action", metavar="ACTION", required=True)
    up = actions.add_parser("upgrade", help="apply the schema migrations and print the revision")
    up.set_defaults(db_handler=_upgrade)
    current = actions.add_parser("current", help="print the schema revision of the database")
    current.set_defaults(db_handler=_current)
    check = actions.add_parser(
        "check", help="prove the inventory counters, voucher usage and credit balances (exit 1 on mismatch)"
    )
    check.add_argument("--repair", action="store_true",
                       help="rewrite the counters from a full recount (needs an admin: --operator)")
    operator_option(check)
    check.set_defaults(db_handler=_check)
    grant = actions.add_parser(
        "grant-desk-role",
        help="PostgreSQL: create or update the role desks connect as (owns nothing; the audit log is "
             "read and append only)")
    grant.add_argument("role", metavar="ROLE", help="the desks' login role, e.g. boxoffice_desk")
    grant.add_argument("--password", action="store_true",
                       help="set the role's password (asked for, or $BOXOFFICE_DESK_ROLE_PASSWORD)")
    grant.set_defaults(db_handler=_grant_desk_role)
    for sub in (up, current, check, grant):
        add_database_option(sub, suppress_default=True)
    copy = actions.add_parser(
        "copy", help="copy every row into an empty database (e.g. SQLite -> PostgreSQL), then compare"
    )
    copy.set_defaults(db_handler=_copy)
    compare = actions.add_parser("compare", help="compare row counts and per-table checksums of two databases")
    compare.set_defaults(db_handler=_compare)
    from boxoffice.db.copy import configure_compare, configure_copy

    configure_copy(copy)
    configure_compare(compare)


@command("db", help="database schema, consistency and copies (upgrade, current, check, copy, compare)",
         configure=_configure)
def db_command(args: argparse.Namespace) -> int:
    return int(args.db_handler(args))


def _upgrade(args: argparse.Namespace) -> int:
    db = open_migrated(args)
    try:
        revision = current_revision(db)
        print(f"{db.display_url}: schema at revision {revision} (head {head_revision(db)})")
    finally:
        db.dispose()
    return 0


def _current(args: argparse.Namespace) -> int:
    db = open_plain(args)
    try:
        revision = current_revision(db)
        head = head_revision(db)
    finally:
        db.dispose()
    if revision is None:
        print(f"{db.display_url}: no schema yet (run `boxoffice db upgrade`); newest is {head}")
    elif revision != head:
        print(f"{db.display_url}: revision {revision}; newest is {head} (run `boxoffice db upgrade`)")
    else:
        print(f"{db.display_url}: revision {revision} (up to date)")
    return 0


def _check(args: argparse.Namespace) -> int:
    db = open_migrated(args)
    try:
        damaged = file_findings(db)
        if damaged:   # the rows cannot be trusted: the other checks would only add noise
            for finding in damaged:
                print(f"DAMAGED {finding.kind}: {finding.message}")
            from boxoffice.db.backup import sqlite_file
            from boxoffice.db.sqlite_health import way_back

            path = sqlite_file(db)
            print(f"The database file is damaged. {way_back(path) if path else ''}".strip())
            return 1
        if not args.repair:
            return _check_and_repair(db, repair_counters=False)
        from boxoffice.services.context import ServiceContext
        from boxoffice.services.staff.access import Permission, authorize

        # The counters are stock: an admin repairs them, as on the catalog screen; refused before reading.
        with acting_operator(args, ServiceContext(db=db)):
            authorize(Permission.MANAGE_CATALOG)
            return _check_and_repair(db, repair_counters=True)
    finally:
        db.dispose()


def _check_and_repair(db: Database, *, repair_counters: bool) -> int:
    with db.read() as session:
        findings = run_checks(session)
    if not findings:
        print("OK: the file passes SQLite's integrity check; counters equal a full recount; voucher usage and "
              "credit balances are consistent; the audit log's hash chain is unbroken.")
        return 0
    _print_findings(findings, "MISMATCH")
    if not repair_counters:
        if any(f.repairable for f in findings):
            print("Run `boxoffice db check --repair --operator NAME` to rewrite the counters from the recount.")
        return _exit_code(findings)
    with db.write() as session:
        fixed = repair(session)
    print(f"Repaired {fixed} counter(s).")
    with db.read() as session:
        left = [f for f in run_checks(session) if f.mismatch]
    _print_findings(left, "STILL WRONG")
    return _exit_code(left + [f for f in findings if not f.mismatch])


def _print_findings(findings: list[Finding], label: str) -> None:
    for finding in findings:
        print(f"{label if finding.mismatch else 'NOT CHECKED'} {finding.kind}: {finding.message}")


def _exit_code(findings: list[Finding]) -> int:
    """1 on a mismatch; else 2 when something could not be checked (audit rows without the PIN key)."""
    if any(f.mismatch for f in findings):
        return 1
    return UNCHECKED_EXIT if findings else 0


def _grant_desk_role(args: argparse.Namespace) -> int:
    import getpass
    import os

    from boxoffice.db.desk_role import grant_desk_role

    password = None
    if args.password:
        password = os.environ.get("BOXOFFICE_DESK_ROLE_PASSWORD") or getpass.getpass(
            f"Password for {args.role}: ")
    db = open_migrated(args)   # run as the schema owner: the schema is brought up to date first
    try:
        for line in grant_desk_role(db, args.role, password=password):
            print(line)
    finally:
        db.dispose()
    print(f"Desks now connect as {args.role}: postgresql://{args.role}@HOST/DBNAME (run this again after "
          "each `boxoffice db upgrade`).")
    return 0


def _copy(args: argparse.Namespace) -> int:
    from boxoffice.db.copy import run_copy

    return run_copy(args)


def _compare(args: argparse.Namespace) -> int:
    from boxoffice.db.copy import run_compare

    return run_compare(args)
