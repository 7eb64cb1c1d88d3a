"""Adding a sub-command or a top-level flag is one registered function (in-process, no subprocess)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator

import pytest

from boxoffice import cli
from boxoffice.cli.registry import COMMANDS, FLAGS, command, flag
from boxoffice.errors import InvalidInput


@pytest.fixture
def registry() -> Iterator[list[str]]:
    calls: list[str] = []
    cli.load_commands()
    saved_commands, saved_flags = dict(COMMANDS), dict(FLAGS)
    root = logging.getLogger()
    level = root.level
    yield calls
    COMMANDS.clear(), COMMANDS.update(saved_commands)
    FLAGS.clear(), FLAGS.update(saved_flags)
    for handler in [h for h in root.handlers if getattr(h, "_boxoffice", False)]:  # main() added them
        root.removeHandler(handler)
        handler.close()
    root.setLevel(level)


def test_registered_command_and_flag_are_dispatched_with_the_database_option(
    registry: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--times", type=int, default=1)

    @command("echo-db", help="print the database option", configure=configure)
    def echo_db(args: argparse.Namespace) -> int:
        registry.append(f"{args.database}x{args.times}")
        return 0

    @flag("--self-check-probe", help="a probe flag")
    def probe(args: argparse.Namespace) -> int:
        registry.append("flag")
        return 3

    assert cli.main(["echo-db", "--database", "a.sqlite3", "--times", "2"]) == 0
    assert cli.main(["--database", "b.sqlite3", "echo-db"]) == 0
    assert cli.main(["--self-check-probe"]) == 3
    assert registry == ["a.sqlite3x2", "b.sqlite3x1", "flag"]


def test_user_errors_become_a_message_and_exit_1(registry: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    @command("fail-probe", help="always refuses")
    def fail(args: argparse.Namespace) -> int:
        raise InvalidInput("Quantity must be between 1 and 999.")

    assert cli.main(["fail-probe"]) == 1
    assert capsys.readouterr().err == "error: Quantity must be between 1 and 999.\n"


def test_the_built_in_commands_are_registered() -> None:
    cli.load_commands()
    assert {"run", "db", "import-conference", "seed-demo"} <= set(COMMANDS)


def test_the_module_table_names_what_each_module_registers() -> None:
    """`boxoffice <command>` imports only the module the table names for it: the table must be right."""
    cli.load_commands()
    registered = {name: c.handler.__module__ for name, c in COMMANDS.items()}
    registered |= {option: f.handler.__module__ for option, f in FLAGS.items()}
    table = {name: module for module, names in cli.COMMAND_MODULES.items() for name in names}
    built_in = {name: module for name, module in registered.items() if module.startswith("boxoffice.")}
    assert built_in == table


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        ([], ["run"]),
        (["--database", "x.sqlite3"], ["run"]),
        (["--database=x.sqlite3", "db", "check"], ["db"]),
        (["--self-test"], ["--self-test", "run"]),
        (["sync", "--once", "run"], ["sync"]),
        (["run", "--help"], ["run"]),
        (["--help"], None),
    ],
)
def test_the_command_line_names_the_modules_to_import(argv: list[str], names: list[str] | None) -> None:
    assert cli._names_in(argv) == names


def test_run_imports_no_other_command_module(tmp_path) -> None:
    """The desk's start path (`boxoffice run`) leaves the database, conference and sync commands out.

    Through the real entry point, which pauses garbage collection while the command loads: it is
    back on, with what loading made frozen, once the command has run.
    """
    import os
    import subprocess
    import sys

    code = ("import gc, sys; from boxoffice.__main__ import main; "
            f"code = main(['--database', {str(tmp_path / 'desk.sqlite3')!r}, 'run', '--no-gui']); "
            "print(gc.isenabled(), gc.get_freeze_count() > 10_000); "
            "print(sorted(m for m in sys.modules if m in %r)); sys.exit(code)"
            % sorted(set(cli.COMMAND_MODULES) - {"boxoffice.cli.run_command"}))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, BOXOFFICE_HOME=str(tmp_path)), check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-2:] == ["True True", "[]"]
