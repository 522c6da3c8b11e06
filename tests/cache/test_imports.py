"""The cache package's modules import each other without a cycle (TYPE_CHECKING imports too)."""

from __future__ import annotations

import ast
from pathlib import Path

import marketcache.cache

PACKAGE = "marketcache.cache"
ROOT = Path(marketcache.cache.__file__).parent


def imports_of(path: Path) -> set[str]:
    """The modules of the cache package that `path` imports, wherever the import is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(n for n in names if n.startswith(PACKAGE + ".") and module_path(n).exists())
    return found


def module_path(name: str) -> Path:
    return ROOT / (name.removeprefix(PACKAGE + ".").replace(".", "/") + ".py")


def graph() -> dict[str, set[str]]:
    modules = {f"{PACKAGE}.{p.stem}": p for p in ROOT.glob("*.py") if p.stem != "__init__"}
    return {name: imports_of(path) - {name} for name, path in modules.items()}


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(edges.get(module, ())):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)) is not None:
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(edges):
        if module not in state and (cycle := visit(module)) is not None:
            return cycle
    return None


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_no_import_cycle_in_the_cache_package() -> None:
    edges = graph()
    assert f"{PACKAGE}.flight" in edges  # the walk sees the package
    assert f"{PACKAGE}.lease" in edges[f"{PACKAGE}.flight"]
    assert find_cycle(edges) is None
