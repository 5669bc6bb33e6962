"""The rainy-season effect of a panel: raw per-series estimates, then hierarchical pooling.

Raw estimate. Each bottom series gets a conditional Poisson fit with one intercept per
calendar year (so slow changes of level are not read as seasonality) and one rainy-season
term on the share of each month's days inside the rainy season. The intercepts are profiled
out exactly (conditional likelihood within each year), so the fit is one Newton iteration on
a scalar per series, done for every series of the panel at once. The standard error is
inflated by the Pearson overdispersion of the fit, so a single surged season widens it.

Pooling. The log rate ratios are then tied together by a nested normal model,

    b_i ~ N(theta_i, se_i^2)                   raw estimate of bottom series i
    theta_i ~ N(theta_middle, tau_series^2)    series deviation (event type within a region)
    theta_middle ~ N(theta_top, tau_middle^2)  region deviation (within the actor / country)
    theta_top ~ N(theta_0, tau_top^2)          actor effect around the panel's mean

with theta_0 flat. The three variances are estimated by maximising the exact marginal
likelihood (computed by message passing up the tree) plus a log(tau) term per variance: the
boundary-avoiding Gamma(2, ->0) prior of Chung et al. (2013, Psychometrika), so a variance
can be small but never silently exactly zero. Posteriors come back down the tree exactly.
The posterior mean of theta_i is the season term the forecast uses; its interval is the one
reported; the raw estimate is reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from scipy import optimize, stats

Z95 = float(stats.norm.ppf(0.975))
# A series needs this many events on each side of the season boundary, and this many in all,
# before its own estimate is shown as a number; below, it says "insufficient data" and its
# pooled effect comes from its group alone.
MIN_EVENTS_EACH_SIDE = 3
MIN_EVENTS = 10
# |log rate ratio| beyond this is a separation artefact (all events on one side), not a fit.
MAX_LOG_RR = 4.0
TAU_BOUNDS = (1e-3, 2.5)


@dataclass(frozen=True)
class RawEffects:
    """Per-series unpooled estimates (arrays over the bottom series of a panel)."""

    log_rr: np.ndarray  # NaN where not estimable
    se: np.ndarray  # inf where not estimable
    events_in: np.ndarray  # events in rainy-season months (weighted by the season share)
    events_out: np.ndarray
    months_in: np.ndarray  # months at least half inside the season
    months_out: np.ndarray
    sufficient: np.ndarray  # bool: enough data to show the raw number


def raw_effects(y: np.ndarray, share: np.ndarray, year: np.ndarray) -> RawEffects:
    """Estimate each row's rainy-season log rate ratio with year strata.

    Args:
        y: counts, shape (n_series, n_months); NaN marks an unknown month (ignored).
        share: season share of each month (0..1), same shape.
        year: stratum of each month (calendar year), shape (n_months,).

    Returns:
        RawEffects over the rows.
    """
    y = np.where(np.isnan(y), 0.0, y)
    strata = np.unique(year)
    # stratum indicator (K, T)
    ind = (year[None, :] == strata[:, None]).astype(float)
    n_k = y @ ind.T  # events per series and stratum (N, K)
    beta = np.zeros(y.shape[0])
    for _ in range(15):
        w = np.exp(beta[:, None] * share)  # (N, T)
        sw = (w * share) @ ind.T  # (N, K)
        s2w = (w * share**2) @ ind.T
        tw = w @ ind.T
        mean_s = np.divide(sw, tw, out=np.zeros_like(sw), where=tw > 0)
        var_s = np.divide(s2w, tw, out=np.zeros_like(sw), where=tw > 0) - mean_s**2
        score = (y * share).sum(axis=1) - (n_k * mean_s).sum(axis=1)
        info = (n_k * np.clip(var_s, 0.0, None)).sum(axis=1)
        step = np.divide(score, info, out=np.zeros_like(score), where=info > 1e-9)
        beta = np.clip(beta + np.clip(step, -2.0, 2.0), -2 * MAX_LOG_RR, 2 * MAX_LOG_RR)
        # separated series run off toward the clip and never settle: judge the others
        if np.all((np.abs(step) < 1e-6) | (np.abs(beta) >= MAX_LOG_RR)):
            break
    w = np.exp(beta[:, None] * share)
    tw = w @ ind.T
    fitted = w * (np.divide(n_k, tw, out=np.zeros_like(n_k), where=tw > 0) @ ind)  # (N, T)
    active = (n_k @ ind) > 0  # months in a stratum with at least one event
    pearson = np.where(active & (fitted > 0), (y - fitted) ** 2 / np.where(fitted > 0, fitted, 1),
                       0.0).sum(axis=1)  # fmt: skip
    df = active.sum(axis=1) - (n_k > 0).sum(axis=1) - 1
    phi = np.where(df > 0, pearson / np.maximum(df, 1), 1.0)
    with np.errstate(divide="ignore"):
        se = np.sqrt(np.maximum(phi, 1.0) / info)
    in_mask = share >= 0.5
    events_in = (y * share).sum(axis=1)
    events_out = (y * (1 - share)).sum(axis=1)
    separated = np.abs(beta) >= MAX_LOG_RR
    estimable = (info > 1e-6) & ~separated & np.isfinite(se)
    sufficient = (
        estimable
        & (events_in >= MIN_EVENTS_EACH_SIDE)
        & (events_out >= MIN_EVENTS_EACH_SIDE)
        & (y.sum(axis=1) >= MIN_EVENTS)
    )
    return RawEffects(
        log_rr=np.where(estimable, beta, np.nan),
        se=np.where(estimable, se, np.inf),
        events_in=events_in,
        events_out=events_out,
        months_in=in_mask.sum(axis=1).astype(float) * np.ones(y.shape[0]),
        months_out=(~in_mask).sum(axis=1).astype(float) * np.ones(y.shape[0]),
        sufficient=sufficient,
    )


@dataclass(frozen=True)
class PooledEffects:
    """Posterior of the season log rate ratio at every node of one tree."""

    series_mean: np.ndarray  # (N,) posterior mean of theta_i
    series_sd: np.ndarray
    middle_mean: np.ndarray  # (M,) per middle group (actor x region, or region)
    middle_sd: np.ndarray
    top_mean: np.ndarray  # (G,) per top group (actor, or the country)
    top_sd: np.ndarray
    tau: tuple[float, float, float]  # (top, middle, series) standard deviations
    draws: np.ndarray  # (n_draws, N) joint posterior draws of theta_i


def pool(
    raw: RawEffects,
    middle: np.ndarray,
    top_of_middle: np.ndarray,
    *,
    n_draws: int = 200,
    seed: int = 0,
    start: tuple[float, float, float] | None = None,
) -> PooledEffects:
    """Pool raw estimates through the tree series -> middle -> top -> panel mean.

    Args:
        raw: raw estimates of the N bottom series (only `sufficient` ones carry evidence;
            a not-sufficient estimate is still used when estimable, with its own wide SE).
        middle: middle group index (0..M-1) of each bottom series.
        top_of_middle: top group index (0..G-1) of each middle group.
        n_draws: joint posterior draws kept for roll-up intervals.
        seed: seed of the draws.
        start: standard deviations to start the search from (an earlier fit's).
    """
    b = np.where(np.isfinite(raw.log_rr), raw.log_rr, 0.0)
    prec = np.where(np.isfinite(raw.se) & np.isfinite(raw.log_rr), 1.0 / raw.se**2, 0.0)
    n_mid = int(top_of_middle.shape[0])
    n_top = int(top_of_middle.max()) + 1 if n_mid else 0
    tree = _Tree(b, prec, middle, top_of_middle, n_mid, n_top)
    if prec.sum() == 0:
        tau = (TAU_BOUNDS[1], TAU_BOUNDS[1], TAU_BOUNDS[1])
    else:
        tau = tree.fit_tau(identifiable_top=n_top > 1, start=start)
    return tree.posterior(tau, n_draws, seed)


class _Upward(NamedTuple):
    """The upward pass of `_Tree`: per level, the messages a child level sends to its parent
    (`m0, p0` from the series, `m1, p1` from the middle, `m2, p2` from the top) and the parent
    level's beliefs from below; `loglik` is the marginal log-likelihood the pass yields."""

    m0: np.ndarray
    p0: np.ndarray
    mid_m: np.ndarray
    mid_p: np.ndarray
    m1: np.ndarray
    p1: np.ndarray
    top_m: np.ndarray
    top_p: np.ndarray
    m2: np.ndarray
    p2: np.ndarray
    root_m: np.ndarray
    root_p: np.ndarray
    loglik: float


class _Tree:
    """Exact Gaussian message passing on the three-level tree (vectorized with bincount)."""

    def __init__(self, b: np.ndarray, prec: np.ndarray, middle: np.ndarray,
                 top_of_middle: np.ndarray, n_mid: int, n_top: int) -> None:  # fmt: skip
        self.b, self.prec, self.middle = b, prec, middle
        self.top_of_middle, self.n_mid, self.n_top = top_of_middle, n_mid, n_top

    @staticmethod
    def _up(mean: np.ndarray, prec: np.ndarray, tau: float) -> tuple[np.ndarray, np.ndarray]:
        """Message to the parent: the child's belief widened by the parent-child variance."""
        var = np.divide(1.0, prec, out=np.full_like(prec, np.inf), where=prec > 0) + tau**2
        return mean, np.where(np.isfinite(var), 1.0 / var, 0.0)

    @staticmethod
    def _combine(
        mean: np.ndarray, prec: np.ndarray, parent: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Multiply children's Gaussian messages per parent; return mean, precision, log C."""
        p = np.bincount(parent, weights=prec, minlength=n)
        s = np.bincount(parent, weights=prec * mean, minlength=n)
        m = np.divide(s, p, out=np.zeros(n), where=p > 0)
        used = prec > 0
        resid = prec[used] * (mean[used] - m[parent[used]]) ** 2
        logc = 0.5 * (np.log(prec[used]).sum() - resid.sum() - used.sum() * np.log(2 * np.pi))
        logc += 0.5 * (np.log(2 * np.pi) * (p > 0).sum() - np.log(p[p > 0]).sum())
        return m, p, float(logc)

    def upward(self, tau: tuple[float, float, float]) -> _Upward:
        """The upward pass: each level's beliefs from below and its messages to its parent."""
        t_top, t_mid, t_ser = tau
        m0, p0 = self._up(self.b, self.prec, t_ser)
        mid_m, mid_p, l1 = self._combine(m0, p0, self.middle, self.n_mid)
        m1, p1 = self._up(mid_m, mid_p, t_mid)
        top_m, top_p, l2 = self._combine(m1, p1, self.top_of_middle, self.n_top)
        m2, p2 = self._up(top_m, top_p, t_top)
        root_m, root_p, l3 = self._combine(m2, p2, np.zeros(self.n_top, dtype=int), 1)
        return _Upward(m0, p0, mid_m, mid_p, m1, p1, top_m, top_p, m2, p2, root_m, root_p,
                       l1 + l2 + l3)  # fmt: skip

    def loglik(self, tau: tuple[float, float, float]) -> float:
        return self.upward(tau).loglik

    def fit_tau(
        self, identifiable_top: bool, start: tuple[float, float, float] | None = None
    ) -> tuple[float, float, float]:
        lo, hi = np.log(TAU_BOUNDS[0]), np.log(TAU_BOUNDS[1])

        def objective(log_tau: np.ndarray) -> float:
            tau = tuple(np.exp(np.clip(log_tau, lo, hi)))
            if not identifiable_top:
                tau = (TAU_BOUNDS[1], tau[1], tau[2])
            # log-likelihood + log(tau) per estimated variance (the Gamma(2) boundary prior)
            penalty = float(np.sum(np.clip(log_tau, lo, hi)[0 if identifiable_top else 1 :]))
            return -(self.loglik(tau) + penalty)

        x0 = np.log(np.clip(start or (0.3, 0.3, 0.3), TAU_BOUNDS[0] * 2, TAU_BOUNDS[1] / 2))
        # Nelder-Mead: three parameters, a cheap objective, and no BLAS threads to wake.
        best = optimize.minimize(objective, x0, method="Nelder-Mead", bounds=[(lo, hi)] * 3,
                                 options={"maxiter": 120, "xatol": 1e-3,
                                          "fatol": 1e-4})  # fmt: skip
        tau = tuple(float(v) for v in np.exp(best.x))
        if not identifiable_top:
            tau = (TAU_BOUNDS[1], tau[1], tau[2])
        return tau  # type: ignore[return-value]

    def posterior(self, tau: tuple[float, float, float], n_draws: int, seed: int) -> PooledEffects:
        t_top, t_mid, t_ser = tau
        # upward beliefs (from below) at each level
        m0, p0, mid_m, mid_p, m1, p1, top_m, top_p, m2, p2, root_m, root_p, _ = self.upward(tau)
        # downward: full posterior of a child = (parent posterior without the child's message,
        # widened by the child's variance) x (the child's belief from below)
        top_fm, top_fp = self._down(root_m[np.zeros(self.n_top, dtype=int)],
                                    root_p[np.zeros(self.n_top, dtype=int)],
                                    m2, p2, top_m, top_p, t_top)  # fmt: skip
        mid_fm, mid_fp = self._down(top_fm[self.top_of_middle], top_fp[self.top_of_middle],
                                    m1, p1, mid_m, mid_p, t_mid)  # fmt: skip
        ser_fm, ser_fp = self._down(mid_fm[self.middle], mid_fp[self.middle],
                                    m0, p0, self.b, self.prec, t_ser)  # fmt: skip
        draws = self._draws(tau, root_m, root_p, (top_m, top_p), (mid_m, mid_p), n_draws, seed)
        return PooledEffects(
            series_mean=ser_fm, series_sd=1 / np.sqrt(ser_fp),
            middle_mean=mid_fm, middle_sd=1 / np.sqrt(mid_fp),
            top_mean=top_fm, top_sd=1 / np.sqrt(top_fp), tau=tau, draws=draws,
        )  # fmt: skip

    @staticmethod
    def _down(
        parent_m: np.ndarray, parent_p: np.ndarray, up_m: np.ndarray, up_p: np.ndarray,
        below_m: np.ndarray, below_p: np.ndarray, tau: float,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        cav_p = np.maximum(parent_p - up_p, 1e-12)
        cav_m = (parent_p * parent_m - up_p * up_m) / cav_p
        prior_p = 1.0 / (1.0 / cav_p + tau**2)
        post_p = prior_p + below_p
        post_m = (prior_p * cav_m + below_p * below_m) / post_p
        return post_m, post_p

    def _draws(
        self, tau: tuple[float, float, float], root_m: np.ndarray, root_p: np.ndarray,
        top: tuple[np.ndarray, np.ndarray], mid: tuple[np.ndarray, np.ndarray],
        n_draws: int, seed: int,
    ) -> np.ndarray:  # fmt: skip
        """Joint posterior draws, top-down: each node given its parent's drawn value."""
        rng = np.random.default_rng(seed)
        t_top, t_mid, t_ser = tau

        def given_parent(parent: np.ndarray, below: tuple[np.ndarray, np.ndarray],
                         t: float) -> np.ndarray:  # fmt: skip
            bm, bp = below
            prior_p = 1.0 / t**2
            post_p = prior_p + bp
            post_m = (prior_p * parent + bp * bm) / post_p
            return post_m + rng.standard_normal(parent.shape) / np.sqrt(post_p)

        theta0 = root_m[0] + rng.standard_normal((n_draws, 1)) / np.sqrt(max(root_p[0], 1e-12))
        top_d = given_parent(np.repeat(theta0, self.n_top, axis=1), top, t_top)
        mid_d = given_parent(top_d[:, self.top_of_middle], mid, t_mid)
        return given_parent(mid_d[:, self.middle], (self.b, self.prec), t_ser)
