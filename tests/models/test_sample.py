"""The compiled sampler's own draws (normal small moves, negative-binomial counts), its node
sums, and the calibration's path budget."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numba import njit
from scipy import sparse, stats

from models.base import MAX_HORIZON
from models.panel import _sample
from models.panel.engine import (
    MIN_BACKTEST_SAMPLES,
    PanelConfig,
    PanelEngine,
    PanelResult,
    trend_carry,
)


@njit
def _normals(n: int, seed: int, table: np.ndarray) -> np.ndarray:
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = _sample._normal(table, np.random.random())
    return out


@njit
def _counts(n: int, seed: int, mu: float, k: float) -> np.ndarray:
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = _sample._negbin(mu, k, np.random.random(), _sample.NORMAL_TABLE)
    return out


def test_small_moves_are_standard_normal_into_the_tails() -> None:
    z = _normals(400_000, 1, _sample.NORMAL_TABLE)
    assert stats.kstest(z, "norm").pvalue > 0.01
    assert z.mean() == pytest.approx(0.0, abs=0.01)
    assert z.std() == pytest.approx(1.0, abs=0.01)
    # the tails beyond the table's last bins are drawn too, at their normal frequency
    edge = _sample.NORMAL_TABLE[_sample.NORMAL_BINS - 1]
    beyond = np.abs(z) > edge
    assert beyond.mean() == pytest.approx(2 / _sample.NORMAL_BINS, rel=0.2)
    assert (np.abs(z) > edge + 0.5).any()


@pytest.mark.parametrize(
    ("mu", "k"),
    [
        (0.05, 7.7),
        (0.8, 7.7),
        (4.0, 1.0),
        (9.5, 7.7),
        (12.0, 7.7),
        (29.0, 2.0),
        (45.0, 0.5),
        (300.0, 1.0),
    ],
)
def test_counts_are_negative_binomial_by_inversion_and_by_mixture(mu: float, k: float) -> None:
    n = 200_000
    y = _counts(n, 2, mu, k)
    assert (y == np.round(y)).all()
    assert (y >= 0).all()
    dist = stats.nbinom(k, k / (k + mu))
    assert y.mean() == pytest.approx(mu, rel=0.03, abs=0.003)
    assert y.var() == pytest.approx(mu + mu**2 / k, rel=0.06, abs=0.005)
    # the whole distribution: the frequencies of the likeliest counts
    top = int(np.ceil(dist.ppf(0.99)))
    support = np.arange(0, top + 1)
    observed = np.bincount(y.astype(np.int64), minlength=top + 1)[: top + 1] / n
    expected = dist.pmf(support)
    assert np.abs(observed - expected).max() < 0.005


@njit
def _gammas(n: int, seed: int, k: float) -> np.ndarray:
    np.random.seed(seed)
    out = np.empty(n)
    for i in range(n):
        out[i] = _sample._gamma(k, _sample.NORMAL_TABLE)
    return out


@pytest.mark.parametrize("k", [0.4, 1.0, 7.7, 60.0])
def test_gamma_mixing_draws_follow_the_gamma_law(k: float) -> None:
    g = _gammas(200_000, 4, k)
    assert stats.kstest(g, stats.gamma(k).cdf).pvalue > 0.01
    assert g.mean() == pytest.approx(k, rel=0.01)


def test_a_zero_mean_gives_zero_counts() -> None:
    assert (_counts(1000, 3, 0.0, 5.0) == 0).all()


def test_node_sums_equal_the_summing_matrix_product() -> None:
    rng = np.random.default_rng(9)
    summing = sparse.random(30, 50, density=0.1, random_state=3, format="csr")
    summing.data[:] = rng.integers(1, 3, summing.nnz)
    bottoms = rng.poisson(3.0, (50, 240)).astype(np.float32)
    out = np.full((30, 240), -1.0, np.float32)
    _sample.node_sums(summing.indptr, summing.indices, summing.data, bottoms, out)
    np.testing.assert_array_equal(out, (summing @ bottoms.astype(np.float64)).astype(np.float32))


def test_a_large_panel_calibrates_on_fewer_paths_within_its_budget() -> None:
    rng = np.random.default_rng(2)
    n, t = 40, 60
    labels = pd.DataFrame(
        {
            "uid": np.arange(n),
            "tree": "actor",
            "actor": [f"a{i % 5}" for i in range(n)],
            "region": [f"r{i % 8}" for i in range(n)],
            "event_type": "Battles",
            "level": "actor_region_type",
        }
    )
    y = rng.poisson(2.0, (n, t)).astype(float)
    months = pd.date_range("2015-01-01", periods=t, freq="MS")
    roomy = PanelEngine(labels, y, months, country="Mali")
    assert roomy.backtest_samples() == roomy.config.backtest_samples
    tight = PanelConfig(backtest_origins=3, backtest_budget=1_000)
    engine = PanelEngine(labels, y, months, country="Mali", config=tight)
    assert engine.backtest_samples() == MIN_BACKTEST_SAMPLES
    result = engine.run()
    assert result.calibration["backtest_samples"] == MIN_BACKTEST_SAMPLES


def one_actor(n: int) -> pd.DataFrame:
    """Bottom labels of one actor (JNIM) in n regions of one country: a single tree."""
    return pd.DataFrame(
        {
            "uid": np.arange(n),
            "tree": "actor",
            "actor": "JNIM",
            "region": [f"r{i}" for i in range(n)],
            "event_type": "Battles",
            "level": "actor_region_type",
        }
    )


def test_a_tree_total_that_wakes_up_pulls_its_sparse_bottoms_with_it() -> None:
    """Twenty dormant series of one actor wake up together: each alone says little, their
    total says at once that the actor is five times as active; the forecast follows it part
    of the way (`top_down`), by one factor for the whole tree."""
    rng = np.random.default_rng(6)
    n, t = 20, 72
    labels = one_actor(n)
    rate = np.where(np.arange(t) < t - 5, 0.2, 1.0)
    y = rng.poisson(rate, (n, t)).astype(float)
    months = pd.date_range("2015-01-01", periods=t, freq="MS")

    def total(top_down: float) -> tuple[float, PanelEngine]:
        engine = PanelEngine(
            labels,
            y,
            months,
            country="Mali",
            config=PanelConfig(
                top_down=top_down, backtest_origins=2, n_samples=200, backtest_samples=100
            ),
        )
        result = engine.run()
        nodes = result.nodes
        top = int(np.flatnonzero(nodes["level"] == "actor_country")[0])
        fc = result.forecast
        return float(fc.loc[(fc["node"] == top) & (fc["horizon"] == 1), "mean"].iloc[0]), engine

    bottom_up, _ = total(0.0)
    pulled, engine = total(0.5)
    recent = y[:, -5:].sum(axis=0).mean()  # about 20 a month
    assert bottom_up + 0.5 < pulled < recent
    filt, base = engine._filter(
        y, np.zeros_like(y), engine.level_of, engine._dynamics(np.zeros_like(y)), (t,), True
    )
    factor = engine._tree_paths(
        filt, base, np.zeros_like(y), engine._dynamics(np.zeros_like(y)), (t,)
    )
    assert factor[t].shape == (n, MAX_HORIZON)
    assert np.unique(factor[t]).size == 1  # one factor for the tree: its season effects hold
    assert factor[t][0, 0] > 1.0


def test_a_trend_is_carried_damped_by_one_path_per_tree_and_reported() -> None:
    """A tree whose total has grown steadily: with `trend` on, every bottom of it carries
    the total's recent growth, damped, by one path (so sums and season effects hold); the
    summary reports the growth carried, and the forecast's means follow exactly that path."""
    rng = np.random.default_rng(8)
    n, t = 6, 72
    labels = one_actor(n)
    rate = 2.0 * np.exp(0.04 * np.arange(t))  # +4 % a month, to about 35 a month
    y = rng.poisson(rate, (n, t)).astype(float)
    months = pd.date_range("2015-01-01", periods=t, freq="MS")

    def run(trend: float) -> PanelResult:
        config = PanelConfig(trend=trend, top_down=0.0, backtest_origins=2, n_samples=200,
                             backtest_samples=100)  # fmt: skip
        return PanelEngine(labels, y, months, country="Mali", config=config).run()

    flat, carried = run(0.0), run(1.0)
    top = int(np.flatnonzero(carried.nodes["level"] == "actor_country")[0])
    growth = carried.summary.set_index("node")["trend_per_month"]
    assert (flat.summary["trend_per_month"] == 0).all()
    assert 0.02 < growth[top] < 0.07  # about the 4 % a month the counts grew by
    assert np.allclose(growth, growth[top])  # one path for the whole tree
    carry = trend_carry(float(carried.summary["trend_damping"].iloc[0]))
    # the same data, filter and season in both runs: the means differ by the trend alone
    for node in range(len(carried.nodes)):
        a = flat.forecast[flat.forecast["node"] == node].sort_values("horizon")["mean"]
        b = carried.forecast[carried.forecast["node"] == node].sort_values("horizon")["mean"]
        assert np.allclose(b.to_numpy() / a.to_numpy(), np.exp(growth[node] * carry), rtol=1e-6)
    assert carried.forecast["mean"].sum() > flat.forecast["mean"].sum()
