"""`sahelcast plot`: the fan chart as a file, and what happens without a forecast."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from tests.service.web.builders import WebWorld, make_web_world

runner = CliRunner(env={"COLUMNS": "200"})


def test_plot_writes_png_or_svg_by_extension(
    settings: Settings, web_world: WebWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    svg = tmp_path / "sahel.svg"
    result = runner.invoke(app, ["plot", web_world.key("Sahel", "JNIM"), "--out", str(svg)])
    assert result.exit_code == 0, result.output
    assert "JNIM in Sahel, Burkina Faso" in result.output
    text = svg.read_text()
    assert text.startswith("<?xml")
    assert '<title id="chart-title">JNIM in Sahel, Burkina Faso</title>' in text
    assert "Forecast by the negbin model" in text
    monkeypatch.chdir(tmp_path)
    series_id = web_world.id("Sahel", "JNIM")
    result = runner.invoke(app, ["plot", str(series_id), "--months", "36"])
    assert result.exit_code == 0, result.output
    png = tmp_path / f"series-{series_id}.png"
    assert png.read_bytes().startswith(b"\x89PNG")


def test_plot_refuses_what_it_cannot_write(
    settings: Settings, web_world: WebWorld, tmp_path: Path
) -> None:
    unknown = runner.invoke(app, ["plot", "ucdp|Mali|*|*|*"])
    assert unknown.exit_code == 2
    assert "no series" in unknown.output
    pdf = runner.invoke(app, ["plot", web_world.key(), "--out", str(tmp_path / "x.pdf")])
    assert pdf.exit_code == 2
    assert ".png or .svg" in pdf.output
    folder = runner.invoke(app, ["plot", web_world.key(), "--out", str(tmp_path / "no/x.png")])
    assert folder.exit_code == 2


def test_without_a_published_run_the_history_is_written_and_the_command_fails(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as session:
        world = make_web_world(session, publish=False)
    out = tmp_path / "history.svg"
    result = runner.invoke(app, ["plot", world.key(), "--out", str(out)])
    assert result.exit_code == 1
    assert "no training run is published yet" in result.output
    assert "observed months only" in result.output
    assert "No published forecast." in out.read_text()
