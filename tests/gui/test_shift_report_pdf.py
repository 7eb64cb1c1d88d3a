"""The shift report PDF keeps each table on one page when it fits on one."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

from boxoffice.ui.shift_report_pdf import _page_height, keep_tables_whole, table_pages


def _writer(path: Path) -> QPdfWriter:
    writer = QPdfWriter(str(path))
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    return writer


def _html(filler_rows: int, table_rows: int) -> str:
    filler = "".join(f"<p>Line {i}</p>" for i in range(filler_rows))
    rows = "".join(f"<tr><td>PY-{i:04d}</td><td>Speaker</td><td>$100.00</td></tr>" for i in range(table_rows))
    return f"<html><body>{filler}<h2>Comps</h2><table width='100%'>{rows}</table><p>end</p></body></html>"


def test_a_table_that_would_straddle_two_pages_starts_on_the_next(qtbot, tmp_path) -> None:
    writer = _writer(tmp_path / "a.pdf")
    document = QTextDocument()
    document.setHtml(_html(filler_rows=30, table_rows=20))
    height = _page_height(document, writer)
    [(first, last, _heading)] = table_pages(document, height)
    assert first != last                                  # as laid out by itself: split over two pages
    keep_tables_whole(document, writer)
    [(first, last, _heading)] = table_pages(document, height)
    assert first == last == 1                             # the whole table on page 2, its heading with it
    document.print_(writer)
    del writer
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")


def test_a_table_taller_than_a_page_is_left_to_run_on(qtbot, tmp_path) -> None:
    writer = _writer(tmp_path / "b.pdf")
    document = QTextDocument()
    document.setHtml(_html(filler_rows=5, table_rows=200))
    keep_tables_whole(document, writer)                   # must not loop or push it forever
    [(first, last, _heading)] = table_pages(document, _page_height(document, writer))
    assert last > first
