"""``boxoffice run`` (the default): prepare the database, seed the demo on first start, open the GUI."""

from __future__ import annotations

import argparse
import logging

from boxoffice import gc_pause
from boxoffice.app import AppServices, build_app
from boxoffice.cli.common import database_url
from boxoffice.cli.registry import command
from boxoffice.config import LoadedSettings, load_settings

log = logging.getLogger(__name__)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-gui", action="store_true",
        help="prepare the database (migrations, demo data on first start) and exit without a window",
    )


def _launch(app: AppServices, loaded: LoadedSettings) -> int:
    # Until the sign-in screen is ready the desk makes long-lived objects only (modules, classes,
    # the window): collection waits, and ui.launch turns it back on once the desk is ready.
    gc_pause.pause()
    try:
        # The GUI is imported here so every other command works without Qt.
        try:
            from boxoffice.ui.launch import launch
        except ModuleNotFoundError as exc:
            if exc.name != "boxoffice.ui.launch":
                raise
            log.warning("boxoffice.ui.launch not available; opening the minimal catalog window")
            gc_pause.resume()   # the minimal window has no ready point to turn it back on
            from boxoffice.ui.minimal import launch as launch_minimal
            return int(launch_minimal(app, loaded))
        return int(launch(app, loaded))
    finally:
        gc_pause.resume()


@command("run", help="start the desk (the default when no command is given)", configure=_configure)
def run_command(args: argparse.Namespace) -> int:
    loaded = load_settings()
    gui = not getattr(args, "no_gui", False)
    if gui:
        from boxoffice.ui.platform_check import ensure_xcb_libraries  # no Qt import: Qt may not start

        if not ensure_xcb_libraries():   # it printed the packages to install
            return 1
    # The desk looks for its Stripe key and runs SQLite's quick check on workers once its window
    # shows (ui.launch); no write reaches the file before the check passed.
    app = build_app(database_url(args), desk_name=loaded.settings.desk_name or "Desk 1",
                    stripe_api_base=loaded.settings.stripe_api_base, stripe_later=gui,
                    defer_quick_check=gui)
    try:
        seeded = None
        if not app.conferences.list():
            from boxoffice.demo.seed import seed_if_empty  # only needed on an empty database

            seeded = seed_if_empty(app.ctx)
        if seeded is not None:
            print(f"First start: demo conference seeded into {app.db.display_url}.")
        if not gui:
            print(f"{app.db.display_url}: ready (schema {app.schema_revision}).")
            return 0
        return _launch(app, loaded)
    finally:
        app.close()
