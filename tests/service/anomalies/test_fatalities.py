"""Fatalities as a second measure: their own runs and dispersion, their own anomalies, and one
escalation that re-alerts when the other measure joins it; read through the API and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from service.alerts.payload import AlertItem, anomaly_payload
from service.anomalies.detect import detect
from service.anomalies.orm import Anomaly
from service.anomalies.repository import list_anomalies
from service.anomalies.schemas import AnomalyFilter
from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.escalations.repository import EscalationFilter, list_escalations
from service.forecasts.repository import published_runs
from service.series.orm import Coverage, Observation, Series
from service.series.repository import get_series
from service.training.orm import Forecast, RunSeries
from service.training.service import TrainRequest, train_measures
from tests.service.api.conftest import make_client
from tests.service.builders import make_world, month_after

JAN, FEB, MAR = dt.date(2023, 1, 1), dt.date(2023, 2, 1), dt.date(2023, 3, 1)
runner = CliRunner(env={"COLUMNS": "200"})


def _deaths(session: Session, series: list[Series]) -> None:
    """Deaths per month: about three per event, heavy-tailed (a negative binomial with shape
    half the events: a few deadly months carry most of the deaths)."""
    rng = np.random.default_rng(7)
    for s in series:
        for row in session.scalars(select(Observation).where(Observation.series_id == s.id)):
            row.fatalities = int(rng.negative_binomial(0.5 * row.events, 1 / 7))
    session.flush()


def _trained(engine: Engine, settings: Settings) -> tuple[list[Series], dict[str, int]]:
    with session_scope(engine) as session:
        series = make_world(session, regions=("Nord", "Sahel", "Est"), base=6.0)
        _deaths(session, series)
    outcome = train_measures(engine, settings, TrainRequest.from_settings(settings))
    assert [o.measure for o in outcome.outcomes] == ["events", "fatalities"]
    return series, {o.measure: o.run_id for o in outcome.outcomes}


def _forecast(session: Session, run_id: int, series_id: int, month: dt.date) -> Forecast:
    found = session.get(Forecast, (run_id, series_id, month))
    assert found is not None
    return found


def _observe(
    session: Session, runs: dict[str, int], series: list[Series], month: dt.date,
    surge: dict[tuple[int, str], float],
) -> None:  # fmt: skip
    """Record `month` for every series at the median of each measure's forecast, except the
    (series, measure) pairs in `surge`, set to that many times the 97.5 % quantile plus 20."""
    for s in series:
        counts = {}
        for measure, run_id in runs.items():
            f = _forecast(session, run_id, s.id, month)
            factor = surge.get((s.id, measure))
            counts[measure] = int(factor * f.q975 + 20) if factor else int(f.q500)
        session.add(Observation(series_id=s.id, month=month, **counts))
    coverage = session.scalar(select(Coverage))
    assert coverage is not None
    coverage.last_complete_month = month
    session.flush()


def test_fatalities_have_their_own_run_dispersion_and_reads(
    engine: Engine, train_settings: Settings, tmp_path: Path
) -> None:
    series, runs = _trained(engine, train_settings)
    with session_scope(engine) as session:
        assert published_runs(session) == runs
        for s in series:
            results = {m: session.get(RunSeries, (runs[m], s.id)) for m in runs}
            events, deaths = results["events"], results["fatalities"]
            assert events is not None
            assert deaths is not None
            # Deaths are events x deaths per event: the deaths run carries the rate it
            # multiplied by, the events run does not.
            assert 1.5 < deaths.summary["deaths_per_event"] < 6
            assert "deaths_per_event" not in events.summary
            e, d = (_forecast(session, runs[m], s.id, JAN) for m in ("events", "fatalities"))
            assert 1.5 < d.mean / e.mean < 6  # about three deaths per event
            assert (d.q975 - d.q025) / d.mean > (e.q975 - e.q025) / e.mean
    nord = series[0]
    with make_client(train_settings, public_read=True) as client:
        for measure, run_id in runs.items():
            body = client.get(f"/v1/series/{nord.id}/forecast?measure={measure}").json()
            assert (body["measure"], body["run_id"]) == (measure, run_id)
            with session_scope(engine) as session:
                expected = _forecast(session, run_id, nord.id, JAN).mean
            assert body["months"][0]["mean"] == expected
            season = client.get(f"/v1/series/{nord.id}/season?measure={measure}").json()
            assert (season["measure"], season["run_id"]) == (measure, run_id)
        assert client.get(f"/v1/series/{nord.id}/forecast?measure=deaths").status_code == 422
        listed = client.get("/v1/runs").json()
        assert listed["published_run_ids"] == runs
        assert {r["measure"] for r in listed["items"]} == {"events", "fatalities"}
    out = tmp_path / "nord-deaths.svg"
    result = runner.invoke(app, ["plot", str(nord.id), "--measure", "fatalities", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"deaths, forecast of run {runs['fatalities']}" in result.output
    text = out.read_text()
    assert "deaths per month" in text
    assert "Monthly deaths from" in text


def test_a_massacre_is_flagged_in_deaths_and_the_escalation_realerts_when_events_join(
    engine: Engine, train_settings: Settings
) -> None:
    series, runs = _trained(engine, train_settings)
    nord = series[0]  # JNIM in Nord
    with session_scope(engine) as session:
        detect(session)  # the backtests of both runs, out of the way
        backtest = {
            a.id for a in list_anomalies(session, AnomalyFilter(origin=None), limit=10_000)[0]
        }
    # January: as many events as expected, but ten times the deaths (a massacre).
    with session_scope(engine) as session:
        _observe(session, runs, series, JAN, {(nord.id, "fatalities"): 10})
    with session_scope(engine) as session:
        report = detect(session)
    assert report.live == 1
    [alert] = report.alerts
    assert (alert.series_id, alert.month, alert.measure) == (nord.id, JAN, "fatalities")
    assert alert.run_id == runs["fatalities"]
    with session_scope(engine) as session:
        [escalation] = list_escalations(session, EscalationFilter(origin="live", actor="JNIM"))[0]
        assert (escalation.measures, escalation.alerts) == (["fatalities"], 1)
        anomaly = session.get(Anomaly, alert.id)
        assert anomaly is not None
        label = get_series(session, nord.id)
        assert label is not None
        body = json.loads(anomaly_payload(AlertItem(anomaly, label, escalation), 1, "k"))
    assert body["anomaly"]["measure"] == "fatalities"
    # The escalation's headline: who, where, how much against what, since when.
    assert f"JNIM in Nord: {anomaly.observed} deaths vs " in body["text"]
    assert "since January 2023" in body["text"]
    assert body["link"] == (
        f"/?series={nord.id}&escalation={escalation.id}&measure=fatalities#anomalies"
    )
    assert body["escalation"]["measures"] == ["fatalities"]
    # February: the events surge too. The running escalation gains a measure: one re-alert.
    with session_scope(engine) as session:
        _observe(session, runs, series, FEB,
                 {(nord.id, "fatalities"): 10, (nord.id, "events"): 10})  # fmt: skip
    with session_scope(engine) as session:
        report = detect(session)
    assert {(a.measure, a.month) for a in report.alerts} <= {("events", FEB), ("fatalities", FEB)}
    assert len(report.alerts) == 1
    with session_scope(engine) as session:
        [escalation] = list_escalations(session, EscalationFilter(origin="live", actor="JNIM"))[0]
        assert escalation.measures == ["events", "fatalities"]
        assert escalation.alerts == 2
        assert {(p.series.id, p.measure) for p in escalation.parts} == {
            (nord.id, "events"), (nord.id, "fatalities")
        }  # fmt: skip
    # March: more of the same, no worse and nothing new: no alert.
    with session_scope(engine) as session:
        _observe(session, runs, series, MAR,
                 {(nord.id, "fatalities"): 10, (nord.id, "events"): 10})  # fmt: skip
    with session_scope(engine) as session:
        assert detect(session).alerts == []
        deaths, _ = list_anomalies(session, AnomalyFilter(origin="live", measure="fatalities"))
        events, _ = list_anomalies(session, AnomalyFilter(origin="live", measure="events"))
    assert {a.month for a in deaths} == {JAN, FEB, MAR}
    assert {a.month for a in events} == {FEB, MAR}
    assert not backtest & {a.id for a in deaths + events}
    result = runner.invoke(app, ["anomalies", "list", "--measure", "fatalities", "--origin",
                                 "live", "-f", "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert {(r["measure"], r["month"]) for r in listed} == {
        ("fatalities", month_after(JAN, k).isoformat()) for k in range(3)
    }
