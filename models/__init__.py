"""sahelcast forecasting: the panel engine, pure numpy/pandas/scipy.

    from models import PanelConfig, PanelEngine
    result = PanelEngine(labels, y, months, country="Mali", config=PanelConfig()).run()

`PanelEngine` fits every series of a panel (one source, one country) at once: pooled
rainy-season effects, a moving level per bottom series, sample paths summed up both trees,
quantiles calibrated by horizon. `PanelResult` is what one call returns; `PanelConfig` its
settings. Also here: the forecasts' vocabulary (`QUANTILES`, `QUANTILE_COLUMNS`, `MAX_HORIZON`)
and the rainy-season calendar (`RainyCalendar`, `season_features`).

The retired per-series library (candidate models, backtest selection, Prophet) lives in
`models.legacy`, for the benches only: it needs the `bench` extra (statsmodels, Prophet) and
the service never imports it. Nothing here imports from `service/`.
"""

from models.base import FORECAST_COLUMNS, MAX_HORIZON, QUANTILE_COLUMNS, QUANTILES
from models.panel.engine import PanelConfig, PanelEngine, PanelResult
from models.seasons import RainyCalendar, SeasonWindow, default_calendar, season_features

__all__ = [
    "FORECAST_COLUMNS",
    "MAX_HORIZON",
    "QUANTILES",
    "QUANTILE_COLUMNS",
    "PanelConfig",
    "PanelEngine",
    "PanelResult",
    "RainyCalendar",
    "SeasonWindow",
    "default_calendar",
    "season_features",
]
