"""The read side of runs (service.forecasts.repository), as the dashboard, the plot command and
the notebooks use it (the API's hot reads are service.forecasts.published, in the same domain)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope
from service.forecasts.repository import (
    backtest_points,
    get_run,
    list_forecasts,
    list_runs,
    published_run,
    series_forecast,
)
from service.series.repository import SeriesFilter
from service.training.service import TrainRequest, train
from tests.service.builders import make_world


def test_nothing_published_yet(engine: Engine) -> None:
    with session_scope(engine) as session:
        assert published_run(session) is None
        assert series_forecast(session, 1) is None
        assert list_forecasts(session) == []
        assert backtest_points(session, 1) == []


def test_reads_of_the_published_run(engine: Engine, train_settings: Settings) -> None:
    with session_scope(engine) as session:
        series = make_world(session, regions=("Sahel", "Nord"))
    first = train(engine, train_settings, TrainRequest.from_settings(train_settings)).run_id
    second = train(engine, train_settings, TrainRequest.from_settings(train_settings, force=True))
    with session_scope(engine) as session:
        current = published_run(session)
        assert current is not None
        assert (current.id, current.status, current.n_series) == (second.run_id, "published", 3)
        assert [r.id for r in list_runs(session)] == [second.run_id, first]
        old = get_run(session, first)
        assert old is not None
        assert old.status == "superseded"
        assert series_forecast(session, series[0].id, run_id=first) is not None
        january = list_forecasts(session, SeriesFilter(actor="JNIM"), month=dt.date(2023, 1, 1))
        assert sorted(key for key, _ in january) == sorted(s.key for s in series[:2])
        assert {point.horizon for _, point in january} == {1}
        everything = list_forecasts(session, limit=10_000)
        assert len(everything) == 3 * 12
        past = backtest_points(session, series[0].id)
        assert past
        assert all(p.month <= dt.date(2022, 12, 1) for p in past)
