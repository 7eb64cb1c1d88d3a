"""Badge templates (BDG-1): page presets, the fields shown, fonts and colours; admins change them.

One template per ticket type, or the conference's default; ``template_for`` picks the ticket
type's own, then the default, then the built-in look, so every attendee has a badge to print.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.domain.models import BadgeTemplate, Conference, TicketType
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize


@dataclass(frozen=True)
class PagePreset:
    key: str
    label: str
    width_mm: int
    height_mm: int
    columns: int = 1
    rows: int = 1


PRESETS: tuple[PagePreset, ...] = (
    PagePreset("label-89x51", "Label 89 × 51 mm", 89, 51),
    PagePreset("label-4x3in", "Label 4 × 3 in (102 × 76 mm)", 102, 76),
    PagePreset("a6", "A6 (105 × 148 mm)", 105, 148),
    PagePreset("a4-2x4", "A4 sheet, 8 badges (2 × 4)", 210, 297, 2, 4),
    PagePreset("a4-2x5", "A4 sheet, 10 badges (2 × 5)", 210, 297, 2, 5),
    PagePreset("custom", "Custom size", 90, 55),
)
PRESET_BY_KEY = {p.key: p for p in PRESETS}
FIELDS = ("name", "company", "ticket_type", "conference", "logo", "qr")
FIELD_LABELS = {"name": "Name", "company": "Company", "ticket_type": "Ticket type (banner)",
                "conference": "Conference name", "logo": "Logo", "qr": "Access code QR"}
DEFAULT_FIELDS = ("name", "company", "ticket_type", "conference", "logo", "qr")
MAX_LOGO_BYTES = 2_000_000
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class TemplateView:
    id: int | None                  # None: the built-in look (nothing saved yet)
    conference_id: int
    ticket_type_id: int | None      # None: the conference's default
    name: str = "Badge"
    page_preset: str = "label-89x51"
    page_width_mm: int = 89
    page_height_mm: int = 51
    columns: int = 1
    rows: int = 1
    fields: tuple[str, ...] = DEFAULT_FIELDS
    font_family: str = "Noto Sans"
    name_size_pt: int = 22
    text_size_pt: int = 10
    text_color: str = "#1a1a1a"
    background_color: str = "#ffffff"
    banner_color: str = "#1f4e79"
    banner_text_color: str = "#ffffff"
    banner_colors: dict[str, str] = field(default_factory=dict)
    logo_png: bytes | None = None

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    @property
    def badge_width_mm(self) -> float:
        return self.page_width_mm / self.columns

    @property
    def badge_height_mm(self) -> float:
        return self.page_height_mm / self.rows

    def banner_for(self, ticket_type_id: int | None) -> str:
        return self.banner_colors.get(str(ticket_type_id), self.banner_color) if ticket_type_id else self.banner_color

    def shows(self, name: str) -> bool:
        return name in self.fields

    @staticmethod
    def of(row: BadgeTemplate) -> TemplateView:
        return TemplateView(row.id, row.conference_id, row.ticket_type_id, row.name, row.page_preset,
                            row.page_width_mm, row.page_height_mm, row.columns, row.rows,
                            tuple(f for f in row.fields if f in FIELDS), row.font_family, row.name_size_pt,
                            row.text_size_pt, row.text_color, row.background_color, row.banner_color,
                            row.banner_text_color, dict(row.banner_colors or {}), row.logo_png)


EDITABLE = ("name", "page_preset", "page_width_mm", "page_height_mm", "columns", "rows", "fields", "font_family",
            "name_size_pt", "text_size_pt", "text_color", "background_color", "banner_color", "banner_text_color",
            "banner_colors", "logo_png")


def validated(view: TemplateView) -> TemplateView:
    """The template with its preset applied, or ``InvalidInput`` naming the field that is wrong."""
    if view.page_preset not in PRESET_BY_KEY:
        raise InvalidInput("Choose one of the page sizes in the list.", field="page_preset")
    preset = PRESET_BY_KEY[view.page_preset]
    if preset.key != "custom":
        view = replace(view, page_width_mm=preset.width_mm, page_height_mm=preset.height_mm,
                       columns=preset.columns, rows=preset.rows)
    if not (20 <= view.page_width_mm <= 420 and 20 <= view.page_height_mm <= 420):
        raise InvalidInput("A badge page is 20 to 420 mm wide and high.", field="page_width_mm")
    if not (1 <= view.columns <= 6 and 1 <= view.rows <= 10):
        raise InvalidInput("A sheet holds 1 to 6 columns and 1 to 10 rows of badges.", field="columns")
    name = " ".join(view.name.split())
    if not name or len(name) > 100:
        raise InvalidInput("Give the template a name of 1 to 100 characters.", field="name")
    unknown = [f for f in view.fields if f not in FIELDS]
    if unknown or "name" not in view.fields:
        raise InvalidInput("A badge always shows the name; the other fields are chosen from the list.",
                           field="fields")
    if not 6 <= view.name_size_pt <= 96 or not 5 <= view.text_size_pt <= 48:
        raise InvalidInput("The name is 6 to 96 pt and the other text 5 to 48 pt.", field="name_size_pt")
    colours = [view.text_color, view.background_color, view.banner_color, view.banner_text_color,
               *view.banner_colors.values()]
    if any(not _COLOR.match(c or "") for c in colours):
        raise InvalidInput("Colours are written #RRGGBB, e.g. #1f4e79.", field="banner_color")
    if view.logo_png is not None and len(view.logo_png) > MAX_LOGO_BYTES:
        raise InvalidInput("The logo is larger than 2 MB. Choose a smaller image.", field="logo_png")
    family = " ".join(view.font_family.split())[:100] or "Noto Sans"
    return replace(view, name=name, font_family=family, fields=tuple(dict.fromkeys(view.fields)))


class BadgeTemplateService:
    """Read templates (any operator) and save them (admins; each save leaves an audit row)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def list_templates(self, conference_id: int) -> list[TemplateView]:
        with self._ctx.db.read() as session:
            rows = session.scalars(select(BadgeTemplate).where(BadgeTemplate.conference_id == conference_id)
                                   .order_by(BadgeTemplate.ticket_type_id.is_not(None), BadgeTemplate.id))
            return [TemplateView.of(r) for r in rows]

    def template_for(self, conference_id: int, ticket_type_id: int | None) -> TemplateView:
        """The ticket type's own template, else the conference default, else the built-in look."""
        with self._ctx.db.read() as session:
            return template_in(session, conference_id, ticket_type_id)

    def save_template(self, conference_id: int, ticket_type_id: int | None, **changes: Any) -> TemplateView:
        """Create or change the template of a ticket type (``None``: the conference default)."""
        authorize(Permission.MANAGE_CATALOG)
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidInput(f"Unknown template fields: {', '.join(sorted(unknown))}.")
        if "fields" in changes:
            changes["fields"] = tuple(changes["fields"])
        if "banner_colors" in changes:
            changes["banner_colors"] = {str(k): str(v) for k, v in dict(changes["banner_colors"]).items()}
        with self._ctx.db.write() as session:
            if session.get(Conference, conference_id) is None:
                raise NotFound("That conference no longer exists.")
            if ticket_type_id is not None:
                ticket = session.get(TicketType, ticket_type_id)
                if ticket is None or ticket.conference_id != conference_id:
                    raise InvalidInput("That ticket type is not one of this conference's.", field="ticket_type")
            row = _stored(session, conference_id, ticket_type_id)
            before = TemplateView.of(row) if row is not None else template_in(session, conference_id, ticket_type_id)
            after = validated(replace(before, **changes))
            created = row is None
            if row is None:
                row = BadgeTemplate(conference_id=conference_id, ticket_type_id=ticket_type_id)
                session.add(row)
            for name in EDITABLE:
                value = getattr(after, name)
                setattr(row, name, list(value) if name == "fields" else value)
            session.flush()
            changed = {n: "changed" if n == "logo_png" else _plain(getattr(after, n)) for n in EDITABLE
                       if getattr(before, n) != getattr(after, n)}
            if created:
                changed["created"] = True
            audit.record(session, self._ctx, audit.BADGE_TEMPLATE_CHANGE, target_type="badge_template",
                         target_id=row.id, target_label=after.name, detail=changed)
            return TemplateView.of(row)


def _stored(session: Session, conference_id: int, ticket_type_id: int | None) -> BadgeTemplate | None:
    query = select(BadgeTemplate).where(BadgeTemplate.conference_id == conference_id)
    query = query.where(BadgeTemplate.ticket_type_id.is_(None) if ticket_type_id is None
                        else BadgeTemplate.ticket_type_id == ticket_type_id)
    return session.scalar(query)


def template_in(session: Session, conference_id: int, ticket_type_id: int | None) -> TemplateView:
    row = _stored(session, conference_id, ticket_type_id) if ticket_type_id is not None else None
    row = row or _stored(session, conference_id, None)
    if row is not None:
        return TemplateView.of(row)
    return TemplateView(None, conference_id, ticket_type_id)


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
