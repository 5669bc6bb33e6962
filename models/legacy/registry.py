"""The model registry: aliases to Forecaster classes, filled by the `register_model` decorator."""

from __future__ import annotations

import importlib
import inspect
from typing import Any, TypeVar

from models.legacy.forecaster import Forecaster

F = TypeVar("F", bound=type[Forecaster])

_REGISTRY: dict[str, type[Forecaster]] = {}

# In order of preference: selection keeps the first one whose backtest score is within
# `tolerance` of the best, because with 3 backtest windows small score gaps are noise (on the
# Burkina Faso backtests the recency-weighted NB regression was the most reliable single
# model). All are cheap enough for 10,000 series x 120 months in 10 minutes on two cores
# (well under 100 ms per series for the whole selection, backtests included). `prophet` is
# 10-100x slower per fit; ask for it with `candidates=[...]`.
DEFAULT_CANDIDATES: tuple[str, ...] = (
    "negbin",
    "ensemble",
    "tsb",
    "ets",
    "poisson_last",
    "seasonal_naive",
)

# Modules whose import registers the built-in models.
_BUILTIN_MODULES = (
    "models.legacy.baselines",
    "models.legacy.intermittent",
    "models.legacy.ets",
    "models.legacy.counts",
    "models.legacy.prophet_model",
    "models.legacy.ensemble",
)


def register_model(cls: F) -> F:
    """Class decorator: register a Forecaster subclass under its `alias`."""
    alias = getattr(cls, "alias", "")
    if not alias:
        raise ValueError(f"{cls.__name__} has no alias")
    if alias in _REGISTRY and _REGISTRY[alias] is not cls:
        raise ValueError(f"alias {alias!r} is already registered by {_REGISTRY[alias].__name__}")
    _REGISTRY[alias] = cls
    return cls


def unregister_model(alias: str) -> None:
    """Remove a model from the registry (for tests that register throwaway models)."""
    _REGISTRY.pop(alias, None)


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def available_models() -> list[str]:
    """Return the registered aliases, sorted."""
    _load_builtins()
    return sorted(_REGISTRY)


def model_class(alias: str) -> type[Forecaster]:
    """Return the class registered under `alias`, or raise KeyError listing the known ones."""
    _load_builtins()
    try:
        return _REGISTRY[alias]
    except KeyError:
        raise KeyError(f"unknown model {alias!r}; known: {sorted(_REGISTRY)}") from None


def get_model(alias: str, *, seed: int | None = None, **params: Any) -> Forecaster:
    """Build an unfitted model by alias.

    Args:
        alias: a registered alias, see `available_models()`.
        seed: passed on only to models whose `__init__` takes a `seed` (the random ones).
        **params: hyper-parameters for the model's `__init__`.
    """
    cls = model_class(alias)
    if seed is not None and "seed" in inspect.signature(cls.__init__).parameters:
        params.setdefault("seed", seed)
    return cls(**params)
