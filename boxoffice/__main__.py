"""Entry point of ``boxoffice`` and ``python -m boxoffice``."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from boxoffice import gc_pause


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line. Collection waits while the command's modules load (``cli.main`` turns
    it back on before the command runs; the desk keeps it off until its sign-in screen is ready)."""
    gc_pause.pause()
    from boxoffice.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
