"""Plugs the admin screens into a main window: Catalog (admins, F7) and Audit log (leads and admins, F8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from boxoffice.services.staff.access import Permission

if TYPE_CHECKING:
    from boxoffice.ui.screens.audit.screen import AuditScreen
    from boxoffice.ui.screens.catalog_admin.screen import CatalogAdminScreen

CATALOG_KEY = "F7"
AUDIT_KEY = "F8"
BADGES_KEY = "Ctrl+B"


@dataclass
class AdminScreens:
    """The two screens' places in the window; each screen is built when first shown or read here."""

    window: Any
    catalog_index: int
    audit_index: int

    @property
    def catalog(self) -> CatalogAdminScreen:
        screen: CatalogAdminScreen = self.window.catalog_admin_screen
        return screen

    @property
    def audit(self) -> AuditScreen:
        screen: AuditScreen = self.window.audit_screen
        return screen


def _catalog_screen(desk: Any) -> CatalogAdminScreen:
    from boxoffice.ui.screens.catalog_admin.screen import CatalogAdminScreen

    return CatalogAdminScreen(desk)


def _audit_screen(desk: Any) -> AuditScreen:
    from boxoffice.ui.screens.audit.screen import AuditScreen

    return AuditScreen(desk)


def _badge_screen(desk: Any) -> Any:
    from boxoffice.config import load_settings
    from boxoffice.ui.badge_output import QtBadgeOutput
    from boxoffice.ui.screens.badges.screen import BadgeTemplateScreen

    if desk.services.badges.output is None:   # the desk's saved badge printer, read at each print
        desk.services.badges.output = QtBadgeOutput(lambda: load_settings().settings.badge_printer)
    return BadgeTemplateScreen(desk)


def install_admin(window: Any) -> AdminScreens:
    """Add the Catalog and Audit log screens to ``window`` (each built when first shown).

    Each nav button is shown only to operators whose role has the permission. The services check
    every call anyway, and a screen shows a refusal (nobody signed in, role too low) as a message
    in place of its table.
    """
    desk = window.desk
    catalog_index = window.add_screen("Catalog", CATALOG_KEY, lambda: _catalog_screen(desk),
                                      name="catalog_admin_screen", permission=Permission.MANAGE_CATALOG)
    audit_index = window.add_screen("Audit log", AUDIT_KEY, lambda: _audit_screen(desk),
                                    name="audit_screen", permission=Permission.VIEW_AUDIT)
    window.add_screen("Badges", BADGES_KEY, lambda: _badge_screen(desk), name="badge_screen",
                      permission=Permission.MANAGE_CATALOG)
    return AdminScreens(window, catalog_index, audit_index)
