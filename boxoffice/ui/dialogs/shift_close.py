"""Close the cash drawer shift: count the cash (optionally by denomination), see expected vs counted.

Three steps in one dialog: count (the difference updates as you type), confirm, and then save
the shift report as PDF or CSV. ``ask_save_path`` is the file chooser; tests replace it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from boxoffice.money import ZERO, parse_amount
from boxoffice.ui.desk import Desk
from boxoffice.ui.dialogs.shift_open import shift_notifier
from boxoffice.ui.widgets.inline_message import InlineMessage

DENOMINATIONS = {
    "USD": ("100", "50", "20", "10", "5", "2", "1", "0.25", "0.10", "0.05", "0.01"),
    "EUR": ("200", "100", "50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01"),
    "GBP": ("50", "20", "10", "5", "2", "1", "0.50", "0.20", "0.10", "0.05", "0.02", "0.01"),
}
DEFAULT_DENOMINATIONS = ("100", "50", "20", "10", "5", "1", "0.50", "0.25", "0.10", "0.05", "0.01")
DIFFERENCE_STYLE = {"over": "color: #0b5d1e;", "short": "color: #a00000;", "exact": "color: #111111;"}


def default_ask_save_path(parent: QWidget, title: str, suggested: str, pattern: str) -> Path | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, str(Path.home() / suggested), pattern)
    return Path(path) if path else None


def difference_text(difference: Decimal, money: Callable[[Decimal], str]) -> tuple[str, str]:
    """("Short $4.50", "short"), ("Over $1.00", "over") or ("Exact: no difference", "exact")."""
    if difference < 0:
        return f"Short {money(-difference)}", "short"
    if difference > 0:
        return f"Over {money(difference)}", "over"
    return "Exact: no difference", "exact"


def _big(widget: QWidget, factor: float) -> None:
    font = widget.font()
    font.setPointSizeF(font.pointSizeF() * factor)
    font.setBold(True)
    widget.setFont(font)


def report_file_name(shift: Any, extension: str) -> str:
    desk = "".join(ch if ch.isalnum() else "-" for ch in shift.desk_name).strip("-").lower() or "desk"
    return f"shift-{shift.id}-{desk}-{shift.opened_at:%Y%m%d}.{extension}"


def save_report(desk: Desk, parent: QWidget, shift: Any, kind: str,
                ask: Callable[[QWidget, str, str, str], Path | None],
                done: Callable[[Path], None], failed: Callable[[BaseException], None]) -> bool:
    """Ask where, then write shift ``shift``'s report as ``kind`` ("pdf" or "csv"); False if cancelled."""
    title, pattern = ("Save shift report (PDF)", "PDF files (*.pdf)") if kind == "pdf" else \
        ("Save shift report (CSV)", "CSV files (*.csv)")
    path = ask(parent, title, report_file_name(shift, kind), pattern)
    if path is None:
        return False
    if path.suffix.lower() != f".{kind}":
        path = path.with_name(path.name + f".{kind}")
    shifts, shift_id = desk.services.shifts, shift.id
    if kind == "csv":
        desk.tasks.read(lambda: shifts.report_csv(shift_id, path), lambda _rows: done(path), failed, owner=parent)
        return True

    def write_pdf(report: Any) -> None:
        from boxoffice.ui.shift_report_pdf import write_shift_report_pdf

        try:
            write_shift_report_pdf(path, report, desk.display)
        except OSError as exc:
            failed(OSError(f"The report could not be saved to {path}: {exc.strerror or exc}. "
                           "Choose another folder."))
            return
        done(path)

    desk.tasks.read(lambda: shifts.report(shift_id), write_pdf, failed, owner=parent)
    return True


class ShiftCloseDialog(QDialog):
    """Signals: ``closed(ShiftView)`` once the shift is closed; ``report_saved(Path)`` per saved file."""

    closed = Signal(object)
    report_saved = Signal(object)
    ask_save_path: ClassVar[Callable[[QWidget, str, str, str], Path | None]] = staticmethod(default_ask_save_path)

    def __init__(self, desk: Desk, shift: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk, self.shift = desk, shift
        self.result_shift: Any = None
        self._typed = ""
        money = desk.display.money
        self.setWindowTitle(f"Close cash shift #{shift.id}")
        self.setModal(True)
        self.setMinimumWidth(620)
        layout = QVBoxLayout(self)
        title = QLabel(f"Close the cash drawer at {shift.desk_name} (shift #{shift.id})")
        title.setObjectName("sectionTitle")
        layout.addWidget(title)
        opened = QLabel(f"Open since {desk.display.when(shift.opened_at)}"
                        + (f" by {shift.opened_by}" if shift.opened_by else ""))
        opened.setObjectName("muted")
        layout.addWidget(opened)

        figures = QFrame()
        figures.setObjectName("panel")
        grid = QGridLayout(figures)
        rows = (("Starting float", money(shift.opening_float)),
                (f"Cash in ({shift.cash_payments} payment{'s' if shift.cash_payments != 1 else ''})",
                 "+ " + money(shift.cash_in)),
                (f"Cash out ({shift.cash_refunds} refund{'s' if shift.cash_refunds != 1 else ''})",
                 "− " + money(shift.cash_out)))
        for row, (caption, value) in enumerate(rows):
            grid.addWidget(QLabel(caption), row, 0)
            label = QLabel(value)
            label.setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(label, row, 1)
        grid.addWidget(QLabel("Expected in the drawer"), 3, 0)
        self.expected = QLabel(money(shift.expected))
        self.expected.setObjectName("bigAmount")
        self.expected.setAlignment(Qt.AlignmentFlag.AlignRight)
        _big(self.expected, 1.5)
        grid.addWidget(self.expected, 3, 1)
        layout.addWidget(figures)

        self.steps = QStackedWidget()
        self.steps.setObjectName("shiftSteps")
        # The steps are transparent: the dialog's background shows through, as around the figures.
        self.setStyleSheet("QStackedWidget#shiftSteps, QWidget#shiftStep { background: transparent; }")
        for page in (self._count_page(), self._confirm_page(), self._done_page()):
            page.setObjectName("shiftStep")
            self.steps.addWidget(page)
        self.steps.currentChanged.connect(self._on_step_changed)
        layout.addWidget(self.steps, 1)
        self.message = InlineMessage()
        layout.addWidget(self.message)
        self._update_difference()
        self._on_step_changed(0)
        self.counted.setFocus()

    # ------------------------------------------------------------------ pages

    def _count_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        form = QFormLayout()
        self.counted = QLineEdit()
        self.counted.setPlaceholderText("Cash counted in the drawer")
        self.counted.setAccessibleName("Counted cash")
        _big(self.counted, 1.6)
        self.count_toggle = QPushButton("Count by denomination")
        self.count_toggle.setCheckable(True)
        self.count_toggle.setAutoDefault(False)
        row = QHBoxLayout()
        row.addWidget(self.counted, 1)
        row.addWidget(self.count_toggle)
        caption = QLabel("&Counted cash")
        caption.setBuddy(self.counted)
        form.addRow(caption, row)
        layout.addLayout(form)

        self.denominations = QFrame()
        self.denominations.setObjectName("panel")
        grid = QGridLayout(self.denominations)
        self.count_boxes: dict[Decimal, QSpinBox] = {}
        values = DENOMINATIONS.get(self.desk.display.currency.upper(), DEFAULT_DENOMINATIONS)
        per_column = (len(values) + 1) // 2
        for index, text in enumerate(values):
            value = Decimal(text)
            box = QSpinBox()
            box.setRange(0, 9999)
            box.setMinimumWidth(110)
            box.setAccessibleName(f"Number of {self.desk.display.money(value)}")
            box.valueChanged.connect(self._on_denomination_changed)
            column = (index // per_column) * 2
            caption = QLabel(f"{self.desk.display.money(value)} ×")
            caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(caption, index % per_column, column)
            grid.addWidget(box, index % per_column, column + 1)
            self.count_boxes[value] = box
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.denominations.setVisible(False)
        layout.addWidget(self.denominations)

        self.difference = QLabel()
        self.difference.setObjectName("shiftDifference")
        self.difference.setAlignment(Qt.AlignmentFlag.AlignCenter)
        _big(self.difference, 1.8)
        layout.addWidget(self.difference)
        note_form = QFormLayout()
        self.note = QLineEdit()
        self.note.setPlaceholderText("Optional, e.g. why the drawer is short")
        note_form.addRow("&Note", self.note)
        layout.addLayout(note_form)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        cancel = QPushButton("Keep the shift open")
        cancel.setAutoDefault(False)
        self.close_button = QPushButton("Close shift…")
        self.close_button.setProperty("role", "primary")
        self.close_button.setAutoDefault(False)
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        cancel.clicked.connect(self.reject)
        self.close_button.clicked.connect(self.review)
        self.counted.textChanged.connect(lambda _t: self._update_difference())
        self.counted.returnPressed.connect(self.review)
        self.count_toggle.toggled.connect(self._on_count_toggled)
        return page

    def _confirm_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        self.confirm_text = QLabel()
        self.confirm_text.setWordWrap(True)
        _big(self.confirm_text, 1.15)
        layout.addWidget(self.confirm_text)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        back = QPushButton("Back to counting")
        back.setAutoDefault(False)
        self.confirm = QPushButton("Yes, close the shift")
        self.confirm.setProperty("role", "primary")
        self.confirm.setAutoDefault(False)
        buttons.addStretch(1)
        buttons.addWidget(back)
        buttons.addWidget(self.confirm)
        layout.addLayout(buttons)
        back.clicked.connect(self._back_to_counting)
        self.confirm.clicked.connect(self.submit)
        return page

    def _back_to_counting(self) -> None:
        self.steps.setCurrentIndex(0)
        self.counted.setFocus()

    def _done_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 8, 0, 0)
        self.done_text = QLabel()
        self.done_text.setWordWrap(True)
        _big(self.done_text, 1.15)
        layout.addWidget(self.done_text)
        hint = QLabel("Save the shift report to hand in with the cash bag.")
        hint.setObjectName("muted")
        layout.addWidget(hint)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.save_pdf = QPushButton("Save report PDF…")
        self.save_csv = QPushButton("Save report CSV…")
        self.finish = QPushButton("Done")
        self.finish.setProperty("role", "primary")
        for button in (self.save_pdf, self.save_csv, self.finish):
            button.setAutoDefault(False)
        buttons.addWidget(self.save_pdf)
        buttons.addWidget(self.save_csv)
        buttons.addStretch(1)
        buttons.addWidget(self.finish)
        layout.addLayout(buttons)
        self.save_pdf.clicked.connect(lambda: self.save_report("pdf"))
        self.save_csv.clicked.connect(lambda: self.save_report("csv"))
        self.finish.clicked.connect(self.accept)
        return page

    # ------------------------------------------------------------------ actions

    def counted_amount(self) -> Decimal | None:
        try:
            return parse_amount(self.counted.text())
        except ValueError:
            return None

    def review(self) -> None:
        """Step 2: check the count and ask for confirmation."""
        if not self.counted.text().strip():
            self._fail("Count the cash in the drawer and type the total (or count by denomination).")
            return
        try:
            counted = parse_amount(self.counted.text())
        except ValueError as exc:
            self._fail(str(exc))
            return
        money = self.desk.display.money
        text, _kind = difference_text(counted - self.shift.expected, money)
        self.message.clear_message()
        self.confirm_text.setText(
            f"Close shift #{self.shift.id} with {money(counted)} counted against {money(self.shift.expected)} "
            f"expected ({text.lower() if _kind != 'exact' else 'no difference'})?\n\n"
            f"No cash can be taken at {self.shift.desk_name} until a new shift is opened. "
            "A closed shift cannot be reopened.")
        self.steps.setCurrentIndex(1)
        self.confirm.setFocus()

    def submit(self) -> None:
        counted = self.counted_amount()
        if counted is None:
            self.steps.setCurrentIndex(0)
            return
        shifts, shift_id, note = self.desk.services.shifts, self.shift.id, self.note.text().strip()
        self.confirm.setEnabled(False)
        self.desk.tasks.write(lambda: shifts.close(shift_id, counted, note=note), self._on_closed,
                              self._on_close_failed, owner=self)

    def save_report(self, kind: str) -> None:
        shift = self.result_shift or self.shift
        save_report(self.desk, self, shift, kind, type(self).ask_save_path, self._on_saved,
                    lambda exc: self.desk.messages.show_error(exc, near=self.message))

    # ------------------------------------------------------------------ results

    def _on_closed(self, shift: Any) -> None:
        self.result_shift = shift
        money = self.desk.display.money
        text, _kind = difference_text(shift.difference if shift.difference is not None else ZERO, money)
        self.done_text.setText(f"Shift #{shift.id} is closed. Expected {money(shift.expected)}, counted "
                               f"{money(shift.counted)}: {text.lower() if _kind != 'exact' else 'no difference'}.")
        self.steps.setCurrentIndex(2)
        self.message.clear_message()
        self.closed.emit(shift)
        shift_notifier().changed.emit(None)
        self.finish.setFocus()

    def _on_close_failed(self, exc: BaseException) -> None:
        self.confirm.setEnabled(True)
        self.steps.setCurrentIndex(0)
        self.desk.messages.show_error(exc, near=self.message)

    def _on_saved(self, path: Path) -> None:
        self.desk.messages.info(f"Report saved to {path}.", near=self.message)
        self.report_saved.emit(path)

    def _fail(self, text: str) -> None:
        self.desk.messages.error_text(text, near=self.message)
        self.counted.setFocus()
        self.counted.selectAll()

    def _on_step_changed(self, index: int) -> None:
        # Size the dialog to the step shown, not to the tallest step (the denomination count).
        for i in range(self.steps.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            step = self.steps.widget(i)
            if step is not None:
                step.setSizePolicy(policy, policy)
        self.steps.updateGeometry()
        QTimer.singleShot(0, self._fit)

    def _fit(self) -> None:
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        height = self.sizeHint().height()
        if layout.hasHeightForWidth():   # wrapped text (the confirmation) needs its wrapped height
            height = max(height, layout.totalHeightForWidth(self.width()))
        self.resize(self.width(), height + 12)
        self.center_on_window()

    def center_on_window(self) -> None:
        """Stand over the middle of the desk's window (without a window manager Qt leaves a dialog
        at the screen's corner), kept on the screen."""
        parent = self.parentWidget()
        if parent is None:
            return
        window = parent.window()
        spot = window.frameGeometry().center() - self.rect().center()
        screen = window.screen()
        if screen is not None:
            room = screen.availableGeometry()
            spot.setX(max(room.left(), min(spot.x(), room.right() - self.width())))
            spot.setY(max(room.top(), min(spot.y(), room.bottom() - self.height())))
        self.move(spot)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.center_on_window()

    def _on_count_toggled(self, on: bool) -> None:
        self.denominations.setVisible(on)
        self.counted.setReadOnly(on)
        if on:
            self._typed = self.counted.text()   # kept until a note or coin is counted, and given back
            self._on_denomination_changed()
            next(iter(self.count_boxes.values())).setFocus()
        QTimer.singleShot(0, self._fit)

    def _on_denomination_changed(self, _value: int = 0) -> None:
        if not self.count_toggle.isChecked():
            return
        if not any(box.value() for box in self.count_boxes.values()):
            # Nothing counted yet: the typed total stands (not "0.00", which read as short by all of it).
            self.counted.setText(self._typed)
            return
        total = sum((value * box.value() for value, box in self.count_boxes.items()), ZERO)
        self.counted.setText(f"{total:.2f}")

    def _update_difference(self) -> None:
        counted = self.counted_amount()
        if counted is None:
            self.difference.setText("Type the counted cash to see the difference")
            self.difference.setStyleSheet("color: #444444; font-weight: normal;")
            return
        text, kind = difference_text(counted - self.shift.expected, self.desk.display.money)
        self.difference.setProperty("kind", kind)
        self.difference.setStyleSheet(DIFFERENCE_STYLE[kind])
        self.difference.setText(text)
