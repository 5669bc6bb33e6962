"""`sahelcast serve` says where it listens on one line, however narrow the terminal."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from service.api import server
from service.cli import app
from service.config import Settings


def test_the_start_up_line_does_not_break(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(server, "run_server", started.append)  # no real server
    result = CliRunner(env={"COLUMNS": "40"}).invoke(app, ["serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.output.splitlines() if "docs at" in line]
    assert line.startswith("sahelcast API on http://127.0.0.1:8123 (1 worker(s))")
    assert line.endswith("docs at /docs")
    assert len(started) == 1
