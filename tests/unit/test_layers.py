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


# The capability packages of services/; a service module lives in one of them.
CAPABILITIES = {"sales", "money", "staff", "desk", "admin", "checkin", "printing"}
SHARED_SERVICE_MODULES = {"__init__.py", "context.py"}


def misplaced_services(paths: list[Path]) -> list[str]:
    """Service modules that stand outside a capability package (``services/<capability>/...``)."""
    found = []
    for path in paths:
        parts = path.relative_to(PACKAGE / "services").parts
        if len(parts) == 1 and parts[0] not in SHARED_SERVICE_MODULES or len(parts) > 1 and parts[0] not in CAPABILITIES:
            found.append(str(Path(*parts)))
    return found


def test_every_service_lives_in_a_capability_package() -> None:
    services = [p for p in _module_files() if _layer(p) == "services"]
    assert misplaced_services(services) == []
    probes = [PACKAGE / "services" / "orders.py", PACKAGE / "services" / "misc" / "helpers.py",
              PACKAGE / "services" / "sales" / "orders.py", PACKAGE / "services" / "context.py"]
    assert misplaced_services(probes) == ["orders.py", str(Path("misc", "helpers.py"))]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, source: str | None = None) -> set[str]:
    """Modules of ``boxoffice`` that ``path`` imports when it is loaded (not inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8") if source is None else source)
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("boxoffice"))
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node, path)
            if module.startswith("boxoffice"):
                found.add(module)
                found.update(f"{module}.{a.name}" for a in node.names)
    return found


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every circle of module-level imports, each as the modules it runs through (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                circles.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def _services_graph() -> dict[str, set[str]]:
    paths = [p for p in _module_files() if _layer(p) in {"services", "domain"}]
    modules = {_module_name(p): p for p in paths}
    return {name: {m for m in _top_level_imports(path) if m in modules and m != name}
            for name, path in modules.items()}


def test_no_import_circles_in_services_and_domain() -> None:
    assert import_circles(_services_graph()) == []
    assert import_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
