"""Catalog administration (admins): ticket types, add-ons and vouchers, with the import's rules.

Every change is one transaction that also appends its audit rows: ``price_change`` (amounts
before/after), ``stock_change`` (total quantity before/after), ``catalog_change`` (creation and
every other field), ``voucher_change`` (vouchers, and one row per generated batch).
"""

from __future__ import annotations

import csv
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, selectinload

from boxoffice.domain import catalog_rules as rules
from boxoffice.domain.models import (
    AddOn,
    Conference,
    TicketType,
    Voucher,
    VoucherType,
    voucher_addon,
    voucher_ticket_type,
)
from boxoffice.domain.vouchers import check_discount_value, normalize_code
from boxoffice.errors import InvalidInput, NotFound
from boxoffice.money import quantize
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize
from boxoffice.timeutil import UTC, zone


class StockTooLow(InvalidInput):
    """The stock asked for is below the units already sold or held."""


class DuplicateName(InvalidInput):
    """Another ticket type, add-on or voucher of the conference already uses this name, slug or code."""


# --------------------------------------------------------------------------- views


@dataclass(frozen=True)
class TicketTypeAdminView:
    id: int
    conference_id: int
    name: str
    slug: str
    description: str
    price: Decimal
    total_quantity: int
    limit_per_user: int
    available_from: datetime | None
    available_until: datetime | None
    requires_voucher: bool
    is_active: bool
    order: int
    sold_quantity: int
    held_quantity: int


@dataclass(frozen=True)
class AddOnAdminView:
    id: int
    conference_id: int
    name: str
    slug: str
    description: str
    price: Decimal
    total_quantity: int
    available_from: datetime | None
    available_until: datetime | None
    is_active: bool
    order: int
    sold_quantity: int
    held_quantity: int
    requires_ticket_type_ids: tuple[int, ...]
    requires_ticket_names: tuple[str, ...]


@dataclass(frozen=True)
class VoucherAdminView:
    id: int
    conference_id: int
    code: str
    voucher_type: str
    discount_value: Decimal
    max_uses: int
    times_used: int
    valid_from: datetime | None
    valid_until: datetime | None
    unlocks_hidden_tickets: bool
    is_active: bool
    ticket_type_ids: tuple[int, ...]
    addon_ids: tuple[int, ...]


_PRODUCT_FIELDS = ("name", "slug", "description", "price", "total_quantity", "available_from",
                   "available_until", "is_active", "order")
TICKET_FIELDS = frozenset(_PRODUCT_FIELDS + ("limit_per_user", "requires_voucher"))
ADDON_FIELDS = frozenset(_PRODUCT_FIELDS + ("requires_ticket_type_ids",))
VOUCHER_FIELDS = frozenset({"code", "voucher_type", "discount_value", "max_uses", "valid_from", "valid_until",
                            "unlocks_hidden_tickets", "is_active", "ticket_type_ids", "addon_ids"})
_LABELS = {"name": "Name", "slug": "Slug", "description": "Description", "price": "Price",
           "total_quantity": "Stock", "limit_per_user": "Per-customer limit", "available_from": "On sale from",
           "available_until": "On sale until", "order": "Display order", "max_uses": "Max uses",
           "code": "Code", "discount_value": "Discount", "valid_from": "Valid from", "valid_until": "Valid until",
           "count": "The number of codes", "length": "The code length"}


# --------------------------------------------------------------------------- input checks


def _bad(field: str, problem: str, hint: str = "") -> InvalidInput:
    return InvalidInput(f"{_LABELS.get(field, field)} {problem}.{' ' + hint if hint else ''}", field=field)


def _flag(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{field} must be True or False")
    return value


def _whole(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(field, f"must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise _bad(field, f"must be from {low} to {high}, not {value}")
    return value


def _moment(field: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(f"{field} must be an aware datetime or None")
    return value.astimezone(UTC)


def _amount(field: str, value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise _bad(field, f"must be an amount such as 25.00, not {value!r}")
    amount = Decimal(value)
    problem = rules.price_problem(amount)
    if problem:
        raise _bad(field, problem)
    return quantize(amount)


def _text(field: str, value: Any, *, required: bool, max_len: int = rules.MAX_NAME) -> str:
    if not isinstance(value, str):
        raise _bad(field, "must be text")
    problem = rules.text_problem(value, required=required, max_len=max_len)
    if problem:
        raise _bad(field, problem)
    return value.strip()


def _clean_product(changes: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """Type and range checks of the fields given (the combined checks come after)."""
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"unknown field(s): {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "name":
            clean[key] = _text(key, value, required=True)
        elif key == "slug":
            clean[key] = _text(key, value, required=False)
        elif key == "description":
            clean[key] = _text(key, value, required=False, max_len=rules.MAX_DESCRIPTION)
        elif key == "price":
            clean[key] = _amount(key, value)
        elif key == "total_quantity":
            clean[key] = _whole(key, value, 0, rules.MAX_QUANTITY)
        elif key == "limit_per_user":
            clean[key] = _whole(key, value, 1, rules.MAX_LIMIT_PER_USER)
        elif key == "order":
            clean[key] = _whole(key, value, 0, 1_000_000)
        elif key in ("available_from", "available_until"):
            clean[key] = _moment(key, value)
        elif key in ("is_active", "requires_voucher"):
            clean[key] = _flag(key, value)
        elif key == "requires_ticket_type_ids":
            clean[key] = _ids(key, value)
    return clean


def _clean_new_product(fields: Mapping[str, Any], allowed: frozenset[str]) -> dict[str, Any]:
    """As ``_clean_product``, and a new product needs at least its name and price."""
    values = _clean_product(fields, allowed)
    for required in ("name", "price"):
        if required not in values:
            raise _bad(required, "must be given")
    return values


def _ids(field: str, value: Any) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"{field} must be a collection of ids")
    ids = tuple(sorted(set(value)))
    if any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        raise TypeError(f"{field} must hold integer ids")
    return ids


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, VoucherType):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    return value


# --------------------------------------------------------------------------- service


class CatalogAdminService:
    """Create and edit ticket types, add-ons and vouchers; bulk voucher codes and CSV export."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # ----------------------------------------------------------------- ticket types

    def list_ticket_types(self, conference_id: int) -> list[TicketTypeAdminView]:
        """Every ticket type of the conference, active or not, in display order (MOD-TT-1)."""
        authorize(Permission.MANAGE_CATALOG)
        with self._ctx.db.read() as session:
            return [_ticket_view(t) for t in _products_of(session, TicketType, conference_id)]

    def create_ticket_type(self, conference_id: int, **fields: Any) -> TicketTypeAdminView:
        """A new ticket type; ``name`` and ``price`` are required, the rest default as in the import."""
        authorize(Permission.MANAGE_CATALOG)
        values = _clean_new_product(fields, TICKET_FIELDS)
        values.setdefault("limit_per_user", 10)
        with self._ctx.db.write() as session:
            _conference(session, conference_id)
            values = self._new_product_values(session, TicketType, conference_id, values)
            ticket = TicketType(conference_id=conference_id, **values)
            session.add(ticket)
            session.flush()
            record_created(session, self._ctx, "ticket_type", ticket.id, ticket.name, values)
            return _ticket_view(ticket)

    def update_ticket_type(self, ticket_type_id: int, **changes: Any) -> TicketTypeAdminView:
        """Change some fields; stock may not drop below sold + held. One audit row per kind of change."""
        authorize(Permission.MANAGE_CATALOG)
        values = _clean_product(changes, TICKET_FIELDS)
        with self._ctx.db.write() as session:
            ticket = _locked_product(session, TicketType, ticket_type_id)
            self._check_product(session, TicketType, ticket, values)
            apply_and_record(session, self._ctx, "ticket_type", ticket, values)
            return _ticket_view(ticket)

    # ----------------------------------------------------------------- add-ons

    def list_addons(self, conference_id: int) -> list[AddOnAdminView]:
        authorize(Permission.MANAGE_CATALOG)
        with self._ctx.db.read() as session:
            rows = _products_of(session, AddOn, conference_id, selectinload(AddOn.requires_ticket_types))
            return [_addon_view(a) for a in rows]

    def create_addon(self, conference_id: int, **fields: Any) -> AddOnAdminView:
        """A new add-on; ``requires_ticket_type_ids`` (empty = no prerequisite) must be this conference's."""
        authorize(Permission.MANAGE_CATALOG)
        values = _clean_new_product(fields, ADDON_FIELDS)
        required_ids = values.pop("requires_ticket_type_ids", ())
        with self._ctx.db.write() as session:
            _conference(session, conference_id)
            values = self._new_product_values(session, AddOn, conference_id, values)
            addon = AddOn(conference_id=conference_id, **values)
            addon.requires_ticket_types = _tickets_of(session, conference_id, required_ids)
            session.add(addon)
            session.flush()
            record_created(session, self._ctx, "addon", addon.id, addon.name,
                            {**values, "requires_ticket_type_ids": required_ids})
            return _addon_view(addon)

    def update_addon(self, addon_id: int, **changes: Any) -> AddOnAdminView:
        authorize(Permission.MANAGE_CATALOG)
        values = _clean_product(changes, ADDON_FIELDS)
        with self._ctx.db.write() as session:
            addon = _locked_product(session, AddOn, addon_id, selectinload(AddOn.requires_ticket_types))
            required_ids = values.pop("requires_ticket_type_ids", None)
            self._check_product(session, AddOn, addon, values)
            extra: dict[str, tuple[Any, Any]] = {}
            if required_ids is not None:
                before = tuple(sorted(t.id for t in addon.requires_ticket_types))
                if before != required_ids:
                    addon.requires_ticket_types = _tickets_of(session, addon.conference_id, required_ids)
                    extra["requires_ticket_type_ids"] = (before, required_ids)
            apply_and_record(session, self._ctx, "addon", addon, values, extra)
            return _addon_view(addon)

    # ----------------------------------------------------------------- shared product rules

    def _new_product_values(self, session: Session, model: Any, conference_id: int,
                            values: dict[str, Any]) -> dict[str, Any]:
        values.setdefault("slug", "")
        if not values["slug"]:
            values["slug"] = rules.slugify(values["name"])
            if not values["slug"]:
                raise _bad("name", "gives no slug (it has no letters or digits)", "Type a slug as well.")
        values.setdefault("description", "")
        values.setdefault("total_quantity", 0)
        values.setdefault("is_active", True)
        if "order" not in values:
            last = session.scalar(select(func.max(model.order)).where(model.conference_id == conference_id))
            values["order"] = 0 if last is None else last + 1
        problem = rules.window_problem(values.get("available_from"), values.get("available_until"))
        if problem:
            raise _bad("available_until", "is before the start of the sale", "Move one of the two dates.")
        _check_unique(session, model, conference_id, None, values["name"], values["slug"])
        return values

    def _check_product(self, session: Session, model: Any, obj: Any, values: dict[str, Any]) -> None:
        if "slug" in values and not values["slug"]:
            raise _bad("slug", "must not be empty", "Type a slug such as 'early-bird'.")
        opens = values.get("available_from", obj.available_from)
        closes = values.get("available_until", obj.available_until)
        if rules.window_problem(opens, closes):
            raise _bad("available_until", "is before the start of the sale", "Move one of the two dates.")
        if "total_quantity" in values:
            problem = rules.stock_floor_problem(values["total_quantity"], obj.sold_quantity, obj.held_quantity)
            if problem:
                raise StockTooLow(problem[0].upper() + problem[1:] + ".", field="total_quantity")
        if "name" in values or "slug" in values:
            _check_unique(session, model, obj.conference_id, obj.id, values.get("name", obj.name),
                          values.get("slug", obj.slug))

    # ----------------------------------------------------------------- vouchers

    def list_vouchers(self, conference_id: int, text: str = "") -> list[VoucherAdminView]:
        """The conference's vouchers by code; ``text`` filters on part of the code."""
        authorize(Permission.MANAGE_VOUCHERS)
        query = select(Voucher).where(Voucher.conference_id == conference_id)
        if text.strip():
            query = query.where(func.upper(Voucher.code).contains(text.strip().upper(), autoescape=True))
        query = query.options(selectinload(Voucher.applicable_ticket_types),
                              selectinload(Voucher.applicable_addons)).order_by(Voucher.code)
        with self._ctx.db.read() as session:
            _conference(session, conference_id)
            return [_voucher_view(v) for v in session.scalars(query)]

    def create_voucher(self, conference_id: int, *, code: str, voucher_type: str | VoucherType,
                       discount_value: Decimal, **fields: Any) -> VoucherAdminView:
        """One voucher; the type is an explicit choice (MOD-VO-2). Other fields as ``update_voucher``."""
        authorize(Permission.MANAGE_VOUCHERS)
        values = _clean_voucher({"code": code, "voucher_type": voucher_type, "discount_value": discount_value,
                                 **fields})
        values.setdefault("max_uses", 1)
        _check_voucher_window(values.get("valid_from"), values.get("valid_until"))
        values["discount_value"] = check_discount_value(values["voucher_type"], values["discount_value"])
        ticket_ids, addon_ids = values.pop("ticket_type_ids", ()), values.pop("addon_ids", ())
        with self._ctx.db.write() as session:
            _conference(session, conference_id)
            _check_code_free(session, conference_id, values["code"], None)
            voucher = Voucher(conference_id=conference_id, times_used=0, **values)
            voucher.applicable_ticket_types = _tickets_of(session, conference_id, ticket_ids)
            voucher.applicable_addons = _addons_of(session, conference_id, addon_ids)
            session.add(voucher)
            session.flush()
            detail = {k: _jsonable(v) for k, v in values.items()}
            detail.update(ticket_type_ids=list(ticket_ids), addon_ids=list(addon_ids))
            audit.record(session, self._ctx, audit.VOUCHER_CHANGE, target_type="voucher", target_id=voucher.id,
                         target_label=voucher.code, detail={"created": detail})
            return _voucher_view(voucher)

    def update_voucher(self, voucher_id: int, **changes: Any) -> VoucherAdminView:
        """Change some fields; max uses may not drop below the times already used. One audit row."""
        authorize(Permission.MANAGE_VOUCHERS)
        values = _clean_voucher(changes)
        with self._ctx.db.write() as session:
            voucher = session.get(Voucher, _id(voucher_id), with_for_update=True,
                                  options=[selectinload(Voucher.applicable_ticket_types),
                                           selectinload(Voucher.applicable_addons)])
            if voucher is None:
                raise NotFound(f"Voucher #{voucher_id} no longer exists. Reload the list.")
            kind = values.get("voucher_type", voucher.voucher_type)
            if "discount_value" in values or "voucher_type" in values:
                values["discount_value"] = check_discount_value(
                    kind, values.get("discount_value", voucher.discount_value))
            if "max_uses" in values and values["max_uses"] < voucher.times_used:
                raise InvalidInput(
                    f"Voucher {voucher.code} was already used {voucher.times_used} times; max uses can't be "
                    f"lower than {voucher.times_used}.", field="max_uses")
            _check_voucher_window(values.get("valid_from", voucher.valid_from),
                                  values.get("valid_until", voucher.valid_until))
            if "code" in values and values["code"] != voucher.code:
                _check_code_free(session, voucher.conference_id, values["code"], voucher.id)
            changed: dict[str, Any] = {}
            for key in ("ticket_type_ids", "addon_ids"):
                if key not in values:
                    continue
                wanted = values.pop(key)
                current = voucher.applicable_ticket_types if key == "ticket_type_ids" else voucher.applicable_addons
                before = tuple(sorted(p.id for p in current))
                if before != wanted:
                    if key == "ticket_type_ids":
                        voucher.applicable_ticket_types = _tickets_of(session, voucher.conference_id, wanted)
                    else:
                        voucher.applicable_addons = _addons_of(session, voucher.conference_id, wanted)
                    changed[key] = {"before": list(before), "after": list(wanted)}
            label_before = voucher.code
            amounts: tuple[Decimal | None, Decimal | None] = (None, None)
            for key, value in values.items():
                before = getattr(voucher, key)
                if before != value:
                    if key == "discount_value":
                        amounts = (before, value)
                    changed[key] = {"before": _jsonable(before), "after": _jsonable(value)}
                    setattr(voucher, key, value)
            if changed:
                session.flush()
                audit.record(session, self._ctx, audit.VOUCHER_CHANGE, target_type="voucher",
                             target_id=voucher.id, target_label=label_before if label_before == voucher.code
                             else f"{label_before} → {voucher.code}", amount_before=amounts[0],
                             amount_after=amounts[1], detail=changed)
            return _voucher_view(voucher)

    def generate_vouchers(self, conference_id: int, count: int, *, prefix: str = "", length: int = 8,
                          voucher_type: str | VoucherType, discount_value: Decimal, **fields: Any) -> list[str]:
        """``count`` (1..10000) new unique codes sharing one template, in one transaction (GEN-1..3).

        Codes are ``prefix`` + ``length`` characters of an alphabet without look-alikes (0/O, 1/I/L),
        drawn with ``secrets``; a draw that collides with an existing code or one of this batch is
        redrawn (up to 100 times per code). One ``voucher_change`` audit row records the batch.
        """
        authorize(Permission.MANAGE_VOUCHERS)
        count = _whole("count", count, 1, rules.MAX_GENERATED)
        length = _whole("length", length, rules.MIN_CODE_LENGTH, rules.MAX_CODE_LENGTH)
        if not isinstance(prefix, str):
            raise TypeError("prefix must be text")
        prefix = prefix.strip().upper()
        problem = rules.prefix_problem(prefix)
        if problem:
            raise InvalidInput(f"The prefix {problem}.", field="prefix")
        if "code" in fields:
            raise TypeError("generated vouchers get their codes here")
        values = _clean_voucher({"voucher_type": voucher_type, "discount_value": discount_value, **fields})
        values.setdefault("max_uses", 1)
        values.setdefault("is_active", True)
        values.setdefault("unlocks_hidden_tickets", False)
        values.setdefault("valid_from", None)
        values.setdefault("valid_until", None)
        _check_voucher_window(values["valid_from"], values["valid_until"])
        values["discount_value"] = check_discount_value(values["voucher_type"], values["discount_value"])
        ticket_ids, addon_ids = values.pop("ticket_type_ids", ()), values.pop("addon_ids", ())
        now = self._ctx.clock.now()
        with self._ctx.db.write() as session:
            _conference(session, conference_id)
            tickets = _tickets_of(session, conference_id, ticket_ids)
            addons = _addons_of(session, conference_id, addon_ids)
            taken: set[str] = set(session.scalars(
                select(func.upper(Voucher.code)).where(
                    Voucher.conference_id == conference_id,
                    func.upper(Voucher.code).startswith(prefix, autoescape=True))))
            codes = _draw_codes(prefix, length, count, taken)
            rows = [{"conference_id": conference_id, "code": code, "times_used": 0, "created_at": now,
                     "updated_at": now, **values} for code in codes]
            ids = list(session.scalars(insert(Voucher).returning(Voucher.id, sort_by_parameter_order=True),
                                       rows))
            if tickets:
                session.execute(insert(voucher_ticket_type),
                                [{"voucher_id": v, "ticket_type_id": t.id} for v in ids for t in tickets])
            if addons:
                session.execute(insert(voucher_addon),
                                [{"voucher_id": v, "addon_id": a.id} for v in ids for a in addons])
            detail = {k: _jsonable(v) for k, v in values.items()}
            detail.update(count=count, prefix=prefix, length=length, ticket_type_ids=list(ticket_ids),
                          addon_ids=list(addon_ids), codes=codes[:100])
            if count > 100:
                detail["codes_not_listed"] = count - 100
            audit.record(session, self._ctx, audit.VOUCHER_CHANGE, target_type="voucher_batch",
                         target_label=f"{count} generated codes" + (f" ({prefix}…)" if prefix else ""),
                         detail=detail)
            return codes

    def export_vouchers_csv(self, conference_id: int, path: Path | str, *,
                            codes: Sequence[str] | None = None) -> int:
        """Write the conference's vouchers (or just ``codes``) as CSV; times in the conference's zone.

        Written to ``<path>.part`` first and renamed over ``path`` when complete. Returns the row count.
        """
        authorize(Permission.MANAGE_VOUCHERS)
        wanted = None if codes is None else {normalize_code(c) for c in codes}
        target = Path(path)
        tmp = target.with_name(target.name + ".part")
        count = 0
        with self._ctx.db.read() as session:
            conference = _conference(session, conference_id)
            tz = zone(conference.timezone)
            query = (select(Voucher.code, Voucher.voucher_type, Voucher.discount_value, Voucher.times_used,
                            Voucher.max_uses, Voucher.valid_from, Voucher.valid_until, Voucher.is_active)
                     .where(Voucher.conference_id == conference_id).order_by(Voucher.code))
            try:
                with tmp.open("w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(("code", "type", "value", "uses", "max_uses", "valid_from", "valid_until",
                                     "active"))
                    for row in session.execute(query):
                        if wanted is not None and row.code.upper() not in wanted:
                            continue
                        writer.writerow((
                            row.code, row.voucher_type.value, f"{row.discount_value:.2f}", row.times_used,
                            row.max_uses, _local(row.valid_from, tz), _local(row.valid_until, tz),
                            "yes" if row.is_active else "no",
                        ))
                        count += 1
                tmp.replace(target)
            except OSError as exc:
                tmp.unlink(missing_ok=True)
                raise InvalidInput(f"The file {target} could not be written ({exc.strerror or exc}). "
                                   "Choose another folder.") from None
        return count


# --------------------------------------------------------------------------- helpers


def _id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput("Choose an item from the list first.")
    return value


def _conference(session: Session, conference_id: int) -> Conference:
    conference = session.get(Conference, _id(conference_id))
    if conference is None:
        raise NotFound(f"Conference #{conference_id} does not exist. Choose a conference.")
    return conference


def _kind(model: Any) -> str:
    return "ticket type" if model is TicketType else "add-on"


def _products_of(session: Session, model: Any, conference_id: int, *options: Any) -> Any:
    """The conference's ticket types or add-ons, active or not, in display order."""
    _conference(session, conference_id)
    return session.scalars(select(model).where(model.conference_id == conference_id).options(*options)
                           .order_by(model.order, model.name, model.id))


def _locked_product(session: Session, model: Any, item_id: int, *options: Any) -> Any:
    """The ticket type or add-on, locked for the update (NotFound when it was removed)."""
    obj = session.get(model, _id(item_id), with_for_update=True, options=list(options))
    if obj is None:
        raise NotFound(f"{_kind(model).capitalize()} #{item_id} no longer exists. Reload the list.")
    return obj


def _check_unique(session: Session, model: type[TicketType | AddOn], conference_id: int, own_id: int | None,
                  name: str, slug: str) -> None:
    kind = _kind(model)
    others = select(model.id, model.name, model.slug).where(model.conference_id == conference_id)
    if own_id is not None:
        others = others.where(model.id != own_id)
    for _other_id, other_name, other_slug in session.execute(others):
        if other_name.strip().lower() == name.lower():
            raise DuplicateName(f"Another {kind} is already called '{other_name}'. Choose another name.",
                                field="name")
        if other_slug == slug:
            raise DuplicateName(f"The slug '{slug}' is already used by the {kind} '{other_name}'. "
                                "Choose another slug.", field="slug")


def _tickets_of(session: Session, conference_id: int, ids: Iterable[int]) -> list[TicketType]:
    return _chosen(session, TicketType, conference_id, ids, "requires_ticket_type_ids")


def _addons_of(session: Session, conference_id: int, ids: Iterable[int]) -> list[AddOn]:
    return _chosen(session, AddOn, conference_id, ids, "addon_ids")


_Product = TypeVar("_Product", TicketType, AddOn)


def _chosen(session: Session, model: type[_Product], conference_id: int, ids: Iterable[int],
            field: str) -> list[_Product]:
    """The ticket types or add-ons with these ids, all of them this conference's."""
    ids = list(ids)
    if not ids:
        return []
    found = list(session.scalars(select(model).where(model.id.in_(ids))))
    if len(found) != len(ids) or any(p.conference_id != conference_id for p in found):
        raise InvalidInput(f"A chosen {_kind(model)} does not belong to this conference (or was removed). "
                           "Reload the list and choose again.", field=field)
    return found


def record_created(session: Session, ctx: ServiceContext, target_type: str, target_id: int, label: str,
                    values: Mapping[str, Any]) -> None:
    audit.record(session, ctx, audit.CATALOG_CHANGE, target_type=target_type, target_id=target_id,
                 target_label=label, amount_after=values.get("price"),
                 detail={"created": {k: _jsonable(v) for k, v in values.items()}})


def apply_and_record(session: Session, ctx: ServiceContext, target_type: str, obj: Any,
                      values: Mapping[str, Any], extra: Mapping[str, tuple[Any, Any]] | None = None) -> None:
    """Set the changed fields and write one audit row per kind: price, stock, anything else."""
    label = obj.name
    changed = {k: (getattr(obj, k), v) for k, v in values.items() if getattr(obj, k) != v}
    changed.update(extra or {})
    for key, (_before, after) in changed.items():
        if key != "requires_ticket_type_ids":
            setattr(obj, key, after)
    if not changed:
        return
    session.flush()
    common = {"target_type": target_type, "target_id": obj.id, "target_label": obj.name}
    if "price" in changed:
        before, after = changed.pop("price")
        audit.record(session, ctx, audit.PRICE_CHANGE, amount_before=before, amount_after=after, **common)
    if "total_quantity" in changed:
        before, after = changed.pop("total_quantity")
        audit.record(session, ctx, audit.STOCK_CHANGE, detail={
            "before": before, "after": after, "sold": obj.sold_quantity, "held": obj.held_quantity}, **common)
    if changed:
        detail = {k: {"before": _jsonable(b), "after": _jsonable(a)} for k, (b, a) in changed.items()}
        if label != obj.name:
            common["target_label"] = f"{label} → {obj.name}"
        audit.record(session, ctx, audit.CATALOG_CHANGE, detail=detail, **common)


def _clean_voucher(changes: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - VOUCHER_FIELDS
    if unknown:
        raise TypeError(f"unknown field(s): {', '.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "code":
            code = normalize_code(value)
            problem = rules.code_problem(code)
            if problem:
                raise _bad(key, problem)
            clean[key] = code
        elif key == "voucher_type":
            try:
                clean[key] = VoucherType(value)
            except ValueError:
                raise InvalidInput("Choose the kind of voucher: comp, percentage or fixed amount.",
                                   field=key) from None
        elif key == "discount_value":
            if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
                raise _bad(key, f"must be a number such as 20.00, not {value!r}")
            clean[key] = Decimal(value)
        elif key == "max_uses":
            clean[key] = _whole(key, value, 1, 1_000_000)
        elif key in ("valid_from", "valid_until"):
            clean[key] = _moment(key, value)
        elif key in ("unlocks_hidden_tickets", "is_active"):
            clean[key] = _flag(key, value)
        else:
            clean[key] = _ids(key, value)
    return clean


def _check_voucher_window(valid_from: datetime | None, valid_until: datetime | None) -> None:
    if rules.window_problem(valid_from, valid_until):
        raise _bad("valid_until", "is before the start of the validity", "Move one of the two dates.")


def _check_code_free(session: Session, conference_id: int, code: str, own_id: int | None) -> None:
    query = select(Voucher.id).where(Voucher.conference_id == conference_id, func.upper(Voucher.code) == code)
    if own_id is not None:
        query = query.where(Voucher.id != own_id)
    if session.scalar(query) is not None:
        raise DuplicateName(f"The code {code} is already used by another voucher. Choose another code.",
                            field="code")


def _draw_codes(prefix: str, length: int, count: int, taken: set[str]) -> list[str]:
    codes: list[str] = []
    seen = set(taken)
    for _ in range(count):
        for _attempt in range(100):
            code = rules.draw_code(prefix, length, secrets.randbelow)
            if code not in seen:
                break
        else:
            raise InvalidInput(f"Could not find {count} unused codes of {length} characters with prefix "
                               f"'{prefix}'. Use longer codes or another prefix.", field="length")
        seen.add(code)
        codes.append(code)
    return codes


def _local(value: datetime | None, tz: Any) -> str:
    return "" if value is None else value.astimezone(tz).isoformat(timespec="minutes")


def _ticket_view(t: TicketType) -> TicketTypeAdminView:
    return TicketTypeAdminView(
        id=t.id, conference_id=t.conference_id, name=t.name, slug=t.slug, description=t.description,
        price=t.price, total_quantity=t.total_quantity, limit_per_user=t.limit_per_user,
        available_from=t.available_from, available_until=t.available_until, requires_voucher=t.requires_voucher,
        is_active=t.is_active, order=t.order, sold_quantity=t.sold_quantity, held_quantity=t.held_quantity,
    )


def _addon_view(a: AddOn) -> AddOnAdminView:
    required = sorted(a.requires_ticket_types, key=lambda t: (t.order, t.name))
    return AddOnAdminView(
        id=a.id, conference_id=a.conference_id, name=a.name, slug=a.slug, description=a.description,
        price=a.price, total_quantity=a.total_quantity, available_from=a.available_from,
        available_until=a.available_until, is_active=a.is_active, order=a.order, sold_quantity=a.sold_quantity,
        held_quantity=a.held_quantity, requires_ticket_type_ids=tuple(t.id for t in required),
        requires_ticket_names=tuple(t.name for t in required),
    )


def _voucher_view(v: Voucher) -> VoucherAdminView:
    return VoucherAdminView(
        id=v.id, conference_id=v.conference_id, code=v.code, voucher_type=v.voucher_type.value,
        discount_value=v.discount_value, max_uses=v.max_uses, times_used=v.times_used, valid_from=v.valid_from,
        valid_until=v.valid_until, unlocks_hidden_tickets=v.unlocks_hidden_tickets, is_active=v.is_active,
        ticket_type_ids=tuple(sorted(t.id for t in v.applicable_ticket_types)),
        addon_ids=tuple(sorted(a.id for a in v.applicable_addons)),
    )
