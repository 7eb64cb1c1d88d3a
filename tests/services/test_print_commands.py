"""``boxoffice receipt`` and ``boxoffice badges`` run as real subprocesses; what they write is decoded and read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from boxoffice.app import AppServices, build_app
from boxoffice.db.engine import sqlite_url
from boxoffice.timeutil import FixedClock
from tests import factories
from tests.fakes.fake_printer import decode
from tests.gui.helpers import paid_cash_sale

D = Decimal


def boxoffice(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "BOXOFFICE_DATABASE_URL"}
    environment["BOXOFFICE_HOME"] = str(home)
    return subprocess.run([sys.executable, "-m", "boxoffice", *args], capture_output=True, text=True,
                          env=environment, timeout=120, check=False)


@pytest.fixture
def dbfile(tmp_path: Path) -> Path:
    return tmp_path / "desk.sqlite3"


@pytest.fixture
def services(dbfile: Path, clock: FixedClock) -> Iterator[AppServices]:
    app = build_app(sqlite_url(dbfile), clock=clock)
    yield app
    app.close()


@pytest.fixture
def conference(services: AppServices) -> tuple[int, int, int]:
    db = services.db
    conf = factories.conference(db, total_capacity=100, reference_prefix="PY", organiser="PSF Events",
                                venue="Hall B")
    regular = factories.ticket_type(db, conf.id, name="Regular", price=D("100.00"), total_quantity=80)
    student = factories.ticket_type(db, conf.id, name="Student", price=D("40.00"), total_quantity=80)
    factories.open_shift(db, services.ctx.desk_name, conference_id=conf.id)
    return conf.id, regular.id, student.id


def test_receipt_escpos_writes_the_bytes_of_the_order_with_its_totals_and_qr(services, conference, dbfile,
                                                                            tmp_path) -> None:
    conf_id, regular, student = conference
    order = paid_cash_sale(services, conf_id, name="José Ñúñez", email="jose@example.org",
                           tickets={regular: 1, student: 2})
    out = tmp_path / "receipt.bin"
    done = boxoffice("--database", str(dbfile), "receipt", order.reference, "--escpos", str(out),
                     home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    job = out.read_bytes()
    assert f"receipt {order.reference}: {len(job)} bytes written" in done.stdout
    seen = decode(job)
    assert seen.qr_payloads == [f"BOXOFFICE-ORDER:{order.reference}"]
    assert (seen.cuts, seen.drawer_pulses) == (1, 0)
    assert "PSF Events" in seen.text and "Hall B" in seen.text and "$180.00" in seen.text
    assert "2 x Student" in seen.text and "José Ñúñez" in seen.text
    lines = seen.text.splitlines()
    assert lines[lines.index("2 x Student") + 1].split() == ["2", "x", "$40.00", "$80.00"]
    assert next(line for line in lines if line.startswith("Total")).split() == ["Total", "$180.00"]
    # the same order at 58 mm with the drawer pulse
    narrow = tmp_path / "narrow.bin"
    done = boxoffice("--database", str(dbfile), "receipt", order.reference.lower(), "--escpos", str(narrow),
                     "--paper", "58", "--drawer", home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert decode(narrow.read_bytes()).drawer_pulses == 1
    assert max(len(line) for line in decode(narrow.read_bytes()).text.splitlines()) <= 32


def test_receipt_of_an_unknown_reference_says_so_and_writes_nothing(services, conference, dbfile,
                                                                    tmp_path) -> None:
    out = tmp_path / "receipt.bin"
    done = boxoffice("--database", str(dbfile), "receipt", "PY-NOTHERE1", "--escpos", str(out),
                     home=tmp_path / "home")
    assert done.returncode != 0 and not out.exists()
    assert "No order has the reference 'PY-NOTHERE1'" in done.stderr


def test_badges_writes_one_pdf_sorted_by_last_name_several_per_a4_sheet(services, conference, dbfile,
                                                                       tmp_path) -> None:
    from pypdf import PdfReader

    conf_id, regular, student = conference
    people = [("Zoë Adams", regular), ("Émile Brun", student), ("Ada Zed", regular), ("Ken Mori", student)]
    for i, (name, ticket) in enumerate(people):
        paid_cash_sale(services, conf_id, name=name, email=f"p{i}@example.org", tickets={ticket: 1})
    out = tmp_path / "badges.pdf"
    done = boxoffice("--database", str(dbfile), "badges", "--conference", "python-2077", "--out", str(out),
                     home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert f"4 badges on 4 pages written to {out}" in done.stdout
    pages = [" ".join((page.extract_text() or "").split()) for page in PdfReader(out).pages]
    assert [next(n for n, _t in people if n.split()[-1] in text) for text in pages] == [
        "Zoë Adams", "Émile Brun", "Ken Mori", "Ada Zed"]

    services.badge_templates.save_template(conf_id, None, page_preset="a4-2x4")
    sheet = tmp_path / "sheet.pdf"
    done = boxoffice("--database", str(dbfile), "badges", "--conference", "python-2077", "--ticket-type",
                     "student", "--out", str(sheet), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert "2 badges on 1 pages" in done.stdout
    [page] = PdfReader(sheet).pages
    text = " ".join((page.extract_text() or "").split())
    assert "Brun" in text and "Mori" in text and "Adams" not in text

    done = boxoffice("--database", str(dbfile), "badges", "--conference", "nope", "--out", str(tmp_path / "x.pdf"),
                     home=tmp_path / "home")
    assert done.returncode != 0 and "python-2077" in done.stderr and not (tmp_path / "x.pdf").exists()
