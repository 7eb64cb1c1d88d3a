"""Registrations from the web system into the desk (IMP): import, re-sync, and export as CSV.

``RegistrationService.import_registrations(source, conference_slug)`` reads a django-program
database (``sqlite:///…``, ``postgresql://…``) or a CSV file, then writes in batches: new orders
are added, changed ones updated, unchanged ones left alone (IMP-3). Each imported order keeps a
fingerprint of its source rows; a re-sync reads and compares only the orders whose fingerprint
changed, so a source with nothing new costs one short query on each side. Stock moves through
``order_state`` so imported orders count like desk sales (IMP-4); going past a product's stock is
applied and reported as oversold. An order that cannot be mapped is skipped whole and named
(IMP-5). Desk facts (check-ins, redemptions, badge prints, desk renames) are never overwritten.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from boxoffice.domain.models import AddOn, Conference, TicketType
from boxoffice.errors import NotFound
from boxoffice.services.checkin import registrations_write as write
from boxoffice.services.checkin.registrations_csv import read_csv
from boxoffice.services.checkin.registrations_source import (
    CSV_SOURCE,
    DJANGO_PROGRAM,
    Skip,
    SourceData,
    WebOrder,
    describe_url,
    is_database_url,
    read_django_program,
)
from boxoffice.services.checkin.registrations_state import Catalog, differs, fingerprints, load_state
from boxoffice.services.context import ServiceContext
from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Permission, authorize

log = logging.getLogger(__name__)

BATCH = 2000
Progress = Callable[[int, int], None]   # (orders done, orders in the source); (0, 0) while reading


@dataclass(frozen=True)
class OversoldItem:
    what: str        # "ticket type", "add-on", "conference"
    name: str
    by: int


@dataclass(frozen=True)
class RegistrationReport:
    """What one import did: counts, the skipped orders with their reasons, oversold items, conflicts."""

    conference_slug: str
    source_system: str
    source: str
    new: int
    updated: int
    unchanged: int
    skipped: tuple[Skip, ...]
    oversold: tuple[OversoldItem, ...]
    conflicts: tuple[str, ...]
    check_ins: int
    seconds: float

    @property
    def oversold_units(self) -> int:
        return sum(item.by for item in self.oversold if item.what != "conference")

    def counts(self) -> dict[str, int]:
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged,
                "skipped": len(self.skipped), "oversold": self.oversold_units}

    def summary(self) -> str:
        c = self.counts()
        text = f"{c['new']} new, {c['updated']} updated, {c['unchanged']} unchanged, {c['skipped']} skipped"
        return text + (f", oversold by {c['oversold']}" if c["oversold"] else "")

    def describe(self) -> str:
        lines = [f"Registrations for '{self.conference_slug}' from {self.source} ({self.source_system}):",
                 f"  {self.summary()} ({self.seconds:.1f} s)"]
        if self.check_ins:
            lines.append(f"  {self.check_ins} check-in(s) recorded in the web system were added")
        for item in self.oversold:
            lines.append(f"  oversold: {item.what} '{item.name}' by {item.by} (the web sold them; applied)")
        for skip in self.skipped:
            name = skip.reference or skip.source_id
            lines.append(f"  skipped {name}" + (f" (web id {skip.source_id})" if skip.source_id not in
                                                 (name, "") else "") + f": {skip.reason}")
        for conflict in self.conflicts:
            lines.append(f"  conflict: {conflict}")
        return "\n".join(lines)

    def json_line(self) -> str:
        return json.dumps(self.counts(), sort_keys=False)


def _catalog(session: Session, conference_id: int) -> Catalog:
    tickets = {s: (i, p, n) for i, s, p, n in session.execute(
        select(TicketType.id, TicketType.slug, TicketType.price, TicketType.name)
        .where(TicketType.conference_id == conference_id))}
    addons = {s: (i, p, n) for i, s, p, n in session.execute(
        select(AddOn.id, AddOn.slug, AddOn.price, AddOn.name).where(AddOn.conference_id == conference_id))}
    return Catalog(tickets, addons)


def _stock(session: Session, conference_id: int) -> dict[tuple[str, int], tuple[str, int]]:
    """Units past stock per product and for the conference: (what, id) -> (name, over)."""
    over: dict[tuple[str, int], tuple[str, int]] = {}
    for what, model in (("ticket type", TicketType), ("add-on", AddOn)):
        for item_id, name, total, sold, held in session.execute(
                select(model.id, model.name, model.total_quantity, model.sold_quantity, model.held_quantity)
                .where(model.conference_id == conference_id)):
            if total:
                over[(what, item_id)] = (name, sold + held - total)
    row = session.execute(select(Conference.name, Conference.total_capacity, Conference.tickets_sold,
                                 Conference.tickets_held).where(Conference.id == conference_id)).one()
    if row[1]:
        over[("conference", conference_id)] = (row[0], row[2] + row[3] - row[1])
    return over


class RegistrationService:
    """Imports registrations from the web system and exports the desk's attendees (admins)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def import_registrations(
        self, source: str | Path, conference_slug: str, *, progress: Progress | None = None
    ) -> RegistrationReport:
        """Import (or re-sync) every order of the conference from ``source``; one audit row per run."""
        authorize(Permission.IMPORT_REGISTRATIONS)
        started = time.perf_counter()
        slug = (conference_slug or "").strip()
        with self._ctx.db.read() as session:
            conference_id = session.scalar(select(Conference.id).where(Conference.slug == slug))
            if conference_id is None:
                raise NotFound(f"This desk has no conference '{slug}'. Import the conference file first "
                               "(boxoffice import-conference), or check the slug.")
            catalog = _catalog(session, conference_id)
            text = str(source).strip()
            known = fingerprints(session, conference_id, DJANGO_PROGRAM if is_database_url(text) else CSV_SOURCE)
        if progress:
            progress(0, 0)
        if is_database_url(text):
            data = read_django_program(text, slug, known=known)
        else:
            prices = {("ticket", s): (p, n) for s, (_i, p, n) in catalog.tickets.items()}
            prices |= {("addon", s): (p, n) for s, (_i, p, n) in catalog.addons.items()}
            data = read_csv(Path(text).expanduser(), prices, known=known)
        return self._apply(data, conference_id, slug, catalog, known, started, progress)

    def _apply(self, data: SourceData, conference_id: int, slug: str, catalog: Catalog, known: dict[str, str],
               started: float, progress: Progress | None) -> RegistrationReport:
        now = self._ctx.clock.now()
        skipped = list(data.skipped)
        conflicts: list[str] = []
        looked_at = [o.source_id for o in data.orders if o.source_id in known]
        with self._ctx.db.read() as session:
            state = load_state(session, conference_id, data.system,
                               looked_at if len(looked_at) <= write.FEW_ORDERS else None)
            stock_before = _stock(session, conference_id)
            references = {r: (sys, sid) for r, sys, sid in session.execute(
                select(write.Order.reference, write.Order.source_system, write.Order.source_id)
                .where(write.Order.reference.in_([o.reference for o in data.orders if o.source_id not in
                                                  state.orders])))} if data.orders else {}
        new: list[WebOrder] = []
        changed: list[WebOrder] = []
        restamp: dict[int, str] = {}   # orders the same as at the desk whose source rows read differently
        unchanged = data.unchanged
        for web in data.orders:
            reason = write.unmappable(web, catalog)
            if reason:
                skipped.append(Skip(web.source_id, web.reference, reason))
                continue
            desk = state.orders.get(web.source_id)
            if desk is None:
                if web.reference in references:
                    skipped.append(Skip(web.source_id, web.reference, "an order with this reference is already "
                                        "at the desk (from another source); left as it is"))
                    continue
                new.append(web)
            elif differs(web, desk, catalog, state.check_ins, now, conflicts):
                changed.append(web)
            else:
                unchanged += 1
                if web.fingerprint != desk.fingerprint:
                    restamp[desk.id] = web.fingerprint
        total = len(data.orders) + data.unchanged
        done = unchanged + len(skipped)
        check_ins = 0
        if new or changed:
            with self._ctx.db.read() as session:
                codes = write.CodeBook(session)
                customers = write.customer_ids(session, {o.buyer_email for o in new})
            for start in range(0, len(new), BATCH):
                batch = new[start:start + BATCH]

                def add(session: Session, batch: list[WebOrder] = batch) -> write.BatchResult:
                    return write.add_orders(session, conference_id, data.system, batch, catalog, customers,
                                            codes, now)

                result = self._ctx.db.run_write(add)
                skipped.extend(result.skipped)
                check_ins += result.check_ins
                done += len(batch)
                if progress:
                    progress(done, total)
            updated_ok = 0
            for start in range(0, len(changed), BATCH):
                batch = changed[start:start + BATCH]

                def update(session: Session, batch: list[WebOrder] = batch) -> write.BatchResult:
                    return write.update_orders(session, conference_id, data.system, batch, catalog, codes, now)

                result = self._ctx.db.run_write(update)
                skipped.extend(result.skipped)
                conflicts.extend(result.conflicts)
                check_ins += result.check_ins
                updated_ok += result.written
                done += len(batch)
                if progress:
                    progress(done, total)
        else:
            updated_ok = 0
        new_ok = len(new) - sum(1 for s in skipped if s.source_id in {o.source_id for o in new})
        report_conflicts = tuple(dict.fromkeys(conflicts))

        def finish(session: Session) -> tuple[OversoldItem, ...]:
            write.set_fingerprints(session, restamp)
            after = _stock(session, conference_id)
            oversold = tuple(
                OversoldItem(key[0], name, over - max(stock_before.get(key, (name, 0))[1], 0))
                for key, (name, over) in after.items() if over > max(stock_before.get(key, (name, 0))[1], 0)
            )
            report = RegistrationReport(slug, data.system, data.label, new_ok, updated_ok, unchanged,
                                        tuple(skipped), oversold, report_conflicts, check_ins,
                                        time.perf_counter() - started)
            audit.record(session, self._ctx, audit.REGISTRATIONS_IMPORT, target_type="conference",
                         target_id=conference_id, target_label=slug,
                         detail={"source": data.label, "system": data.system, **report.counts(),
                                 "skipped_orders": [s.reference or s.source_id for s in skipped][:50]})
            return oversold

        oversold = self._ctx.db.run_write(finish)
        if progress:
            progress(total, total)
        report = RegistrationReport(slug, data.system, data.label, new_ok, updated_ok, unchanged, tuple(skipped),
                                    oversold, report_conflicts, check_ins, time.perf_counter() - started)
        log.info("registrations %s from %s: %s", slug, data.label, report.summary())
        return report

    def export_registrations_csv(self, conference_slug: str, path: Path) -> int:
        """Write the conference's attendees (every order, one row per ticket unit) in the import's CSV
        format; returns the rows written."""
        from boxoffice.services.checkin.registrations_export import export_csv

        authorize(Permission.IMPORT_REGISTRATIONS)
        with self._ctx.db.read() as session:
            conference_id = session.scalar(select(Conference.id).where(Conference.slug == conference_slug.strip()))
            if conference_id is None:
                raise NotFound(f"This desk has no conference '{conference_slug}'. Check the slug.")
            return export_csv(session, conference_id, Path(path))


def describe_source(source: str) -> str:
    """A source as shown in Settings, the status bar and logs: a URL without its password, or a file name."""
    return describe_url(source) if is_database_url(source) else Path(source).name

