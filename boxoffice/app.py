"""Composition root: open the database, apply migrations, and build one instance of every service."""

from __future__ import annotations

import importlib
import logging
import threading
from typing import TYPE_CHECKING, Generic, TypeVar, cast, overload

from sqlalchemy.exc import DBAPIError

from boxoffice.db.backup import BackupFailed, backup_if_migrating
from boxoffice.db.engine import Database, DatabaseRefused, translate_error
from boxoffice.db.migrate import UnknownSchema, packaged_head, stored_revision, upgrade
from boxoffice.errors import ConfigError, DatabaseDamaged, DatabaseUnavailable
from boxoffice.services.context import ServiceContext
from boxoffice.timeutil import Clock, SystemClock

if TYPE_CHECKING:
    from boxoffice.services.admin.catalog_admin import CatalogAdminService
    from boxoffice.services.checkin.admission import CheckInService
    from boxoffice.services.checkin.attendees import AttendeeService
    from boxoffice.services.checkin.registrations import RegistrationService
    from boxoffice.services.desk.shifts import ShiftService
    from boxoffice.services.money.card_payments import CardPaymentService
    from boxoffice.services.money.credits import CreditService
    from boxoffice.services.money.payments import PaymentService
    from boxoffice.services.money.ports import PaymentGateway
    from boxoffice.services.money.refunds import RefundService
    from boxoffice.services.printing.badge_templates import BadgeTemplateService
    from boxoffice.services.printing.badges import BadgeService
    from boxoffice.services.printing.receipt_printer import ReceiptPrinterService
    from boxoffice.services.printing.receipts import ReceiptService
    from boxoffice.services.sales.cart import CartService
    from boxoffice.services.sales.catalog import CatalogService
    from boxoffice.services.sales.checkout import CheckoutService
    from boxoffice.services.sales.conferences import ConferenceService
    from boxoffice.services.sales.customers import CustomerService
    from boxoffice.services.sales.orders import OrderService
    from boxoffice.services.staff.audit import AuditService
    from boxoffice.services.staff.auth import AuthService
    from boxoffice.services.staff.directory import StaffDirectory
    from boxoffice.services.staff.members import StaffService
    from boxoffice.stripe_sync.gateway import StripeGateway
    from boxoffice.stripe_sync.poller import Poller

log = logging.getLogger(__name__)

# card_status while the desk looks for its Stripe key off the start path (``connect_stripe``).
STRIPE_PENDING = "looking for the Stripe key…"
S = TypeVar("S")


class _Service(Generic[S]):
    """One service of ``AppServices``, made on first use: its module is imported only then.

    A desk that has not opened a screen yet has not paid for that screen's services.
    """

    def __init__(self, module: str, name: str, *, with_gateway: bool = False) -> None:
        self.module, self.name, self.with_gateway = module, name, with_gateway
        self.attr = ""

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, services: None, owner: type) -> _Service[S]: ...
    @overload
    def __get__(self, services: AppServices, owner: type) -> S: ...

    def __get__(self, services: AppServices | None, owner: type) -> S | _Service[S]:
        if services is None:
            return self
        built = services._built.get(self.attr)
        if built is None:
            with services._lock:   # workers may ask at the same moment: one instance per service
                built = services._built.get(self.attr)
                if built is None:
                    cls = getattr(importlib.import_module(self.module), self.name)
                    built = cls(services.ctx, services.gateway) if self.with_gateway else cls(services.ctx)
                    services._built[self.attr] = built
        return cast(S, built)


class AppServices:
    """Everything the GUI and the command line need; built once per process by ``build_app``.

    Each service is made when first used. ``card_payments`` and ``poller`` are None when there is
    no Stripe gateway; ``card_status`` then says why card payments are off ("" when they are on).
    """

    customers: _Service[CustomerService] = _Service("boxoffice.services.sales.customers", "CustomerService")
    catalog: _Service[CatalogService] = _Service("boxoffice.services.sales.catalog", "CatalogService")
    carts: _Service[CartService] = _Service("boxoffice.services.sales.cart", "CartService")
    checkout: _Service[CheckoutService] = _Service("boxoffice.services.sales.checkout", "CheckoutService")
    orders: _Service[OrderService] = _Service("boxoffice.services.sales.orders", "OrderService")
    payments: _Service[PaymentService] = _Service("boxoffice.services.money.payments", "PaymentService")
    refunds: _Service[RefundService] = _Service("boxoffice.services.money.refunds", "RefundService",
                                                with_gateway=True)
    credits: _Service[CreditService] = _Service("boxoffice.services.money.credits", "CreditService")
    staff: _Service[StaffService] = _Service("boxoffice.services.staff.members", "StaffService")
    conferences: _Service[ConferenceService] = _Service("boxoffice.services.sales.conferences", "ConferenceService")
    auth: _Service[AuthService] = _Service("boxoffice.services.staff.auth", "AuthService")
    directory: _Service[StaffDirectory] = _Service("boxoffice.services.staff.directory", "StaffDirectory")
    audit: _Service[AuditService] = _Service("boxoffice.services.staff.audit", "AuditService")
    shifts: _Service[ShiftService] = _Service("boxoffice.services.desk.shifts", "ShiftService")
    catalog_admin: _Service[CatalogAdminService] = _Service("boxoffice.services.admin.catalog_admin",
                                                            "CatalogAdminService")
    registrations: _Service[RegistrationService] = _Service("boxoffice.services.checkin.registrations",
                                                            "RegistrationService")
    attendees: _Service[AttendeeService] = _Service("boxoffice.services.checkin.attendees", "AttendeeService")
    checkin: _Service[CheckInService] = _Service("boxoffice.services.checkin.admission", "CheckInService")
    badges: _Service[BadgeService] = _Service("boxoffice.services.printing.badges", "BadgeService")
    badge_templates: _Service[BadgeTemplateService] = _Service("boxoffice.services.printing.badge_templates",
                                                               "BadgeTemplateService")
    receipts: _Service[ReceiptService] = _Service("boxoffice.services.printing.receipts", "ReceiptService")
    receipt_printer: _Service[ReceiptPrinterService] = _Service("boxoffice.services.printing.receipt_printer",
                                                                "ReceiptPrinterService")

    def __init__(self, ctx: ServiceContext, *, schema_revision: str | None = None,
                 gateway: PaymentGateway | None = None, card_status: str = "") -> None:
        self.ctx = ctx
        self.schema_revision = schema_revision
        self.gateway = gateway
        self.card_status = card_status
        self.card_payments: CardPaymentService | None = None
        self.poller: Poller | None = None
        self._built: dict[str, object] = {}
        self._lock = threading.Lock()
        if gateway is not None:
            from boxoffice.services.money.card_payments import CardPaymentService
            from boxoffice.stripe_sync.poller import Poller

            self.card_payments = CardPaymentService(ctx, gateway)  # type: ignore[arg-type]  # the Stripe gateway is the CardGateway
            self.poller = Poller(ctx, gateway)  # type: ignore[arg-type]  # and the poller's StripeGateway

    def __repr__(self) -> str:
        return (f"AppServices({self.ctx.db.display_url}, schema {self.schema_revision}, "
                f"cards {'on' if self.card_payments else 'off: ' + self.card_status})")

    @classmethod
    def service_names(cls) -> list[str]:
        """The names of the services (``carts``, ``checkout``...), in declaration order."""
        return [name for name, attr in vars(cls).items() if isinstance(attr, _Service)]

    @property
    def db(self) -> Database:
        return self.ctx.db

    def with_gateway(self, gateway: PaymentGateway | None, card_status: str = "") -> AppServices:
        """These services with card payments through ``gateway`` (None: off, ``card_status`` says why).

        Services already made are shared, but for those that use the gateway (refunds).
        """
        services = AppServices(self.ctx, schema_revision=self.schema_revision, gateway=gateway,
                               card_status=card_status)
        gateway_users = {name for name in self.service_names() if vars(AppServices)[name].with_gateway}
        services._built.update({k: v for k, v in self._built.items() if k not in gateway_users})
        return services

    def warm_up(self, names: tuple[str, ...] = ("auth", "carts", "catalog", "customers")) -> None:
        """Load the data model (ORM models, mapper configuration) and make the ``names`` services.

        The desk calls this on a worker once its sign-in screen is ready, so the first sign-in and
        sale do not wait for what the start path left out.
        """
        from sqlalchemy.orm import configure_mappers

        import boxoffice.domain.models  # noqa: F401  (mapped classes register on import)

        configure_mappers()
        for name in names:
            getattr(self, name)

    def close(self) -> None:
        self.ctx.db.dispose()


def _check_sqlite_file(db: Database, *, defer_quick_check: bool) -> None:
    """An existing SQLite file must be non-empty, writable and pass SQLite's quick check.

    ``defer_quick_check``: the quick check waits in ``db.file_check`` (run by the desk on a
    worker, or by the first write).
    """
    if not db.is_sqlite:
        return
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from boxoffice.db.sqlite_health import FileCheck, check_file

    name = make_url(db.url).database
    if name and name != ":memory:" and not name.startswith("file:"):
        path = Path(name)
        check_file(path, quick_check=not defer_quick_check)
        if defer_quick_check and path.exists():
            db.file_check = FileCheck(path)


def open_database(database_url: str, *, defer_quick_check: bool = False) -> tuple[Database, str | None]:
    """Create the engine and bring the schema to the newest revision (a no-op when it already is).

    An existing SQLite file is refused when empty, read-only or damaged (``db/sqlite_health.py``);
    with ``defer_quick_check`` (the desk's window) the quick check for damage runs later, before
    the first write, unless a migration is due: that is a write, so the file is checked first.
    An existing SQLite file at an older revision is first copied with SQLite's online backup API
    into the user data directory's backups folder (the newest ``KEEP_BACKUPS`` are kept).
    """
    try:
        db = Database(database_url)
    except ValueError as exc:
        raise DatabaseUnavailable(str(exc)) from None
    try:
        _check_sqlite_file(db, defer_quick_check=defer_quick_check)
    except DatabaseUnavailable:
        db.dispose()
        raise
    try:
        if db.file_check is not None and stored_revision(db) != packaged_head():
            db.file_check.require()
        backup_if_migrating(db)
        revision = upgrade(db)
    except DatabaseDamaged:
        db.dispose()
        raise
    except BackupFailed as exc:
        db.dispose()
        raise DatabaseUnavailable(
            f"The database at {db.display_url} needs an upgrade for this version of Box Office, but the "
            f"backup copy taken first failed ({exc}). Nothing was changed. Free some disk space or check "
            "the permissions of the user data folder, then start again."
        ) from exc
    except DBAPIError as exc:
        db.dispose()
        if db.file_check is not None:
            db.file_check.require()   # a file too damaged to read its revision: the same refusal
        error = translate_error(exc)
        if error is exc:
            detail = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
            raise DatabaseUnavailable(
                f"The database at {db.display_url} could not be opened or upgraded ({detail}). "
                "Check the --database URL, that the server is running and that you may write to it."
            ) from exc
        if isinstance(error, DatabaseUnavailable) and not isinstance(error, DatabaseRefused):
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
    *, conference_slug: str | None = None, settings_api_base: str = "", db: Database | None = None
) -> tuple[StripeGateway | None, str]:
    """The Stripe gateway when a key is configured, else ``(None, why card payments are off)``.

    The key is looked up first (environment, then keychain) with no Stripe import, so a desk
    without Stripe never loads the SDK at start-up.
    """
    from boxoffice.stripe_sync import keys

    try:
        if not keys.desk_secret_key(conference_slug):   # the desk's own use: nobody need be signed in
            return None, f"no Stripe secret key configured (set it in the keychain or {keys.SECRET_KEY_ENV})"
        from boxoffice.stripe_sync.gateway import StripeGateway

        gateway = StripeGateway.from_environment(
            conference_slug=conference_slug, settings_api_base=settings_api_base,
            admin_api_base=keys.admin_api_base(db) if db is not None else "",
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
        conference_slug=conference_slug, settings_api_base=settings_api_base, db=services.db)
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
    defer_quick_check: bool = False,
) -> AppServices:
    """Open ``database_url`` (migrations applied automatically) and wire every service to it.

    Without ``gateway`` the Stripe gateway comes from the environment or keychain (when
    ``use_stripe``); with no key the desk still sells for cash, comp and credit and
    ``card_status`` says why card payments are off. ``stripe_later``: no look-up now,
    ``card_status`` is ``STRIPE_PENDING`` until the caller runs ``connect_stripe``.
    ``defer_quick_check``: SQLite's check for damage waits in ``db.file_check`` (``open_database``).
    """
    db, revision = open_database(database_url, defer_quick_check=defer_quick_check)
    ctx = ServiceContext(db=db, clock=clock or SystemClock(), desk_name=desk_name)
    card_status = ""
    if gateway is None:
        if stripe_later:
            card_status = STRIPE_PENDING
        elif use_stripe:
            gateway, card_status = stripe_gateway_from_environment(
                conference_slug=conference_slug, settings_api_base=stripe_api_base, db=db
            )
        else:
            card_status = "Stripe is not used on this desk"
    return AppServices(ctx, schema_revision=revision, gateway=gateway, card_status=card_status)
