"""Worker processes for the door races: each is a desk scanning or handing out add-ons on its own engine."""

from __future__ import annotations

import random
import time
from collections import Counter
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier


def _door(url: str, desk: int) -> tuple[object, object]:
    from boxoffice.db.engine import Database
    from boxoffice.services.checkin.admission import CheckInService
    from boxoffice.services.context import ServiceContext
    from boxoffice.services.staff.access import Actor, Role, set_operator

    set_operator(Actor(staff_id=None, name=f"Volunteer {desk}", role=Role.VOLUNTEER))
    db = Database(url)
    return db, CheckInService(ServiceContext(db=db, desk_name=f"Desk {desk}"))


def desk_scans(url: str, desk: int, conference_id: int, codes: list[str], start: Barrier, results: Queue) -> None:
    """Scan every code once, in this desk's own shuffled order; report the outcomes."""
    db, door = _door(url, desk)
    order = list(codes)
    random.Random(desk).shuffle(order)
    outcomes: Counter[str] = Counter()
    unexpected: list[str] = []
    start.wait(60)
    began = time.perf_counter()
    for code in order:
        try:
            outcomes[door.scan(conference_id, code).outcome] += 1  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any of these
            outcomes["crash"] += 1
            unexpected.append(f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - began
    db.dispose()  # type: ignore[attr-defined]
    results.put({"desk": desk, "outcomes": dict(outcomes), "unexpected": unexpected[:5], "seconds": seconds})


def desk_redeems(url: str, desk: int, attendee_id: int, line_id: int, tries: int, start: Barrier,
                 results: Queue) -> None:
    """Try to hand out the same add-on ``tries`` times; report how many were handed out."""
    from boxoffice.errors import UserError

    db, door = _door(url, desk)
    outcomes: Counter[str] = Counter()
    unexpected: list[str] = []
    start.wait(60)
    for _ in range(tries):
        try:
            door.redeem(attendee_id, line_id)  # type: ignore[attr-defined]
            outcomes["handed_out"] += 1
        except UserError:
            outcomes["refused"] += 1
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcomes["crash"] += 1
            unexpected.append(f"{type(exc).__name__}: {exc}")
    db.dispose()  # type: ignore[attr-defined]
    results.put({"desk": desk, "outcomes": dict(outcomes), "unexpected": unexpected[:5]})
