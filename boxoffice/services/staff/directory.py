"""Who may sign in: the names for the sign-in field, and whether the first admin is still to be made.

Read with SQLAlchemy Core on a light ``table()`` clause rather than the mapped ``Staff`` class, so
the desk's sign-in screen shows before the ORM is loaded. ``AuthService`` counts admins with the
same statement inside its own transactions; ``tests/services/test_directory.py`` checks the
columns against the mapped table.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Select, String, column, func, select, table

from boxoffice.services.context import ServiceContext
from boxoffice.services.staff.access import Role

STAFF = table("staff", column("name", String), column("role", String), column("is_active", Boolean),
              column("secret_hash", String))


def active_admins() -> Select[int]:
    """How many admins can sign in (active, with a password set)."""
    s = STAFF.c
    return select(func.count()).select_from(STAFF).where(
        s.is_active.is_(True), s.role == Role.ADMIN.value, s.secret_hash != "")


class StaffDirectory:
    """The staff who can sign in, for the sign-in screen and the approval dialog."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def needs_first_admin(self) -> bool:
        """True while no active admin can sign in (a new database): the desk asks for the first one."""
        with self._ctx.db.connect() as conn:
            return not conn.scalar(active_admins())

    def sign_in_names(self) -> list[str]:
        """Names of the staff who can sign in (active, with a PIN or password), by name."""
        s = STAFF.c
        with self._ctx.db.connect() as conn:
            return list(conn.scalars(
                select(s.name).where(s.is_active.is_(True), s.secret_hash != "").order_by(s.name)))
