"""A new actor or region is news, not noise: one `new` record, not a flood of anomalies."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from service.alerts.payload import AlertItem, anomaly_text
from service.anomalies.detect import detect
from service.anomalies.orm import Anomaly
from service.anomalies.repository import list_anomalies
from service.anomalies.schemas import AnomalyFilter
from service.cli import app
from service.cli.common import console
from service.config import Settings
from service.db import session_scope
from service.series.repository import find_series
from service.training.service import TrainRequest, train
from tests.service.anomalies.test_detect import NEW_YEAR, _medians, _observe, _trained_world
from tests.service.builders import START, make_series, month_after, seasonal_counts

LATE = dt.date(2021, 7, 1)  # inside the backtest window of an 84-month series


def _anomalies(engine: Engine, series_id: int) -> list[Anomaly]:
    with session_scope(engine) as session:
        rows = session.scalars(
            select(Anomaly).where(Anomaly.series_id == series_id).order_by(Anomaly.month)
        ).all()
        session.expunge_all()
    return list(rows)


def test_a_series_that_starts_late_gets_one_new_record_in_the_backtest(
    engine: Engine, train_settings: Settings
) -> None:
    counts = seasonal_counts(84, base=6, rate_ratio=1.5, region="Nord", seed=5)
    late = (LATE.year - START.year) * 12 + LATE.month - 1
    counts[:late] = 0  # Wagner has no event before July 2021
    counts[late:] = np.maximum(counts[late:], 3)
    with session_scope(engine) as session:
        make_series(session, seasonal_counts(84, base=5, region="Nord", seed=1), region="Nord",
                    actor="JNIM")  # fmt: skip
        newcomer = make_series(session, counts, region="Nord", actor="Wagner Group")
    train(engine, train_settings, TrainRequest.from_settings(train_settings))
    with session_scope(engine) as session:
        first = detect(session)
    rows = [a for a in _anomalies(engine, newcomer.id) if a.origin == "backtest"]
    new = [a for a in rows if a.kind == "new"]
    assert len(new) == 1
    assert first.new >= 1
    [record] = new
    assert record.month >= LATE
    assert not record.alert  # the backtest is evaluation history: it never alerts
    assert record.forecast_origin is not None
    assert record.forecast_origin < LATE  # judged by a forecast that never saw the series
    # No interval anomaly was judged by a forecast from before the series existed.
    judged_blind = [a for a in rows if a.kind == "interval" and a.forecast_origin
                    and a.forecast_origin < LATE]  # fmt: skip
    assert judged_blind == []
    with session_scope(engine) as session:
        again = detect(session)
    assert again.new == 0
    assert len([a for a in _anomalies(engine, newcomer.id) if a.kind == "new"]) == 1


def test_a_new_actor_after_the_run_is_one_live_alert_once(
    engine: Engine, train_settings: Settings
) -> None:
    series, run_id = _trained_world(engine, train_settings)
    with session_scope(engine) as session:
        values = {s.id: _medians(session, run_id, s.id, 3) for s in series}
        _observe(session, series, values, 3)
        # A new actor appears in Sahel in the first month after the run's data, and stays.
        newcomer = make_series(session, [6, 6, 5], region="Sahel", actor="Wagner Group",
                               start=NEW_YEAR)  # fmt: skip
        # Fishers with two events in Est: on record as new, too small to alert anyone.
        small = make_series(session, [2, 1, 0], region="Est", actor="Fishers", start=NEW_YEAR)
    with session_scope(engine) as session:
        report = detect(session)
        texts = []
        for read in report.alerts:
            anomaly = session.get(Anomaly, read.id)
            assert anomaly is not None
            texts.append(anomaly_text(AlertItem(anomaly, read.series)))
    assert report.new == 2
    assert [a for a in report.alerts if a.series_id == small.id] == []
    assert [a.kind for a in _anomalies(engine, small.id)] == ["new"]
    [alert] = [a for a in report.alerts if a.series_id == newcomer.id]
    assert (alert.kind, alert.origin, alert.month, alert.observed) == ("new", "live", NEW_YEAR, 6)
    assert (alert.forecast_origin, alert.horizon) == (month_after(NEW_YEAR, -1), 1)
    assert alert.run_id == run_id
    assert any("*NEW* New actor: Wagner Group in Sahel, Burkina Faso: 6 events in 2023-01" in t
               for t in texts)  # fmt: skip
    # Only that one record for the three months; detecting again adds nothing, alerts nothing.
    assert [a.kind for a in _anomalies(engine, newcomer.id)] == ["new"]
    with session_scope(engine) as session:
        again = detect(session)
        assert find_series(session, newcomer.key) is not None
    assert (again.new, again.alerts) == (0, [])


def test_sahelcast_detect_shows_the_new_series_with_its_judging_forecast(
    engine: Engine, train_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console, "width", 200)  # one table row per alert, whatever the terminal
    series, run_id = _trained_world(engine, train_settings)
    with session_scope(engine) as session:
        _observe(session, series, {s.id: _medians(session, run_id, s.id, 2) for s in series}, 2)
        make_series(session, [7, 2], region="Est", actor="Wagner Group", start=NEW_YEAR)
    result = CliRunner().invoke(app, ["detect"])
    assert result.exit_code == 0, result.output
    assert "1 new series" in result.output
    row = next(line for line in result.output.splitlines() if "Wagner Group" in line)
    # month, series, observed, range, kind, severity, season, horizon, forecast origin
    assert "new series" in row
    assert row.split("│")[-3].strip() == "1"  # one month ahead
    assert row.split("│")[-2].strip() == "2022-12"  # the run's data end


def test_a_new_actor_alerts_once_at_its_coarsest_new_series(
    engine: Engine, train_settings: Settings
) -> None:
    series, run_id = _trained_world(engine, train_settings)
    with session_scope(engine) as session:
        _observe(session, series, {s.id: _medians(session, run_id, s.id, 2) for s in series}, 2)
        # Wagner appears in two regions at once: new at actor × region and actor × country.
        country = make_series(session, [9, 4], actor="Wagner Group", start=NEW_YEAR)
        regions = [
            make_series(session, counts, region=region, actor="Wagner Group", start=NEW_YEAR)
            for region, counts in (("Sahel", [5, 4]), ("Est", [4, 0]))
        ]  # fmt: skip
    with session_scope(engine) as session:
        report = detect(session)
    assert report.new == 3  # each new series is on record ...
    newcomers = {country.id, *(s.id for s in regions)}
    # ... and the actor is announced once, by the country-wide series above the regions.
    assert [a.series_id for a in report.alerts if a.series_id in newcomers] == [country.id]
    for s in regions:
        [record] = _anomalies(engine, s.id)
        assert (record.kind, record.alert) == ("new", False)
    with session_scope(engine) as session:
        news, total = list_anomalies(session, AnomalyFilter(kind="new"))
        assert {a.series_id for a in news} == newcomers
        assert total == 3
        rest, _ = list_anomalies(session, AnomalyFilter(kind="interval"), limit=1000)
        assert not {a.series_id for a in rest} & newcomers
    listed = CliRunner().invoke(app, ["anomalies", "list", "--kind", "new", "--format", "json"])
    assert {a["series_id"] for a in json.loads(listed.stdout)} == newcomers
