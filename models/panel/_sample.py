"""The sample paths' inner loop, compiled (numba): one bottom series per thread, all paths.

For each bottom series, in one pass and without a panel-sized temporary:

1. a starting log level drawn from the filter's distribution (inverse CDF on the grid, then
   uniform inside the cell);
2. each month a small normal move or, with probability `p_shift`, a shift up or down whose size
   in cells is, as in the filter, a discrete Gamma(2) (the sum of two geometric steps) or, with
   weight `wake`, uniform over 0..U cells; plus a pull of `revert` toward the long-run level;
   the level stays on the series' grid;
3. the shared country and region shocks added (log scale), the paths exponentiated and scaled so
   that their mean at every horizon is exactly the target mean;
4. a count per path: negative binomial (a gamma-mixed Poisson) around it, or with probability
   `p_outlier` a one-off burst (`outlier_mult` times the mean, dispersion `outlier_inv_k`).

Each series draws from its own random stream, seeded by a 32-bit key of (run seed, stage,
origin, series), so the paths of a series are the same whatever else is in the call, however
the panel is cut into chunks and however many threads run.

Numba's own normal and gamma samplers cost 55 and 140 ns a draw here, most of the time of a
path; so the two hot draws are made here from uniforms:

- a small move's normal by inverting a table of the normal quantiles at 1/NORMAL_BINS steps
  (uniform inside each bin: the CDF is off by less than 1e-7), and beyond the outermost bins
  exactly, by Marsaglia's tail method;
- a negative-binomial count of mean at most INVERT_MAX by inverting its CDF from P(0) up (one
  uniform, about mean + 1 steps); above that, a gamma-mixed Poisson: the gamma by Marsaglia and
  Tsang's method (2000) on the table normals, the Poisson by numba's sampler.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

NORMAL_BINS = 4096
INVERT_MAX = 10.0  # the largest mean a count is drawn for by inversion


def _normal_table() -> np.ndarray:
    from scipy import stats

    return stats.norm.ppf(np.arange(NORMAL_BINS + 1) / NORMAL_BINS)


NORMAL_TABLE = _normal_table()  # (NORMAL_BINS + 1,), -inf and inf at the ends


@njit(cache=True)
def _normal(table: np.ndarray, u: float) -> float:
    """A standard normal draw from the uniform u (and, in the far tails, more uniforms)."""
    m = u * NORMAL_BINS
    i = int(m)
    if 0 < i < NORMAL_BINS - 1:
        return table[i] + (m - i) * (table[i + 1] - table[i])
    a = table[NORMAL_BINS - 1]  # the tail beyond a (Marsaglia 1964)
    while True:
        x = -math.log(1.0 - np.random.random()) / a
        y = -math.log(1.0 - np.random.random())
        if 2.0 * y > x * x:
            return a + x if i > 0 else -(a + x)


@njit(cache=True)
def _gamma(k: float, table: np.ndarray) -> float:
    """A Gamma(k, 1) draw (Marsaglia & Tsang 2000; k < 1 by the power of a uniform)."""
    boost = 1.0
    if k < 1.0:
        boost = (1.0 - np.random.random()) ** (1.0 / k)
        k += 1.0
    d = k - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    while True:
        x = _normal(table, np.random.random())
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        u = 1.0 - np.random.random()
        if u < 1.0 - 0.0331 * x * x * x * x or math.log(u) < 0.5 * x * x + d * (
            1.0 - v + math.log(v)
        ):
            return d * v * boost


@njit(cache=True)
def _negbin(mu: float, k: float, u: float, table: np.ndarray) -> float:
    """A negative-binomial count of mean mu and shape k (variance mu + mu^2 / k) from the
    uniform u (above INVERT_MAX, a gamma-mixed Poisson from further draws)."""
    if mu <= 0.0:
        return 0.0
    if mu > INVERT_MAX:
        return float(np.random.poisson(mu * _gamma(k, table) / k))
    if u < 1.0 - mu:  # P(0) >= exp(-mu) >= 1 - mu: a zero, without a logarithm
        return 0.0
    q = mu / (k + mu)
    p = math.exp(-k * math.log1p(mu / k))  # P(0)
    total = p
    n = 0
    while u > total and n < 100_000:
        p *= (k + n) / (n + 1.0) * q
        n += 1
        total += p
        if p < 1e-300:
            break
    return float(n)


# columns of the per-series parameter table
STEP_SD, P_SHIFT, RATIO, WAKE_CELLS, REVERT, P_OUTLIER, INV_K, BURST_MULT = range(8)
N_PARAMS = 8


@njit(cache=True, parallel=True)
def bottom_paths(
    cdf: np.ndarray,  # (n, G) float64, each row's cumulative level distribution (last = 1)
    base: np.ndarray,  # (n,) the lowest log level of each series' grid
    grid_step: float,
    anchor: np.ndarray,  # (n,) long-run log level the level reverts to
    params: np.ndarray,  # (n, N_PARAMS) float64
    wake: float,
    outlier_inv_k: float,
    seeds: np.ndarray,  # (n,) int64, the random stream of each series
    shock: np.ndarray,  # (h, s) float32, the country's shared log shock
    mid_shock: np.ndarray,  # (n_mid, h, s) float32, the regions' shared log shocks
    mid: np.ndarray,  # (n,) int64, each series' region (row of mid_shock)
    target: np.ndarray,  # (n, h) float64, the mean count of each series and month
    levels: np.ndarray,  # (n, h, s) float64 to keep the level paths, or (0, 0, 0)
    out: np.ndarray,  # (n, h, s) float32, the counts
    table: np.ndarray,  # NORMAL_TABLE
) -> None:
    n, g = cdf.shape
    h, s = out.shape[1], out.shape[2]
    keep_levels = levels.shape[0] == n
    for i in prange(n):
        np.random.seed(seeds[i])
        step_sd = params[i, STEP_SD]
        p_shift = params[i, P_SHIFT]
        ratio = params[i, RATIO]
        wake_cells = int(params[i, WAKE_CELLS])
        revert = params[i, REVERT]
        p_outlier = params[i, P_OUTLIER]
        k_plain = 1.0 / params[i, INV_K]
        outlier_mult = params[i, BURST_MULT]
        k_burst = 1.0 / outlier_inv_k
        lo = base[i]
        hi = lo + grid_step * (g - 1)
        a = min(max(anchor[i], lo), hi)
        prev = np.empty(s)
        for k in range(s):
            u = np.random.random()
            first, last = 0, g
            while first < last:  # the first cell whose cdf reaches u
                middle = (first + last) // 2
                if cdf[i, middle] < u:
                    first = middle + 1
                else:
                    last = middle
            cell = min(first, g - 1)
            prev[k] = lo + grid_step * (cell + np.random.random() - 0.5)
        lam = np.empty((h, s))
        for j in range(h):
            for k in range(s):
                kind = np.random.random()
                if kind < p_shift:
                    if np.random.random() < wake:
                        cells = np.random.randint(0, wake_cells + 1)
                    else:
                        cells = (
                            np.random.geometric(1.0 - ratio) + np.random.geometric(1.0 - ratio) - 2
                        )
                    move = grid_step * cells
                    if kind >= 0.5 * p_shift:
                        move = -move
                else:
                    move = _normal(table, (kind - p_shift) / (1.0 - p_shift)) * step_sd
                x = min(max(prev[k] + revert * (a - prev[k]) + move, lo), hi)
                prev[k] = x
                if keep_levels:
                    levels[i, j, k] = x
                lam[j, k] = math.exp(x + shock[j, k] + mid_shock[mid[i], j, k])
        for j in range(h):
            total = 0.0
            for k in range(s):
                total += lam[j, k]
            scale = target[i, j] / max(total / s, 1e-12)
            for k in range(s):
                mu = lam[j, k] * scale
                u = np.random.random()  # one uniform: burst or not, then the count
                if u < p_outlier:
                    out[i, j, k] = _negbin(mu * outlier_mult, k_burst, u / p_outlier, table)
                else:
                    out[i, j, k] = _negbin(mu, k_plain, (u - p_outlier) / (1.0 - p_outlier), table)


def stream_seeds(seed: int, stage: int, origin: int, rows: np.ndarray) -> np.ndarray:
    """One 32-bit seed per series row: a SplitMix64 hash of (seed, stage, origin, row).

    Distinct keys may share a seed (32 bits: a pair in about four billion); that only makes two
    series' paths alike at one origin and stage, never the same series twice.
    """
    key = np.uint64(((seed * 1_000_003 + stage) * 1_000_003 + origin) % (1 << 63))
    x = rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + key
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(32)).astype(np.int64)


@njit(cache=True, parallel=True)
def node_sums(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, bottoms: np.ndarray, out: np.ndarray
) -> None:
    """out = S @ bottoms for a CSR matrix S (the summing matrix) in float32: a node's paths
    are the sums of its bottoms' (exact for counts below 2**24), a node per thread, without a
    float64 copy of the panel's paths."""
    m = bottoms.shape[1]
    for r in prange(out.shape[0]):
        for j in range(m):
            out[r, j] = 0.0
        for p in range(indptr[r], indptr[r + 1]):
            c = indices[p]
            w = np.float32(data[p])
            for j in range(m):
                out[r, j] += w * bottoms[c, j]
