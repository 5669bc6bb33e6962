"""Read series and their months, with coverage marks: observed, zero (known) or unknown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from service.ingest.orm import Actor, Region, Source
from service.series.orm import Coverage, Observation, Series

if TYPE_CHECKING:
    import pandas as pd

OBSERVED, ZERO, UNKNOWN = "observed", "zero", "unknown"


@dataclass(frozen=True)
class SeriesFilter:
    """Filters shared by the CLI, the jobs and the API (None means any)."""

    source: str | None = None
    country: str | None = None
    region: str | None = None
    actor: str | None = None
    event_type: str | None = None
    level: str | None = None


@dataclass(frozen=True)
class SeriesInfo:
    id: int
    key: str
    level: str
    source: str
    country: str
    region: str | None
    actor: str | None
    event_type: str | None
    first_month: dt.date | None
    last_complete_month: dt.date | None
    total_events: int


def _info_query() -> Select:
    totals = (
        select(Observation.series_id, func.sum(Observation.events).label("total"))
        .group_by(Observation.series_id)
        .subquery()
    )
    region, actor = aliased(Region), aliased(Actor)
    return (
        select(Series.id, Series.key, Series.level, Source.name, Series.country, region.name,
               actor.name, Series.event_type, Coverage.first_month, Coverage.last_complete_month,
               func.coalesce(totals.c.total, 0))
        .join(Source, Source.id == Series.source_id)
        .outerjoin(region, region.id == Series.region_id)
        .outerjoin(actor, actor.id == Series.actor_id)
        .outerjoin(Coverage, (Coverage.source_id == Series.source_id)
                   & (Coverage.country == Series.country))
        .outerjoin(totals, totals.c.series_id == Series.id)
    )  # fmt: skip


def list_series(
    session: Session, filters: SeriesFilter = SeriesFilter(), *, limit: int = 100, offset: int = 0
) -> tuple[list[SeriesInfo], int]:
    """Return one page of series matching `filters`, busiest first, and the total count."""
    query = _info_query()
    region, actor = query.selected_columns[5], query.selected_columns[6]
    conditions = []
    if filters.source:
        conditions.append(Source.name == filters.source)
    if filters.country:
        conditions.append(func.lower(Series.country) == filters.country.lower())
    if filters.region:
        conditions.append(func.lower(region) == filters.region.lower())
    if filters.actor:
        conditions.append(func.lower(actor) == filters.actor.lower())
    if filters.event_type:
        conditions.append(func.lower(Series.event_type) == filters.event_type.lower())
    if filters.level:
        conditions.append(Series.level == filters.level)
    query = query.where(*conditions)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(query.selected_columns[10].desc(), Series.key).limit(limit).offset(offset)
    return [SeriesInfo(*row) for row in session.execute(page).all()], int(total)


def get_series(session: Session, ref: str | int) -> SeriesInfo | None:
    """Find a series by id or by key."""
    query = _info_query()
    if isinstance(ref, int) or str(ref).isdigit():
        query = query.where(Series.id == int(ref))
    else:
        query = query.where(Series.key == ref)
    row = session.execute(query).first()
    return SeriesInfo(*row) if row else None


def series_months(session: Session, info: SeriesInfo) -> pd.DataFrame:
    """Return the months of a series with `events`, `fatalities` and a `status` per month.

    Months inside coverage without a row are known zeros; months after the last complete
    month are `unknown` (their partial counts, if any, are kept but must not be modelled).
    """
    import pandas as pd  # here, not at the top: `sahelcast series list` need not load it

    rows = session.execute(
        select(Observation.month, Observation.events, Observation.fatalities)
        .where(Observation.series_id == info.id)
        .order_by(Observation.month)
    ).all()
    observed = pd.DataFrame(rows, columns=["month", "events", "fatalities"])
    observed["month"] = pd.to_datetime(observed["month"])
    if info.first_month is None or info.last_complete_month is None:
        return observed.assign(status=UNKNOWN)
    end = max(
        pd.Timestamp(info.last_complete_month),
        observed["month"].max() if len(observed) else pd.Timestamp(info.first_month),
    )
    months = pd.date_range(pd.Timestamp(info.first_month), end, freq="MS")
    frame = pd.DataFrame({"month": months}).merge(observed, on="month", how="left")
    known = frame["month"] <= pd.Timestamp(info.last_complete_month)
    frame["status"] = OBSERVED
    frame.loc[known & frame["events"].isna(), "status"] = ZERO
    frame.loc[~known, "status"] = UNKNOWN
    counts = ["events", "fatalities"]
    frame.loc[known, counts] = frame.loc[known, counts].fillna(0)
    return frame


def training_series(session: Session, info: SeriesInfo) -> pd.Series:
    """The series as a model sees it: known months only, month-start index, event counts."""
    import pandas as pd

    frame = series_months(session, info)
    frame = frame[frame["status"] != UNKNOWN]
    y = pd.Series(frame["events"].astype(float).values, index=pd.DatetimeIndex(frame["month"]))
    return y.asfreq("MS")
