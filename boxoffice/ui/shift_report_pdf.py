"""The shift report as a PDF: an HTML page laid out by QTextDocument and printed with QPdfWriter."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import QMarginsF, QSizeF
from PySide6.QtGui import (
    QFont,
    QPageLayout,
    QPageSize,
    QPdfWriter,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextTable,
)

from boxoffice.ui.formatting import Display

_CSS = """
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #111; }
h1 { font-size: 17pt; margin: 0; }
h2 { font-size: 12pt; margin-top: 14px; margin-bottom: 4px; color: #1f2d3d; }
p.meta { color: #444; margin: 2px 0; }
p.interim { color: #a00000; font-weight: bold; }
table { border-collapse: collapse; }
th { background: #1f2d3d; color: #ffffff; text-align: left; padding: 3px 6px; }
td { padding: 3px 6px; border-bottom: 1px solid #cccccc; }
td.num, th.num { text-align: right; }
tr.total td { font-weight: bold; border-top: 2px solid #111; }
.short { color: #a00000; font-weight: bold; }
.over { color: #0b5d1e; font-weight: bold; }
"""


def _table(headers: list[str], rows: list[list[str]], numeric: set[int], total: list[str] | None = None,
           empty: str = "None in this shift.") -> str:
    if not rows:
        return f"<p class='meta'>{escape(empty)}</p>"
    head = "".join(f"<th class='{'num' if i in numeric else ''}'>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td class='{'num' if i in numeric else ''}'>{escape(c)}</td>" for i, c in enumerate(r))
        + "</tr>" for r in rows)
    if total is not None:
        body += "<tr class='total'>" + "".join(
            f"<td class='{'num' if i in numeric else ''}'>{escape(c)}</td>" for i, c in enumerate(total)) + "</tr>"
    return f"<table width='100%' cellspacing='0'><tr>{head}</tr>{body}</table>"


def shift_report_html(report: Any, display: Display) -> str:
    """The report as one HTML page (also what the PDF shows)."""
    s, money, when = report.shift, display.money, display.when
    title = f"Shift report — {escape(s.desk_name)}, shift #{s.id}"
    parts = [f"<html><head><style>{_CSS}</style></head><body><h1>{title}</h1>"]
    opened = f"Opened {when(s.opened_at)}" + (f" by {escape(s.opened_by)}" if s.opened_by else "")
    closed = (f"Closed {when(s.closed_at)}" + (f" by {escape(s.closed_by)}" if s.closed_by else "")
              if s.closed_at else "Still open")
    parts.append(f"<p class='meta'>{opened} · {closed}</p>")
    parts.append(f"<p class='meta'>Report made {when(report.generated_at)}</p>")
    if report.interim:
        parts.append("<p class='interim'>Interim report: the shift is still open, figures may still change.</p>")

    parts.append("<h2>Cash drawer</h2>")
    drawer = [["Starting float", money(s.opening_float)], ["Cash in", "+ " + money(s.cash_in)],
              ["Cash out", "− " + money(s.cash_out)], ["Expected cash", money(s.expected)]]
    if s.counted is not None:
        drawer.append(["Counted cash", money(s.counted)])
    table = _table(["", "Amount"], drawer, {1})
    if s.difference is not None:
        kind = "short" if s.difference < 0 else "over" if s.difference > 0 else ""
        word = "Short" if s.difference < 0 else "Over" if s.difference > 0 else "Difference"
        table = table.replace("</table>", f"<tr class='total'><td>{word}</td>"
                                          f"<td class='num'><span class='{kind}'>{money(abs(s.difference))}"
                                          "</span></td></tr></table>")
    parts.append(table)

    parts.append("<h2>Payments by method (money taken)</h2>")
    parts.append(_table(["Method", "Count", "Amount"],
                        [[m.label, str(m.count), money(m.amount)] for m in report.payments_by_method], {1, 2},
                        ["Total", str(sum(m.count for m in report.payments_by_method)), money(report.payments_total)]))
    parts.append("<h2>Sales by ticket type</h2>")
    parts.append(_table(["Item", "Units", "Comped", "Amount"],
                        [[i.name + (" (add-on)" if i.kind == "addon" else ""), str(i.units), str(i.comped),
                          money(i.amount)] for i in report.items], {1, 2, 3},
                        [f"Total ({report.orders_completed} orders)", str(sum(i.units for i in report.items)),
                         str(sum(i.comped for i in report.items)), money(report.items_total)],
                        empty="No order was completed in this shift."))
    parts.append("<h2>Payments by operator</h2>")
    parts.append(_table(["Operator", "Payments", "Amount", "Of which cash"],
                        [[o.name, str(o.payments), money(o.amount), money(o.cash)] for o in report.operators],
                        {1, 2, 3}))
    parts.append("<h2>Refunds</h2>")
    parts.append(_table(["Method", "Count", "Amount"],
                        [[r.label, str(r.count), money(r.amount)] for r in report.refunds], {1, 2},
                        ["Total", str(sum(r.count for r in report.refunds)), money(report.refunds_total)]))
    parts.append("<h2>Comps (no money taken)</h2>")
    parts.append(_table(["Order", "Reason", "Operator", "Approved by", "Amount"],
                        [[c.order_reference, c.reason, c.operator, c.approver or "—", money(c.amount)]
                         for c in report.comps], {4},
                        ["Total", "", "", "", money(report.comps_total)]))
    parts.append("<h2>Credits issued</h2>")
    parts.append(_table(["Detail", "Amount"], [[c.label, money(c.amount)] for c in report.credits], {1},
                        ["Total", money(report.credits_total)]))
    if s.note:
        parts.append(f"<h2>Note</h2><p>{escape(s.note).replace(chr(10), '<br>')}</p>")
    parts.append("</body></html>")
    return "".join(parts)


def _page_height(document: QTextDocument, writer: QPdfWriter) -> float:
    """The printable height of one page in the document's units, as ``QTextDocument.print_`` lays it out."""
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    scale = writer.logicalDpiY() / 96   # print_ lays the document out at 96 dpi on the printer's page
    document.setPageSize(QSizeF(rect.width() / scale, rect.height() / scale))
    return document.pageSize().height()


def table_pages(document: QTextDocument, page_height: float) -> list[tuple[int, int, int]]:
    """(first page, last page, heading block number) of each top-level table, as laid out now."""
    layout = document.documentLayout()
    found = []
    for frame in document.rootFrame().childFrames():
        if not isinstance(frame, QTextTable):
            continue
        box = layout.frameBoundingRect(frame)
        heading = document.findBlock(frame.firstPosition() - 1)   # the block just before: its heading
        found.append((int(box.top() // page_height), int((box.bottom() - 1) // page_height),
                      heading.blockNumber() if heading.isValid() else -1))
    return found


def keep_tables_whole(document: QTextDocument, writer: QPdfWriter) -> None:
    """Start a section on a new page when its table would be split across two (a table taller than a
    page still has to be)."""
    height = _page_height(document, writer)
    for _ in range(20):   # each pass moves one section down; the next ones move with it
        split = next(((first, block) for first, last, block in table_pages(document, height)
                      if first != last and block >= 0), None)
        if split is None:
            return
        heading = document.findBlockByNumber(split[1])
        cursor = QTextCursor(heading)
        fmt = heading.blockFormat()
        if fmt.pageBreakPolicy() & QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore:
            return   # already at the top of a page: the table is taller than a page
        fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
        cursor.setBlockFormat(fmt)


def write_shift_report_pdf(path: Path | str, report: Any, display: Display) -> Path:
    """Write the report as an A4 PDF to ``path`` (via ``<name>.part``, then replaced)."""
    target = Path(path)
    tmp = target.with_name(target.name + ".part")
    try:
        writer = QPdfWriter(str(tmp))
        writer.setTitle(f"Shift report {report.shift.desk_name} #{report.shift.id}")
        writer.setCreator("Box Office")
        writer.setResolution(300)
        writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                         QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
        document = QTextDocument()
        document.setDefaultFont(QFont("DejaVu Sans", 10))
        document.setHtml(shift_report_html(report, display))
        keep_tables_whole(document, writer)
        document.print_(writer)
        del writer  # the file is finished when the writer goes away
        if not tmp.exists() or tmp.stat().st_size == 0:
            raise OSError(f"the PDF writer could not write {tmp}")
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target
