"""The compiled pool-adjacent-violators fit against SciPy's, run by run."""

from __future__ import annotations

import numpy as np
from scipy.optimize import isotonic_regression

from models.panel._isotonic import isotonic_runs


def test_each_run_gets_the_least_squares_non_decreasing_fit() -> None:
    rng = np.random.default_rng(3)
    x = rng.integers(0, 30, size=(400, 12)).astype(float)
    starts = rng.random((400, 12)) < 0.2
    fit = isotonic_runs(x, starts)
    for i in range(len(x)):
        edges = [0, *np.flatnonzero(starts[i, 1:]) + 1, 12]
        for a, b in zip(edges[:-1], edges[1:], strict=True):
            expected = isotonic_regression(x[i, a:b]).x
            np.testing.assert_allclose(fit[i, a:b], expected, atol=1e-12)
    # runs are independent: a fall at the start of a run is kept
    assert (np.diff(fit, axis=1)[~starts[:, 1:]] >= -1e-12).all()
    assert (np.diff(fit, axis=1)[starts[:, 1:]] < 0).any()


def test_a_row_already_in_order_is_left_as_it_is() -> None:
    x = np.array([[1.0, 1.0, 2.0, 5.0, 5.0, 9.0], [3.0, 2.0, 1.0, 4.0, 4.0, 0.0]])
    starts = np.array([[False] * 6, [False, True, True, False, False, True]])
    np.testing.assert_array_equal(isotonic_runs(x, starts), x)
