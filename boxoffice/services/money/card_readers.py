"""Card reader administration (Stripe Terminal): register a reader and choose this desk's reader.

Both are settings changes, for admins only (``Permission.MANAGE_SETTINGS``). Listing the readers is
``CardPaymentService.list_readers``. The gateway is the desk's Stripe gateway (a ``ReaderGateway``);
this module never imports ``stripe``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any, Protocol

from boxoffice.errors import InvalidInput
from boxoffice.services.money.ports import GatewayReader
from boxoffice.services.staff.access import Permission, authorize

LABEL_MAX = 100
READER_ID = re.compile(r"^tmr_[A-Za-z0-9_]+$")
LOCATION_ID = re.compile(r"^tml_[A-Za-z0-9_]+$")


class ReaderGateway(Protocol):
    def register_reader(
        self, *, registration_code: str, label: str, location: str, idempotency_key: str
    ) -> GatewayReader: ...


def new_registration_key() -> str:
    """The idempotency key of one registration attempt: keep it for retries of the same form."""
    return f"boxoffice-reader-{uuid.uuid4().hex}"


def register_reader(
    gateway: ReaderGateway | None,
    *,
    registration_code: str,
    label: str,
    location: str,
    idempotency_key: str,
) -> GatewayReader:
    """Register the reader showing ``registration_code`` at Stripe location ``location`` (admins).

    A retry with the same ``idempotency_key`` (after a timeout) cannot register it twice.
    """
    authorize(Permission.MANAGE_SETTINGS)
    code, label, location = registration_code.strip(), label.strip(), location.strip()
    if gateway is None:
        raise InvalidInput("Card payments are not set up on this desk (no Stripe key), so no reader can "
                           "be registered. Add the key in Settings > Stripe first.")
    if not code:
        raise InvalidInput("Type the registration code the reader shows on its screen.",
                           field="registration_code")
    if not label or len(label) > LABEL_MAX:
        raise InvalidInput(f"Give the reader a name of 1 to {LABEL_MAX} characters (e.g. “Desk 1 reader”).",
                           field="label")
    if not LOCATION_ID.match(location):
        raise InvalidInput("Enter the Stripe location id the reader belongs to (it starts with tml_; "
                           "see Terminal > Locations in the Stripe dashboard).", field="location")
    return gateway.register_reader(registration_code=code, label=label, location=location,
                                   idempotency_key=idempotency_key)


def choose_desk_reader(reader_id: str, save: Callable[[str], Any]) -> str:
    """Make ``reader_id`` this desk's card reader ("" for none) and save it with ``save`` (admins)."""
    authorize(Permission.MANAGE_SETTINGS)
    reader_id = reader_id.strip()
    if reader_id and not READER_ID.match(reader_id):
        raise InvalidInput(f"'{reader_id}' is not a Stripe reader id (they start with tmr_).", field="reader")
    save(reader_id)
    return reader_id
