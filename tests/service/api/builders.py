"""Builders of what the API reads: published runs with forecasts, anomalies, scores, keys.

They add to `tests/service/builders.py` (sources, series, months) and, like it, only flush.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import partial

from sqlalchemy.orm import Session

from service.anomalies.orm import Anomaly, RunScore
from service.auth.service import Scope, create_key
from service.measures import PUBLICATION_IDS
from service.series.orm import Series
from service.training.orm import Forecast, Publication, Run, RunSeries
from tests.service.builders import make_series, month_after

FIRST_FORECAST = dt.date(2023, 1, 1)


def make_run(
    session: Session, *, status: str = "published", executor: str = "inline",
    measure: str = "events",
) -> Run:  # fmt: skip
    now = dt.datetime(2023, 1, 5, 3, 0)
    run = Run(
        status=status,
        measure=measure,
        executor=executor,
        params={"horizon": 12},
        data_signature="x" * 64,
        n_series=0,
        n_failed=0,
        started_at=now,
        finished_at=now + dt.timedelta(minutes=7),
        published_at=now + dt.timedelta(minutes=7) if status == "published" else None,
    )
    session.add(run)
    session.flush()
    return run


def publish(session: Session, run: Run) -> None:
    """Point the run's measure's publication row at it."""
    pointer_id = PUBLICATION_IDS[run.measure]
    pointer = session.get(Publication, pointer_id)
    if pointer is None:
        session.add(
            Publication(
                id=pointer_id, run_id=run.id, published_at=run.published_at or run.started_at
            )
        )
    else:
        pointer.run_id = run.id
    run.status = "published"
    session.flush()


def add_result(
    session: Session,
    run: Run,
    series: Series,
    *,
    model: str = "ets",
    level: float = 5.0,
    first: dt.date = FIRST_FORECAST,
    horizon: int = 12,
    rate_ratio: float | None = 1.8,
) -> RunSeries:
    """A series' result in `run`: the chosen model, its summary and `horizon` forecast months."""
    result = RunSeries(
        run_id=run.id,
        series_id=series.id,
        status="ok",
        model=model,
        trained_through=month_after(first, -1),
        scores={model: {"crps": 1.2, "mase": 0.9}, "naive": {"crps": 1.6, "mase": 1.0}},
        failures={},
        summary={
            "level": level,
            "trend": 0.1,
            "seasonal": [0.0] * 12,
            "rainy_season": {"log_rate_ratio": 0.59},
        },
        season_rate_ratio=rate_ratio,
        season_ci_low=1.2 if rate_ratio else None,
        season_ci_high=2.6 if rate_ratio else None,
        season_p_value=0.01 if rate_ratio else None,
        season_pooled=False if rate_ratio else None,
        seconds=0.25,
    )
    session.add(result)
    for h in range(1, horizon + 1):
        month = month_after(first, h - 1)
        mean = level + run.id + h / 10  # distinct per run, so tests can tell runs apart
        session.add(
            Forecast(
                run_id=run.id,
                series_id=series.id,
                month=month,
                horizon=h,
                mean=mean,
                q025=mean * 0.2,
                q100=mean * 0.4,
                q250=mean * 0.7,
                q500=mean * 0.95,
                q750=mean * 1.3,
                q900=mean * 1.7,
                q975=mean * 2.1,
                in_season=month.month in (6, 7, 8, 9),
            )
        )
    run.n_series += 1
    session.flush()
    return result


def make_anomaly(
    session: Session,
    series: Series,
    *,
    month: dt.date = FIRST_FORECAST,
    run: Run | None = None,
    severity: str = "high",
    direction: str = "above",
    status: str = "new",
    alert: bool = True,
    origin: str = "live",
    observed: int = 25,
) -> Anomaly:
    anomaly = Anomaly(
        series_id=series.id,
        month=month,
        origin=origin,
        run_id=run.id if run else None,
        horizon=1,
        forecast_origin=month_after(month, -1),
        observed=observed,
        expected=6.2,
        lower=1.0,
        upper=14.0,
        level=0.95,
        direction=direction,
        tail_probability=0.001,
        severity=severity,
        in_season=False,
        episode_start=month,
        alert=alert,
        status=status,
    )
    session.add(anomaly)
    session.flush()
    return anomaly


def add_scores(
    session: Session, run: Run, series: Series, horizons: Sequence[int] = (1, 2, 3)
) -> None:
    for h in horizons:
        session.add(
            RunScore(
                run_id=run.id,
                series_id=series.id,
                month=month_after(FIRST_FORECAST, h - 1),
                horizon=h,
                observed=4,
                crps=1.0 + h / 10,
                in_80=h != 3,
                in_95=True,
            )
        )
    session.flush()


def make_key(session: Session, scope: Scope = "read", name: str = "test") -> str:
    return create_key(session, name, scope)[1]


def published_world(session: Session) -> dict[str, object]:
    """Two series in Mali and one in Burkina Faso, a published run with all three, anomalies;
    and a published fatalities run of the three (`deaths`)."""
    since = dt.date(2019, 1, 1)
    in_mali = partial(make_series, session, source="acled", country="Mali", start=since)
    mopti = in_mali([3, 0, 5, 8] * 12, region="Mopti", actor="JNIM", event_type="Battles")
    gao = in_mali([1, 2] * 24, region="Gao", actor="ISGS", event_type="Violence against civilians")
    sahel = make_series(
        session, [4] * 48, source="ucdp", country="Burkina Faso", region="Sahel", start=since
    )
    old = make_run(session, status="superseded")
    for s in (mopti, gao, sahel):
        add_result(session, old, s)
    run = make_run(session)
    for s in (mopti, gao, sahel):
        add_result(session, run, s, model="negbin" if s is gao else "ets")
    publish(session, run)
    add_scores(session, old, mopti)
    add_scores(session, old, gao, horizons=(1,))
    anomaly = make_anomaly(session, mopti, run=old)
    quiet = make_anomaly(
        session,
        gao,
        run=old,
        severity="low",
        direction="below",
        observed=0,
        month=dt.date(2023, 2, 1),
    )
    deaths = make_run(session, measure="fatalities")
    for s in (mopti, gao, sahel):
        add_result(session, deaths, s)
    publish(session, deaths)
    return {
        "mopti": mopti,
        "gao": gao,
        "sahel": sahel,
        "run": run,
        "old": old,
        "anomaly": anomaly,
        "quiet": quiet,
        "deaths": deaths,
    }


def published_ids(session: Session) -> dict[str, int]:
    """The ids of `published_world`'s rows, by name."""
    return {name: row.id for name, row in published_world(session).items()}  # type: ignore[attr-defined]
