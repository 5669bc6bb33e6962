"""What a candidate flag is judged with besides its forecast: the country's total that month
(how large the change is against the country's violence) and the engine's regime state (the
posterior probability that the series' level shifted up or down that month, from the latest
readable run of the measure that saw the month). Functions only read.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.measures import FATALITIES
from service.series.orm import Observation, Series
from service.training.orm import Run, SeriesState
from service.training.repository import READABLE

COUNTRY = "country"
_CHUNK = 1000


def with_context(session: Session, frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (columns series_id, month, measure) with `country_total`, `p_shift_up` and
    `p_shift_down` (NaN where unknown)."""
    if frame.empty:
        return frame
    out = frame.copy()
    ids = sorted({int(s) for s in out["series_id"]})
    months = sorted(set(out["month"]))
    homes: dict[int, tuple[int, str]] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(Series.id, Series.source_id, Series.country)
            .where(Series.id.in_(ids[start : start + _CHUNK]))
        )  # fmt: skip
        homes.update({int(i): (int(src), str(c)) for i, src, c in rows})
    totals: dict[tuple[int, str, object], tuple[int, int]] = {}
    for src, country, month, events, deaths in session.execute(
        select(Series.source_id, Series.country, Observation.month, Observation.events,
               Observation.fatalities)
        .join(Observation, Observation.series_id == Series.id)
        .where(Series.level == COUNTRY, Observation.month.in_(months))
    ):  # fmt: skip
        totals[(int(src), str(country), month)] = (int(events or 0), int(deaths or 0))
    out["country_total"] = [
        _total(totals.get((*homes.get(int(s), (0, "")), m)), str(measure))
        for s, m, measure in zip(out["series_id"], out["month"], out["measure"], strict=True)
    ]
    up, down = _shifts(session, ids, months)
    keys = list(zip(out["series_id"].astype(int), out["month"], out["measure"], strict=True))
    out["p_shift_up"] = [up.get(k, float("nan")) for k in keys]
    out["p_shift_down"] = [down.get(k, float("nan")) for k in keys]
    return out


def _total(found: tuple[int, int] | None, measure: str) -> float:
    if found is None:
        return float("nan")
    return float(found[1] if measure == FATALITIES else found[0])


def _shifts(
    session: Session, ids: list[int], months: list[object]
) -> tuple[dict[tuple[int, object, str], float], dict[tuple[int, object, str], float]]:
    """P(shift up) and P(shift down) per (series, month, measure): the latest readable run's."""
    up: dict[tuple[int, object, str], float] = {}
    down: dict[tuple[int, object, str], float] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(SeriesState.series_id, SeriesState.month, Run.measure, SeriesState.p_shift_up,
                   SeriesState.p_shift_down)
            .join(Run, Run.id == SeriesState.run_id)
            .where(Run.status.in_(READABLE), SeriesState.month.in_(months),
                   SeriesState.series_id.in_(ids[start : start + _CHUNK]))
            .order_by(SeriesState.run_id)
        )  # fmt: skip
        for sid, month, measure, p_up, p_down in rows:  # later runs overwrite earlier ones
            up[(int(sid), month, str(measure))] = float(p_up)
            down[(int(sid), month, str(measure))] = float(p_down)
    return up, down
