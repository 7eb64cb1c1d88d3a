"""Entry point of ``boxoffice`` and ``python -m boxoffice``."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from boxoffice import gc_pause


def private_files() -> None:
    """Files this process creates (database, log, crash reports, backups, settings) are the user's
    only: 0600 in 0700 folders on POSIX systems (Windows keeps them in the user's profile)."""
    if os.name == "posix":
        os.umask(0o077)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line. Collection waits while the command's modules load (``cli.main`` turns
    it back on before the command runs; the desk keeps it off until its sign-in screen is ready)."""
    gc_pause.pause()
    private_files()
    from boxoffice.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
