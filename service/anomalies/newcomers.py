"""A new series is news, not noise: a new actor or region gets one `new` record.

A series whose first event comes after the data a forecast saw was forecast as [0, 0] (or not
at all): every month of its first year would be flagged, one anomaly per month per level. A
flag judged by a forecast that never saw the series is folded into one record of kind `new`,
at the first flagged month, per series and origin; later such flags are dropped. In live
detection a series that appears after the latest run's data has no forecast at all: it gets
the same single record, judged against zero. Functions only flush.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.seasons import season_features
from service.anomalies.orm import Anomaly
from service.anomalies.scoring import ABOVE, tail_probability
from service.anomalies.severity import DEFAULT_RULES, Rules, severity
from service.ingest.orm import Region
from service.measures import EVENTS
from service.series.orm import Coverage, Observation, Series
from service.training.orm import Run, RunSeries
from service.training.repository import READABLE

NEW, INTERVAL = "new", "interval"
_ZEROS = [0.0] * 7


def first_months(session: Session, series_ids: list[int]) -> dict[int, dt.date]:
    """The first month with events of each of these series."""
    if not series_ids:
        return {}
    rows = session.execute(
        select(Observation.series_id, func.min(Observation.month))
        .where(Observation.series_id.in_(series_ids), Observation.events > 0)
        .group_by(Observation.series_id)
    )
    return {int(sid): month for sid, month in rows}


def newborn(session: Session, flags: pd.DataFrame) -> pd.Series:
    """Which flags were judged by a forecast that saw none of the series' events."""
    first = first_months(session, [int(s) for s in flags["series_id"].unique()])
    starts = flags["series_id"].map(lambda s: first.get(int(s)))
    return pd.Series(
        [f is not None and o is not None and o < f
         for o, f in zip(flags["forecast_origin"], starts, strict=True)],
        index=flags.index, dtype=bool,
    )  # fmt: skip


def _announced(session: Session, origin: str, series_ids: list[int]) -> set[int]:
    """The series that already have their `new` record for this origin."""
    return set(
        session.scalars(
            select(Anomaly.series_id).where(
                Anomaly.kind == NEW, Anomaly.origin == origin, Anomaly.series_id.in_(series_ids)
            )
        )
    )


def fold_newborn(session: Session, flags: pd.DataFrame, origin: str) -> list[Anomaly]:
    """One `new` record per series among `flags` (newborn flags), unless it has one already."""
    if flags.empty:
        return []
    done = _announced(session, origin, [int(s) for s in flags["series_id"].unique()])
    rows = []
    for series_id, group in flags.sort_values("month").groupby("series_id", sort=True):
        if int(series_id) in done:
            continue
        r = group.iloc[0]
        rows.append(Anomaly(
            series_id=int(series_id), month=r.month, origin=origin, kind=NEW,
            run_id=int(r.run_id), horizon=int(r.horizon), forecast_origin=r.forecast_origin,
            observed=int(r.observed), expected=float(r["mean"]), lower=float(r.lower),
            upper=float(r.upper), level=float(r.level), direction=r.direction,
            tail_probability=float(r.tail_probability), severity=r.severity,
            in_season=bool(r.in_season), episode_start=r.month, alert=origin == "live",
            status="new",
        ))  # fmt: skip
    session.add_all(rows)
    session.flush()
    return rows


def live_newcomers(
    session: Session, lo: int, hi: int, level: float, rules: Rules = DEFAULT_RULES
) -> list[Anomaly]:
    """`new` records for series that first appear after the latest readable events run's data
    (they have no forecast to be judged by), once each; it alerts only when its events pass
    the size floor (a new group of fishers with two events is recorded, not alerted)."""
    run_id = session.scalar(
        select(Run.id)
        .where(Run.status.in_(READABLE), Run.measure == EVENTS)
        .order_by(Run.id.desc())
        .limit(1)
    )
    if run_id is None:
        return []  # nothing was ever forecast: every series is as new as any other
    seen = session.scalar(
        select(func.max(RunSeries.trained_through)).where(RunSeries.run_id == run_id)
    )
    if seen is None:
        return []
    firsts = (
        select(Observation.series_id, func.min(Observation.month).label("first"))
        .where(Observation.events > 0, Observation.series_id.between(lo, hi))
        .group_by(Observation.series_id)
        .subquery()
    )
    in_run = select(RunSeries.series_id).where(RunSeries.run_id == run_id)
    announced = select(Anomaly.series_id).where(Anomaly.kind == NEW, Anomaly.origin == "live")
    candidates = session.execute(
        select(Series.id, Series.country, Region.name, firsts.c.first, Observation.events)
        .join(firsts, firsts.c.series_id == Series.id)
        .join(Observation, (Observation.series_id == Series.id)
              & (Observation.month == firsts.c.first))
        .join(Coverage, (Coverage.source_id == Series.source_id)
              & (Coverage.country == Series.country))
        .outerjoin(Region, Region.id == Series.region_id)
        .where(firsts.c.first > seen, firsts.c.first > Coverage.first_month,
               firsts.c.first <= Coverage.last_complete_month,
               Series.id.not_in(in_run), Series.id.not_in(announced))
        .order_by(Series.id)
    ).all()  # fmt: skip
    rows = []
    for series_id, country, region, first, events in candidates:
        p = tail_probability(float(events), 0.0, _ZEROS, ABOVE)
        share = season_features(pd.DatetimeIndex([first]), country=country, region=region)
        rows.append(Anomaly(
            series_id=series_id, month=first, origin="live", kind=NEW, run_id=run_id,
            horizon=(first.year - seen.year) * 12 + first.month - seen.month,
            forecast_origin=seen, observed=int(events), expected=0.0, lower=0.0, upper=0.0,
            level=level, direction=ABOVE, tail_probability=p,
            severity=severity(p, float(events), EVENTS, rules=rules),
            in_season=bool(share["season_share"].iloc[0] >= 0.5), episode_start=first,
            alert=bool(events >= rules.floor(EVENTS)), status="new",
        ))  # fmt: skip
    session.add_all(rows)
    session.flush()
    return rows


def one_per_tree(session: Session, records: list[Anomaly]) -> None:
    """Alert a newcomer once, at its coarsest new series: a new actor in a new region is new at
    actor × region × type, actor × region and maybe actor × country; the finer records are
    kept but suppressed (alert False) when a series above them is new in the same detection."""
    if len(records) < 2:
        return
    ids = {a.series_id for a in records}
    parts = {
        sid: (src, country, region, actor, etype)
        for sid, src, country, region, actor, etype in session.execute(
            select(Series.id, Series.source_id, Series.country, Series.region_id,
                   Series.actor_id, Series.event_type).where(Series.id.in_(ids))
        )
    }  # fmt: skip

    def above(upper: tuple[object, ...], lower: tuple[object, ...]) -> bool:
        # Same source and country; every part the upper series names, the lower names too.
        return (
            upper != lower
            and upper[:2] == lower[:2]
            and all(u is None or u == v for u, v in zip(upper[2:], lower[2:], strict=True))
        )

    for record in records:
        mine = parts[record.series_id]
        if any(above(parts[o.series_id], mine) for o in records if o.origin == record.origin):
            record.alert = False
    session.flush()
