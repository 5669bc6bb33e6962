"""A level that moves over time, for every series of a panel at once.

Counts are first deseasonalized with each series' season term (`z = y * exp(-beta * share)`),
then smoothed exponentially: L_t = L_{t-1} + alpha (z_t - L_{t-1}). The smoothing weight is
chosen per series from a small grid by the one-step-ahead Poisson deviance, all grid values
and all series in one array pass per month. The negative-binomial dispersion comes from the
one-step residuals, shrunk toward the panel's pooled value. The level's own step-to-step
variability (on the log scale) is what the local-level model implies for that alpha:
alpha^2 (1/L + 1/k) per month, so uncertainty grows with the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHAS = np.array([0.03, 0.07, 0.12, 0.2, 0.3, 0.45])
# A level never quite reaches zero: a quiet series can wake up, and a zero mean would make
# every later event an infinitely surprising one.
LEVEL_FLOOR = 0.03
WARMUP = 12  # months used to start the level; not scored when choosing alpha
MAX_LOG_STEP_SD = 0.6
TREND_BETA = 0.15  # share of each level correction that goes into the trend


@dataclass(frozen=True)
class Levels:
    """Fitted level state of the bottom series (arrays over series)."""

    level: np.ndarray  # (N,) deseasonalized level after the last month
    alpha: np.ndarray  # (N,)
    inv_k: np.ndarray  # (N,) NB2 dispersion 1/k (0 = Poisson)
    step_sd: np.ndarray  # (N,) sd of the log level's monthly random walk
    trend: np.ndarray  # (N,) damped trend per month (0 when the trend is off)
    damping: float


def fit_levels(
    y: np.ndarray,
    season: np.ndarray,
    *,
    trend: bool = False,
    damping: float = 0.9,
    shrink_months: float = 36.0,
) -> Levels:
    """Fit the level of every row of `y` (N x T counts, NaN = unknown) given season terms.

    Args:
        y: counts (N, T).
        season: the season term beta * share for each month (N, T), on the log scale.
        trend: add a damped trend on the level (Holt with damping `damping`).
        damping: per-month damping of the trend (0..1).
        shrink_months: weight, in months, of the pooled dispersion in each series' estimate.
    """
    n, t_len = y.shape
    z = np.where(np.isnan(y), np.nan, y * np.exp(-season))
    start = np.nanmean(z[:, : min(WARMUP, t_len)], axis=1)
    start = np.where(np.isfinite(start), start, 0.0)
    a = ALPHAS[:, None]
    level = np.repeat(np.maximum(start, LEVEL_FLOOR)[None, :], len(ALPHAS), axis=0)  # (A, N)
    slope = np.zeros_like(level)
    dev = np.zeros_like(level)
    preds = np.empty((len(ALPHAS), n, t_len))
    for t in range(t_len):
        pred = np.maximum(level + damping * slope, LEVEL_FLOOR)
        preds[:, :, t] = pred
        zt = z[:, t]
        known = np.isfinite(zt)
        if t >= WARMUP:
            mu = pred * np.exp(season[:, t])
            yt = y[:, t]
            with np.errstate(divide="ignore", invalid="ignore"):
                term = np.where(yt > 0, yt * np.log(yt / mu), 0.0) - (yt - mu)
            dev += np.where(known, 2.0 * term, 0.0)
        new = np.where(known, pred + a * (np.where(known, zt, 0.0) - pred), pred)
        if trend:  # Holt: b = phi b + alpha beta e, with beta = TREND_BETA
            slope = np.where(known, damping * slope + TREND_BETA * (new - pred), damping * slope)
        level = np.maximum(new, LEVEL_FLOOR)
    best = np.argmin(dev, axis=0)  # (N,)
    rows = np.arange(n)
    alpha = ALPHAS[best]
    final = level[best, rows]
    final_slope = slope[best, rows] if trend else np.zeros(n)
    one_step = preds[best, rows, :] * np.exp(season[:, :t_len])  # (N, T)
    inv_k = _dispersion(y, one_step, shrink_months)
    step_sd = np.minimum(alpha * np.sqrt(1.0 / np.maximum(final, 0.1) + inv_k), MAX_LOG_STEP_SD)
    return Levels(final, alpha, inv_k, step_sd, final_slope, damping)


def _dispersion(y: np.ndarray, mu: np.ndarray, shrink_months: float) -> np.ndarray:
    """NB2 1/k per series by moments of one-step residuals, shrunk to the pooled value."""
    known = np.isfinite(y)
    known[:, :WARMUP] = False
    resid = np.where(known, (np.where(known, y, 0.0) - mu) ** 2 - mu, 0.0)
    mu2 = np.where(known, mu**2, 0.0)
    pooled = max(resid.sum() / max(mu2.sum(), 1e-9), 0.01)
    own = np.divide(resid.sum(axis=1), mu2.sum(axis=1), out=np.full(y.shape[0], pooled),
                    where=mu2.sum(axis=1) > 1e-9)  # fmt: skip
    n = known.sum(axis=1)
    shrunk = (n * np.clip(own, 0.0, 10.0) + shrink_months * pooled) / (n + shrink_months)
    return np.clip(shrunk, 0.01, 5.0)
