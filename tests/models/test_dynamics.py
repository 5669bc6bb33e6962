"""The level filter: compiled operators, exact likelihood, bursts and shifts, learned rates."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from models.panel import _filter
from models.panel._sample import stream_seeds
from models.panel.dynamics import (
    GRID_SIZE,
    GRID_STEP,
    OUTLIER_INV_K,
    OUTLIER_MULT,
    Dynamics,
    _operator_args,
    anchor_cells,
    fit_dynamics,
    grid_base,
    kernels,
    param_table,
    run_filter,
    sample_paths,
)

DYN = Dynamics(step_sd=0.08, p_shift=0.04, shift_mean=0.8, p_outlier=0.04, inv_k=0.05, revert=0.0)


def test_transition_rows_are_probabilities_and_transposes_agree() -> None:
    k = kernels(DYN)
    np.testing.assert_allclose(k.sum(axis=2), 1.0, atol=1e-12)
    assert (k >= 0).all()
    # shifts go the way they say: up never lowers the level, down never raises it
    assert np.allclose(np.tril(k[1], -1), 0.0)
    assert np.allclose(np.triu(k[2], 1), 0.0)
    ws, band, r, uc = _operator_args(DYN)
    rng = np.random.default_rng(0)
    b = rng.random(GRID_SIZE)
    out, tmp, _rev = np.empty(GRID_SIZE), np.empty(GRID_SIZE), np.empty(GRID_SIZE)
    _filter._small_t(b, ws, band, out)
    np.testing.assert_allclose(out, k[0] @ b, atol=1e-12)
    _filter._up_t(b, r, uc, 0.25, tmp, out)
    ref = np.zeros((GRID_SIZE, GRID_SIZE))
    for j in range(GRID_SIZE):
        unit = np.zeros(GRID_SIZE)
        unit[j] = 1.0
        _filter._up(unit, r, uc, 0.25, tmp, ref[j])
    np.testing.assert_allclose(out, ref @ b, atol=1e-12)


def _reference_loglik(y: np.ndarray, base: float, dyn: Dynamics) -> float:
    """The forward algorithm written plainly with dense matrices (no scaling tricks)."""
    x = base + GRID_STEP * np.arange(GRID_SIZE)
    k = kernels(dyn)
    trans = (1 - dyn.p_shift) * k[0] + dyn.p_shift / 2 * (k[1] + k[2])
    season = np.zeros((1, len(y)))
    start = float(np.log(max(np.mean(y[:12]), np.exp(base) * 1.5)))
    p = stats.norm.pdf(x - start)
    p /= p.sum()
    anchor = anchor_cells(y[None, :], season, np.array([base]))[0]
    total = 0.0
    for t, count in enumerate(y):
        # reversion toward the anchor cell, then the moves
        moved = np.zeros(GRID_SIZE)
        for j in range(GRID_SIZE):
            u = np.clip(j + dyn.revert * (anchor[t] - j), 0, GRID_SIZE - 1)
            lo = int(np.floor(u))
            moved[lo] += p[j] * (1 - (u - lo))
            moved[min(lo + 1, GRID_SIZE - 1)] += p[j] * (u - lo)
        pred = moved @ trans
        mu = np.exp(x)
        k_o = 1 / dyn.inv_k
        lik = (1 - dyn.p_outlier) * stats.nbinom.pmf(count, k_o, k_o / (k_o + mu))
        k_b = 1 / OUTLIER_INV_K
        lik += dyn.p_outlier * stats.nbinom.pmf(count, k_b, k_b / (k_b + OUTLIER_MULT * mu))
        z = float(pred @ lik)
        total += np.log(z)
        p = pred * lik / z
    return total


@pytest.mark.parametrize("revert", [0.0, 0.1])
def test_compiled_filter_gives_the_exact_likelihood(revert: float) -> None:
    rng = np.random.default_rng(3)
    y = np.asarray(rng.poisson(np.r_[np.full(20, 4.0), np.full(16, 12.0)]), dtype=float)
    dyn = Dynamics(**{**DYN.to_dict(), "revert": revert})
    base = grid_base(y[None, :])
    got = run_filter(y[None, :], np.zeros((1, len(y))), base, dyn).loglik[0]
    assert got == pytest.approx(_reference_loglik(y, float(base[0]), dyn), rel=1e-7)


def test_a_burst_is_an_outlier_and_a_step_is_a_shift() -> None:
    rng = np.random.default_rng(1)
    calm = rng.poisson(10.0, 60).astype(float)
    burst = calm.copy()
    burst[-2] = 45.0  # one month at four times the level, then back
    step = calm.copy()
    step[-3:] = rng.poisson(30.0, 3)  # three months at a new level
    y = np.vstack([burst, step])
    r = run_filter(y, np.zeros_like(y), grid_base(y), DYN, keep=(60,), window=6)
    assert r.p_outlier[0, -2] > 0.9
    assert r.p_up[0, -2] < 0.05
    assert r.p_up[1, -3:].sum() > 0.8  # the step began in one of its months
    assert r.p_outlier[1, -3:].max() < 0.1
    # after the burst the level is where it was; after the step it is at the new level
    assert r.level[0, -1] == pytest.approx(calm[:-3].mean(), rel=0.2)
    assert r.level[1, -1] == pytest.approx(step[-3:].mean(), rel=0.2)


def test_rates_of_shifts_and_outliers_are_learned_from_the_panel() -> None:
    rng = np.random.default_rng(5)
    n, t = 300, 96
    log_level = np.log(rng.uniform(3, 20, n))[:, None] + np.zeros((n, t))
    shifts = rng.random((n, t)) < 0.03
    log_level += np.cumsum(shifts * rng.choice([-0.9, 0.9], (n, t)), axis=1)
    mean = np.exp(log_level)
    outliers = rng.random((n, t)) < 0.05
    mean = np.where(outliers, mean * 4, mean)
    y = rng.negative_binomial(5, 5 / (5 + mean)).astype(float)
    dyn, info = fit_dynamics(y, np.zeros_like(y), seed=0, max_evals=120)
    assert info["series"] == 150
    assert 0.01 < dyn.p_shift < 0.09
    assert 0.02 < dyn.p_outlier < 0.12
    assert 0.1 < dyn.inv_k < 0.4


def test_sampled_levels_start_from_the_filter_and_stay_on_the_grid() -> None:
    dist = np.zeros((2, GRID_SIZE))
    dist[0, 40], dist[1, 10] = 1.0, 1.0
    base = np.array([0.0, -2.0])
    anchor = base + GRID_STEP * np.array([40, 10])
    target = np.exp(anchor)[:, None] * np.ones((2, 12))
    seeds = stream_seeds(0, 1, 0, np.arange(2))
    counts, paths = sample_paths(
        dist, base, anchor, param_table(DYN, 2), seeds, target, samples=4000, keep_levels=True
    )
    assert paths is not None
    assert paths.shape == counts.shape == (2, 12, 4000)
    assert np.median(paths[0, 0]) == pytest.approx(40 * GRID_STEP, abs=GRID_STEP)
    assert (paths >= base[:, None, None]).all()
    assert (paths <= base[:, None, None] + GRID_STEP * (GRID_SIZE - 1)).all()
    spread = paths[0].std(axis=1)
    assert spread[-1] > spread[0]  # uncertainty grows with the horizon
    # the counts' mean at every horizon is the target times the bursts' share (without
    # shifts, whose rare large jumps make a sample mean of 4,000 paths noisy)
    calm = Dynamics(step_sd=0.08, p_shift=0.0, p_outlier=0.04, inv_k=0.05, revert=0.0)
    counts, _ = sample_paths(dist, base, anchor, param_table(calm, 2), seeds, target, samples=4000)
    burst = 1.0 - calm.p_outlier + calm.p_outlier * OUTLIER_MULT
    assert counts.mean(axis=-1) == pytest.approx(target * burst, rel=0.08)
    assert counts.mean(axis=-1) != pytest.approx(target, rel=0.02)


def test_a_series_paths_do_not_depend_on_what_else_is_sampled() -> None:
    rng = np.random.default_rng(8)
    n = 40
    dist = rng.dirichlet(np.ones(GRID_SIZE), n)
    base = rng.uniform(-3, 0, n)
    anchor = base + GRID_STEP * 30
    target = rng.uniform(0.5, 20, (n, 6))
    params = param_table(DYN, n)
    seeds = stream_seeds(3, 2, 100, np.arange(n))
    whole, _ = sample_paths(dist, base, anchor, params, seeds, target, samples=300)
    part = np.arange(10, 25)
    alone, _ = sample_paths(
        dist[part], base[part], anchor[part], params[part], seeds[part], target[part], samples=300
    )
    np.testing.assert_array_equal(alone, whole[part])
    again, _ = sample_paths(dist, base, anchor, params, seeds, target, samples=300)
    np.testing.assert_array_equal(again, whole)
    other, _ = sample_paths(
        dist, base, anchor, params, stream_seeds(3, 2, 101, np.arange(n)), target, samples=300
    )
    assert (other != whole).mean() > 0.5  # another origin draws other numbers


def test_the_size_of_an_outlier_month_is_learned_from_the_panel() -> None:
    """A panel whose outlier months jump to eight times the level learns an outlier size far
    above the default three, and about how often they come."""
    rng = np.random.default_rng(21)
    n, t = 300, 96
    level = rng.uniform(4, 20, n)[:, None] * np.ones((n, t))
    outliers = rng.random((n, t)) < 0.06
    mean = np.where(outliers, level * 8.0, level)
    y = rng.negative_binomial(10, 10 / (10 + mean)).astype(float)
    dyn, _ = fit_dynamics(y, np.zeros_like(y), seed=0, max_evals=150)
    assert dyn.outlier_mult > 4.0
    assert Dynamics().outlier_mult == 3.0
    assert 0.03 < dyn.p_outlier < 0.15
