"""Pure arithmetic of anomalies: which months fall outside the interval, how unlikely they were,
and how consecutive ones group into episodes. No database here, so it is easy to test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.base import QUANTILE_COLUMNS, QUANTILES
from models.metrics import crps
from service.anomalies.severity import DEFAULT_RULES, SEVERITY_RANK, Rules, severity
from service.kit.months import previous_month

ABOVE, BELOW = "above", "below"
# Interval level -> (lower, upper) quantile columns of the forecast grid.
INTERVALS = {0.5: ("q0.25", "q0.75"), 0.8: ("q0.1", "q0.9"), 0.95: ("q0.025", "q0.975")}
_TAU = np.asarray(QUANTILES)
# Beyond the outer quantiles the run's distribution is continued by an exponential tail through
# its last two quantiles (0.9 and 0.975, or 0.1 and 0.025): the run's own spread, no refit. A
# degenerate edge (both quantiles equal, e.g. a forecast of zeros) gets this least scale (in
# events or deaths), so a month after a zero forecast is finite and ranked by its count.
_MIN_SCALE = 0.5
_LOG_RATIO = float(np.log((1 - QUANTILES[-2]) / (1 - QUANTILES[-1])))  # ln(0.1 / 0.025)


def interval_columns(level: float) -> tuple[str, str]:
    """Return the quantile columns bounding the central interval of `level`."""
    try:
        return INTERVALS[level]
    except KeyError:
        raise ValueError(f"level must be one of {sorted(INTERVALS)}, got {level}") from None


def _scale(inner: float, outer: float) -> float:
    return max(abs(outer - inner) / _LOG_RATIO, _MIN_SCALE)


def tail_probability(
    observed: float, mean: float, quantiles: Iterable[float], direction: str
) -> float:
    """Return P(Y >= observed) (above) or P(Y <= observed) (below) under the run's forecast.

    The published run's quantile grid is the distribution: inside it the CDF is interpolated
    linearly between grid points (the same numbers the API and dashboard show); beyond the
    outer quantile an exponential tail through the last two quantiles carries it on, so the
    2.5 % beyond the outer quantile decays at the rate the run's own 90 -> 97.5 % step says.
    `mean` is kept for callers; the grid alone decides.
    """
    del mean
    q = np.asarray(list(quantiles), dtype=float)
    if direction == ABOVE:
        edge, mass = q[-1], 1.0 - _TAU[-1]
        if observed <= edge:
            return float(1.0 - np.interp(observed, q, _TAU, left=0.0, right=1.0))
        return float(mass * np.exp(-(observed - edge) / _scale(q[-2], edge)))
    if direction == BELOW:
        edge, mass = q[0], _TAU[0]
        if observed >= edge:
            return float(np.interp(observed, q, _TAU, left=0.0, right=1.0))
        return float(mass * np.exp(-(edge - observed) / _scale(q[1], edge)))
    raise ValueError(f"direction must be {ABOVE!r} or {BELOW!r}, got {direction!r}")


def flag(frame: pd.DataFrame, level: float, rules: Rules = DEFAULT_RULES) -> pd.DataFrame:
    """Return the rows of `frame` that are material changes, with the anomaly's numbers.

    `frame` needs columns `measure`, `observed`, `mean` and QUANTILE_COLUMNS; optional
    `country_total` (the country's count that month, for severity) and `p_shift_up` /
    `p_shift_down` (the engine's probability that the level shifted that month, from a run that
    saw it: more evidence, never the only gate). A month is a
    candidate `above` when observed > upper bound, `below` when observed < lower bound and that
    bound is positive; it is kept when `rules.material` (evidence and size) says so.
    Adds `direction, lower, upper, level, tail_probability, excess, severity`.
    """
    low_col, high_col = interval_columns(level)
    observed = frame["observed"].to_numpy(dtype=float)
    lower, upper = frame[low_col].to_numpy(dtype=float), frame[high_col].to_numpy(dtype=float)
    above = observed > upper
    below = (observed < lower) & (lower > 0)
    out = frame.loc[above | below].copy()
    out["direction"] = np.where(above[above | below], ABOVE, BELOW)
    out["lower"], out["upper"], out["level"] = lower[above | below], upper[above | below], level
    grid = out[list(QUANTILE_COLUMNS)].to_numpy(dtype=float)
    out["tail_probability"] = [
        tail_probability(o, m, g, d)
        for o, m, g, d in zip(out["observed"], out["mean"], grid, out["direction"], strict=True)
    ]
    sign = np.where(out["direction"] == ABOVE, 1.0, -1.0)
    out["excess"] = sign * (out["observed"].to_numpy(dtype=float) - out["mean"].to_numpy(float))
    measures = out["measure"] if "measure" in out else pd.Series("events", index=out.index)
    shifts = pd.Series(np.nan, index=out.index)
    if "p_shift_up" in out:
        up = out["direction"] == ABOVE
        shifts = out["p_shift_up"].where(up, out["p_shift_down"])
    totals = out["country_total"] if "country_total" in out else pd.Series(np.nan, index=out.index)
    keep = [
        rules.material(str(m), x, e, p, None if pd.isna(s) else float(s))
        for m, x, e, p, s in zip(measures, out["excess"], out["mean"], out["tail_probability"],
                                 shifts, strict=True)
    ]  # fmt: skip
    out = out.loc[keep]
    out["severity"] = [
        severity(p, x, str(m), None if pd.isna(t) else float(t), rules)
        for p, x, m, t in zip(out["tail_probability"], out["excess"], measures.loc[out.index],
                              totals.loc[out.index], strict=True)
    ]  # fmt: skip
    return out


def score_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Return CRPS (from the quantile grid) and 80%/95% interval hits for each forecast row."""
    y = frame["observed"].to_numpy(dtype=float)
    q = frame[list(QUANTILE_COLUMNS)].to_numpy(dtype=float)
    mean = frame["mean"].to_numpy(dtype=float)
    lo80, hi80 = QUANTILES.index(0.1), QUANTILES.index(0.9)
    lo95, hi95 = QUANTILES.index(0.025), QUANTILES.index(0.975)
    return pd.DataFrame(
        {
            "crps": crps(y, mean, q, np.ones_like(y)),
            "in_80": (y >= q[:, lo80]) & (y <= q[:, hi80]),
            "in_95": (y >= q[:, lo95]) & (y <= q[:, hi95]),
        },
        index=frame.index,
    )


@dataclass(frozen=True)
class EpisodeState:
    """Where the episode running into a month stands: its direction, start and worst severity."""

    direction: str
    start: dt.date
    worst: int


def assign_episodes(
    flags: pd.DataFrame, prior: dict[tuple[int, dt.date], EpisodeState]
) -> pd.DataFrame:
    """Set `episode_start` and `alert` on flagged months (columns series_id, month, direction,
    severity), one series at a time in month order.

    Consecutive anomalous months in the same direction form an episode. Only its first month,
    or a month more severe than any before it in the episode, is an alert; the rest are
    suppressed. `prior` maps (series_id, month) to the episode of an already stored anomaly,
    so an episode carries on across detection runs.
    """
    flags = flags.sort_values(["series_id", "month"]).copy()
    starts: list[dt.date] = []
    alerts: list[bool] = []
    state = dict(prior)
    for series_id, month, direction, sev in zip(
        flags["series_id"], flags["month"], flags["direction"], flags["severity"], strict=True
    ):
        rank = SEVERITY_RANK[sev]
        before = state.get((series_id, previous_month(month)))
        if before is not None and before.direction == direction:
            current = EpisodeState(direction, before.start, max(before.worst, rank))
            alerts.append(rank > before.worst)
        else:
            current = EpisodeState(direction, month, rank)
            alerts.append(True)
        starts.append(current.start)
        state[(series_id, month)] = current
    flags["episode_start"] = starts
    flags["alert"] = alerts
    return flags
