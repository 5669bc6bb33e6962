"""The panel engine: fit every series of a panel at once, forecast both trees coherently.

One call per panel (one source; one or several countries, each with its two trees):

1. the rainy-season effect of every bottom series, pooled through its tree and across the
   panel's countries (an actor's effect is shared by its series wherever it is active);
2. the level of every bottom series as a hidden state on a grid (`models.panel.dynamics`):
   small moves, lasting shifts, one-month outliers, with their rates learned across the
   panel for each level of the hierarchy; the posterior of a shift up or down and of an
   outlier is kept for the last months of every series at every level;
3. predictive sample paths at the bottom (level paths, a shared country and region shock,
   negative-binomial counts; deaths as events x deaths per event with a massacre tail,
   `models.panel.deaths`) summed up both trees, so every level's mean adds up and every
   quantile comes from one joint distribution;
4. the same paths from rolling origins in the past, whose outcomes calibrate the quantiles
   by hierarchy level, horizon band and volume (`models.panel.calibrate`);
5. outlook totals (the sum of the next 3, 6 and 12 months) from the same joint paths.

The season term the forecast multiplies in is the published rate ratio: for a bottom series
exp(posterior mean); for a roll-up, the level-weighted mean of its bottoms' ratios, which is
exactly the ratio of its forecast in a rainy month to a dry one.

The calibration origins reuse the final fit's season effects and dynamics (only the level
filter stops at each origin): a calibration backtest is therefore slightly optimistic. The
accuracy benchmark refits everything at each of its origins, so its figures have no such leak.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse, stats

from models.base import MAX_HORIZON, QUANTILE_COLUMNS, QUANTILES
from models.panel import dynamics as dynamics_mod
from models.panel._isotonic import isotonic_runs
from models.panel._sample import N_PARAMS, node_sums, stream_seeds
from models.panel.calibrate import (
    HORIZON_BANDS,
    Calibration,
    PitLog,
    horizon_band,
    pit_pair,
    sample_quantiles,
)
from models.panel.deaths import DeathsModel, fit_deaths, sample_deaths
from models.panel.dynamics import (
    GRID_STEP,
    Dynamics,
    FilterResult,
    describe,
    fit_dynamics,
    grid_base,
    long_run,
    param_table,
    run_filter,
    sample_paths,
)
from models.panel.peers import PEERS, peer_forecasts
from models.panel.season import Z95, PooledEffects, RawEffects, pool, raw_effects
from models.panel.tree import ACTOR, GEOGRAPHY, TOP_LEVEL, Trees, build_trees
from models.seasons import RainyCalendar, default_calendar

ENGINE = "panel_regime"
# A pooled season effect whose posterior sd (log scale) exceeds this says too little to be
# shown as a number; the forecast then assumes no rainy-season effect for that series.
MAX_SHOWN_SD = 1.0
LABEL_COLUMNS = ("uid", "tree", "actor", "region", "event_type", "level")
LABEL_KEY = ["country", "tree", "actor", "region", "event_type"]  # what names a bottom series
LEVEL_ORDER = (
    "country",
    "region",
    "region_type",
    "actor_country",
    "actor_region",
    "actor_region_type",
    "country_type",  # last, so the older levels keep their calibration cells' indices
)
# The country totals: their calibration may widen intervals, never narrow them. Their
# backtests at the calibration origins call for narrowing while out of sample their intervals
# are too narrow already: the two years before a forecast are calmer than the year after it
# more often than not. (It is not the reuse of the final fit: learning the season effects and
# dynamics again before the first calibration origin left the country's 95 % PIT coverage at
# 0.898, against 0.894, and cost CRPS, 0.17034 against 0.16950.) On the accuracy bench's
# sixteen tuning origins the country's 95 % interval held 0.894 of outcomes (randomized PIT);
# widening only: 0.923, CRPS 0.16950 -> 0.16931 (with the calibration weights of
# models/panel/calibrate.py: 0.16546 -> 0.16542, country 80 % PIT 0.775 -> 0.792). Giving their
# paths more spread instead does not help, calibration takes it back (a shared random walk of
# 0.05-0.15 a month: 0.892-0.905, CRPS 0.1700-0.1703). Doing the same at every roll-up that sums
# across regions or actors (country x event type, region, actor x country) gained more there
# (0.16882) but lost 3 % CRPS on bench/train.py's synthetic panels (country alone: +0.8 %).
WIDEN_ONLY = (TOP_LEVEL[GEOGRAPHY],)
OUTLOOK_MONTHS = (3, 6, 12)
MAX_FACTOR_SD = 0.5  # the shared monthly shock of a country or region never exceeds this
MIN_BACKTEST_SAMPLES = 100
MAX_TREND = 0.2  # a tree total's measured growth is capped at about 22 % a month


@dataclass(frozen=True)
class PanelConfig:
    """How the engine fits and calibrates; the defaults are what `sahelcast train` uses.

    Attributes:
        horizon: months to forecast (1..12).
        n_samples: predictive sample paths per series for the published forecast.
        backtest_samples: sample paths at each calibration origin.
        backtest_budget: path-months the calibration origins may draw in all; a panel so
            large that `backtest_samples` paths would draw more takes fewer paths per origin
            (never fewer than MIN_BACKTEST_SAMPLES): its calibration cells still hold millions
            of outcomes. The demo and the three-country bench are far below it.
        backtest_step: months between calibration origins.
        backtest_origins: how many calibration origins (most recent first).
        min_train: fewest months a calibration origin needs.
        state_months: months at the end whose shift and outlier posteriors are kept.
        seed: base seed; each panel's is derived from it and the panel's name.
        keep_samples: keep the final sample paths (to score later outcomes, `PanelResult.pit`).
        dynamics: fixed hyperparameters per level (tests, benchmarks); None = learn them.
        top_down: how far each tree's total level moves from the sum of its bottoms' levels
            toward its own filtered level (0 = bottom-up; 0.5 was chosen on the accuracy
            bench's 2016-17 tuning origins: CRPS 0.1851 -> 0.1833, 1.0 gave 0.1839; on the
            sixteen 2014-17 origins 0.1695, against 0.1704 bottom-up and 0.1708 at 1.0).
        trend: weight of a damped trend carried from each tree total's growth over the last
            `trend_months` (`_tree_paths`); 0 = none. Off: on the accuracy bench's 2016-17
            tuning origins 0.5 (damping 0.9, six months) lowered CRPS 0.1829 -> 0.1802, but on
            the 2014-15 ones it raised it 0.1521 -> 0.1604 and on the reporting origins
            0.2737 -> 0.2845 (escalations there come in surges that stop; carried growth
            overshoots them). Kept to reproduce that finding.
        trend_months: months over which a tree total's growth is measured.
        trend_damping: the trend's per-month damping phi (month h carries phi + ... + phi^h).
    """

    horizon: int = MAX_HORIZON
    n_samples: int = 500
    backtest_samples: int = 200
    backtest_budget: int = 250_000_000
    top_down: float = 0.5
    trend: float = 0.0
    trend_months: int = 6
    trend_damping: float = 0.9
    backtest_step: int = 3
    backtest_origins: int = 8
    min_train: int = 24
    state_months: int = 24
    seed: int = 0
    keep_samples: bool = False
    dynamics: dict[str, dict[str, float]] | None = None


@dataclass
class PanelResult:
    """Everything a panel fit produces, keyed by node (row of `nodes`)."""

    nodes: pd.DataFrame  # country, tree, level, actor, region, event_type, bottom, uid
    season: pd.DataFrame  # one row per node
    forecast: pd.DataFrame  # node, month, horizon, mean, quantiles, in_season
    backtest: pd.DataFrame  # node, month, origin, horizon, observed, mean, quantiles, in_season
    scores: pd.DataFrame  # node, model (engine or peer), crps, coverage_80, coverage_95, n
    summary: pd.DataFrame  # node, level (deseasonalized), shift and outlier figures
    outlook: pd.DataFrame  # node, months (3/6/12), first_month, mean, quantiles
    states: pd.DataFrame  # node, month, level, p_shift_up, p_shift_down, p_outlier
    calibration: dict[str, Any] = field(default_factory=dict)
    tau: dict[str, list[float]] = field(default_factory=dict)
    dynamics: dict[str, dict[str, float]] = field(default_factory=dict)
    fit_key: str = ""  # `PanelEngine.fit_key`: equal keys learn equal dynamics
    samples: np.ndarray | None = None  # (n_nodes, h, S) sorted, with keep_samples
    calibrator: Calibration | None = None
    node_means: np.ndarray | None = None

    def pit(self, observed: np.ndarray) -> np.ndarray:
        """Calibrated (P(Y < y), P(Y <= y)) of later outcomes (n_nodes, h') -> (n_nodes, h', 2).

        Needs `keep_samples`; NaN outcomes give NaN.
        """
        if self.samples is None or self.calibrator is None or self.node_means is None:
            raise ValueError("fit with PanelConfig(keep_samples=True) to score later outcomes")
        h = observed.shape[1]
        ok = np.isfinite(observed)
        lo, hi = pit_pair(self.samples[:, :h], np.where(ok, observed, -1.0))
        group = _level_index(self.nodes["level"])[:, None] * np.ones((1, h), dtype=int)
        band = horizon_band(np.broadcast_to(np.arange(1, h + 1), observed.shape))
        mean = self.node_means[:, :h]
        out = np.stack(
            [
                self.calibrator.calibrated_pit(lo, group, band, mean),
                self.calibrator.calibrated_pit(hi, group, band, mean),
            ],
            axis=-1,
        )
        out[~ok] = np.nan
        return out


def mean_level(dist: np.ndarray, base: np.ndarray) -> np.ndarray:
    """The mean level (N,) of filtered distributions over each series' grid (N, G)."""
    grid = np.exp(base[:, None] + GRID_STEP * np.arange(dist.shape[1])[None, :])
    d = dist.astype(np.float64)
    return (d * grid).sum(axis=1) / d.sum(axis=1)


def _level_index(levels: pd.Series | np.ndarray) -> np.ndarray:
    order = {name: k for k, name in enumerate(LEVEL_ORDER)}
    return np.array([order.get(str(v), 0) for v in levels], dtype=int)


def panel_seed(name: str, seed: int = 0) -> int:
    """A stable seed from the panel's name, whatever process fits it."""
    return (int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") + seed) % 2**32


@dataclass(frozen=True)
class _Block:
    """One country of a panel: its bottoms (rows of y), its nodes and how they sum."""

    index: int
    country: str
    rows: np.ndarray
    nodes: np.ndarray
    summing: sparse.csr_matrix  # (len(nodes), len(rows))
    middle: np.ndarray  # each bottom's middle group, numbered within the block


@dataclass
class _Season:
    theta: np.ndarray  # season log rate ratio used per bottom
    pooled: dict[str, PooledEffects]
    shown: np.ndarray  # bool per bottom: the effect is shown (else insufficient)


class PanelEngine:
    """Fit one panel. Build with the bottom series; call `run()`."""

    def __init__(
        self,
        labels: pd.DataFrame,
        y: np.ndarray,
        months: pd.DatetimeIndex,
        *,
        country: str | None = None,
        deaths: np.ndarray | None = None,
        name: str = "",
        config: PanelConfig | None = None,
        calendar: RainyCalendar | None = None,
    ) -> None:
        """Args:
        labels: one row per bottom series, LABEL_COLUMNS (tree is "geography" or "actor")
            and `country` (or give `country` for all).
        y: event counts (n_bottoms, n_months) in the row order of `labels`; NaN = unknown.
        months: contiguous month starts of y's columns.
        deaths: the deaths of the same series and months: the panel then forecasts deaths
            (events x deaths per event), else events.
        name: the panel's name (seeds).
        """
        self.config = config or PanelConfig()
        if not 1 <= self.config.horizon <= MAX_HORIZON:
            raise ValueError(f"horizon must be 1..{MAX_HORIZON}")
        self.labels = labels.reset_index(drop=True).copy()
        if "country" not in self.labels:
            if country is None:
                raise ValueError("labels need a `country` column, or give country=")
            self.labels["country"] = country
        self.y = np.asarray(y, dtype=float)
        if self.y.shape != (len(self.labels), len(months)):
            raise ValueError(f"y has shape {self.y.shape}, expected ({len(labels)}, {len(months)})")
        self.deaths = None if deaths is None else np.asarray(deaths, dtype=float)
        if self.deaths is not None and self.deaths.shape != self.y.shape:
            raise ValueError(f"deaths has shape {self.deaths.shape}, expected {self.y.shape}")
        self.months = pd.DatetimeIndex(months)
        self.seed = panel_seed(
            name or "|".join(sorted(self.labels["country"].unique())), self.config.seed
        )
        self.trees: Trees = build_trees(self.labels)
        cal = calendar or default_calendar()
        every = self.months.append(
            pd.date_range(
                self.months[-1] + pd.offsets.MonthBegin(1), periods=MAX_HORIZON, freq="MS"
            )
        )
        self.all_months = every
        places = {
            (c, r) for c, r in zip(self.labels["country"], self.labels["region"], strict=True)
        }
        nodes = self.trees.nodes
        places |= set(zip(nodes["country"], nodes["region"], strict=True))
        share = {
            (c, r): cal.season_share(every, c, r if isinstance(r, str) else None) for c, r in places
        }
        self.share = np.vstack(
            [
                share[(c, r)]
                for c, r in zip(self.labels["country"], self.labels["region"], strict=True)
            ]
        )
        self.node_share = np.vstack(
            [share[(c, r)] for c, r in zip(nodes["country"], nodes["region"], strict=True)]
        )
        self.years = self.months.year.to_numpy()
        self.node_level = _level_index(nodes["level"])
        bottoms = nodes[nodes["bottom"] >= 0].sort_values("bottom")
        self.level_of = bottoms["level"].astype(str).to_numpy()  # each bottom's dynamics group
        self._rollup_fits: dict[str, Dynamics] = {}
        self._node_trend = np.zeros(0)  # per node, the trend carried (`_tree_paths`)

    # -- fitting ---------------------------------------------------------------------------

    def _season(self) -> _Season:
        """Pooled rainy-season effects: actor -> actor x country x region -> series, and
        region -> country x region -> series, across the panel's countries."""
        t = len(self.months)
        raw = raw_effects(self.y, self.share[:, :t], self.years)
        theta = np.zeros(len(self.labels))
        sd = np.full(len(self.labels), np.inf)
        pooled: dict[str, PooledEffects] = {}
        tree = self.labels["tree"].to_numpy()
        for name in (GEOGRAPHY, ACTOR):
            rows = np.flatnonzero(tree == name)
            if not len(rows):
                continue
            sub = self.labels.iloc[rows]
            top_key = (
                sub["actor"].fillna("").astype(str).to_numpy()
                if name == ACTOR
                else np.full(len(rows), "")
            )
            mid_key = (
                top_key
                + "|"
                + sub["country"].astype(str).to_numpy()
                + "|"
                + sub["region"].fillna("").astype(str).to_numpy()
            )
            mid_codes, middle = np.unique(mid_key, return_inverse=True)
            first_of_mid = np.zeros(len(mid_codes), dtype=int)
            first_of_mid[middle] = np.arange(len(rows))
            _, top_of_mid = np.unique(top_key[first_of_mid], return_inverse=True)
            part = RawEffects(*(getattr(raw, f)[rows] for f in raw.__dataclass_fields__))
            post = pool(part, middle, top_of_mid, seed=self.seed)
            pooled[name] = post
            theta[rows], sd[rows] = post.series_mean, post.series_sd
        shown = sd <= MAX_SHOWN_SD
        return _Season(np.where(shown, theta, 0.0), pooled, shown)

    def _dynamics(self, season_log: np.ndarray) -> dict[str, Dynamics]:
        """Hyperparameters per bottom level, learned across the panel (or fixed by config)."""
        fixed = self.config.dynamics
        out: dict[str, Dynamics] = {}
        level = self.level_of
        for name in np.unique(level):
            if fixed is not None:
                out[name] = fixed_dynamics(fixed, name)
                continue
            rows = level == name
            out[name], _ = fit_dynamics(self.y[rows], season_log[rows], seed=self.seed)
        return out

    def _filter(
        self,
        y: np.ndarray,
        season_log: np.ndarray,
        groups: np.ndarray,
        dyn: dict[str, Dynamics],
        keep: tuple[int, ...],
        moments: bool,
    ) -> tuple[FilterResult, np.ndarray]:
        """The level filter of every row, each group with its own dynamics, stitched back."""
        n, t = y.shape
        w = min(self.config.state_months, t)
        base = grid_base(y)
        parts: list[tuple[np.ndarray, FilterResult]] = []
        for name in np.unique(groups):
            rows = np.flatnonzero(groups == name)
            d = dyn.get(name) or next(iter(dyn.values()))
            parts.append(
                (
                    rows,
                    run_filter(
                        y[rows],
                        season_log[rows],
                        base[rows],
                        d,
                        keep=keep,
                        window=w,
                        moments=moments,
                    ),
                )
            )
        out = FilterResult(
            np.zeros(n),
            {k: np.zeros((n, parts[0][1].at[k].shape[1]), dtype=np.float32) for k in keep},
            np.zeros((n, t)) if moments else np.zeros((0, 0)),
            np.zeros((n, t)) if moments else np.zeros((0, 0)),
            np.zeros((n, w)),
            np.zeros((n, w)),
            np.zeros((n, w)),
            np.zeros((n, w)),
        )
        for rows, r in parts:
            out.loglik[rows] = r.loglik
            for k in keep:
                out.at[k][rows] = r.at[k]
            if moments:
                out.pred_mean[rows], out.pred_var[rows] = r.pred_mean, r.pred_var
            out.p_up[rows], out.p_down[rows] = r.p_up, r.p_down
            out.p_outlier[rows], out.level[rows] = r.p_outlier, r.level
        return out, base

    def _factors(self, filt: FilterResult) -> tuple[float, float]:
        """The sd of the shared monthly shock of a country and of a region (log scale).

        One-step forecast errors of the bottoms are independent under the filter, so a roll-up
        whose errors vary more than the sum of its bottoms' variances shows a shared shock:
        excess = (Y - M)^2 - V = s_c^2 M^2 + s_r^2 sum over its regions of M_r^2, solved by
        least squares over the roll-ups of every month (never negative).
        """
        summing = self.trees.summing
        m, v = filt.pred_mean, filt.pred_var
        known = np.isfinite(self.y).all(axis=0)
        known[: min(12, len(known))] = False  # the filter's first months are its warm-up
        if known.sum() < 6:
            return 0.0, 0.0
        y = np.where(np.isfinite(self.y), self.y, 0.0)[:, known]
        m, v = m[:, known], v[:, known]
        node_m = np.asarray(summing @ m)
        node_v = np.asarray(summing @ v)
        node_y = np.asarray(summing @ y)
        excess = (node_y - node_m) ** 2 - node_v
        nodes = self.trees.nodes
        is_top = nodes["level"].isin(["country", "actor_country"]).to_numpy()
        is_mid = nodes["level"].isin(["region", "actor_region"]).to_numpy()
        mid_nodes = np.flatnonzero(is_mid)
        # for each roll-up: sum over its middle nodes of M_mid^2
        member = summing[mid_nodes]  # (n_mid, N)
        mid_m2 = np.asarray(member @ m) ** 2  # (n_mid, T)
        top_rows = np.flatnonzero(is_top)
        contains = (summing[top_rows] @ member.T) > 0  # top x mid
        a_rows, b_rows, e_rows = [], [], []
        if len(top_rows):
            a_rows.append(node_m[top_rows] ** 2)
            b_rows.append(np.asarray(contains.astype(float) @ mid_m2))
            e_rows.append(excess[top_rows])
        a_rows.append(node_m[mid_nodes] ** 2)
        b_rows.append(mid_m2)
        e_rows.append(excess[mid_nodes])
        a = np.concatenate([x.ravel() for x in a_rows])
        b = np.concatenate([x.ravel() for x in b_rows])
        e = np.concatenate([x.ravel() for x in e_rows])
        design = np.column_stack([a, b])
        # weight by 1 / (V + M^2) so the biggest roll-ups do not decide alone
        node_scale = np.concatenate(
            [
                np.ravel(node_v[top_rows] + node_m[top_rows] ** 2),
                np.ravel(node_v[mid_nodes] + node_m[mid_nodes] ** 2),
            ]
        )
        wt = 1.0 / np.maximum(node_scale, 1e-6)
        from scipy.optimize import nnls

        coef, _ = nnls(design * wt[:, None], e * wt)
        s_c, s_r = np.sqrt(np.maximum(coef, 0.0))
        return float(min(s_c, MAX_FACTOR_SD)), float(min(s_r, MAX_FACTOR_SD))

    # -- sample paths ----------------------------------------------------------------------

    def _blocks(self) -> list[_Block]:
        """The panel cut by country: each country's bottoms and the nodes of its trees.

        Sample paths are drawn a country at a time, so memory follows the largest country,
        not the panel; the trees never cross a border, so nothing is lost.
        """
        nodes = self.trees.nodes
        summing = self.trees.summing.tocsr()
        countries = self.labels["country"].astype(str).to_numpy()
        node_country = nodes["country"].astype(str).to_numpy()
        out = []
        for k, country in enumerate(sorted(set(countries))):
            rows = np.flatnonzero(countries == country)
            node_idx = np.flatnonzero(node_country == country)
            _, middle = np.unique(self.trees.middle[rows], return_inverse=True)
            out.append(_Block(k, country, rows, node_idx, summing[node_idx][:, rows], middle))
        return out

    def _rng(self, stage: int, origin: int, block: int) -> np.random.Generator:
        """The random numbers of one stage, origin and country: the same in every process."""
        return np.random.default_rng([self.seed, stage, origin, block])

    def _paths(
        self, block: _Block, dist: np.ndarray, base: np.ndarray, anchor: np.ndarray,
        t_end: int, h: int, s: int, theta: np.ndarray, dyn: dict[str, Dynamics],
        factors: tuple[float, float], deaths: DeathsModel | None, rng: np.random.Generator,
        stage: int, level_factor: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Node means (n_nodes, h) and node samples (n_nodes, h, s), unsorted, of one country's
        nodes after t_end.

        The expected level stays where the filter leaves it (a shift is as likely down as
        up in level terms): a bottom's mean is its filtered mean level times its season term
        (times deaths per event for deaths), exactly, and its sample paths are scaled to that
        mean at every horizon. So every node's mean is the sum of its bottoms' means, and the
        ratio of a rainy month's forecast to a dry one's is the published season effect.
        """
        rows = block.rows
        n = len(rows)
        level_of = self.level_of[rows]
        params = np.empty((n, N_PARAMS))
        burst = np.ones(n)  # E[count] / level: one-off bursts add to the mean
        for name in np.unique(level_of):
            idx = np.flatnonzero(level_of == name)
            d = dyn.get(name) or next(iter(dyn.values()))
            params[idx] = param_table(d, len(idx))
            burst[idx] = d.burst_factor
        # shared shocks: a random walk for the country and for each middle group, mean one
        s_c, s_r = factors
        steps = np.arange(1, h + 1)[None, :, None]
        shock = np.zeros((1, h, s), np.float32)
        if s_c > 0:
            walk = np.cumsum(rng.standard_normal((1, h, s)), axis=1) * s_c
            shock += (walk - 0.5 * s_c**2 * steps).astype(np.float32)
        mid_shock = np.zeros((int(block.middle.max()) + 1, h, s), np.float32)
        if s_r > 0:
            walk = np.cumsum(rng.standard_normal(mid_shock.shape), axis=1)
            mid_shock += (walk * s_r - 0.5 * s_r**2 * steps).astype(np.float32)
        season = np.exp(theta[rows, None] * self.share[rows, t_end : t_end + h])  # (n, h)
        level = mean_level(dist[rows], base[rows])  # the filtered mean level at t_end
        target = level[:, None] * season  # expected events without one-off bursts
        if level_factor is not None:
            target = target * level_factor[rows, :h]
        mean = target * burst[:, None]
        seeds = stream_seeds(self.seed, stage, t_end, rows)
        counts, _ = sample_paths(
            dist[rows], base[rows], anchor[rows], params, seeds, target,
            shock[0], mid_shock, block.middle, samples=s,
        )  # fmt: skip
        if deaths is not None:
            counts = sample_deaths(deaths, counts, rows, rng)
            mean = mean * deaths.per_event()[rows, None]
        k = len(block.nodes)
        summing = block.summing
        node = np.empty((k, h * s), np.float32)
        node_sums(summing.indptr, summing.indices, summing.data, counts.reshape(n, -1), node)
        return np.asarray(summing @ mean), node.reshape(k, h, s)

    def _tree_paths(
        self, filt: FilterResult, base: np.ndarray, season_log: np.ndarray,
        dyn: dict[str, Dynamics], at: tuple[int, ...],
    ) -> dict[int, np.ndarray]:  # fmt: skip
        """Each bottom's level factor by horizon (N, MAX_HORIZON) at each origin in `at`.

        A tree's total (a country, an actor in a country) is filtered on its own counts, as
        for its states. At each origin all bottoms of the tree are scaled by one path:

        - a level factor, so that the sum of their levels moves `top_down` of the way to the
          total's own filtered level (the sum of many sparse series lags when dormant actors
          or regions wake up together; the total sees it at once);
        - a damped trend: the total's monthly log growth over the last `trend_months`,
          weighted by `trend`, carried into month h as growth x (phi + ... + phi^h).

        One path per tree keeps every roll-up's season effect and every sum. The trend each
        node carries at the last origin is kept for the summary (`trend_per_month`).
        """
        c = self.config
        nodes = self.trees.nodes
        tops = np.flatnonzero(
            (nodes["bottom"].to_numpy() < 0)
            & nodes["level"].isin([TOP_LEVEL[GEOGRAPHY], TOP_LEVEL[ACTOR]]).to_numpy()
        )
        self._node_trend = np.zeros(len(nodes))
        if (c.top_down <= 0 and c.trend <= 0) or not len(tops):
            return {}
        summing = self.trees.summing[tops]
        node_y = self._node_y(self.y, 0, len(self.months))[tops]
        node_season = self._node_season(summing, filt, season_log)
        groups = nodes["level"].to_numpy()[tops].astype(str)
        node_dyn = self._rollup_dynamics(node_y, node_season, groups, dyn)
        m = c.trend_months
        past = tuple(k - m for k in at if k - m > 0) if c.trend > 0 else ()
        keep = tuple(sorted({*at, *past}))
        own, own_base = self._filter(node_y, node_season, groups, node_dyn, keep, False)
        tree_of = np.asarray(summing.argmax(axis=0)).ravel()  # each bottom's total
        in_tree = np.asarray(summing.sum(axis=0)).ravel() > 0
        carried = trend_carry(c.trend_damping)
        out = {}
        for k in at:
            bottom_up = np.asarray(summing @ mean_level(filt.at[k], base))
            direct = mean_level(own.at[k], own_base)
            pull = 1 - c.top_down + c.top_down * direct / np.maximum(bottom_up, 1e-9)
            growth = np.zeros(len(tops))
            if c.trend > 0 and k - m > 0:
                before = mean_level(own.at[k - m], own_base)
                growth = np.log(np.maximum(direct, 1e-9) / np.maximum(before, 1e-9)) / m
                growth = c.trend * np.clip(growth, -MAX_TREND, MAX_TREND)
            path = np.clip(pull, 0.25, 4.0)[:, None] * np.exp(growth[:, None] * carried)
            out[k] = np.where(in_tree[:, None], path[tree_of], 1.0)
            if k == len(self.months):
                first = np.asarray(self.trees.summing.argmax(axis=1)).ravel()
                self._node_trend = np.where(in_tree[first], growth[tree_of[first]], 0.0)
        return out

    def _node_season(
        self, summing: sparse.csr_matrix, filt: FilterResult, season_log: np.ndarray
    ) -> np.ndarray:
        """Roll-ups' season terms (log): their bottoms' level-weighted rate ratio each month."""
        weights = np.maximum(filt.level[:, -1], 1e-6)
        ratio = np.asarray(summing @ (weights[:, None] * np.exp(season_log))) / np.maximum(
            np.asarray(summing @ weights)[:, None], 1e-12
        )
        return np.log(np.maximum(ratio, 1e-12))

    def _node_y(self, values: np.ndarray, t_from: int, t_to: int) -> np.ndarray:
        y = values[:, t_from:t_to]
        known = np.isfinite(y).all(axis=0)
        out = np.asarray(self.trees.summing @ np.where(np.isfinite(y), y, 0.0))
        out[:, ~known] = np.nan
        return out

    # -- the run ---------------------------------------------------------------------------

    def fit_key(self) -> str:
        """A digest of everything the season and the dynamics are learned from (the event
        counts, months, series, seed). A deaths run of the same panel and data learns exactly
        what its events run learned (both learn on the events), so the service hands the
        events run's dynamics to it (`PanelConfig.dynamics`) when the keys match."""
        digest = hashlib.sha256()
        digest.update(np.where(np.isfinite(self.y), self.y, -1.0).astype(np.float64).tobytes())
        digest.update(str((self.months[0], len(self.months), self.seed)).encode())
        columns = [c for c in LABEL_KEY if c in self.labels]
        rows = self.labels[columns].itertuples(index=False, name=None)
        digest.update("\n".join(repr(tuple(map(str, r))) for r in rows).encode())
        return digest.hexdigest()

    def adopt(self, learned: dict[str, Any] | None) -> bool:
        """Take another run's learned dynamics (`{"fit_key": ..., "dynamics": ...}` of a
        result) when they were learned from exactly this panel's data and none are fixed
        already; say whether they were taken. The result is the same as learning them."""
        if not learned or self.config.dynamics is not None:
            return False
        if learned.get("fit_key") != self.fit_key() or not learned.get("dynamics"):
            return False
        self.config = replace(self.config, dynamics=dict(learned["dynamics"]))
        return True

    def backtest_samples(self) -> int:
        """Sample paths per calibration origin: `backtest_samples` within `backtest_budget`."""
        c = self.config
        t = len(self.months)
        months = sum(min(MAX_HORIZON, t - o) + min(t - o, c.backtest_step) for o in self.origins())
        fits = c.backtest_budget // max(len(self.labels) * months, 1)
        return int(min(c.backtest_samples, max(MIN_BACKTEST_SAMPLES, fits)))

    def origins(self) -> list[int]:
        """Calibration origins (month counts), oldest first, each leaving >= 1 outcome."""
        t = len(self.months)
        c = self.config
        out = [t - c.backtest_step * k for k in range(1, c.backtest_origins + 1)]
        return sorted(o for o in out if o >= c.min_train and o < t)

    def run(self) -> PanelResult:
        """Fit, backtest at the calibration origins, calibrate, forecast."""
        c = self.config
        t = len(self.months)
        season = self._season()
        season_log = season.theta[:, None] * self.share[:, :t]
        dyn = self._dynamics(season_log)
        origins = self.origins()
        filt, base = self._filter(self.y, season_log, self.level_of, dyn, (*origins, t), True)
        factors = self._factors(filt)
        anchors = np.log(np.maximum(long_run(self.y, season_log), 1e-6))  # (N, T+1)
        deaths = fit_deaths(self.y, self.deaths, self.labels) if self.deaths is not None else None
        measure = self.deaths if self.deaths is not None else self.y
        blocks = self._blocks()
        n_backtest = self.backtest_samples()
        level_factor = self._tree_paths(filt, base, season_log, dyn, (*origins, t))

        def paths(block: _Block, stage: int, at: int, h: int, s: int) -> tuple[Any, Any]:
            rng = self._rng(stage, at, block.index)
            return self._paths(block, filt.at[at], base, anchors[:, at], at, h, s,
                               season.theta, dyn, factors, deaths, rng, stage,
                               level_factor.get(at))  # fmt: skip

        # 1. where each backtest outcome fell in its forecast: the calibration
        monthly, totals = PitLog(), PitLog()
        for origin in origins:
            h = min(MAX_HORIZON, t - origin)
            obs_all = self._node_y(measure, origin, origin + h)
            for block in blocks:
                node_mean, node_s = paths(block, 1, origin, h, n_backtest)
                obs = obs_all[block.nodes]
                ok = np.isfinite(obs)
                lo, hi = pit_pair(node_s, np.where(ok, obs, 0.0))
                hh = np.broadcast_to(np.arange(1, h + 1)[None, :], obs.shape)
                gg = np.broadcast_to(self.node_level[block.nodes, None], obs.shape)
                series = np.broadcast_to(block.nodes[:, None], obs.shape)
                monthly.add(lo[ok], hi[ok], gg[ok], horizon_band(hh[ok]), node_mean[ok],
                            series[ok], origin)  # fmt: skip
                for j, months in enumerate(OUTLOOK_MONTHS):
                    if h >= months and ok[:, :months].all():
                        lo_o, hi_o = pit_pair(node_s[:, :months].sum(axis=1),
                                              obs[:, :months].sum(axis=1))  # fmt: skip
                        totals.add(
                            lo_o, hi_o, self.node_level[block.nodes], np.full(len(lo_o), j),
                            node_mean[:, :months].sum(axis=1), block.nodes, origin,
                        )  # fmt: skip
        bands = tuple(f"{lo}-{hi}" for lo, hi in HORIZON_BANDS)
        cal = monthly.fit(QUANTILES, LEVEL_ORDER, bands, WIDEN_ONLY)
        o_cal = totals.fit(
            QUANTILES, LEVEL_ORDER, tuple(f"{m} months" for m in OUTLOOK_MONTHS), WIDEN_ONLY
        )
        # 2. the calibrated backtest of the first months after each origin (what detection
        #    and the scores read), beside the naive peers
        kept = []
        for origin in origins:
            keep_h = min(t - origin, c.backtest_step)
            horizons = np.arange(1, keep_h + 1)
            obs_all = self._node_y(measure, origin, origin + keep_h)
            peers = peer_forecasts(self._node_y(measure, 0, origin), keep_h)
            for block in blocks:
                node_mean, node_s = paths(block, 2, origin, keep_h, n_backtest)
                node_s.sort(axis=-1)
                q = self._quantiles(cal, node_mean, node_s, horizons, block.nodes)
                frame = self._frame(node_mean, q, origin, horizons, block.nodes)
                frame["origin"] = self.months[origin - 1]
                frame["observed"] = obs_all[block.nodes].ravel()
                for peer, (_, peer_q) in peers.items():
                    frame[[f"{peer}:{col}" for col in QUANTILE_COLUMNS]] = peer_q[
                        block.nodes
                    ].reshape(-1, 7)
                kept.append(frame)
        backtest, scores = self._backtest(kept)
        # 3. the forecast
        horizons = np.arange(1, c.horizon + 1)
        n_nodes = len(self.trees.nodes)
        node_means = np.zeros((n_nodes, c.horizon))
        samples = np.zeros((n_nodes, c.horizon, c.n_samples), np.float32) if c.keep_samples \
            else None  # fmt: skip
        forecasts, outlooks = [], []
        for block in blocks:
            node_mean, node_s = paths(block, 3, t, c.horizon, c.n_samples)
            outlooks.append(self._outlook(o_cal, node_mean, node_s, t, block.nodes))
            node_s.sort(axis=-1)
            q = self._quantiles(cal, node_mean, node_s, horizons, block.nodes)
            forecasts.append(self._frame(node_mean, q, t, horizons, block.nodes))
            node_means[block.nodes] = node_mean
            if samples is not None:
                samples[block.nodes] = node_s
        states, state_summary = self._states(filt, season_log, dyn)
        return PanelResult(
            nodes=self.trees.nodes,
            season=self._season_frame(season, mean_level(filt.at[t], base), deaths),
            forecast=pd.concat(forecasts).sort_values(["node", "horizon"], ignore_index=True),
            backtest=backtest,
            scores=scores,
            summary=self._summary(filt, dyn, factors, deaths, state_summary),
            outlook=pd.concat(outlooks).sort_values(["months", "node"], ignore_index=True),
            states=states,
            calibration={
                "forecast": cal.to_dict(),
                "outlook": o_cal.to_dict(),
                "shared_shock_sd": {"country": factors[0], "region": factors[1]},
                "backtest_samples": n_backtest,
            },
            tau={tree: list(p.tau) for tree, p in season.pooled.items()},
            dynamics={
                str(k): describe(v)
                for k, v in {**dyn, **getattr(self, "_node_dynamics", {})}.items()
            },
            fit_key=self.fit_key(),
            samples=samples,
            calibrator=cal,
            node_means=node_means,
        )

    def _quantiles(
        self, cal: Calibration, mean: np.ndarray, sorted_s: np.ndarray, horizons: np.ndarray,
        nodes: np.ndarray,
    ) -> np.ndarray:  # fmt: skip
        """Calibrated count quantiles (n_nodes, h, 7) of `nodes`, the mean inside [q2.5, q97.5]."""
        group = np.broadcast_to(self.node_level[nodes, None], mean.shape)
        band = horizon_band(np.broadcast_to(horizons[None, :], mean.shape))
        adj = cal.adjusted(group, band, mean)
        q = sample_quantiles(sorted_s, adj).astype(float)
        q = np.maximum.accumulate(q, axis=-1)
        q[..., 0] = np.minimum(q[..., 0], np.floor(mean))
        q[..., -1] = np.maximum(q[..., -1], np.ceil(mean))
        q = np.maximum.accumulate(q, axis=-1)
        return later_never_narrower(q, mean)

    def _outlook(
        self, cal: Calibration, mean: np.ndarray, samples: np.ndarray, t_end: int,
        nodes: np.ndarray,
    ) -> pd.DataFrame:  # fmt: skip
        """The sum of the next 3, 6 and 12 months of `nodes`, with calibrated quantiles."""
        frames = []
        for j, months in enumerate(OUTLOOK_MONTHS):
            if months > samples.shape[1]:
                continue
            total = np.sort(samples[:, :months].sum(axis=1), axis=-1)
            m = mean[:, :months].sum(axis=1)
            adj = cal.adjusted(self.node_level[nodes], np.full(len(m), j), m)
            q = np.maximum.accumulate(sample_quantiles(total, adj).astype(float), axis=-1)
            q[:, 0] = np.minimum(q[:, 0], np.floor(m))  # as the months': the mean inside
            q[:, -1] = np.maximum(q[:, -1], np.ceil(m))
            q = np.maximum.accumulate(q, axis=-1)
            frame = pd.DataFrame(
                {
                    "node": nodes,
                    "months": months,
                    "first_month": self.all_months[t_end],
                    "mean": m,
                }
            )
            for k, col in enumerate(QUANTILE_COLUMNS):
                frame[col] = q[:, k]
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    def _frame(
        self, mean: np.ndarray, q: np.ndarray, t_end: int, horizons: np.ndarray,
        nodes: np.ndarray,
    ) -> pd.DataFrame:  # fmt: skip
        n_nodes, h = mean.shape
        month_idx = t_end + horizons - 1
        frame = pd.DataFrame(
            {
                "node": np.repeat(nodes, h),
                "month": np.tile(self.all_months[month_idx], n_nodes),
                "horizon": np.tile(horizons, n_nodes),
                "mean": mean.ravel(),
            }
        )
        for j, col in enumerate(QUANTILE_COLUMNS):
            frame[col] = q[:, :, j].ravel()
        frame["in_season"] = (self.node_share[nodes][:, month_idx] >= 0.5).ravel()
        return frame

    def _backtest(self, frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Calibrated backtest rows (the latest origin before each month) and node scores.

        Scores compare the engine with the naive peers on exactly the same points: the
        forecasts of the latest origin before each backtested month.
        """
        levels = np.asarray(QUANTILES)
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
            parts.append(
                pd.DataFrame(
                    {
                        "node": bt["node"].to_numpy(),
                        "model": model,
                        "crps": interval_crps(yv, qv, levels),
                        "coverage_80": (qv[:, 1] <= yv) & (yv <= qv[:, 5]),
                        "coverage_95": (qv[:, 0] <= yv) & (yv <= qv[:, 6]),
                    }
                )
            )
        scores = (
            pd.concat(parts)
            .groupby(["node", "model"])
            .agg(
                crps=("crps", "mean"),
                coverage_80=("coverage_80", "mean"),
                coverage_95=("coverage_95", "mean"),
                n=("crps", "size"),
            )
            .reset_index()
        )
        keep = [
            "node",
            "month",
            "origin",
            "horizon",
            "observed",
            "mean",
            *QUANTILE_COLUMNS,
            "in_season",
        ]
        return bt[keep].reset_index(drop=True), scores

    def _states(
        self, filt: FilterResult, season_log: np.ndarray, dyn: dict[str, Dynamics]
    ) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
        """Shift and outlier posteriors of the last months of every node.

        Bottoms come from the forecast's own filter; each roll-up is filtered on its own
        counts with its level's dynamics (a shift spread over ten regions shows in their
        total long before it shows in any one of them).
        """
        t = len(self.months)
        w = filt.p_up.shape[1]
        nodes = self.trees.nodes
        bottom = nodes["bottom"].to_numpy()
        rolled = np.flatnonzero(bottom < 0)
        n_nodes = len(nodes)
        p_up, p_down = np.zeros((n_nodes, w)), np.zeros((n_nodes, w))
        p_out, level = np.zeros((n_nodes, w)), np.zeros((n_nodes, w))
        is_b = bottom >= 0
        p_up[is_b], p_down[is_b] = filt.p_up[bottom[is_b]], filt.p_down[bottom[is_b]]
        p_out[is_b], level[is_b] = filt.p_outlier[bottom[is_b]], filt.level[bottom[is_b]]
        if len(rolled):
            node_y = self._node_y(self.y, 0, t)[rolled]
            node_season = self._node_season(self.trees.summing[rolled], filt, season_log)
            groups = nodes["level"].to_numpy()[rolled].astype(str)
            node_dyn = self._rollup_dynamics(node_y, node_season, groups, dyn)
            r, _ = self._filter(node_y, node_season, groups, node_dyn, (), False)
            p_up[rolled], p_down[rolled] = r.p_up, r.p_down
            p_out[rolled], level[rolled] = r.p_outlier, r.level
            self._node_dynamics = node_dyn
        months = self.months[t - w :]
        frame = pd.DataFrame(
            {
                "node": np.repeat(np.arange(n_nodes), w),
                "month": np.tile(months, n_nodes),
                "level": level.ravel(),
                "p_shift_up": p_up.ravel(),
                "p_shift_down": p_down.ravel(),
                "p_outlier": p_out.ravel(),
            }
        )
        last = {
            "p_shift_up": p_up[:, -1],
            "p_shift_down": p_down[:, -1],
            "p_outlier": p_out[:, -1],
            "state_level": level[:, -1],
        }
        return frame, last

    def _rollup_dynamics(
        self,
        node_y: np.ndarray,
        node_season: np.ndarray,
        groups: np.ndarray,
        dyn: dict[str, Dynamics],
    ) -> dict[str, Dynamics]:
        """Each roll-up level's dynamics, learned on all its nodes once per engine (the tree
        totals' are needed first by `_tree_paths`, then by `_states`)."""
        fixed = self.config.dynamics
        out = {}
        start = next(iter(dyn.values()))
        for name in np.unique(groups):
            if fixed is not None:
                out[name] = fixed_dynamics(fixed, name)
            elif name not in self._rollup_fits:
                rows = groups == name
                self._rollup_fits[name], _ = fit_dynamics(
                    node_y[rows], node_season[rows], seed=self.seed, start=start,
                    max_evals=dynamics_mod.FIT_EVALS // 2,
                )  # fmt: skip
            out[name] = out.get(name) or self._rollup_fits[name]
        return out

    def _season_frame(
        self, season: _Season, level: np.ndarray, deaths: DeathsModel | None
    ) -> pd.DataFrame:
        """The published rainy-season effect of every node: the one its forecast uses (its
        bottoms' ratios weighted by the levels the forecast starts from)."""
        summing = self.trees.summing
        weights = np.maximum(level, 1e-12)  # each bottom's deseasonalized level
        if deaths is not None:
            weights = weights * deaths.per_event()
        eff = np.exp(season.theta)
        wsum = np.asarray(summing @ weights)
        rr = np.asarray(summing @ (weights * eff)) / np.maximum(wsum, 1e-12)
        draws = np.zeros((0, len(self.labels)))
        for tree, post in season.pooled.items():
            rows = np.flatnonzero(self.labels["tree"].to_numpy() == tree)
            if not len(draws):
                draws = np.zeros((post.draws.shape[0], len(self.labels)))
            draws[:, rows] = post.draws
        draws = np.where(season.shown[None, :], draws, 0.0)
        sampled = (summing @ (weights[:, None] * np.exp(draws.T))).T / np.maximum(wsum, 1e-12)
        lo, hi = np.quantile(sampled, [0.025, 0.975], axis=0)
        p = 2 * np.minimum((sampled > 1).mean(axis=0), (sampled < 1).mean(axis=0))
        sd = np.full(len(self.labels), np.nan)
        for tree, post in season.pooled.items():
            sd[np.flatnonzero(self.labels["tree"].to_numpy() == tree)] = post.series_sd
        bottom = self.trees.nodes["bottom"].to_numpy()
        is_b = bottom >= 0
        bi = bottom[is_b]
        lo[is_b] = np.exp(season.theta[bi] - Z95 * sd[bi])
        hi[is_b] = np.exp(season.theta[bi] + Z95 * sd[bi])
        p[is_b] = 2 * stats.norm.sf(np.abs(season.theta[bi]) / sd[bi])
        shown_nodes = (summing @ season.shown.astype(float)) > 0
        # raw, unpooled estimates of every node from its own counts of the measure
        measure = self.deaths if self.deaths is not None else self.y
        y_nodes = self._node_y(measure, 0, len(self.months))
        raw = raw_effects(y_nodes, self.node_share[:, : len(self.months)], self.years)
        status = np.where(
            ~shown_nodes, "insufficient_data", np.where(raw.sufficient, "estimated", "pooled")
        )
        raw_lr = np.where(raw.sufficient, raw.log_rr, np.nan)
        return pd.DataFrame(
            {
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
            }
        )

    def _summary(
        self,
        filt: FilterResult,
        dyn: dict[str, Dynamics],
        factors: tuple[float, float],
        deaths: DeathsModel | None,
        last: dict[str, np.ndarray],
    ) -> pd.DataFrame:
        summing = self.trees.summing
        level = np.asarray(summing @ filt.level[:, -1])
        if deaths is not None:
            level = np.asarray(summing @ (filt.level[:, -1] * deaths.rate))
        nodes = self.trees.nodes
        node_dyn = {**dyn, **getattr(self, "_node_dynamics", {})}
        frame = pd.DataFrame({"node": np.arange(len(nodes)), "level": level, **last})
        bottom = nodes["bottom"].to_numpy()
        group = [
            self.level_of[b] if b >= 0 else str(lv)
            for b, lv in zip(bottom, nodes["level"], strict=True)
        ]
        frame["dynamics_group"] = group
        for key in ("p_shift", "p_outlier", "shift_mean", "step_sd", "inv_k"):
            frame[f"dyn_{key}"] = [getattr(node_dyn.get(g) or Dynamics(), key) for g in group]
        frame["shared_shock_country"], frame["shared_shock_region"] = factors
        frame["trend_per_month"] = self._node_trend
        frame["trend_damping"] = self.config.trend_damping
        if deaths is not None:
            bottom = nodes["bottom"].to_numpy()
            frame["deaths_per_event"] = np.where(
                bottom >= 0, deaths.rate[np.clip(bottom, 0, None)], np.nan
            )
        return frame


def later_never_narrower(q: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """Quantiles (n, h, levels) whose later months are never known better without a season
    reason: where the mean does not fall from one month to the next, no quantile above the
    median falls; where it does not rise, none below it rises.

    The level moves as a random walk, so a later month of the same expected count is at
    least as uncertain (the learned pull toward the long-run level, a few tenths of a per
    cent a month, is far too weak to undo that spread). A narrower one is sample noise, or
    the next horizon band's calibration cell. Each upper quantile is replaced by its
    least-squares non-decreasing fit over each stretch of months whose mean does not fall
    (each lower one by its non-increasing fit where the mean does not rise), so the noise is
    averaged out rather than its highest draw kept (a running maximum cost 0.5 % CRPS on the
    accuracy bench's tuning origins); counts are rounded back, and a running bound settles
    the rare row that rounding or the median leaves out of order. Every row stays sorted,
    with the mean inside [q2.5, q97.5].
    """
    n, h, _ = q.shape
    if h < 2:
        return q
    upper = np.flatnonzero(np.asarray(QUANTILES) > 0.5)
    lower = np.flatnonzero(np.asarray(QUANTILES) < 0.5)
    middle = int(np.flatnonzero(np.asarray(QUANTILES) == 0.5)[0])
    up_run = np.zeros((n, h), bool)  # a stretch for the upper quantiles starts where the mean falls
    up_run[:, 1:] = mean[:, 1:] < mean[:, :-1] * (1 - 1e-6)
    low_run = np.zeros((n, h), bool)
    low_run[:, 1:] = mean[:, 1:] > mean[:, :-1] * (1 + 1e-6)

    def fitted(levels: np.ndarray, runs: np.ndarray, sign: float) -> np.ndarray:
        rows = sign * np.moveaxis(q[:, :, levels], 2, 1).reshape(-1, h)
        fit = sign * isotonic_runs(rows, np.repeat(runs, len(levels), axis=0))
        return np.moveaxis(fit.reshape(n, len(levels), h), 1, 2)

    q = q.copy()
    q[:, :, upper] = np.floor(fitted(upper, up_run, 1.0) + 0.5)
    q[:, :, lower] = np.floor(fitted(lower, low_run, -1.0) + 0.5)
    q[:, :, upper] = np.maximum(q[:, :, upper], q[:, :, middle, None])
    q[:, :, lower] = np.minimum(q[:, :, lower], q[:, :, middle, None])
    for j in range(1, h):
        keep_up = ~up_run[:, j, None]
        q[:, j, upper] = np.where(keep_up, np.maximum(q[:, j, upper], q[:, j - 1, upper]),
                                  q[:, j, upper])  # fmt: skip
        keep_low = ~low_run[:, j, None]
        q[:, j, lower] = np.where(keep_low, np.minimum(q[:, j, lower], q[:, j - 1, lower]),
                                  q[:, j, lower])  # fmt: skip
    return q


def trend_carry(damping: float, horizon: int = MAX_HORIZON) -> np.ndarray:
    """How many months of a damped trend month h carries: phi + phi^2 + ... + phi^h.

    A node's forecast at horizon h is its level times exp(`trend_per_month` x this) times
    its season term; the same figure the summary publishes."""
    return np.cumsum(damping ** np.arange(1, horizon + 1))


def fixed_dynamics(fixed: dict[str, dict[str, float]], name: str) -> Dynamics:
    """A group's fixed hyperparameters (its own entry, else "*"); extra keys (the derived
    figures `describe` adds) are ignored, so a result's `dynamics` can be handed back."""
    values = fixed.get(name, fixed.get("*", {}))
    return Dynamics(
        **{k: float(v) for k, v in values.items() if k in Dynamics.__dataclass_fields__}
    )


def interval_crps(y: np.ndarray, q: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """CRPS approximated by twice the mean pinball loss over the quantile grid (as
    `models.metrics.crps`, so engine, peers and benchmark score alike)."""
    diff = y[:, None] - q
    return 2.0 * np.maximum(levels * diff, (levels - 1) * diff).mean(axis=1)


def config_dict(config: PanelConfig) -> dict[str, Any]:
    out = {"engine": ENGINE, **asdict(config)}
    out.pop("keep_samples", None)
    return out
