"""The retired per-series library: candidate models, rolling-origin selection, Prophet.

Kept for the benches (the accuracy bench's peers), which install it with the `bench` extra
(statsmodels, Prophet). The service never imports it: the panel engine (`models.panel`) replaced
it. Nothing is imported here on purpose, so `import models.legacy.prophet_model` loads only what
it needs.

    get_model(alias, *, seed=None, **params) -> Forecaster;  available_models() -> list[str]
    select_and_forecast(y, *, horizon=12, candidates=None, seed=0, ...) -> SelectionResult
    cross_validation(y, model_factory, *, h=12, n_windows=3, step=6, X=None) -> DataFrame
"""
