"""The panel engine: pooled season effects, coherent trees, calibrated quantiles, peers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.base import QUANTILE_COLUMNS
from models.legacy.registry import get_model
from models.panel.calibrate import Calibration
from models.panel.engine import PanelConfig, PanelEngine, PanelResult
from models.panel.peers import no_change, seasonal_naive
from models.panel.season import pool, raw_effects
from models.seasons import season_features

MONTHS = pd.date_range("2015-01-01", periods=96, freq="MS")
REGIONS = ("Mopti", "Segou", "Gao", "Tombouctou", "Menaka", "Kidal")
FAST = PanelConfig(n_samples=200, backtest_samples=100, backtest_origins=4)


def _share(region: str) -> np.ndarray:
    return season_features(MONTHS, country="Mali", region=region)["season_share"].to_numpy()


def simulate(
    log_rr: dict[str, float], base: float = 6.0, seed: int = 0, surge: str | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """One actor (two event types per region) plus the geography bottoms, NB counts."""
    rng = np.random.default_rng(seed)
    labels: list[dict[str, object]] = []
    rows: list[np.ndarray] = []
    for region, effect in log_rr.items():
        for etype in ("Battles", "Violence against civilians"):
            mean = base * np.exp(effect * _share(region))
            if surge == region:  # one rainy season surged five-fold
                mean = mean * np.where((MONTHS.year == 2019) & (_share(region) > 0.5), 5.0, 1.0)
            counts = rng.negative_binomial(5, 5 / (5 + mean)).astype(float)
            labels.append({"uid": len(labels), "tree": "actor", "actor": "JNIM",
                           "region": region, "event_type": etype})  # fmt: skip
            rows.append(counts)
    actor_rows = np.array(rows)
    for k, region in enumerate(log_rr):
        for j, etype in enumerate(("Battles", "Violence against civilians")):
            labels.append({"uid": len(labels), "tree": "geography", "actor": None,
                           "region": region, "event_type": etype})  # fmt: skip
            rows.append(actor_rows[2 * k + j])
    return pd.DataFrame(labels), np.array(rows)


def run(labels: pd.DataFrame, y: np.ndarray, config: PanelConfig = FAST) -> PanelResult:
    return PanelEngine(labels, y, MONTHS, country="Mali", name="test", config=config).run()


def test_between_region_variance_is_estimated_not_collapsed() -> None:
    truth = dict(zip(REGIONS, (-1.0, -0.6, 0.0, 0.3, 0.7, -0.2), strict=True))
    labels, y = simulate(truth, base=8.0, seed=3)
    result = run(labels, y)
    tau_middle = result.tau["actor"][1]
    assert tau_middle > 0.15  # the regions really differ by ~0.6 on the log scale
    nodes = result.nodes.join(result.season.set_index("node"))
    regions = nodes[nodes["level"] == "actor_region"].set_index("region")["rate_ratio"]
    assert regions.nunique() == len(REGIONS)  # not one pooled number for all
    # the ordering of the true effects survives pooling
    assert np.corrcoef(np.log(regions[list(truth)]), list(truth.values()))[0, 1] > 0.8


def test_one_surged_rainy_season_is_not_read_as_a_seasonal_rise() -> None:
    truth = dict.fromkeys(REGIONS, float(np.log(0.45)))
    labels, y = simulate(truth, base=6.0, seed=1, surge="Mopti")
    result = run(labels, y)
    nodes = result.nodes.join(result.season.set_index("node"))
    country = nodes[nodes["level"] == "actor_country"].iloc[0]
    assert country["rate_ratio"] < 0.7
    assert country["ci_high"] < 1.0
    mopti = nodes[(nodes["level"] == "actor_region") & (nodes["region"] == "Mopti")].iloc[0]
    assert mopti["rate_ratio"] < 1.0  # pulled back toward the actor's lull
    # and the forecast uses exactly that: a rainy month over a dry one
    fc = result.forecast[result.forecast["node"] == mopti.name].set_index("month")["mean"]
    assert fc[pd.Timestamp("2023-08-01")] / fc[pd.Timestamp("2023-02-01")] == pytest.approx(
        mopti["rate_ratio"], rel=1e-6
    )


def test_sparse_or_one_sided_series_say_insufficient_data_never_a_wild_number() -> None:
    labels, y = simulate(dict.fromkeys(REGIONS[:3], 0.0), base=5.0, seed=2)
    one_sided = np.zeros(len(MONTHS))
    one_sided[(_share("Kidal") == 0) & (np.arange(len(MONTHS)) % 7 == 0)] = 1.0  # dry only
    labels = pd.concat([labels, pd.DataFrame([{"uid": 99, "tree": "actor", "actor": "Koglweogo",
                                               "region": "Kidal", "event_type": "Battles"}])],
                       ignore_index=True)  # fmt: skip
    y = np.vstack([y, one_sided])
    result = run(labels, y)
    season = result.nodes.join(result.season.set_index("node"))
    kog = season[season["actor"] == "Koglweogo"]
    assert kog["raw_rate_ratio"].isna().all()  # its own data cannot support a number
    assert set(kog["status"]) <= {"pooled", "insufficient_data"}
    shown = season[season["rate_ratio"].notna()]
    assert shown["ci_low"].notna().all()
    assert shown["ci_high"].notna().all()
    assert (shown["rate_ratio"].between(0.05, 20)).all()
    assert (shown["ci_low"] <= shown["rate_ratio"]).all()
    assert (shown["rate_ratio"] <= shown["ci_high"]).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_levels_add_up_and_every_quantile_set_holds_its_mean(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = {r: float(rng.normal(0, 0.5)) for r in REGIONS[: 2 + seed]}
    labels, y = simulate(truth, base=float(rng.uniform(0.3, 12)), seed=seed)
    result = run(labels, y)
    fc = result.forecast
    q = fc[list(QUANTILE_COLUMNS)].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()
    assert (q[:, 0] <= fc["mean"].to_numpy()).all()
    assert (fc["mean"].to_numpy() <= q[:, -1]).all()
    means = fc.pivot_table(index="node", columns="horizon", values="mean").to_numpy()
    engine = PanelEngine(labels, y, MONTHS, country="Mali", name="test", config=FAST)
    bottoms = means[engine.trees.nodes["bottom"].to_numpy() >= 0]
    np.testing.assert_allclose(engine.trees.summing @ bottoms, means, rtol=1e-6)


def test_same_data_same_forecast() -> None:
    labels, y = simulate(dict.fromkeys(REGIONS[:2], -0.3), seed=5)
    first, second = run(labels, y), run(labels, y)
    pd.testing.assert_frame_equal(first.forecast, second.forecast)
    pd.testing.assert_frame_equal(first.season, second.season)


def test_raw_effect_recovers_a_known_ratio() -> None:
    rng = np.random.default_rng(0)
    share = np.tile(_share("Mopti"), (200, 1))
    y = rng.poisson(4.0 * np.exp(np.log(0.5) * share))
    raw = raw_effects(y.astype(float), share, MONTHS.year.to_numpy())
    estimate = np.exp(raw.log_rr)
    inside = (np.exp(raw.log_rr - 1.96 * raw.se) <= 0.5) & (
        0.5 <= np.exp(raw.log_rr + 1.96 * raw.se)
    )
    assert np.median(estimate) == pytest.approx(0.5, rel=0.1)
    assert 0.88 <= inside.mean() <= 0.99  # the raw interval covers the truth as it should
    # pooled with no real between-series spread: shrunk together, intervals still honest
    post = pool(raw, np.zeros(200, dtype=int), np.zeros(1, dtype=int))
    assert post.tau[2] < 0.2
    covered = (post.series_mean - 1.96 * post.series_sd <= np.log(0.5)) & (
        np.log(0.5) <= post.series_mean + 1.96 * post.series_sd
    )
    assert covered.mean() >= 0.9


def test_calibration_widens_overconfident_forecasts_and_leaves_calibrated_ones() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    horizon = rng.integers(1, 13, n)
    mean = np.full(n, 20.0)
    levels = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
    uniform = rng.uniform(size=n)
    calibrated = Calibration.fit(uniform, uniform, horizon, mean, levels)
    np.testing.assert_allclose(calibrated.table[:, 3], np.tile(levels, (3, 1)), atol=0.03)
    # outcomes fall in the tails far more often than the forecast says: widen
    spread = np.clip(0.5 + (uniform - 0.5) * 1.8, 0, 1)
    wide = Calibration.fit(spread, spread, horizon, mean, levels)
    assert (wide.table[:, 3, 0] < 0.02).all()
    assert (wide.table[:, 3, -1] > 0.98).all()


def test_vectorized_peers_equal_the_per_series_baselines() -> None:
    rng = np.random.default_rng(4)
    y = rng.poisson(rng.uniform(0.2, 15, (12, 1)), (12, 60)).astype(float)
    sn_mean, sn_q = seasonal_naive(y, 12)
    nc_mean, nc_q = no_change(y, 12)
    index = pd.date_range("2017-01-01", periods=60, freq="MS")
    for i in range(len(y)):
        series = pd.Series(y[i], index=index)
        own = get_model("seasonal_naive").fit(series).predict(12)
        np.testing.assert_allclose(sn_mean[i], own["mean"].to_numpy())
        np.testing.assert_allclose(sn_q[i], own[list(QUANTILE_COLUMNS)].to_numpy())
        last = get_model("poisson_last").fit(series).predict(12)
        np.testing.assert_allclose(nc_mean[i], last["mean"].to_numpy())
        np.testing.assert_allclose(nc_q[i], last[list(QUANTILE_COLUMNS)].to_numpy())


def test_the_optional_damped_trend_follows_growth_and_flattens() -> None:
    rng = np.random.default_rng(7)
    growth = np.exp(np.linspace(0, 1.5, len(MONTHS)))
    y = rng.poisson(np.outer(np.full(2, 12.0), growth)).astype(float)
    labels = pd.DataFrame([
        {"uid": 0, "tree": "actor", "actor": "JNIM", "region": "Mopti", "event_type": "Battles"},
        {"uid": 1, "tree": "geography", "actor": None, "region": "Mopti", "event_type": "Battles"},
    ])  # fmt: skip
    flat = run(labels, y)
    trended = run(labels, y, PanelConfig(n_samples=200, backtest_samples=100,
                                         backtest_origins=4, trend=True))  # fmt: skip
    pick = (flat.forecast["node"] == 0) & flat.forecast["horizon"].isin([1, 12])
    flat_means = flat.forecast[pick]["mean"].to_numpy()
    trend_means = trended.forecast[pick]["mean"].to_numpy()
    dry = ~flat.forecast[pick]["in_season"].to_numpy()
    assert dry.all()  # January and December: no season term in the comparison
    assert trend_means[1] > trend_means[0]  # still rising a year ahead
    assert trend_means[1] / trend_means[0] < growth[-1] / growth[-13]  # but damped
    assert flat_means[1] == pytest.approx(flat_means[0], rel=1e-9)
