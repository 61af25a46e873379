"""Imports only point down. Each arrow reads "may be imported by":

    hotline (kernel) -> asterisk_conf -> acd -> ivr, queue_stats, recordings, agi_scripts
                                                                            -> hotline.shell

The kernel (hotline/, without hotline/shell/) imports only the standard library and structlog;
agi_scripts, the classic-AGI entry points, may use ivr beside it; the shell may import
everything and nothing imports it. Every import counts, also one inside a function, and no
module may import by name at run time (importlib), so nothing hides. No module takes part in
an import cycle. There is no allow-list: a new edge either fits the chain or fails here.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("hotline", "asterisk_conf", "acd", "ivr", "queue_stats", "recordings", "agi_scripts")
KERNEL, SHELL = "hotline", "hotline.shell"
BELOW_APPS = {KERNEL, "asterisk_conf", "acd"}
# layer -> the layers it may import (besides itself)
MAY_IMPORT: dict[str, set[str]] = {
    KERNEL: set(),
    "asterisk_conf": {KERNEL},
    "acd": {KERNEL, "asterisk_conf"},
    "ivr": BELOW_APPS,
    "queue_stats": BELOW_APPS,
    "recordings": BELOW_APPS,
    "agi_scripts": BELOW_APPS | {"ivr"},
    SHELL: BELOW_APPS | {"ivr", "queue_stats", "recordings", "agi_scripts"},
}
KERNEL_THIRD_PARTY = {"structlog"}


def layer(module: str) -> str:
    if module == SHELL or module.startswith(SHELL + "."):
        return SHELL
    return module.split(".")[0]


def modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = modules()


def _resolve(name: str) -> str | None:
    """The project module an imported name lives in (longest prefix), or None (not ours)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        candidate = ".".join(parts[:i])
        if candidate in MODULES:
            return candidate
    return None


def imports_of(module: str) -> tuple[set[str], set[str], list[str]]:
    path = MODULES[module]
    return imports_in(path.read_text(encoding="utf-8"), module, path.name == "__init__.py",
                      str(path.relative_to(ROOT)))


def imports_in(source: str, module: str, is_package: bool = False,
               where: str = "") -> tuple[set[str], set[str], list[str]]:
    """(project modules it imports, top-level third-party/stdlib names, run-time imports)."""
    tree = ast.parse(source, where or module)
    package = module if is_package else module.rpartition(".")[0]
    ours: set[str] = set()
    others: set[str] = set()
    dynamic: list[str] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [target] + [f"{target}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                dynamic.append(f"{where}:{node.lineno}")
        for name in names:
            found = _resolve(name)
            if found is not None and found != module:
                ours.add(found)
            elif found is None:
                others.add(name.split(".")[0])
    return ours, others, dynamic


GRAPH = {m: imports_of(m) for m in MODULES}


def test_every_package_is_walked() -> None:
    assert {layer(m) for m in MODULES} == set(MAY_IMPORT)
    assert len(MODULES) > 80  # the walk found the tree, not an empty folder


def test_imports_only_point_down() -> None:
    upward = sorted(f"{m} imports {t} ({layer(m)} may not import {layer(t)})"
                    for m, (ours, _, _) in GRAPH.items() for t in ours
                    if layer(t) != layer(m) and layer(t) not in MAY_IMPORT[layer(m)])
    assert upward == []


def test_the_kernel_needs_only_the_standard_library_and_structlog() -> None:
    foreign = sorted(f"{m} imports {name}" for m, (_, others, _) in GRAPH.items()
                     if layer(m) == KERNEL for name in others
                     if name not in sys.stdlib_module_names and name not in KERNEL_THIRD_PARTY
                     and name != "__future__")
    assert foreign == []


def test_no_import_hides_behind_a_name() -> None:
    assert [d for _, (_, _, dynamic) in GRAPH.items() for d in dynamic] == []


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over the module graph: none larger than one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v][0]:
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
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in MODULES:
        if module not in index:
            visit(module)
    assert cycles == []


def test_the_walker_sees_what_would_hide() -> None:
    """The walker itself, on a module written here: an import inside a function, a relative
    import and a run-time import are all seen (so a clean graph means a clean tree)."""
    source = ("from . import engine\n"
              "def later():\n"
              "    from hotline.shell import cli\n"
              "    import importlib\n"
              "    return importlib.import_module('ivr.fastagi')\n")
    ours, others, dynamic = imports_in(source, "acd.example")
    assert {"acd.engine", "hotline.shell.cli"} <= ours
    assert "importlib" in others and len(dynamic) == 1
    assert layer("hotline.shell.cli") not in MAY_IMPORT["acd"]
