"""Errors the operator sees (UserError) and the ones they never see (Cancelled)."""

from __future__ import annotations

from datetime import datetime


class BoxOfficeError(Exception):
    """Base of every error raised on purpose by Box Office."""


class UserError(BoxOfficeError):
    """A business failure whose text is shown to the operator as it is.

    The message says what happened and what to do next.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field  # the input that caused it, when there is one (for the UI)

    def __str__(self) -> str:
        return self.message


class InvalidInput(UserError):
    """Input rejected before any rule ran (bad quantity, unknown id, wrong conference)."""


class NotFound(UserError):
    """A record the operator referred to does not exist (any more)."""


class SoldOut(UserError):
    """Not enough stock, venue capacity or per-customer allowance."""


class LimitExceeded(SoldOut):
    """The per-customer limit of a ticket type would be exceeded."""


class VoucherInvalid(UserError):
    """A voucher code is unknown, expired, inactive or used up."""


class VoucherExpired(VoucherInvalid):
    """A voucher exists but is outside its validity window or used up."""


class CartError(UserError):
    """A cart cannot be changed or checked out in its present state."""


class OrderStateError(UserError):
    """An order is not in a state that allows the requested action."""


class PaymentError(UserError):
    """A payment could not be recorded."""


class PaymentDeclined(PaymentError):
    """A card was declined; the order stays pending."""


class RefundError(UserError):
    """A refund was refused (too large, wrong state, wrong method)."""


class CreditError(UserError):
    """A store credit cannot be applied or changed."""


class DatabaseBusy(UserError):
    """The database is locked by another desk or process for longer than we wait."""

    def __init__(self, message: str = "The database is busy: another program is using the database "
                 "(or another desk is writing). Nothing was saved; try again in a moment.") -> None:
        super().__init__(message)


class DatabaseUnavailable(UserError):
    """The database server cannot be reached."""


class DatabaseDamaged(DatabaseUnavailable):
    """The SQLite file is empty or fails SQLite's integrity check; the message names the way back."""


class DatabaseReadOnly(DatabaseUnavailable):
    """The SQLite file (or its folder) cannot be written: a desk could not save a sale."""


class DiskFull(UserError):
    """The disk holding the database is full; the change was not saved (the cart is kept)."""

    def __init__(self, message: str = "The disk is full: this sale was not saved. Nothing is lost: "
                 "the cart is still open. Free some disk space (or ask for help), then try again.") -> None:
        super().__init__(message)


class ConcurrentChange(UserError):
    """Another desk changed the same record first."""


class NotSignedIn(UserError):
    """A service was called with nobody signed in at the desk."""


class PermissionDenied(UserError):
    """The acting operator's role does not allow this; a lead or admin may approve it."""

    def __init__(self, message: str, *, permission: str = "", needs: str = "") -> None:
        super().__init__(message)
        self.permission = permission   # the Permission value that was refused
        self.needs = needs             # the lowest role that may do it


class SignInFailed(UserError):
    """Wrong name, PIN or password."""


class AccountLocked(SignInFailed):
    """Too many wrong PINs or passwords in a row; sign-in refused until ``until``."""

    until: datetime | None = None


class NoOpenShift(UserError):
    """Cash moved at a desk with no open cash drawer shift."""


class ShiftError(UserError):
    """A cash shift cannot be opened or closed in its present state."""


class ImportError_(UserError):
    """A conference file could not be imported; nothing was written."""


class ConfigError(UserError):
    """Settings or configuration are invalid."""


class Cancelled(BoxOfficeError):
    """The operator cancelled; never shown as an error."""
