"""Plugs Stripe into a main window: sync controller and status bar, Sync screen (F4), card payment methods."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from boxoffice.errors import UserError
from boxoffice.ui.dialogs.payment import PaymentDialog, PaymentMethodPlugin

CARD_METHOD_KEYS = ("card_reader", "card_phone")


class _CardPage(QWidget):
    """Base of the card pages: opens a card dialog, then hands the paid order back to the payment dialog."""

    reason = "card"

    def __init__(self, host: Any, cards: Any, controller: Any) -> None:
        super().__init__()
        self.host, self.cards, self.controller = host, cards, controller
        self.dialog: Any | None = None
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.layout_ = QVBoxLayout(self)
        self.layout_.addWidget(self.hint)

    def _open(self, dialog: Any) -> None:
        self.dialog = dialog
        dialog.in_flight_changed.connect(
            lambda busy: self.controller.set_payment_in_flight(self.reason, busy))
        dialog.finished.connect(lambda _code: self.controller.set_payment_in_flight(self.reason, False))
        dialog.payment_finished.connect(self._on_paid)
        dialog.setModal(True)
        dialog.show()
        dialog.start()

    def _on_paid(self, attempt: Any) -> None:
        from boxoffice.services.money.payments import PaymentResult

        orders = self.host.desk.services.orders
        order_id = attempt.order_id

        def done(order: Any) -> None:
            self.host.accept_result(PaymentResult(
                order=order, payment_id=attempt.payment_id, method=attempt.method, applied=attempt.amount,
                change_due=Decimal(0), paid_in_full=attempt.paid_in_full))

        self.host.desk.tasks.read(lambda: orders.get(order_id), done, self.host.desk.messages.show_error,
                                  owner=self)


class CardReaderPage(_CardPage):
    """Card on the Stripe Terminal reader chosen in the list (the desk's reader preselected)."""

    reason = "card-reader"

    def __init__(self, host: Any, cards: Any, controller: Any, reader_id: str) -> None:
        super().__init__(host, cards, controller)
        self.preferred_reader = reader_id
        self.hint.setText("Choose the card reader, then Take payment sends the amount due to it.")
        row = QHBoxLayout()
        self.readers = QComboBox()
        self.readers.setMinimumWidth(280)
        self.reload = QPushButton("Reload readers")
        row.addWidget(self.readers, 1)
        row.addWidget(self.reload)
        self.layout_.addLayout(row)
        self.layout_.addStretch(1)
        self.reload.clicked.connect(self.activate)

    def activate(self) -> None:
        self.host.desk.tasks.read(self.cards.list_readers, self._show_readers, self._on_list_failed, owner=self)

    def _show_readers(self, readers: Any) -> None:
        current = self.readers.currentData() or self.preferred_reader
        self.readers.clear()
        for reader in readers:
            self.readers.addItem(f"{reader.label or reader.id} ({reader.status})", reader.id)
        index = self.readers.findData(current)
        if index >= 0:
            self.readers.setCurrentIndex(index)
        if not readers:
            self.host.fail("No card reader is registered with Stripe: register one, or take another method.")

    def _on_list_failed(self, exc: BaseException) -> None:
        self.host.fail(str(exc) if isinstance(exc, UserError) else "The card readers could not be listed.")

    def submit(self) -> None:
        from boxoffice.ui.dialogs.card_reader import CardReaderDialog

        reader_id = self.readers.currentData() or self.preferred_reader
        if not reader_id:
            self.host.fail("Choose a card reader first (or Reload readers).")
            return
        desk = self.host.desk
        self._open(CardReaderDialog(self.cards, desk.tasks, order_id=self.host.order.id, reader_id=reader_id,
                                    operator_id=desk.operator_id, parent=self.host))


class CardPhonePage(_CardPage):
    """The buyer pays on their own phone: Take payment shows a QR code of a Stripe Checkout link."""

    reason = "card-phone"

    def __init__(self, host: Any, cards: Any, controller: Any) -> None:
        super().__init__(host, cards, controller)
        self.hint.setText("Take payment shows a QR code; the buyer scans it and pays by card on their phone.")
        self.layout_.addStretch(1)

    def submit(self) -> None:
        from boxoffice.ui.dialogs.card_phone import CardPhoneDialog

        desk = self.host.desk
        self._open(CardPhoneDialog(self.cards, desk.tasks, order_id=self.host.order.id,
                                   operator_id=desk.operator_id, parent=self.host))


def install_readers_screen(window: Any, cards: Any, controller: Any, reader_id: str,
                           save_reader: Callable[[str], Any]) -> None:
    """The Card readers screen (F5, ``window.readers_screen``, built when first shown); a reader
    chosen there is offered first by the payment dialog."""
    from boxoffice.services.staff.access import Permission

    def build() -> Any:
        from boxoffice.ui.screens.readers.screen import ReadersScreen

        # The registration call goes to the same gateway the card payments use.
        screen = ReadersScreen(window.desk, cards, cards.gateway, reader_id=reader_id, save_reader=save_reader)
        screen.reader_chosen.connect(lambda chosen: register_card_methods(cards, controller, chosen))
        return screen

    window.add_screen("Readers", "F5", build, name="readers_screen",
                      permission=Permission.MANAGE_SETTINGS)  # admins


def unregister_card_methods() -> None:
    PaymentDialog.extra_methods[:] = [
        p for p in PaymentDialog.extra_methods if p.key not in CARD_METHOD_KEYS]


def register_card_methods(cards: Any, controller: Any, reader_id: str = "") -> None:
    """Card reader and pay-on-phone in every payment dialog (replacing earlier registrations)."""
    unregister_card_methods()
    PaymentDialog.extra_methods.append(PaymentMethodPlugin(
        "card_reader", "Card (rea&der)", lambda host: CardReaderPage(host, cards, controller, reader_id)))
    PaymentDialog.extra_methods.append(PaymentMethodPlugin(
        "card_phone", "Card on &phone (QR)", lambda host: CardPhonePage(host, cards, controller)))


def save_reader_to_settings(reader_id: str) -> None:
    """This desk's card reader, kept in the desk's settings file (``Settings.stripe_reader_id``)."""
    from boxoffice.config import load_settings, save_settings

    settings = load_settings().settings
    settings.stripe_reader_id = reader_id
    save_settings(settings)


def sync_backend(ctx: Any, poller: Any) -> Any:
    """What the Sync screen calls: the synced events and exceptions of ``ctx``, and ``poller``'s
    retries and sync."""
    from boxoffice.stripe_sync.poller import list_events, list_exceptions
    from boxoffice.ui.screens.sync.screen import SyncBackend

    return SyncBackend(
        events=lambda failed_only: list_events(ctx, failed_only=failed_only),
        exceptions=lambda: list_exceptions(ctx),
        retry=poller.retry,
        retry_all=poller.retry_all,
        sync_now=poller.poll_once,
    )


def install_stripe(window: Any, *, reader_id: str = "", fast_ms: int | None = None,
                   slow_ms: int | None = None, save_reader: Callable[[str], Any] | None = None) -> Any | None:
    """Wire Stripe into ``window`` when the services have a poller; returns the started SyncController.

    Adds the Sync (F4) and Card readers (F5) screens. ``save_reader`` keeps the reader chosen on the
    Card readers screen (default: the settings file). Without Stripe the status bar says why card
    payments are off and no card method is offered.
    """
    services = window.desk.services
    poller = getattr(services, "poller", None)
    cards = getattr(services, "card_payments", None)
    if poller is None or cards is None:
        unregister_card_methods()
        reason = getattr(services, "card_status", "") or "Stripe is not configured"
        window.set_sync_state(f"Card payments off: {reason}")
        return None
    from boxoffice.db.locks import PollerLease, new_holder_id
    from boxoffice.ui.sync_controller import SyncController

    timing = {k: v for k, v in (("fast_ms", fast_ms), ("slow_ms", slow_ms)) if v is not None}
    desk = window.desk
    ctx = services.ctx
    # Exactly one desk polls Stripe; this one takes the lease whenever it is free (each tick).
    lease = PollerLease(services.db, holder=new_holder_id(ctx.desk_name))
    controller = SyncController(desk.tasks, poller.poll_once, lease=lease, parent=window, **timing)

    def sync_screen() -> Any:
        from boxoffice.ui.screens.sync.screen import SyncScreen

        screen = SyncScreen(sync_backend(ctx, poller), desk.tasks, desk.messages)
        controller.sync_finished.connect(lambda _r: screen.refresh() if screen.isVisible() else None)
        return screen

    window.add_screen("Sync", "F4", sync_screen, name="sync_screen")
    window.sync_controller = controller
    controller.status_changed.connect(lambda *_: window.set_sync_state(controller.status_text()))
    register_card_methods(cards, controller, reader_id)
    install_readers_screen(window, cards, controller, reader_id, save_reader or save_reader_to_settings)
    window.set_sync_state("Stripe: first sync…")
    controller.start()
    return controller
