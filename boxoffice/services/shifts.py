"""Cash drawer shifts: open with a float, every cash movement belongs to the open shift, close counted."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.domain.models import CashShift
from boxoffice.errors import NoOpenShift
from boxoffice.services.context import ServiceContext


def open_shift_id(session: Session, desk_name: str) -> int | None:
    """The id of ``desk_name``'s open shift, or None."""
    return session.scalar(
        select(CashShift.id).where(CashShift.desk_name == desk_name, CashShift.status == "open")
    )


def require_open_shift(session: Session, desk_name: str) -> int:
    """The open shift's id; cash may not move at a desk without one (a clear message otherwise)."""
    shift_id = open_shift_id(session, desk_name)
    if shift_id is None:
        raise NoOpenShift(
            f"No cash shift is open at {desk_name}. Open a shift (count the starting float into "
            "the drawer), then take the cash again. Nothing was recorded."
        )
    return shift_id


class ShiftService:
    """Open, close and report on this desk's cash drawer shifts."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
