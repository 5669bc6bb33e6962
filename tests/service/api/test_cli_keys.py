"""`sahelcast keys`: create prints the token once, list never shows it, revoke stops it."""

from __future__ import annotations

from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from tests.service.api.conftest import assert_problem, make_client

runner = CliRunner(env={"COLUMNS": "200"})


def test_create_list_revoke(settings: Settings) -> None:
    created = runner.invoke(app, ["keys", "create", "--scope", "admin", "--name", "ops team"])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("sck_")
    with make_client(settings, api_key_cache_seconds=0) as client:
        assert client.get("/v1/subscriptions", headers={"X-API-Key": token}).status_code == 200
        listed = runner.invoke(app, ["keys", "list"])
        assert "ops team" in listed.output
        assert "admin" in listed.output
        assert token not in listed.output
        assert token.split("_")[1] in listed.output
        assert runner.invoke(app, ["keys", "revoke", "1"]).exit_code == 0
        assert_problem(client.get("/v1/subscriptions", headers={"X-API-Key": token}), 401)
    assert "ops team" not in runner.invoke(app, ["keys", "list"]).output
    assert "ops team" in runner.invoke(app, ["keys", "list", "--all"]).output


def test_bad_arguments(settings: Settings) -> None:
    assert runner.invoke(app, ["keys", "create", "--scope", "root", "--name", "x"]).exit_code == 2
    assert runner.invoke(app, ["keys", "create", "--name", " "]).exit_code == 2
    missing = runner.invoke(app, ["keys", "revoke", "99"])
    assert missing.exit_code == 2
    assert "no key 99" in missing.output
