"""A small published world for the analyst views: Burkina Faso series with a rainy-season
pattern, a published run with believable forecasts and season effects, anomalies and keys.

Built directly with rows (no training), so a browser test can start in a second. Like the other
builders, these only flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from sqlalchemy import update
from sqlalchemy.orm import Session

from models.seasons import season_features
from service.anomalies.orm import Anomaly
from service.auth.service import create_key
from service.series.orm import Observation, Series
from service.training.orm import QUANTILE_FIELDS as Q_FIELDS
from service.training.orm import Forecast, Publication, Run, RunSeries
from tests.service.builders import make_series, month_after, seasonal_counts

COUNTRY = "Burkina Faso"
START = dt.date(2016, 1, 1)
MONTHS = 84  # 2016-01 .. 2022-12
FIRST_FORECAST = dt.date(2023, 1, 1)
LEVELS = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
# (region, actor, event type, base rate, rainy-season rate ratio)
SPECS: tuple[tuple[str | None, str | None, str | None, float, float], ...] = (
    (None, None, None, 20.0, 0.7),
    ("Sahel", None, None, 8.0, 0.6),
    ("Nord", None, None, 5.0, 0.8),
    ("Est", None, None, 4.0, 1.4),
    (None, "JNIM", None, 9.0, 0.8),
    (None, "Islamic State Sahel", None, 4.0, 0.5),
    ("Sahel", "JNIM", None, 3.0, 0.7),
    ("Nord", "JNIM", None, 3.0, 0.9),
    ("Est", "JNIM", None, 2.0, 1.6),
    ("Sahel", "Islamic State Sahel", None, 3.0, 0.5),
    ("Sahel", "JNIM", "State-based conflict", 2.0, 0.7),
)


@dataclass
class WebWorld:
    series: dict[str, Series] = field(default_factory=dict)  # by key
    run: Run | None = None
    fatalities_run: Run | None = None
    anomalies: list[Anomaly] = field(default_factory=list)
    read_key: str = ""
    admin_key: str = ""

    def key(self, region: str | None = None, actor: str | None = None,
            event_type: str | None = None) -> str:  # fmt: skip
        return "|".join(["ucdp", COUNTRY, region or "*", actor or "*", event_type or "*"])

    def id(self, region: str | None = None, actor: str | None = None,
           event_type: str | None = None) -> int:  # fmt: skip
        return self.series[self.key(region, actor, event_type)].id


def make_web_world(session: Session, *, publish: bool = True, fatalities: bool = False) -> WebWorld:
    """The series of SPECS, and (with `publish`) a published run over all of them, a
    superseded one before it, anomalies of both origins, and a read and an admin key. With
    `fatalities`, every month counts three deaths per event and a fatalities run is published
    too (`world.fatalities_run`)."""
    world = WebWorld()
    counts: dict[str, np.ndarray] = {}
    for i, (region, actor, etype, base, ratio) in enumerate(SPECS):
        y = seasonal_counts(MONTHS, base=base, rate_ratio=ratio, region=region, seed=10 + i)
        series = make_series(session, y, region=region, actor=actor, event_type=etype)
        world.series[series.key] = series
        counts[series.key] = y
    world.read_key = create_key(session, "analyst", "read")[1]
    world.admin_key = create_key(session, "duty officer", "admin")[1]
    if not publish:
        return world
    _run(session, "superseded", dt.datetime(2022, 12, 5, 3, 0))
    run = _run(session, "published", dt.datetime(2023, 1, 9, 3, 0))
    for (region, _, _, _, ratio), (key, series) in zip(SPECS, world.series.items(), strict=True):
        _result(session, run, series, counts[key], region, ratio)
    session.add(Publication(id=1, run_id=run.id, published_at=run.published_at))
    world.run = run
    world.anomalies = _anomalies(session, world, counts, run)
    if fatalities:
        world.fatalities_run = _deaths(session, world, counts)
    session.flush()
    return world


def _deaths(session: Session, world: WebWorld, counts: dict[str, np.ndarray]) -> Run:
    """Three deaths per event in every month, and a published fatalities run forecasting them."""
    ids = [s.id for s in world.series.values()]
    session.execute(
        update(Observation).where(Observation.series_id.in_(ids))
        .values(fatalities=Observation.events * 3)
    )  # fmt: skip
    run = _run(session, "published", dt.datetime(2023, 1, 9, 3, 5), measure="fatalities")
    for (region, _, _, _, ratio), (key, series) in zip(SPECS, world.series.items(), strict=True):
        _result(session, run, series, 3 * counts[key], region, ratio)
    session.add(Publication(id=2, run_id=run.id, published_at=run.published_at))
    return run


def _run(session: Session, status: str, started: dt.datetime, measure: str = "events") -> Run:
    run = Run(status=status, measure=measure, executor="processes", params={"horizon": 12},
              data_signature=status[0] * 64, n_series=len(SPECS), n_failed=0,
              started_at=started, finished_at=started + dt.timedelta(seconds=40),
              published_at=started + dt.timedelta(seconds=40))  # fmt: skip
    session.add(run)
    session.flush()
    return run


def _result(
    session: Session, run: Run, series: Series, y: np.ndarray, region: str | None, ratio: float
) -> None:
    """A negbin-like forecast: the last two years' level, scaled by the season share."""
    months = pd.date_range(FIRST_FORECAST, periods=12, freq="MS")
    share = season_features(months, country=COUNTRY, region=region)["season_share"].to_numpy()
    history_share = season_features(
        pd.date_range(month_after(FIRST_FORECAST, -24), periods=24, freq="MS"),
        country=COUNTRY,
        region=region,
    )["season_share"].to_numpy()
    level = float(y[-24:].mean()) / float(np.mean(ratio**history_share))
    means = level * ratio**share
    for h, (month, mean, s) in enumerate(zip(months, means, share, strict=True), start=1):
        # Negative binomial with dispersion 0.2: wider than Poisson, as counts of violence are.
        n = 1 / 0.2
        q = stats.nbinom.ppf(LEVELS, n, n / (n + mean))
        session.add(Forecast(run_id=run.id, series_id=series.id, month=month.date(), horizon=h,
                             mean=float(mean), **dict(zip(Q_FIELDS, map(float, q), strict=True)),
                             in_season=bool(s >= 0.5)))  # fmt: skip
    crps = 0.6 + 0.05 * float(y[-12:].mean())
    session.add(RunSeries(
        run_id=run.id, series_id=series.id, status="ok", model="negbin",
        trained_through=month_after(FIRST_FORECAST, -1),
        scores={"negbin": {"crps": crps, "mase": 0.8, "coverage_80": 0.83, "coverage_95": 0.94},
                "seasonal_naive": {"crps": crps * 1.4, "mase": 1.0, "coverage_80": 0.7,
                                   "coverage_95": 0.9},
                "poisson_last": {"crps": crps * 1.2, "mase": 0.95, "coverage_80": 0.66,
                                 "coverage_95": 0.8}},
        failures={}, summary={"alias": "negbin"},
        season_rate_ratio=ratio, season_ci_low=ratio * 0.7, season_ci_high=ratio / 0.7,
        season_p_value=0.03, season_pooled=series.actor_id is not None, seconds=0.2,
    ))  # fmt: skip


def _anomalies(
    session: Session, world: WebWorld, counts: dict[str, np.ndarray], run: Run
) -> list[Anomaly]:
    """The busiest month of 2022 of three series is flagged (live), one quiet month is
    flagged below, and one anomaly is already acknowledged."""
    made = []
    specs = [(world.key(), "above", "high", "new"), (world.key("Sahel"), "above", "medium", "new"),
             (world.key("Sahel", "JNIM"), "above", "high", "acknowledged"),
             (world.key("Nord"), "below", "low", "new")]  # fmt: skip
    for key, direction, severity, status in specs:
        y = counts[key]
        last_year = y[-12:]
        index = int(np.argmax(last_year) if direction == "above" else np.argmin(last_year))
        month = month_after(dt.date(2022, 1, 1), index)
        observed = int(last_year[index])
        expected = float(np.mean(y[-24:-12]))
        if direction == "above":
            lower, upper = float(int(expected * 0.4)), float(max(int(expected * 0.4), observed - 1))
        else:
            lower, upper = float(observed + 1), expected * 2.5
        region = world.series[key].region_id and key.split("|")[2]
        share = season_features(pd.DatetimeIndex([month]), country=COUNTRY, region=region or None)
        anomaly = Anomaly(
            series_id=world.series[key].id, month=month, origin="live", run_id=run.id,
            horizon=1, forecast_origin=month_after(month, -1), observed=observed,
            expected=expected, lower=lower, upper=upper,
            level=0.95, direction=direction, tail_probability=0.004, severity=severity,
            in_season=bool(share["season_share"].iloc[0] >= 0.5), episode_start=month,
            alert=True, status=status,
            acknowledged_at=dt.datetime(2023, 1, 10) if status == "acknowledged" else None,
        )  # fmt: skip
        session.add(anomaly)
        made.append(anomaly)
    session.flush()
    return made
