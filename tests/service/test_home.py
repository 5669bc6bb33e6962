"""Where the database is: resolved once, the same from any directory, never created by a read."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import migrate
from service.cli import app
from service.config import CHECKOUT, Settings, default_home, get_settings, user_data_dir
from service.db import get_engine, make_engine

runner = CliRunner(env={"COLUMNS": "120"})
READS = [
    ["series", "list"],
    ["series", "show", "1"],
    ["anomalies", "list"],
    ["runs", "list"],
    ["jobs", "list"],
    ["keys", "list"],
    ["alerts", "list"],
    ["plot", "1"],
]


@pytest.fixture
def home_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No database settings from the outside; the CLI's cached settings follow the test's."""
    for name in ("SAHELCAST_DATABASE_URL", "SAHELCAST_DATA_DIR", "SAHELCAST_HOME"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    get_engine.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()
    get_engine.cache_clear()


def test_a_checkout_keeps_its_database_in_its_data_folder() -> None:
    # The tests run from a source checkout: the demo of `make run` is found from anywhere.
    assert default_home() == CHECKOUT / "data"


def test_the_per_user_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert user_data_dir() == tmp_path / "sahelcast"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert user_data_dir() == Path.home() / ".local" / "share" / "sahelcast"


def test_a_relative_home_is_resolved_once(home_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home_env.chdir(tmp_path)
    home_env.setenv("SAHELCAST_HOME", "here")
    settings = Settings()
    home_env.chdir("/")
    assert settings.data_dir == tmp_path / "here"
    assert settings.database_url == f"sqlite:///{tmp_path / 'here' / 'sahelcast.db'}"
    assert settings.drop_dir == tmp_path / "here" / "incoming"
    home_env.setenv("SAHELCAST_DATA_DIR", "/elsewhere")  # the older name
    home_env.delenv("SAHELCAST_HOME")
    assert Settings().data_dir == Path("/elsewhere")


@pytest.mark.parametrize("command", READS, ids=lambda c: " ".join(c))
def test_read_commands_never_create_a_database(
    home_env: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    home = tmp_path / "nowhere"
    home_env.setenv("SAHELCAST_HOME", str(home))
    home_env.chdir(tmp_path)
    result = runner.invoke(app, command)
    assert result.exit_code == 2, result.output
    assert f"There is no database at {home / 'sahelcast.db'}" in result.output
    assert "sahelcast db upgrade" in result.output
    assert not home.exists()
    assert list(tmp_path.iterdir()) == []


def test_the_database_is_found_from_a_sub_folder(
    home_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    engine = make_engine(f"sqlite:///{home / 'sahelcast.db'}")
    migrate.upgrade(engine)  # the one command that creates the file (and its folder)
    engine.dispose()
    home_env.setenv("SAHELCAST_HOME", str(home))
    sub = tmp_path / "analysis" / "2024"
    sub.mkdir(parents=True)
    home_env.chdir(sub)
    result = runner.invoke(app, ["series", "list", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "[]"
    assert list(sub.iterdir()) == []
