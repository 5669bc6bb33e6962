"""Which series a run trains, their data as the models see it, and the fingerprint of that data."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.ingest.orm import Source
from service.series.orm import Coverage, Observation, Series
from service.series.repository import SeriesFilter, SeriesInfo, filter_series, list_series

_ALL = 10**9  # list_series pages; a run wants every matching series
# A series' rows inside its source's coverage of its country
_in_coverage = (Coverage.source_id == Series.source_id) & (Coverage.country == Series.country)


def events_in_coverage(session: Session) -> dict[int, int]:
    """Return series id -> events inside its source's coverage (months after it are unknown)."""
    rows = session.execute(
        select(Observation.series_id, func.sum(Observation.events))
        .join(Series, Series.id == Observation.series_id)
        .join(Coverage, _in_coverage)
        .where(Observation.month <= Coverage.last_complete_month)
        .group_by(Observation.series_id)
    ).all()
    return {int(series_id): int(total or 0) for series_id, total in rows}


@dataclass(frozen=True)
class Catalogue:
    """Every series with its coverage, the events inside it, and what the data signature reads:
    read once per training call, whatever the measures and the filters."""

    infos: list[SeriesInfo]  # every series, in id order
    events: dict[int, int]  # series id -> events inside coverage
    coverage: list[list[Any]]  # source, country, first and last complete month (plain values)
    counts: list[list[Any]]  # source, country, observation rows, events, deaths in coverage


def read_catalogue(session: Session) -> Catalogue:
    """Read the series catalogue and the figures a run's data signature is made of."""
    infos, _ = list_series(session, SeriesFilter(), limit=_ALL)
    coverage = session.execute(
        select(Source.name, Coverage.country, Coverage.first_month, Coverage.last_complete_month)
        .join(Source, Source.id == Coverage.source_id)
        .order_by(Source.name, Coverage.country)
    ).all()
    counts = session.execute(
        select(
            Source.name,
            Series.country,
            func.count(),
            func.sum(Observation.events),
            func.sum(Observation.fatalities),
        )
        .join(Series, Series.id == Observation.series_id)
        .join(Source, Source.id == Series.source_id)
        .join(Coverage, _in_coverage)
        .where(Observation.month <= Coverage.last_complete_month)
        .group_by(Source.name, Series.country)
        .order_by(Source.name, Series.country)
    ).all()
    return Catalogue(
        sorted(infos, key=lambda info: info.id),
        events_in_coverage(session),
        [_plain(row) for row in coverage],
        [_plain(row) for row in counts],
    )


def select_series(
    session: Session,
    filters: SeriesFilter,
    min_events: int,
    catalogue: Catalogue | None = None,
) -> list[SeriesInfo]:
    """Return the series a run trains: those matching `filters` with coverage and at least
    `min_events` events inside it, in id order (so runs are reproducible)."""
    catalogue = catalogue or read_catalogue(session)
    wanted: set[int] | None = None
    if filters != SeriesFilter():
        wanted = set(session.scalars(filter_series(filters, select(Series.id))))
    return [
        info
        for info in catalogue.infos
        if (wanted is None or info.id in wanted)
        and info.last_complete_month is not None
        and catalogue.events.get(info.id, 0) >= min_events
    ]


def _month_number(values: pd.Series | np.ndarray) -> np.ndarray:
    stamps = pd.DatetimeIndex(pd.to_datetime(values))
    return np.asarray(stamps.year * 12 + stamps.month - 1)


def load_matrix(
    session: Session, infos: Sequence[SeriesInfo], measure: str = "events"
) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Return the months and the counts (len(infos) x months) of `infos` with one query.

    Each row holds its series' known months, from its coverage's first to its last complete
    month (a month without an observation row is a zero), and NaN outside them. `measure` is
    `events` or `fatalities`.
    """
    months, matrices = load_matrices(session, infos, (measure,))
    return months, matrices[measure]


def load_matrices(
    session: Session, infos: Sequence[SeriesInfo], measures: Sequence[str]
) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray]]:
    """`load_matrix` for several measures (`events`, `fatalities`) in one query."""
    firsts = [i.first_month for i in infos]
    lasts = [i.last_complete_month for i in infos]
    if not infos or any(m is None for m in (*firsts, *lasts)):
        raise ValueError("every series needs coverage to be loaded")
    by_name = {"events": Observation.events, "fatalities": Observation.fatalities}
    columns = [by_name[m] for m in measures]
    start = int(_month_number(np.array([min(firsts)]))[0])  # type: ignore[type-var]
    first = _month_number(np.array(firsts)) - start
    last = _month_number(np.array(lasts)) - start
    width = int(last.max()) + 1
    span = np.arange(width)[None, :]
    outside = (span < first[:, None]) | (span > last[:, None])
    matrices = {m: np.where(outside, np.nan, 0.0) for m in measures}
    ids = np.array([info.id for info in infos], dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    # the month as year and month numbers from the database: no date object per row
    year, month = func.extract("year", Observation.month), func.extract("month", Observation.month)
    for chunk in range(0, len(ids), 20_000):  # keep each IN list a size every backend takes
        rows = session.execute(
            select(Observation.series_id, year, month, *columns).where(
                Observation.series_id.in_(ids[chunk : chunk + 20_000].tolist())
            )
        ).all()
        if not rows:
            continue
        values = list(zip(*rows, strict=True))  # columns, not row objects
        sid = np.array(values[0], dtype=np.int64)
        r = order[np.searchsorted(ids, sid, sorter=order)]
        c = np.array(values[1], dtype=np.int64) * 12 + np.array(values[2], dtype=np.int64)
        c -= start + 1
        inside = (c >= first[r]) & (c <= last[r])
        for k, m in enumerate(measures):
            matrices[m][r[inside], c[inside]] = np.array(values[3 + k], dtype=float)[inside]
    months = pd.date_range(pd.Timestamp(min(firsts)), periods=width, freq="MS")  # type: ignore[type-var]
    return months, matrices


def load_series(session: Session, infos: Sequence[SeriesInfo]) -> dict[int, pd.Series]:
    """Return the training data of `infos` with one query: the same as `training_series` per series.

    Known months run from the coverage's first to its last complete month; a month without
    an observation row is a zero.
    """
    if not infos:
        return {}
    months, matrix = load_matrix(session, infos)
    out: dict[int, pd.Series] = {}
    for info, row in zip(infos, matrix, strict=True):
        known = ~np.isnan(row)
        out[info.id] = pd.Series(row[known], index=months[known]).asfreq("MS")
    return out


def data_signature(
    session: Session,
    infos: Sequence[SeriesInfo],
    params: dict[str, Any],
    catalogue: Catalogue | None = None,
) -> str:
    """Fingerprint what a run would train on: coverage, the counts inside it, and the selection.

    The same fingerprint as the published run means the data did not advance: the coverage
    of every source and country is where it was and no count inside it changed (a corrected
    event changes the sums), and the same series and settings were asked for.
    """
    catalogue = catalogue or read_catalogue(session)
    scopes = sorted({(info.source, info.country) for info in infos})
    payload = {
        "coverage": [row for row in catalogue.coverage if (row[0], row[1]) in scopes],
        "counts": [row for row in catalogue.counts if (row[0], row[1]) in scopes],
        "series": [info.id for info in infos],
        "params": params,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(row: Sequence[Any]) -> list[Any]:
    """JSON-ready values: dates as ISO text, database numbers (Decimal on PostgreSQL) as ints."""
    out: list[Any] = []
    for value in row:
        if isinstance(value, dt.date):
            out.append(value.isoformat())
        elif value is None or isinstance(value, str):
            out.append(value)
        else:
            out.append(int(value))
    return out


def coverage_text(infos: Sequence[SeriesInfo]) -> str:
    """Describe the coverage a run trains on, e.g. 'ucdp Burkina Faso through 2022-12'."""
    ends: dict[tuple[str, str], dt.date] = {}
    for info in infos:
        if info.last_complete_month is not None:
            ends[(info.source, info.country)] = info.last_complete_month
    return ", ".join(f"{s} {c} through {m:%Y-%m}" for (s, c), m in sorted(ends.items())) or "none"
