"""Composition root: open the database, apply migrations, and build one instance of every service."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from boxoffice.db.engine import Database, translate_error
from boxoffice.db.migrate import UnknownSchema, upgrade
from boxoffice.errors import DatabaseUnavailable
from boxoffice.services.context import ServiceContext
from boxoffice.timeutil import Clock, SystemClock

if TYPE_CHECKING:
    from boxoffice.services.cart import CartService
    from boxoffice.services.catalog import CatalogService
    from boxoffice.services.checkout import CheckoutService
    from boxoffice.services.conferences import ConferenceService
    from boxoffice.services.credits import CreditService
    from boxoffice.services.customers import CustomerService
    from boxoffice.services.orders import OrderService
    from boxoffice.services.payments import PaymentService
    from boxoffice.services.ports import PaymentGateway
    from boxoffice.services.refunds import RefundService
    from boxoffice.services.staff import StaffService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppServices:
    """Everything the GUI and the command line need; built once per process by ``build_app``."""

    ctx: ServiceContext
    customers: CustomerService
    catalog: CatalogService
    carts: CartService
    checkout: CheckoutService
    orders: OrderService
    payments: PaymentService
    refunds: RefundService
    credits: CreditService
    staff: StaffService
    conferences: ConferenceService
    schema_revision: str | None = None

    @property
    def db(self) -> Database:
        return self.ctx.db

    def close(self) -> None:
        self.ctx.db.dispose()


def open_database(database_url: str) -> tuple[Database, str | None]:
    """Create the engine and bring the schema to the newest revision (a no-op when it already is)."""
    try:
        db = Database(database_url)
    except ValueError as exc:
        raise DatabaseUnavailable(str(exc)) from None
    try:
        revision = upgrade(db)
    except DBAPIError as exc:
        db.dispose()
        error = translate_error(exc)
        if error is exc:
            detail = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
            raise DatabaseUnavailable(
                f"The database at {db.display_url} could not be opened or upgraded ({detail}). "
                "Check the --database URL, that the server is running and that you may write to it."
            ) from exc
        if isinstance(error, DatabaseUnavailable):
            raise DatabaseUnavailable(
                f"The database at {db.display_url} cannot be reached. Check the --database URL and "
                "that the server is running, then try again."
            ) from exc
        raise error from exc
    except UnknownSchema as exc:
        db.dispose()
        raise DatabaseUnavailable(
            f"The database at {db.display_url} has a schema this version of Box Office does not know "
            f"({exc}). It was probably made by a newer version; use that version or another database."
        ) from exc
    log.info("database %s at schema revision %s", db.display_url, revision)
    return db, revision


def build_app(
    database_url: str,
    *,
    clock: Clock | None = None,
    desk_name: str = "Desk 1",
    gateway: PaymentGateway | None = None,
) -> AppServices:
    """Open ``database_url`` (migrations applied automatically) and wire every service to it."""
    # Imported here so the command line's database commands need no service module at all.
    from boxoffice.services.cart import CartService
    from boxoffice.services.catalog import CatalogService
    from boxoffice.services.checkout import CheckoutService
    from boxoffice.services.conferences import ConferenceService
    from boxoffice.services.credits import CreditService
    from boxoffice.services.customers import CustomerService
    from boxoffice.services.orders import OrderService
    from boxoffice.services.payments import PaymentService
    from boxoffice.services.refunds import RefundService
    from boxoffice.services.staff import StaffService

    db, revision = open_database(database_url)
    ctx = ServiceContext(db=db, clock=clock or SystemClock(), desk_name=desk_name)
    return AppServices(
        ctx=ctx,
        customers=CustomerService(ctx),
        catalog=CatalogService(ctx),
        carts=CartService(ctx),
        checkout=CheckoutService(ctx),
        orders=OrderService(ctx),
        payments=PaymentService(ctx),
        refunds=RefundService(ctx, gateway),
        credits=CreditService(ctx),
        staff=StaffService(ctx),
        conferences=ConferenceService(ctx),
        schema_revision=revision,
    )
