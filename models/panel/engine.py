"""The panel engine: fit every series of a panel at once, forecast both trees coherently.

One call per panel (one source, one country):

1. the rainy-season effect of every bottom series, pooled through its tree
   (`models.panel.season`);
2. a moving level per bottom series given that effect (`models.panel.level`);
3. predictive sample paths at the bottom (a log-level random walk, negative-binomial counts)
   summed up both trees, so every level's mean adds up and every quantile comes from one
   joint distribution;
4. the same fit at rolling origins in the past, whose outcomes calibrate the quantiles by
   horizon band and volume (`models.panel.calibrate`).

The season term the forecast multiplies in is the published rate ratio: for a bottom series
exp(posterior mean); for a roll-up, the level-weighted mean of its bottoms' ratios, which is
exactly the ratio of its forecast in a rainy month to a dry one.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from models.base import MAX_HORIZON, QUANTILE_COLUMNS, QUANTILES
from models.panel.calibrate import Calibration, pit_pair, sample_quantiles
from models.panel.level import LEVEL_FLOOR, Levels, fit_levels
from models.panel.peers import PEERS, peer_forecasts
from models.panel.season import Z95, PooledEffects, RawEffects, pool, raw_effects
from models.panel.tree import ACTOR, GEOGRAPHY, Trees, build_trees
from models.seasons import RainyCalendar, default_calendar

ENGINE = "panel_nb"
# A pooled season effect whose posterior sd (log scale) exceeds this says too little to be
# shown as a number; the forecast then assumes no rainy-season effect for that series.
MAX_SHOWN_SD = 1.0
LABEL_COLUMNS = ("uid", "tree", "actor", "region", "event_type", "level")


@dataclass(frozen=True)
class PanelConfig:
    """How the engine fits and calibrates; the defaults are what `sahelcast train` uses.

    Attributes:
        horizon: months to forecast (1..12).
        n_samples: predictive sample paths per series for the published forecast.
        backtest_samples: sample paths at each calibration origin (only outcomes' ranks
            among them are needed there).
        backtest_step: months between calibration origins.
        backtest_origins: how many calibration origins (most recent first).
        min_train: fewest months a calibration origin needs.
        trend: add a damped trend to the level.
        seed: base seed; each panel's is derived from it and the panel's name.
    """

    horizon: int = MAX_HORIZON
    n_samples: int = 500
    backtest_samples: int = 100
    backtest_step: int = 3
    backtest_origins: int = 8
    min_train: int = 24
    trend: bool = False
    seed: int = 0


@dataclass
class PanelResult:
    """Everything a panel fit produces, keyed by node (row of `nodes`)."""

    nodes: pd.DataFrame  # LABEL columns + level + bottom
    season: pd.DataFrame  # one row per node
    forecast: pd.DataFrame  # node, month, horizon, mean, quantiles, in_season
    backtest: pd.DataFrame  # node, month, origin, horizon, observed, mean, quantiles, in_season
    scores: pd.DataFrame  # node, model (engine or peer), crps, coverage_80, coverage_95, n
    summary: pd.DataFrame  # node, alpha, inv_k, step_sd, level
    calibration: dict[str, Any] = field(default_factory=dict)
    tau: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class _State:
    """The fit at one origin."""

    theta: np.ndarray  # season log rate ratio used per bottom
    levels: Levels
    pooled: dict[str, PooledEffects]
    raw: RawEffects
    shown: np.ndarray  # bool per bottom: the effect is shown (else insufficient)


def panel_seed(name: str, seed: int = 0) -> int:
    """A stable seed from the panel's name, whatever process fits it."""
    return (int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") + seed) % 2**32


class PanelEngine:
    """Fit one panel. Build with the bottom series; call `run()`."""

    def __init__(
        self,
        labels: pd.DataFrame,
        y: np.ndarray,
        months: pd.DatetimeIndex,
        *,
        country: str,
        name: str = "",
        config: PanelConfig | None = None,
        calendar: RainyCalendar | None = None,
    ) -> None:
        """Args:
        labels: one row per bottom series, LABEL_COLUMNS (tree is "geography" or "actor").
        y: counts (n_bottoms, n_months) in the row order of `labels`; NaN = unknown month.
        months: contiguous month starts of y's columns.
        country: the panel's country (rainy-season calendar).
        name: the panel's name (seeds).
        """
        self.config = config or PanelConfig()
        if not 1 <= self.config.horizon <= MAX_HORIZON:
            raise ValueError(f"horizon must be 1..{MAX_HORIZON}")
        self.labels = labels.reset_index(drop=True)
        self.y = np.asarray(y, dtype=float)
        if self.y.shape != (len(self.labels), len(months)):
            raise ValueError(f"y has shape {self.y.shape}, expected ({len(labels)}, {len(months)})")
        self.months = pd.DatetimeIndex(months)
        self.country = country
        self.seed = panel_seed(name or country, self.config.seed)
        self.trees: Trees = build_trees(self.labels)
        cal = calendar or default_calendar()
        every = self.months.append(
            pd.date_range(self.months[-1] + pd.offsets.MonthBegin(1), periods=MAX_HORIZON,
                          freq="MS"))  # fmt: skip
        self.all_months = every
        by_region = {r: cal.season_share(every, country, r) for r in self.labels["region"].unique()}
        self.share = np.vstack([by_region[r] for r in self.labels["region"]])  # (N, T+12)
        node_region = self.trees.nodes["region"]
        self.node_share = np.vstack([by_region[r] if r in by_region and r is not None
                                     else cal.season_share(every, country, None)
                                     for r in node_region])  # fmt: skip
        self.years = self.months.year.to_numpy()
        self._tau: dict[str, tuple[float, float, float]] = {}

    # -- fitting ---------------------------------------------------------------------------

    def _fit(self, t_end: int) -> _State:
        """Fit on the first `t_end` months."""
        y, share = self.y[:, :t_end], self.share[:, :t_end]
        raw = raw_effects(y, share, self.years[:t_end])
        theta = np.zeros(len(self.labels))
        sd = np.full(len(self.labels), np.inf)
        pooled: dict[str, PooledEffects] = {}
        for tree in (GEOGRAPHY, ACTOR):
            rows = np.flatnonzero(self.labels["tree"].to_numpy() == tree)
            if not len(rows):
                continue
            mid_codes, middle = np.unique(self.trees.middle[rows], return_inverse=True)
            top_codes, top_of_mid = np.unique(self.trees.top_of_middle[mid_codes],
                                              return_inverse=True)  # fmt: skip
            sub = RawEffects(*(getattr(raw, f)[rows] for f in raw.__dataclass_fields__))
            post = pool(sub, middle, top_of_mid, seed=self.seed, start=self._tau.get(tree))
            self._tau[tree] = post.tau  # the next, later origin starts from here
            pooled[tree] = post
            theta[rows], sd[rows] = post.series_mean, post.series_sd
        shown = sd <= MAX_SHOWN_SD
        theta = np.where(shown, theta, 0.0)
        levels = fit_levels(y, theta[:, None] * share, trend=self.config.trend)
        return _State(theta, levels, pooled, raw, shown)

    def _paths(self, state: _State, t_end: int, h: int, rng: np.random.Generator,
               s: int) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Node means (n_nodes, h) and sorted node samples (n_nodes, h, s) after `t_end`."""
        lv = state.levels
        steps = np.arange(1, h + 1)
        damp = np.cumsum(lv.damping**steps) if self.config.trend else np.zeros(h)
        base = np.maximum(lv.level[:, None] + lv.trend[:, None] * damp[None, :], LEVEL_FLOOR)
        season = np.exp(state.theta[:, None] * self.share[:, t_end : t_end + h])
        mean = base * season  # (N, h)
        sd = lv.step_sd[:, None, None]
        walk = np.cumsum(rng.standard_normal((len(mean), h, s), dtype=np.float32), axis=1)
        log_mult = sd * walk - 0.5 * sd**2 * steps[None, :, None]
        lam = mean[:, :, None] * np.exp(log_mult)
        k = (1.0 / lv.inv_k).astype(np.float32)[:, None, None]
        lam *= rng.standard_gamma(np.broadcast_to(k, lam.shape), dtype=np.float32) / k
        counts = rng.poisson(lam).astype(np.float32)
        n_nodes = self.trees.summing.shape[0]
        node = (self.trees.summing @ counts.reshape(len(mean), -1)).reshape(n_nodes, h, s)
        node.sort(axis=-1)
        node_mean = self.trees.summing @ mean
        return np.asarray(node_mean), node

    def _node_y(self, t_from: int, t_to: int) -> np.ndarray:
        y = self.y[:, t_from:t_to]
        known = np.isfinite(y).all(axis=0)
        out = np.asarray(self.trees.summing @ np.where(np.isfinite(y), y, 0.0))
        out[:, ~known] = np.nan
        return out

    # -- the run ---------------------------------------------------------------------------

    def origins(self) -> list[int]:
        """Calibration origins (month counts), oldest first, each leaving >= 1 outcome."""
        t = len(self.months)
        c = self.config
        out = [t - c.backtest_step * k for k in range(1, c.backtest_origins + 1)]
        return sorted(o for o in out if o >= c.min_train and o < t)

    def run(self) -> PanelResult:
        """Backtest at the calibration origins, calibrate, fit on everything, forecast."""
        rng = np.random.default_rng(self.seed)
        c = self.config
        t = len(self.months)
        levels = np.asarray(QUANTILES)
        u_minus, u_plus, hs, means = [], [], [], []
        kept = []  # backtest rows to keep: (origin, horizons <= step) with samples
        for origin in self.origins():
            h = min(MAX_HORIZON, t - origin)
            state = self._fit(origin)
            node_mean, node_s = self._paths(state, origin, h, rng, c.backtest_samples)
            obs = self._node_y(origin, origin + h)
            ok = np.isfinite(obs)
            lo, hi = pit_pair(node_s, np.where(ok, obs, 0.0))
            hh = np.broadcast_to(np.arange(1, h + 1)[None, :], obs.shape)
            u_minus.append(lo[ok])
            u_plus.append(hi[ok])
            hs.append(hh[ok])
            means.append(node_mean[ok])
            keep_h = min(h, c.backtest_step)
            peers = peer_forecasts(self._node_y(0, origin), keep_h)
            kept.append((origin, keep_h, node_mean[:, :keep_h], node_s[:, :keep_h],
                         obs[:, :keep_h], peers))  # fmt: skip
        if u_minus:
            calibration = Calibration.fit(np.concatenate(u_minus), np.concatenate(u_plus),
                                          np.concatenate(hs), np.concatenate(means),
                                          QUANTILES)  # fmt: skip
        else:
            calibration = Calibration.identity(QUANTILES)
        state = self._fit(t)
        node_mean, node_s = self._paths(state, t, c.horizon, rng, c.n_samples)
        q = self._quantiles(calibration, node_mean, node_s, np.arange(1, c.horizon + 1))
        forecast = self._frame(node_mean, q, t, np.arange(1, c.horizon + 1))
        backtest, scores = self._backtest(kept, calibration, levels)
        return PanelResult(
            nodes=self.trees.nodes,
            season=self._season(state),
            forecast=forecast,
            backtest=backtest,
            scores=scores,
            summary=self._summary(state),
            calibration=calibration.to_dict(),
            tau={tree: list(p.tau) for tree, p in state.pooled.items()},
        )

    def _quantiles(self, cal: Calibration, mean: np.ndarray, sorted_s: np.ndarray,
                   horizons: np.ndarray) -> np.ndarray:  # fmt: skip
        """Calibrated count quantiles (n_nodes, h, 7), the mean inside [q2.5, q97.5]."""
        adj = cal.adjusted(np.broadcast_to(horizons[None, :], mean.shape), mean)
        q = sample_quantiles(sorted_s, adj).astype(float)
        q = np.maximum.accumulate(q, axis=-1)
        q[..., 0] = np.minimum(q[..., 0], np.floor(mean))
        q[..., -1] = np.maximum(q[..., -1], np.ceil(mean))
        return np.maximum.accumulate(q, axis=-1)

    def _frame(self, mean: np.ndarray, q: np.ndarray, t_end: int, horizons: np.ndarray
               ) -> pd.DataFrame:  # fmt: skip
        n_nodes, h = mean.shape
        month_idx = t_end + horizons - 1
        frame = pd.DataFrame({
            "node": np.repeat(np.arange(n_nodes), h),
            "month": np.tile(self.all_months[month_idx], n_nodes),
            "horizon": np.tile(horizons, n_nodes),
            "mean": mean.ravel(),
        })  # fmt: skip
        for j, col in enumerate(QUANTILE_COLUMNS):
            frame[col] = q[:, :, j].ravel()
        frame["in_season"] = (self.node_share[:, month_idx] >= 0.5).ravel()
        return frame

    def _backtest(self, kept: list[Any], cal: Calibration, levels: np.ndarray
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
        """Calibrated backtest rows (the latest origin before each month) and node scores.

        Scores compare the engine with the naive peers on exactly the same points: the
        forecasts of the latest origin before each backtested month.
        """
        frames = []
        for origin, keep_h, mean, sorted_s, obs, peers in kept:
            horizons = np.arange(1, keep_h + 1)
            q = self._quantiles(cal, mean, sorted_s, horizons)
            frame = self._frame(mean, q, origin, horizons)
            frame["origin"] = self.months[origin - 1]
            frame["observed"] = obs.ravel()
            for peer, (_, peer_q) in peers.items():
                frame[[f"{peer}:{col}" for col in QUANTILE_COLUMNS]] = peer_q.reshape(-1, 7)
            frames.append(frame)
        columns = ["node", "model", "crps", "coverage_80", "coverage_95", "n"]
        if not frames:
            return pd.DataFrame(), pd.DataFrame(columns=columns)
        bt = pd.concat(frames, ignore_index=True)
        bt = bt[np.isfinite(bt["observed"])]
        bt = bt.sort_values(["node", "month", "origin"]).drop_duplicates(
            ["node", "month"], keep="last"
        )
        yv = bt["observed"].to_numpy()
        parts = []
        for model, cols in [
            (ENGINE, list(QUANTILE_COLUMNS)),
            *[(p, [f"{p}:{c}" for c in QUANTILE_COLUMNS]) for p in PEERS],
        ]:
            qv = bt[cols].to_numpy()
            parts.append(pd.DataFrame({
                "node": bt["node"].to_numpy(), "model": model,
                "crps": interval_crps(yv, qv, levels),
                "coverage_80": (qv[:, 1] <= yv) & (yv <= qv[:, 5]),
                "coverage_95": (qv[:, 0] <= yv) & (yv <= qv[:, 6]),
            }))  # fmt: skip
        scores = (pd.concat(parts).groupby(["node", "model"])
                  .agg(crps=("crps", "mean"), coverage_80=("coverage_80", "mean"),
                       coverage_95=("coverage_95", "mean"), n=("crps", "size"))
                  .reset_index())  # fmt: skip
        keep = ["node", "month", "origin", "horizon", "observed", "mean",
                *QUANTILE_COLUMNS, "in_season"]  # fmt: skip
        return bt[keep].reset_index(drop=True), scores

    def _season(self, state: _State) -> pd.DataFrame:
        """The published rainy-season effect of every node: the one its forecast uses."""
        summing = self.trees.summing
        weights = state.levels.level  # each bottom's deseasonalized level
        eff = np.exp(state.theta)
        wsum = np.asarray(summing @ weights)
        rr = np.asarray(summing @ (weights * eff)) / np.maximum(wsum, 1e-12)
        draws = np.zeros((0, len(self.labels)))
        for tree, post in state.pooled.items():
            rows = np.flatnonzero(self.labels["tree"].to_numpy() == tree)
            if not len(draws):
                draws = np.zeros((post.draws.shape[0], len(self.labels)))
            draws[:, rows] = post.draws
        draws = np.where(state.shown[None, :], draws, 0.0)
        sampled = (summing @ (weights[:, None] * np.exp(draws.T))).T / np.maximum(wsum, 1e-12)
        lo, hi = np.quantile(sampled, [0.025, 0.975], axis=0)
        p = 2 * np.minimum((sampled > 1).mean(axis=0), (sampled < 1).mean(axis=0))
        # bottoms: the exact normal posterior rather than draws
        sd = np.full(len(self.labels), np.nan)
        for tree, post in state.pooled.items():
            sd[np.flatnonzero(self.labels["tree"].to_numpy() == tree)] = post.series_sd
        bottom = self.trees.nodes["bottom"].to_numpy()
        is_b = bottom >= 0
        bi = bottom[is_b]
        lo[is_b] = np.exp(state.theta[bi] - Z95 * sd[bi])
        hi[is_b] = np.exp(state.theta[bi] + Z95 * sd[bi])
        p[is_b] = 2 * stats.norm.sf(np.abs(state.theta[bi]) / sd[bi])
        shown_nodes = (summing @ state.shown.astype(float)) > 0
        # raw, unpooled estimates of every node from its own counts
        y_nodes = self._node_y(0, len(self.months))
        raw = raw_effects(y_nodes, self.node_share[:, : len(self.months)], self.years)
        status = np.where(~shown_nodes, "insufficient_data",
                          np.where(raw.sufficient, "estimated", "pooled"))  # fmt: skip
        raw_lr = np.where(raw.sufficient, raw.log_rr, np.nan)
        return pd.DataFrame({
            "node": np.arange(len(rr)),
            "status": status,
            "rate_ratio": np.where(shown_nodes, rr, np.nan),
            "ci_low": np.where(shown_nodes, lo, np.nan),
            "ci_high": np.where(shown_nodes, hi, np.nan),
            "p_value": np.where(shown_nodes, p, np.nan),
            "raw_rate_ratio": np.exp(raw_lr),
            "raw_ci_low": np.exp(raw_lr - Z95 * raw.se),
            "raw_ci_high": np.exp(raw_lr + Z95 * raw.se),
            "events_in": raw.events_in,
            "events_out": raw.events_out,
            "months_in": raw.months_in,
            "months_out": raw.months_out,
        })  # fmt: skip

    def _summary(self, state: _State) -> pd.DataFrame:
        lv = state.levels
        summing = self.trees.summing
        return pd.DataFrame({
            "node": np.arange(summing.shape[0]),
            "level": np.asarray(summing @ lv.level),
            "alpha": _bottom_or_nan(self.trees, lv.alpha),
            "inv_k": _bottom_or_nan(self.trees, lv.inv_k),
            "step_sd": _bottom_or_nan(self.trees, lv.step_sd),
        })  # fmt: skip


def interval_crps(y: np.ndarray, q: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """CRPS approximated by twice the mean pinball loss over the quantile grid (as
    `models.metrics.crps`, so engine, peers and benchmark score alike)."""
    diff = y[:, None] - q
    return 2.0 * np.maximum(levels * diff, (levels - 1) * diff).mean(axis=1)


def _bottom_or_nan(trees: Trees, values: np.ndarray) -> np.ndarray:
    bottom = trees.nodes["bottom"].to_numpy()
    return np.where(bottom >= 0, values[np.clip(bottom, 0, None)], np.nan)


def config_dict(config: PanelConfig) -> dict[str, Any]:
    return {"engine": ENGINE, **asdict(config)}
