"""Badges through the real widgets: the template editor changes the rendered badge; the reprint guard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialogButtonBox

from boxoffice.services.printing.badges import BadgeView
from boxoffice.services.staff.access import Actor, Role, set_operator
from boxoffice.ui.screens.badges.screen import BadgeTemplateScreen
from tests.gui.helpers import paid_cash_sale


class RecordingOutput:
    """A badge printer that keeps what it was sent (drawing the badge for real, to an image)."""

    def __init__(self) -> None:
        self.badges: list[BadgeView] = []

    def print_badge(self, badge: BadgeView, printer: str) -> str:
        from boxoffice.ui.badge_render import badge_image

        assert not badge_image(badge).isNull()
        self.badges.append(badge)
        return "Front desk"


@pytest.fixture
def screen(qtbot: Any, desk: Any) -> BadgeTemplateScreen:
    widget = BadgeTemplateScreen(desk)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    qtbot.waitUntil(lambda: widget.ticket_type.count() == 3, timeout=5000)
    qtbot.waitUntil(lambda: widget.preview_image is not None, timeout=5000)
    return widget


def _banner_pixel(screen: BadgeTemplateScreen) -> QColor:
    image = screen.preview_image
    return QColor(image.pixel(image.width() // 2, image.height() - 3))


def test_editing_the_template_changes_the_rendered_badge_and_saves(qtbot: Any, screen: BadgeTemplateScreen,
                                                                   desk: Any, services: Any) -> None:
    assert _banner_pixel(screen).name() == "#1f4e79"
    screen.banner_color.setText("#b22222")
    assert _banner_pixel(screen).name() == "#b22222"          # the live preview redrew
    screen.preset.setCurrentIndex(screen.preset.findData("label-4x3in"))
    assert (screen.preview_image.width(), screen.preview_image.height()) == (612, 456)   # 102 x 76 mm at 6/mm
    screen.save_button.click()
    qtbot.waitUntil(lambda: services.badge_templates.list_templates(desk.conference_id) != [], timeout=5000)
    [saved] = services.badge_templates.list_templates(desk.conference_id)
    assert (saved.banner_color, saved.page_width_mm, saved.page_height_mm) == ("#b22222", 102, 76)


def test_the_sample_badge_shows_this_conference_s_name(screen: BadgeTemplateScreen, services: Any,
                                                      desk: Any) -> None:
    from boxoffice.domain.models import Conference

    with services.db.read() as session:
        name = session.get(Conference, desk.conference_id).name
    assert name and name != "Conference"
    assert screen.sample_badge().conference == name


def test_a_script_without_a_font_warns_in_the_preview(screen: BadgeTemplateScreen) -> None:
    screen.sample.setText("José 王小明 محمد דוד")
    assert screen.warning.text() == ""
    screen.sample.setText("ᚠᚢᚦᚨᚱ")   # runic: no bundled font
    assert "Runic" in screen.warning.text()


def test_a_reprint_needs_a_reason_and_the_second_a_lead(qtbot: Any, screen: BadgeTemplateScreen, desk: Any,
                                                        services: Any, catalogue: Any) -> None:
    order = paid_cash_sale(services, desk.conference_id, name="Grace Hopper", email="grace@example.org",
                           tickets={catalogue.regular: 1})
    output = RecordingOutput()
    services.badges.output = output
    attendee_id = services.badges.bulk(desk.conference_id)[0].attendee_id
    code = services.badges.badge(attendee_id).access_code
    approvals: list[str] = []

    def lead_approves(error: Any, resume: Any, what: str) -> None:
        approvals.append(str(error))
        resume(Actor(None, "Linus", Role.LEAD))

    desk.tasks.set_override_handler(lead_approves)
    set_operator(Actor(None, "Vera", Role.VOLUNTEER))
    try:
        panel = screen.print_panel
        panel.code.setText(code)
        panel.print_button.click()
        qtbot.waitUntil(lambda: panel.status.text().startswith("Badge printed"), timeout=5000)
        assert panel.status.text() == "Badge printed 08:00"     # 12:00 UTC in New York
        assert len(output.badges) == 1 and output.badges[0].name == "Grace Hopper"

        for number in (1, 2):
            panel.status.setText("")
            panel.print_button.click()
            qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=5000)
            ok = panel.dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
            ok.click()                                          # no reason yet: stays open
            assert panel.dialog.isVisible()
            panel.dialog.reason.setText(f"lost it ({number})")
            ok.click()
            qtbot.waitUntil(lambda: panel.status.text().startswith("Badge printed"), timeout=5000)
            panel.dialog = None
        assert len(output.badges) == 3
        assert len(approvals) == 1 and "lead" in approvals[0]   # only the second reprint asked a lead
        log = services.badges.prints(attendee_id)
        assert [(p.reprint, p.reason, p.approver_name) for p in log] == [
            (False, "", ""), (True, "lost it (1)", ""), (True, "lost it (2)", "Linus")]
        assert services.badges.last_print(attendee_id).label == "Badge printed 08:00"
        assert order.reference
    finally:
        set_operator(None)
        desk.tasks.set_override_handler(None)


def test_the_bulk_pdf_has_every_badge_sorted_by_last_name(services: Any, desk: Any, catalogue: Any,
                                                          tmp_path: Path, qtbot: Any) -> None:
    from pypdf import PdfReader

    from boxoffice.ui.badge_render import write_badges_pdf

    names = ["Zoë Ångström", "王小明", "محمد عبد الله", "דוד כהן",
             "Maximiliana Theodora Wilhelmina von Hohenzollern-Sigmaringen", "Ada Byron"]
    assert len(names[4]) == 60
    for i, name in enumerate(names):
        paid_cash_sale(services, desk.conference_id, name=name, email=f"p{i}@example.org",
                       tickets={catalogue.regular: 1})
    services.badge_templates.save_template(desk.conference_id, None, page_preset="a4-2x4")
    badges = services.badges.bulk(desk.conference_id)
    path = tmp_path / "badges.pdf"
    assert write_badges_pdf(path, badges) == 1
    services.badge_templates.save_template(desk.conference_id, None, page_preset="label-89x51")
    labels = tmp_path / "labels.pdf"
    assert write_badges_pdf(labels, services.badges.bulk(desk.conference_id)) == 6
    texts = [" ".join(page.extract_text().split()) for page in PdfReader(labels).pages]
    assert "Ångström" in texts[0] and "Byron" in texts[1] and "Hohenzollern-Sigmaringen" in texts[2]
    assert "王小明" in texts[5]      # Latin last names first, then Hebrew, Arabic, CJK (code point order)
    assert all("Python 2077" in t and "REGULAR" in t for t in texts)
