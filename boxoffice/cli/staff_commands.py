"""``boxoffice staff create-admin NAME``: the first admin of a database that has none."""

from __future__ import annotations

import argparse

from boxoffice.cli.common import add_database_option, open_migrated, read_secret
from boxoffice.cli.registry import command
from boxoffice.errors import PermissionDenied
from boxoffice.services.context import ServiceContext


def _configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="staff_action", metavar="ACTION", required=True)
    create = actions.add_parser(
        "create-admin", help="create the first admin of a database that has none (the password from "
                             "$BOXOFFICE_OPERATOR_SECRET, else asked for twice)")
    create.add_argument("name", metavar="NAME", help="the admin's name, as typed at sign-in")
    add_database_option(create, suppress_default=True)
    create.set_defaults(staff_handler=_create_admin)


@command("staff", help="staff accounts (create-admin)", configure=_configure)
def staff_command(args: argparse.Namespace) -> int:
    return int(args.staff_handler(args))


def _create_admin(args: argparse.Namespace) -> int:
    from boxoffice.services.staff.auth import MIN_PASSWORD_LENGTH, AuthService
    from boxoffice.services.staff.directory import StaffDirectory

    db = open_migrated(args)
    try:
        ctx = ServiceContext(db=db)
        if not StaffDirectory(ctx).needs_first_admin():   # refused before asking for a password
            raise PermissionDenied("This database already has an admin. Sign in at the desk, or ask an admin "
                                   "to add you on the Staff screen.", permission="manage_staff", needs="admin")
        account = AuthService(ctx).create_first_admin(args.name, read_secret(
            f"Password for {args.name.strip()} (at least {MIN_PASSWORD_LENGTH} characters): ", confirm=True))
    finally:
        db.dispose()
    print(f"Created admin {account.name}. Sign in with this name and password; add the other staff on the "
          "Staff screen.")
    return 0
