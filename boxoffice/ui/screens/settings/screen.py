"""Settings screen (admins): desk name, idle lock, quick cash notes, card reader, printers, the Stripe key
(masked), the registrations source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from boxoffice.config import Settings
from boxoffice.errors import UserError
from boxoffice.services.desk.settings import MAX_IDLE_LOCK_MINUTES, DeskSettingsService, PrinterChoice
from boxoffice.stripe_sync import keys
from boxoffice.ui.widgets.button_row import dialog_buttons
from boxoffice.ui.widgets.inline_message import InlineMessage


class StripeKeyDialog(QDialog):
    """Paste a new secret key; shown as dots, never echoed back."""

    def __init__(self, submit: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change the Stripe secret key")
        self.setMinimumWidth(520)
        self._submit = submit
        layout = QVBoxLayout(self)
        hint = QLabel("Paste the secret key (sk_… or a restricted rk_… key) from the Stripe dashboard, "
                      "Developers › API keys. It is saved in the system keychain, never in a file.")
        hint.setWordWrap(True)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("sk_live_…")
        self.message = InlineMessage()
        layout.addWidget(hint)
        layout.addWidget(self.key)
        layout.addWidget(self.message)
        row, self.save = dialog_buttons(self, leave="Cancel", primary="Save key")
        layout.addLayout(row)
        self.save.clicked.connect(self._on_save_clicked)

    def _on_save_clicked(self) -> None:
        if not self.key.text().strip():
            self.fail("Paste the key first.")
            return
        self.save.setEnabled(False)
        self._submit(self.key.text())

    def fail(self, text: str) -> None:
        self.save.setEnabled(True)
        self.message.show_message(text)


class SettingsScreen(QWidget):
    """Edits this desk's settings file through ``DeskSettingsService`` (admins; audited).

    Signals: ``settings_saved(Settings)`` after a save that changed something.
    """

    settings_saved = Signal(object)

    def __init__(self, desk: Any, settings: Settings, *, settings_path: Path | None = None,
                 conference_slug: str | None = None, registrations_sync: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.settings, self._slug = desk, settings, conference_slug
        self._service = DeskSettingsService(desk.services.ctx, settings_path)
        self.key_dialog: StripeKeyDialog | None = None
        # The sections scroll: on a 720-pixel-high desk they are taller than the window.
        page = QWidget()
        scroll = QScrollArea()
        scroll.setWidget(page)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll_layout = QVBoxLayout(self)
        scroll_layout.setContentsMargins(0, 0, 0, 0)
        scroll_layout.addWidget(scroll)
        self.scroll_area = scroll
        outer = QVBoxLayout(page)
        title = QLabel("Settings")
        title.setObjectName("sectionTitle")
        outer.addWidget(title)
        panel = QFrame()
        panel.setObjectName("panel")
        panel.setMaximumWidth(760)
        form = QFormLayout(panel)
        form.setContentsMargins(16, 16, 16, 16)
        form.setVerticalSpacing(10)
        self.desk_name = QLineEdit()
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(0, MAX_IDLE_LOCK_MINUTES)
        self.idle_minutes.setSuffix(" min")
        self.idle_minutes.setSpecialValueText("Never")
        self.idle_minutes.setMaximumWidth(180)
        self.quick_notes = QLineEdit()
        self.quick_notes.setPlaceholderText("5, 10, 20, 50, 100")
        self.reader_id = QLineEdit()
        self.reader_id.setPlaceholderText("tmr_… (empty: choose the reader at each payment)")
        form.addRow("&Desk name", self.desk_name)
        form.addRow("&Lock when idle after", self.idle_minutes)
        form.addRow("&Quick cash notes", self.quick_notes)
        form.addRow("Card &reader id", self.reader_id)
        self.checkin_walkups = QCheckBox("Check in the attendees of a sale made at this desk at once")
        self.checkin_walkups.setToolTip("Walk-up sales: the confirmation names who was checked in")
        form.addRow("Check-in", self.checkin_walkups)
        self._add_printer_fields(form)
        self.message = InlineMessage()
        form.addRow("", self.message)
        self.save = QPushButton("Save settings")
        self.save.setProperty("role", "primary")
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save)
        form.addRow("", save_row)
        self.restart_note = QLabel("A new desk name and card reader take effect when Box Office restarts; "
                                   "printers at once.")
        self.restart_note.setObjectName("muted")
        self.restart_note.setWordWrap(True)
        form.addRow("", self.restart_note)
        outer.addWidget(panel)

        stripe = QFrame()
        stripe.setObjectName("panel")
        stripe.setMaximumWidth(760)
        stripe_layout = QVBoxLayout(stripe)
        stripe_layout.setContentsMargins(16, 16, 16, 16)
        stripe_title = QLabel("Stripe")
        stripe_title.setObjectName("sectionTitle")
        key_row = QHBoxLayout()
        self.key_label = QLabel()
        self.change_key = QPushButton("Change key…")
        key_row.addWidget(self.key_label, 1)
        key_row.addWidget(self.change_key)
        self.key_message = InlineMessage()
        stripe_layout.addWidget(stripe_title)
        stripe_layout.addLayout(key_row)
        stripe_layout.addWidget(self.key_message)
        outer.addWidget(stripe)
        from boxoffice.ui.screens.settings.registrations import RegistrationsSection

        self.registrations = RegistrationsSection(desk, self._service, lambda: self.settings, self._on_saved,
                                                  registrations_sync)
        outer.addWidget(self.registrations)
        outer.addStretch(1)
        self.save.clicked.connect(self._on_save_clicked)
        self.change_key.clicked.connect(self._on_change_key_clicked)
        self.test_page.clicked.connect(self._on_test_page_clicked)
        self._fill()

    def _add_printer_fields(self, form: QFormLayout) -> None:
        heading = QLabel("Printers at this desk")
        heading.setObjectName("sectionTitle")
        form.addRow(heading)
        self.receipt_printer = QLineEdit()
        self.receipt_printer.setPlaceholderText("network:192.168.1.50:9100 · usb:04b8:0202 · serial:/dev/ttyUSB0 · "
                                                "file:/dev/usb/lp0 (empty: none)")
        self.receipt_printer.setToolTip("The ESC/POS receipt printer: network:HOST[:PORT], usb:VENDOR:PRODUCT "
                                        "(hex ids), serial:DEVICE[:BAUD] or file:PATH")
        self.test_page = QPushButton("Print &test page")
        printer_row = QHBoxLayout()
        printer_row.addWidget(self.receipt_printer, 1)
        printer_row.addWidget(self.test_page)
        self.paper = QComboBox()
        self.paper.addItem("80 mm", 80)
        self.paper.addItem("58 mm", 58)
        self.paper.setMaximumWidth(180)
        self.auto_receipt = QCheckBox("Print a receipt after each sale")
        self.cash_drawer = QCheckBox("Open the cash drawer on cash payments and cash refunds")
        self.badge_printer = QComboBox()
        self.badge_printer.addItem("PDF (no badge printer)", "")
        self.print_badge_on_checkin = QCheckBox("Print the badge when an attendee checks in")
        self.printer_message = InlineMessage()
        receipt_label = QLabel("Recei&pt printer")
        receipt_label.setBuddy(self.receipt_printer)
        form.addRow(receipt_label, printer_row)
        form.addRow("Receipt p&aper", self.paper)
        form.addRow("", self.auto_receipt)
        form.addRow("", self.cash_drawer)
        form.addRow("&Badge printer", self.badge_printer)
        form.addRow("", self.print_badge_on_checkin)
        form.addRow("", self.printer_message)

    def refresh(self) -> None:
        self._fill()
        self._load_system_printers()
        slug = self._slug
        self.desk.tasks.read(lambda: keys.current_key_display(slug), self._show_key, lambda _e: None, owner=self)

    def _fill(self) -> None:
        s = self.settings
        self.desk_name.setText(s.desk_name)
        self.idle_minutes.setValue(s.idle_lock_minutes)
        self.quick_notes.setText(", ".join(str(n) for n in s.quick_cash_notes))
        self.reader_id.setText(s.stripe_reader_id)
        self.checkin_walkups.setChecked(s.checkin_walkups)
        self.receipt_printer.setText(s.receipt_printer)
        self.paper.setCurrentIndex(max(0, self.paper.findData(s.receipt_paper_mm)))
        self.auto_receipt.setChecked(s.auto_receipt)
        self.cash_drawer.setChecked(s.cash_drawer)
        self._choose_badge_printer(s.badge_printer)
        self.print_badge_on_checkin.setChecked(s.print_badge_on_checkin)

    def _choose_badge_printer(self, name: str) -> None:
        index = self.badge_printer.findData(name)
        if index < 0:   # saved, but not installed on this computer (now): keep it, say so
            self.badge_printer.addItem(f"{name} (not found on this computer)", name)
            index = self.badge_printer.count() - 1
        self.badge_printer.setCurrentIndex(index)

    def _load_system_printers(self) -> None:
        """The system's printers (QPrinterInfo asks CUPS or Windows: off the GUI thread)."""
        def names() -> list[str]:
            from PySide6.QtPrintSupport import QPrinterInfo

            return list(QPrinterInfo.availablePrinterNames())

        self.desk.tasks.read(names, self.set_system_printers, lambda _exc: None, key="settings-printers", owner=self)

    def set_system_printers(self, names: list[str]) -> None:
        chosen = self.badge_printer.currentData() or ""
        self.badge_printer.clear()
        self.badge_printer.addItem("PDF (no badge printer)", "")
        for name in sorted(names, key=str.casefold):
            self.badge_printer.addItem(name, name)
        self._choose_badge_printer(chosen)

    def printer_choice(self) -> PrinterChoice:
        return PrinterChoice(receipt_printer=self.receipt_printer.text(), receipt_paper_mm=int(self.paper.currentData()),
                             auto_receipt=self.auto_receipt.isChecked(), cash_drawer=self.cash_drawer.isChecked(),
                             badge_printer=str(self.badge_printer.currentData() or ""),
                             print_badge_on_checkin=self.print_badge_on_checkin.isChecked())

    def _on_test_page_clicked(self) -> None:
        """Print a test page on the printer as typed (saved or not): proves connection, width and cutter."""
        printer, paper = self.receipt_printer.text().strip(), int(self.paper.currentData())
        if not printer:
            self.desk.messages.error_text("Give the receipt printer's connection first, e.g. "
                                          "network:192.168.1.50:9100.", near=self.printer_message)
            return
        service = self.desk.services.receipt_printer
        self.test_page.setEnabled(False)
        self.printer_message.show_message("Printing a test page…", kind="info")

        def done(outcome: Any) -> None:
            self.test_page.setEnabled(True)
            self.printer_message.show_message(f"Test page sent to {outcome.printer}. Check that it printed "
                                              "the full width and was cut.", kind="info")

        def failed(exc: BaseException) -> None:
            self.test_page.setEnabled(True)
            self.desk.messages.show_error(exc, near=self.printer_message)

        self.desk.tasks.device(lambda: service.test_page(printer, paper_mm=paper), done, failed, owner=self)

    def _show_key(self, shown: str) -> None:
        text = f"Secret key: {shown}" if shown else "Secret key: none (card payments are off)"
        if keys.env_key_overrides():
            text += f"  (the {keys.SECRET_KEY_ENV} environment variable is used instead of the keychain)"
        self.key_label.setText(text)

    def _on_save_clicked(self) -> None:
        service, current = self._service, self.settings
        name, minutes = self.desk_name.text(), self.idle_minutes.value()
        notes, reader = self.quick_notes.text(), self.reader_id.text()
        walkups = self.checkin_walkups.isChecked()
        printers = self.printer_choice()
        self.save.setEnabled(False)
        self.desk.tasks.write(
            lambda: service.save(current, desk_name=name, idle_lock_minutes=minutes, quick_cash_notes=notes,
                                 stripe_reader_id=reader, checkin_walkups=walkups, printers=printers),
            self._on_saved, self._on_save_failed, owner=self)

    def _on_saved(self, new: Settings) -> None:
        self.save.setEnabled(True)
        if new is self.settings:
            self.message.show_message("Nothing changed.", kind="info")
            return
        self.settings = new
        self._fill()
        self.message.show_message("Settings saved.", kind="info")
        self.settings_saved.emit(new)

    def _on_save_failed(self, exc: BaseException) -> None:
        self.save.setEnabled(True)
        self.desk.messages.show_error(exc, near=self.message)

    def _on_change_key_clicked(self) -> None:
        ctx, slug = self.desk.services.ctx, self._slug
        holder: dict[str, StripeKeyDialog] = {}

        def submit(secret: str) -> None:
            self.desk.tasks.write(lambda: keys.change_secret_key(ctx, secret, slug), done, failed,
                                  owner=holder["dialog"])

        def done(shown: str) -> None:
            holder["dialog"].accept()
            self._show_key(shown)
            self.key_message.show_message(
                f"Stripe key {shown} saved. Restart Box Office to take card payments with it.", kind="info")

        def failed(exc: BaseException) -> None:
            holder["dialog"].fail(str(exc) if isinstance(exc, UserError) else "The key could not be saved.")

        dialog = StripeKeyDialog(submit, self)
        holder["dialog"] = dialog
        self.key_dialog = dialog
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
