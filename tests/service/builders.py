"""Plain builders of test data: sources, regions, actors, series with their months, coverage.

They write rows directly (no ingest), flush, and leave the commit to the caller, so any test of
any backend can set up exactly the series it needs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from models.seasons import season_features
from service.db import session_scope
from service.ingest.orm import Actor, Region, Source
from service.ingest.sync import get_or_create, get_or_create_source
from service.series.aggregate import series_key
from service.series.orm import Coverage, Observation, Series

START = dt.date(2016, 1, 1)


T = TypeVar("T")


def built(engine: Engine, make: Callable[[Session], T]) -> T:
    """What `make` writes into the database (committed), e.g. a test world."""
    with session_scope(engine) as session:
        return make(session)


def make_source(session: Session, name: str = "ucdp") -> Source:
    return get_or_create_source(session, name)


def make_region(session: Session, country: str, name: str) -> Region:
    return get_or_create(session, Region, country=country, name=name)


def make_actor(session: Session, name: str) -> Actor:
    return get_or_create(session, Actor, name=name)


def month_after(month: dt.date, n: int) -> dt.date:
    return (pd.Timestamp(month) + pd.DateOffset(months=n)).date()


def set_coverage(
    session: Session, source: Source, country: str, first: dt.date, last: dt.date
) -> Coverage:
    """Set (or widen) the coverage of `source` in `country` to include first..last."""
    row = session.scalar(
        select(Coverage).where(Coverage.source_id == source.id, Coverage.country == country)
    )
    if row is None:
        row = Coverage(source_id=source.id, country=country, first_month=first,
                       last_complete_month=last, last_event_date=month_after(last, 1)
                       - dt.timedelta(days=1))  # fmt: skip
        session.add(row)
    else:
        row.first_month = min(row.first_month, first)
        row.last_complete_month = max(row.last_complete_month, last)
        row.last_event_date = month_after(row.last_complete_month, 1) - dt.timedelta(days=1)
    session.flush()
    return row


def _level(region: str | None, actor: str | None, event_type: str | None) -> str:
    if actor:
        if region:
            return "actor_region_type" if event_type else "actor_region"
        return "actor_country"
    if region:
        return "region_type" if event_type else "region"
    return "country_type" if event_type else "country"


def make_series(
    session: Session,
    counts: Sequence[float] | np.ndarray,
    *,
    source: str = "ucdp",
    country: str = "Burkina Faso",
    region: str | None = None,
    actor: str | None = None,
    event_type: str | None = None,
    start: dt.date = START,
    cover: bool = True,
) -> Series:
    """Insert a series with one month per count from `start` (zeros are left out, as ingest does).

    With `cover`, the source's coverage of the country is widened to the series' last month,
    so the zeros are known zeros.
    """
    src = make_source(session, source)
    region_row = make_region(session, country, region) if region else None
    actor_row = make_actor(session, actor) if actor else None
    series = Series(
        key=series_key(source, country, region, actor, event_type),
        level=_level(region, actor, event_type),
        source_id=src.id,
        country=country,
        region_id=region_row.id if region_row else None,
        actor_id=actor_row.id if actor_row else None,
        event_type=event_type,
    )
    session.add(series)
    session.flush()
    add_months(session, series, counts, start)
    if cover and len(counts):
        set_coverage(session, src, country, start, month_after(start, len(counts) - 1))
    return series


def add_months(
    session: Session, series: Series, counts: Sequence[float] | np.ndarray, start: dt.date
) -> None:
    """Add observed months (zeros skipped) to a series; does not touch coverage."""
    for i, count in enumerate(counts):
        if count:
            session.add(Observation(series_id=series.id, month=month_after(start, i),
                                    events=int(count), fatalities=int(count)))  # fmt: skip
    session.flush()


def extend_series(session: Session, series: Series, counts: Sequence[float]) -> dt.date:
    """Append months after the coverage end of the series' source and country; return the
    new last complete month."""
    coverage = session.scalar(
        select(Coverage).where(Coverage.source_id == series.source_id,
                               Coverage.country == series.country)
    )  # fmt: skip
    assert coverage is not None
    first_new = month_after(coverage.last_complete_month, 1)
    add_months(session, series, counts, first_new)
    last = month_after(first_new, len(counts) - 1)
    source = session.get(Source, series.source_id)
    assert source is not None
    set_coverage(session, source, series.country, coverage.first_month, last)
    return last


def seasonal_counts(
    n: int = 84,
    *,
    base: float = 6.0,
    rate_ratio: float = 1.0,
    start: dt.date = START,
    country: str = "Burkina Faso",
    region: str | None = None,
    seed: int = 0,
    dispersion: float | None = None,
) -> np.ndarray:
    """Simulate monthly counts with a rainy-season rate ratio (Poisson, or NB with `dispersion`)."""
    index = pd.date_range(start, periods=n, freq="MS")
    share = season_features(index, country=country, region=region)["season_share"].to_numpy()
    mean = base * np.exp(np.log(rate_ratio) * share)
    rng = np.random.default_rng(seed)
    if dispersion:
        return rng.negative_binomial(1 / dispersion, 1 / (1 + dispersion * mean)).astype(float)
    return rng.poisson(mean).astype(float)


REGIONS = ("Sahel", "Nord", "Est", "Centre-Nord")


def make_world(
    session: Session,
    *,
    n: int = 84,
    actor: str = "JNIM",
    regions: Sequence[str] = REGIONS,
    rate_ratio: float = 2.0,
    base: float = 5.0,
    seed: int = 0,
) -> list[Series]:
    """One actor in several regions of Burkina Faso with a rainy-season effect, plus the
    country total: a small but realistic set of series to train."""
    series = [
        make_series(session, seasonal_counts(n, base=base, rate_ratio=rate_ratio, region=r,
                                             seed=seed + i), region=r, actor=actor)
        for i, r in enumerate(regions)
    ]  # fmt: skip
    series.append(make_series(session, seasonal_counts(n, base=4 * base, seed=seed + 99)))
    return series


def make_panels(session: Session, n_series: int = 30, n_countries: int = 10) -> list[Series]:
    """Series of many actors in `n_countries` countries: as many panels, one training task
    each, so that a run writes its results panel by panel and runs long enough to be killed."""
    return [
        make_series(
            session,
            seasonal_counts(84, base=3 + i % 5, seed=i),
            region="Sahel",
            actor=f"Group {i}",
            country=f"Country {i % n_countries}",
        )
        for i in range(n_series)
    ]
