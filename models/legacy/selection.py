"""Per-series model choice: backtest the candidates, keep the best, refit, forecast, fall back."""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from models.base import future_index
from models.legacy.calibration import choose_width, stretch
from models.legacy.checks import forecast_problem
from models.legacy.ensemble import Ensemble, average_forecasts
from models.legacy.evaluation import BACKTEST_COLUMNS, backtest_origins, cross_validation
from models.legacy.forecaster import Forecaster, check_horizon, forecast_frame, validate_series
from models.legacy.registry import DEFAULT_CANDIDATES, get_model, model_class
from models.legacy.selection_result import SelectionResult
from models.metrics import score
from models.seasons import RainyCalendar, season_features

# Used when the series is too short to backtest, or when every ranked candidate fails:
# the recent mean with Poisson noise cannot diverge.
FALLBACK_MODEL = "poisson_last"
ENSEMBLE = "ensemble"
# Fewer scored months than this and a backtest ranking is a coin toss: use the fallback.
MIN_BACKTEST_MONTHS = 3


def select_and_forecast(
    y: pd.Series,
    *,
    country: str | None = None,
    region: str | None = None,
    horizon: int = 12,
    candidates: Sequence[str] | None = None,
    seed: int = 0,
    n_windows: int = 3,
    step: int = 6,
    metric: str = "crps",
    min_train: int = 12,
    ensemble_size: int = 3,
    tolerance: float = 0.15,
    calibrate: bool = False,
    calendar: RainyCalendar | None = None,
    X: pd.DataFrame | None = None,
) -> SelectionResult:
    """Choose a model for one series by rolling-origin backtest and forecast with it.

    Each candidate is backtested at `n_windows` origins `step` months apart, forecasting up
    to `horizon` months, and scored by the mean of `metric` (lower is better). `ensemble` is
    scored as the quantile average of the best `ensemble_size` working candidates' backtests,
    at no extra fitting cost. Candidates are listed in order of preference: the first one
    whose score is within `tolerance` (relative) of the best wins, because with a few
    backtest windows small gaps are noise. The winner is refitted on the whole series; if it
    raises or its forecast is unusable (NaN, infinite, negative, non-monotone, or a mean
    above 50x the historical maximum) the next one is tried, and `poisson_last` is the last
    resort. Every rejection is kept in `failures`. Series with fewer than 15 months (no
    3-month backtest after 12 training months) go straight to `poisson_last`, with a note.

    Args:
        y: monthly counts on a month-start index; NaN marks an unknown month.
        country: country name for the rainy-season calendar (e.g. "Burkina Faso").
        region: admin-1 region for the calendar (e.g. "Sahel region"); overrides country.
        horizon: months to forecast, 1..12.
        candidates: aliases to try; default `DEFAULT_CANDIDATES` (the cheap ones).
        seed: seed handed to random models; same data and seed give the same forecast.
        n_windows: backtest origins per candidate.
        step: months between origins.
        metric: registered metric that ranks candidates (see `models.metrics`).
        min_train: fewest training months at a backtest origin.
        ensemble_size: how many of the best candidates the ensemble averages.
        tolerance: relative score margin within which an earlier candidate is preferred
            (0 = pure best score).
        calibrate: stretch the winner's quantiles by a factor chosen on its backtest CRPS
            (`models.legacy.calibration`); off by default, as it did not pay on the Sahel backtests.
        calendar: rainy-season calendar; default the bundled one.
        X: exogenous frame with `season_share` covering y's months and the `horizon` months
            after; default built from the calendar, country and region.

    Returns:
        A SelectionResult.

    Raises:
        ValueError: y has no observed month, or bad arguments.
    """
    y = validate_series(y)
    horizon = check_horizon(horizon)
    n_obs = int(y.notna().sum())
    if n_obs == 0:
        raise ValueError("y has no observed month")
    names = list(candidates) if candidates is not None else list(DEFAULT_CANDIDATES)
    months = y.index.append(future_index(y.index, horizon))
    if X is None:
        X = season_features(months, country=country, region=region, calendar=calendar)
    elif "season_share" not in X.columns or len(months.difference(X.index)):
        raise ValueError("X needs a season_share column for y's months and the horizon after")
    run = _Selection(y, X, names, seed, metric, tolerance)
    h_bt = min(horizon, len(y) - min_train)
    origins = (
        backtest_origins(len(y), h_bt, n_windows, step, min_train)
        if h_bt >= MIN_BACKTEST_MONTHS
        else []
    )
    if origins:
        for alias in names:
            if alias != ENSEMBLE:
                run.backtest(alias, h_bt, n_windows, step, min_train)
        if ENSEMBLE in names:
            run.backtest_ensemble(ensemble_size)
    else:
        run.notes.append(
            f"series too short to backtest ({len(y)} months, {n_obs} observed); "
            f"fell back to {FALLBACK_MODEL}"
        )
    return run.finish(horizon, calibrate)


class _Selection:
    """The mutable state of one selection run; `select_and_forecast` drives it."""

    def __init__(
        self,
        y: pd.Series,
        X: pd.DataFrame,
        names: list[str],
        seed: int,
        metric: str,
        tolerance: float,
    ) -> None:
        self.y, self.X, self.names, self.seed, self.metric = y, X, names, seed, metric
        self.tolerance = tolerance
        self.n_obs = int(y.notna().sum())
        # Largest count seen up to each month: the yardstick of the "absurd forecast" check.
        self.running_max = y.cummax().ffill().fillna(0.0)
        self.scores: dict[str, dict[str, float]] = {}
        self.failures: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self.notes: list[str] = []
        self.frames: dict[str, pd.DataFrame] = {}
        self.members: tuple[str, ...] = ()

    def _model(self, alias: str) -> Forecaster:
        if alias == ENSEMBLE:
            return Ensemble(members=self.members, seed=self.seed)
        return get_model(alias, seed=self.seed)

    def backtest(self, alias: str, h: int, n_windows: int, step: int, min_train: int) -> None:
        try:
            min_obs = model_class(alias).min_obs
        except KeyError as exc:
            self.failures[alias] = str(exc.args[0])
            return
        if self.n_obs < min_obs:
            self.failures[alias] = f"skipped: needs {min_obs} observed months, has {self.n_obs}"
            return
        start = time.perf_counter()
        try:
            frame = cross_validation(
                self.y,
                lambda: self._model(alias),
                h=h,
                n_windows=n_windows,
                step=step,
                X=self.X,
                min_train=min_train,
            )
        except Exception as exc:  # any model error is a recorded failure, never a crash
            self.failures[alias] = f"backtest failed: {type(exc).__name__}: {exc}"
            return
        finally:
            self.timings[alias] = time.perf_counter() - start
        self._accept(alias, frame)

    def backtest_ensemble(self, size: int) -> None:
        # The members are the best scores, regardless of the preference order.
        ranked = sorted(self.scores, key=lambda a: self.scores[a][self.metric])[:size]
        if len(ranked) < 2:
            self.failures[ENSEMBLE] = f"needs 2 working candidates, has {len(ranked)}"
            return
        self.members = tuple(ranked)
        base = self.frames[ranked[0]]
        mean, q = average_forecasts([self.frames[a] for a in ranked])
        frame = forecast_frame(pd.DatetimeIndex(base["month"]), mean, q).reset_index(drop=True)
        frame = pd.concat([base[["origin", "month", "horizon", "y"]], frame], axis=1)
        frame["scale"] = base["scale"].to_numpy()
        self.timings[ENSEMBLE] = 0.0
        self.notes.append(f"ensemble members: {', '.join(ranked)}")
        self._accept(ENSEMBLE, frame[list(BACKTEST_COLUMNS)])

    def _accept(self, alias: str, frame: pd.DataFrame) -> None:
        history_max = self.running_max.reindex(pd.DatetimeIndex(frame["origin"])).to_numpy()
        problem = forecast_problem(frame, history_max)
        if problem:
            self.failures[alias] = f"backtest: {problem}"
            return
        result = score(frame)
        if not np.isfinite(result[self.metric]):
            self.failures[alias] = "backtest produced no scorable month"
            return
        self.scores[alias] = result
        self.frames[alias] = frame

    def _ranking(self) -> list[str]:
        """Candidates by score; within `tolerance` of the best, the earlier-listed one leads."""
        order = {a: i for i, a in enumerate(self.names)}
        if not self.scores:
            return []
        best = min(s[self.metric] for s in self.scores.values())
        cutoff = best * (1.0 + self.tolerance)

        def key(a: str) -> tuple[bool, float, int]:
            value = self.scores[a][self.metric]
            near = value <= cutoff
            return (not near, order[a] if near else value, order[a])

        return sorted(self.scores, key=key)

    def finish(self, horizon: int, calibrate: bool) -> SelectionResult:
        ranking = self._ranking()
        tried = list(ranking)
        if FALLBACK_MODEL not in tried:
            tried.append(FALLBACK_MODEL)
        history_max = float(np.nanmax(self.y.to_numpy()))
        target = future_index(self.y.index, horizon)
        for alias in tried:
            start = time.perf_counter()
            try:
                model = self._model(alias).fit(self.y, self.X.loc[self.y.index])
                fc = model.predict(horizon, self.X.loc[target])
                problem = forecast_problem(fc, history_max)
            except Exception as exc:  # recorded below; the next candidate is tried
                problem = f"{type(exc).__name__}: {exc}"
            self.timings[alias] = self.timings.get(alias, 0.0) + time.perf_counter() - start
            if problem:
                self.failures[alias] = f"final fit failed: {problem}"
                continue
            if alias not in ranking and ranking:
                self.notes.append(f"every ranked candidate failed; fell back to {alias}")
            width = 1.0
            if calibrate and alias in self.frames:
                width = choose_width(self.frames[alias])
                self.frames[alias] = stretch(self.frames[alias], width)
                self.scores[alias] = score(self.frames[alias])
                fc = stretch(fc, width)
            return self._result(alias, model, fc, ranking, width)
        raise RuntimeError(f"every candidate failed, including {FALLBACK_MODEL}: {self.failures}")

    def _result(
        self, alias: str, model: Forecaster, fc: pd.DataFrame, ranking: list[str], width: float
    ) -> SelectionResult:
        return SelectionResult(
            alias=alias,
            forecast=fc,
            fitted=model.fitted(),
            scores=self.scores,
            failures=self.failures,
            summary=model.summary(),
            timings=self.timings,
            notes=self.notes,
            ranking=ranking,
            backtest_frames=self.frames,
            interval_width=width,
        )
