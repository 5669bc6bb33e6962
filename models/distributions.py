"""Count predictive distributions: quantiles on the QUANTILES grid from a few parameters."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from models.base import QUANTILES

_Q = np.asarray(QUANTILES)
_Z = stats.norm.ppf(_Q)
_MEDIAN = QUANTILES.index(0.5)
# Below this dispersion the negative binomial is numerically a Poisson.
_MIN_ALPHA = 1e-8
# Largest count grid tabulated; beyond it (thousands of events a month) scipy's ppf is used.
_MAX_GRID = 20_000


def balanced_quantiles(cdf: np.ndarray) -> np.ndarray:
    """Return balanced quantiles on the QUANTILES grid from CDFs tabulated at 0, 1, ..., K.

    The textbook quantile min{k: F(k) >= tau} leaves less than tau in each tail whenever the
    CDF jumps over tau, which at small means makes an "80%" interval cover 90-95% of
    outcomes. Here a lower quantile (tau < 0.5) moves up one count, and an upper one down
    one count, when that brings the tail probability nearer to tau; the median is the
    textbook one. Across many forecasts the intervals then cover about their nominal share.

    Args:
        cdf: shape (h, K + 1), row i holding F_i(0), ..., F_i(K); K must reach past the
            largest quantile.
    """
    k = (cdf[:, :, None] < _Q[None, None, :]).sum(axis=1)  # textbook quantiles, (h, n)
    k = np.minimum(k, cdf.shape[1] - 1)
    rows = np.arange(cdf.shape[0])[:, None]
    at = cdf[rows, k]
    below = np.where(k > 0, cdf[rows, np.maximum(k - 1, 0)], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(at > below, (_Q - below) / (at - below), 0.5)
    lower, upper = _Q < 0.5, _Q > 0.5
    out = k + (lower & (frac > 0.5)) - (upper & (frac < 0.5))
    median = k[:, _MEDIAN : _MEDIAN + 1]
    out = np.where(lower, np.minimum(out, median), out)
    return np.where(upper, np.maximum(out, median), out).astype(float)


def _grid_size(mean: np.ndarray, variance: np.ndarray) -> int:
    """Return K so that 0..K holds the 97.5% quantile of every row with room to spare."""
    return int(np.ceil(np.max(mean + 12.0 * np.sqrt(variance) + 12.0)))


def poisson_quantiles(mean: np.ndarray) -> np.ndarray:
    """Return balanced Poisson quantiles, shape (len(mean), len(QUANTILES))."""
    mean = np.clip(np.asarray(mean, dtype=float), 0.0, None)
    return nb_quantiles(mean, 0.0)


def nb_quantiles(mean: np.ndarray, alpha: np.ndarray | float) -> np.ndarray:
    """Return balanced NB2 quantiles (variance = mean + alpha * mean**2), shape (h, n).

    The probability mass is tabulated with log-gamma functions on 0..K rather than through
    scipy.stats' ppf, which costs ~1 ms per call and would dominate a backtest.
    """
    mean = np.clip(np.asarray(mean, dtype=float), 0.0, None)
    alphas: np.ndarray = np.clip(
        np.broadcast_to(np.asarray(alpha, dtype=float), mean.shape), 0, None
    )
    out = np.zeros((len(mean), len(_Q)))
    live = mean > 0
    if not live.any():
        return out
    m, a = mean[live][:, None], alphas[live][:, None]
    big = _grid_size(m, m + a * m**2)
    if big > _MAX_GRID:
        out[live] = _scipy_quantiles(m[:, 0], a[:, 0])
        return out
    k = np.arange(big + 1, dtype=float)[None, :]
    poisson = a <= _MIN_ALPHA
    n = np.where(poisson, 1.0, 1.0 / np.maximum(a, _MIN_ALPHA))
    logpmf = np.where(
        poisson,
        k * np.log(m) - m - special.gammaln(k + 1.0),
        special.gammaln(k + n)
        - special.gammaln(n)
        - special.gammaln(k + 1.0)
        + n * np.log(n / (n + m))
        + k * np.log(m / (n + m)),
    )
    out[live] = balanced_quantiles(np.cumsum(np.exp(logpmf), axis=1))
    return out


def _scipy_quantiles(mean: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Textbook quantiles from scipy for counts too large to tabulate (balance is moot there)."""
    n = 1.0 / np.maximum(alpha, _MIN_ALPHA)
    nb = stats.nbinom.ppf(_Q[None, :], n[:, None], (n / (n + mean))[:, None])
    pois = stats.poisson.ppf(_Q[None, :], mean[:, None])
    return np.where((alpha > _MIN_ALPHA)[:, None], nb, pois)


def nb_from_moments(mean: np.ndarray, variance: np.ndarray) -> np.ndarray:
    """Return quantiles of the count distribution with this mean and variance.

    Over-dispersed moments map to an NB2, the rest to a Poisson (the least dispersed count
    law with that mean).
    """
    mean = np.clip(np.asarray(mean, dtype=float), 0.0, None)
    variance = np.asarray(variance, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = np.where(mean > 0, (variance - mean) / mean**2, 0.0)
    return nb_quantiles(mean, np.clip(alpha, 0.0, None))


def hurdle_quantiles(p_nonzero: float, size_mean: float, size_alpha: float, h: int) -> np.ndarray:
    """Return quantiles of a hurdle count: 0 with prob 1 - p, else 1 + NB2(size_mean - 1, alpha).

    This is the predictive law of Croston/TSB models: an event month happens with
    probability p and then brings `size_mean` events on average.
    """
    p = float(np.clip(p_nonzero, 0.0, 1.0))
    extra = max(size_mean - 1.0, 0.0)
    big = _grid_size(np.array(extra + 1.0), np.array(extra + size_alpha * extra**2))
    k = np.arange(big, dtype=float)
    if extra <= 0:
        size_pmf = (k == 0).astype(float)
    elif size_alpha <= _MIN_ALPHA:
        size_pmf = np.exp(k * np.log(extra) - extra - special.gammaln(k + 1.0))
    else:
        n = 1.0 / size_alpha
        size_pmf = np.exp(
            special.gammaln(k + n)
            - special.gammaln(n)
            - special.gammaln(k + 1.0)
            + n * np.log(n / (n + extra))
            + k * np.log(extra / (n + extra))
        )
    pmf = np.concatenate([[1.0 - p], p * size_pmf])
    return np.tile(balanced_quantiles(np.cumsum(pmf)[None, :]), (h, 1))


def log_gaussian_counts(loc: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map a Gaussian forecast of log1p(count) to (mean, quantiles) of the count.

    Quantiles transform exactly through the monotone expm1; rounding to whole events later
    treats the continuous value as the count plus rounding noise.
    """
    loc = np.asarray(loc, dtype=float)
    scale = np.asarray(scale, dtype=float)
    mean = np.expm1(loc + 0.5 * scale**2)
    q = np.expm1(loc[:, None] + scale[:, None] * _Z[None, :])
    return np.clip(mean, 0.0, None), np.clip(q, 0.0, None)


def sample_quantiles(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (mean, quantiles) per column of `samples` (n_samples, h) of non-negative draws."""
    samples = np.clip(np.asarray(samples, dtype=float), 0.0, None)
    q = np.quantile(samples, _Q, axis=0).T
    return samples.mean(axis=0), q
