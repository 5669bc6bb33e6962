"""Every CSV the service writes is data to a spreadsheet, never a formula: the API's and the
dashboard's event downloads and the CLI's `--format csv` all go through one writer."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.ingest.service import ingest_file
from service.series.repository import find_series
from tests.service.api.conftest import make_client
from tests.service.ingest.acled_rows import event, write

FORMULA = '=HYPERLINK("https://evil.example/x","Open")'
PLACE = "+cmd|' /C calc'!A0"
runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def hostile_event(engine: Engine, settings: Settings, tmp_path: Path) -> int:
    """An ingested event whose actor and region would run as formulas; its series' id."""
    rows = [
        event("MLI1", "03 July 2022", actor1=FORMULA, admin1=PLACE),
        event("MLI2", "05 July 2022", actor1="-2+3", admin1=PLACE, actor2="@SUM(1)"),
    ]
    ingest_file(engine, write(tmp_path / "mali.csv", rows), settings)
    with session_scope(engine) as session:
        found = find_series(session, "acled|Mali|*|*|*")
        assert found is not None
        return found.id


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


def _neutral(cells: list[str]) -> None:
    assert cells
    for cell in cells:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_api_and_dashboard_event_csv_hold_no_formula(
    settings: Settings, keys: dict[str, dict[str, str]], hostile_event: int
) -> None:
    with make_client(settings) as client:
        api = client.get(
            f"/v1/series/{hostile_event}/events?month=2022-07&format=csv", headers=keys["read"]
        )
    with make_client(settings, public_read=True) as client:
        web = client.get(f"/web/events.csv?series={hostile_event}&month=2022-07")
    for response in (api, web):
        assert response.status_code == 200, response.text
        cells = _cells(response.text)
        _neutral(cells)
        for shown in (FORMULA, PLACE, "-2+3", "@SUM(1)"):  # shown, as text
            assert "'" + shown in cells


def test_cli_csv_holds_no_formula(hostile_event: int) -> None:
    result = runner.invoke(app, ["series", "list", "--country", "Mali", "--format", "csv"])
    assert result.exit_code == 0, result.output
    cells = _cells(result.output)
    _neutral(cells)
    assert any(cell.startswith("'" + FORMULA) or cell == "'" + PLACE for cell in cells)


def test_numbers_stay_numbers() -> None:
    from service.api.formats import encode_csv

    text = encode_csv(["n", "x", "t"], [[-3, -1.5, "-1.5"], [True, None, "=1"]]).decode()
    assert text.splitlines() == ["n,x,t", "-3,-1.5,'-1.5", "true,,'=1"]
