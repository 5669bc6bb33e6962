"""Which way imports go: every rule of ARCHITECTURE.md's "Which way imports go", checked.

Imports are read from the source (any import, at the top or inside a function, counts), so a
rule holds for every path through the code, not only the ones a test happens to run.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICE = ROOT / "service"


def _imports(path: Path) -> set[str]:
    """The top-level packages `path` imports (`numpy`, `service`, ...)."""
    return {name.split(".")[0] for name in _modules(path)}


def _modules(path: Path) -> set[str]:
    """Every module `path` imports, by dotted name (`from a.b import c`: a.b and a.b.c)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@functools.cache
def service_imports() -> dict[str, frozenset[str]]:
    """Each module of `service/` and the modules of `service/` it imports (`from a import b`:
    a.b when b is a module, else a)."""
    files = {_name(p): p for p in SERVICE.rglob("*.py")}
    graph = {}
    for module, path in files.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in files)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    if full in files:
                        found.add(full)
                    elif node.module in files:
                        found.add(node.module)
        graph[module] = frozenset(found - {module})
    return graph


def _under(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def package_of(module: str) -> str:
    """`service.anomalies.detect` -> `service.anomalies`; a top-level module is its own node."""
    return ".".join(module.split(".")[:2])


def is_table(module: str) -> bool:
    return module.rpartition(".")[2] == "orm" and module != "service.orm"


def leaves(graph: Mapping[str, Iterable[str]]) -> set[str]:
    """Modules that pull in no domain's code: names (they import nothing of `service/`) and
    tables (orm modules importing only `service.db`, the clock, names and other tables)."""
    names = {m for m, imported in graph.items() if not set(imported)}
    base = {"service.db", "service.kit.time"}
    return names | {
        m
        for m, imported in graph.items()
        if is_table(m) and all(i in names or i in base or is_table(i) for i in imported)
    }


# The modules that assemble the system: the app (API, dashboard and alert routes) and the
# complete table list. They import any package; nothing imports them.
COMPOSITION_ROOTS = ("service.api.app", "service.orm")


def package_edges(graph: Mapping[str, Iterable[str]]) -> dict[str, dict[str, set[str]]]:
    """package -> package it depends on -> the imports that make it depend (`a -> b`).

    A package depends on another when one of its modules uses the other's code; reading its
    tables or its names (leaves) is not a dependency on its code, and the composition roots
    are left out."""
    leaf = leaves(graph)
    edges: dict[str, dict[str, set[str]]] = {}
    for module, imported in graph.items():
        if module in COMPOSITION_ROOTS:
            continue
        for target in imported:
            here, there = package_of(module), package_of(target)
            if here != there and target not in leaf:
                edges.setdefault(here, {}).setdefault(there, set()).add(f"{module} -> {target}")
    return edges


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(edges) | {n for targets in edges.values() for n in targets}):
        if node not in index:
            visit(node)
    return found


def _explain(edges: dict[str, dict[str, set[str]]], cycle: list[str]) -> list[str]:
    return sorted(i for a in cycle for b in cycle for i in edges.get(a, {}).get(b, ()))


def test_service_modules_form_no_import_cycle() -> None:
    assert cycles(service_imports()) == []


def test_service_packages_form_no_import_cycle() -> None:
    edges = package_edges(service_imports())
    found = cycles(edges)
    assert not found, [(cycle, _explain(edges, cycle)) for cycle in found]


def test_the_cycle_checks_see_a_cycle() -> None:
    graph = {
        "service.a.service": {"service.b.repository"},
        "service.b.repository": {"service.b.orm", "service.a.orm"},
        "service.a.orm": {"service.db"},
        "service.b.orm": {"service.db"},
        "service.db": set(),
    }
    assert cycles(package_edges(graph)) == []  # b reads a's table: not a dependency on a's code
    graph["service.b.repository"] = {"service.b.orm", "service.a.scoring"}
    graph["service.a.scoring"] = set()  # names: still no dependency
    assert cycles(package_edges(graph)) == []
    graph["service.a.scoring"] = {"service.a.orm"}  # code
    assert cycles(package_edges(graph)) == [["service.a", "service.b"]]
    assert cycles({"m.x": {"m.y"}, "m.y": {"m.z"}, "m.z": {"m.x"}}) == [["m.x", "m.y", "m.z"]]


def test_nothing_imports_a_composition_root() -> None:
    found = {m: sorted(i & set(COMPOSITION_ROOTS)) for m, i in service_imports().items()}
    assert {m: i for m, i in found.items() if i} == {}


def test_tables_live_in_orm_modules_and_import_only_tables_names_and_the_clock() -> None:
    graph = service_imports()
    for path in SERVICE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "Base" for b in node.bases
            ):
                assert path.name == "orm.py", f"table {node.name} is defined in {path}"
    tables = {m for m in graph if is_table(m)}
    assert tables <= leaves(graph), sorted(tables - leaves(graph))
    assert not (SERVICE / "models.py").exists()  # "models" means forecasting models


# router -> service -> repository -> orm -> db, inside a domain; schemas serve the router and
# the service.
LAYER = {"router": 4, "service": 3, "schemas": 2, "repository": 2, "orm": 1}


def test_inside_a_domain_imports_go_down_the_layers() -> None:
    wrong = []
    for module, imported in service_imports().items():
        mine = module.rpartition(".")[2]
        for target in imported:
            theirs = target.rpartition(".")[2]
            same = package_of(module) == package_of(target) and module.count(".") == 2
            if same and mine in LAYER and theirs in LAYER and LAYER[theirs] > LAYER[mine]:
                wrong.append(f"{module} -> {target}")
            if same and mine == "schemas" and theirs in ("repository", "service", "router"):
                wrong.append(f"{module} -> {target}")
    assert wrong == []


@pytest.mark.parametrize("path", sorted((ROOT / "models").rglob("*.py")), ids=lambda p: p.name)
def test_models_import_nothing_from_service(path: Path) -> None:
    forbidden = {"service", "sqlalchemy", "fastapi", "alembic"}
    assert not (_imports(path) & forbidden), f"{path} imports {_imports(path) & forbidden}"


def test_training_and_anomalies_are_the_bridges_into_models() -> None:
    """Elsewhere `service/` reads only the rainy-season calendar (the dashboard shades it)."""
    wrong = {}
    for path in SERVICE.rglob("*.py"):
        module = _name(path)
        used = {m for m in _modules(path) if _under(m, "models")}
        if not _under(module, "service.training", "service.anomalies"):
            used = {m for m in used if not _under(m, "models.seasons")}
        if used and not _under(module, "service.training", "service.anomalies"):
            wrong[module] = sorted(used)
    assert wrong == {}


# Fitting happens in jobs, never in a request: the API and the dashboard import neither the
# engine nor the training or job code (the API hands a recorded job to service.jobs.launch).
FITTING = (
    "models.panel",
    "service.training.service",
    "service.training.work",
    "service.training.executors",
    "service.jobs.pipelines",
    "service.jobs.steps",
    "service.jobs.runner",
    "service.anomalies.detect",
)


def test_the_api_and_the_dashboard_never_fit() -> None:
    wrong = {}
    for path in [*(SERVICE / "api").rglob("*.py"), *(SERVICE / "web").rglob("*.py")]:
        found = {m for m in _modules(path) if _under(m, *FITTING)}
        if found:
            wrong[_name(path)] = sorted(found)
    assert wrong == {}


# The API's internals: its queries, its routes and its response shapes. The dashboard reads
# through the domain repositories instead (one read side); it may share the API's plumbing
# (dependencies, problems, parameters, the key cache).
API_INTERNALS = (
    "service.api.repositories",
    "service.api.routes",
    "service.api.schemas",
    "service.api.app",
)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "service" / "web").rglob("*.py")), ids=lambda p: p.name
)
def test_the_dashboard_does_not_import_api_internals(path: Path) -> None:
    found = {m for m in _modules(path) if m.startswith(API_INTERNALS)}
    assert not found, f"{path} imports {sorted(found)}"


def test_the_boundary_check_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from service.api import repositories\nimport service.api.schemas.common\n")
    assert {m for m in _modules(bad) if m.startswith(API_INTERNALS)} == {
        "service.api.repositories",
        "service.api.schemas.common",
    }


def test_the_cli_and_the_jobs_never_import_a_router() -> None:
    wrong = {}
    for module, imported in service_imports().items():
        if _under(module, "service.cli", "service.jobs"):
            routers = sorted(i for i in imported if i.endswith(".router") or "routes" in i)
            if routers:
                wrong[module] = routers
    assert wrong == {}


# What `sahelcast --help` must not load: commands import their heavy dependencies when run.
HEAVY = ("numpy", "pandas", "scipy", "sqlalchemy", "fastapi", "matplotlib", "models")


def _loaded_by(statement: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with `prefixes` that `statement` loads in a fresh interpreter."""
    listed = f"sorted(m for m in sys.modules if m.startswith({prefixes!r}))"
    code = f"import sys\n{statement}\nprint({listed})"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return list(ast.literal_eval(done.stdout.strip()))


def test_the_cli_loads_nothing_heavy_until_a_command_runs() -> None:
    loaded = _loaded_by("from service.cli import app", tuple(f"{m}" for m in HEAVY))
    assert [m for m in loaded if m.split(".")[0] in HEAVY] == []


def test_migrations_read_only_the_settings_the_database_and_the_tables() -> None:
    used = {m for m in _modules(ROOT / "migrations" / "env.py") if m.startswith("service")}
    allowed = {"service.config", "service.db", "service.orm"}
    assert {m.rpartition(".")[0] if m.rpartition(".")[0] in allowed else m for m in used} <= (
        allowed
    )


# Names that choices are made of (the CLI's `--help` shows them without loading the stack).
NAMES = (
    "service.measures",
    "service.series.levels",
    "service.ingest.sources",
    "service.anomalies.severity",
    "service.jobs.kinds",
    "service.auth.scopes",
    "service.feeds.spec",
)


@pytest.mark.parametrize("module", NAMES)
def test_names_modules_import_only_the_standard_library(module: str) -> None:
    path = ROOT / (module.replace(".", "/") + ".py")
    outside = _imports(path) - set(sys.stdlib_module_names) - {"__future__"}
    assert outside == set()


def test_the_kit_imports_no_domain() -> None:
    """Any package may use the kit (the clock, the lease, months) without a cycle."""
    wrong = {
        module: sorted(i for i in imported if not _under(i, "service.kit", "service.db"))
        for module, imported in service_imports().items()
        if _under(module, "service.kit")
    }
    assert {m: i for m, i in wrong.items() if i} == {}


# The retired per-series library and the heavy libraries only it (and the benches) use.
RETIRED = ("models.legacy", "prophet", "statsmodels")


def test_the_service_never_loads_the_retired_models_prophet_or_statsmodels() -> None:
    """Import every module of `service/` (every command's, route's and worker's code) in a fresh
    interpreter: none of them may load `models.legacy`, Prophet or statsmodels, not even through
    `models/`."""
    every = (
        "import importlib, pkgutil, service\n"
        "for m in pkgutil.walk_packages(service.__path__, 'service.'):\n"
        "    importlib.import_module(m.name)"
    )
    assert _loaded_by(every, RETIRED) == []
