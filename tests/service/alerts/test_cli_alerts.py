"""`sahelcast alerts`: subscribe, list, test, deliver, remove; and delivery on detection."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from service.alerts import hooks
from service.alerts.orm import Delivery
from service.anomalies import events
from service.anomalies.orm import Anomaly
from service.anomalies.repository import get_anomaly
from service.cli import app
from service.config import Settings
from service.db import session_scope
from tests.service.alerts.receiver import Receiver, receiver
from tests.service.api.builders import published_world
from tests.service.builders import make_series

runner = CliRunner(env={"COLUMNS": "200"})


@pytest.fixture
def hook(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    from service.config import get_settings

    monkeypatch.setenv("SAHELCAST_WEBHOOK_ALLOW_PRIVATE", "true")
    monkeypatch.setenv("SAHELCAST_WEBHOOK_BACKOFF_SECONDS", "0")
    get_settings.cache_clear()
    with receiver() as state:
        yield state


def test_subscribe_list_test_deliver_remove(hook: Receiver, engine: Engine) -> None:
    with session_scope(engine) as session:  # the catalogue the filter is checked against
        make_series(session, [3.0] * 12, country="Mali", region="Mopti")
    created = runner.invoke(
        app,
        [
            "alerts",
            "subscribe",
            "--url",
            hook.url,
            "--name",
            "ops",
            "--country",
            "Mali",
            "--min-severity",
            "high",
        ],
    )
    assert created.exit_code == 0, created.output
    assert created.stdout.strip().splitlines()[-1].startswith("whsec_")
    listed = runner.invoke(app, ["alerts", "list"])
    assert "ops" in listed.output
    assert "country=Mali" in listed.output
    tested = runner.invoke(app, ["alerts", "test", "1"])
    assert tested.exit_code == 0
    assert "accepted" in tested.output
    assert json.loads(hook.requests[0].body)["type"] == "sahelcast.test"
    with session_scope(engine) as session:
        published_world(session)
    delivered = runner.invoke(app, ["alerts", "deliver"])
    assert delivered.exit_code == 0
    assert "delivered 1" in delivered.output
    assert json.loads(hook.requests[1].body)["type"] == "sahelcast.anomaly"
    [subscription] = json.loads(runner.invoke(app, ["alerts", "list", "-f", "json"]).stdout)
    assert subscription["last_delivery"]["attempts"] == 1
    table = runner.invoke(app, ["alerts", "list"]).output  # "delivered (1 attempt)", maybe folded
    assert "attempt)" in table
    assert "attempts)" not in table
    hook.statuses = [500]
    assert runner.invoke(app, ["alerts", "test", "1"]).exit_code == 1
    assert runner.invoke(app, ["alerts", "remove", "1"]).exit_code == 0
    assert runner.invoke(app, ["alerts", "remove", "1"]).exit_code == 2
    assert runner.invoke(app, ["alerts", "test", "1"]).exit_code == 2


def test_refusals(settings: Settings) -> None:
    refused = runner.invoke(
        app, ["alerts", "subscribe", "--url", "http://10.0.0.1/x", "--name", "x"]
    )
    assert refused.exit_code == 2
    assert "refused" in refused.output
    bad = runner.invoke(
        app,
        [
            "alerts",
            "subscribe",
            "--url",
            "https://example.org/x",
            "--name",
            "x",
            "--min-severity",
            "extreme",
        ],
    )
    assert bad.exit_code == 2


def test_new_anomalies_are_delivered_through_the_hook(hook: Receiver, engine: Engine) -> None:
    assert (
        runner.invoke(app, ["alerts", "subscribe", "--url", hook.url, "--name", "ops"]).exit_code
        == 0
    )
    with session_scope(engine) as session:
        world = published_world(session)
    hooks.register()
    try:
        with session_scope(engine) as session:
            anomaly = world["anomaly"]
            assert isinstance(anomaly, Anomaly)
            found = get_anomaly(session, anomaly.id)
        assert events.emit([found]) == []  # type: ignore[list-item]
    finally:
        events.remove_listener(hooks.deliver_new)
    assert len(hook.requests) == 2  # everything pending, not only what was just found
    with session_scope(engine) as session:
        assert {d.status for d in session.scalars(select(Delivery))} == {"delivered"}
