"""The pure work function of a training run: series data in, result dicts out.

Every executor (inline, process pool, Dask) calls `train_group` and nothing else, so they are
interchangeable and give identical results: no database, no clock-dependent randomness, and a
seed derived from each series' key.
"""

from __future__ import annotations

import hashlib
import math
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models.base import FORECAST_COLUMNS, QUANTILE_COLUMNS, to_jsonable
from models.season_effect import estimate_season_effects
from models.seasons import default_calendar
from models.selection import select_and_forecast

HORIZON = 12
# Forecast table columns, in the order of QUANTILE_COLUMNS (q0.025 -> q025, ...).
Q_FIELDS = tuple(f"q{round(float(c[1:]) * 1000):03d}" for c in QUANTILE_COLUMNS)


def series_seed(key: str) -> int:
    """A stable 32-bit seed from the series key: reproducible, whatever runs the fit."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big")


@dataclass(frozen=True)
class SeriesInput:
    """One series as the work function needs it (small and picklable)."""

    series_id: int
    key: str
    country: str
    region: str | None
    start: str  # first month, YYYY-MM-DD
    values: tuple[float, ...]

    def y(self) -> pd.Series:
        index = pd.date_range(self.start, periods=len(self.values), freq="MS")
        return pd.Series(np.asarray(self.values, dtype=float), index=index)


@dataclass(frozen=True)
class GroupTask:
    """Series whose rainy-season effects are pooled together (one actor's regions, say)."""

    group: str
    series: tuple[SeriesInput, ...]
    candidates: tuple[str, ...] | None = None
    horizon: int = HORIZON
    options: dict[str, Any] = field(default_factory=dict)


def train_group(task: GroupTask) -> list[dict[str, Any]]:
    """Estimate the group's pooled season effects, then select and forecast each series.

    A series that fails gets status `failed` and its error; the others carry on. The result
    dicts hold only plain values, ready for the database.
    """
    effects, effect_error = _season_effects(task)
    results = []
    for item in task.series:
        result = train_series(item, task.candidates, task.horizon, task.options)
        result["season"] = effects.get(item.key)
        if effect_error:
            result["summary"]["season_effect_error"] = effect_error
        results.append(result)
    return results


def _season_effects(task: GroupTask) -> tuple[dict[str, dict[str, Any]], str | None]:
    data = {s.key: s.y() for s in task.series}
    frame = pd.concat(
        [
            pd.DataFrame({"series_id": s.key, "month": y.index, "y": y.to_numpy(),
                          "country": s.country, "region": s.region or "", "group": task.group})
            for s, y in zip(task.series, data.values(), strict=True)
        ],
        ignore_index=True,
    )  # fmt: skip
    try:
        effects = estimate_season_effects(frame)
    except Exception as error:  # recorded on every series of the group, never swallowed
        return {}, f"{type(error).__name__}: {error}"
    return {key: to_jsonable(effect.to_dict()) for key, effect in effects.items()}, None


def train_series(
    item: SeriesInput,
    candidates: tuple[str, ...] | None,
    horizon: int = HORIZON,
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Select a model for one series and return its forecast, backtest and scores."""
    start = time.perf_counter()
    y = item.y()
    base: dict[str, Any] = {
        "series_id": item.series_id,
        "trained_through": y.index[-1].date().isoformat(),
        "model": None,
        "scores": {},
        "failures": {},
        "summary": {},
        "error": None,
        "forecast": [],
        "backtest": [],
    }
    try:
        result = select_and_forecast(
            y,
            country=item.country,
            region=item.region,
            horizon=horizon,
            candidates=list(candidates) if candidates else None,
            seed=series_seed(item.key),
            **(options or {}),
        )
        base.update(
            status="ok" if result.alias in result.ranking else "fallback",
            model=result.alias,
            scores=to_jsonable(result.scores),
            failures=to_jsonable(result.failures),
            summary=to_jsonable(
                {**result.summary, "notes": result.notes, "ranking": result.ranking}
            ),
            forecast=_forecast_rows(result.forecast, item),
            backtest=_backtest_rows(result.backtest_forecasts(), item),
        )
    except Exception as error:  # the series fails, the run goes on
        base.update(status="failed", error=_describe(error))
    base["seconds"] = time.perf_counter() - start
    return base


def _in_season(months: pd.DatetimeIndex, item: SeriesInput) -> list[bool]:
    """At least half of the month inside the place's rainy season (as models.seasons has it)."""
    share = default_calendar().season_share(months, item.country, item.region)
    return [bool(v) for v in share >= 0.5]


def _records(
    months: pd.DatetimeIndex, values: np.ndarray, item: SeriesInput
) -> list[dict[str, Any]]:
    """One dict per month with the mean, the quantiles (database names) and the season flag.

    Built from plain arrays: this runs for every series, and pandas row access costs more
    than the rest of the bookkeeping together.
    """
    season = _in_season(months, item)
    return [
        {"month": m.date().isoformat(), "mean": row[0],
         **dict(zip(Q_FIELDS, row[1:], strict=True)), "in_season": s}
        for m, row, s in zip(months, values.tolist(), season, strict=True)
    ]  # fmt: skip


def _forecast_rows(forecast: pd.DataFrame, item: SeriesInput) -> list[dict[str, Any]]:
    values = forecast[list(FORECAST_COLUMNS)].to_numpy(dtype=float)
    rows = _records(pd.DatetimeIndex(forecast.index), values, item)
    for h, row in enumerate(rows, start=1):
        row["horizon"] = h
    return rows


def _backtest_rows(backtest: pd.DataFrame, item: SeriesInput) -> list[dict[str, Any]]:
    """Keep, per backtested month, the forecast of the latest origin before it (what a live
    detection would have compared that month with)."""
    if backtest.empty:
        return []
    months = pd.DatetimeIndex(backtest["month"])
    origins = pd.DatetimeIndex(backtest["origin"])
    observed = backtest["y"].to_numpy(dtype=float)
    latest: dict[pd.Timestamp, int] = {}
    for i, (month, origin) in enumerate(zip(months, origins, strict=True)):
        if not np.isnan(observed[i]) and (month not in latest or origin > origins[latest[month]]):
            latest[month] = i
    keep = [latest[m] for m in sorted(latest)]
    values = backtest[list(FORECAST_COLUMNS)].to_numpy(dtype=float)[keep]
    rows = _records(months[keep], values, item)
    horizons = backtest["horizon"].to_numpy()
    for row, i in zip(rows, keep, strict=True):
        row.update(origin=origins[i].date().isoformat(), horizon=int(horizons[i]),
                   observed=int(round(observed[i])))  # fmt: skip
    return rows


def _describe(error: BaseException) -> str:
    where = traceback.extract_tb(error.__traceback__)[-1:] if error.__traceback__ else []
    at = f" (at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno})" if where else ""
    return f"{type(error).__name__}: {error}{at}"


def finite_or_none(value: Any) -> float | None:
    """A float for the database, or None for NaN/inf/missing."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
