"""Layer check (STYLE.md section 1): parse every module with ast and fail on a forbidden import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "boxoffice"

# layer (top-level sub-package) -> forbidden module prefixes, and forbidden names from a module.
FORBIDDEN_MODULES = {
    "domain": ("PySide6", "stripe", "boxoffice.services", "boxoffice.ui", "boxoffice.stripe_sync"),
    "services": ("PySide6", "stripe", "boxoffice.ui", "boxoffice.stripe_sync"),
    "stripe_sync": ("PySide6", "boxoffice.ui"),
    "ui": ("stripe", "boxoffice.domain.models"),
}
FORBIDDEN_NAMES = {
    "domain": {"sqlalchemy.orm": {"Session"}},
    "ui": {"sqlalchemy.orm": {"Session"}, "boxoffice.domain": {"models"}},
}


def _module_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def _layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 and parts[0] in FORBIDDEN_MODULES else None


def _resolve(node: ast.ImportFrom, path: Path) -> str:
    if node.level == 0:
        return node.module or ""
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)[: -node.level]
    return ".".join(package + ([node.module] if node.module else []))


def violations(path: Path, layer: str, source: str | None = None) -> list[str]:
    """Forbidden imports of the module at ``path`` (``source`` overrides its text, for the self-test)."""
    text = path.read_text(encoding="utf-8") if source is None else source
    tree = ast.parse(text, filename=str(path))
    found: list[str] = []
    modules = FORBIDDEN_MODULES[layer]
    names = FORBIDDEN_NAMES.get(layer, {})

    def bad_module(name: str) -> bool:
        return any(name == m or name.startswith(m + ".") for m in modules)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if bad_module(alias.name):
                    found.append(f"{path.name}:{node.lineno} import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, path)
            for alias in node.names:
                full = f"{module}.{alias.name}"
                if bad_module(module) or bad_module(full) or alias.name in names.get(module, set()):
                    found.append(f"{path.name}:{node.lineno} from {module} import {alias.name}")
    return found


@pytest.mark.parametrize(
    "path", [p for p in _module_files() if _layer(p)], ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_module_respects_its_layer(path: Path) -> None:
    layer = _layer(path)
    assert layer is not None
    assert violations(path, layer) == []


def test_every_module_starts_with_a_docstring() -> None:
    missing = [
        str(p.relative_to(PACKAGE)) for p in _module_files()
        if p.read_text(encoding="utf-8").strip() and ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert missing == []


def test_the_check_catches_forbidden_imports() -> None:
    """The checker itself must fail on what STYLE.md forbids (a check that cannot fail is none)."""
    sample = (
        "import PySide6.QtCore\n"
        "from stripe import StripeClient\n"
        "from sqlalchemy.orm import Session\n"
        "from boxoffice.domain import models\n"
        "from ...domain.models import Order\n"
    )
    expected = {"domain": 3, "services": 2, "ui": 4, "stripe_sync": 1}
    for layer, count in expected.items():
        as_path = PACKAGE / layer / "screens" / "probe.py"
        assert len(violations(as_path, layer, sample)) == count, (layer, violations(as_path, layer, sample))
