"""TSB (Teunter-Syntetos-Babai) for sparse series: smoothed event probability times event size."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from models.distributions import hurdle_quantiles, nb_from_moments
from models.legacy.forecaster import Forecaster
from models.legacy.registry import register_model

_GRID = (0.05, 0.1, 0.2, 0.3, 0.5)


@register_model
class TSB(Forecaster):
    """TSB with smoothing constants chosen on in-sample one-step squared error.

    The probability of an event month is updated every month (so it decays through long
    quiet spells, unlike Croston); the size is updated only in event months. The predictive
    law is, by default, an NB around the flat forecast p * z whose variance is the in-sample
    mean squared error at each horizon (so intervals widen with h); `predictive="hurdle"`
    gives the textbook law: no event with probability 1 - p, else 1 + NB2 around the size.

    Args:
        alpha_prob: smoothing of the event probability; None picks it from a small grid.
        alpha_size: smoothing of the event size; None picks it from a small grid.
        dispersion_window: recent months whose errors (or event sizes) set the spread.
        predictive: "nb" (horizon-dependent NB) or "hurdle".
    """

    alias = "tsb"
    min_obs = 6

    def __init__(
        self,
        alpha_prob: float | None = None,
        alpha_size: float | None = None,
        dispersion_window: int = 36,
        predictive: str = "nb",
    ):
        self.alpha_prob = alpha_prob
        self.alpha_size = alpha_size
        self.dispersion_window = dispersion_window
        self.predictive = predictive

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        v = y.to_numpy()
        a_prob = np.array([self.alpha_prob] if self.alpha_prob is not None else _GRID)
        a_size = np.array([self.alpha_size] if self.alpha_size is not None else _GRID)
        observed = v[~np.isnan(v)]
        p_before, p_last = _smooth_states(observed > 0, a_prob, _initial_prob(observed))
        hits = observed[observed > 0]
        z_before_hit, z_last = _smooth_states(hits, a_size, _initial_size(observed))
        # The size state before an observed month is the one before the next event month
        # (or the final state once every event month is behind).
        z_states = np.vstack([z_before_hit, z_last])
        n_hits_before = np.concatenate([[0], np.cumsum(observed > 0)[:-1]])
        z_before = z_states[n_hits_before]
        # One-step forecasts for every (alpha_prob, alpha_size) pair at once.
        onestep = p_before[:, :, None] * z_before[:, None, :]
        sse = ((onestep - observed[:, None, None]) ** 2).sum(axis=0)
        i, j = np.unravel_index(int(np.argmin(sse)), sse.shape)
        self.alpha_prob_, self.alpha_size_ = float(a_prob[i]), float(a_size[j])
        self.prob_, self.size_ = float(p_last[i]), float(z_last[j])
        full = np.full(len(v), np.nan)
        full[~np.isnan(v)] = onestep[:, i, j]
        self.onestep_ = full
        self.horizon_mse_ = _horizon_mse(observed, onestep[:, i, j], self.dispersion_window)
        sizes = observed[-self.dispersion_window :]
        sizes = sizes[sizes > 0]
        if len(sizes) < 3:
            sizes = hits
        extra = sizes - 1.0
        m = extra.mean()
        self.size_alpha_ = float(max(extra.var() - m, 0.0) / m**2) if m > 0 else 0.0

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        mean = np.full(h, self.prob_ * self.size_)
        if self.predictive == "hurdle":
            return mean, hurdle_quantiles(self.prob_, self.size_, self.size_alpha_, h)
        # NB with the variance of the in-sample h-step errors: a flat forecast grows less
        # reliable with the horizon, which the hurdle law alone ignores.
        return mean, nb_from_moments(mean, np.maximum(self.horizon_mse_[:h], mean))

    def _fitted(self) -> np.ndarray:
        return self.onestep_

    def _summary(self) -> dict[str, Any]:
        return {
            "level": self.prob_ * self.size_,
            "event_probability": self.prob_,
            "event_size": self.size_,
            "size_dispersion": self.size_alpha_,
            "alpha_prob": self.alpha_prob_,
            "alpha_size": self.alpha_size_,
        }


def _horizon_mse(observed: np.ndarray, onestep: np.ndarray, window: int) -> np.ndarray:
    """Return the mean squared in-sample error of the flat forecast at horizons 1..12.

    The forecast made h months before observed month m is the one-step forecast of month
    m - h + 1 (TSB forecasts are flat); only the last `window` target months count, and
    the result is made non-decreasing in h.
    """
    n = len(observed)
    mse = np.empty(12)
    for h in range(1, 13):
        errors = observed[h - 1 :] - onestep[: n - h + 1]
        errors = errors[-window:]
        mse[h - 1] = np.mean(errors**2) if len(errors) else np.nan
    mse = pd.Series(mse).ffill().fillna(0.0).to_numpy()
    return np.maximum.accumulate(mse)


def _initial_prob(observed: np.ndarray) -> float:
    return float((observed[:12] > 0).mean())


def _initial_size(observed: np.ndarray) -> float:
    head = observed[:12]
    source = head[head > 0] if (head > 0).any() else observed[observed > 0]
    return float(source.mean())


def _smooth_states(
    x: np.ndarray, alphas: np.ndarray, start: float
) -> tuple[np.ndarray, np.ndarray]:
    """Exponential smoothing s_t = s_{t-1} + a (x_t - s_{t-1}) for each a, as an IIR filter.

    Returns the state before each x_t, shape (len(x), len(alphas)), and the final states.
    """
    x = np.asarray(x, dtype=float)
    before = np.empty((len(x), len(alphas)))
    last = np.empty(len(alphas))
    for k, a in enumerate(alphas):
        if len(x) == 0:
            last[k] = start
            continue
        after, _ = lfilter([a], [1.0, a - 1.0], x, zi=[(1.0 - a) * start])
        before[:, k] = np.concatenate([[start], after[:-1]])
        last[k] = after[-1]
    return before, last
