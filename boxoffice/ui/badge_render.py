"""Badges drawn with Qt (BDG-1..3): the bundled fonts, names that fit, the QR code, preview, PDF and sheets.

``paint_badge`` draws one badge into a rectangle of any paint device (printer, PDF, image), so the
preview, the PDF and the printed badge are the same drawing. Names shrink to fit or go on two lines
and are never clipped (``fit_name``). The fonts in ``resources/fonts`` are registered once
(``ensure_fonts``), so a badge looks the same on every laptop; ``missing_scripts`` names the
scripts of a text that none of them covers, for the preview's warning.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPaintDevice,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QRawFont,
)

from boxoffice import paths
from boxoffice.services.printing.badge_templates import TemplateView
from boxoffice.services.printing.badges import BadgeView

FALLBACK_FAMILIES = ("Noto Sans", "Noto Sans Arabic", "Noto Sans Hebrew", "Droid Sans Fallback")
MIN_NAME_PT = 5.0
PDF_DPI = 300
_lock = threading.Lock()
_raw_fonts: list[QRawFont] = []
_registered = False


def fonts_dir() -> Path:
    return paths.resources_dir() / "fonts"


def ensure_fonts() -> tuple[str, ...]:
    """Register the bundled fonts with Qt once (needs a QGuiApplication); returns the fallback families."""
    global _registered
    with _lock:
        if not _registered:
            if QGuiApplication.instance() is None:
                raise RuntimeError("badges are drawn with Qt: make a QGuiApplication first")
            for path in sorted(fonts_dir().glob("*.ttf")):
                QFontDatabase.addApplicationFont(str(path))
                raw = QRawFont(str(path), 12)
                if raw.isValid():
                    _raw_fonts.append(raw)
            _registered = True
    return FALLBACK_FAMILIES


def missing_scripts(text: str) -> list[str]:
    """The scripts of ``text`` no bundled font has glyphs for ("Devanagari"), for the preview's warning."""
    ensure_fonts()
    missing: dict[str, None] = {}
    for char in text:
        if char.isspace() or unicodedata.category(char).startswith(("C", "Z", "M")):
            continue
        if not any(raw.supportsCharacter(ord(char)) for raw in _raw_fonts):
            name = unicodedata.name(char, "UNKNOWN CHARACTER").split()
            script = name[0].capitalize() if name else "Unknown"
            missing["CJK" if script == "Cjk" else script] = None
    return list(missing)


def badge_font(template: TemplateView, point_size: float, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setFamilies([template.font_family, *[f for f in FALLBACK_FAMILIES if f != template.font_family]])
    font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


@dataclass(frozen=True)
class FittedName:
    font: QFont
    lines: tuple[str, ...]


def _two_lines(text: str, metrics: QFontMetricsF) -> tuple[str, str] | None:
    """The split into two lines whose longer line is shortest: at a space, else between characters."""
    words = text.split()
    if len(words) > 1:
        cuts = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
    elif len(text) > 1:
        cuts = [(text[:i], text[i:]) for i in range(1, len(text))]
    else:
        return None
    return min(cuts, key=lambda pair: max(metrics.horizontalAdvance(pair[0]), metrics.horizontalAdvance(pair[1])))


def fit_name(name: str, template: TemplateView, width: float, height: float, device: QPaintDevice) -> FittedName:
    """The largest size at which ``name`` fits ``width`` x ``height`` on one line (preferred while at
    least 80 % of the template's size) or on two; never clipped, however long the name."""
    top = float(template.name_size_pt)
    size = top
    while True:
        font = badge_font(template, size, bold=True)
        metrics = QFontMetricsF(font, device)
        if metrics.horizontalAdvance(name) <= width and metrics.height() <= height:
            return FittedName(font, (name,))
        if size < top * 0.8 or size <= MIN_NAME_PT:
            pair = _two_lines(name, metrics)
            if pair is not None and max(metrics.horizontalAdvance(p) for p in pair) <= width \
                    and metrics.lineSpacing() + metrics.height() <= height:
                return FittedName(font, pair)
        if size <= 1.0:
            return FittedName(font, (name,))
        size = size - 1.0 if size > MIN_NAME_PT + 1 else size * 0.9


def _color(text: str, fallback: str = "#000000") -> QColor:
    color = QColor(text)
    return color if color.isValid() else QColor(fallback)


def paint_qr(painter: QPainter, payload: str, rect: QRectF) -> None:
    """The QR code as vector squares (crisp on any printer), black on white with a quiet zone."""
    qr = segno.make(payload, error="m")
    matrix = qr.matrix
    modules = len(matrix) + 2
    cell = min(rect.width(), rect.height()) / modules
    origin = QPointF(rect.x() + cell, rect.y() + cell)
    painter.fillRect(QRectF(rect.topLeft(), QSizeF(cell * modules, cell * modules)), QColor("#ffffff"))
    path = QPainterPath()
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                path.addRect(QRectF(origin.x() + x * cell, origin.y() + y * cell, cell * 1.02, cell * 1.02))
    painter.fillPath(path, QColor("#000000"))


def paint_badge(painter: QPainter, rect: QRectF, badge: BadgeView, dots_per_mm: float) -> None:
    """Draw one badge into ``rect`` (device units; ``dots_per_mm`` converts the template's millimetres)."""
    t = badge.template
    mm = dots_per_mm
    painter.save()
    painter.setClipRect(rect)
    painter.fillRect(rect, _color(t.background_color, "#ffffff"))
    margin = 3 * mm
    inner = rect.adjusted(margin, margin, -margin, -margin)
    header_h = rect.height() * 0.17 if (t.shows("conference") or t.shows("logo")) else 0.0
    banner_h = rect.height() * 0.18 if t.shows("ticket_type") else 0.0
    text_color = _color(t.text_color, "#1a1a1a")
    device = painter.device()
    if header_h:
        header = QRectF(inner.x(), inner.y(), inner.width(), header_h - margin / 2)
        x = header.x()
        if t.shows("logo") and t.logo_png:
            logo = QImage.fromData(t.logo_png)
            if not logo.isNull():
                scale = header.height() / max(1, logo.height())
                width = min(logo.width() * scale, header.width() * 0.4)
                painter.drawImage(QRectF(x, header.y(), width, header.height()), logo)
                x += width + 2 * mm
        if t.shows("conference") and badge.conference:
            font = badge_font(t, t.text_size_pt, bold=True)
            painter.setFont(font)
            painter.setPen(text_color)
            text = QFontMetricsF(font, device).elidedText(badge.conference, Qt.TextElideMode.ElideRight,
                                                          header.right() - x)
            painter.drawText(QRectF(x, header.y(), header.right() - x, header.height()),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), text)
    body = QRectF(inner.x(), rect.y() + max(header_h, margin), inner.width(),
                  rect.height() - max(header_h, margin) - max(banner_h, margin))
    if t.shows("qr") and badge.qr_payload:
        side = min(body.height() * 0.95, body.width() * 0.32)
        paint_qr(painter, badge.qr_payload, QRectF(body.right() - side, body.center().y() - side / 2, side, side))
        body.setRight(body.right() - side - 2 * mm)
    company = badge.company if t.shows("company") else ""
    small = badge_font(t, t.text_size_pt)
    small_h = QFontMetricsF(small, device).height() if company else 0.0
    name = badge.name or badge.ticket_type   # BDG-2: a missing name prints the ticket type only
    fitted = fit_name(name, t, body.width(), body.height() - small_h, device)
    metrics = QFontMetricsF(fitted.font, device)
    block = metrics.lineSpacing() * (len(fitted.lines) - 1) + metrics.height() + small_h
    y = body.y() + (body.height() - block) / 2
    painter.setPen(text_color)
    painter.setFont(fitted.font)
    for line in fitted.lines:
        painter.drawText(QRectF(body.x(), y, body.width(), metrics.height()),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), line)
        y += metrics.lineSpacing()
    if company:
        painter.setFont(small)
        y += metrics.height() - metrics.lineSpacing()
        text = QFontMetricsF(small, device).elidedText(company, Qt.TextElideMode.ElideRight, body.width())
        painter.drawText(QRectF(body.x(), y, body.width(), small_h),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), text)
    if banner_h:
        banner = QRectF(rect.x(), rect.bottom() - banner_h, rect.width(), banner_h)
        painter.fillRect(banner, _color(badge.banner_color, "#1f4e79"))
        font = badge_font(t, max(t.text_size_pt, banner_h / mm * 1.2), bold=True)
        while QFontMetricsF(font, device).height() > banner_h * 0.9 and font.pointSizeF() > 4:
            font.setPointSizeF(font.pointSizeF() - 1)
        painter.setFont(font)
        painter.setPen(_color(t.banner_text_color, "#ffffff"))
        painter.drawText(banner, int(Qt.AlignmentFlag.AlignCenter), badge.ticket_type.upper())
    painter.restore()


def badge_image(badge: BadgeView, dots_per_mm: float = 8.0) -> QImage:
    """The badge as an image (the editor's live preview; 8 dots a mm is about 200 dpi)."""
    ensure_fonts()
    t = badge.template
    image = QImage(max(1, round(t.badge_width_mm * dots_per_mm)), max(1, round(t.badge_height_mm * dots_per_mm)),
                   QImage.Format.Format_RGB32)
    dpm = round(dots_per_mm * 1000)
    image.setDotsPerMeterX(dpm)
    image.setDotsPerMeterY(dpm)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        paint_badge(painter, QRectF(0, 0, image.width(), image.height()), badge, dots_per_mm)
    finally:
        painter.end()
    return image


def _page_layout(t: TemplateView) -> QPageLayout:
    size = QPageSize(QSizeF(t.page_width_mm, t.page_height_mm), QPageSize.Unit.Millimeter, "badge",
                     QPageSize.SizeMatchPolicy.ExactMatch)
    orientation = QPageLayout.Orientation.Portrait
    return QPageLayout(size, orientation, QMarginsF(0, 0, 0, 0), QPageLayout.Unit.Millimeter)


def paint_badges(device: QPagedPaintDevice, badges: Sequence[BadgeView], dpi: float) -> int:
    """Draw ``badges`` on ``device``, as many on a page as each template's sheet holds; returns pages."""
    ensure_fonts()
    if not badges:
        return 0
    mm = dpi / 25.4
    layout_key: tuple[int, int, int, int] | None = None
    slot = pages = 0
    painter: QPainter | None = None
    try:
        for badge in badges:
            t = badge.template
            key = (t.page_width_mm, t.page_height_mm, t.columns, t.rows)
            if painter is None or key != layout_key or slot == t.per_sheet:
                if painter is None:
                    device.setPageLayout(_page_layout(t))
                    painter = QPainter(device)
                    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                else:
                    if key != layout_key:
                        device.setPageLayout(_page_layout(t))
                    device.newPage()
                layout_key, slot, pages = key, 0, pages + 1
            column, row = slot % t.columns, slot // t.columns
            cell = QRectF(column * t.badge_width_mm * mm, row * t.badge_height_mm * mm,
                          t.badge_width_mm * mm, t.badge_height_mm * mm)
            paint_badge(painter, cell, badge, mm)
            slot += 1
    finally:
        if painter is not None:
            painter.end()
    return pages


def write_badges_pdf(path: Path, badges: Iterable[BadgeView], *, title: str = "Badges") -> int:
    """Badges to a PDF file (one, or a whole conference for pre-printing); returns the page count."""
    items = list(badges)
    writer = QPdfWriter(str(path))
    writer.setTitle(title)
    writer.setCreator("Box Office")
    writer.setResolution(PDF_DPI)
    pages = paint_badges(writer, items, PDF_DPI)
    if not pages:   # an empty PDF still says why it is empty
        painter = QPainter(writer)
        painter.drawText(QRectF(0, 0, writer.width(), writer.height()), int(Qt.AlignmentFlag.AlignCenter),
                         "No attendees to print badges for.")
        painter.end()
        pages = 1
    del writer   # finishes the file
    return pages
