"""Detection against the database: surges flagged, quiet series not, idempotence, suppression,
backtest scan, run scores, the alerts hook, and the read functions the API uses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from service.anomalies import events
from service.anomalies.detect import detect
from service.anomalies.orm import Anomaly, RunScore
from service.anomalies.repository import accuracy_report, list_anomalies
from service.anomalies.schemas import AnomalyFilter, AnomalyRead
from service.anomalies.service import AnomalyNotFound, acknowledge
from service.config import Settings
from service.db import session_scope
from service.ingest.orm import Source
from service.jobs.steps import detect_step
from service.series.orm import Series
from service.series.repository import SeriesFilter
from service.training.orm import Forecast
from service.training.service import TrainRequest, train
from tests.service.builders import (
    START,
    add_months,
    make_series,
    make_world,
    month_after,
    seasonal_counts,
    set_coverage,
)

NEW_YEAR = dt.date(2023, 1, 1)


def _forecast_grid(session: Session, run_id: int, series_id: int) -> dict[dt.date, Forecast]:
    rows = session.scalars(
        select(Forecast).where(Forecast.run_id == run_id, Forecast.series_id == series_id)
    )
    return {f.month: f for f in rows}


def _observe(session: Session, series: Sequence[Series], values: dict[int, list[float]],
             months: int) -> None:  # fmt: skip
    """Record `months` new months for every series (values given per series id) and move
    coverage to their end, as an ingest of a newer file would."""
    for s in series:
        add_months(session, s, values[s.id], NEW_YEAR)
    source = session.scalar(select(Source).where(Source.name == "ucdp"))
    assert source is not None
    set_coverage(session, source, "Burkina Faso", START, month_after(NEW_YEAR, months - 1))


def _trained_world(engine: Engine, settings: Settings) -> tuple[list[Series], int]:
    with session_scope(engine) as session:
        series = make_world(session, regions=("Nord", "Sahel", "Est"), rate_ratio=2.5)
    run_id = train(engine, settings, TrainRequest.from_settings(settings)).run_id
    return series, run_id


def _medians(session: Session, run_id: int, series_id: int, months: int) -> list[float]:
    grid = _forecast_grid(session, run_id, series_id)
    return [grid[month_after(NEW_YEAR, i)].q500 for i in range(months)]


def _observed_at_medians(
    engine: Engine, settings: Settings, months: int, surges: dict[tuple[int, int], float]
) -> tuple[list[Series], int]:
    """A trained world whose next `months` months are observed at the forecast medians, but
    for `surges`: {(index of the series, index of the month): count}."""
    series, run_id = _trained_world(engine, settings)
    with session_scope(engine) as session:
        values = {s.id: _medians(session, run_id, s.id, months) for s in series}
        for (which, month), count in surges.items():
            values[series[which].id][month] = count
        _observe(session, series, values, months)
    return series, run_id


def test_a_rainy_season_surge_is_flagged_and_a_quiet_series_is_not(
    engine: Engine, train_settings: Settings
) -> None:
    series, run_id = _trained_world(engine, train_settings)
    surging = series[0]  # JNIM in Nord: rains mid-June to September
    with session_scope(engine) as session:
        values = {s.id: _medians(session, run_id, s.id, 12) for s in series}
        grid = _forecast_grid(session, run_id, surging.id)
        for month in (7, 8, 9):
            values[surging.id][month - 1] = 4 * grid[dt.date(2023, month, 1)].q975 + 10
        _observe(session, series, values, 12)
    with session_scope(engine) as session:
        report = detect(session, level=0.95)
    assert report.scored == 12 * len(series)
    assert report.live == 3
    with session_scope(engine) as session:
        live, total = list_anomalies(session, AnomalyFilter(origin="live"))
    assert total == 3
    assert {a.series_id for a in live} == {surging.id}
    by_month = {a.month: a for a in live}
    assert set(by_month) == {dt.date(2023, m, 1) for m in (7, 8, 9)}
    for a in live:
        assert (a.direction, a.severity, a.in_season, a.run_id) == ("above", "high", True, run_id)
        assert a.observed > a.upper
        assert a.tail_probability < 0.001
        assert a.episode_start == dt.date(2023, 7, 1)
        assert a.horizon == a.month.month
        assert a.forecast_origin == dt.date(2022, 12, 1)  # the run's training data end
    # One episode, one alert: the first month; the next two are suppressed.
    assert [by_month[dt.date(2023, m, 1)].alert for m in (7, 8, 9)] == [True, False, False]
    assert [a.month for a in report.alerts] == [dt.date(2023, 7, 1)]


def test_detection_is_idempotent(engine: Engine, train_settings: Settings) -> None:
    series, _ = _observed_at_medians(engine, train_settings, 3, {(1, 1): 500})
    with session_scope(engine) as session:
        first = detect(session)
    with session_scope(engine) as session:
        again = detect(session)
        anomalies = session.scalar(select(func.count()).select_from(Anomaly))
        scores = session.scalar(select(func.count()).select_from(RunScore))
    assert (first.scored, first.live) == (3 * len(series), 1)
    assert (again.scored, again.live, again.backtest, again.alerts) == (0, 0, 0, [])
    assert scores == 3 * len(series)
    assert anomalies == first.live + first.backtest


def test_an_episode_alerts_again_only_when_it_escalates(
    engine: Engine, train_settings: Settings
) -> None:
    series, run_id = _trained_world(engine, train_settings)
    target = series[0]
    with session_scope(engine) as session:
        values = {s.id: _medians(session, run_id, s.id, 9) for s in series}
        grid = _forecast_grid(session, run_id, target.id)
        values[target.id][6] = 2 * grid[dt.date(2023, 7, 1)].q975 + 6  # material, not high
        _observe(session, series, {k: v[:7] for k, v in values.items()}, 7)
    with session_scope(engine) as session:
        detect(session)
    with session_scope(engine) as session:
        values[target.id][7] = values[target.id][8] = 20 * grid[dt.date(2023, 8, 1)].q975 + 50
        for s in series:
            add_months(session, session.merge(s), values[s.id][7:], dt.date(2023, 8, 1))
        source = session.scalar(select(Source))
        assert source is not None
        set_coverage(session, source, "Burkina Faso", START, dt.date(2023, 9, 1))
    with session_scope(engine) as session:
        detect(session)
        rows = session.scalars(
            select(Anomaly).where(Anomaly.series_id == target.id).order_by(Anomaly.month)
        ).all()
    july, august, september = (r for r in rows if r.origin == "live")
    assert {r.episode_start for r in (july, august, september)} == {dt.date(2023, 7, 1)}
    assert july.alert
    assert august.severity == "high"
    assert august.alert is (july.severity != "high")
    assert not september.alert


def test_backtest_scan_records_a_past_rainy_season_surge(
    engine: Engine, train_settings: Settings
) -> None:
    counts = seasonal_counts(84, base=4, rate_ratio=1.5, region="Nord", seed=3)
    surge = [(2021, 8), (2021, 9)]  # inside the backtest window, rainy season
    for year, month in surge:
        counts[(year - 2016) * 12 + month - 1] = 80
    with session_scope(engine) as session:
        series = make_series(session, counts, region="Nord", actor="ISGS")
    run_id = train(engine, train_settings, TrainRequest.from_settings(train_settings)).run_id
    with session_scope(engine) as session:
        detect(session)
    with session_scope(engine) as session:
        found, _ = list_anomalies(session, AnomalyFilter(origin="backtest", direction="above"))
    flagged = {(a.month.year, a.month.month): a for a in found if a.series_id == series.id}
    assert set(surge) <= set(flagged)
    first = flagged[surge[0]]
    # Evaluation history: a backtest flag never alerts (nothing was sent).
    assert (first.in_season, first.run_id, first.alert) == (True, run_id, False)
    assert first.horizon >= 1
    # The backtest forecast that judged it saw data up to `horizon` months before the month.
    assert first.forecast_origin is not None
    assert month_after(first.forecast_origin, first.horizon) == first.month


def test_run_accuracy_by_horizon_and_over_time(engine: Engine, train_settings: Settings) -> None:
    series, run_id = _observed_at_medians(engine, train_settings, 12, {})
    with session_scope(engine) as session:
        detect(session)
        report = accuracy_report(session, run_id=run_id)
        one = accuracy_report(session, run_id=run_id, series_id=series[0].id).overall
        history = accuracy_report(session).by_run
    overall = report.overall
    assert overall.n == 12 * len(series)
    assert [h for h, _ in report.by_horizon] == list(range(1, 13))
    assert all(a.n == len(series) for _, a in report.by_horizon)
    assert overall.coverage_95 == 1.0  # medians are inside every interval
    assert one.n == 12
    assert overall.crps is not None
    assert [a.run_id for a in history] == [run_id]
    assert report.note is None


def test_new_alerts_reach_listeners_after_commit(engine: Engine, train_settings: Settings) -> None:
    series, _ = _observed_at_medians(engine, train_settings, 2, {(2, 0): 900})
    received: list[AnomalyRead] = []

    def listener(anomalies: Sequence[AnomalyRead]) -> None:
        with session_scope(engine) as session:  # committed: a fresh session sees them
            assert session.get(Anomaly, anomalies[0].id) is not None
        received.extend(anomalies)

    def broken(anomalies: Sequence[AnomalyRead]) -> None:
        raise ConnectionError("webhook down")

    events.on_new_anomalies(listener)
    events.on_new_anomalies(broken)
    try:
        result = detect_step(engine, train_settings)
    finally:
        events.remove_listener(listener)
        events.remove_listener(broken)
    assert [(a.series_id, a.month, a.origin) for a in received] == [
        (series[2].id, NEW_YEAR, "live")
    ]
    assert received[0].series_key == series[2].key
    assert result.status == "failed"
    assert "webhook down" in result.details["listener_failures"][0]


def live(**filters: Any) -> AnomalyFilter:
    return AnomalyFilter(origin="live", **filters)


def test_acknowledge_and_filters(engine: Engine, train_settings: Settings) -> None:
    series, _ = _observed_at_medians(engine, train_settings, 2, {(0, 0): 700, (3, 1): 2000})
    with session_scope(engine) as session:
        detect(session)
    with session_scope(engine) as session:
        everything, total = list_anomalies(session, live())
        assert total == 2
        only_nord, _ = list_anomalies(session, live(series=SeriesFilter(region="nord")))
        assert [a.series_id for a in only_nord] == [series[0].id]
        recent, _ = list_anomalies(session, live(since=dt.date(2023, 2, 1)))
        assert [a.series_id for a in recent] == [series[3].id]
        acknowledged = acknowledge(session, everything[0].id)
        assert acknowledged.status == "acknowledged"
        when = acknowledged.acknowledged_at
        assert acknowledge(session, everything[0].id).acknowledged_at == when
        new, _ = list_anomalies(session, live(status="new"))
        assert [a.id for a in new] == [everything[1].id]
        assert list_anomalies(session, live(min_severity="high"))[1] == 2
        assert list_anomalies(session, live(direction="below"))[1] == 0
        with pytest.raises(AnomalyNotFound):
            acknowledge(session, 10_000)
