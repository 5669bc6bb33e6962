"""The panel engine inside a run, on the bundled demo data: one truth, coherent levels, scope.

Each test ingests the real UCDP extract (Burkina Faso 2016-2022) and trains it in-process, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import Engine, select

from service.config import Settings
from service.db import session_scope
from service.forecasts.repository import published_run_id
from service.forecasts.schemas import SeasonEffectRead
from service.ingest.service import ingest_file
from service.series.repository import SeriesFilter, SeriesInfo, list_series
from service.training.orm import Forecast, Run, RunSeries
from service.training.service import TrainRequest, train
from tests.conftest import ROOT

DEMO = ROOT / "service" / "data" / "demo" / "ucdp-ged-burkina-faso-2016-2022.csv"
PARENT = {  # level -> (parent level, the labels it keeps)
    "region_type": ("region", ("actor", "region")),
    "region": ("country", ("actor",)),
    "actor_region_type": ("actor_region", ("actor", "region")),
    "actor_region": ("actor_country", ("actor",)),
}


@pytest.fixture
def demo(engine: Engine, train_settings: Settings) -> dict[int, SeriesInfo]:
    ingest_file(engine, DEMO, train_settings)
    with session_scope(engine) as session:
        infos, _ = list_series(session, SeriesFilter(), limit=10_000)
    return {i.id: i for i in infos}


def _published(engine: Engine) -> tuple[int, dict[int, RunSeries], dict[int, list[Forecast]]]:
    with session_scope(engine) as session:
        run_id = published_run_id(session)
        assert run_id is not None
        results = {
            r.series_id: r
            for r in session.scalars(select(RunSeries).where(RunSeries.run_id == run_id))
        }
        points: dict[int, list[Forecast]] = defaultdict(list)
        for f in session.scalars(
            select(Forecast).where(Forecast.run_id == run_id).order_by(Forecast.month)
        ):
            points[f.series_id].append(f)
        session.expunge_all()
    return run_id, results, points


def test_the_published_season_effect_is_the_one_the_forecast_uses(
    engine: Engine, train_settings: Settings, demo: dict[int, SeriesInfo]
) -> None:
    train(engine, train_settings, TrainRequest.from_settings(train_settings))
    _, results, points = _published(engine)
    assert len(results) == len(demo)
    checked = 0
    for series_id, result in results.items():
        effect = SeasonEffectRead.of(result)
        by_month = {p.month: p.mean for p in points[series_id]}
        # July and August are inside every region's rains, January to April outside them.
        rainy = [by_month[dt.date(2023, m, 1)] for m in (7, 8)]
        dry = [by_month[dt.date(2023, m, 1)] for m in (1, 2, 3, 4)]
        if effect.rate_ratio is None:
            assert effect.status == "insufficient_data"
            assert rainy[0] == pytest.approx(dry[0], rel=1e-9)
            continue
        assert effect.ci_low is not None
        assert effect.ci_high is not None
        assert effect.ci_low <= effect.rate_ratio <= effect.ci_high
        for r in rainy:
            for d in dry:
                assert r / d == pytest.approx(effect.rate_ratio, rel=1e-6), series_id
        checked += 1
    assert checked > 0.8 * len(results)


def test_every_level_adds_up_and_intervals_hold_the_mean(
    engine: Engine, train_settings: Settings, demo: dict[int, SeriesInfo]
) -> None:
    train(engine, train_settings, TrainRequest.from_settings(train_settings))
    _, _, points = _published(engine)
    index = {(i.level, i.actor, i.region, i.event_type): i.id for i in demo.values()}
    sums: dict[int, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    for info in demo.values():
        if info.level not in PARENT:
            continue
        parent_level, keep = PARENT[info.level]
        labels = {"actor": info.actor, "region": info.region}
        key = (
            parent_level,
            labels["actor"] if "actor" in keep else None,
            labels["region"] if "region" in keep else None,
            None,
        )
        for p in points[info.id]:
            sums[index[key]][p.month] += p.mean
    assert len(sums) > 20
    for parent, months in sums.items():
        for p in points[parent]:
            assert p.mean == pytest.approx(months[p.month], rel=1e-4, abs=1e-6)
    # beside the tree, country x event type: its regions' series of that type, summed; and
    # the country is the sum of its event types as it is of its regions
    cross: dict[int, dict[dt.date, float]] = defaultdict(lambda: defaultdict(float))
    by_type: dict[dt.date, float] = defaultdict(float)
    for info in demo.values():
        if info.level == "region_type":
            for p in points[info.id]:
                cross[index[("country_type", None, None, info.event_type)]][p.month] += p.mean
        if info.level == "country_type":
            assert points[info.id], info.key  # forecast like any series
            for p in points[info.id]:
                by_type[p.month] += p.mean
    assert len(cross) >= 2
    for series_id, months in cross.items():
        assert demo[series_id].level == "country_type"
        for p in points[series_id]:
            assert p.mean == pytest.approx(months[p.month], rel=1e-4, abs=1e-6)
    country = next(i.id for i in demo.values() if i.level == "country")
    for p in points[country]:
        assert p.mean == pytest.approx(by_type[p.month], rel=1e-4)
    for rows in points.values():
        for p in rows:
            assert p.q025 <= p.mean <= p.q975
            grid = [p.q025, p.q100, p.q250, p.q500, p.q750, p.q900, p.q975]
            assert grid == sorted(grid)


def test_a_scoped_retrain_replaces_only_its_series(
    engine: Engine, train_settings: Settings, demo: dict[int, SeriesInfo]
) -> None:
    first = train(engine, train_settings, TrainRequest.from_settings(train_settings)).run_id
    scoped = train(
        engine,
        train_settings,
        TrainRequest.from_settings(train_settings, filters=SeriesFilter(actor="JNIM"), force=True),
    )
    run_id, results, points = _published(engine)
    assert run_id == scoped.run_id
    assert set(results) == set(demo)  # nothing lost its forecast
    for series_id, result in results.items():
        assert points[series_id], series_id
        if demo[series_id].actor == "JNIM":
            assert result.trained_in_run_id is None
        else:
            assert result.trained_in_run_id == first
    with session_scope(engine) as session:
        run = session.get(Run, scoped.run_id)
        assert run is not None
        assert run.params["scope"] == {"actor": "JNIM"}
        assert run.n_carried == sum(1 for i in demo.values() if i.actor != "JNIM")
        assert run.calibration
        assert set(run.calibration) == {"ucdp"}  # one panel: the source, every country in it
        assert run.calibration["ucdp"]["forecast"]["groups"][0] == "country"


def test_the_plot_legend_shows_the_ratio_the_forecast_uses(
    engine: Engine, train_settings: Settings, demo: dict[int, SeriesInfo]
) -> None:
    from service.web.chartdata import load_chart
    from service.web.plotting import rainy_label

    train(engine, train_settings, TrainRequest.from_settings(train_settings))
    country = next(i for i in demo.values() if i.level == "country")
    with session_scope(engine) as session:
        chart = load_chart(session, country, published_run_id(session))
    assert chart.forecast is not None
    effect = chart.forecast.season
    assert effect.rate_ratio is not None
    assert effect.ci_low is not None
    assert effect.ci_high is not None
    assert rainy_label(chart) == (
        f"rainy season (× {effect.rate_ratio:.2f}, 95 % {effect.ci_low:.2f}–{effect.ci_high:.2f})"
    )


def test_outlooks_add_up_and_states_are_served_as_stored(
    engine: Engine, train_settings: Settings, demo: dict[int, SeriesInfo]
) -> None:
    from service.forecasts.repository import outlooks, series_states
    from tests.service.api.conftest import make_client

    train(engine, train_settings, TrainRequest.from_settings(train_settings))
    index = {(i.level, i.actor, i.region, i.event_type): i.id for i in demo.values()}
    with session_scope(engine) as session:
        by_months = {m: outlooks(session, list(demo), months=m) for m in (3, 6, 12)}
        states = {sid: series_states(session, sid) for sid in list(demo)[:40]}
    for _months, found in by_months.items():
        assert set(found) == set(demo)  # every published series has its totals
        sums: dict[int, float] = defaultdict(float)
        for info in demo.values():
            o = found[info.id]
            assert o.q025 <= o.q100 <= o.q500 <= o.q900 <= o.q975
            assert o.q025 <= o.mean <= o.q975
            if info.level in PARENT:
                parent_level, keep = PARENT[info.level]
                key = (
                    parent_level,
                    info.actor if "actor" in keep else None,
                    info.region if "region" in keep else None,
                    None,
                )
                sums[index[key]] += o.mean
        for parent, total in sums.items():  # a parent's expected total is its children's
            assert found[parent].mean == pytest.approx(total, rel=1e-4)
    for rows in states.values():
        assert len(rows) == 24
        assert rows[-1].month == dt.date(2022, 12, 1)
        for r in rows:
            assert 0.0 <= r.p_shift_up <= 1.0
            assert 0.0 <= r.p_shift_down <= 1.0
            assert 0.0 <= r.p_outlier <= 1.0
            assert r.level >= 0.0
    country = next(i for i in demo.values() if i.level == "country")
    settings = train_settings.model_copy(update={"public_read": True})
    with make_client(settings) as client:
        body = client.get(f"/v1/series/{country.id}/outlook?months=6").json()
        assert body["outlook"]["mean"] == pytest.approx(by_months[6][country.id].mean)
        assert body["last_month"] == "2023-06-01"
        served = client.get(f"/v1/series/{country.id}/states").json()["months"]
        forecast = client.get(f"/v1/series/{country.id}/forecast").json()
    with session_scope(engine) as session:
        stored = series_states(session, country.id)
    assert [m["p_shift_up"] for m in served] == pytest.approx([r.p_shift_up for r in stored])
    assert forecast["state"]["month"] == "2022-12-01"
    assert forecast["state"]["p_outlier"] == pytest.approx(stored[-1].p_outlier)


def test_the_deaths_run_takes_the_events_runs_dynamics_learned_on_the_same_data(
    engine: Engine, train_settings: Settings, demo: dict[int, SeriesInfo]
) -> None:
    from service.training.service import train_measures

    outcome = train_measures(engine, train_settings, TrainRequest.from_settings(train_settings))
    runs = {o.measure: o.run_id for o in outcome.outcomes}
    assert set(runs) == {"events", "fatalities"}
    cal: dict[str, dict[str, Any]] = {}
    with session_scope(engine) as session:
        for measure, run_id in runs.items():
            run = session.get(Run, run_id)
            assert run is not None
            assert run.calibration is not None
            cal[measure] = run.calibration
    for name, panel in cal["fatalities"].items():
        assert panel["dynamics_adopted"] is True
        assert cal["events"][name]["dynamics_adopted"] is False
        assert panel["fit_key"] == cal["events"][name]["fit_key"]
        assert panel["dynamics"] == cal["events"][name]["dynamics"]
