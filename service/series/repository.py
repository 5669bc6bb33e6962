"""Read series and their months, with coverage marks: observed, zero (known) or unknown.

The series reads of the API, the dashboard, the CLI, the alerts and the notebooks live here:
one label record (`SeriesLabel`), one labelled query (`labelled`), one filter → SQL
(`series_conditions`, `filter_series`), one look-up by id or key.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select
from sqlalchemy.orm import Session, aliased

from service.ingest.orm import Actor, Region, Source
from service.series.orm import Coverage, Observation, Series

if TYPE_CHECKING:
    import pandas as pd

OBSERVED, ZERO, UNKNOWN = "observed", "zero", "unknown"
MAX_ID = 2**31 - 1  # PostgreSQL `integer`: a larger number names no series
REGION, ACTOR = aliased(Region, name="region"), aliased(Actor, name="actor")


@dataclass(frozen=True)
class SeriesFilter:
    """Filters shared by the CLI, the jobs, the dashboard and the API (None means any).

    Names compare case-insensitively; `source` and `level` are exact.
    """

    source: str | None = None
    country: str | None = None
    region: str | None = None
    actor: str | None = None
    event_type: str | None = None
    level: str | None = None


@dataclass(frozen=True)
class SeriesLabel:
    """A series' identity and labels (None, `null` in JSON, where a roll-up sums over that
    part): the record of the reads and the API's schema alike."""

    id: int
    key: str
    level: str
    source: str
    country: str
    region: str | None
    actor: str | None
    event_type: str | None

    def labels(self) -> dict[str, Any]:
        """The label fields alone (not a subclass's extras), as the API and payloads show them."""
        return {f.name: getattr(self, f.name) for f in fields(SeriesLabel)}


@dataclass(frozen=True)
class SeriesInfo(SeriesLabel):
    """A series' labels with its source's coverage span and its total events.

    `ambiguous_events`: events naming the series' actor only in an ambiguous attribution
    ("A and/or B"), which count for no actor: a caveat to show beside an actor series.
    """

    first_month: dt.date | None
    last_complete_month: dt.date | None
    total_events: int
    ambiguous_events: int = 0


def join_labels(query: Select) -> Select:
    """Join the source, region and actor names onto a query that selects from `series`."""
    return (
        query.join(Source, Source.id == Series.source_id)
        .outerjoin(REGION, REGION.id == Series.region_id)
        .outerjoin(ACTOR, ACTOR.id == Series.actor_id)
    )


def labelled() -> Select:
    """Series with their labels, in `SeriesLabel`'s order (add columns and joins after them)."""
    return join_labels(
        select(
            Series.id,
            Series.key,
            Series.level,
            Source.name.label("source"),
            Series.country,
            REGION.name.label("region"),
            ACTOR.name.label("actor"),
            Series.event_type,
        )
    )


def series_conditions(filters: SeriesFilter) -> list[ColumnElement[bool]]:
    """WHERE terms for `filters` on a query with the labels joined (`labelled`, `join_labels`)."""
    terms: list[ColumnElement[bool]] = []
    if filters.source:
        terms.append(Source.name == filters.source)
    if filters.country:
        terms.append(func.lower(Series.country) == filters.country.lower())
    if filters.region:
        terms.append(func.lower(REGION.name) == filters.region.lower())
    if filters.actor:
        terms.append(func.lower(ACTOR.name) == filters.actor.lower())
    if filters.event_type:
        terms.append(func.lower(Series.event_type) == filters.event_type.lower())
    if filters.level:
        terms.append(Series.level == filters.level)
    return terms


def filter_series(filters: SeriesFilter, query: Select) -> Select:
    """Restrict a query that joins `series` (without its labels) to the series `filters` match."""
    terms = series_conditions(filters)
    return join_labels(query).where(*terms) if terms else query


_BY_ID = labelled().where(Series.id == bindparam("ref"))
_BY_KEY = labelled().where(Series.key == bindparam("ref"))


def find_series(session: Session, ref: str | int) -> SeriesLabel | None:
    """Find a series' labels by id (digits) or by key: the lean look-up of hot paths."""
    if isinstance(ref, int) or (ref.isascii() and ref.isdigit()):
        number = int(ref)
        if number > MAX_ID:
            return None
        row = session.execute(_BY_ID, {"ref": number}).first()
    else:
        row = session.execute(_BY_KEY, {"ref": ref}).first()
    return SeriesLabel(*row) if row else None


def series_catalogue(session: Session, filters: SeriesFilter | None = None) -> list[SeriesLabel]:
    """Every matching series' labels, by key (no totals: cheap enough for every page)."""
    query = labelled().where(*series_conditions(filters or SeriesFilter())).order_by(Series.key)
    return [SeriesLabel(*row) for row in session.execute(query)]


def countries(session: Session) -> list[str]:
    """The countries the database holds series for, alphabetically."""
    return list(session.scalars(select(Series.country).distinct().order_by(Series.country)))


@dataclass(frozen=True)
class CoverageRow:
    """How far a source's data reaches for a country."""

    source: str
    country: str
    first_month: dt.date
    last_complete_month: dt.date
    last_event_date: dt.date
    updated_at: dt.datetime


def coverage_rows(session: Session) -> list[CoverageRow]:
    """The coverage of every source and country."""
    rows = session.execute(
        select(
            Source.name,
            Coverage.country,
            Coverage.first_month,
            Coverage.last_complete_month,
            Coverage.last_event_date,
            Coverage.updated_at,
        )
        .join(Source, Source.id == Coverage.source_id)
        .order_by(Source.name, Coverage.country)
    )
    return [CoverageRow(*row) for row in rows]


def _info_query() -> Select:
    totals = (
        select(Observation.series_id, func.sum(Observation.events).label("total"))
        .group_by(Observation.series_id)
        .subquery()
    )
    return (
        labelled()
        .add_columns(
            Coverage.first_month,
            Coverage.last_complete_month,
            func.coalesce(totals.c.total, 0).label("total_events"),
            Series.ambiguous_events,
        )
        .outerjoin(
            Coverage,
            (Coverage.source_id == Series.source_id) & (Coverage.country == Series.country),
        )
        .outerjoin(totals, totals.c.series_id == Series.id)
    )


def list_series(
    session: Session, filters: SeriesFilter = SeriesFilter(), *, limit: int = 100, offset: int = 0
) -> tuple[list[SeriesInfo], int]:
    """Return one page of series matching `filters`, busiest first, and the total count."""
    query = _info_query().where(*series_conditions(filters))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    busiest = query.selected_columns.total_events.desc()
    page = query.order_by(busiest, Series.key).limit(limit).offset(offset)
    return [SeriesInfo(*row) for row in session.execute(page).all()], int(total)


def get_series(session: Session, ref: str | int) -> SeriesInfo | None:
    """Find a series, with its coverage and total, by id or by key."""
    query = _info_query()
    if isinstance(ref, int) or (ref.isascii() and ref.isdigit()):
        if int(ref) > MAX_ID:
            return None
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
