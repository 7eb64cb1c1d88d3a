"""Staff sign-in: hashed PINs and passwords, lockout, first admin, overrides, staff administration."""

from __future__ import annotations

from boxoffice.services.context import ServiceContext


class AuthService:
    """Sign operators in and out, approve overrides, and manage staff accounts (admins)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
