"""``boxoffice --self-test``: check this installation end to end (also in the frozen build) and exit."""

from __future__ import annotations

import argparse

from boxoffice.cli.registry import flag


@flag("--self-test", help="check this installation (temporary database, migrations, demo, a cash sale, "
      "every screen rendered offscreen) and exit 0 when everything works")
def self_test(args: argparse.Namespace) -> int:
    from boxoffice import selftest

    return selftest.run()
