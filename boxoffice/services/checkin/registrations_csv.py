"""Registrations as CSV: the documented header, read forgivingly, and the desk's attendees written back.

One row per attendee (ticket unit); the rows of one order share its reference and order columns. A
row of an add-on-only order leaves ``ticket_type`` and ``access_code`` empty. ``addons`` lists
``slug:quantity`` pairs separated by ``;`` (or ``|``), on any row of the order. Excel's files are
accepted: a UTF-8 BOM, cp1252 text, ``;`` as separator, amounts like ``1.234,50`` or ``$25``.
An order with a bad row is skipped whole and named; a file without the required columns, or that
cannot be opened, raises ``RegistrationSourceError``. Given the desk's fingerprints, orders that
read the same as at the last import are counted as unchanged and left out.
"""

from __future__ import annotations

import csv
import io
from collections import OrderedDict, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from boxoffice.services.checkin.registrations_source import (
    CSV_SOURCE,
    ORDER_STATUSES,
    RegistrationSourceError,
    Skip,
    SourceData,
    WebHolder,
    WebLine,
    WebOrder,
    money,
    python_fingerprint,
    utc,
)

HEADER = (
    "order_reference", "order_status", "buyer_name", "buyer_email", "buyer_company", "attendee_name",
    "attendee_email", "attendee_company", "ticket_type", "access_code", "addons", "amount_paid",
    "amount_refunded", "order_total", "created_at",
)
REQUIRED = ("order_reference", "order_status", "buyer_name", "buyer_email", "ticket_type", "access_code",
            "amount_paid")
ORDER_COLUMNS = ("order_status", "buyer_name", "buyer_email", "buyer_company", "amount_paid", "amount_refunded",
                 "order_total")
MAX_BYTES = 50 * 1024 * 1024

# (kind, slug) -> (price, name) of the desk's catalogue: CSV rows name products by slug only.
Prices = Mapping[tuple[str, str], tuple[Decimal, str]]


@dataclass(frozen=True)
class _Row:
    number: int
    cells: dict[str, str]


def decode(raw: bytes) -> str:
    """UTF-8 (with or without a BOM), else Excel's cp1252, else Latin-1 (every byte is a character)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", "replace")
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def csv_money(text: str, column: str) -> Decimal:
    """``25``, ``25.00``, ``$25``, ``1,234.50`` and ``1.234,50`` (Excel in Europe) as Decimal."""
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    for symbol in ("$", "€", "£", "USD", "EUR", "GBP"):
        value = value.replace(symbol, "")
    if not value:
        return Decimal("0.00")
    if "," in value and "." in value:
        value = value.replace(".", "").replace(",", ".") if value.rfind(",") > value.rfind(".") \
            else value.replace(",", "")
    elif "," in value:
        whole, _, frac = value.rpartition(",")
        value = f"{whole.replace(',', '')}.{frac}" if len(frac) in (1, 2) else value.replace(",", "")
    try:
        amount = money(value)
    except ValueError:
        raise ValueError(f"{column} '{text.strip()}' is not an amount") from None
    if amount < 0:
        raise ValueError(f"{column} '{text.strip()}' is negative")
    return amount


def _addons(text: str, row: int) -> list[tuple[str, int]]:
    result: list[tuple[str, int]] = []
    for part in text.replace("|", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        slug, sep, qty = part.partition(":")
        try:
            quantity = int(qty.strip()) if sep else 1
        except ValueError:
            raise ValueError(f"row {row}: add-on '{part}' has a quantity that is not a whole number") from None
        if not 1 <= quantity <= 999:
            raise ValueError(f"row {row}: add-on '{part}' needs a quantity from 1 to 999")
        result.append((slug.strip().lower(), quantity))
    return result


def read_csv(path: Path, prices: Prices, *, known: Mapping[str, str] | None = None) -> SourceData:
    """The orders of the CSV file at ``path``, priced from the desk catalogue ``prices``; with ``known``
    (the desk's fingerprints by reference) only those that changed."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise RegistrationSourceError(f"{path.name} is larger than 50 MB; split it into smaller files.")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RegistrationSourceError(f"There is no file {path}. Check the path.") from None
    except OSError as exc:
        raise RegistrationSourceError(f"{path} could not be read ({exc.strerror or exc}).") from None
    text = decode(raw)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first))
    try:
        header = [h.strip().lower().lstrip("\ufeff") for h in next(reader)]
    except StopIteration:
        raise RegistrationSourceError(f"{path.name} is empty; it needs the header line {','.join(HEADER)}.") from None
    except csv.Error as exc:
        raise RegistrationSourceError(f"{path.name} is not a CSV file ({exc}).") from None
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise RegistrationSourceError(
            f"{path.name} lacks the column(s) {', '.join(missing)}. The first line must name the columns; "
            f"see the README for the format ({','.join(HEADER)})."
        )
    data = SourceData(CSV_SOURCE, path.name)
    groups: OrderedDict[str, list[_Row]] = OrderedDict()
    bad_rows: defaultdict[str, list[str]] = defaultdict(list)
    try:
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            reference = cells[header.index("order_reference")].strip() if len(cells) > header.index(
                "order_reference") else ""
            if not reference:
                data.skipped.append(Skip(f"row {number}", "", f"row {number} has no order_reference"))
                continue
            groups.setdefault(reference, [])
            if len(cells) < len(header) and len(cells) <= max(header.index(c) for c in REQUIRED):
                bad_rows[reference].append(f"row {number} has {len(cells)} of {len(header)} columns")
                continue
            groups[reference].append(_Row(number, {h: (cells[i].strip() if i < len(cells) else "")
                                                   for i, h in enumerate(header)}))
    except csv.Error as exc:
        raise RegistrationSourceError(f"{path.name} could not be read as CSV ({exc}).") from None
    codes: defaultdict[str, set[str]] = defaultdict(set)
    for reference, rows in groups.items():
        for row in rows:
            if row.cells.get("access_code"):
                codes[row.cells["access_code"].upper()].add(reference)
    duplicated = {code: refs for code, refs in codes.items() if len(refs) > 1}
    for reference, rows in groups.items():
        if bad_rows.get(reference):
            data.skipped.append(Skip(reference, reference, "; ".join(bad_rows[reference])))
            continue
        dup = sorted(code for code, refs in duplicated.items() if reference in refs)
        if dup:
            data.skipped.append(Skip(reference, reference, f"access code {dup[0]} is also used by order "
                                     f"{', '.join(sorted(duplicated[dup[0]] - {reference}))}"))
            continue
        try:
            order = _order(reference, rows, prices)
        except ValueError as exc:
            data.skipped.append(Skip(reference, reference, str(exc)))
            continue
        fingerprint = python_fingerprint(order)
        if known and known.get(order.source_id) == fingerprint:
            data.unchanged += 1
        else:
            data.orders.append(replace(order, fingerprint=fingerprint))
    return data


def _order(reference: str, rows: list[_Row], prices: Prices) -> WebOrder:
    first = rows[0].cells
    for column in ORDER_COLUMNS:
        values = {r.cells.get(column, "") for r in rows}
        if len(values) > 1:
            raise ValueError(f"its rows disagree on {column} ({', '.join(sorted(values))})")
    status = first["order_status"].strip().lower().replace(" ", "_").replace("canceled", "cancelled")
    if status not in ORDER_STATUSES:
        raise ValueError(f"row {rows[0].number}: order_status '{first['order_status']}' is not one of "
                         f"{', '.join(ORDER_STATUSES)}")
    paid = csv_money(first.get("amount_paid", ""), "amount_paid")
    refunded = csv_money(first.get("amount_refunded", ""), "amount_refunded")
    tickets: OrderedDict[str, int] = OrderedDict()
    addons: OrderedDict[str, int] = OrderedDict()
    holders: list[WebHolder] = []
    seen_codes: set[str] = set()
    for row in rows:
        cells = row.cells
        slug = cells.get("ticket_type", "").strip().lower()
        code = cells.get("access_code", "").strip().upper()
        if slug:
            if ("ticket", slug) not in prices:
                raise ValueError(f"row {row.number}: unknown ticket type '{slug}'")
            if code and (len(code) > 20 or not code.isalnum()):
                raise ValueError(f"row {row.number}: access code '{code}' must be letters and digits, at most 20")
            if code in seen_codes:
                raise ValueError(f"row {row.number}: access code {code} appears twice in the order")
            if code:
                seen_codes.add(code)
            tickets[slug] = tickets.get(slug, 0) + 1
            holders.append(WebHolder(0, "", code or None, cells.get("attendee_name", ""),
                                     cells.get("attendee_email", ""), cells.get("attendee_company", "")))
        elif code:
            raise ValueError(f"row {row.number}: access code {code} without a ticket_type")
        for addon, quantity in _addons(cells.get("addons", ""), row.number):
            if ("addon", addon) not in prices:
                raise ValueError(f"row {row.number}: unknown add-on '{addon}'")
            addons[addon] = addons.get(addon, 0) + quantity
    lines: list[WebLine] = []
    for kind, items in (("ticket", tickets), ("addon", addons)):
        for slug, quantity in items.items():
            price, name = prices[(kind, slug)]
            lines.append(WebLine(f"{reference}:{kind}:{slug}", kind, slug, name, quantity, price,
                                 Decimal("0.00"), price * quantity))
    if not lines:
        raise ValueError(f"row {rows[0].number}: the order has neither a ticket_type nor addons")
    # Holders follow the ticket lines' order: every unit of the first ticket type, then the next.
    ordered: list[WebHolder] = []
    for slug in tickets:
        for row, holder in zip(rows, _ticket_holders(rows, holders), strict=False):
            if row.cells.get("ticket_type", "").strip().lower() == slug:
                ordered.append(holder)
    holders = [WebHolder(i, f"{reference}/{i}", h.access_code, h.name, h.email, h.company)
               for i, h in enumerate(ordered, start=1)]
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    total = csv_money(first["order_total"], "order_total") if first.get("order_total") else subtotal
    try:
        created = utc(first.get("created_at") or None)
    except ValueError:
        raise ValueError(f"row {rows[0].number}: created_at '{first.get('created_at')}' is not a date and time") \
            from None
    return WebOrder(
        source_id=reference, reference=reference, status=status, created_at=created, hold_expires_at=None,
        buyer_name=first.get("buyer_name", ""), buyer_email=first.get("buyer_email", ""),
        buyer_company=first.get("buyer_company", ""), billing_name=first.get("buyer_name", ""),
        billing_email=first.get("buyer_email", ""), billing_company=first.get("buyer_company", ""),
        subtotal=subtotal, discount=max(subtotal - total, Decimal("0.00")), total=total, voucher_code="",
        paid=paid, refunded=min(refunded, paid), lines=tuple(lines), holders=tuple(holders),
    )


def _ticket_holders(rows: list[_Row], holders: list[WebHolder]) -> list[WebHolder]:
    """``holders`` aligned with ``rows`` (a placeholder for rows without a ticket)."""
    aligned: list[WebHolder] = []
    it = iter(holders)
    for row in rows:
        if row.cells.get("ticket_type", "").strip():
            aligned.append(next(it))
        else:
            aligned.append(WebHolder(0, "", None, "", "", ""))
    return aligned
