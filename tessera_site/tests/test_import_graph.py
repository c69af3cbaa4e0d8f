"""The import graph of the app code runs one way (tessera_site.lib ← contracts ← audits) and has
no circle; tessera_site.lib imports no app at all.

A small AST walk instead of import-linter: it reads every ``import`` of the app code, including
the ones inside functions (they run too, later), and skips only ``if TYPE_CHECKING:`` blocks in
the cycle check (they never run). Tests, migrations and management commands are not app code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = ("contracts", "audits", "tessera_site")
NOT_APP_CODE = {"tests", "migrations", "management"}


def _modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in packages:
        for path in (root / package).rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            if NOT_APP_CODE & set(parts):
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path, module: str, *, type_checking: bool) -> Iterator[tuple[str, int]]:
    """(imported name, line) for every import statement of a module, at any depth."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def walk(node: ast.AST) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child) and not type_checking:
                yield from (i for stmt in child.orelse for i in walk_stmt(stmt))
                continue
            yield from walk_stmt(child)

    def walk_stmt(node: ast.AST) -> Iterator[tuple[str, int]]:
        if isinstance(node, ast.Import):
            yield from ((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            yield from ((f"{base}.{alias.name}", node.lineno) for alias in node.names)
        else:
            yield from walk(node)

    yield from walk(ast.parse(path.read_text(), filename=str(path)))


def import_graph(
    root: Path = ROOT, packages: tuple[str, ...] = APPS, *, type_checking: bool = False
) -> dict[str, dict[str, int]]:
    """module → {imported app module: line}. ``from a import b`` points at ``a.b`` when that is a
    module, else at ``a``."""
    modules = _modules(root, packages)
    graph: dict[str, dict[str, int]] = {}
    for module, path in modules.items():
        edges: dict[str, int] = {}
        for name, line in _imports(path, module, type_checking=type_checking):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                edges.setdefault(name, line)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, {}):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
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

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _describe(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    members = set(component)
    return "\n".join(
        f"  {src} -> {dst} (line {line})"
        for src in component
        for dst, line in graph[src].items()
        if dst in members
    )


def test_lib_imports_no_app():
    graph = import_graph(type_checking=True)  # not even for type hints
    upward = [
        f"{module} imports {target} (line {line})"
        for module, edges in graph.items()
        if module.startswith("tessera_site.lib")
        for target, line in edges.items()
        if not target.startswith("tessera_site.lib")
    ]
    assert not upward, "tessera_site.lib must not import an app:\n" + "\n".join(upward)


def test_app_import_graph_has_no_cycle():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles:\n" + "\n\n".join(_describe(graph, c) for c in found)


def test_the_walk_finds_a_cycle_through_an_import_inside_a_function(tmp_path):
    """The checks above can fail: a circle closed by a late import is found, a TYPE_CHECKING
    one is not, and a relative import resolves to its module."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def later():\n    from .c import thing\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nimport pkg.a\nif TYPE_CHECKING:\n    import pkg.d\n"
    )
    (package / "d.py").write_text("import pkg.c\n")
    graph = import_graph(tmp_path, ("pkg",))
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    assert "pkg.d" not in graph["pkg.c"]
    assert "pkg.d" in import_graph(tmp_path, ("pkg",), type_checking=True)["pkg.c"]


def test_services_and_selectors_raise_domain_errors_not_http():
    """Services and selectors refuse with tessera_site.lib.errors' domain errors; only the web
    adapters (the API's exception handler, the views) know the HTTP status of each."""
    graph = import_graph(type_checking=True)
    http_aware = [
        f"{module} imports {target} (line {line})"
        for module, edges in graph.items()
        if ".services" in module or ".selectors" in module
        for target, line in edges.items()
        if target == "tessera_site.lib.http_errors"
    ]
    assert not http_aware, "services/selectors must not map errors to HTTP:\n" + "\n".join(http_aware)


# Debt (issue #10): places where contracts still reached up into audits, each since inverted (the
# site's settings or urls name what contracts needs from audits). Empty now; it stays that way.
CONTRACTS_TO_AUDITS_ALLOWED: set[tuple[str, str]] = set()


def test_contracts_never_imports_audits():
    """lib ← contracts ← audits: contracts does not import audits, not even for type hints
    (only the listed, shrinking debt)."""
    graph = import_graph(type_checking=True)
    upward = {
        (module, target)
        for module, edges in graph.items()
        if module.startswith("contracts")
        for target in edges
        if target.startswith("audits")
    }
    new = sorted(upward - CONTRACTS_TO_AUDITS_ALLOWED)
    assert not new, "contracts must not import audits:\n" + "\n".join(f"  {m} -> {t}" for m, t in new)
    paid = sorted(CONTRACTS_TO_AUDITS_ALLOWED - upward)
    assert not paid, "no longer imported, remove from CONTRACTS_TO_AUDITS_ALLOWED: " + repr(paid)


# The pure core (ARCHITECTURE.md, "pure domain"): the plain data shapes, the compatibility engine
# and the parsers. Bytes and dataclasses in, dataclasses out: no Django, no ORM, no other app code.
PURE_CORE = ("contracts.domain", "contracts.compat", "contracts.ingest")


def _in_pure_core(name: str) -> bool:
    return any(name == pure or name.startswith(pure + ".") for pure in PURE_CORE)


def impure_imports(root: Path = ROOT, packages: tuple[str, ...] = APPS) -> list[str]:
    """Every import of a pure-core module that reaches Django or app code outside the core
    (late imports and ``if TYPE_CHECKING:`` ones too)."""
    found = []
    for module, path in _modules(root, packages).items():
        if not _in_pure_core(module):
            continue
        for name, line in _imports(path, module, type_checking=True):
            top = name.partition(".")[0]
            if top == "django" or (top in packages and not _in_pure_core(name)):
                found.append(f"{module} imports {name} (line {line})")
    return sorted(found)


def test_the_pure_core_imports_no_django_and_no_other_app_code():
    found = impure_imports()
    assert not found, "the pure core must stay pure:\n" + "\n".join(found)


def test_the_purity_check_finds_django_and_the_orm_even_late(tmp_path):
    """The check can fail: a model imported inside a function and Django imported for type hints
    are found; a library and the core's own modules are not."""
    compat = tmp_path / "contracts" / "compat"
    compat.mkdir(parents=True)
    for package in (tmp_path / "contracts", compat):
        (package / "__init__.py").write_text("")
    (compat / "fine.py").write_text(
        "import orjson\nfrom contracts.domain import ColumnSpec\nfrom . import late\n"
    )
    (compat / "late.py").write_text("def f():\n    from contracts.models import Asset\n")
    (compat / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from django.db import models\n"
    )
    assert impure_imports(tmp_path, ("contracts",)) == [
        "contracts.compat.late imports contracts.models.Asset (line 2)",
        "contracts.compat.typed imports django.db.models (line 3)",
    ]
