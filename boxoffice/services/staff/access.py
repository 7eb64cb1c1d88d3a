"""Who is acting, and what their role allows: roles, permissions and the check every service makes.

The signed-in operator is held in a context variable. The GUI sets it when someone signs in
(``set_operator``); the task runner copies the context into the worker thread, so a service
called from a worker sees the operator who clicked. A lead's one-off approval (override) is
an ``Actor`` whose ``approver`` is the lead, set only around the one approved call with
``acting_as``. The command line, the importer and the Stripe poller act as ``SYSTEM``.

Services call ``authorize(Permission.X)`` first thing; without the permission it raises
``PermissionDenied`` with a message that names the role needed ("Giving a refund needs a lead. ...").
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace

from boxoffice.errors import NotSignedIn, PermissionDenied


class Role(enum.StrEnum):
    VOLUNTEER = "volunteer"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def article(self) -> str:
        return "an" if self.value[0] in "aeiou" else "a"


_RANK = {Role.VOLUNTEER: 1, Role.LEAD: 2, Role.ADMIN: 3}


class Permission(enum.StrEnum):
    """One per kind of sensitive operation; ``MIN_ROLE`` says who may do it."""

    SELL = "sell"                          # carts, vouchers, checkout, cash/card/credit payments
    OPEN_SHIFT = "open_shift"              # open and close this desk's cash drawer shift
    VIEW_REPORTS = "view_reports"          # shift reports
    REFUND = "refund"
    COMP = "comp"
    MANUAL_PAYMENT = "manual_payment"      # bank transfer / invoice / other recorded by hand
    CANCEL_ORDER = "cancel_order"
    ADMIT_OVERSOLD = "admit_oversold"      # DEC-14: keep an order whose stock was sold meanwhile
    ISSUE_CREDIT = "issue_credit"
    EXPIRE_CREDIT = "expire_credit"
    VOID_PAYMENT = "void_payment"
    REPRINT_BADGE = "reprint_badge"        # the second and later reprints of one attendee's badge
    OPEN_DRAWER = "open_drawer"            # open the cash drawer without a sale (no-sale)
    VIEW_AUDIT = "view_audit"
    MANAGE_CATALOG = "manage_catalog"      # ticket types, add-ons, prices, stock, import
    MANAGE_VOUCHERS = "manage_vouchers"
    MANAGE_STAFF = "manage_staff"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_STRIPE_KEY = "manage_stripe_key"
    IMPORT_REGISTRATIONS = "import_registrations"  # registrations from the web system, and their export
    CHECK_IN = "check_in"                  # scan, admit, redeem add-ons, the door dashboard
    RENAME_ATTENDEE = "rename_attendee"    # rename an attendee, their note, their add-ons
    UNDO_CHECKIN = "undo_checkin"

    @property
    def min_role(self) -> Role:
        return MIN_ROLE[self]

    @property
    def label(self) -> str:
        return _LABELS[self]


MIN_ROLE: dict[Permission, Role] = {
    Permission.SELL: Role.VOLUNTEER,
    Permission.OPEN_SHIFT: Role.VOLUNTEER,
    Permission.VIEW_REPORTS: Role.LEAD,
    Permission.REFUND: Role.LEAD,
    Permission.COMP: Role.LEAD,
    Permission.MANUAL_PAYMENT: Role.LEAD,
    Permission.CANCEL_ORDER: Role.LEAD,
    Permission.ADMIT_OVERSOLD: Role.LEAD,
    Permission.ISSUE_CREDIT: Role.LEAD,
    Permission.EXPIRE_CREDIT: Role.LEAD,
    Permission.VOID_PAYMENT: Role.LEAD,
    Permission.REPRINT_BADGE: Role.LEAD,
    Permission.OPEN_DRAWER: Role.LEAD,
    Permission.VIEW_AUDIT: Role.LEAD,
    Permission.MANAGE_CATALOG: Role.ADMIN,
    Permission.MANAGE_VOUCHERS: Role.ADMIN,
    Permission.MANAGE_STAFF: Role.ADMIN,
    Permission.MANAGE_SETTINGS: Role.ADMIN,
    Permission.MANAGE_STRIPE_KEY: Role.ADMIN,
    Permission.IMPORT_REGISTRATIONS: Role.ADMIN,
    Permission.CHECK_IN: Role.VOLUNTEER,
    Permission.RENAME_ATTENDEE: Role.VOLUNTEER,
    Permission.UNDO_CHECKIN: Role.LEAD,
}

_LABELS: dict[Permission, str] = {
    Permission.SELL: "Selling",
    Permission.OPEN_SHIFT: "Opening or closing a cash shift",
    Permission.VIEW_REPORTS: "Viewing shift reports",
    Permission.REFUND: "Giving a refund",
    Permission.COMP: "Giving a comp",
    Permission.MANUAL_PAYMENT: "Recording a manual payment",
    Permission.CANCEL_ORDER: "Cancelling an order",
    Permission.ADMIT_OVERSOLD: "Admitting an oversold order",
    Permission.ISSUE_CREDIT: "Issuing store credit",
    Permission.EXPIRE_CREDIT: "Expiring store credit",
    Permission.VOID_PAYMENT: "Voiding a payment",
    Permission.REPRINT_BADGE: "Reprinting a badge a second time",
    Permission.OPEN_DRAWER: "Opening the cash drawer without a sale",
    Permission.VIEW_AUDIT: "The audit log",
    Permission.MANAGE_CATALOG: "Changing the catalog",
    Permission.MANAGE_VOUCHERS: "Changing vouchers",
    Permission.MANAGE_STAFF: "Managing staff",
    Permission.MANAGE_SETTINGS: "Changing settings",
    Permission.MANAGE_STRIPE_KEY: "Changing the Stripe key",
    Permission.IMPORT_REGISTRATIONS: "Importing registrations from the web system",
    Permission.CHECK_IN: "Checking attendees in",
    Permission.RENAME_ATTENDEE: "Changing an attendee",
    Permission.UNDO_CHECKIN: "Undoing a check-in",
}


@dataclass(frozen=True)
class Actor:
    """The person a service call acts for; ``approver`` is a lead who approved this one call."""

    staff_id: int | None
    name: str
    role: Role
    approver: Actor | None = None

    @property
    def effective_role(self) -> Role:
        if self.approver is not None and self.approver.role.rank > self.role.rank:
            return self.approver.role
        return self.role

    def may(self, permission: Permission) -> bool:
        return self.effective_role.rank >= permission.min_role.rank

    def approved_by(self, approver: Actor) -> Actor:
        """This operator, with ``approver``'s rights for one call (a lead's PIN override)."""
        return replace(self, approver=replace(approver, approver=None))


SYSTEM = Actor(staff_id=None, name="system", role=Role.ADMIN)

_current: ContextVar[Actor | None] = ContextVar("boxoffice_actor", default=None)


def current_actor() -> Actor | None:
    return _current.get()


def set_operator(actor: Actor | None) -> None:
    """The operator signed in at this desk (GUI thread), or ``None`` when the desk is locked."""
    _current.set(actor)


@contextmanager
def acting_as(actor: Actor | None) -> Iterator[Actor | None]:
    """Run the enclosed calls as ``actor`` (an override, the command line, a test)."""
    token = _current.set(actor)
    try:
        yield actor
    finally:
        _current.reset(token)


def authorize(permission: Permission) -> Actor:
    """The acting operator, if they may do ``permission``; else a clear error naming who may."""
    actor = _current.get()
    if actor is None:
        raise NotSignedIn("Nobody is signed in at this desk. Sign in with your name and PIN first.")
    if not actor.may(permission):
        need = permission.min_role
        raise PermissionDenied(
            f"{permission.label} needs {need.article} {need.value}. Ask {need.article} {need.value} "
            f"to approve it with their PIN, or to sign in.",
            permission=permission.value, needs=need.value,
        )
    return actor


def operator_id_for(operator_id: int | None) -> int | None:
    """The staff id recorded on a payment or refund: always the signed-in operator's.

    A lead's approval is recorded as the approver, never as the operator. Only a caller with no
    staff account of its own (the system: benchmarks, worker processes) may name the operator.
    """
    actor = _current.get()
    if actor is None or actor.staff_id is None:
        return operator_id
    if operator_id is not None and operator_id != actor.staff_id:
        raise PermissionDenied(
            f"Payments and refunds are recorded under the operator signed in at this desk ({actor.name}). "
            "To record one under someone else, they sign in themselves.",
            permission="record_for_another_operator", needs="",
        )
    return actor.staff_id
