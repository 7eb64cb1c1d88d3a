"""The ``boxoffice`` command line: sub-commands registered in small modules (see ``registry``)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from boxoffice import __version__, gc_pause
from boxoffice.cli.common import add_database_option, error
from boxoffice.cli.registry import COMMANDS, FLAGS
from boxoffice.errors import UserError

log = logging.getLogger(__name__)

# Each module registers its commands and flags with @command / @flag when imported; add new ones
# here with the names they register (a test checks this table against the registry). A run
# imports only the module of the command it was given, so `boxoffice run` starts without the rest.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "boxoffice.cli.run_command": ("run",),
    "boxoffice.cli.db_commands": ("db",),
    "boxoffice.cli.audit_commands": ("audit",),
    "boxoffice.cli.conference_commands": ("import-conference", "seed-demo"),
    "boxoffice.cli.registration_commands": ("import-registrations", "export-registrations"),
    "boxoffice.cli.checkin_commands": ("checkin",),
    "boxoffice.cli.staff_commands": ("staff",),
    "boxoffice.stripe_sync.cli": ("sync", "stripe"),
    "boxoffice.cli.selftest_command": ("--self-test",),
    "boxoffice.cli.print_commands": ("badges", "receipt"),
}
DEFAULT_COMMAND = "run"


def load_commands(names: Sequence[str] | None = None) -> None:
    """Import the modules that register ``names`` (every command module when None or unknown)."""
    wanted = [module for module, registers in COMMAND_MODULES.items()
              if names is None or set(registers) & set(names)]
    known = {n for registers in COMMAND_MODULES.values() for n in registers}
    if names is not None and not set(names) <= known:
        wanted = list(COMMAND_MODULES)
    for module in wanted:
        importlib.import_module(module)


def _names_in(argv: Sequence[str]) -> list[str] | None:
    """The command and flags ``argv`` asks for (the default command when it names none); None for
    help, which lists every command."""
    names: list[str] = []
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in ("-h", "--help", "--version"):
            return None
        elif token == "--database":
            skip = True
        elif token.startswith("--") and not token.startswith("--database="):
            names.append(token)
        elif not token.startswith("-"):
            names.append(token)
            break   # what follows belongs to the sub-command
    if not any(not n.startswith("-") for n in names):
        names.append(DEFAULT_COMMAND)
    return names


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv`` (every command when None): each registered command and flag."""
    load_commands(None if argv is None else _names_in(argv))
    parser = argparse.ArgumentParser(
        prog="boxoffice", description="Box Office: sell conference tickets at the registration desk."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_database_option(parser, suppress_default=False)
    for flag in FLAGS.values():
        parser.add_argument(flag.option, dest=flag.dest, action="store_true", help=flag.help)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for cmd in COMMANDS.values():
        sub = subparsers.add_parser(cmd.name, help=cmd.help, description=cmd.help)
        add_database_option(sub, suppress_default=True)
        if cmd.configure is not None:
            cmd.configure(sub)
        sub.set_defaults(handler=cmd.handler)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    gc_pause.resume()   # boxoffice.__main__ paused collection while the command's modules loaded
    from boxoffice.logging_setup import configure_logging

    configure_logging()
    from boxoffice.services.staff.access import SYSTEM, set_operator

    # Headless commands act as the system operator (audit rows say "system"); the desk GUI
    # clears this at start and acts only for whoever signs in.
    set_operator(SYSTEM)
    try:
        for flag in FLAGS.values():
            if getattr(args, flag.dest, False):
                return int(flag.handler(args))
        if args.command is None:
            default = parser.parse_args([DEFAULT_COMMAND])
            default.database = args.database
            args = default
        return int(args.handler(args))
    except UserError as exc:
        log.info("command %s failed: %s", args.command, exc)
        return error(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
