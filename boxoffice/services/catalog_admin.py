"""Catalog administration (admins): ticket types, add-ons and vouchers, with the import's rules."""

from __future__ import annotations

from boxoffice.services.context import ServiceContext


class CatalogAdminService:
    """Create and edit ticket types, add-ons and vouchers; bulk voucher codes and CSV export."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
