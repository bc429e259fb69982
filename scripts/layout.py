"""Print the code's layout and its import graph, for CONTRIBUTING.md and review.

    .venv/bin/python scripts/layout.py [--root DIR]

Lists every module under tracker/ and pages/ with its line count, then the import graph between
tracker's packages and top-level modules (who imports whom, from the module-level imports and the
ones inside functions alike), then whether any import points upward (tracker -> pages or
streamlit) or goes round in a cycle. tests/test_layout.py asserts the same rules.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Iterator
from pathlib import Path


def modules(root: Path, package: str) -> Iterator[tuple[str, Path]]:
    """(dotted name, path) of every .py file under root/package."""
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _type_checking_only(tree: ast.Module) -> set[ast.AST]:
    """The import statements under `if TYPE_CHECKING:`: read by type checkers, never run."""
    skipped: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(ast.walk(node))
    return skipped


def imported(path: Path) -> set[str]:
    """The dotted names a module imports when it runs, at module level or inside a function
    (`from a import b` gives a.b, and a itself when b is not a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if node in skipped:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph(root: Path) -> dict[str, set[str]]:
    """Module -> the project modules it imports (tracker and pages only)."""
    known = dict(modules(root, "tracker")) | dict(modules(root, "pages"))
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        edges[name] = {
            target
            for target in imported(path)
            # `from tracker import db` names the package as well as tracker.db: only the module
            # counts. A package's __init__ importing its own modules is not an edge back.
            if target in known
            and target not in ("tracker", "pages")
            and target != name
            and not name.startswith(target + ".")
            and not target.startswith(name + ".")
        }
    return edges


def group(name: str) -> str:
    """The box a module sits in on the graph: a tracker subpackage, a tracker module, or pages."""
    parts = name.split(".")
    if parts[0] == "pages":
        return "pages"
    return ".".join(parts[:2])


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected set of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    root = parser.parse_args().root
    print("## Modules (lines)\n")
    for package in ("tracker", "pages"):
        total = 0
        for _name, path in modules(root, package):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            total += lines
            print(f"{lines:6d}  {path.relative_to(root)}")
        print(f"{total:6d}  {package}/ in all\n")
    edges = graph(root)
    boxes: dict[str, set[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            if group(source) != group(target):
                boxes.setdefault(group(source), set()).add(group(target))
    print("## Imports between packages and top-level modules\n")
    for source in sorted(boxes):
        print(f"{source} -> {', '.join(sorted(boxes[source]))}")
    upward = sorted(
        f"{source} -> {target}"
        for source, targets in edges.items()
        if source.startswith("tracker")
        for target in targets
        if target.startswith("pages")
    )
    print(f"\nupward imports (tracker -> pages): {upward or 'none'}")
    print(f"cycles between modules: {cycles(edges) or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
