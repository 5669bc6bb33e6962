"""sahelcast forecasting library: monthly conflict-event counts, pure numpy/pandas/statsmodels.

Public API (see each docstring for the full signature):

    select_and_forecast(y, *, country=None, region=None, horizon=12, candidates=None, seed=0,
                        n_windows=3, step=6, ...) -> SelectionResult
    estimate_season_effects(data, *, group_col="group", groups=None, pool=True, ...)
        -> dict[str, SeasonEffect]
    get_model(alias, *, seed=None, **params) -> Forecaster;  available_models() -> list[str]
    cross_validation(y, model_factory, *, h=12, n_windows=3, step=6, X=None) -> DataFrame
    season_features(index, *, country=None, region=None, calendar=None) -> DataFrame
    RainyCalendar, fourier_terms, QUANTILES, QUANTILE_COLUMNS, FORMAT_VERSION

Nothing here imports from `service/`.
"""

from models.base import (
    FORECAST_COLUMNS,
    FORMAT_VERSION,
    MAX_HORIZON,
    QUANTILE_COLUMNS,
    QUANTILES,
    Forecaster,
    NotFittedError,
)
from models.evaluation import cross_validation
from models.metrics import available_metrics, register_metric, score
from models.registry import (
    DEFAULT_CANDIDATES,
    available_models,
    get_model,
    register_model,
)
from models.season_effect import SeasonEffect, estimate_season_effects
from models.seasons import RainyCalendar, SeasonWindow, fourier_terms, season_features
from models.selection import select_and_forecast
from models.selection_result import SelectionResult

__all__ = [
    "DEFAULT_CANDIDATES",
    "FORECAST_COLUMNS",
    "FORMAT_VERSION",
    "MAX_HORIZON",
    "QUANTILES",
    "QUANTILE_COLUMNS",
    "Forecaster",
    "NotFittedError",
    "RainyCalendar",
    "SeasonEffect",
    "SeasonWindow",
    "SelectionResult",
    "available_metrics",
    "available_models",
    "cross_validation",
    "estimate_season_effects",
    "fourier_terms",
    "get_model",
    "register_metric",
    "register_model",
    "score",
    "season_features",
    "select_and_forecast",
]
