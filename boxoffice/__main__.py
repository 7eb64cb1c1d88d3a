"""Entry point of ``boxoffice`` and ``python -m boxoffice``."""

from __future__ import annotations

import sys

from boxoffice.cli import main

if __name__ == "__main__":
    sys.exit(main())
