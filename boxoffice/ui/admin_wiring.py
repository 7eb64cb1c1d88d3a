"""Plugs the admin screens into a main window: Catalog (admins, F7) and Audit log (leads and admins, F8)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

from boxoffice.services.access import Permission
from boxoffice.ui.screens.audit.screen import AuditScreen
from boxoffice.ui.screens.catalog_admin.screen import CatalogAdminScreen

CATALOG_KEY = "F7"
AUDIT_KEY = "F8"


@dataclass
class AdminScreens:
    catalog: CatalogAdminScreen
    audit: AuditScreen
    catalog_index: int
    audit_index: int


def install_admin(window: Any) -> AdminScreens:
    """Add the Catalog and Audit log screens to ``window`` (``window.add_screen``).

    When the window's ``add_screen`` takes a ``permission``, each nav button is shown only to
    operators who have it. Either way the services check every call, and a screen shows a refusal
    (nobody signed in, role too low) as a message in place of its table.
    """
    desk = window.desk
    catalog = CatalogAdminScreen(desk)
    audit = AuditScreen(desk)
    gated = "permission" in inspect.signature(window.add_screen).parameters
    extra_catalog = {"permission": Permission.MANAGE_CATALOG} if gated else {}
    extra_audit = {"permission": Permission.VIEW_AUDIT} if gated else {}
    catalog_index = window.add_screen("Catalog", CATALOG_KEY, catalog, **extra_catalog)
    audit_index = window.add_screen("Audit log", AUDIT_KEY, audit, **extra_audit)
    window.catalog_admin_screen = catalog
    window.audit_screen = audit
    return AdminScreens(catalog, audit, catalog_index, audit_index)
