"""Alerts end to end with a real local receiver: signatures, retries, idempotency, filters, SSRF."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from service.alerts.orm import Delivery
from service.alerts.signing import verify
from service.config import Settings
from service.db import session_scope
from tests.service.alerts.conftest import deliver, reaching_the_hook
from tests.service.alerts.receiver import Receiver
from tests.service.api.builders import make_anomaly, make_key, published_ids
from tests.service.api.conftest import assert_problem, make_client
from tests.service.builders import built, make_series


@dataclass
class Desk:
    """An admin at the API, the local receiver it subscribes, and the settings alerts go out on
    (webhooks may reach the receiver; quick retries, four attempts at most)."""

    api: TestClient
    admin: dict[str, str]
    hook: Receiver
    engine: Engine
    settings: Settings

    def subscribe(self, **filters: Any) -> dict[str, Any]:
        """Subscribe the receiver with `filters`, through the API."""
        body = {"name": "ops", "url": self.hook.url, **filters}
        response = self.api.post("/v1/subscriptions", headers=self.admin, json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def deliver(self, settings: Settings | None = None) -> dict[str, int]:
        return deliver(self.engine, settings or self.settings)


@pytest.fixture
def desk(engine: Engine, settings: Settings, hook: Receiver) -> Iterator[Desk]:
    local = reaching_the_hook(settings, webhook_max_attempts=4)
    with session_scope(engine) as session:
        admin = {"X-API-Key": make_key(session, "admin")}
    with make_client(local) as api:
        yield Desk(api, admin, hook, engine, local)


@pytest.fixture
def world(engine: Engine) -> dict[str, int]:
    return built(engine, published_ids)


def test_alert_is_signed_with_slack_text_and_delivered_once(
    desk: Desk, world: dict[str, int]
) -> None:
    api, admin, hook = desk.api, desk.admin, desk.hook
    created = desk.subscribe(country="mali", min_severity="medium")
    assert created["secret"].startswith("whsec_")
    assert "secret" not in api.get(f"/v1/subscriptions/{created['id']}", headers=admin).json()
    assert desk.deliver() == {"delivered": 1, "failed": 0, "deferred": 0}
    [request] = hook.requests
    assert request.path == "/hooks/sahelcast"
    assert verify(
        created["secret"],
        request.headers["x-sahelcast-signature"],
        request.body,
        now=int(request.headers["x-sahelcast-timestamp"]),  # checked as it arrived
    )
    assert request.headers["x-sahelcast-timestamp"] == request.headers[
        "x-sahelcast-signature"
    ].split(",")[0].removeprefix("t=")
    key = request.headers["x-sahelcast-idempotency-key"]
    assert key == f"sahelcast-s{created['id']}-a{world['anomaly']}"
    payload = json.loads(request.body)
    assert payload["type"] == "sahelcast.anomaly"
    assert payload["idempotency_key"] == key
    assert payload["anomaly"]["id"] == world["anomaly"]
    assert payload["series"]["actor"] == "JNIM"
    assert "JNIM in Mopti, Mali (Battles): 25 events in 2023-01" in payload["text"]
    assert "HIGH" in payload["text"]
    judged = payload["anomaly"]
    assert (judged["horizon"], judged["forecast_origin"]) == (1, "2022-12-01")
    assert "forecast 1 month ahead from 2022-12" in payload["text"]
    # Delivered alerts are not sent again; the low-severity Gao anomaly never matched.
    assert desk.deliver() == {"delivered": 0, "failed": 0, "deferred": 0}
    assert len(hook.requests) == 1
    log = api.get(f"/v1/subscriptions/{created['id']}/deliveries", headers=admin).json()
    assert [(d["status"], d["attempts"], d["response_code"]) for d in log["items"]] == [
        ("delivered", 1, 200)
    ]


@pytest.mark.usefixtures("world")
def test_subscriptions_and_deliveries_as_csv(desk: Desk) -> None:
    api, admin = desk.api, desk.admin
    created = desk.subscribe(country="mali", min_severity="medium")
    desk.subscribe(actor="JNIM", measure="events")
    assert desk.deliver()["delivered"] >= 1
    listed = api.get("/v1/subscriptions", headers=admin).json()["items"]
    answer = api.get("/v1/subscriptions?format=csv", headers=admin)
    assert answer.status_code == 200, answer.text
    assert 'filename="subscriptions.csv"' in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(int(r["id"]), r["country"], r["actor"], r["active"]) for r in rows] == [
        (s["id"], s["country"] or "", s["actor"] or "", "true") for s in listed
    ]
    assert "secret" not in rows[0]
    log = api.get(f"/v1/subscriptions/{created['id']}/deliveries", headers=admin).json()
    answer = api.get(
        f"/v1/subscriptions/{created['id']}/deliveries", params={"format": "csv"}, headers=admin
    )
    assert answer.status_code == 200, answer.text
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [(int(r["id"]), r["status"], r["response_code"]) for r in rows] == [
        (d["id"], d["status"], str(d["response_code"])) for d in log["items"]
    ]
    assert (log["total"], log["limit"], log["offset"]) == (len(rows), 100, 0)
    read = {"X-API-Key": _read_key(desk)}
    assert api.get("/v1/subscriptions?format=csv", headers=read).status_code == 403


def _read_key(desk: Desk) -> str:
    with session_scope(desk.engine) as session:
        return make_key(session, "read")


@pytest.mark.usefixtures("world")
def test_retries_after_server_errors_keep_the_idempotency_key(desk: Desk) -> None:
    desk.subscribe(actor="JNIM")
    desk.hook.statuses = [500, 503, 200]
    assert desk.deliver()["delivered"] == 1
    keys = {r.headers["x-sahelcast-idempotency-key"] for r in desk.hook.requests}
    bodies = {r.body for r in desk.hook.requests}
    assert len(desk.hook.requests) == 3
    assert len(keys) == 1
    assert len(bodies) == 1
    with session_scope(desk.engine) as session:
        delivery = session.scalars(select(Delivery)).one()
        assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)


def test_a_dead_hook_is_retried_next_round_and_never_lost(
    desk: Desk, world: dict[str, int]
) -> None:
    subscription = desk.subscribe()["id"]  # both anomalies match
    desk.hook.statuses = [500] * 4
    assert desk.deliver() == {"delivered": 0, "failed": 1, "deferred": 1}
    assert len(desk.hook.requests) == 4  # bounded: max attempts, then the other alert waits
    with session_scope(desk.engine) as session:
        rows = {d.anomaly_id: d for d in session.scalars(select(Delivery))}
        failed = rows[world["anomaly"]]
        assert failed.status == "failed"
        assert failed.attempts == 4
        assert failed.response_code == 500
        assert "HTTP 500" in (failed.last_error or "")
        assert rows[world["quiet"]].status == "pending"
    assert desk.deliver() == {"delivered": 2, "failed": 0, "deferred": 0}
    keys = [r.headers["x-sahelcast-idempotency-key"] for r in desk.hook.requests]
    first, second = (f"sahelcast-s{subscription}-a{world[n]}" for n in ("anomaly", "quiet"))
    assert keys == [first] * 5 + [second]  # the same key on every retry, in every round
    with session_scope(desk.engine) as session:
        assert {d.status for d in session.scalars(select(Delivery))} == {"delivered"}


@pytest.mark.usefixtures("world")
def test_client_errors_are_not_retried(desk: Desk) -> None:
    desk.subscribe(min_severity="high")
    desk.hook.statuses = [410]
    assert desk.deliver()["failed"] == 1
    assert len(desk.hook.requests) == 1


@pytest.mark.usefixtures("world")
def test_filters_acknowledged_and_backtest_anomalies(desk: Desk) -> None:
    desk.subscribe(country="Burkina Faso")
    desk.subscribe(direction="below", region="Mopti")
    with session_scope(desk.engine) as session:
        series = make_series(
            session, [1, 2], country="Burkina Faso", region="Sahel", actor="Ansaroul Islam"
        )
        make_anomaly(session, series, origin="backtest")
        make_anomaly(session, series, status="acknowledged", month=dt.date(2023, 2, 1))
        make_anomaly(session, series, alert=False, month=dt.date(2023, 3, 1))
    assert desk.deliver() == {"delivered": 0, "failed": 0, "deferred": 0}
    assert desk.hook.requests == []


def test_test_delivery_via_api(desk: Desk) -> None:
    api, admin, hook = desk.api, desk.admin, desk.hook
    created = desk.subscribe()
    result = api.post(f"/v1/subscriptions/{created['id']}/test", headers=admin).json()
    assert result["kind"] == "test"
    assert result["status"] == "delivered"
    [request] = hook.requests
    assert json.loads(request.body)["type"] == "sahelcast.test"
    assert verify(
        created["secret"],
        request.headers["x-sahelcast-signature"],
        request.body,
        now=int(request.headers["x-sahelcast-timestamp"]),  # checked as it arrived
    )
    hook.statuses = [500]
    failed = api.post(f"/v1/subscriptions/{created['id']}/test", headers=admin).json()
    assert failed["status"] == "failed"
    assert failed["response_code"] == 500
    assert api.delete(f"/v1/subscriptions/{created['id']}", headers=admin).status_code == 204
    assert_problem(api.get(f"/v1/subscriptions/{created['id']}", headers=admin), 404)
    assert api.get("/v1/subscriptions", headers=admin).json() == {"items": []}


@pytest.mark.usefixtures("world")
def test_ssrf_is_refused(desk: Desk, settings: Settings) -> None:
    hook = desk.hook
    with make_client(settings) as strict:
        for url in (
            hook.url,
            hook.url.replace("127.0.0.1", "localhost"),
            "http://169.254.169.254/latest/meta-data/",
        ):
            response = strict.post(
                "/v1/subscriptions", headers=desk.admin, json={"name": "x", "url": url}
            )
            body = assert_problem(response, 422, "unsafe-webhook-url")
            assert body["errors"][0]["name"] == "url"
    # A hook accepted while private addresses were allowed is still refused once they are not.
    desk.subscribe()  # through the desk's app, which allows them
    assert desk.deliver(settings) == {"delivered": 0, "failed": 1, "deferred": 1}
    assert hook.requests == []
    with session_scope(desk.engine) as session:
        refused = [d for d in session.scalars(select(Delivery)) if d.status == "failed"]
        assert refused[0].attempts == 1
        assert (refused[0].last_error or "").startswith("refused")


@pytest.mark.usefixtures("world")
def test_change_and_pause_a_subscription(desk: Desk) -> None:
    api, admin = desk.api, desk.admin
    with session_scope(desk.engine) as session:  # a country the catalogue knows, quiet
        make_series(session, [3.0] * 12, country="Niger", region="Tillaberi")
    created = desk.subscribe(country="Niger")
    url = f"/v1/subscriptions/{created['id']}"
    assert desk.deliver()["delivered"] == 0
    paused = api.patch(url, headers=admin, json={"country": None, "active": False}).json()
    assert paused["country"] is None
    assert paused["active"] is False
    assert desk.deliver()["delivered"] == 0
    resumed = api.patch(url, headers=admin, json={"active": True, "min_severity": "high"}).json()
    assert resumed["min_severity"] == "high"
    assert desk.deliver()["delivered"] == 1
    assert_problem(api.patch(url, headers=admin, json={"name": None}), 422)
    refused = api.patch(url, headers=admin, json={"url": "http://10.0.0.1/"})
    assert refused.status_code == 200  # private addresses are allowed in this app...
    with make_client(desk.settings.model_copy(update={"webhook_allow_private": False})) as strict:
        moved = strict.patch(url, headers=admin, json={"url": "http://10.0.0.2/"})
        assert_problem(moved, 422, "unsafe-webhook-url")  # ...but not in this one
    assert_problem(api.patch("/v1/subscriptions/999", headers=admin, json={}), 404)
