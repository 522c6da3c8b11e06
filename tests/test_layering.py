"""The package's imports: no cycle anywhere, and none against the layering.

The layers (docs/ARCHITECTURE.md), lowest first; a module may import its own
unit and the units of lower layers, never a higher one, with the extra rules in
`FORBIDDEN`. Every import counts: inside functions and under `if TYPE_CHECKING:`
too (a cycle of annotations is still two modules that need each other).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import marketcache

ROOT = Path(marketcache.__file__).parent
PACKAGE = "marketcache"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "__init__",
            "errors",
            "clock",
            "config",
            "netutil",
            "procutil",
            "logs",
            "access_log",
            "targets",
            "tasks",
        }
    ),
    frozenset({"models", "keys", "answer", "params", "endpoints", "cache", "freshness"}),
    frozenset({"analytics", "sources", "emulator", "candle_pages"}),
    frozenset({"monitoring", "wiring"}),
    frozenset({"streams"}),
    frozenset({"service", "batch", "subscriptions"}),
    frozenset({"api", "dashboard"}),
    frozenset({"commands", "check", "bench", "cli", "__main__"}),
)
# unit → units it must not import although their layer is lower
FORBIDDEN: dict[str, frozenset[str]] = {
    # the cache knows nothing of markets, exchanges or HTTP
    "cache": frozenset({"models", "keys", "answer", "params", "endpoints", "freshness"}),
    # pure: arrays in, numbers out
    "analytics": frozenset({"cache", "keys", "answer", "params", "endpoints", "freshness"}),
    "sources": frozenset({"cache", "keys", "answer", "params", "endpoints", "freshness"}),
    # the emulator is an exchange: it shares nothing with the service but the basics
    "emulator": frozenset({"models", "keys", "answer", "params", "endpoints", "cache"}),
    # the suite grades a service from outside, over HTTP only
    "check": frozenset({"service", "api", "cache", "sources", "monitoring", "wiring", "emulator"}),
}


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(unit: str) -> int:
    for index, units in enumerate(LAYERS):
        if unit in units:
            return index
    raise AssertionError(f"{unit!r} is in no layer: add it to LAYERS (and ARCHITECTURE.md)")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(relative.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imports(tree: ast.AST, modules: dict[str, Path]) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE):
                    yield alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if not node.module.startswith(PACKAGE):
                continue
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                yield candidate if candidate in modules else node.module


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = {target for target in _imports(tree, modules) if target != name}
    return graph


def test_no_import_against_the_layering() -> None:
    wrong: list[str] = []
    for module, targets in _graph().items():
        unit = _unit(module)
        for target in targets:
            other = _unit(target)
            if other == unit:
                continue
            if _layer(other) > _layer(unit) or other in FORBIDDEN.get(unit, frozenset()):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycle() -> None:
    graph = _graph()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_over_400_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for path in ROOT.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 400
    }
    assert not long, long
