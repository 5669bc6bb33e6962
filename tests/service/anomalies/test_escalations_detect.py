"""Escalations through the real engine and `sahelcast detect`: a surge in one region of an actor,
flagged at its region and at the actor's country total, is one escalation and one alert."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from service.anomalies.orm import Anomaly
from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.escalations.orm import Escalation
from service.ingest.orm import Source
from service.training.orm import Forecast
from service.training.service import TrainRequest, train
from tests.service.builders import START, add_months, make_series, seasonal_counts, set_coverage

runner = CliRunner()
JULY = dt.date(2023, 7, 1)


def test_detect_prints_one_alert_for_a_surge_seen_at_two_levels(
    engine: Engine, train_settings: Settings
) -> None:
    regions = ("Nord", "Sahel", "Est")
    counts = {r: seasonal_counts(84, base=6, rate_ratio=2.0, region=r, seed=i)
              for i, r in enumerate(regions)}  # fmt: skip
    with session_scope(engine) as session:
        parts = {
            r: make_series(session, c.tolist(), region=r, actor="JNIM") for r, c in counts.items()
        }
        total = make_series(session, np.sum(list(counts.values()), axis=0).tolist(), actor="JNIM")
        ids = {"nord": parts["Nord"].id, "total": total.id}
    run_id = train(engine, train_settings, TrainRequest.from_settings(train_settings)).run_id
    with session_scope(engine) as session:
        upper = {
            f.series_id: f.q975
            for f in session.scalars(select(Forecast).where(Forecast.run_id == run_id,
                                                            Forecast.month == JULY))
        }  # fmt: skip
        medians = {
            (f.series_id, f.month): f.q500
            for f in session.scalars(select(Forecast).where(Forecast.run_id == run_id))
        }
        series = {**{r: parts[r] for r in regions}, "total": total}
        surge = 6 * upper[ids["nord"]] + upper[ids["total"]] + 20
        new: dict[str, list[float]] = {}
        for name, s in series.items():
            months = [dt.date(2023, m, 1) for m in range(1, 8)]
            new[name] = [round(medians[(s.id, m)]) for m in months]
        new["Nord"][6] += surge
        new["total"][6] += surge
        for name, s in series.items():
            add_months(session, s, new[name], dt.date(2023, 1, 1))
        source = session.get(Source, total.source_id)
        assert source is not None
        set_coverage(session, source, total.country, START, JULY)
    result = runner.invoke(app, ["detect"])
    assert result.exit_code == 0, result.output
    assert "1 new alerts (one per escalation" in result.output
    assert "Nord" in result.output  # the parts column (rich wraps the table to the terminal)
    with session_scope(engine) as session:
        live = list(session.scalars(select(Anomaly).where(Anomaly.origin == "live",
                                                          Anomaly.month == JULY)))  # fmt: skip
        [escalation] = session.scalars(select(Escalation).where(Escalation.origin == "live"))
    assert {a.series_id for a in live} >= {ids["nord"], ids["total"]}
    assert [a.series_id for a in live if a.alert] == [ids["total"]]
    assert escalation.headline_level == "actor_country"
    assert escalation.alerts == 1
    # The dashboard shows the grouping: both rows name the one escalation and its headline.
    from fastapi.testclient import TestClient

    from service.api.app import create_app

    with TestClient(create_app(train_settings.model_copy(update={"public_read": True}))) as client:
        html = client.get("/", params={"actor": "JNIM"}).text
    table = html[html.index('id="anomalies"') :]
    assert table.count(f">#{escalation.id}</a>") >= 2
    assert "alerted" in table
    assert "part of it" in table
