"""Training runs: what a run writes, failures isolated, refusals, atomic publication, retention."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from service.config import Settings
from service.db import session_scope
from service.forecasts.repository import published_run_id, series_forecast
from service.kit.lease import LockHeld, acquire
from service.series.repository import SeriesFilter
from service.training import work
from service.training.orm import BacktestForecast, Forecast, Run, RunSeries
from service.training.service import NothingToTrain, StaleData, TrainRequest, train
from tests.service.builders import extend_series, make_series, make_world, seasonal_counts


def _request(settings: Settings, **changes: object) -> TrainRequest:
    return TrainRequest.from_settings(settings, **changes)


def _forecasts(engine: Engine, run_id: int) -> list[tuple[object, ...]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(Forecast)
            .where(Forecast.run_id == run_id)
            .order_by(Forecast.series_id, Forecast.month)
        ).scalars()
        return [
            (f.series_id, f.month, f.horizon, f.mean, f.q025, f.q500, f.q975, f.in_season)
            for f in rows
        ]


def test_run_writes_model_scores_season_effect_and_forecasts(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        series = make_world(session, rate_ratio=2.5)
    outcome = train(engine, train_settings, _request(train_settings))
    assert (outcome.n_series, outcome.n_failed) == (len(series), 0)
    assert outcome.coverage == "ucdp Burkina Faso through 2022-12"
    with session_scope(engine) as session:
        assert published_run_id(session) == outcome.run_id
        run = session.get(Run, outcome.run_id)
        assert run is not None
        assert run.status == "published"
        result = series_forecast(session, series[0].id)
        assert result is not None
        assert result.status == "ok"
        assert result.model == "panel_regime"
        assert set(result.scores) == {"panel_regime", "seasonal_naive", "poisson_last"}
        assert {"crps", "coverage_80", "coverage_95", "n"} <= set(result.scores["panel_regime"])
        assert result.trained_through == dt.date(2022, 12, 1)
        # Regions of one actor pool their effect; the simulated ratio is 2.5.
        assert result.season.pooled is True
        assert result.season.status == "estimated"
        assert 1.5 < (result.season.rate_ratio or 0) < 4.0
        assert result.season.raw_rate_ratio is not None
        assert (result.season.events_in or 0) > 0
        points = result.points
        assert [p.horizon for p in points] == list(range(1, 13))
        assert points[0].month == dt.date(2023, 1, 1)
        for p in points:
            grid = [p.q025, p.q100, p.q250, p.q500, p.q750, p.q900, p.q975]
            assert grid == sorted(grid)
        # Burkina Faso's Sahel region: rains July 1 - September 15.
        in_season = {p.month.month for p in points if p.in_season}
        assert in_season == {7, 8, 9}
        backtests = session.scalar(
            select(func.count()).where(BacktestForecast.run_id == outcome.run_id)
        )
        assert backtests


def test_a_failing_panel_is_recorded_and_the_run_goes_on(
    engine: Engine, train_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope(engine) as session:
        series = make_world(session)
        # another source: its own panel (a panel is a source with all its countries)
        doomed = make_series(
            session,
            seasonal_counts(84, base=3.0, seed=3),
            country="Mali",
            region="Mopti",
            actor="JNIM",
            source="acled",
        )
    real = work.PanelEngine.run

    def flaky(self: work.PanelEngine) -> work.PanelResult:
        if "Mali" in set(self.labels["country"]):
            raise FloatingPointError("diverged")
        return real(self)

    monkeypatch.setattr(work.PanelEngine, "run", flaky)
    outcome = train(engine, train_settings, _request(train_settings))
    assert outcome.n_failed == 1
    assert outcome.failures[0][0] == doomed.key
    with session_scope(engine) as session:
        failed = session.get(RunSeries, (outcome.run_id, doomed.id))
        assert failed is not None
        assert failed.status == "failed"
        assert "FloatingPointError: diverged" in (failed.error or "")
        assert published_run_id(session) == outcome.run_id
        assert series_forecast(session, series[0].id).points  # type: ignore[union-attr]


def test_stale_data_is_refused_unless_forced(engine: Engine, train_settings: Settings) -> None:
    with session_scope(engine) as session:
        series = make_world(session)
    first = train(engine, train_settings, _request(train_settings))
    with pytest.raises(StaleData, match=f"did not advance since run {first.run_id}") as refused:
        train(engine, train_settings, _request(train_settings))
    assert "ucdp Burkina Faso through 2022-12" in str(refused.value)
    assert "--force" in str(refused.value)
    forced = train(engine, train_settings, _request(train_settings, force=True))
    assert forced.run_id > first.run_id
    with session_scope(engine) as session:
        extend_series(session, session.merge(series[0]), [4])
    advanced = train(engine, train_settings, _request(train_settings))
    assert advanced.coverage == "ucdp Burkina Faso through 2023-01"
    with session_scope(engine) as session:
        statuses = dict(session.execute(select(Run.id, Run.status)).all())
    assert statuses == {
        first.run_id: "superseded",
        forced.run_id: "superseded",
        advanced.run_id: "published",
    }


def test_nothing_to_train_is_refused(engine: Engine, train_settings: Settings) -> None:
    with session_scope(engine) as session:
        make_world(session)
    with pytest.raises(NothingToTrain, match="at least 1 events"):
        train(engine, train_settings, _request(train_settings, filters=SeriesFilter(actor="ISGS")))


def test_a_second_concurrent_run_is_refused(engine: Engine, train_settings: Settings) -> None:
    with session_scope(engine) as session:
        make_world(session)
    holder = acquire(engine, "training", 60, owner="analyst-laptop:pid 4242")
    with pytest.raises(LockHeld, match="analyst-laptop:pid 4242") as refused:
        train(engine, train_settings, _request(train_settings))
    assert "lease expires at" in str(refused.value)
    holder.release()
    assert train(engine, train_settings, _request(train_settings)).n_series == 5


def test_readers_see_the_previous_run_until_the_new_one_is_complete(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        series = make_world(session)
    first = train(engine, train_settings, _request(train_settings))
    old = _forecasts(engine, first.run_id)
    seen: list[tuple[int | None, int]] = []

    def read_mid_run(done: int, total: int) -> None:
        with session_scope(engine) as session:
            result = series_forecast(session, series[0].id)
            assert result is not None
            seen.append((published_run_id(session), result.run_id))
            assert [p.mean for p in result.points] == [r[3] for r in old if r[0] == series[0].id]

    request = _request(train_settings, force=True)
    second = train(engine, train_settings, request, progress=read_mid_run)
    assert seen
    assert set(seen) == {(first.run_id, first.run_id)}
    with session_scope(engine) as session:
        assert published_run_id(session) == second.run_id


def test_forecasts_are_reproducible(engine: Engine, train_settings: Settings) -> None:
    with session_scope(engine) as session:
        make_world(session)
    first = train(engine, train_settings, _request(train_settings))
    again = train(engine, train_settings, _request(train_settings, force=True))
    assert _forecasts(engine, first.run_id) == _forecasts(engine, again.run_id)


def test_orphaned_running_run_is_marked_failed(engine: Engine, train_settings: Settings) -> None:
    with session_scope(engine) as session:
        make_world(session)
        orphan = Run(status="running", executor="inline", params={}, data_signature="x")
        session.add(orphan)
    outcome = train(engine, train_settings, _request(train_settings))
    assert outcome.abandoned == [orphan.id]
    with session_scope(engine) as session:
        failed = session.get(Run, orphan.id)
        assert failed is not None
        assert failed.status == "failed"
        assert "abandoned" in (failed.message or "")


def test_retention_trims_runs_beyond_the_newest(engine: Engine, train_settings: Settings) -> None:
    with session_scope(engine) as session:
        make_world(session, regions=("Sahel",))
    settings = train_settings.model_copy(update={"run_retention": 2})
    runs = [train(engine, settings, _request(settings, force=True)).run_id for _ in range(3)]
    with session_scope(engine) as session:
        kept = dict(
            session.execute(
                select(BacktestForecast.run_id, func.count()).group_by(BacktestForecast.run_id)
            ).all()
        )
        forecasts = dict(
            session.execute(select(Forecast.run_id, func.count()).group_by(Forecast.run_id)).all()
        )
    assert set(kept) == set(runs[1:])  # the oldest run's backtests are gone
    # Its forecasts stay until detection has scored them (nothing observed yet).
    assert set(forecasts) == set(runs)


def test_request_overrides_keep_settings_for_what_is_not_given(
    engine: Engine, train_settings: Settings
) -> None:
    request = TrainRequest.from_settings(train_settings, executor=None, workers=3)
    assert request.executor == "inline"
    assert request.workers == 3
    assert request.min_events == 1
    assert dataclasses.replace(request, force=True).selection_params() == (
        request.selection_params()
    )
