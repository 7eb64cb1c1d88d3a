"""Mapped classes of the registration domain, one module per area, all importable from here.

``catalog`` (conferences, ticket types, add-ons, vouchers), ``sales`` (customers, carts, orders,
line items), ``money`` (payments, refunds, credits), ``staff`` (staff, audit log, cash shifts),
``attendees``, ``badges`` (badge templates, badge and receipt print logs) and ``stripe`` (Stripe customers, events, terminal payments, sync state). Importing
the package maps every class, so relationships between areas resolve.
"""

from boxoffice.db.base import Base
from boxoffice.domain.models.attendees import (
    AddonAssignment,
    Attendee,
    AttendeeStatus,
    AttendeeWord,
    CheckIn,
    CheckInKind,
    Redemption,
)
from boxoffice.domain.models.badges import BadgePrint, BadgeTemplate, ReceiptPrint
from boxoffice.domain.models.catalog import (
    AddOn,
    Conference,
    TicketType,
    Voucher,
    VoucherType,
    addon_requires_ticket_type,
    voucher_addon,
    voucher_ticket_type,
)
from boxoffice.domain.models.money import (
    CARD_METHODS,
    Credit,
    CreditStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundMethod,
    RefundStatus,
)
from boxoffice.domain.models.sales import (
    SETTLED_STATUSES,
    Cart,
    CartItem,
    CartStatus,
    Customer,
    Order,
    OrderLineItem,
    OrderStatus,
)
from boxoffice.domain.models.staff import AuditEntry, CashShift, Staff
from boxoffice.domain.models.stripe import (
    CaptureStatus,
    EventProcessingException,
    StripeCustomer,
    StripeEvent,
    SyncState,
    TerminalPayment,
)

__all__ = [
    "CARD_METHODS",
    "SETTLED_STATUSES",
    "AddOn",
    "AddonAssignment",
    "Attendee",
    "AttendeeStatus",
    "AttendeeWord",
    "AuditEntry",
    "BadgePrint",
    "BadgeTemplate",
    "Base",
    "CaptureStatus",
    "Cart",
    "CartItem",
    "CartStatus",
    "CashShift",
    "CheckIn",
    "CheckInKind",
    "Conference",
    "Credit",
    "CreditStatus",
    "Customer",
    "EventProcessingException",
    "Order",
    "OrderLineItem",
    "OrderStatus",
    "Payment",
    "PaymentMethod",
    "PaymentStatus",
    "ReceiptPrint",
    "Redemption",
    "Refund",
    "RefundMethod",
    "RefundStatus",
    "Staff",
    "StripeCustomer",
    "StripeEvent",
    "SyncState",
    "TerminalPayment",
    "TicketType",
    "Voucher",
    "VoucherType",
    "addon_requires_ticket_type",
    "voucher_addon",
    "voucher_ticket_type",
]
