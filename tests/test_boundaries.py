"""Which way imports go: `models/` is a pure library and never imports the service."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "models").rglob("*.py")), ids=lambda p: p.name)
def test_models_import_nothing_from_service(path: Path) -> None:
    forbidden = {"service", "sqlalchemy", "fastapi", "alembic"}
    assert not (_imports(path) & forbidden), f"{path} imports {_imports(path) & forbidden}"


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


# The API's internals: its queries, its routes and its response shapes. The dashboard reads
# through the domain repositories instead (one read side); it may share the API's plumbing
# (dependencies, problems, parameters, the key cache).
API_INTERNALS = ("service.api.repositories", "service.api.routes", "service.api.schemas",
                 "service.api.app")  # fmt: skip


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


# The retired per-series library and the heavy libraries only it (and the benches) use.
RETIRED = ("models.legacy", "prophet", "statsmodels")


def test_the_service_never_loads_the_retired_models_prophet_or_statsmodels() -> None:
    """Import every module of `service/` (every command's, route's and worker's code) in a fresh
    interpreter: none of them may load `models.legacy`, Prophet or statsmodels, not even through
    `models/`."""
    code = (
        "import importlib, pkgutil, sys, service\n"
        "for m in pkgutil.walk_packages(service.__path__, 'service.'):\n"
        "    importlib.import_module(m.name)\n"
        f"print(sorted(m for m in sys.modules if m.startswith({RETIRED!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout
