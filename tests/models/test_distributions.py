"""Count predictive distributions and the balanced quantile convention."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.base import QUANTILES
from models.distributions import (
    hurdle_quantiles,
    log_gaussian_counts,
    nb_from_moments,
    nb_quantiles,
    poisson_quantiles,
)


def test_poisson_quantiles_balance_the_tails() -> None:
    # Poisson(2): F(0)=.135 so the textbook q0.1 is 0, leaving 0% below; 1 leaves 13.5%,
    # nearer to 10%. F(3)=.857, F(4)=.947: 3 leaves 14.3% above q0.9, 4 leaves 5.3%.
    q = poisson_quantiles(np.array([2.0]))[0]
    assert q.tolist() == [0, 1, 1, 2, 2, 3, 5]
    assert q[3] == stats.poisson.ppf(0.5, 2.0)


def test_balanced_intervals_cover_about_their_level_across_means() -> None:
    means = np.linspace(0.2, 30, 300)
    q = poisson_quantiles(means)
    lo, hi = q[:, QUANTILES.index(0.1)], q[:, QUANTILES.index(0.9)]
    cover = stats.poisson.cdf(hi, means) - stats.poisson.cdf(lo - 1, means)
    assert 0.75 <= cover.mean() <= 0.85


def test_zero_mean_gives_zeros() -> None:
    assert (poisson_quantiles(np.zeros(3)) == 0).all()
    assert (nb_quantiles(np.zeros(3), 0.5) == 0).all()


def test_nb_quantiles_widen_with_dispersion() -> None:
    narrow = nb_quantiles(np.array([5.0]), 0.01)[0]
    wide = nb_quantiles(np.array([5.0]), 1.0)[0]
    assert wide[-1] - wide[0] > narrow[-1] - narrow[0]


def test_moments_below_poisson_variance_fall_back_to_poisson() -> None:
    np.testing.assert_array_equal(
        nb_from_moments(np.array([3.0]), np.array([1.0])), poisson_quantiles(np.array([3.0]))
    )


def test_hurdle_quantiles_put_the_zero_mass_first() -> None:
    q = hurdle_quantiles(0.2, 3.0, 0.2, h=2)
    assert q.shape == (2, len(QUANTILES))
    assert (q[:, :4] == 0).all()  # 80% chance of a quiet month: the median is 0
    assert q[0, -1] >= 1


def test_log_gaussian_counts_transform_quantiles_through_expm1() -> None:
    mean, q = log_gaussian_counts(np.array([np.log1p(4.0)]), np.array([0.0]))
    assert mean[0] == pytest.approx(4.0)
    np.testing.assert_allclose(q[0], 4.0)
