"""The shape of the code (CONTRIBUTING.md, "Where things live"): imports point one way, never
round in a cycle, never into another module's private names, and tracker/ holds no Streamlit."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def _layout() -> ModuleType:
    spec = importlib.util.spec_from_file_location("layout", ROOT / "scripts" / "layout.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("layout", module)
    spec.loader.exec_module(module)
    return module


layout = _layout()
KNOWN = dict(layout.modules(ROOT, "tracker")) | dict(layout.modules(ROOT, "pages"))


def test_nothing_in_tracker_imports_a_page_or_streamlit() -> None:
    offending = sorted(
        f"{name} imports {target}"
        for name, path in KNOWN.items()
        if name.startswith("tracker")
        for target in layout.imported(path)
        if target.split(".")[0] in ("pages", "streamlit")
    )
    assert offending == []


def test_no_two_modules_import_each_other_even_through_others() -> None:
    assert layout.cycles(layout.graph(ROOT)) == []


def _private_reaches(name: str, path: Path) -> list[str]:
    """`from tracker.x import _private` and `x._private` where x is another project module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bound: dict[str, str] = {}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if target in KNOWN:
                    bound[alias.asname or alias.name] = target
                elif node.module in KNOWN and node.module != name and _private(alias.name):
                    found.append(f"{name}:{node.lineno} imports {node.module}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname and alias.name in KNOWN:
                    bound[alias.asname] = alias.name

    def module_of(expr: ast.expr) -> str | None:
        """The project module an expression names: `db`, `read.programme`, ..."""
        if isinstance(expr, ast.Name):
            return bound.get(expr.id)
        if isinstance(expr, ast.Attribute):
            outer = module_of(expr.value)
            inner = f"{outer}.{expr.attr}" if outer else None
            return inner if inner in KNOWN else None
        return None

    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            owner = module_of(node.value)
            if owner is not None and owner != name:
                found.append(f"{name}:{node.lineno} uses {owner}.{node.attr}")
    return found


def _private(attribute: str) -> bool:
    return attribute.startswith("_") and not attribute.startswith("__")


def test_no_module_reaches_into_another_modules_private_names() -> None:
    reaches = [found for name, path in KNOWN.items() for found in _private_reaches(name, path)]
    assert reaches == []
