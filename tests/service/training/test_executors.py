"""Executors are interchangeable: inline, a process pool and a Dask cluster give identical runs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from service.config import Settings
from service.db import session_scope
from service.training.orm import QUANTILE_FIELDS, Forecast, RunSeries
from service.training.service import TrainRequest, train
from tests.service.builders import make_series, make_world, seasonal_counts


def _snapshot(engine: Engine, run_id: int) -> tuple[list[tuple[Any, ...]], ...]:
    with session_scope(engine) as session:
        forecasts = [
            (f.series_id, f.month, f.mean, *[getattr(f, q) for q in QUANTILE_FIELDS], f.in_season)
            for f in session.scalars(
                select(Forecast)
                .where(Forecast.run_id == run_id)
                .order_by(Forecast.series_id, Forecast.month)
            )
        ]
        results = [
            (r.series_id, r.status, r.model, r.scores, r.season_rate_ratio, r.season_pooled)
            for r in session.scalars(
                select(RunSeries).where(RunSeries.run_id == run_id).order_by(RunSeries.series_id)
            )
        ]
    return forecasts, results


def _world(engine: Engine) -> None:
    with session_scope(engine) as session:
        make_world(session, regions=("Sahel", "Nord", "Est"))
        make_series(session, seasonal_counts(84, base=0.3, seed=7), region="Est", actor="ISGS")


@pytest.fixture(scope="module")
def dask_address() -> Iterator[str]:
    """A small local cluster of two single-threaded worker processes, quiet in the logs."""
    distributed = pytest.importorskip("distributed")
    for name in ("distributed", "tornado", "bokeh"):
        logging.getLogger(name).setLevel(logging.ERROR)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    yield cluster.scheduler_address
    cluster.close()


def test_dask_gives_the_same_forecasts_as_inline(
    engine: Engine, train_settings: Settings, dask_address: str
) -> None:
    _world(engine)
    inline = train(engine, train_settings, TrainRequest.from_settings(train_settings))
    request = TrainRequest.from_settings(
        train_settings, executor="dask", dask_address=dask_address, force=True
    )
    on_dask = train(engine, train_settings, request)
    assert on_dask.n_failed == 0
    assert _snapshot(engine, on_dask.run_id) == _snapshot(engine, inline.run_id)


def test_process_pool_gives_the_same_forecasts_as_inline(
    engine: Engine, train_settings: Settings
) -> None:
    _world(engine)
    inline = train(engine, train_settings, TrainRequest.from_settings(train_settings))
    request = TrainRequest.from_settings(
        train_settings, executor="processes", workers=2, force=True
    )
    pooled = train(engine, train_settings, request)
    assert _snapshot(engine, pooled.run_id) == _snapshot(engine, inline.run_id)
