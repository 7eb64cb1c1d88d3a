"""Staff members operating the desks (DESK-2): recorded as the operator of payments and refunds."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select

from boxoffice.domain.models import Staff
from boxoffice.errors import InvalidInput
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize


@dataclass(frozen=True)
class StaffView:
    id: int
    name: str


class StaffService:
    """Find or create an operator by name."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def get_or_create(self, name: str) -> StaffView:
        """The operator with that name (ignoring case and surrounding spaces), created if new (admins).

        A member created here has no PIN or password yet: an admin sets one on the Staff screen.
        """
        authorize(Permission.MANAGE_STAFF)
        if not isinstance(name, str) or not " ".join(name.split()):
            raise InvalidInput("Enter the operator's name.", field="name")
        clean = " ".join(name.split())
        if len(clean) > 200:
            raise InvalidInput("The operator's name is too long (at most 200 characters).", field="name")
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            row = session.execute(
                select(Staff.id, Staff.name).where(func.lower(Staff.name) == clean.lower()).limit(1)
            ).first()
            if row is not None:
                return StaffView(row[0], row[1])
            new_id = session.execute(
                insert(Staff).values(name=clean, is_active=True, created_at=now, updated_at=now)
                .returning(Staff.id)
            ).scalar_one()
            audit.record(session, self._ctx, audit.STAFF_CHANGE, target_type="staff", target_id=int(new_id),
                         target_label=clean, detail={"change": "created", "role": "volunteer"})
            return StaffView(int(new_id), clean)

    def list(self) -> list[StaffView]:
        """Active operators by name."""
        with self._ctx.db.read() as session:
            rows = session.execute(
                select(Staff.id, Staff.name).where(Staff.is_active.is_(True)).order_by(Staff.name)
            ).all()
            return [StaffView(r[0], r[1]) for r in rows]
