"""Composition root: open the database, apply migrations, and build one instance of every service."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from boxoffice.db.backup import BackupFailed, backup_if_migrating
from boxoffice.db.engine import Database, translate_error
from boxoffice.db.migrate import UnknownSchema, upgrade
from boxoffice.errors import ConfigError, DatabaseUnavailable
from boxoffice.services.context import ServiceContext
from boxoffice.timeutil import Clock, SystemClock

if TYPE_CHECKING:
    from boxoffice.services.audit import AuditService
    from boxoffice.services.auth import AuthService
    from boxoffice.services.catalog_admin import CatalogAdminService
    from boxoffice.services.shifts import ShiftService
    from boxoffice.services.card_payments import CardPaymentService
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
    from boxoffice.stripe_sync.gateway import StripeGateway
    from boxoffice.stripe_sync.poller import Poller

log = logging.getLogger(__name__)

# card_status while the desk looks for its Stripe key off the start path (``connect_stripe``).
STRIPE_PENDING = "looking for the Stripe key…"


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
    auth: AuthService
    audit: AuditService
    shifts: ShiftService
    catalog_admin: CatalogAdminService
    schema_revision: str | None = None
    card_payments: CardPaymentService | None = None   # None: no Stripe key, see card_status
    poller: Poller | None = None
    card_status: str = ""   # why card payments are off ("" when they are on)

    @property
    def db(self) -> Database:
        return self.ctx.db

    def with_gateway(self, gateway: PaymentGateway | None, card_status: str = "") -> AppServices:
        """These services with card payments through ``gateway`` (None: off, ``card_status`` says why)."""
        from boxoffice.services.refunds import RefundService

        cards = poller = None
        if gateway is not None:
            from boxoffice.services.card_payments import CardPaymentService
            from boxoffice.stripe_sync.poller import Poller

            cards = CardPaymentService(self.ctx, gateway)  # type: ignore[arg-type]
            poller = Poller(self.ctx, gateway)  # type: ignore[arg-type]
        return replace(self, refunds=RefundService(self.ctx, gateway), card_payments=cards, poller=poller,
                       card_status=card_status)

    def close(self) -> None:
        self.ctx.db.dispose()


def open_database(database_url: str) -> tuple[Database, str | None]:
    """Create the engine and bring the schema to the newest revision (a no-op when it already is).

    An existing SQLite file at an older revision is first copied with SQLite's online backup API
    into the user data directory's backups folder (the newest ``KEEP_BACKUPS`` are kept).
    """
    try:
        db = Database(database_url)
    except ValueError as exc:
        raise DatabaseUnavailable(str(exc)) from None
    try:
        backup_if_migrating(db)
        revision = upgrade(db)
    except BackupFailed as exc:
        db.dispose()
        raise DatabaseUnavailable(
            f"The database at {db.display_url} needs an upgrade for this version of Box Office, but the "
            f"backup copy taken first failed ({exc}). Nothing was changed. Free some disk space or check "
            "the permissions of the user data folder, then start again."
        ) from exc
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


def stripe_gateway_from_environment(
    *, conference_slug: str | None = None, settings_api_base: str = ""
) -> tuple[StripeGateway | None, str]:
    """The Stripe gateway when a key is configured, else ``(None, why card payments are off)``.

    The key is looked up first (environment, then keychain) with no Stripe import, so a desk
    without Stripe never loads the SDK at start-up.
    """
    from boxoffice.stripe_sync import keys

    try:
        if not keys.load_secret_key(conference_slug):
            return None, f"no Stripe secret key configured (set it in the keychain or {keys.SECRET_KEY_ENV})"
        from boxoffice.stripe_sync.gateway import StripeGateway

        gateway = StripeGateway.from_environment(
            conference_slug=conference_slug, settings_api_base=settings_api_base
        )
    except ConfigError as exc:
        log.warning("card payments off: %s", exc)
        return None, str(exc)
    log.info("card payments on: %r", gateway)
    return gateway, ""


def connect_stripe(services: AppServices, *, conference_slug: str | None = None,
                   settings_api_base: str = "") -> AppServices:
    """``services`` with the Stripe gateway of the environment or keychain, or with why cards are off.

    The desk calls this on a worker after its window shows: the keychain look-up and the Stripe
    SDK stay off the start path.
    """
    gateway, card_status = stripe_gateway_from_environment(
        conference_slug=conference_slug, settings_api_base=settings_api_base)
    return services.with_gateway(gateway, card_status)


def build_app(
    database_url: str,
    *,
    clock: Clock | None = None,
    desk_name: str = "Desk 1",
    gateway: PaymentGateway | None = None,
    stripe_api_base: str = "",
    conference_slug: str | None = None,
    use_stripe: bool = True,
    stripe_later: bool = False,
) -> AppServices:
    """Open ``database_url`` (migrations applied automatically) and wire every service to it.

    Without ``gateway`` the Stripe gateway comes from the environment or keychain (when
    ``use_stripe``); with no key the desk still sells for cash, comp and credit and
    ``card_status`` says why card payments are off. ``stripe_later``: no look-up now,
    ``card_status`` is ``STRIPE_PENDING`` until the caller runs ``connect_stripe``.
    """
    # Imported here so the command line's database commands need no service module at all.
    from boxoffice.services.audit import AuditService
    from boxoffice.services.auth import AuthService
    from boxoffice.services.catalog_admin import CatalogAdminService
    from boxoffice.services.shifts import ShiftService
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
    card_status = ""
    if gateway is None:
        if stripe_later:
            card_status = STRIPE_PENDING
        elif use_stripe:
            gateway, card_status = stripe_gateway_from_environment(
                conference_slug=conference_slug, settings_api_base=stripe_api_base
            )
        else:
            card_status = "Stripe is not used on this desk"
    services = AppServices(
        ctx=ctx,
        customers=CustomerService(ctx),
        catalog=CatalogService(ctx),
        carts=CartService(ctx),
        checkout=CheckoutService(ctx),
        orders=OrderService(ctx),
        payments=PaymentService(ctx),
        refunds=RefundService(ctx, None),
        credits=CreditService(ctx),
        staff=StaffService(ctx),
        conferences=ConferenceService(ctx),
        auth=AuthService(ctx),
        audit=AuditService(ctx),
        shifts=ShiftService(ctx),
        catalog_admin=CatalogAdminService(ctx),
        schema_revision=revision,
        card_status=card_status,
    )
    return services if gateway is None else services.with_gateway(gateway, card_status)
