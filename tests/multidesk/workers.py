"""Functions run in separate OS processes (multiprocessing spawn) by the multi-desk tests."""

from __future__ import annotations

import os
import time
from multiprocessing.synchronize import Event

from boxoffice.db.engine import Database
from boxoffice.db.locks import PollerLease


def hold_lease(
    url: str, lease_seconds: float, acquired: Event, die: Event, mode: str, holder: str
) -> None:
    """Take the lease, say so; then exit abruptly once told ("exit") or hang without renewing ("hang")."""
    db = Database(url)
    lease = PollerLease(db, holder=holder, lease_seconds=lease_seconds)
    deadline = time.monotonic() + 20
    while not lease.ensure():
        if time.monotonic() > deadline:
            raise SystemExit(3)
        time.sleep(0.05)
    acquired.set()
    if mode == "exit":
        die.wait(30)
        os._exit(0)  # no release, no clean-up: as if the desk's process died
    while True:  # "hang": alive, connection open, never renewing
        time.sleep(1)
