"""The package structure holds: no import cycles, the layering machbot -> training -> functions,
and the function's triggers never reach the admin code only the CLI uses.

Read from the source (every `import`, module level or inside a function), nothing is imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

from machbot.paths import ROOT

PACKAGES = {
    "machbot": ROOT / "machbot",
    "machbot_fn": ROOT / "functions" / "machbot_fn",
    "machbot_train": ROOT / "training" / "machbot_train",
}
MAIN = "main"  # functions/main.py, the triggers


def _modules() -> dict[str, Path]:
    found = {MAIN: ROOT / "functions" / "main.py"}
    for package, root in PACKAGES.items():
        for path in root.rglob("*.py"):
            parts = [package, *path.relative_to(root).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                # `from pkg import sub` imports the module pkg.sub when there is one, else names from pkg.
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t if t in modules else node.module for t in targets]
            else:
                continue
            edges.update(t for t in targets if t in modules and t != name)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for w in graph[todo.pop()] - seen:
            seen.add(w)
            todo.append(w)
    return seen


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layering() -> None:
    """functions/ never imports the CLI or training; training never imports the CLI."""
    graph = _graph()
    for name, edges in graph.items():
        if name == MAIN or name.startswith("machbot_fn"):
            assert not {e for e in edges if not e.startswith("machbot_fn")}, name
        if name.startswith("machbot_train"):
            assert not {e for e in edges if e.split(".")[0] == "machbot"}, name


def test_the_triggers_never_import_the_admin_code() -> None:
    reached = _reachable(_graph(), MAIN)
    assert "machbot_fn.serving.pipeline" in reached  # the walk follows the triggers' imports
    assert sorted(m for m in reached if m.startswith("machbot_fn.admin")) == []
