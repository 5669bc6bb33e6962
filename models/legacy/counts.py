"""Negative binomial regression on recent months: trend, rainy season, Fourier seasonality."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from statsmodels.genmod import families
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import (
    ConvergenceWarning,
    DomainWarning,
    PerfectSeparationWarning,
)

from models.base import QUANTILES
from models.distributions import nb_from_moments
from models.legacy.forecaster import Forecaster
from models.legacy.registry import register_model
from models.seasons import fourier_array, month_numbers

# Beyond this dispersion an NB puts most of its mass at zero even for a series that is rarely
# zero (one huge month inflates the moment estimate); conflict counts rarely exceed 2.
_MAX_ALPHA = 3.0
# Events per regression parameter below which a term is left out (the usual rule of thumb
# for count and logistic regressions is about ten).
EVENTS_PER_PARAMETER = 8


class FitError(RuntimeError):
    """Raised when a fit ends with non-finite or runaway parameters."""


@register_model
class NegBin(Forecaster):
    """NB2 GLM: log mean = level + rainy-season share (+ damped trend, Fourier terms).

    Months are weighted by recency (half-life `half_life`), so the level is a local one that
    follows surges and lulls; terms are added only as far as the window's events support
    them (EVENTS_PER_PARAMETER). On the Burkina Faso backtests (bench/accuracy.py) a trend
    or Fourier terms made 12-month forecasts worse (a fitted surge gets extrapolated), so
    both are off by default and available as hyper-parameters.

    The dispersion comes from a moment estimate on a Poisson fit (Cameron-Trivedi), then the
    NB GLM is fitted by IRLS: two small IRLS runs are ~50x cheaper than a full NB maximum
    likelihood. The predictive law is NB with the log-mean's parameter uncertainty folded in
    by moment matching, so intervals widen where the trend is poorly pinned down.

    Args:
        window: most recent months used (None = all); conflict series change regime.
        fourier_k: sine/cosine pairs of the yearly cycle (0 = none), on top of the season.
        trend: include a linear trend (in years) on the log scale.
        damping: per-month damping of the trend beyond the data; the log mean moves at most
            damping / (1 - damping) months' worth of slope, so a surge is not extrapolated.
        prior_weight: total weight of four pseudo-months at the mean count (window start and
            end, in and out of season); a weak prior toward no trend and no season effect.
        half_life: months after which a month's weight in the likelihood halves (None = all
            months of the window weigh the same).
        season: include the rainy-season share term (the point of the model; off only to
            measure what it adds).
    """

    alias = "negbin"
    min_obs = 12
    uses_exog = True

    def __init__(
        self,
        window: int | None = 48,
        fourier_k: int = 0,
        trend: bool = False,
        damping: float = 0.9,
        prior_weight: float = 0.5,
        half_life: float | None = 6.0,
        season: bool = True,
    ):
        self.window = window
        self.fourier_k = fourier_k
        self.trend = trend
        self.damping = damping
        self.prior_weight = prior_weight
        self.half_life = half_life
        self.season = season

    def _terms(self, n_events: int) -> list[str]:
        """Return the terms this window's events can support, by events per parameter.

        Terms enter in order (season, trend, Fourier pairs) while the window holds at least
        EVENTS_PER_PARAMETER events per parameter; a sparse series gets a level and its
        season only, because a trend fitted to four events extrapolates wildly.
        """
        wanted = (["season_share"] if self.season else []) + (["trend"] if self.trend else [])
        wanted += [f"{f}{j}" for j in range(1, self.fourier_k + 1) for f in ("sin", "cos")]
        terms = ["const"]
        for term in wanted:
            if n_events < EVENTS_PER_PARAMETER * len(terms):
                break
            terms.append(term)
        # Fourier terms come in sine/cosine pairs; a lone sine would fix the phase.
        if terms[-1].startswith("sin"):
            terms.pop()
        return terms

    def _design(self, index: pd.DatetimeIndex, share: np.ndarray, t: np.ndarray) -> np.ndarray:
        columns = {"const": np.ones(len(index)), "trend": t, "season_share": share}
        if self.fourier_k:
            fourier = fourier_array(month_numbers(index), self.fourier_k)
            for j in range(self.fourier_k):
                columns[f"sin{j + 1}"] = fourier[:, 2 * j]
                columns[f"cos{j + 1}"] = fourier[:, 2 * j + 1]
        return np.column_stack([columns[name] for name in self.terms_])

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        assert X is not None
        start = 0 if self.window is None else max(len(y) - self.window, 0)
        yw, Xw = y.iloc[start:], X.iloc[start:]
        counts_all = yw.to_numpy()
        keep = ~np.isnan(counts_all)
        counts = counts_all[keep]
        self.window_start_ = start
        # All events fell before the window: the likelihood's rate is zero, so is the forecast.
        self.quiet_ = bool(counts.sum() == 0)
        if self.quiet_:
            return
        self.terms_ = self._terms(int(counts.sum()))
        # Years relative to the last month: the intercept is the current level.
        t = (np.arange(len(yw)) - (len(yw) - 1)) / 12.0
        design = self._design(yw.index, Xw["season_share"].to_numpy(), t)
        self.design_ = design
        design_obs = design[keep]
        # Pseudo-months at both ends of the window, in and out of season, at the mean count:
        # a weak prior toward "no trend, no season effect" that keeps those terms finite when
        # every event fell on one side of the season or in the last months.
        pseudo = np.zeros((4, design.shape[1]))
        pseudo[:, 0] = 1.0
        if "trend" in self.terms_:
            pseudo[:, self.terms_.index("trend")] = [t[0], t[0], 0.0, 0.0]
        if "season_share" in self.terms_:
            pseudo[:, self.terms_.index("season_share")] = [0.0, 1.0, 0.0, 1.0]
        decay = np.ones(len(counts))
        if self.half_life:
            decay = 0.5 ** (-t[keep] * 12.0 / self.half_life)
        endog = np.concatenate([counts, np.full(4, np.average(counts, weights=decay))])
        exog = np.vstack([design_obs, pseudo])
        weights = np.concatenate([decay, np.full(4, self.prior_weight / 2)])
        with warnings.catch_warnings():
            # Separation, slow IRLS convergence and overflow on degenerate windows are
            # caught by the finiteness checks below and by selection's sanity checks.
            for category in (ConvergenceWarning, PerfectSeparationWarning, DomainWarning):
                warnings.simplefilter("ignore", category)
            warnings.simplefilter("ignore", RuntimeWarning)
            poisson = GLM(endog, exog, family=families.Poisson(), freq_weights=weights).fit(
                maxiter=50
            )
            mu = poisson.fittedvalues[: len(counts)]
            alpha = float(np.sum(decay * ((counts - mu) ** 2 - counts)) / np.sum(decay * mu**2))
            alpha = float(np.clip(alpha, 0.0, _MAX_ALPHA))
            family = families.NegativeBinomial(alpha=max(alpha, 1e-8))
            res = GLM(endog, exog, family=family, freq_weights=weights).fit(
                maxiter=50, start_params=poisson.params
            )
        params, cov = np.asarray(res.params), np.asarray(res.cov_params())
        if not (np.isfinite(params).all() and np.isfinite(cov).all()) or np.abs(params).max() > 30:
            raise FitError(f"NB GLM diverged: params {np.round(params, 2).tolist()}")
        self.params_, self.cov_, self.alpha_ = params, cov, alpha

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        assert X_future is not None
        if self.quiet_:
            return np.zeros(h), np.zeros((h, len(QUANTILES)))
        steps = np.arange(1, h + 1)
        t = np.cumsum(self.damping**steps) / 12.0
        design = self._design(X_future.index, X_future["season_share"].to_numpy(), t)
        eta = design @ self.params_
        v = np.einsum("ij,jk,ik->i", design, self.cov_, design)
        # Log-normal parameter uncertainty of the mean mixed with NB noise, by moments.
        mean = np.exp(eta + 0.5 * v)
        second = np.exp(2.0 * eta + 2.0 * v)
        variance = mean + self.alpha_ * second + (second - mean**2)
        return mean, nb_from_moments(mean, variance)

    def _fitted(self) -> np.ndarray:
        out = np.full(len(self.y_), np.nan)
        out[self.window_start_ :] = 0.0 if self.quiet_ else np.exp(self.design_ @ self.params_)
        return out

    def _summary(self) -> dict[str, Any]:
        if self.quiet_:
            return {"level": 0.0, "note": f"no events in the last {self.window} months"}
        named = dict(zip(self.terms_, self.params_.tolist(), strict=True))
        se = dict(zip(self.terms_, np.sqrt(np.diag(self.cov_)).tolist(), strict=True))
        out: dict[str, Any] = {
            "level": float(np.exp(named["const"])),
            "coefficients": named,
            "std_errors": se,
            "dispersion": self.alpha_,
            "terms": self.terms_,
        }
        if "season_share" in named:
            out["season"] = {
                "rainy_season_rate_ratio": float(np.exp(named["season_share"])),
                "log_rate_ratio_se": se["season_share"],
            }
        if "trend" in named:
            out["trend"] = {"log_slope_per_year": named["trend"], "damping": self.damping}
        return out
