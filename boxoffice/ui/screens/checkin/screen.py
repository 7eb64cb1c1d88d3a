"""The Check-in screen (F11): scan or type at the door, a large result per scan, and the dashboard tab.

A scanner types a code and Enter, fast. Every Enter (and every action key) joins a queue that is
worked through one service call at a time, in order: what is typed while a scan is in flight is
never dropped, and the scan field never loses the focus or its input. A result shows for about
three seconds (longer while it waits for a key: a note to read, re-entry, payment), or until the
next scan. Anything that is not a code is a search as you type; Enter on a single match, or on a
match chosen with the arrow keys, checks it in.

Signals: ``admitted(list)`` with the ScanResults of every admission made here.
"""

from __future__ import annotations

import logging
from collections import deque
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from boxoffice.errors import UserError
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.payment import PaymentDialog
from boxoffice.ui.models.change_feed import ChangeFeed
from boxoffice.ui.screens.checkin.dashboard import DashboardPanel
from boxoffice.ui.screens.checkin.result_panel import ResultPanel
from boxoffice.ui.screens.checkin.sounds import ResultSounds
from boxoffice.ui.screens.checkin.undo_dialog import UndoCheckInDialog
from boxoffice.ui.widgets.inline_message import InlineMessage

log = logging.getLogger(__name__)

RESULT_MS = 3_000          # a plain result shows this long (or until the next scan)
WAITING_RESULT_MS = 12_000  # a result that waits for a key (note, re-entry, payment)
SEARCH_DELAY_MS = 150
SEARCH_LIMIT = 20
FOCUS_RETRY_MS = 100


def match_text(view: Any, display: Any) -> str:
    parts = [view.name or "(no name)", view.ticket_type or "Ticket", view.order_reference]
    if view.company:
        parts.insert(1, view.company)
    if view.status != "valid":
        parts.append("VOID")
    elif view.checked_in_at is not None:
        parts.append(f"in since {display.when(view.checked_in_at)[-5:]}")
    return "  ·  ".join(parts)


class CheckInScreen(QWidget):
    """Scan, search, admit; the dashboard on its own tab. See the module docstring."""

    admitted = Signal(object)

    def __init__(self, desk: Desk, parent: QWidget | None = None, *, sounds: ResultSounds | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        services = desk.services
        self._checkin, self._attendees = services.checkin, services.attendees
        self.sounds = sounds if sounds is not None else ResultSounds(self)
        self.queue: deque[tuple[str, Any]] = deque()
        self.in_flight = False
        self.payment_dialog: PaymentDialog | None = None
        self.undo_dialog: UndoCheckInDialog | None = None
        self._search_generation = 0
        self._last_search = ""

        self.tabs = QTabWidget()
        door = QWidget()
        door_layout = QVBoxLayout(door)
        top = QHBoxLayout()
        scan_label = QLabel("&Scan or type")
        scan_label.setObjectName("sectionTitle")
        self.scan = QLineEdit()
        self.scan.setObjectName("scanField")
        self.scan.setPlaceholderText("Scan the badge or ticket, or type a code, order reference, name or email")
        self.scan.setClearButtonEnabled(True)
        font = QFont(self.scan.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0) * 1.6)
        self.scan.setFont(font)
        self.scan.setMinimumHeight(52)
        scan_label.setBuddy(self.scan)
        self.count = QLabel()
        self.count.setObjectName("bigAmount")
        self.waiting = QLabel()
        self.waiting.setObjectName("muted")
        top.addWidget(scan_label)
        top.addWidget(self.scan, 1)
        top.addWidget(self.waiting)
        top.addWidget(self.count)
        self.message = InlineMessage()
        self.matches = QListWidget()
        self.matches.setObjectName("checkinMatches")
        self.matches.setFocusPolicy(Qt.FocusPolicy.NoFocus)   # arrows in the scan field move through it
        self.matches.setMaximumHeight(260)
        self.matches.hide()
        self.panel = ResultPanel(desk.display)
        hint = QLabel("Enter: check in · ↑/↓: choose a match · Alt+A: admit (note read / again) · "
                      "Alt+P: take payment · Alt+U: undo (a lead) · Esc: clear")
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        door_layout.addLayout(top)
        door_layout.addWidget(self.message)
        door_layout.addWidget(self.matches)
        door_layout.addWidget(self.panel, 1)
        door_layout.addWidget(hint)
        self.dashboard = DashboardPanel(desk.display)
        self.tabs.addTab(door, "&Door")
        self.tabs.addTab(self.dashboard, "Das&hboard")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)

        self._result_timer = QTimer(self)
        self._result_timer.setSingleShot(True)
        self._result_timer.timeout.connect(self._on_result_timer_timeout)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self._run_search)

        self.scan.returnPressed.connect(self._on_scan_return_pressed)
        self.scan.textEdited.connect(self._on_scan_text_edited)
        self.scan.installEventFilter(self)
        self.matches.itemClicked.connect(self._on_match_clicked)
        self.panel.admit_requested.connect(lambda: self.enqueue("confirm"))
        self.panel.pay_requested.connect(lambda: self.enqueue("pay"))
        self.panel.undo_requested.connect(lambda: self.enqueue("undo"))
        self.panel.redeem_requested.connect(self._on_panel_redeem_requested)
        self.dashboard.export_requested.connect(self._on_dashboard_export_requested)
        self.tabs.currentChanged.connect(lambda _index: self.refresh())
        # Another desk's check-in, a sale, a rename: the counts and the dashboard refresh in place.
        self.changes = ChangeFeed.for_screen(self, desk, self._on_data_changed)

    # ------------------------------------------------------------------ showing

    def refresh(self) -> None:
        """Shown (F11) or changed elsewhere: reload the counts (and the dashboard on its tab)."""
        self.sounds.preload()
        checkin, conference_id = self._checkin, self.desk.conference_id
        self.desk.tasks.read(lambda: checkin.dashboard(conference_id), self._show_dashboard,
                             lambda exc: self.desk.messages.show_error(exc, near=self.dashboard.message),
                             key="checkin-dashboard", owner=self)
        if self.tabs.currentIndex() == 0:
            self.focus_scan_field()

    def focus_scan_field(self, tries: int = 20) -> None:
        """The scan field takes the focus now, or once the dialog on top (payment, approval) has closed."""
        if not self.isVisible() or self.tabs.currentIndex() != 0:
            return
        if QApplication.activeModalWidget() is None:
            self.scan.setFocus()
        elif tries > 0:
            QTimer.singleShot(FOCUS_RETRY_MS, self, lambda: self.focus_scan_field(tries - 1))

    def _show_dashboard(self, dashboard: Any) -> None:
        self.dashboard.show_dashboard(dashboard)
        self.count.setText(f"In: {dashboard.checked_in:,} of {dashboard.expected:,}")

    def _on_data_changed(self) -> None:
        if not self.isVisible():
            return
        self.refresh()
        if self.matches.isVisible() and self._last_search:
            self._search_now(self._last_search)

    # ------------------------------------------------------------------ typing and scanning

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.scan and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.matches.isVisible() and self.matches.count():
                row = self.matches.currentRow()
                row = 0 if row < 0 else row + (1 if key == Qt.Key.Key_Down else -1)
                self.matches.setCurrentRow(max(0, min(row, self.matches.count() - 1)))
                return True
            if key == Qt.Key.Key_Escape:
                self.scan.clear()
                self._hide_matches()
                self.panel.clear()
                return True
        return super().eventFilter(watched, event)

    def _on_scan_text_edited(self, text: str) -> None:
        self.message.clear_message()
        if len(text.strip()) >= 2:
            self._search_timer.start()
        else:
            self._search_timer.stop()
            self._hide_matches()

    def _on_scan_return_pressed(self) -> None:
        text = self.scan.text().strip()
        item = self.matches.currentItem() if self.matches.isVisible() else None
        chosen = item.data(Qt.ItemDataRole.UserRole) if item is not None else None   # before the list clears
        self.scan.clear()
        self._search_timer.stop()
        self._hide_matches()
        if chosen is not None:
            self.enqueue("admit", chosen.id)
        elif text:
            self.enqueue("scan", text)

    def scan_text(self, text: str) -> None:
        """As if ``text`` and Enter came from the scanner."""
        self.scan.setText(text)
        self._on_scan_return_pressed()

    def _on_match_clicked(self, item: QListWidgetItem) -> None:
        attendee_id = item.data(Qt.ItemDataRole.UserRole).id
        self.scan.clear()
        self._hide_matches()
        self.enqueue("admit", attendee_id)

    def _hide_matches(self) -> None:
        self._search_generation += 1   # a search still running answers nobody
        self._last_search = ""
        self.matches.clear()
        self.matches.hide()

    def _run_search(self) -> None:
        self._search_now(self.scan.text().strip())

    def _search_now(self, text: str) -> None:
        if len(text) < 2:
            return
        generation, attendees, conference_id = self._search_generation, self._attendees, self.desk.conference_id
        self._last_search = text

        def show(views: list[Any]) -> None:
            if generation == self._search_generation:
                self._show_matches(views)

        self.desk.tasks.read(lambda: attendees.search(conference_id, text, limit=SEARCH_LIMIT), show,
                             lambda exc: self.desk.messages.show_error(exc, near=self.message),
                             key="checkin-search", owner=self)

    def _show_matches(self, views: list[Any]) -> None:
        chosen = self.matches.currentItem()
        chosen_id = chosen.data(Qt.ItemDataRole.UserRole).id if chosen is not None else None
        self.matches.clear()
        for view in views:
            item = QListWidgetItem(match_text(view, self.desk.display))
            item.setData(Qt.ItemDataRole.UserRole, view)
            self.matches.addItem(item)
            if view.id == chosen_id:
                self.matches.setCurrentItem(item)
        self.matches.setVisible(bool(views))
        if not views and self.scan.text().strip():
            self.message.show_message("Nobody found yet: keep typing, or press Enter to look the code up.",
                                      kind="info")

    # ------------------------------------------------------------------ the queue

    def enqueue(self, action: str, value: Any = None) -> None:
        """``scan`` (text), ``admit`` (attendee id), ``confirm`` (Alt+A on the shown result), ``pay``,
        ``undo``: applied one at a time, in the order they came."""
        self.queue.append((action, value))
        self._next()

    def _next(self) -> None:
        while not self.in_flight and self.queue:
            action, value = self.queue.popleft()
            self._start(action, value)
        self.waiting.setText(f"{len(self.queue)} waiting…" if self.queue else "")

    def _start(self, action: str, value: Any) -> None:
        checkin, conference_id, shown = self._checkin, self.desk.conference_id, self.panel.result
        if action == "scan":
            self._write(lambda: checkin.scan(conference_id, value))
        elif action == "admit":
            self._write(lambda: checkin.admit(value))
        elif action == "confirm":
            if shown is None or shown.attendee is None or shown.outcome not in ("attention", "already_checked_in"):
                return   # nothing on show waits for this key
            attendee_id, again = shown.attendee.id, shown.outcome == "already_checked_in"
            self._write(lambda: checkin.admit(attendee_id, admit_again=again, confirm_attention=True))
        elif action == "pay" and shown is not None and shown.outcome == "not_paid" and shown.order_id is not None:
            self._open_payment(shown.order_id)
        elif action == "undo" and shown is not None and shown.check_in_id is not None \
                and shown.outcome in ("admitted", "already_checked_in"):
            self._ask_undo(shown)

    def _write(self, fn: Any) -> None:
        self.in_flight = True
        self.desk.tasks.write(fn, self._on_scan_done, self._on_scan_failed, owner=self)

    def _on_scan_done(self, result: Any) -> None:
        self.in_flight = False
        if result.outcome == "matches":
            self._on_search_result(result)
        else:
            self.show_result(result)
        self._next()

    def _on_scan_failed(self, exc: BaseException) -> None:
        self.in_flight = False
        if isinstance(exc, UserError):
            self.panel.show_problem(str(exc))
            self.sounds.play("unknown")
            self._result_timer.start(RESULT_MS)
        else:
            self.desk.messages.show_error(exc, near=self.message)
        self.focus_scan_field()
        self._next()

    def _on_search_result(self, result: Any) -> None:
        """Enter on text that is no code: one match is checked in at once, several are listed."""
        if len(result.matches) == 1 and not self.queue:
            self.queue.appendleft(("admit", result.matches[0].id))
            return
        self.panel.clear()
        self._show_matches(list(result.matches))
        if not result.matches:
            self.show_result(result)

    def show_result(self, result: Any, *, extra: str = "") -> None:
        self.panel.show_result(result, extra=extra)
        self.sounds.play(result.outcome)
        self._result_timer.start(WAITING_RESULT_MS if self.panel.waits_for_key() else RESULT_MS)
        if result.outcome == "admitted":
            self.admitted.emit([result])
            self.refresh()
        if result.attendee is not None and result.outcome in ("admitted", "already_checked_in"):
            self._badge_for(result)
        self.focus_scan_field()

    # ------------------------------------------------------------------ the badge (BDG-4, BDG-5)

    def _badge_for(self, result: Any) -> None:
        """Print the badge of a newly admitted attendee when the desk says so, else say when it was printed.

        Printing runs on the device thread, so a slow or hanging badge printer never holds up the
        next scan; a badge printed before is not printed again here (a reprint needs a reason, on
        the Badges screen).
        """
        badges, attendee_id = self.desk.services.badges, result.attendee.id
        if result.outcome == "admitted" and self.desk.printers.print_badge_on_checkin:
            if badges.output is None:
                from boxoffice.ui.badge_output import QtBadgeOutput

                printers = self.desk.printers
                badges.output = QtBadgeOutput(lambda: printers.badge_printer)

            def printed(view: Any) -> None:
                self.panel.add_line(result, view.label)

            def failed(exc: BaseException) -> None:
                from boxoffice.services.printing.badges import ReprintNeedsReason

                if isinstance(exc, ReprintNeedsReason):
                    self._show_last_badge(result)
                    return
                text = str(exc) if isinstance(exc, UserError) else "the badge printer failed"
                self.panel.add_line(result, f"Badge not printed: {text}")

            self.desk.tasks.device(lambda: badges.print_badge(attendee_id), printed, failed, owner=self)
            return
        self._show_last_badge(result)

    def _show_last_badge(self, result: Any) -> None:
        badges, attendee_id = self.desk.services.badges, result.attendee.id
        self.desk.tasks.read(lambda: badges.last_print(attendee_id),
                             lambda view: self.panel.add_line(result, view.label if view else "No badge printed yet"),
                             lambda _exc: None, owner=self)

    def _on_result_timer_timeout(self) -> None:
        if self.payment_dialog is None and self.undo_dialog is None:
            self.panel.clear()

    # ------------------------------------------------------------------ actions on the shown result

    def _on_panel_redeem_requested(self, order_line_id: int) -> None:
        shown = self.panel.result
        if shown is None or shown.attendee is None:
            return
        attendee_id, checkin = shown.attendee.id, self._checkin
        self._result_timer.start(RESULT_MS)

        def done(addons: tuple[Any, ...]) -> None:
            if self.panel.result is shown:
                self.panel.update_addons(addons)
            self.focus_scan_field()

        self.desk.tasks.write(lambda: checkin.redeem(attendee_id, order_line_id), done,
                              lambda exc: self.desk.messages.show_error(exc, near=self.message), owner=self)

    def _open_payment(self, order_id: int) -> None:
        """Not paid: take the payment on that order, then admit its attendees."""
        orders = self.desk.services.orders
        self.in_flight = True   # the queue waits until the payment is done or left
        self._result_timer.stop()

        def show(detail: Any) -> None:
            dialog = PaymentDialog(self.desk, detail.summary, self)
            dialog.paid.connect(self._on_payment_paid)
            dialog.left_pending.connect(self._on_payment_left_pending)
            self.payment_dialog = dialog
            dialog.open()

        def failed(exc: BaseException) -> None:
            self.in_flight = False
            self.desk.messages.show_error(exc, near=self.message)
            self._next()

        self.desk.tasks.read(lambda: orders.detail(order_id), show, failed, owner=self)

    def _on_payment_paid(self, payment: Any) -> None:
        self.payment_dialog = None
        order_id, checkin = payment.order.id, self._checkin
        change = payment.change_due
        extra = f"Give change: {self.desk.display.money(change)}" if change else ""

        def admitted(results: list[Any]) -> None:
            self.in_flight = False
            self.show_admitted(results, extra=extra)
            self._next()

        self.desk.tasks.write(lambda: checkin.admit_order(order_id), admitted, self._on_scan_failed, owner=self)

    def _on_payment_left_pending(self, _order: Any) -> None:
        self.payment_dialog = None
        self.in_flight = False
        self.panel.clear()
        self.focus_scan_field()
        self._next()

    def show_admitted(self, results: list[Any], *, extra: str = "") -> None:
        """The results of admitting a whole order: the first large, the others named."""
        if not results:
            self.panel.show_problem("The order has no tickets to check in.")
            return
        first = next((r for r in results if r.outcome == "admitted"), results[0])
        others = [r.attendee.name for r in results if r is not first and r.attendee is not None
                  and r.outcome == "admitted"]
        note = f"Also admitted: {', '.join(others)}" if others else ""
        self.show_result(first, extra="\n".join(t for t in (extra, note) if t))
        if len(results) > 1:
            self.admitted.emit([r for r in results if r is not first and r.outcome == "admitted"])

    def _ask_undo(self, shown: Any) -> None:
        who = shown.attendee.name if shown.attendee is not None else "this attendee"
        dialog = UndoCheckInDialog(who, self)
        self.undo_dialog = dialog
        self.in_flight = True
        self._result_timer.stop()
        check_in_id, checkin = shown.check_in_id, self._checkin

        def finished(code: int) -> None:
            self.undo_dialog = None
            if code != UndoCheckInDialog.DialogCode.Accepted:
                self.in_flight = False
                self.focus_scan_field()
                self._next()
                return
            reason = dialog.reason()
            # a volunteer is refused: the task runner asks a lead to approve, then runs it once more
            self.desk.tasks.write(lambda: checkin.undo(check_in_id, reason=reason), self._on_undone,
                                  self._on_scan_failed, owner=self)

        dialog.finished.connect(finished)
        dialog.open()

    def _on_undone(self, result: Any) -> None:
        self.in_flight = False
        self.show_result(result)
        self.refresh()
        self._next()

    # ------------------------------------------------------------------ dashboard

    def _on_dashboard_export_requested(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Who is still expected", "still-expected.csv", "CSV (*.csv)")
        if name:
            self.export_expected(Path(name))

    def export_expected(self, path: Path) -> None:
        checkin, conference_id = self._checkin, self.desk.conference_id
        self.desk.tasks.read(
            lambda: checkin.expected_csv(conference_id, path),
            lambda count: self.desk.messages.info(f"{count:,} people still expected, saved to {path}.",
                                                  near=self.dashboard.message),
            lambda exc: self.desk.messages.show_error(exc, near=self.dashboard.message), owner=self)
