"""The compiled sampler's own draws: normal small moves and negative-binomial counts."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit
from scipy import stats

from models.panel import _sample


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
        out[i] = _sample._negbin(mu, k, np.random.random())
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
    [(0.05, 7.7), (0.8, 7.7), (4.0, 1.0), (12.0, 7.7), (29.0, 2.0), (45.0, 7.7), (300.0, 1.0)],
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


def test_a_zero_mean_gives_zero_counts() -> None:
    assert (_counts(1000, 3, 0.0, 5.0) == 0).all()
