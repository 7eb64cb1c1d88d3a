"""Import a conference file (TOML): conference, tickets and add-ons, idempotently, in one transaction."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from boxoffice.domain import catalog_rules
from boxoffice.domain.catalog_rules import slugify
from boxoffice.domain.models import AddOn, Conference, TicketType
from boxoffice.errors import ImportError_
from boxoffice.money import CENT
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize
from boxoffice.timeutil import UTC, zone

log = logging.getLogger(__name__)

# Keys of [conference] that Box Office stores; any other key or sub-table is reported as skipped.
_CONFERENCE_KEYS = {
    "name", "start", "end", "timezone", "venue", "website_url", "total_capacity", "pretalx_event_slug",
    "slug", "currency", "reference_prefix", "tickets", "addons",
}
_TICKET_KEYS = {"name", "slug", "description", "price", "quantity", "per_user", "voucher_required",
                "available", "active"}
_ADDON_KEYS = {"name", "slug", "description", "price", "quantity", "requires", "available", "active"}
_PREFIX_RE = re.compile(r"^[A-Z0-9]{1,10}$")


@dataclass(frozen=True)
class ImportReport:
    """What an import did: counts of records created/updated/unchanged and the sections not imported."""

    conference_id: int
    created: int
    updated: int
    unchanged: int
    skipped_sections: tuple[str, ...]
    conference_name: str = ""
    conference_slug: str = ""
    changes: tuple[str, ...] = ()

    def describe(self) -> str:
        lines = [
            (f"Conference '{self.conference_name}' ({self.conference_slug}): {self.created} created, "
             f"{self.updated} updated, {self.unchanged} unchanged.")
        ]
        lines += [f"  {change}" for change in self.changes]
        if self.skipped_sections:
            lines.append("Skipped (not imported by Box Office): " + ", ".join(self.skipped_sections))
        return "\n".join(lines)


@dataclass
class _Product:
    """One validated ticket or add-on of the file, as the columns it maps to (DESK-7)."""

    path: str
    values: dict[str, Any]
    requires: tuple[str, ...] = ()


@dataclass
class _Plan:
    conference: dict[str, Any]
    tickets: list[_Product] = field(default_factory=list)
    addons: list[_Product] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- validation


class _Problem(Exception):
    """A problem at one key path of the file (turned into ImportError_ at the top)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path, self.problem, self.hint = path, problem, ""

    def to_error(self, source: str) -> ImportError_:
        hint = f" ({self.hint})" if self.hint else ""
        return ImportError_(
            f"{source}: {self.path}{hint}: {self.problem}. Nothing was imported; fix the file and "
            "import it again."
        )


def _fail(path: str, problem: str) -> _Problem:
    return _Problem(path, problem)


def _get(table: dict[str, Any], key: str, path: str, kind: type | tuple[type, ...], *,
         required: bool = False, default: Any = None) -> Any:
    if key not in table:
        if required:
            raise _fail(f"{path}.{key}", "this key is missing")
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        raise _fail(f"{path}.{key}", f"expected {_kind_name(kinds)}, found true/false")
    if not isinstance(value, kinds):
        raise _fail(f"{path}.{key}", f"expected {_kind_name(kinds)}, found {value!r}")
    return value


def _kind_name(kinds: tuple[type, ...]) -> str:
    names = {str: "text", int: "a whole number", bool: "true or false", Decimal: "an amount",
             date: "a date", datetime: "a date and time", dict: "a table", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _text(table: dict[str, Any], key: str, path: str, *, required: bool = False, max_len: int = 200) -> str:
    value = _get(table, key, path, str, required=required, default="")
    value = value.strip()
    if required and not value:
        raise _fail(f"{path}.{key}", "must not be empty")
    if len(value) > max_len:
        raise _fail(f"{path}.{key}", f"is longer than {max_len} characters")
    return str(value)


def _count(table: dict[str, Any], key: str, path: str, default: int) -> int:
    value = _get(table, key, path, int, default=default)
    problem = catalog_rules.quantity_problem(value)
    if problem:
        raise _fail(f"{path}.{key}", problem)
    return int(value)


def _price(table: dict[str, Any], key: str, path: str) -> Decimal:
    value = _get(table, key, path, (Decimal, int), required=True)
    amount = Decimal(value)
    problem = catalog_rules.price_problem(amount)
    if problem:
        raise _fail(f"{path}.{key}", problem)
    return amount.quantize(CENT)


def _moment(value: Any, path: str, tz_name: str, *, end_of_day: bool) -> datetime:
    """DESK-6: a date-only bound is 00:00:00 (opens) or 23:59:59 (closes) local; stored as UTC."""
    if isinstance(value, datetime):
        local = value if value.tzinfo is not None else value.replace(tzinfo=zone(tz_name))
    elif isinstance(value, date):
        local = datetime.combine(value, time(23, 59, 59) if end_of_day else time(0, 0), tzinfo=zone(tz_name))
    else:
        raise _fail(path, f"expected a date such as 2027-05-13, found {value!r}")
    return local.astimezone(UTC)


def _window(table: dict[str, Any], path: str, tz_name: str) -> tuple[datetime | None, datetime | None]:
    available = _get(table, "available", path, dict, default={})
    for key in available:
        if key not in ("opens", "closes"):
            raise _fail(f"{path}.available.{key}", "unknown key (use opens and closes)")
    opens = available.get("opens")
    closes = available.get("closes")
    start = _moment(opens, f"{path}.available.opens", tz_name, end_of_day=False) if opens is not None else None
    end = _moment(closes, f"{path}.available.closes", tz_name, end_of_day=True) if closes is not None else None
    problem = catalog_rules.window_problem(start, end)
    if problem:
        raise _fail(f"{path}.available", problem)
    return start, end


def _product(table: Any, path: str, known: set[str], tz_name: str, position: int) -> _Product:
    if not isinstance(table, dict):
        raise _fail(path, "expected a table")
    for key in table:
        if key not in known:
            raise _fail(f"{path}.{key}", f"unknown key (known keys: {', '.join(sorted(known))})")
    name = _text(table, "name", path, required=True)
    slug = _text(table, "slug", path, max_len=200) or slugify(name)
    if not slug:
        raise _fail(f"{path}.name", "no slug can be derived from this name; add a slug key")
    opens, closes = _window(table, path, tz_name)
    values: dict[str, Any] = {
        "name": name,
        "slug": slug,
        "description": _text(table, "description", path, max_len=100_000),
        "price": _price(table, "price", path),
        "total_quantity": _count(table, "quantity", path, 0),
        "available_from": opens,
        "available_until": closes,
        "is_active": _get(table, "active", path, bool, default=True),
        "order": position,
    }
    return _Product(path=path, values=values)


@contextmanager
def _hint(table: Any, kind: str, position: int) -> Iterator[None]:
    """Name the entry in errors: "the 3rd ticket, 'Student'" (paths count from 0, people from 1)."""
    try:
        yield
    except _Problem as problem:
        name = table.get("name") if isinstance(table, dict) else None
        ordinal = _ordinal(position + 1)
        problem.hint = f"the {ordinal} {kind}" + (f", '{name}'" if isinstance(name, str) and name else "")
        raise


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _indexed(section: str, items: Any) -> list[tuple[str, Any]]:
    if not isinstance(items, list):
        raise _fail(section, "expected a list of tables ([[...]])")
    return [(f"{section}[{i}]", item) for i, item in enumerate(items)]


def parse_conference_text(text: str, source: str = "conference file") -> _Plan:
    """Validate the whole file and return what to write; raise ImportError_ naming the line or key."""
    try:
        return _parse(text, source)
    except _Problem as problem:
        raise problem.to_error(source) from None


def _parse(text: str, source: str) -> _Plan:
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ImportError_(f"{source} is not valid TOML: {exc}. Nothing was imported.") from None
    except RecursionError:
        raise ImportError_(f"{source} nests arrays or tables too deeply to be a conference file. "
                           "Nothing was imported; check that it is the right file.") from None
    conf = data.get("conference")
    if not isinstance(conf, dict):
        raise _fail("conference", "the [conference] table is missing")
    skipped = [f"[{key}]" for key in data if key != "conference"]
    tz_name = _text(conf, "timezone", "conference", required=True, max_len=64)
    try:
        zone(tz_name)
    except ValueError as exc:
        raise _fail("conference.timezone", str(exc).rstrip(".")) from None
    name = _text(conf, "name", "conference", required=True)
    slug = (_text(conf, "slug", "conference") or _text(conf, "pretalx_event_slug", "conference")
            or slugify(name))
    if not slug:
        raise _fail("conference.name", "no slug can be derived from this name; add pretalx_event_slug")
    start = _get(conf, "start", "conference", date)
    end = _get(conf, "end", "conference", date)
    if isinstance(start, datetime) or isinstance(end, datetime):
        raise _fail("conference.start", "use plain dates such as 2027-05-14")
    if start is not None and end is not None and end < start:
        raise _fail("conference.end", "the conference ends before it starts")
    conference: dict[str, Any] = {
        "name": name,
        "slug": slug,
        "timezone": tz_name,
        "start_date": start.isoformat() if start else "",
        "end_date": end.isoformat() if end else "",
        "venue": _text(conf, "venue", "conference"),
        "website_url": _text(conf, "website_url", "conference", max_len=300),
        "total_capacity": _count(conf, "total_capacity", "conference", 0),
    }
    if "currency" in conf:
        currency = _text(conf, "currency", "conference", max_len=3).upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise _fail("conference.currency", "use a three-letter code such as USD")
        conference["currency"] = currency
    if "reference_prefix" in conf:
        prefix = _text(conf, "reference_prefix", "conference", max_len=10).upper()
        if not _PREFIX_RE.match(prefix):
            raise _fail("conference.reference_prefix", "use 1 to 10 letters or digits, such as PY27")
        conference["reference_prefix"] = prefix
    for key, value in conf.items():
        if key not in _CONFERENCE_KEYS:
            count = f" ({len(value)} entries)" if isinstance(value, list) else ""
            skipped.append(f"conference.{key}{count}")
    plan = _Plan(conference=conference, skipped=skipped)

    for position, (path, table) in enumerate(_indexed("conference.tickets", conf.get("tickets", []))):
        with _hint(table, "ticket", position):
            product = _product(table, path, _TICKET_KEYS, tz_name, position)
            product.values["limit_per_user"] = _count(table, "per_user", path, 10)
            product.values["requires_voucher"] = _get(table, "voucher_required", path, bool, default=False)
            plan.tickets.append(product)
    for position, (path, table) in enumerate(_indexed("conference.addons", conf.get("addons", []))):
        with _hint(table, "add-on", position):
            product = _product(table, path, _ADDON_KEYS, tz_name, position)
            requires = _get(table, "requires", path, list, default=[])
            for i, item in enumerate(requires):
                if not isinstance(item, str):
                    raise _fail(f"{path}.requires[{i}]", f"expected a ticket slug, found {item!r}")
            product.requires = tuple(requires)
            plan.addons.append(product)

    for kind, products in (("ticket", plan.tickets), ("add-on", plan.addons)):
        seen: dict[str, str] = {}
        for product in products:
            slug = product.values["slug"]
            if slug in seen:
                raise _fail(f"{product.path}.slug", f"{kind} slug '{slug}' is already used by {seen[slug]}")
            seen[slug] = product.path
    ticket_slugs = [t.values["slug"] for t in plan.tickets]
    for addon in plan.addons:
        for i, slug in enumerate(addon.requires):
            if slug not in ticket_slugs:
                raise _fail(
                    f"{addon.path}.requires[{i}]",
                    f"unknown ticket slug '{slug}' (tickets in this file: {', '.join(ticket_slugs) or 'none'})",
                )
    return plan


# --------------------------------------------------------------------------- writing


def _apply(obj: Any, values: dict[str, Any]) -> list[str]:
    changed = [key for key, value in values.items() if getattr(obj, key) != value]
    for key in changed:
        setattr(obj, key, values[key])
    return changed


def _write(session: Session, ctx: ServiceContext, plan: _Plan, report: dict[str, Any]) -> int:
    """Create or update the conference, its tickets and add-ons, with the catalog screen's audit rows."""
    from boxoffice.services.admin.catalog_admin import apply_and_record, record_created

    def note(kind: str, label: str, changed: list[str] | None) -> None:
        if changed is None:
            report["created"] += 1
            report["changes"].append(f"created {kind} {label}")
        elif changed:
            report["updated"] += 1
            report["changes"].append(f"updated {kind} {label}: {', '.join(changed)}")
        else:
            report["unchanged"] += 1

    def changed_keys(obj: Any, values: dict[str, Any]) -> list[str]:
        return [key for key, value in values.items() if getattr(obj, key) != value]

    conf = session.scalar(select(Conference).where(Conference.slug == plan.conference["slug"]))
    if conf is None:
        conf = Conference(**plan.conference)
        session.add(conf)
        session.flush()
        record_created(session, ctx, "conference", conf.id, conf.name, plan.conference)
        note("conference", plan.conference["slug"], None)
    else:
        keys = changed_keys(conf, plan.conference)
        apply_and_record(session, ctx, "conference", conf, plan.conference)
        note("conference", conf.slug, keys)

    tickets = {t.slug: t for t in session.scalars(select(TicketType).where(TicketType.conference_id == conf.id))}
    for product in plan.tickets:
        slug = product.values["slug"]
        if slug in tickets:
            keys = changed_keys(tickets[slug], product.values)
            apply_and_record(session, ctx, "ticket_type", tickets[slug], product.values)
            note("ticket", slug, keys)
        else:
            tickets[slug] = TicketType(conference_id=conf.id, **product.values)
            session.add(tickets[slug])
            session.flush()
            record_created(session, ctx, "ticket_type", tickets[slug].id, tickets[slug].name, product.values)
            note("ticket", slug, None)
    session.flush()

    addons = {
        a.slug: a
        for a in session.scalars(
            select(AddOn).where(AddOn.conference_id == conf.id).options(selectinload(AddOn.requires_ticket_types))
        )
    }
    for product in plan.addons:
        slug = product.values["slug"]
        wanted = [tickets[s] for s in product.requires]
        wanted_ids = tuple(sorted(t.id for t in wanted))
        addon = addons.get(slug)
        if addon is None:
            addon = AddOn(conference_id=conf.id, **product.values)
            addon.requires_ticket_types = wanted
            session.add(addon)
            session.flush()
            record_created(session, ctx, "addon", addon.id, addon.name,
                           {**product.values, "requires_ticket_type_ids": wanted_ids})
            note("add-on", slug, None)
            continue
        keys = changed_keys(addon, product.values)
        extra: dict[str, tuple[Any, Any]] = {}
        before = tuple(sorted(t.id for t in addon.requires_ticket_types))
        if before != wanted_ids:
            addon.requires_ticket_types = wanted
            extra["requires_ticket_type_ids"] = (before, wanted_ids)
            keys.append("requires")
        apply_and_record(session, ctx, "addon", addon, product.values, extra)
        note("add-on", slug, keys)
    session.flush()
    return conf.id


def import_conference_text(ctx: ServiceContext, text: str, source: str = "conference file") -> ImportReport:
    """Validate everything first, then write conference, tickets and add-ons in one transaction.

    Changing the catalog needs an admin, as on the catalog screen, and writes the same audit rows
    (one per created item; price, stock and other changes), plus one row for the import. On the
    first start, while the database has no admin to sign in, the desk may load its conference.
    """
    if not first_start(ctx):
        authorize(Permission.MANAGE_CATALOG)
    plan = parse_conference_text(text, source)
    counts: dict[str, Any] = {"created": 0, "updated": 0, "unchanged": 0, "changes": []}
    with ctx.db.write() as session:
        conference_id = _write(session, ctx, plan, counts)
        audit.record(session, ctx, audit.CONFERENCE_IMPORT, target_type="conference", target_id=conference_id,
                     target_label=plan.conference["name"],
                     detail={"source": source, "created": counts["created"], "updated": counts["updated"],
                             "unchanged": counts["unchanged"]})
    log.info("imported conference %s from %s: %d created, %d updated", plan.conference["slug"], source,
             counts["created"], counts["updated"])
    return ImportReport(
        conference_id=conference_id,
        created=counts["created"],
        updated=counts["updated"],
        unchanged=counts["unchanged"],
        skipped_sections=tuple(plan.skipped),
        conference_name=plan.conference["name"],
        conference_slug=plan.conference["slug"],
        changes=tuple(counts["changes"]),
    )


def first_start(ctx: ServiceContext) -> bool:
    """True while the database has no admin who can sign in (a new desk loading its conference)."""
    from boxoffice.services.staff.directory import StaffDirectory

    return StaffDirectory(ctx).needs_first_admin()


def import_conference(ctx: ServiceContext, path: Path | str) -> ImportReport:
    """Import the conference file at ``path`` (see the format of the example conference file)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ImportError_(f"The file {path} does not exist. Check the path and try again.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ImportError_(f"The file {path} cannot be read ({exc}).") from None
    return import_conference_text(ctx, text, path.name)
