"""The sub-command registry: each command is a small function registered with ``@command``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

Handler = Callable[[argparse.Namespace], int]
Configure = Callable[[argparse.ArgumentParser], None]


@dataclass(frozen=True)
class Command:
    """``boxoffice <name> ...``: ``configure`` adds its arguments, ``handler`` runs it (exit code)."""

    name: str
    help: str
    handler: Handler
    configure: Configure | None = None


@dataclass(frozen=True)
class Flag:
    """A top-level option such as ``boxoffice --self-test`` that runs instead of a sub-command."""

    option: str
    help: str
    handler: Handler

    @property
    def dest(self) -> str:
        return self.option.lstrip("-").replace("-", "_")


COMMANDS: dict[str, Command] = {}
FLAGS: dict[str, Flag] = {}


def command(name: str, *, help: str, configure: Configure | None = None) -> Callable[[Handler], Handler]:
    """Register ``handler`` as ``boxoffice <name>``."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS and COMMANDS[name].handler is not handler:
            raise ValueError(f"command {name!r} is registered twice")
        COMMANDS[name] = Command(name, help, handler, configure)
        return handler

    return register


def flag(option: str, *, help: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for the top-level ``option`` (e.g. ``--self-test``)."""

    def register(handler: Handler) -> Handler:
        FLAGS[option] = Flag(option, help, handler)
        return handler

    return register
