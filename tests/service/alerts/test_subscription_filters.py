"""Subscriptions that cannot silently fail: filters checked against the catalogue (422 and CLI
exit 2 naming the close matches), a measure filter, and the sample payload a subscription gets."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import Engine
from typer.testing import CliRunner

from service.alerts.payload import AlertItem
from service.alerts.service import SubscriptionSpec, matches, subscribe
from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.escalations.repository import get_escalation
from service.escalations.service import group
from service.series.orm import Series
from service.series.repository import get_series
from tests.service.alerts.conftest import reaching_the_hook
from tests.service.api.builders import make_anomaly, make_key
from tests.service.api.conftest import assert_problem, make_client
from tests.service.builders import make_series

JUNE = dt.date(2023, 6, 1)
runner = CliRunner(env={"COLUMNS": "200"})


def _catalogue(engine: Engine) -> tuple[str, int]:
    """JNIM in Sahel (Burkina Faso), ISGS in Mopti (Mali); an admin key."""
    with session_scope(engine) as session:
        jnim = make_series(session, [3.0] * 12, country="Burkina Faso", region="Sahel",
                           actor="JNIM")  # fmt: skip
        make_series(session, [3.0] * 12, country="Mali", region="Mopti", actor="ISGS")
        return make_key(session, "admin"), jnim.id


def test_an_unknown_actor_is_a_422_naming_close_matches(engine: Engine, settings: Settings) -> None:
    admin = {"X-API-Key": _catalogue(engine)[0]}
    with make_client(reaching_the_hook(settings)) as api:
        hook = "http://127.0.0.1:9/hook"
        typo = api.post("/v1/subscriptions", headers=admin,
                        json={"name": "typo", "url": hook, "actor": "JNMI"})  # fmt: skip
        body = assert_problem(typo, 422, "unknown-filter")
        assert body["close_matches"] == ["JNIM"]
        assert body["errors"][0]["name"] == "actor"
        assert "'JNIM'" in body["detail"]
        country = api.post("/v1/subscriptions", headers=admin,
                           json={"name": "c", "url": hook, "country": "Burkina"})  # fmt: skip
        assert assert_problem(country, 422, "unknown-filter")["close_matches"] == ["Burkina Faso"]
        # A region of another country would never fire either.
        elsewhere = api.post(
            "/v1/subscriptions",
            headers=admin,
            json={"name": "r", "url": hook, "country": "Mali", "region": "Sahel"},
        )
        assert_problem(elsewhere, 422, "unknown-filter")
        # Known names, any case, are stored as the catalogue spells them.
        made = api.post("/v1/subscriptions", headers=admin,
                        json={"name": "ok", "url": hook, "actor": "jnim", "country": "burkina faso",
                              "measure": "fatalities"})  # fmt: skip
        assert made.status_code == 201, made.text
        assert (made.json()["actor"], made.json()["country"]) == ("JNIM", "Burkina Faso")
        assert made.json()["measure"] == "fatalities"
        patched = api.patch(f"/v1/subscriptions/{made.json()['id']}", headers=admin,
                            json={"actor": "ISG"})  # fmt: skip
        assert assert_problem(patched, 422, "unknown-filter")["close_matches"] == ["ISGS"]
        # The CLI the same.
        result = runner.invoke(app, ["alerts", "subscribe", "--url", hook, "--name", "typo",
                                     "--actor", "JNMI", "--country", "Burkina"])  # fmt: skip
        assert result.exit_code == 2, result.output
        assert "--actor refused: unknown actor 'JNMI'; did you mean 'JNIM'?" in result.output
        assert "--country refused: unknown country 'Burkina'; did you mean 'Burkina Faso'?" in (
            result.output
        )


def test_a_measure_filter_and_the_sample_payload(engine: Engine, settings: Settings) -> None:
    key, jnim = _catalogue(engine)
    admin = {"X-API-Key": key}
    with make_client(reaching_the_hook(settings)) as api:
        empty = api.get("/v1/subscriptions/sample?actor=JNIM", headers=admin).json()
        assert empty["source"] == "example"
        assert empty["payload"]["example"] is True
        assert empty["payload"]["text"].startswith("EXAMPLE")
        assert_problem(api.get("/v1/subscriptions/sample?actor=JNMI", headers=admin), 422,
                       "unknown-filter")  # fmt: skip
        with session_scope(engine) as session:
            label, series = get_series(session, jnim), session.get(Series, jnim)
            assert label is not None
            assert series is not None
            anomaly = make_anomaly(session, series, month=JUNE, observed=45)
            group(session, [anomaly])
            escalation = get_escalation(session, anomaly.escalation_id or 0)
            assert escalation is not None
            item = AlertItem(anomaly, label, escalation)
            events, deaths = (
                subscribe(session, SubscriptionSpec(name=m, url="http://127.0.0.1:9/", measure=m),
                          reaching_the_hook(settings))[0]
                for m in ("events", "fatalities")
            )  # fmt: skip
            assert (matches(events, item), matches(deaths, item)) == (True, False)
        real = api.get("/v1/subscriptions/sample?actor=JNIM&measure=events", headers=admin).json()
        assert real["source"] == "escalation"
        assert real["payload"]["escalation"]["id"] == escalation.id
        assert real["payload"]["text"].count("JNIM in Sahel: 45 events vs 6 expected") == 1
        result = runner.invoke(app, ["alerts", "sample", "--actor", "JNIM"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["source"] == "escalation"
