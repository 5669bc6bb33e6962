"""The analysis notebooks: committed without outputs, and run top to bottom on the demo data.

The demo data is ingested and trained once per test process into a temporary SQLite database
(with two cheap candidates beside the baselines, so the run takes seconds); each notebook then
runs in a fresh `python3` kernel of this environment, pointed at it by SAHELCAST_DATABASE_URL.
The executed copies are kept in test-artifacts/notebooks/ for reading.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from service import migrate
from service.config import Settings
from service.db import make_engine, session_scope
from service.forecasts.repository import published_run
from service.ingest.service import ingest_file
from service.jobs.runner import SUCCEEDED
from service.jobs.steps import detect_step
from service.training.service import TrainRequest, train
from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
DEMO = ROOT / "service" / "data" / "demo" / "ucdp-ged-burkina-faso-2016-2022.csv"
ARTIFACTS = ROOT / "test-artifacts" / "notebooks"
EXPECTED = {"01_rainy_season.ipynb", "02_forecast_skill.ipynb"}
CELL_TIMEOUT = 120
# Each notebook must get this far: the text its last sections print.
MARKERS = {
    "01_rainy_season.ipynb": ["season effects: published run", "lull"],
    "02_forecast_skill.ipynb": ["backtest months flagged", "rainy-season share:"],
}


def test_the_notebooks_are_committed_without_outputs() -> None:
    found = {path.name for path in NOTEBOOKS.glob("*.ipynb")}
    assert found >= EXPECTED
    for name in sorted(found):
        notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata["kernelspec"]["name"] == "python3", name
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type == "code":
                assert cell.outputs == [], f"{name} cell {index} has outputs: strip them"
                assert cell.execution_count is None, f"{name} cell {index} has a count"


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The demo data ingested, trained (published run) and scanned for anomalies."""
    folder = tmp_path_factory.mktemp("notebooks-db")
    url = f"sqlite:///{folder / 'sahelcast.db'}"
    settings = Settings(
        database_url=url,
        data_dir=folder,
        train_executor="inline",
    )
    engine = make_engine(url)
    migrate.upgrade(engine)
    ingest_file(engine, DEMO, settings)
    train(engine, settings, TrainRequest.from_settings(settings))
    detected = detect_step(engine, settings)
    assert detected.status == SUCCEEDED, detected.message
    with session_scope(engine) as session:
        assert published_run(session) is not None
    engine.dispose()
    return url


def _text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
            parts.append(output.get("data", {}).get("text/html", ""))
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_notebook_runs_top_to_bottom(
    name: str, demo_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAHELCAST_DATABASE_URL", demo_database)  # the kernel inherits it
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # run where it can write nothing to keep
    )
    client.execute()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, ARTIFACTS / name)
    text = _text(notebook)
    for marker in MARKERS[name]:
        assert marker in text, f"{name} did not print {marker!r}"
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors == []
    assert "Warning" not in text, f"{name} printed a warning"
