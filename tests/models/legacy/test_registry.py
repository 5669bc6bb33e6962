"""The model registry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.legacy.forecaster import Forecaster
from models.legacy.registry import get_model, model_class, register_model


def test_unknown_alias_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="negbin"):
        get_model("no_such_model")


def test_hyper_parameters_reach_init_and_seed_only_where_taken() -> None:
    model = get_model("negbin", window=24, seed=3)  # negbin takes no seed
    assert model.get_params()["window"] == 24
    assert get_model("prophet", seed=3).get_params()["seed"] == 3


class _Unfitted(Forecaster):
    """A model that is only ever registered, never fitted."""

    def _fit(self, y: pd.Series, X: pd.DataFrame | None) -> None:
        pass

    def _predict(self, h: int, X_future: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError


def test_an_alias_cannot_be_taken_twice() -> None:
    class Impostor(_Unfitted):
        alias = "tsb"

    with pytest.raises(ValueError, match="already registered"):
        register_model(Impostor)
    assert model_class("tsb").__name__ == "TSB"


def test_a_model_needs_an_alias() -> None:
    class Nameless(_Unfitted):
        pass

    with pytest.raises(ValueError, match="no alias"):
        register_model(Nameless)
