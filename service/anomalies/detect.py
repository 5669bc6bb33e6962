"""Detection: score every run against months observed since it was issued, and flag anomalies.

Each run forecasts one measure (events or fatalities) and is judged by that measure's counts;
an anomaly carries its measure, and the two measures' flags of one tree group into one
escalation (a new measure re-alerts it).

Live: a newly observed month is compared with the forecast of the latest readable run trained
before it. Backtest: the published run's backtest forecasts flag past months the same way.
Both are idempotent: a (run, series, month) is scored once, a (series, month, origin) is
flagged once, so detection can run after every ingest and every run. Functions only flush.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd
from sqlalchemy import Table, and_, case, exists, func, select
from sqlalchemy.orm import Session

from models.base import QUANTILE_COLUMNS
from service.anomalies.context import with_context
from service.anomalies.newcomers import (
    INTERVAL,
    NEW,
    fold_newborn,
    live_newcomers,
    newborn,
    one_per_tree,
)
from service.anomalies.orm import Anomaly, RunScore
from service.anomalies.repository import to_reads
from service.anomalies.schemas import AnomalyRead
from service.anomalies.scoring import EpisodeState, assign_episodes, flag, score_rows
from service.anomalies.severity import DEFAULT_RULES, SEVERITY_RANK, Rules
from service.bulk import insert_frame
from service.escalations.budget import within_budget
from service.escalations.service import group
from service.measures import EVENTS, FATALITIES
from service.series.orm import Coverage, Observation, Series
from service.training.orm import (
    QUANTILE_FIELDS,
    BacktestForecast,
    Forecast,
    Publication,
    Run,
    RunSeries,
)
from service.training.repository import READABLE

LIVE, BACKTEST = "live", "backtest"
# Series per query: bounds memory however many series and runs there are.
CHUNK = 2_000


@dataclass
class DetectReport:
    scored: int = 0
    live: int = 0
    backtest: int = 0
    new: int = 0  # of live + backtest: first appearances of a series (one record each)
    alerts: list[AnomalyRead] = field(default_factory=list)  # new live alert-worthy anomalies

    def to_dict(self) -> dict[str, Any]:
        return {"scored": self.scored, "live": self.live, "backtest": self.backtest,
                "new": self.new, "alerts": len(self.alerts)}  # fmt: skip


def detect(
    session: Session,
    *,
    level: float = 0.95,
    rules: Rules = DEFAULT_RULES,
    budget: int | None = None,
) -> DetectReport:
    """Score runs, flag live anomalies, scan the published run's backtests; return what is new.

    Only material changes are flagged (`rules`: evidence and size). With a `budget`, at most
    that many escalations alert per country and data month (the largest first); the others
    wait for the weekly digest.
    """
    report = DetectReport()
    created: list[Anomaly] = []
    newcomers: list[Anomaly] = []  # backtest `new` records (live ones are in `created`)
    series_ids = list(session.scalars(select(Series.id).order_by(Series.id)))
    for start in range(0, len(series_ids), CHUNK):
        lo, hi = series_ids[start], series_ids[min(start + CHUNK, len(series_ids)) - 1]
        candidates = _unscored_forecasts(session, lo, hi)
        report.scored += _write_scores(session, candidates)
        live = _flag(session, _issued_last(candidates), LIVE, level, rules)
        live += live_newcomers(session, lo, hi, level, rules)
        created.extend(live)
        report.live += len(live)
        backtest = _flag(session, _published_backtests(session, lo, hi), BACKTEST, level, rules)
        report.backtest += len(backtest)
        report.new += sum(a.kind == NEW for a in [*live, *backtest])
        newcomers.extend(a for a in backtest if a.kind == NEW)
    one_per_tree(session, [a for a in [*created, *newcomers] if a.kind == NEW])
    if budget is not None:
        within_budget(session, [a for a in created if a.alert], budget, rules)
    session.flush()
    report.alerts = to_reads(session, [a for a in created if a.alert])
    return report


def _unscored_forecasts(session: Session, lo: int, hi: int) -> pd.DataFrame:
    """Forecast rows of readable runs whose month is now observed and not yet scored."""
    scored = exists().where(
        and_(RunScore.run_id == Forecast.run_id, RunScore.series_id == Forecast.series_id,
             RunScore.month == Forecast.month)
    )  # fmt: skip
    observed = case((Run.measure == FATALITIES, func.coalesce(Observation.fatalities, 0)),
                    else_=func.coalesce(Observation.events, 0))  # fmt: skip
    query = (
        select(Forecast.run_id, Run.measure, Forecast.series_id, Forecast.month,
               Forecast.horizon, Forecast.mean, *[getattr(Forecast, f) for f in QUANTILE_FIELDS],
               Forecast.in_season, RunSeries.trained_through,
               RunSeries.trained_through.label("forecast_origin"), observed.label("observed"))
        .join(Run, Run.id == Forecast.run_id)
        .join(RunSeries, (RunSeries.run_id == Forecast.run_id)
              & (RunSeries.series_id == Forecast.series_id))
        .join(Series, Series.id == Forecast.series_id)
        .join(Coverage, (Coverage.source_id == Series.source_id)
              & (Coverage.country == Series.country))
        .outerjoin(Observation, (Observation.series_id == Forecast.series_id)
                   & (Observation.month == Forecast.month))
        .where(Run.status.in_(READABLE), Forecast.series_id.between(lo, hi),
               Forecast.month <= Coverage.last_complete_month,
               Forecast.month > RunSeries.trained_through, ~scored)
    )  # fmt: skip
    return _frame(session.execute(query).all(), query)


def _published_backtests(session: Session, lo: int, hi: int) -> pd.DataFrame:
    query = (
        select(BacktestForecast.run_id, Run.measure, BacktestForecast.series_id,
               BacktestForecast.month, BacktestForecast.horizon, BacktestForecast.mean,
               *[getattr(BacktestForecast, f) for f in QUANTILE_FIELDS], BacktestForecast.in_season,
               BacktestForecast.observed, BacktestForecast.origin.label("forecast_origin"))
        .join(Publication, Publication.run_id == BacktestForecast.run_id)
        .join(Run, Run.id == BacktestForecast.run_id)
        .where(BacktestForecast.series_id.between(lo, hi))
    )  # fmt: skip
    return _frame(session.execute(query).all(), query)


def _frame(rows: Sequence[Any], query: Any) -> pd.DataFrame:
    names = [c.name for c in query.selected_columns]
    renamed = dict(zip(QUANTILE_FIELDS, QUANTILE_COLUMNS, strict=True))
    frame = pd.DataFrame(rows, columns=names).rename(columns=renamed)
    if not frame.empty:
        for column in ("month", "forecast_origin"):
            frame[column] = pd.to_datetime(frame[column]).dt.date
    return frame


def _write_scores(session: Session, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    scores = score_rows(frame)
    rows = pd.DataFrame({
        "run_id": frame["run_id"], "series_id": frame["series_id"],
        "month": [m.isoformat() for m in frame["month"]], "horizon": frame["horizon"],
        "observed": frame["observed"].astype(int), "crps": scores["crps"],
        "in_80": scores["in_80"], "in_95": scores["in_95"],
    })  # fmt: skip
    return insert_frame(session, cast(Table, RunScore.__table__), rows)


def _issued_last(frame: pd.DataFrame) -> pd.DataFrame:
    """Per measure, series and month, the forecast of the latest run trained before the month."""
    if frame.empty:
        return frame
    ordered = frame.sort_values(["measure", "series_id", "month", "trained_through", "run_id"])
    return ordered.drop_duplicates(["measure", "series_id", "month"], keep="last")


def _flag(
    session: Session, frame: pd.DataFrame, origin: str, level: float, rules: Rules
) -> list[Anomaly]:
    if frame.empty:
        return []
    flags = flag(with_context(session, frame), level, rules)
    created: list[Anomaly] = []
    for measure, part in flags.groupby("measure", sort=True):
        created += _flag_measure(session, part, origin, str(measure))
    if created:
        # One alert per escalation, not one per level of the tree (nor one per measure).
        group(session, [a for a in created if a.kind == INTERVAL])
    return created


def _flag_measure(
    session: Session, flags: pd.DataFrame, origin: str, measure: str
) -> list[Anomaly]:
    existing = _existing(session, origin, measure, flags["series_id"].unique().tolist())
    seen = {(sid, month) for sid, month in existing}
    flags = flags[[(s, m) not in seen for s, m in zip(flags["series_id"], flags["month"],
                                                      strict=True)]]  # fmt: skip
    if flags.empty:
        return []
    # Flags judged by a forecast that never saw the series: one `new` record, not a flood
    # (told once, by the events; the deaths of a newcomer are not news twice).
    unseen = newborn(session, flags)
    news = fold_newborn(session, flags[unseen], origin) if measure == EVENTS else []
    flags = flags[~unseen]
    if flags.empty:
        return news
    flags = assign_episodes(flags, existing)
    rows = [
        Anomaly(
            series_id=int(r.series_id), month=r.month, origin=origin, measure=measure,
            kind=INTERVAL, run_id=int(r.run_id),
            horizon=int(r.horizon), forecast_origin=r.forecast_origin,
            observed=int(r.observed), expected=float(r.mean),
            lower=float(r.lower), upper=float(r.upper), level=float(r.level),
            direction=r.direction, tail_probability=float(r.tail_probability),
            severity=r.severity, in_season=bool(r.in_season), episode_start=r.episode_start,
            alert=bool(r.alert) and origin == LIVE, status="new",
        )
        for r in flags.itertuples(index=False)
    ]  # fmt: skip
    session.add_all(rows)
    session.flush()
    return [*news, *rows]


def _existing(
    session: Session, origin: str, measure: str, series_ids: list[int]
) -> dict[tuple[int, dt.date], EpisodeState]:
    """Stored anomalies of these series and measure, as the episode each belongs to (worst
    severity so far)."""
    rows = session.execute(
        select(Anomaly.series_id, Anomaly.month, Anomaly.direction, Anomaly.episode_start,
               Anomaly.severity)
        .where(Anomaly.origin == origin, Anomaly.measure == measure,
               Anomaly.series_id.in_([int(s) for s in series_ids]))
        .order_by(Anomaly.series_id, Anomaly.month)
    ).all()  # fmt: skip
    worst: dict[tuple[int, dt.date], int] = {}
    out: dict[tuple[int, dt.date], EpisodeState] = {}
    for series_id, month, direction, start, severity in rows:
        key = (series_id, start)
        worst[key] = max(worst.get(key, 0), SEVERITY_RANK[severity])
        out[(series_id, month)] = EpisodeState(direction, start, worst[key])
    return out
