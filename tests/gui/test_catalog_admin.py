"""The Catalog screen on real services: edit ticket types and add-ons, generate and export vouchers."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from boxoffice.services.staff.access import Actor, Role, acting_as
from boxoffice.ui.admin_wiring import install_admin
from boxoffice.ui.desk import Desk
from boxoffice.ui.main_window import MainWindow
from boxoffice.ui.screens.catalog_admin import vouchers as vouchers_module
from boxoffice.ui.screens.catalog_admin.models import VouchersModel
from boxoffice.ui.screens.catalog_admin.screen import CatalogAdminScreen
from tests.gui.conftest import Catalogue


@pytest.fixture
def screen(qtbot: Any, desk: Desk) -> CatalogAdminScreen:
    widget = CatalogAdminScreen(desk)
    qtbot.addWidget(widget)
    widget.resize(1300, 800)
    widget.show()
    return widget


def _loaded(qtbot: Any, tab: Any, count: int) -> None:
    tab.refresh()
    qtbot.waitUntil(lambda: len(tab.rows()) == count, timeout=5000)


def test_ticket_type_created_in_the_form_is_on_sale(qtbot: Any, screen: CatalogAdminScreen, desk: Desk,
                                                    catalogue: Catalogue) -> None:
    tab = screen.tickets
    _loaded(qtbot, tab, 2)
    tab.new_button.click()
    tab.name.setText("Early Bird")
    tab.price.setText("75.00")
    tab.stock.setValue(30)
    tab.limit.setValue(2)
    tab.save_button.click()
    qtbot.waitUntil(lambda: "Saved ticket type Early Bird." in tab.editor.message.text(), timeout=5000)
    qtbot.waitUntil(lambda: len(tab.rows()) == 3, timeout=5000)
    sold = {t.name: t for t in desk.services.catalog.list_products(catalogue.conference_id).tickets}
    assert (sold["Early Bird"].price, sold["Early Bird"].remaining, sold["Early Bird"].state) == (
        Decimal("75.00"), 30, "on_sale")
    # Editing the price of the new ticket only changes the price.
    tab.price.setText("80.00")
    tab.save_button.click()
    qtbot.waitUntil(lambda: tab.current.price == Decimal("80.00"), timeout=5000)
    assert [e.action for e in desk.services.audit.search(text="Early Bird")] == ["price_change", "catalog_change"]


def test_service_and_typing_errors_show_under_their_field(qtbot: Any, screen: CatalogAdminScreen,
                                                          desk: Desk) -> None:
    tab = screen.tickets
    _loaded(qtbot, tab, 2)
    tab.new_button.click()
    tab.name.setText("regular")
    tab.price.setText("10.00")
    tab.save_button.click()
    qtbot.waitUntil(lambda: "already called 'Regular'" in tab.editor.errors["name"].text(), timeout=5000)
    assert tab.editor.errors["name"].isVisible()
    tab.name.setText("Day Pass")
    tab.price.setText("ten")
    tab.save_button.click()
    assert "'ten' is not an amount" in tab.editor.errors["price"].text()
    assert not tab.editor.errors["name"].text()
    assert len(tab.rows()) == 2


def test_stock_below_sold_is_refused_inline(qtbot: Any, screen: CatalogAdminScreen, desk: Desk,
                                            catalogue: Catalogue) -> None:
    from tests.gui.helpers import paid_cash_sale

    paid_cash_sale(desk.services, catalogue.conference_id, name="Ada", email="ada@example.org",
                   tickets={catalogue.regular: 3})
    tab = screen.tickets
    _loaded(qtbot, tab, 2)
    assert tab.select_id(catalogue.regular)
    tab.stock.setValue(2)
    tab.save_button.click()
    qtbot.waitUntil(lambda: bool(tab.editor.errors["total_quantity"].text()), timeout=5000)
    assert tab.editor.errors["total_quantity"].text() == (
        "3 are already sold or held; the stock can't be lower than 3.")


def test_addon_prerequisites_from_the_checklist(qtbot: Any, screen: CatalogAdminScreen, desk: Desk,
                                                catalogue: Catalogue) -> None:
    screen.tabs.setCurrentWidget(screen.addons)
    tab = screen.addons
    qtbot.waitUntil(lambda: len(tab.rows()) == 1 and tab.requires.count() == 2, timeout=5000)
    assert tab.select_id(catalogue.workshop)
    tab.requires.check("Regular")
    tab.save_button.click()
    qtbot.waitUntil(lambda: tab.current.requires_ticket_names == ("Regular",), timeout=5000)
    [addon] = desk.services.catalog_admin.list_addons(catalogue.conference_id)
    assert addon.requires_ticket_type_ids == (catalogue.regular,)


def test_generate_fifty_codes_and_export_them(qtbot: Any, screen: CatalogAdminScreen, desk: Desk,
                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    screen.tabs.setCurrentWidget(screen.vouchers)
    tab = screen.vouchers
    qtbot.waitUntil(lambda: len(tab.rows()) == 1, timeout=5000)
    tab.generate_button.click()
    dialog = tab.generate_dialog
    assert dialog is not None
    dialog.count.setValue(50)
    dialog.prefix.setText("gui-")
    dialog.terms.discount.setText("20")
    dialog.terms.tickets.check("Regular")
    dialog.generate_button.click()
    qtbot.waitUntil(lambda: dialog.export_button.isEnabled(), timeout=10000)
    assert len(set(dialog.codes)) == 50 and all(c.startswith("GUI-") for c in dialog.codes)
    qtbot.waitUntil(lambda: len(tab.rows()) == 51, timeout=5000)

    target = tmp_path / "batch.csv"
    monkeypatch.setattr(vouchers_module, "ask_csv_path", lambda *_a: str(target))
    dialog.export_button.click()
    qtbot.waitUntil(lambda: "50 codes written" in dialog.form.message.text(), timeout=5000)
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert sorted(r["code"] for r in rows) == sorted(dialog.codes)
    assert {(r["type"], r["value"], r["max_uses"], r["active"]) for r in rows} == {("percentage", "20.00", "1", "yes")}

    # The tab's own export writes what the search shows.
    dialog.accept()
    tab.search.setText("spring")
    qtbot.waitUntil(lambda: len(tab.rows()) == 1, timeout=5000)
    everything = tmp_path / "all.csv"
    monkeypatch.setattr(vouchers_module, "ask_csv_path", lambda *_a: str(everything))
    tab.export_button.click()
    qtbot.waitUntil(lambda: "1 vouchers written" in tab.notice.text(), timeout=5000)
    assert [r["code"] for r in csv.DictReader(everything.open(encoding="utf-8"))] == ["SPRING"]


def test_a_volunteer_sees_why_instead_of_the_catalog(qtbot: Any, screen: CatalogAdminScreen, desk: Desk) -> None:
    with acting_as(Actor(staff_id=None, name="Val", role=Role.VOLUNTEER)):
        screen.refresh()
        screen.vouchers.refresh()
    qtbot.waitUntil(lambda: "needs an admin" in screen.tickets.notice.text(), timeout=5000)
    qtbot.waitUntil(lambda: "Changing vouchers needs an admin" in screen.vouchers.notice.text(), timeout=5000)
    assert screen.tickets.rows() == [] and not screen.tickets.save_button.isEnabled()
    assert not screen.vouchers.generate_button.isEnabled()
    screen.refresh()   # an admin again (the test's default operator)
    qtbot.waitUntil(lambda: len(screen.tickets.rows()) == 2, timeout=5000)
    assert screen.tickets.save_button.isEnabled() and not screen.tickets.notice.text()


def test_vouchers_model(qtmodeltester: Any, desk: Desk, catalogue: Catalogue) -> None:
    model = VouchersModel(desk.display)
    model.set_rows(desk.services.catalog_admin.list_vouchers(catalogue.conference_id))
    qtmodeltester.check(model)
    assert model.index(0, 2).data() == "25 %"


def test_install_admin_adds_both_screens(qtbot: Any, desk: Desk) -> None:
    window = MainWindow(desk, conference_name="Python 2077", database_label="test")
    qtbot.addWidget(window)
    screens = install_admin(window)
    labels = [b.text() for b in window.nav_buttons]
    assert "Catalog  [F7]" in labels and "Audit log  [F8]" in labels
    window.show_screen(screens.catalog_index)
    assert window.stack.currentWidget() is screens.catalog
    qtbot.waitUntil(lambda: len(screens.catalog.tickets.rows()) == 2, timeout=5000)
