"""The level filter's inner loop, compiled (numba): one series per thread, all months, all cells.

The transition is applied as operators, not matrices, so a month costs O(G) per series:

- small move: a banded kernel (cell-integrated normal, half-width B cells);
- shift up: with weight 1 - WAKE, the sum of two geometric steps (ratio r) — a discrete Gamma(2)
  — computed by two running recursions; with weight WAKE, a uniform step of 0..U cells,
  computed with a running window sum;
- shift down: the mirror image.

Mass that would leave the grid stays at its edge. The transposed operators (for the backward
pass) are the same recursions run the other way. `models.panel.dynamics` builds the dense
matrices of the same operators for tests and small problems.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# fast math without the "no NaN" assumption: an unknown month is a NaN count
FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}


@njit(cache=True, fastmath=FAST)
def _small(p: np.ndarray, ws: np.ndarray, band: int, out: np.ndarray) -> None:
    g = p.shape[0]
    for k in range(g):
        out[k] = 0.0
    for j in range(g):
        pj = p[j]
        if pj == 0.0:
            continue
        for d in range(-band, band + 1):
            k = min(max(j + d, 0), g - 1)
            out[k] += pj * ws[d + band]


@njit(cache=True, fastmath=FAST)
def _small_t(b: np.ndarray, ws: np.ndarray, band: int, out: np.ndarray) -> None:
    g = b.shape[0]
    for j in range(g):
        acc = 0.0
        for d in range(-band, band + 1):
            acc += ws[d + band] * b[min(max(j + d, 0), g - 1)]
        out[j] = acc


@njit(cache=True, fastmath=FAST)
def _up(p: np.ndarray, r: float, uc: int, wake: float, tmp: np.ndarray, out: np.ndarray) -> None:
    """Shift up: (1 - wake) * geometric(r) twice + wake * uniform(0..uc), clamped at the top."""
    g = p.shape[0]
    total = 0.0
    acc = 0.0
    for k in range(g):  # first geometric
        acc = (1.0 - r) * p[k] + r * acc
        tmp[k] = acc
        total += p[k]
    lost = total
    for k in range(g):
        lost -= tmp[k]
    tmp[g - 1] += lost
    acc = 0.0
    for k in range(g):  # second geometric
        acc = (1.0 - r) * tmp[k] + r * acc
        out[k] = (1.0 - wake) * acc
    kept = 0.0
    for k in range(g):
        kept += out[k]
    out[g - 1] += (1.0 - wake) * total - kept
    window = 0.0
    for k in range(g):  # uniform wake-up steps
        window += p[k]
        if k - uc - 1 >= 0:
            window -= p[k - uc - 1]
        out[k] += wake * window / (uc + 1)
    # what the window pushed past the top
    spill = 0.0
    for j in range(max(g - uc, 0), g):
        spill += p[j] * (j + uc - (g - 1)) / (uc + 1)
    out[g - 1] += wake * spill


@njit(cache=True, fastmath=FAST)
def _down(
    p: np.ndarray, r: float, uc: int, wake: float, tmp: np.ndarray, rev: np.ndarray, out: np.ndarray
) -> None:
    g = p.shape[0]
    for k in range(g):
        rev[k] = p[g - 1 - k]
    _up(rev, r, uc, wake, tmp, out)
    for k in range(g // 2):
        a = out[k]
        out[k] = out[g - 1 - k]
        out[g - 1 - k] = a


@njit(cache=True, fastmath=FAST)
def _up_t(b: np.ndarray, r: float, uc: int, wake: float, tmp: np.ndarray, out: np.ndarray) -> None:
    """The transpose of `_up`: out[j] = E[b[min(j + D, G - 1)]]."""
    g = b.shape[0]
    acc = b[g - 1]
    for k in range(g - 1, -1, -1):
        acc = (1.0 - r) * b[k] + r * acc
        tmp[k] = acc
    acc = tmp[g - 1]
    for k in range(g - 1, -1, -1):
        acc = (1.0 - r) * tmp[k] + r * acc
        out[k] = (1.0 - wake) * acc
    window = 0.0
    for k in range(g - 1, -1, -1):
        # sum over d = 0..uc of b[min(k + d, g - 1)]
        window += b[k]
        if k + uc + 1 <= g - 1:
            window -= b[k + uc + 1]
        beyond = max(k + uc - (g - 1), 0)
        out[k] += wake * (window + beyond * b[g - 1]) / (uc + 1)


@njit(cache=True, fastmath=FAST)
def _down_t(
    b: np.ndarray, r: float, uc: int, wake: float, tmp: np.ndarray, rev: np.ndarray, out: np.ndarray
) -> None:
    g = b.shape[0]
    for k in range(g):
        rev[k] = b[g - 1 - k]
    _up_t(rev, r, uc, wake, tmp, out)
    for k in range(g // 2):
        a = out[k]
        out[k] = out[g - 1 - k]
        out[g - 1 - k] = a


@njit(cache=True, fastmath=FAST)
def _revert(p: np.ndarray, anchor: float, rho: float, out: np.ndarray) -> None:
    """Move each cell's mass a share rho of the way toward the anchor cell (split between the
    two cells around where it lands)."""
    g = p.shape[0]
    for k in range(g):
        out[k] = 0.0
    for j in range(g):
        u = j + rho * (anchor - j)
        u = min(max(u, 0.0), g - 1.0)
        lo = int(math.floor(u))
        f = u - lo
        out[lo] += p[j] * (1.0 - f)
        if f > 0.0:
            out[min(lo + 1, g - 1)] += p[j] * f


@njit(cache=True, fastmath=FAST)
def _revert_t(b: np.ndarray, anchor: float, rho: float, out: np.ndarray) -> None:
    g = b.shape[0]
    for j in range(g):
        u = j + rho * (anchor - j)
        u = min(max(u, 0.0), g - 1.0)
        lo = int(math.floor(u))
        f = u - lo
        out[j] = b[lo] * (1.0 - f) + (b[min(lo + 1, g - 1)] * f if f > 0.0 else 0.0)


@njit(cache=True, fastmath=FAST)
def _transition(
    p: np.ndarray, anchor: float, rho: float, ws: np.ndarray, band: int, r: float, uc: int,
    wake: float, p_shift: float, pr: np.ndarray, sm: np.ndarray, upv: np.ndarray,
    dnv: np.ndarray, tmp: np.ndarray, rev: np.ndarray, pred: np.ndarray,
) -> None:  # fmt: skip
    """One month of level dynamics: `pred` is where the level distribution `p` goes (the pull
    toward the anchor, then a small move or a shift); `upv` and `dnv` keep the shifted mass."""
    g = p.shape[0]
    _revert(p, anchor, rho, pr)
    _small(pr, ws, band, sm)
    _up(pr, r, uc, wake, tmp, upv)
    _down(pr, r, uc, wake, tmp, rev, dnv)
    for c in range(g):
        upv[c] *= 0.5 * p_shift
        dnv[c] *= 0.5 * p_shift
        pred[c] = (1.0 - p_shift) * sm[c] + upv[c] + dnv[c]


@njit(cache=True, fastmath=FAST)
def _emission(
    yt: float, lbase: float, step: float, lev: np.ndarray, es: float, p_out: float, k: float,
    ko: float, mult: float, a: np.ndarray, b: np.ndarray,
) -> float:  # fmt: skip
    """The month's likelihood given each level cell, scaled by exp(-top) (returned): `a` for an
    ordinary month (negative binomial, size k), `b` for an outlier (mean x mult, size ko). A
    NaN count (unknown month) leaves the weights of the two kinds of month."""
    g = lev.shape[0]
    if math.isnan(yt):
        for c in range(g):
            a[c] = 1.0 - p_out
            b[c] = p_out
        return 0.0
    lg = math.lgamma(yt + 1.0)
    c_ord = math.lgamma(yt + k) - math.lgamma(k) - lg + k * math.log(k) + math.log1p(-p_out)
    c_out = math.lgamma(yt + ko) - math.lgamma(ko) - lg + ko * math.log(ko) + math.log(p_out)
    log_mult = math.log(mult)
    top = -1e300
    for c in range(g):
        lmu = lbase + step * c
        mu = lev[c] * es
        a[c] = c_ord + yt * lmu - (k + yt) * math.log(k + mu)
        b[c] = c_out + yt * (lmu + log_mult) - (ko + yt) * math.log(ko + mult * mu)
        top = max(top, a[c], b[c])
    for c in range(g):
        a[c] = math.exp(a[c] - top)
        b[c] = math.exp(b[c] - top)
    return top


@njit(cache=True, fastmath=FAST, parallel=True)
def forward(
    y: np.ndarray,
    season: np.ndarray,
    base: np.ndarray,
    start: np.ndarray,
    g: int,
    step: float,
    ws: np.ndarray,
    band: int,
    r: float,
    uc: int,
    wake: float,
    p_shift: float,
    p_out: float,
    inv_k: float,
    mult: float,
    inv_ko: float,
    keep: np.ndarray,
    window: int,
    moments: bool,
    anchor: np.ndarray,
    rho: float,
) -> tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray
]:
    """Filter every row of y (N, T); see `models.panel.dynamics.run_filter`."""
    n, t_len = y.shape
    n_keep = keep.shape[0]
    loglik = np.zeros(n)
    at = np.zeros((n, n_keep, g), dtype=np.float32)
    pm = np.zeros((n, t_len if moments else 0))
    pv = np.zeros((n, t_len if moments else 0))
    w = min(window, t_len)
    p_up = np.zeros((n, w))
    p_dn = np.zeros((n, w))
    p_ol = np.zeros((n, w))
    lvl = np.zeros((n, w))
    k = 1.0 / inv_k
    ko = 1.0 / inv_ko
    mean_y = (1.0 - p_out) + p_out * mult
    w0 = t_len - w
    for i in prange(n):
        lev = np.empty(g)
        for c in range(g):
            lev[c] = math.exp(base[i] + step * c)
        p = np.empty(g)
        total = 0.0
        for c in range(g):
            z = base[i] + step * c - start[i]
            p[c] = math.exp(-0.5 * z * z)
            total += p[c]
        for c in range(g):
            p[c] /= total
        sm = np.empty(g)
        upv = np.empty(g)
        dnv = np.empty(g)
        tmp = np.empty(g)
        rev = np.empty(g)
        pr = np.empty(g)
        pred = np.empty(g)
        a = np.empty(g)
        b = np.empty(g)
        h_pred = np.empty((w, g))
        h_up = np.empty((w, g))
        h_dn = np.empty((w, g))
        h_lik = np.empty((w, g))
        h_out = np.empty((w, g))
        ll = 0.0
        kk = 0
        if n_keep > 0 and keep[0] == 0:
            for c in range(g):
                at[i, 0, c] = p[c]
            kk = 1
        h_anchor = np.empty(w)
        for t in range(t_len):
            _transition(p, anchor[i, t], rho, ws, band, r, uc, wake, p_shift,
                        pr, sm, upv, dnv, tmp, rev, pred)  # fmt: skip
            es = math.exp(season[i, t])
            yt = y[i, t]
            top = _emission(yt, base[i] + season[i, t], step, lev, es, p_out, k, ko, mult, a, b)
            if moments:
                m1 = 0.0
                m2 = 0.0
                for c in range(g):
                    mu = lev[c] * es
                    mo = mult * mu
                    e2 = (1.0 - p_out) * (mu + mu * mu * (1.0 + inv_k)) + p_out * (
                        mo + mo * mo * (1.0 + inv_ko)
                    )
                    m1 += pred[c] * mu * mean_y
                    m2 += pred[c] * e2
                pm[i, t] = m1
                pv[i, t] = m2 - m1 * m1
            z = 0.0
            for c in range(g):
                z += pred[c] * (a[c] + b[c])
            z = max(z, 1e-300)
            ll += math.log(z) + top
            if t >= w0:
                j = t - w0
                h_anchor[j] = anchor[i, t]
                for c in range(g):
                    h_pred[j, c] = pred[c]
                    h_up[j, c] = upv[c]
                    h_dn[j, c] = dnv[c]
                    h_lik[j, c] = a[c] + b[c]
                    h_out[j, c] = b[c]
            for c in range(g):
                p[c] = pred[c] * (a[c] + b[c]) / z
            if kk < n_keep and keep[kk] == t + 1:
                for c in range(g):
                    at[i, kk, c] = p[c]
                kk += 1
        loglik[i] = ll
        # backward over the window: smoothed shift and outlier probabilities
        beta = np.ones(g)
        lb = np.empty(g)
        for j in range(w - 1, -1, -1):
            tot = 0.0
            su = 0.0
            sd = 0.0
            so = 0.0
            sl = 0.0
            for c in range(g):
                lb[c] = h_lik[j, c] * beta[c]
                tot += h_pred[j, c] * lb[c]
                su += h_up[j, c] * lb[c]
                sd += h_dn[j, c] * lb[c]
                so += h_pred[j, c] * h_out[j, c] * beta[c]
                sl += h_pred[j, c] * lb[c] * lev[c]
            tot = max(tot, 1e-300)
            p_up[i, j] = su / tot
            p_dn[i, j] = sd / tot
            p_ol[i, j] = so / tot
            lvl[i, j] = sl / tot
            _small_t(lb, ws, band, sm)
            _up_t(lb, r, uc, wake, tmp, upv)
            _down_t(lb, r, uc, wake, tmp, rev, dnv)
            for c in range(g):
                pr[c] = (1.0 - p_shift) * sm[c] + 0.5 * p_shift * (upv[c] + dnv[c])
            _revert_t(pr, h_anchor[j], rho, beta)
            mx = 0.0
            for c in range(g):
                mx = max(mx, beta[c])
            for c in range(g):
                beta[c] /= max(mx, 1e-300)
    return loglik, at, pm, pv, p_up, p_dn, p_ol, lvl


@njit(cache=True, parallel=True)
def inverse_cdf(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each row i and draw j, the number of cells whose cdf[i] is below u[i, j] (the
    sampled cell of an inverse-CDF draw): a binary search in each row's sorted CDF."""
    n, g = cdf.shape
    s = u.shape[1]
    out = np.empty((n, s), dtype=np.int64)
    for i in prange(n):
        for j in range(s):
            x = u[i, j]
            lo, hi = 0, g
            while lo < hi:  # first cell with cdf >= x
                mid = (lo + hi) // 2
                if cdf[i, mid] < x:
                    lo = mid + 1
                else:
                    hi = mid
            out[i, j] = lo
    return out
