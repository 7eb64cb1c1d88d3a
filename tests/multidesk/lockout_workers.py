"""Desks (separate OS processes) sending wrong PINs for one name at the same moment."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any


def wrong_pins(url: str, desk: int, name: str, tries: int, start: Barrier, results: Queue[Any]) -> None:
    """Send ``tries`` wrong PINs for ``name``; report how each was answered."""
    from boxoffice.db.engine import Database
    from boxoffice.errors import AccountLocked, SignInFailed
    from boxoffice.services.context import ServiceContext
    from boxoffice.services.staff.auth import AuthService

    db = Database(url)
    auth = AuthService(ServiceContext(db=db, desk_name=f"Desk {desk}"))
    outcomes = {"wrong": 0, "locked": 0, "other": 0}
    start.wait(60)
    for _ in range(tries):
        try:
            auth.sign_in(name, "000000")
        except AccountLocked:
            outcomes["locked"] += 1
        except SignInFailed:
            outcomes["wrong"] += 1
        except Exception:  # noqa: BLE001 - any other failure is counted and fails the test
            outcomes["other"] += 1
    db.dispose()
    results.put(outcomes)
