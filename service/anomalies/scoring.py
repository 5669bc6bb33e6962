"""Pure arithmetic of anomalies: which months fall outside the interval, how unlikely they were,
and how consecutive ones group into episodes. No database here, so it is easy to test.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from models.base import QUANTILE_COLUMNS, QUANTILES
from models.metrics import crps
from service.anomalies.severity import SEVERITY_RANK, severity
from service.kit.months import previous_month

ABOVE, BELOW = "above", "below"
# Interval level -> (lower, upper) quantile columns of the forecast grid.
INTERVALS = {0.5: ("q0.25", "q0.75"), 0.8: ("q0.1", "q0.9"), 0.95: ("q0.025", "q0.975")}
_TAU = np.asarray(QUANTILES)
_Z80 = stats.norm.ppf(0.9)
# A forecast of exactly zero has no spread to extrapolate; this floor keeps a month with events
# after a zero forecast finite and ranked by how many events it had.
_MIN_MEAN = 0.05


def interval_columns(level: float) -> tuple[str, str]:
    """Return the quantile columns bounding the central interval of `level`."""
    try:
        return INTERVALS[level]
    except KeyError:
        raise ValueError(f"level must be one of {sorted(INTERVALS)}, got {level}") from None


def _tail_law(mean: float, q: np.ndarray) -> stats.rv_discrete:
    """A negative binomial (or Poisson) with the forecast's mean and the spread of its 80% band."""
    mu = max(float(mean), _MIN_MEAN)
    sd = (q[QUANTILES.index(0.9)] - q[QUANTILES.index(0.1)]) / (2 * _Z80)
    variance = max(sd**2, mu)
    if variance <= mu * (1 + 1e-9):
        return stats.poisson(mu)
    n = mu**2 / (variance - mu)
    return stats.nbinom(n, n / (n + mu))


def tail_probability(
    observed: float, mean: float, quantiles: Iterable[float], direction: str
) -> float:
    """Return P(Y >= observed) (above) or P(Y <= observed) (below) under the forecast.

    Inside the quantile grid the CDF is interpolated linearly between grid points; beyond the
    outer quantile the tail of a negative binomial matched to the forecast's mean and spread
    is spliced on, scaled to agree with the grid at its edge.
    """
    q = np.asarray(list(quantiles), dtype=float)
    law = _tail_law(mean, q)
    if direction == ABOVE:
        edge, mass = q[-1], 1.0 - _TAU[-1]
        if observed <= edge:
            return float(1.0 - np.interp(observed, q, _TAU, left=0.0, right=1.0))
        # log P(Y >= observed) - log P(Y >= edge), both from the same law.
        log_ratio = law.logsf(observed - 1) - law.logsf(edge - 1)
        return float(mass * np.exp(min(log_ratio, 0.0)))
    if direction == BELOW:
        edge, mass = q[0], _TAU[0]
        if observed >= edge:
            return float(np.interp(observed, q, _TAU, left=0.0, right=1.0))
        log_ratio = law.logcdf(observed) - law.logcdf(edge)
        return float(mass * np.exp(min(log_ratio, 0.0)))
    raise ValueError(f"direction must be {ABOVE!r} or {BELOW!r}, got {direction!r}")


def flag(frame: pd.DataFrame, level: float) -> pd.DataFrame:
    """Return the rows of `frame` outside the `level` interval, with the anomaly's numbers.

    `frame` needs columns `observed`, `mean` and QUANTILE_COLUMNS. A month is flagged
    `above` when observed > upper bound, and `below` when observed < lower bound and that
    bound is positive (with a lower bound of zero a quiet month is never surprising).
    Adds `direction, lower, upper, level, tail_probability, severity`.
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
    probs = [
        tail_probability(o, m, g, d)
        for o, m, g, d in zip(out["observed"], out["mean"], grid, out["direction"], strict=True)
    ]
    out["tail_probability"] = probs
    out["severity"] = [severity(p) for p in probs]
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
