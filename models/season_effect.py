"""Rainy-season effect per series: NB rate ratio, LR test, partial pooling across a group."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.discrete.discrete_model import NegativeBinomial
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    HessianInversionWarning,
    PerfectSeparationWarning,
)

from models.base import to_jsonable
from models.seasons import RainyCalendar, season_features

_Z95 = float(stats.norm.ppf(0.975))
# A log rate ratio this uncertain says nothing (e.g. every event fell outside the season);
# such a series contributes no own evidence to the pool.
_MAX_INFORMATIVE_SE = 5.0


@dataclass(frozen=True)
class SeasonEffect:
    """Rainy-season rate ratio of one series (in-season month vs out-of-season month).

    Attributes:
        rate_ratio, ci_low, ci_high: the estimate and its 95% interval; shrunk toward the
            group's pooled estimate when `pooled` is true.
        p_value: likelihood-ratio test of the series' own model against the same model
            without the season term (NaN when the series could not be fitted alone).
        pooled: whether empirical-Bayes pooling across the group shaped the estimate.
        n_months: observed months of the series; n_events their total. The fit itself
            starts at the first event.
        method: "nb2", "quasi_poisson" (when the NB fit failed) or "none" (no usable own
            estimate), plus "+eb_pool" when pooled.
        raw_rate_ratio, raw_ci_low, raw_ci_high: the series' own, unpooled estimate.
    """

    series_id: str
    group: str | None
    rate_ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    pooled: bool
    n_months: int
    n_events: int
    method: str
    raw_rate_ratio: float
    raw_ci_low: float
    raw_ci_high: float

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serializable dict (NaN as None)."""
        return to_jsonable(asdict(self))


@dataclass(frozen=True)
class _OwnFit:
    log_rr: float
    se: float
    p_value: float
    method: str
    n_months: int
    n_events: int


def _trend_basis(n: int, knot_every: int | None) -> np.ndarray:
    """Linear trend in years plus hinges every `knot_every` months (a linear spline).

    A piecewise trend absorbs multi-year surges, so they are not mistaken for seasonality.
    """
    t = (np.arange(n) - (n - 1) / 2.0) / 12.0
    cols = [t]
    if knot_every:
        for knot in range(knot_every, n - knot_every // 2, knot_every):
            cols.append(np.maximum(0.0, t - t[knot]))
    return np.column_stack(cols)


def fit_season_effect(
    y: np.ndarray, share: np.ndarray, knot_every: int | None = 24
) -> _OwnFit | None:
    """Fit one series' season effect; return None when its data cannot inform one.

    The fit starts at the series' first event: before it the actor was not active there,
    and a long run of leading zeros lets the trend run off to minus infinity.
    """
    y, share = np.asarray(y, dtype=float), np.asarray(share, dtype=float)
    events = np.flatnonzero(np.nan_to_num(y) > 0)
    if len(events) == 0:
        return None
    y, share = y[events[0] :], share[events[0] :]
    trend = _trend_basis(len(y), knot_every)
    keep = ~np.isnan(y)
    y, share, trend = y[keep], share[keep], trend[keep]
    n_months, n_events = len(y), int(y.sum())
    if n_months < 12 or np.ptp(share) == 0:
        return None
    null = np.column_stack([np.ones(n_months), trend])
    full = np.column_stack([null, share])
    with warnings.catch_warnings():
        # Separation and boundary dispersion are expected on sparse series; the standard
        # error check below turns them into "uninformative" instead of a fake precision.
        for category in (ConvergenceWarning, HessianInversionWarning, PerfectSeparationWarning):
            warnings.simplefilter("ignore", category)
        warnings.simplefilter("ignore", RuntimeWarning)
        fitted = _nb_fits(y, null, full) or _quasi_poisson_fits(y, null, full)
    log_rr, se, lr, method = fitted
    if not np.isfinite(se) or se > _MAX_INFORMATIVE_SE:
        se = np.inf
    return _OwnFit(log_rr, se, float(stats.chi2.sf(max(lr, 0.0), 1)), method, n_months, n_events)


def _nb_fits(
    y: np.ndarray, null: np.ndarray, full: np.ndarray
) -> tuple[float, float, float, str] | None:
    """NB2 maximum likelihood with and without the season term, or None if it fails."""
    try:
        res_full = NegativeBinomial(y, full, loglike_method="nb2").fit(disp=0, maxiter=200)
        res_null = NegativeBinomial(y, null, loglike_method="nb2").fit(disp=0, maxiter=200)
    except (np.linalg.LinAlgError, ValueError):
        return None
    k = full.shape[1] - 1
    values = (float(res_full.params[k]), float(res_full.bse[k]), res_full.llf, res_null.llf)
    converged = res_full.mle_retvals["converged"] and res_null.mle_retvals["converged"]
    if not converged or not np.isfinite(values).all():
        return None
    return values[0], values[1], 2.0 * float(values[2] - values[3]), "nb2"


def _quasi_poisson_fits(
    y: np.ndarray, null: np.ndarray, full: np.ndarray
) -> tuple[float, float, float, str]:
    """Poisson GLM with Pearson-scaled errors, the fallback when NB2 does not converge.

    The deviance difference is divided by the same dispersion, so an over-dispersed series
    does not get a falsely small p-value.
    """
    res_full = GLM(y, full, family=families.Poisson()).fit(maxiter=100, scale="X2")
    res_null = GLM(y, null, family=families.Poisson()).fit(maxiter=100)
    k = full.shape[1] - 1
    scale = max(float(res_full.scale), 1.0)
    lr = (float(res_null.deviance) - float(res_full.deviance)) / scale
    return float(res_full.params[k]), float(res_full.bse[k]), lr, "quasi_poisson"


def _shrink(fits: dict[str, _OwnFit | None]) -> dict[str, tuple[float, float]] | None:
    """Empirical-Bayes (DerSimonian-Laird) shrinkage of log rate ratios; None if < 2 usable."""
    usable = {k: f for k, f in fits.items() if f is not None and np.isfinite(f.se)}
    if len(usable) < 2:
        return None
    b = np.array([f.log_rr for f in usable.values()])
    v = np.array([f.se**2 for f in usable.values()])
    w = 1.0 / v
    mu_fixed = np.sum(w * b) / w.sum()
    q = float(np.sum(w * (b - mu_fixed) ** 2))
    tau2 = max(0.0, (q - (len(b) - 1)) / (w.sum() - np.sum(w**2) / w.sum()))
    w_re = 1.0 / (v + tau2)
    mu = float(np.sum(w_re * b) / w_re.sum())
    var_mu = float(1.0 / w_re.sum())
    out: dict[str, tuple[float, float]] = {}
    for key, f in fits.items():
        s2 = f.se**2 if f is not None else np.inf
        own = f.log_rr if f is not None and np.isfinite(s2) else mu
        finite = np.isfinite(s2)
        shrink = s2 / (s2 + tau2) if finite else 1.0
        # Posterior variance (Morris 1983): own part shrunk, plus uncertainty of the pool mean.
        own_var = s2 * tau2 / (s2 + tau2) if finite else tau2
        out[key] = ((1 - shrink) * own + shrink * mu, own_var + shrink**2 * var_mu)
    return out


def _interval(log_rr: float, var: float) -> tuple[float, float, float]:
    se = np.sqrt(var)
    with np.errstate(over="ignore"):
        return (
            float(np.exp(log_rr)),
            float(np.exp(log_rr - _Z95 * se)),
            float(np.exp(log_rr + _Z95 * se)),
        )


def _long_frame(
    data: pd.DataFrame | Mapping[str, pd.Series], groups: Mapping[str, str] | None
) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
    else:
        frame = pd.concat(
            [
                pd.DataFrame({"series_id": key, "month": s.index, "y": s.to_numpy(dtype=float)})
                for key, s in data.items()
            ],
            ignore_index=True,
        )
    if groups is not None:
        frame["group"] = frame["series_id"].map(groups)
    missing = {"series_id", "month", "y"} - set(frame.columns)
    if missing:
        raise ValueError(f"data lacks columns {sorted(missing)}")
    return frame


def estimate_season_effects(
    data: pd.DataFrame | Mapping[str, pd.Series],
    *,
    group_col: str = "group",
    groups: Mapping[str, str] | None = None,
    pool: bool = True,
    calendar: RainyCalendar | None = None,
    knot_every: int | None = 24,
) -> dict[str, SeasonEffect]:
    """Estimate the rainy-season rate ratio of several series, pooled within groups.

    Per series, an NB2 regression of monthly counts on a piecewise-linear trend and the
    season share gives the log rate ratio of a fully in-season month versus an out-of-season
    month, a Wald 95% interval and a likelihood-ratio p-value against the model without the
    season term (quasi-Poisson GLM if the NB fit fails). With `pool`, the log rate ratios of a
    group (e.g. one actor's regions) are shrunk toward the group's random-effects mean
    (DerSimonian-Laird empirical Bayes), so sparse series borrow strength; a series with no
    usable estimate of its own gets the group's predictive estimate.

    Args:
        data: a long frame with columns series_id, month, y and optionally `group_col`,
            season_share, country, region; or a mapping series_id -> monthly Series.
        group_col: column naming the pooling group (e.g. the actor); no column, no pooling.
        groups: series_id -> group, for mapping input (or to override the column).
        pool: pool within groups of two or more usable series.
        calendar: used when `season_share` is missing (with the country/region columns when
            present, else the Sahel default June 1 - September 30).
        knot_every: months between trend knots (None = straight log-linear trend).

    Returns:
        series_id -> SeasonEffect, in input order.
    """
    frame = _long_frame(data, groups)
    fits: dict[str, _OwnFit | None] = {}
    group_of: dict[str, str | None] = {}
    sizes: dict[str, tuple[int, int]] = {}
    for sid, part in frame.groupby("series_id", sort=False):
        part = part.sort_values("month")
        idx = pd.DatetimeIndex(part["month"])
        if "season_share" in part.columns:
            share = part["season_share"].to_numpy(dtype=float)
        else:
            place = {k: part[k].iloc[0] for k in ("country", "region") if k in part.columns}
            share = season_features(idx, calendar=calendar, **place)["season_share"].to_numpy()
        y = part["y"].to_numpy(dtype=float)
        fits[str(sid)] = fit_season_effect(y, share, knot_every)
        sizes[str(sid)] = (int((~np.isnan(y)).sum()), int(np.nansum(y)))
        has_group = group_col in part.columns and pd.notna(part[group_col].iloc[0])
        group_of[str(sid)] = str(part[group_col].iloc[0]) if has_group else None
    shrunk: dict[str, tuple[float, float]] = {}
    if pool:
        for group in {g for g in group_of.values() if g is not None}:
            members = {k: fits[k] for k, g in group_of.items() if g == group}
            pooled = _shrink(members)
            if pooled:
                shrunk.update(pooled)
    return {
        sid: _effect(sid, group_of[sid], fits[sid], shrunk.get(sid), sizes[sid]) for sid in fits
    }


def _effect(
    sid: str,
    group: str | None,
    fit: _OwnFit | None,
    shrunk: tuple[float, float] | None,
    size: tuple[int, int],
) -> SeasonEffect:
    n_months, n_events = size
    raw = _interval(fit.log_rr, fit.se**2) if fit is not None else (np.nan,) * 3
    final = _interval(*shrunk) if shrunk is not None else raw
    method = fit.method if fit is not None else "none"
    return SeasonEffect(
        series_id=sid,
        group=group,
        rate_ratio=final[0],
        ci_low=final[1],
        ci_high=final[2],
        p_value=fit.p_value if fit is not None else np.nan,
        pooled=shrunk is not None,
        n_months=n_months,
        n_events=n_events,
        method=method + ("+eb_pool" if shrunk is not None else ""),
        raw_rate_ratio=raw[0],
        raw_ci_low=raw[1],
        raw_ci_high=raw[2],
    )
