"""Seed the demo conference (from demo/conference.toml) and its vouchers; staff are made at first start."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from boxoffice import paths
from boxoffice.domain.models import Conference, TicketType, Voucher, VoucherType
from boxoffice.services.admin.conference_import import ImportReport, import_conference
from boxoffice.services.context import ServiceContext
from boxoffice.timeutil import UTC

log = logging.getLogger(__name__)

_UNTIL = datetime(2027, 11, 22, 4, 59, 59, tzinfo=UTC)  # 2027-11-21 23:59:59 in New York


@dataclass(frozen=True)
class DemoVoucher:
    code: str
    voucher_type: VoucherType
    discount_value: Decimal
    max_uses: int
    ticket_slugs: tuple[str, ...] = ()   # empty: every ticket type and add-on (VCH-7)
    unlocks_hidden_tickets: bool = False


DEMO_VOUCHERS = (
    DemoVoucher("SPRING25", VoucherType.PERCENTAGE, Decimal("25.00"), 100, ("individual", "corporate")),
    # VCH-10: an access-only code is a 0 % percentage voucher scoped to the hidden ticket.
    DemoVoucher("STUDENT", VoucherType.PERCENTAGE, Decimal("0.00"), 100, ("student",), True),
    DemoVoucher("SPEAKER", VoucherType.COMP, Decimal("0.00"), 60, ("speaker",), True),
    DemoVoucher("FRIEND10", VoucherType.FIXED_AMOUNT, Decimal("10.00"), 50),
)


@dataclass(frozen=True)
class DemoReport:
    conference_id: int
    catalog: ImportReport
    vouchers_created: tuple[str, ...]

    def describe(self) -> str:
        made = ", ".join(self.vouchers_created) or "none (already there)"
        return f"{self.catalog.describe()}\nDemo vouchers created: {made}"


def database_is_empty(ctx: ServiceContext) -> bool:
    with ctx.db.read() as session:
        return not session.scalar(select(func.count(Conference.id)))


def seed_demo(ctx: ServiceContext) -> DemoReport:
    """Import the demo conference and add its vouchers; safe to run twice."""
    catalog = import_conference(ctx, paths.demo_conference_file())
    created: list[str] = []
    with ctx.db.write() as session:
        tickets = {
            t.slug: t
            for t in session.scalars(select(TicketType).where(TicketType.conference_id == catalog.conference_id))
        }
        existing = set(
            session.scalars(select(Voucher.code).where(Voucher.conference_id == catalog.conference_id))
        )
        for spec in DEMO_VOUCHERS:
            if spec.code in existing:
                continue
            voucher = Voucher(
                conference_id=catalog.conference_id,
                code=spec.code,
                voucher_type=spec.voucher_type,
                discount_value=spec.discount_value,
                max_uses=spec.max_uses,
                valid_until=_UNTIL,
                unlocks_hidden_tickets=spec.unlocks_hidden_tickets,
            )
            voucher.applicable_ticket_types = [tickets[slug] for slug in spec.ticket_slugs]
            session.add(voucher)
            created.append(spec.code)
    log.info("demo data seeded: conference %d, vouchers %s", catalog.conference_id, created)
    return DemoReport(catalog.conference_id, catalog, tuple(created))


def seed_if_empty(ctx: ServiceContext) -> DemoReport | None:
    """First start: an empty database gets the demo conference; any other database is left alone."""
    if not database_is_empty(ctx):
        return None
    return seed_demo(ctx)
