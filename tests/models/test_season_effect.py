"""Rainy-season effects: coverage of the true rate ratio, LR test, partial pooling."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from models import SeasonEffect, estimate_season_effects
from tests.models.builders import make_counts, month_index

TRUE_RR = 0.4


def test_ci_contains_the_true_rate_ratio_in_most_simulations() -> None:
    hits = 0
    for seed in range(20):
        y = make_counts(120, 5.0, seed=seed, rate_ratio=TRUE_RR, alpha=0.3)
        effect = estimate_season_effects({"s": y})["s"]
        assert effect.method == "nb2"
        assert not effect.pooled
        hits += effect.ci_low <= TRUE_RR <= effect.ci_high
    assert hits >= 16


def test_pooling_sparse_regions_keeps_coverage_and_narrows_intervals() -> None:
    hits = total = 0
    narrower = []
    for seed in range(8):
        data = {
            f"region{i}": make_counts(96, 0.8, seed=100 * seed + i, rate_ratio=TRUE_RR)
            for i in range(5)
        }
        effects = estimate_season_effects(data, groups=dict.fromkeys(data, "JNIM"))
        for effect in effects.values():
            assert effect.pooled
            assert effect.method.endswith("+eb_pool")
            total += 1
            hits += effect.ci_low <= TRUE_RR <= effect.ci_high
            narrower.append(
                np.log(effect.ci_high / effect.ci_low)
                <= np.log(effect.raw_ci_high / effect.raw_ci_low) + 1e-9
            )
    assert hits / total >= 0.8
    assert all(narrower)


def test_a_strong_effect_is_significant_and_no_effect_mostly_is_not() -> None:
    strong = estimate_season_effects({"s": make_counts(120, 6.0, seed=1, rate_ratio=0.3)})
    assert strong["s"].p_value < 0.001
    null_p = [
        estimate_season_effects({"s": make_counts(120, 4.0, seed=s)})["s"].p_value
        for s in range(10)
    ]
    assert sum(p < 0.05 for p in null_p) <= 3


def test_long_frame_input_with_groups_and_season_share() -> None:
    y = make_counts(60, 3.0, seed=2, rate_ratio=0.5)
    frame = pd.DataFrame(
        {
            "series_id": "a",
            "month": y.index,
            "y": y.to_numpy(),
            "group": "IS",
            "country": "Burkina Faso",
            "region": "Sahel region",
        }
    )
    effects = estimate_season_effects(frame)
    assert set(effects) == {"a"}
    assert effects["a"].group == "IS"
    assert not effects["a"].pooled  # a group of one has nothing to pool with
    frame["season_share"] = 0.0
    frame.loc[frame["month"].dt.month.isin([7, 8]), "season_share"] = 1.0
    explicit = estimate_season_effects(frame)["a"]
    assert explicit.rate_ratio != effects["a"].rate_ratio


def test_a_series_without_events_borrows_the_group_estimate() -> None:
    data = {f"r{i}": make_counts(72, 3.0, seed=30 + i, rate_ratio=TRUE_RR) for i in range(3)}
    data["quiet"] = pd.Series(0.0, index=month_index(72))
    effects = estimate_season_effects(data, groups=dict.fromkeys(data, "actor"))
    quiet = effects["quiet"]
    assert quiet.pooled
    assert quiet.method == "none+eb_pool"
    assert np.isnan(quiet.p_value)
    assert np.isnan(quiet.raw_rate_ratio)
    assert quiet.ci_low < quiet.rate_ratio < quiet.ci_high


def test_without_pooling_a_series_without_events_has_no_estimate() -> None:
    effects = estimate_season_effects({"quiet": pd.Series(0.0, index=month_index(36))})
    quiet = effects["quiet"]
    assert quiet.method == "none"
    assert np.isnan(quiet.rate_ratio)
    assert quiet.n_events == 0


def test_unknown_months_are_skipped() -> None:
    y = make_counts(84, 4.0, seed=40, rate_ratio=TRUE_RR)
    y.iloc[10:20] = np.nan
    effect = estimate_season_effects({"s": y})["s"]
    assert effect.n_months == 74
    assert 0.1 < effect.rate_ratio < 1.0


def test_to_dict_is_json_serializable() -> None:
    effects = estimate_season_effects(
        {"a": make_counts(48, 2.0, seed=3), "b": pd.Series(0.0, index=month_index(48))}
    )
    for effect in effects.values():
        assert isinstance(effect, SeasonEffect)
        data = json.loads(json.dumps(effect.to_dict()))
        expected = {"rate_ratio", "ci_low", "ci_high", "p_value", "pooled", "n_months", "method"}
        assert expected <= set(data)


def test_missing_columns_are_refused() -> None:
    with pytest.raises(ValueError, match="lacks columns"):
        estimate_season_effects(pd.DataFrame({"series_id": ["a"], "y": [1.0]}))
