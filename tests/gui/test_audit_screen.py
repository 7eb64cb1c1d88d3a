"""The Audit log screen on real services: filters, conference time, lazy pages, CSV export, refusal."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from boxoffice.services.staff import audit
from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.timeutil import UTC
from boxoffice.ui.desk import Desk
from boxoffice.ui.screens.audit import screen as audit_module
from boxoffice.ui.screens.audit.model import PAGE_SIZE, AuditModel, Column
from boxoffice.ui.screens.audit.screen import AuditScreen
from tests.gui.conftest import Catalogue

LEAD = Actor(staff_id=None, name="Lena Lead", role=Role.LEAD)
T0 = datetime(2027, 5, 1, 3, 30, tzinfo=UTC)   # 23:30 on 30 April in New York


@pytest.fixture
def screen(qtbot: Any, desk: Desk) -> AuditScreen:
    widget = AuditScreen(desk)
    qtbot.addWidget(widget)
    widget.resize(1300, 700)
    widget.show()
    return widget


def _log(desk: Desk, action: str, label: str, actor: Actor, at: datetime, **kw: Any) -> None:
    ctx = desk.services.ctx
    with ctx.db.write() as session:
        audit.record(session, ctx, action, target_type="order", target_label=label, actor=actor, at=at, **kw)


def _rows(screen: AuditScreen) -> list[Any]:
    return [screen.model.row_of(r) for r in range(screen.model.rowCount())]


def test_filters_and_export(qtbot: Any, screen: AuditScreen, desk: Desk, catalogue: Catalogue,
                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk.services.catalog_admin.update_ticket_type(catalogue.regular, price=Decimal("110.00"))  # test admin, now
    _log(desk, audit.REFUND, "PY-REFUND01", LEAD, T0, amount_before=Decimal("100.00"), amount_after=Decimal("60.00"))
    _log(desk, audit.CANCEL_ORDER, "PY-CANCEL01", LEAD, T0 + timedelta(hours=1))
    screen.refresh()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 3, timeout=5000)
    first = screen.model.row_of(0)
    assert first.action == "price_change"                       # newest first
    assert screen.model.index(0, Column.TIME).data() == "2027-05-01 08:00"   # 12:00 UTC in New York
    assert screen.model.index(0, Column.BEFORE).data() == "$100.00"
    assert "3 entries" in screen.count_label.text()

    screen.action.setCurrentIndex(screen.action.findText("Refund"))
    qtbot.waitUntil(lambda: [e.target_label for e in _rows(screen)] == ["PY-REFUND01"], timeout=5000)
    screen.action.setCurrentIndex(0)
    screen.operator.setText("lena")
    qtbot.waitUntil(lambda: len(_rows(screen)) == 2, timeout=5000)
    screen.text.setText("cancel01")
    qtbot.waitUntil(lambda: [e.target_label for e in _rows(screen)] == ["PY-CANCEL01"], timeout=5000)
    # Whole days in the conference's zone: the refund at 23:30 on 30 April (New York) is not in 1 May.
    with qtbot.waitSignal(screen.model.loaded, timeout=5000):
        screen.text.clear()
        screen.date_from.set_value(date(2027, 5, 1))
    assert [e.target_label for e in _rows(screen)] == ["PY-CANCEL01"]
    with qtbot.waitSignal(screen.model.loaded, timeout=5000):
        screen.date_from.set_value(date(2027, 4, 30))
    assert [e.target_label for e in _rows(screen)] == ["PY-CANCEL01", "PY-REFUND01"]
    with qtbot.waitSignal(screen.model.loaded, timeout=5000):
        screen.date_to.set_value(date(2027, 4, 30))
    assert [e.target_label for e in _rows(screen)] == ["PY-REFUND01"]

    target = tmp_path / "audit.csv"
    monkeypatch.setattr(audit_module, "ask_csv_path", lambda *_a: str(target))
    screen.export_button.click()
    qtbot.waitUntil(lambda: "1 audit entries written" in screen.notice.text(), timeout=5000)
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert [(r[3], r[6], r[9], r[10]) for r in rows[1:]] == [("Lena Lead", "refund", "PY-REFUND01", "100.00")]


def test_large_log_loads_page_by_page(qtbot: Any, screen: AuditScreen, desk: Desk) -> None:
    ctx = desk.services.ctx
    with ctx.db.write() as session:
        for i in range(PAGE_SIZE * 2 + 50):
            audit.record(session, ctx, audit.COMP, target_label=f"PY-{i:06d}", actor=LEAD,
                         at=T0 + timedelta(minutes=i))
    screen.refresh()
    qtbot.waitUntil(lambda: screen.model.rowCount() == PAGE_SIZE, timeout=5000)
    assert screen.model.total == PAGE_SIZE * 2 + 50 and screen.model.canFetchMore()
    assert screen.model.row_of(0).target_label == f"PY-{PAGE_SIZE * 2 + 49:06d}"
    for wanted in (PAGE_SIZE * 2, PAGE_SIZE * 2 + 50):
        screen.model.fetchMore()
        qtbot.waitUntil(lambda w=wanted: screen.model.rowCount() == w, timeout=5000)
    assert not screen.model.canFetchMore()
    labels = [e.target_label for e in _rows(screen)]
    assert len(set(labels)) == len(labels) and labels[-1] == "PY-000000"


def test_a_volunteer_is_told_who_may_read_it(qtbot: Any, screen: AuditScreen) -> None:
    with acting_as(Actor(staff_id=None, name="Val", role=Role.VOLUNTEER)):
        screen.refresh()
    qtbot.waitUntil(lambda: "The audit log needs a lead" in screen.notice.text(), timeout=5000)
    assert screen.model.rowCount() == 0 and not screen.export_button.isEnabled()
    with acting_as(LEAD):
        screen.refresh()
    qtbot.waitUntil(lambda: screen.export_button.isEnabled(), timeout=5000)
    assert not screen.notice.text()


def test_audit_model(qtmodeltester: Any, qtbot: Any, desk: Desk) -> None:
    _log(desk, audit.VOUCHER_CHANGE, "SPRING", LEAD, T0, detail={"max_uses": {"before": 10, "after": 20}})
    model = AuditModel(desk.services.audit, desk.tasks, desk.display)
    with qtbot.waitSignal(model.loaded, timeout=5000):
        model.refresh()
    qtmodeltester.check(model)
    assert model.index(0, Column.DETAIL).data() == "max uses: 10 → 20"


def test_the_approvers_name_is_shown_in_full(qtbot: Any, screen: AuditScreen, desk: Desk) -> None:
    from boxoffice.ui.screens.audit.model import Column

    volunteer = Actor(None, "Valentina Volunteer-Smith", Role.VOLUNTEER)
    approved = volunteer.approved_by(Actor(None, "Leonora Lead-Johnson", Role.LEAD))
    _log(desk, audit.COMP, "PY-1", approved, datetime(2027, 5, 1, 12, tzinfo=UTC))
    screen.refresh()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1)
    text = screen.model.index(0, Column.OPERATOR).data()
    assert text == "Valentina Volunteer-Smith (approved by Leonora Lead-Johnson)"
    needed = screen.table.fontMetrics().horizontalAdvance(text)
    qtbot.waitUntil(lambda: screen.table.columnWidth(Column.OPERATOR) > needed)
