"""The ``boxoffice`` command line: sub-commands registered in small modules (see ``registry``)."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from boxoffice import __version__
from boxoffice.cli.common import add_database_option, error
from boxoffice.cli.registry import COMMANDS, FLAGS
from boxoffice.errors import UserError

log = logging.getLogger(__name__)

# Each module registers its commands with @command / @flag when imported; add new ones here.
COMMAND_MODULES = (
    "boxoffice.cli.run_command",
    "boxoffice.cli.db_commands",
    "boxoffice.cli.conference_commands",
    "boxoffice.stripe_sync.cli",
    "boxoffice.cli.selftest_command",
)
DEFAULT_COMMAND = "run"


def load_commands() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name)


def build_parser() -> argparse.ArgumentParser:
    load_commands()
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
    parser = build_parser()
    args = parser.parse_args(argv)
    from boxoffice.logging_setup import configure_logging

    configure_logging()
    from boxoffice.services.access import SYSTEM, set_operator

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
