"""The rooms' one-way flow (issue #19, docs/architecture.md): no import circle anywhere under
``dashboard/`` or ``connectors/``, counting imports inside functions, relative imports and the
parent packages a dotted import runs (imports under ``if TYPE_CHECKING:`` never run and are left
out), and no vendor package imported from the dashboard's own pages."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENDOR_PACKAGES = ("connectors.north", "connectors.operately", "connectors.ogsm")


def modules() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.glob("dashboard/**/*.py"), *ROOT.glob("connectors/**/*.py")]:
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if "migrations" in parts:
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph(mods: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (at any depth of its code)."""
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(), filename=str(path))
        type_only = {
            id(inner)
            for node in ast.walk(tree)
            if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
            for stmt in node.body
            for inner in ast.walk(stmt)
        }
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # a relative import, resolved against the package
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for target in targets:
                while target:  # importing a.b.c runs a and a.b too
                    if target in mods and target != name and not name.startswith(target + "."):
                        graph[name].add(target)
                    target = target.rpartition(".")[0]
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_the_checker_finds_a_circle_and_a_clean_graph_has_none() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_circle_between_modules() -> None:
    graph = import_graph(modules())
    assert len(graph) > 150  # the whole tree was read
    assert cycles(graph) == []


def test_the_dashboard_pages_import_no_vendor_package() -> None:
    graph = import_graph(modules())
    offenders = {
        name: sorted(t for t in targets if t.startswith(VENDOR_PACKAGES))
        for name, targets in graph.items()
        if name.startswith("dashboard.okrs") and any(t.startswith(VENDOR_PACKAGES) for t in targets)
    }
    assert offenders == {}


def test_no_two_classes_of_one_name() -> None:
    """One name, one concept (issue #19): a class name is defined once across the dashboard and
    the connectors. Left out: the sandboxes (they play the vendor, whose own names they keep)
    and management commands (Django requires the name ``Command``)."""
    defined: dict[str, list[str]] = {}
    for name, path in modules().items():
        if ".sandbox" in name or ".management.commands." in name:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                defined.setdefault(node.name, []).append(name)
    twice = {cls: where for cls, where in defined.items() if len(where) > 1}
    assert len(defined) > 100
    assert twice == {}
