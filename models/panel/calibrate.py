"""Horizon-wise quantile recalibration from rolling-origin PIT values.

For every backtest forecast the engine records where the outcome fell in that node's
predictive sample distribution: u- = P(Y < y) and u+ = P(Y <= y). Quantile recalibration
(Kuleshov et al. 2018) replaces each nominal level tau by an adjusted level taken from those
values, and the forecast's quantile is the predictive sample's quantile at the adjusted level.
Counts are discrete, so the two tails are treated apart, exactly as intervals are scored
(an outcome is covered when q_lo <= y <= q_hi): with the inverse-CDF sample quantile,
y >= q(a) exactly when u+ >= a, and y <= q(b) exactly when u- < b. So a lower level takes
the tau-quantile of u+, an upper level the tau-quantile of u-, and the median their midpoint.
Cells are horizon bands x volume bands (the forecast mean), pooled over series, and shrunk
toward the nominal levels when a cell holds few values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

HORIZON_BANDS = ((1, 3), (4, 6), (7, 12))
VOLUME_EDGES = (0.5, 2.0, 8.0, 30.0)  # forecast-mean bands: <0.5, 0.5-2, 2-8, 8-30, >=30
SHRINK_N = 30.0  # pseudo-count of the identity map in each cell
SPARSE_BANDS = 2  # volume bands below a forecast mean of 2 are only ever widened


def horizon_band(h: np.ndarray) -> np.ndarray:
    """Band index (0, 1, 2) of each horizon 1..12."""
    return np.searchsorted([3, 6], h, side="left")


def volume_band(mean: np.ndarray) -> np.ndarray:
    return np.searchsorted(VOLUME_EDGES, mean, side="right")


def pit_pair(samples: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P(Y < y), P(Y <= y)) of outcomes `y` (...,) under samples (..., S)."""
    below = (samples < y[..., None]).mean(axis=-1, dtype=np.float64)
    return below, below + (samples == y[..., None]).mean(axis=-1, dtype=np.float64)


def sample_quantiles(sorted_samples: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Inverse-CDF quantiles min{k: F_S(k) >= level} of sorted samples (..., S).

    `levels` has shape (..., L) matching the leading axes; returns (..., L).
    """
    s = sorted_samples.shape[-1]
    idx = np.clip(np.ceil(levels * s).astype(int) - 1, 0, s - 1)
    return np.take_along_axis(sorted_samples, idx, axis=-1)


@dataclass
class Calibration:
    """Adjusted levels per (horizon band, volume band) for each nominal level."""

    levels: tuple[float, ...]
    table: np.ndarray  # (n_horizon_bands, n_volume_bands, n_levels)
    counts: np.ndarray  # (n_horizon_bands, n_volume_bands)
    coverage_before: dict[str, dict[str, float]] = field(default_factory=dict)

    @classmethod
    def identity(cls, levels: tuple[float, ...]) -> Calibration:
        nh, nv = len(HORIZON_BANDS), len(VOLUME_EDGES) + 1
        table = np.broadcast_to(np.asarray(levels), (nh, nv, len(levels))).copy()
        return cls(levels, table, np.zeros((nh, nv)))

    @classmethod
    def fit(
        cls,
        u_minus: np.ndarray,
        u_plus: np.ndarray,
        horizon: np.ndarray,
        mean: np.ndarray,
        levels: tuple[float, ...],
    ) -> Calibration:
        """Fit the map from backtest outcomes' (u-, u+) with their horizons and means."""
        cal = cls.identity(levels)
        hb, vb = horizon_band(horizon), volume_band(mean)
        lv = np.asarray(levels)

        def adjusted(mask: np.ndarray, sparse: bool) -> np.ndarray:
            lower = np.quantile(u_plus[mask], lv)
            upper = np.quantile(u_minus[mask], lv)
            if sparse:
                # Only ever widen: the interval of a sparse series ([0, 0] holds every quiet
                # month) covers more than nominal, and narrowing it toward nominal would
                # drop zero from it, which costs far more accuracy than it gains.
                lower, upper = np.minimum(lower, lv), np.maximum(upper, lv)
            # The median keeps its level: shifting it did not help on the tuning origins.
            return np.where(lv < 0.5, lower, np.where(lv > 0.5, upper, lv))

        for i in range(cal.table.shape[0]):
            in_h = hb == i
            # A sparse cell is shrunk toward the nominal levels, not toward the other volume
            # bands: how outcomes fall on a count distribution depends on its volume.
            pooled = lv
            for j in range(cal.table.shape[1]):
                cell = in_h & (vb == j)
                n = int(cell.sum())
                cal.counts[i, j] = n
                if n == 0:
                    cal.table[i, j] = pooled
                    continue
                w = n / (n + SHRINK_N)
                cal.table[i, j] = w * adjusted(cell, j < SPARSE_BANDS) + (1 - w) * pooled
        cal.table = np.clip(np.maximum.accumulate(cal.table, axis=-1), 0.0005, 0.9995)
        for i, (lo, hi) in enumerate(HORIZON_BANDS):
            m = hb == i
            if m.any():
                cal.coverage_before[f"{lo}-{hi}"] = {
                    "80": float(((u_plus[m] >= 0.1) & (u_minus[m] < 0.9)).mean()),
                    "95": float(((u_plus[m] >= 0.025) & (u_minus[m] < 0.975)).mean()),
                    "n": float(m.sum()),
                }
        return cal

    def adjusted(self, horizon: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """Adjusted levels for each forecast point, shape (..., n_levels)."""
        return self.table[horizon_band(horizon), volume_band(mean)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": "quantile recalibration of randomized PIT (Kuleshov et al. 2018)",
            "levels": list(self.levels),
            "horizon_bands": [f"{lo}-{hi}" for lo, hi in HORIZON_BANDS],
            "volume_edges": list(VOLUME_EDGES),
            "table": np.round(self.table, 4).tolist(),
            "counts": self.counts.astype(int).tolist(),
            "coverage_before": self.coverage_before,
        }
