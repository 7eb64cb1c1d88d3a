"""What every service needs: the database, a clock, and the desk's identity."""

from __future__ import annotations

from dataclasses import dataclass, field

from boxoffice.db.engine import Database
from boxoffice.timeutil import Clock, SystemClock


@dataclass
class ServiceContext:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    desk_name: str = "Desk 1"
