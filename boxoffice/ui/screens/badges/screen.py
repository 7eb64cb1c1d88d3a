"""The badge template editor (admins, BDG-1): page size, fields, fonts, colours, logo, with a live preview.

Pick the conference default or a ticket type's own template, change it, and the preview redraws
at once with a sample name (type any name to see how it fits; a script no bundled font covers
shows a warning). Save writes the template through ``BadgeTemplateService`` on the writer thread.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from boxoffice.services.printing.badge_templates import FIELD_LABELS, FIELDS, PRESETS, TemplateView
from boxoffice.services.printing.badges import BadgeView
from boxoffice.ui.badge_render import FALLBACK_FAMILIES, badge_image, missing_scripts
from boxoffice.ui.screens.badges.print_panel import BadgePrintPanel

SAMPLE_NAME = "Ada Lovelace"


class BadgeTemplateScreen(QWidget):
    def __init__(self, desk: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._desk = desk
        self._template = TemplateView(None, desk.conference_id, None)
        self._ticket_names: dict[int, str] = {}
        self._conference_name = "Conference"   # the sample badge's, until the catalog is read
        self._logo: bytes | None = None
        self._loading = False
        self.preview_image: Any = None
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        outer.addLayout(top, 1)

        form_box = QGroupBox("Template")
        form = QFormLayout(form_box)
        self.ticket_type = QComboBox()
        form.addRow("&Applies to:", self.ticket_type)
        self.template_name = QLineEdit()
        form.addRow("&Name:", self.template_name)
        self.preset = QComboBox()
        for preset in PRESETS:
            self.preset.addItem(preset.label, preset.key)
        form.addRow("Page &size:", self.preset)
        size_row = QHBoxLayout()
        self.width_mm, self.height_mm = QSpinBox(), QSpinBox()
        for spin in (self.width_mm, self.height_mm):
            spin.setRange(20, 420)
            spin.setSuffix(" mm")
            size_row.addWidget(spin)
        form.addRow("Custom size:", size_row)
        fields_row = QHBoxLayout()
        self.fields: dict[str, QCheckBox] = {}
        for name in FIELDS:
            box = QCheckBox(FIELD_LABELS[name])
            self.fields[name] = box
            fields_row.addWidget(box)
        self.fields["name"].setEnabled(False)   # a badge always shows the name
        form.addRow("Shows:", fields_row)
        self.font_family = QComboBox()
        self.font_family.setEditable(True)
        self.font_family.addItems(list(FALLBACK_FAMILIES))
        form.addRow("&Font:", self.font_family)
        self.name_size, self.text_size = QSpinBox(), QSpinBox()
        self.name_size.setRange(6, 96)
        self.text_size.setRange(5, 48)
        for spin in (self.name_size, self.text_size):
            spin.setSuffix(" pt")
        form.addRow("Name si&ze:", self.name_size)
        form.addRow("&Text size:", self.text_size)
        self.text_color, self.background_color = QLineEdit(), QLineEdit()
        self.banner_color, self.banner_text_color = QLineEdit(), QLineEdit()
        form.addRow("Text colour:", self.text_color)
        form.addRow("Background:", self.background_color)
        form.addRow("&Banner colour:", self.banner_color)
        form.addRow("Banner text:", self.banner_text_color)
        logo_row = QHBoxLayout()
        self.logo_button, self.logo_clear = QPushButton("Choose &logo…"), QPushButton("No logo")
        self.logo_label = QLabel("no logo")
        logo_row.addWidget(self.logo_button)
        logo_row.addWidget(self.logo_clear)
        logo_row.addWidget(self.logo_label, 1)
        form.addRow("Logo:", logo_row)
        self.save_button = QPushButton("Sa&ve template")
        form.addRow(self.save_button)
        # The form scrolls: on a 720-pixel-high desk it is taller than the window; the preview stays in view.
        form_scroll = QScrollArea()
        form_scroll.setWidget(form_box)
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        top.addWidget(form_scroll, 3)

        preview_box = QGroupBox("Preview")
        preview = QVBoxLayout(preview_box)
        self.sample = QLineEdit(SAMPLE_NAME)
        sample_label = QLabel("Sample na&me:")
        sample_label.setBuddy(self.sample)
        preview.addWidget(sample_label)
        preview.addWidget(self.sample)
        self.sample_company = QLineEdit("Analytical Engines Ltd")
        preview.addWidget(self.sample_company)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(360, 220)
        preview.addWidget(self.preview, 1)
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #9a3412;")
        preview.addWidget(self.warning)
        top.addWidget(preview_box, 2)

        self.print_panel = BadgePrintPanel(desk)
        outer.addWidget(self.print_panel)

        for widget in (self.template_name, self.text_color, self.background_color, self.banner_color,
                       self.banner_text_color, self.sample, self.sample_company):
            widget.textChanged.connect(self._changed)
        for spin in (self.width_mm, self.height_mm, self.name_size, self.text_size):
            spin.valueChanged.connect(self._changed)
        for box in self.fields.values():
            box.toggled.connect(self._changed)
        self.preset.currentIndexChanged.connect(self._changed)
        self.font_family.currentTextChanged.connect(self._changed)
        self.ticket_type.currentIndexChanged.connect(self._load_template)
        self.logo_button.clicked.connect(self._choose_logo)
        self.logo_clear.clicked.connect(self._clear_logo)
        self.save_button.clicked.connect(self._save)
        self.refresh()

    # ------------------------------------------------------------------ loading

    def refresh(self) -> None:
        catalog, conference_id = self._desk.services.catalog, self._desk.conference_id
        self._desk.tasks.read(lambda: catalog.list_products(conference_id), self._show_ticket_types,
                              self._desk.messages.show_error, owner=self)

    def _show_ticket_types(self, view: Any) -> None:
        self._ticket_names = {t.id: t.name for t in view.tickets}
        self._conference_name = view.conference_name or self._conference_name
        self.ticket_type.blockSignals(True)
        self.ticket_type.clear()
        self.ticket_type.addItem("Conference default", None)
        for ticket_id, name in self._ticket_names.items():
            self.ticket_type.addItem(name, ticket_id)
        self.ticket_type.blockSignals(False)
        self._load_template()

    def _load_template(self) -> None:
        templates, conference_id = self._desk.services.badge_templates, self._desk.conference_id
        ticket_id = self.ticket_type.currentData()
        self._desk.tasks.read(lambda: templates.template_for(conference_id, ticket_id),
                              lambda t: self.show_template(t, ticket_id), self._desk.messages.show_error, owner=self)

    def show_template(self, template: TemplateView, ticket_type_id: int | None = None) -> None:
        self._loading = True
        try:
            self._template = replace(template, ticket_type_id=ticket_type_id)
            self.template_name.setText(template.name)
            self.preset.setCurrentIndex(max(0, self.preset.findData(template.page_preset)))
            self.width_mm.setValue(template.page_width_mm)
            self.height_mm.setValue(template.page_height_mm)
            for name, box in self.fields.items():
                box.setChecked(name in template.fields)
            self.font_family.setCurrentText(template.font_family)
            self.name_size.setValue(template.name_size_pt)
            self.text_size.setValue(template.text_size_pt)
            self.text_color.setText(template.text_color)
            self.background_color.setText(template.background_color)
            self.banner_color.setText(template.banner_for(ticket_type_id))
            self.banner_text_color.setText(template.banner_text_color)
            self._logo = template.logo_png
            self.logo_label.setText("logo set" if self._logo else "no logo")
        finally:
            self._loading = False
        self._changed()

    # ------------------------------------------------------------------ editing

    def edited(self) -> TemplateView:
        """The template as the form shows it now (not yet saved)."""
        ticket_id = self._template.ticket_type_id
        banner = self.banner_color.text().strip()
        colours = dict(self._template.banner_colors)
        base_banner = self._template.banner_color
        if ticket_id is not None:
            colours[str(ticket_id)] = banner
        else:
            base_banner = banner
        custom = self.preset.currentData() == "custom"
        preset = next(p for p in PRESETS if p.key == self.preset.currentData())
        return replace(
            self._template, name=self.template_name.text().strip(), page_preset=preset.key,
            page_width_mm=self.width_mm.value() if custom else preset.width_mm,
            page_height_mm=self.height_mm.value() if custom else preset.height_mm,
            columns=1 if custom else preset.columns, rows=1 if custom else preset.rows,
            fields=tuple(n for n, box in self.fields.items() if box.isChecked() or n == "name"),
            font_family=self.font_family.currentText().strip() or FALLBACK_FAMILIES[0],
            name_size_pt=self.name_size.value(), text_size_pt=self.text_size.value(),
            text_color=self.text_color.text().strip(), background_color=self.background_color.text().strip(),
            banner_color=base_banner, banner_text_color=self.banner_text_color.text().strip(),
            banner_colors=colours, logo_png=self._logo)

    def sample_badge(self) -> BadgeView:
        template = self.edited()
        ticket_id = template.ticket_type_id
        ticket = self._ticket_names.get(ticket_id, "Attendee") if ticket_id is not None else "Attendee"
        return BadgeView(0, self.sample.text().strip(), self.sample_company.text().strip(), ticket, ticket_id,
                         self._conference_name, "SAMPLE23", "BOXOFFICE:SAMPLE23", template.banner_for(ticket_id), template)

    def _changed(self) -> None:
        if self._loading:
            return
        custom = self.preset.currentData() == "custom"
        self.width_mm.setEnabled(custom)
        self.height_mm.setEnabled(custom)
        badge = self.sample_badge()
        self.preview_image = badge_image(badge, 6.0)
        pixmap = QPixmap.fromImage(self.preview_image)
        target = self.preview.size()
        if pixmap.width() > target.width() or pixmap.height() > target.height():
            pixmap = pixmap.scaled(target, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation)
        self.preview.setPixmap(pixmap)
        scripts = missing_scripts(badge.name + " " + badge.company)
        self.warning.setText(
            f"No bundled font has the {', '.join(scripts)} characters of this name: they may print as "
            "empty boxes. Install a font for that script on this computer, or type the name in Latin letters."
            if scripts else "")

    def _choose_logo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a logo", "", "Images (*.png *.jpg *.jpeg *.svg)")
        if path:
            self.set_logo(Path(path).read_bytes())

    def set_logo(self, data: bytes | None) -> None:
        self._logo = data
        self.logo_label.setText("logo set" if data else "no logo")
        self._changed()

    def _clear_logo(self) -> None:
        self.set_logo(None)

    def _save(self) -> None:
        view = self.edited()
        templates, conference_id = self._desk.services.badge_templates, self._desk.conference_id
        changes = {name: getattr(view, name) for name in (
            "name", "page_preset", "page_width_mm", "page_height_mm", "columns", "rows", "fields", "font_family",
            "name_size_pt", "text_size_pt", "text_color", "background_color", "banner_color", "banner_text_color",
            "banner_colors", "logo_png")}
        self._desk.tasks.write(lambda: templates.save_template(conference_id, view.ticket_type_id, **changes),
                               self._saved, self._desk.messages.show_error, owner=self)

    def _saved(self, template: TemplateView) -> None:
        self.show_template(template, template.ticket_type_id)
        self._desk.messages.info(f"Badge template “{template.name}” saved.")
