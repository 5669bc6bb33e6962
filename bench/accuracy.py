"""Accuracy of the panel engine on real data: UCDP GED for Burkina Faso, Mali and Niger.

    .venv/bin/python bench/accuracy.py                        # events: results/accuracy.json
    .venv/bin/python bench/accuracy.py --measure fatalities   # deaths: accuracy-fatalities.json
    .venv/bin/python bench/accuracy.py --origins tuning       # tuning origins only (no file)
    .venv/bin/python bench/accuracy.py --data ged-2023.csv --holdout 2023-01 --holdout 2023-04 \
        --out holdout.json                                    # your own files and origins

The bundled extracts are ingested by the service into a temporary SQLite database and read back
as the service's panels: every level of both trees in each country (region x event type, region,
country; actor x region x event type, actor x region, actor x country). At rolling origins every
three months the engine is fitted on the months before the origin only (its own calibration
origins lie before it too) and forecasts 1-12 months ahead. The peers forecast every node from
its own history before the origin: seasonal naive, no change (mean of the last three months,
Poisson), default Prophet (plain `Prophet()` per node) and the engine as it was before the
regime-aware dynamics (`panel_v2`, run from git commit PANEL_V2_COMMIT in a subprocess).
At an origin, a series takes part once it has had an event before it (the service trains a
series once it has one); a roll-up is scored against everything observed under it.

Tuning and reporting origins are kept apart. Every default of the engine was set looking only
at synthetic panels and at the TUNING origins (2014-01 .. 2017-10, which score months up to
2018-09; Burkina Faso's data start in 2016, so it takes no part in them); the REPORTING origins
(2018-10 .. 2022-01) score only later months, and their figures are the ones recorded. Scores:
CRPS (twice the mean pinball loss over the 7 quantiles, the same for every model), as the
ratio of mean CRPS over all nodes x origins x horizons; coverage counts an outcome on an
interval bound as inside (inclusive); the randomized PIT coverage (Czado, Gneiting & Held
2009) draws the PIT uniformly between P(Y < y) and P(Y <= y), which is what an 80 % interval
of a count distribution can honestly promise.

Prophet and panel_v2 forecasts are cached in bench/.cache/ (not committed): they do not depend
on the engine under test, and Prophet takes about half an hour on one core.

Hold-outs on other data. `--data` ingests other event files instead of the bundled ones (UCDP
GED or ACLED exports, anything `sahelcast ingest` reads, one source at a time) and `--holdout`
names the origins to score (the first forecast month; repeat it). Nothing is tuned on them:
the engine runs with its defaults, the peers beside it, and the same figures, targets and
per-level tables come out, written only to `--out`. Their peers' cache is kept apart, under
the files' digest.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import pickle  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
if __name__ == "__main__" and "--peer-v2" not in sys.argv:
    sys.path.insert(0, str(ROOT))

QUANTILES = (0.025, 0.1, 0.25, 0.5, 0.75, 0.9, 0.975)
QCOLS = tuple(f"q{q:g}" for q in QUANTILES)
LEVELS = np.asarray(QUANTILES)
DEMO = sorted((ROOT / "service" / "data" / "demo").glob("ucdp-ged-*.csv"))
PANEL_V2_COMMIT = "7f672fc"  # main before the regime-aware engine (issue 17)
H = 12
# Mali's and Niger's data start in 2012, so the first origin with MIN_TRAIN months is 2014-01.
# Until 2026-12-07 the tuning origins were 2016-01 .. 2017-10 only; the two years before them
# (Mali's spread of the insurgency to the centre in 2015) are the kind of change the
# reporting years hold, and a change that won on 2016-17 alone (a damped trend) lost there.
TUNING = [f"{y}-{m:02d}" for y in (2014, 2015, 2016, 2017) for m in (1, 4, 7, 10)]
REPORTING = (
    ["2018-10"] + [f"{y}-{m:02d}" for y in (2019, 2020, 2021) for m in (1, 4, 7, 10)] + ["2022-01"]
)
BANDS = {"1-3": (1, 3), "4-6": (4, 6), "7-12": (7, 12)}
# The levels of issue 17's targets: the headline figures (CRPS ratios, coverage, points) are
# theirs, so that they stay comparable across runs; any other level the panel holds (country x
# event type) is reported in `coverage_by_level` beside them.
ISSUE_LEVELS = (
    "country",
    "region",
    "region_type",
    "actor_country",
    "actor_region",
    "actor_region_type",
)
LEVEL_NAMES = ("country", "country_type", *ISSUE_LEVELS[1:])  # the order of the level table
TARGETS: dict[str, dict[str, Any]] = {
    "events": {
        "crps_ratio_vs_no_change": 0.88,
        "crps_ratio_vs_seasonal_naive": 0.75,
        "crps_ratio_vs_prophet_default": 0.80,
    },
    "fatalities": {"crps_ratio_vs_prophet_default": 0.85},
}
COVERAGE_TARGETS = {"coverage_80": (0.75, 0.85), "coverage_95": (0.90, 0.98)}
LEVEL_95 = (0.88, 0.99)
ENGINE = "engine"
MIN_TRAIN = 24


@dataclass
class Country:
    """One country's bottoms as the service reads them, on the common month index."""

    name: str
    labels: pd.DataFrame  # uid, tree, actor, region, event_type, level
    events: np.ndarray  # (n, T) NaN outside coverage
    deaths: np.ndarray


class DataError(ValueError):
    """Event files or origins a hold-out cannot be scored on."""


def load_countries(paths: list[Path] | None = None) -> tuple[pd.DatetimeIndex, list[Country]]:
    """Ingest the event files (the bundled demo by default) with the service and read each
    country's panel back."""
    from service import migrate
    from service.config import Settings
    from service.db import make_engine, session_scope
    from service.ingest.service import ingest_file
    from service.series.repository import SeriesFilter
    from service.training.data import select_series
    from service.training.panels import load_panel, panel_names

    with tempfile.TemporaryDirectory(prefix="sahelcast-bench-") as tmp:
        folder = Path(tmp)
        url = f"sqlite:///{folder / 'bench.db'}"
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            settings = Settings(database_url=url, data_dir=folder)
            for path in paths or DEMO:
                ingest_file(engine, path, settings)
            with session_scope(engine) as session:
                infos = select_series(session, SeriesFilter(), 0)
                names = panel_names(infos)
                if len(names) != 1:
                    found = ", ".join(names) or "none"
                    raise DataError(
                        f"the files must hold one source's events, not {len(names)} ({found})"
                    )
                (name,) = names
                panel = load_panel(session, name, infos, "fatalities")  # events and deaths
        finally:
            engine.dispose()
    if panel is None or panel.deaths is None:
        raise DataError("the files hold no series with an event to score")
    months = pd.date_range(panel.start, periods=panel.y.shape[1], freq="MS")
    countries = []
    for country in panel.countries:
        rows = (panel.labels["country"] == country).to_numpy()
        labels = panel.labels.loc[rows, ["uid", "tree", "actor", "region", "event_type", "level"]]
        countries.append(
            Country(country, labels.reset_index(drop=True), panel.y[rows], panel.deaths[rows])
        )
    return months, countries


def node_table(country: Country) -> tuple[pd.DataFrame, Any]:
    """Every node of the country's two trees with its key, and the summing matrix."""
    from models.panel.tree import build_trees

    trees = build_trees(country.labels)
    nodes = trees.nodes.copy()
    nodes["key"] = [node_key(country.name, r) for r in nodes.itertuples(index=False)]
    return nodes, trees.summing


def node_key(country: str, r: Any) -> str:
    def text(v: Any) -> str:
        return "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)

    return "|".join([country, r.level, text(r.actor), text(r.region), text(r.event_type)])


# -- the models -----------------------------------------------------------------------------


@dataclass
class Forecasts:
    """Forecasts of one model at one origin: one row per node key, h columns."""

    keys: list[str]
    mean: np.ndarray  # (n, h)
    q: np.ndarray  # (n, h, 7)
    pit: np.ndarray | None = None  # (n, h, 2): calibrated P(Y < y), P(Y <= y)
    # (n, h, 2): the forecast's own probability of its 80 % and 95 % intervals (inclusive)
    own: np.ndarray | None = None


CONFIG: dict[str, Any] = {}  # --config key=value (tuning experiments, tuning origins only)


def engine_forecasts(
    months: pd.DatetimeIndex,
    panels: list[Country],
    t: int,
    measure: str,
    observed: dict[str, np.ndarray],
    h: int,
) -> Forecasts:
    """The engine under test on the panels cut at month index t."""
    from models.panel.engine import PanelConfig, PanelEngine

    labels = pd.concat([p.labels.assign(country=p.name) for p in panels], ignore_index=True)
    events = np.vstack([p.events[:, :t] for p in panels])
    deaths = np.vstack([p.deaths[:, :t] for p in panels])
    engine = PanelEngine(
        labels,
        events,
        months[:t],
        deaths=deaths if measure != "events" else None,
        name="ucdp",
        config=PanelConfig(keep_samples=True, **CONFIG),
    )
    result = engine.run()
    nodes = result.nodes
    keys = [node_key(r.country, r) for r in nodes.itertuples(index=False)]
    fc = result.forecast.sort_values(["node", "horizon"])
    mean = fc["mean"].to_numpy().reshape(len(nodes), -1)[:, :h]
    q = fc[list(QCOLS)].to_numpy().reshape(len(nodes), -1, 7)[:, :h]
    obs = np.vstack([observed[k][:h] for k in keys])
    pit = result.pit(obs)
    own = np.stack(
        [
            result.pit(q[..., hi])[..., 1] - result.pit(q[..., lo])[..., 0]
            for lo, hi in ((1, 5), (0, 6))
        ],
        axis=-1,
    )
    return Forecasts(keys, mean, q, pit, own)


def v2_forecasts(
    months: pd.DatetimeIndex, panels: list[Country], t: int, measure: str, h: int
) -> Forecasts:
    """The engine before issue 17 (one panel per country), imported from an old checkout."""
    from models.panel.engine import PanelEngine

    keys, means, qs = [], [], []
    for p in panels:
        y = (p.events if measure == "events" else p.deaths)[:, :t]
        start = np.flatnonzero(np.isfinite(y).any(axis=0))[0]
        result = PanelEngine(
            p.labels, y[:, start:], months[start:t], country=p.name, name=f"ucdp|{p.name}"
        ).run()
        nodes = result.nodes
        keys += [node_key(p.name, r) for r in nodes.itertuples(index=False)]
        fc = result.forecast.sort_values(["node", "horizon"])
        means.append(fc["mean"].to_numpy().reshape(len(nodes), -1)[:, :h])
        qs.append(fc[list(QCOLS)].to_numpy().reshape(len(nodes), -1, 7)[:, :h])
    return Forecasts(keys, np.vstack(means), np.vstack(qs))


def prophet_default(y: np.ndarray, months: pd.DatetimeIndex, h: int) -> tuple[Any, Any]:
    """The peer: plain `Prophet()` on raw counts; quantiles from its predictive samples,
    floored at zero (counts cannot be negative, and the floor can only help it)."""
    import logging

    logging.getLogger("cmdstanpy").disabled = True
    logging.getLogger("prophet").disabled = True
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from prophet import Prophet

        known = np.isfinite(y)
        model = Prophet().fit(pd.DataFrame({"ds": months[known], "y": y[known]}))
        idx = pd.date_range(months[-1] + pd.offsets.MonthBegin(1), periods=h, freq="MS")
        draws = np.clip(model.predictive_samples(pd.DataFrame({"ds": idx}))["yhat"], 0, None)
    q = np.maximum.accumulate(np.quantile(draws, QUANTILES, axis=1).T, axis=1)
    return draws.mean(axis=1), q


def data_digest(paths: list[Path]) -> str:
    """A short digest of the event files' bytes: the name of their peers' cache."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


class PeerCache:
    """Forecasts of models that do not change with the engine, kept between runs."""

    def __init__(self, measure: str, model: str, data: str = "") -> None:
        self.path = CACHE / f"{measure}-{model}{'-' + data if data else ''}.pkl"
        self.data: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        if self.path.exists():
            self.data = pickle.loads(self.path.read_bytes())

    def save(self) -> None:
        CACHE.mkdir(exist_ok=True)
        self.path.write_bytes(pickle.dumps(self.data))


# -- the backtest ---------------------------------------------------------------------------


class Backtest:
    def __init__(
        self, measure: str, prophet: bool, v2: bool, paths: list[Path] | None = None
    ) -> None:
        self.measure = measure
        self.months, self.countries = load_countries(paths)
        self.data = data_digest(paths) if paths else ""  # the bundled data's cache has none
        self.prophet, self.v2 = prophet, v2
        self.nodes: dict[str, pd.DataFrame] = {}
        self.truth: dict[str, np.ndarray] = {}  # key -> full observed series
        self.level: dict[str, str] = {}
        for c in self.countries:
            nodes, summing = node_table(c)
            values = self.values(c)
            known = np.isfinite(values).all(axis=0)
            total = np.asarray(summing @ np.nan_to_num(values))
            total[:, ~known] = np.nan
            for k, key in enumerate(nodes["key"]):
                self.truth[key] = total[k]
                self.level[key] = nodes["level"].iat[k]
        self.seconds: dict[str, float] = {}

    def values(self, c: Country) -> np.ndarray:
        return c.events if self.measure == "events" else c.deaths

    def panels_at(self, t: int) -> list[Country]:
        """Each country cut at t, with the bottoms that had an event before t."""
        out = []
        for c in self.countries:
            known = np.isfinite(c.events[0, :t]).sum()
            if known < MIN_TRAIN:
                continue
            active = np.nansum(c.events[:, :t], axis=1) > 0
            out.append(
                Country(
                    c.name,
                    c.labels[active].reset_index(drop=True),
                    c.events[active],
                    c.deaths[active],
                )
            )
        return out

    def keys_at(self, t: int) -> list[str]:
        return [k for c in self.panels_at(t) for k in node_table(c)[0]["key"]]

    def fill_cache(self, origin: str) -> None:
        """Compute the cached peers' forecasts at `origin` (no engine run)."""
        t = int(self.months.get_loc(pd.Timestamp(origin)))
        h = min(H, len(self.months) - t)
        observed = {k: v[t : t + h] for k, v in self.truth.items()}
        keys = self.keys_at(t)
        for model, wanted in (("prophet_default", self.prophet), ("panel_v2", self.v2)):
            if wanted:
                self._cached(origin, model, keys, t, h, observed)

    def check(self, origin: str) -> None:
        """Raise DataError unless `origin` (YYYY-MM) has MIN_TRAIN months before it and one
        after."""
        month = pd.Timestamp(origin)
        first, last = self.months[0], self.months[-1]
        earliest = first + pd.DateOffset(months=MIN_TRAIN)
        if not earliest <= month <= last:
            raise DataError(
                f"origin {origin}: the data run {first:%Y-%m} .. {last:%Y-%m}; an origin needs "
                f"{MIN_TRAIN} months before it and one to score, so it lies in "
                f"{earliest:%Y-%m} .. {last:%Y-%m}"
            )

    def scored(self, origins: list[str], dump: Path | None = None) -> pd.DataFrame:
        """Every model's scored rows at the origins (kept in `dump` when given)."""
        frames = []
        for origin in origins:
            frames.append(self.at(origin))
            print(f"{origin}: {self.seconds}", file=sys.stderr, flush=True)
        rows = pd.concat(frames, ignore_index=True)
        if dump:
            rows.to_pickle(dump)
        return rows

    def at(self, origin: str) -> pd.DataFrame:
        t = int(self.months.get_loc(pd.Timestamp(origin)))
        h = min(H, len(self.months) - t)
        panels = self.panels_at(t)
        observed = {k: v[t : t + h] for k, v in self.truth.items()}
        started = time.perf_counter()
        own = engine_forecasts(self.months, panels, t, self.measure, observed, h)
        self._tick(ENGINE, started)
        rows = [self._rows(origin, ENGINE, own, observed)]
        hist = np.vstack([self.truth[k][:t] for k in own.keys])
        from models.panel.peers import peer_forecasts

        for name, (pm, pq) in peer_forecasts(hist, h).items():
            rows.append(self._rows(origin, name, Forecasts(own.keys, pm, pq), observed))
        if self.prophet:
            rows.append(self._cached(origin, "prophet_default", own.keys, t, h, observed))
        if self.v2:
            rows.append(self._cached(origin, "panel_v2", own.keys, t, h, observed))
        return pd.concat(rows, ignore_index=True)

    def _cached(
        self,
        origin: str,
        model: str,
        keys: list[str],
        t: int,
        h: int,
        observed: dict[str, np.ndarray],
    ) -> pd.DataFrame:
        cache = PeerCache(self.measure, model, self.data)
        missing = [k for k in keys if (origin, k) not in cache.data]
        started = time.perf_counter()
        if missing and model == "prophet_default":
            for k in missing:
                cache.data[(origin, k)] = prophet_default(self.truth[k][:t], self.months[:t], h)
            cache.save()
        elif missing:
            self._run_v2(origin, t, h, cache)
        self._tick(model, started)
        have = [k for k in keys if (origin, k) in cache.data]
        mean = np.vstack([cache.data[(origin, k)][0][:h] for k in have])
        q = np.stack([cache.data[(origin, k)][1][:h] for k in have])
        return self._rows(origin, model, Forecasts(have, mean, q), observed)

    def _run_v2(self, origin: str, t: int, h: int, cache: PeerCache) -> None:
        """Run the old engine from git in a subprocess on exactly these panels."""
        work = Path(tempfile.mkdtemp(prefix="sahelcast-v2-"))
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", PANEL_V2_COMMIT, "models"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
        job = work / "job.pkl"
        job.write_bytes(pickle.dumps((self.months, self.panels_at(t), t, self.measure, h)))
        subprocess.run(
            [sys.executable, __file__, "--peer-v2", str(work)], check=True, cwd=str(work)
        )
        got: Forecasts = pickle.loads((work / "out.pkl").read_bytes())
        for k, key in enumerate(got.keys):
            cache.data[(origin, key)] = (got.mean[k], got.q[k])
        cache.save()

    def _tick(self, name: str, started: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def _rows(
        self, origin: str, model: str, f: Forecasts, observed: dict[str, np.ndarray]
    ) -> pd.DataFrame:
        n, h = f.mean.shape
        y = np.vstack([observed[k][:h] for k in f.keys])
        out = pd.DataFrame(
            {
                "origin": origin,
                "model": model,
                "key": np.repeat(f.keys, h),
                "level": np.repeat([self.level[k] for k in f.keys], h),
                "horizon": np.tile(np.arange(1, h + 1), n),
                "y": y.ravel(),
                "mean": f.mean.ravel(),
                **{c: f.q[:, :, j].ravel() for j, c in enumerate(QCOLS)},
            }
        )
        if f.pit is not None:
            out["u_lo"], out["u_hi"] = f.pit[:, :, 0].ravel(), f.pit[:, :, 1].ravel()
        if f.own is not None:
            out["own80"], out["own95"] = f.own[:, :, 0].ravel(), f.own[:, :, 1].ravel()
        return out[np.isfinite(out["y"])]


def interval_crps(y: np.ndarray, q: np.ndarray) -> np.ndarray:
    diff = y[:, None] - q
    return 2.0 * np.maximum(LEVELS * diff, (LEVELS - 1) * diff).mean(axis=1)


def pit_inside(lo: np.ndarray, hi: np.ndarray, a: float, b: float) -> np.ndarray:
    """P(a <= U <= b) for U uniform on [lo, hi] (a point mass when lo == hi)."""
    width = hi - lo
    overlap = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)
    point = ((lo >= a) & (lo <= b)).astype(float)
    return np.where(width > 1e-12, overlap / np.maximum(width, 1e-12), point)


def summarise(rows: pd.DataFrame, origins: list[str]) -> dict[str, Any]:
    rows = rows[rows["origin"].isin(origins)].copy()
    # every model on exactly the engine's points
    own_points = set(
        zip(
            rows.loc[rows["model"] == ENGINE, "origin"],
            rows.loc[rows["model"] == ENGINE, "key"],
            strict=True,
        )
    )
    rows = rows[[(o, k) in own_points for o, k in zip(rows["origin"], rows["key"], strict=True)]]
    q = rows[list(QCOLS)].to_numpy()
    y = rows["y"].to_numpy()
    rows["crps"] = interval_crps(y, q)
    rows["in80"] = (q[:, 1] <= y) & (y <= q[:, 5])
    rows["in95"] = (q[:, 0] <= y) & (y <= q[:, 6])
    own_all = rows[rows["model"] == ENGINE].copy()
    if "u_lo" in own_all:
        lo_u, hi_u = own_all["u_lo"].to_numpy(), own_all["u_hi"].to_numpy()
        own_all["pit80"] = pit_inside(lo_u, hi_u, 0.1, 0.9)
        own_all["pit95"] = pit_inside(lo_u, hi_u, 0.025, 0.975)
    every_level = rows
    rows = rows[rows["level"].isin(ISSUE_LEVELS)]
    own = own_all[own_all["level"].isin(ISSUE_LEVELS)]
    per_model = rows.groupby("model").agg(
        crps=("crps", "mean"),
        coverage_80=("in80", "mean"),
        coverage_95=("in95", "mean"),
        points=("crps", "size"),
    )
    e_crps = per_model.loc[ENGINE, "crps"]

    def ratio(frame: pd.DataFrame, peer: str) -> float | None:
        m = frame.groupby("model")["crps"].mean()
        if peer not in m.index or m[peer] <= 0:
            return None
        return float(m[ENGINE] / m[peer])

    bands = {}
    for name, (lo, hi) in BANDS.items():
        part = own[own["horizon"].between(lo, hi)]
        bands[name] = _coverage(part)
    by_level = {}
    present = set(every_level["level"])
    for level in [*LEVEL_NAMES, *sorted(present - set(LEVEL_NAMES))]:
        part = every_level[every_level["level"] == level]
        if part.empty:
            continue
        e = own_all[own_all["level"] == level]
        by_level[level] = {
            "series": int(e["key"].nunique()),
            "points": int(len(e)),
            **_coverage(e),
            **{
                f"crps_ratio_vs_{p}": ratio(part, p)
                for p in sorted(set(part["model"]))
                if p != ENGINE
            },
            "by_horizon": {
                b: _coverage(e[e["horizon"].between(lo, hi)]) for b, (lo, hi) in BANDS.items()
            },
        }
    busy = own[own["mean"] >= 2]
    return {
        "crps": float(e_crps),
        "crps_ratio_vs_seasonal_naive": ratio(rows, "seasonal_naive"),
        "crps_ratio_vs_no_change": ratio(rows, "poisson_last"),
        "crps_ratio_vs_prophet_default": ratio(rows, "prophet_default"),
        "crps_ratio_vs_current_engine": ratio(rows, "panel_v2"),
        **_coverage(own),
        "coverage_by_horizon": bands,
        "coverage_by_level": by_level,
        "coverage_mean_at_least_2": _coverage(busy),
        "per_model": {m: {k: float(v) for k, v in r.items()} for m, r in per_model.iterrows()},
        "points": int(len(own)),
        "series": int(own["key"].nunique()),
    }


CACHED_PEERS = {
    "prophet_default": "crps_ratio_vs_prophet_default",
    "panel_v2": "crps_ratio_vs_current_engine",
}


def reuse_peers(result: dict[str, Any], earlier: dict[str, Any], source: str) -> None:
    """Fill the cached peers' scores from an earlier full run of the same points.

    Prophet and the engine before issue 17 do not depend on the engine under test: their CRPS on
    the same outcomes is the same in every run (that is why they are cached). When their cache is
    gone (Prophet takes hours on a busy machine), an earlier full run of the same origins, data
    and points gives them exactly, checked by the no-change peer's CRPS, computed afresh here,
    which must equal the earlier run's overall and at every level.
    """
    fresh, old = result["per_model"], earlier["per_model"]
    if result["points"] != earlier["points"] or not np.isclose(
        fresh["poisson_last"]["crps"], old["poisson_last"]["crps"], rtol=1e-12, atol=0
    ):
        raise SystemExit(f"{source} scored other points: its peers cannot be reused")
    for peer, key in CACHED_PEERS.items():
        if peer in fresh or peer not in old:
            continue
        fresh[peer] = old[peer]
        result[key] = result["crps"] / old[peer]["crps"]
        for level, part in result["coverage_by_level"].items():
            was = earlier["coverage_by_level"].get(level, {})
            if f"crps_ratio_vs_{peer}" not in was:
                continue  # a level the earlier run had no peer figure for
            # the same no-change CRPS per level, so engine / peer = (engine / no change) x
            # (no change / peer), the second factor from the earlier run
            part[f"crps_ratio_vs_{peer}"] = (
                part["crps_ratio_vs_poisson_last"]
                * was[f"crps_ratio_vs_{peer}"]
                / was["crps_ratio_vs_poisson_last"]
            )
    result["peers_from"] = {
        "file": source,
        "date": earlier.get("date"),
        "models": [p for p in CACHED_PEERS if p in old],
        "check": "the no-change peer's CRPS equals the earlier run's (same points)",
    }


def _coverage(part: pd.DataFrame) -> dict[str, float]:
    out = {"coverage_80": float(part["in80"].mean()), "coverage_95": float(part["in95"].mean())}
    if "pit80" in part:
        out["pit_coverage_80"] = float(part["pit80"].mean())
        out["pit_coverage_95"] = float(part["pit95"].mean())
    if "own80" in part:
        # what the inclusive coverage would be if the forecasts were exactly right: the mean of
        # each forecast's own probability of its integer interval (at least 0.80 / 0.95)
        out["calibrated_coverage_80"] = float(part["own80"].mean())
        out["calibrated_coverage_95"] = float(part["own95"].mean())
    return out


def verdicts(result: dict[str, Any], measure: str) -> dict[str, bool]:
    out = {}
    for key, target in TARGETS[measure].items():
        value = result.get(key)
        out[key] = value is not None and value <= target
    for key, (lo, hi) in COVERAGE_TARGETS.items():
        out[key] = lo <= result[key] <= hi
    for level, part in result["coverage_by_level"].items():
        out[f"coverage_95[{level}]"] = LEVEL_95[0] <= part["coverage_95"] <= LEVEL_95[1]
    return out


def peer_v2_main(work: Path) -> None:
    """Subprocess entry: the old engine (models/ from PANEL_V2_COMMIT, in `work`)."""
    sys.path.insert(0, str(work))
    months, panels, t, measure, h = pickle.loads((work / "job.pkl").read_bytes())
    out = v2_forecasts(months, panels, t, measure, h)
    (work / "out.pkl").write_bytes(pickle.dumps(out))


def holdout(args: argparse.Namespace) -> None:
    """Score the engine and its peers at the `--holdout` origins of the `--data` files."""
    if not args.holdout:
        raise DataError("--data needs the origins to score: --holdout YYYY-MM (repeat it)")
    for path in args.data:
        if not path.is_file():
            raise DataError(f"{path}: no such file")
    origins = holdout_months(args.holdout)
    bt = Backtest(args.measure, not args.no_prophet, not args.no_v2, args.data or None)
    for origin in origins:
        bt.check(origin)
    rows = bt.scored(origins, args.dump)
    data = args.data or DEMO
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "data": [p.name for p in data],
        "data_digest": data_digest(data),
        "measure": args.measure,
        "countries": [c.name for c in bt.countries],
        "holdout_origins": origins,
        "tuned_on_them": False,
        "seconds": {k: round(v, 1) for k, v in bt.seconds.items()},
        **summarise(rows, origins),
    }
    result["targets_met"] = verdicts(result, args.measure)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(json.dumps(result, indent=2, default=float))


def holdout_months(values: list[str]) -> list[str]:
    """The origins named, as sorted unique YYYY-MM strings."""
    out = set()
    for value in values:
        try:
            out.add(f"{pd.Timestamp(value):%Y-%m}")
        except ValueError:
            raise DataError(f"origin {value!r}: expected a month, YYYY-MM") from None
    return sorted(out)


def main() -> None:
    if "--peer-v2" in sys.argv:
        peer_v2_main(Path(sys.argv[sys.argv.index("--peer-v2") + 1]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", choices=("events", "fatalities"), default="events")
    parser.add_argument("--no-prophet", action="store_true")
    parser.add_argument("--no-v2", action="store_true", help="skip the pre-issue-17 engine")
    parser.add_argument("--origins", choices=("all", "tuning", "reporting"), default="all")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--dump", type=Path, default=None, help="keep every scored row (pickle)")
    parser.add_argument(
        "--fill-cache",
        action="store_true",
        help="only compute the cached peers (Prophet, panel_v2) and stop",
    )
    parser.add_argument(
        "--peers-from",
        type=Path,
        default=None,
        help="take Prophet's and panel_v2's scores from an earlier full run of the same points "
        "(results JSON) instead of their cache",
    )
    parser.add_argument("--config", action="append", default=[], help="PanelConfig key=value")
    parser.add_argument(
        "--data",
        type=Path,
        action="append",
        default=[],
        help="an event file to score on instead of the bundled UCDP data (repeat it; one source)",
    )
    parser.add_argument(
        "--holdout",
        action="append",
        default=[],
        metavar="YYYY-MM",
        help="score these origins only, the first forecast month (repeat it); writes --out only",
    )
    args = parser.parse_args()
    if args.data or args.holdout:
        from service.ingest.errors import IngestError

        try:
            holdout(args)
        except (DataError, IngestError) as exc:
            parser.exit(2, f"error: {exc}\n")
        return
    for item in args.config:
        key, value = item.split("=", 1)
        CONFIG[key] = float(value) if "." in value else int(value)
    name = "accuracy" if args.measure == "events" else f"accuracy-{args.measure}"
    out = args.out or HERE / "results" / f"{name}.json"
    origins = {"all": TUNING + REPORTING, "tuning": TUNING, "reporting": REPORTING}[args.origins]
    bt = Backtest(args.measure, prophet=not args.no_prophet, v2=not args.no_v2)
    if args.fill_cache:
        for origin in origins:
            bt.fill_cache(origin)
            print(f"{origin}: {bt.seconds}", file=sys.stderr, flush=True)
        return
    rows = bt.scored(origins, args.dump)
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "data": [p.name for p in DEMO],
        "measure": args.measure,
        "countries": [c.name for c in bt.countries],
        "tuning_origins": TUNING,
        "reporting_origins": REPORTING,
        "last_tuning_month_scored": "2018-09",
        "seconds": {k: round(v, 1) for k, v in bt.seconds.items()},
        "command": "bench/accuracy.py"
        + (" --no-prophet" if args.no_prophet else "")
        + (" --no-v2" if args.no_v2 else "")
        + f" --measure {args.measure}",
    }
    if set(TUNING) <= set(origins):
        result["tuning"] = summarise(rows, TUNING)
    if set(REPORTING) <= set(origins):
        result.update(summarise(rows, REPORTING))
        if args.peers_from is not None:
            earlier = json.loads(args.peers_from.read_text())
            source = str(args.peers_from.resolve().relative_to(ROOT))
            reuse_peers(result, earlier, source)
            tuning, was = result.get("tuning"), earlier.get("tuning")
            if tuning and was and tuning["points"] == was["points"]:
                reuse_peers(tuning, was, source)  # else other tuning origins: none to reuse
            result["command"] += f" --peers-from {source}"
        result["targets_met"] = verdicts(result, args.measure)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    show = {
        k: v for k, v in result.items() if k not in ("per_model", "coverage_by_level", "tuning")
    }
    print(json.dumps(show, indent=2, default=float))
    for part in ("tuning", None):
        block = result.get(part, {}) if part else result
        if "coverage_by_level" in block:
            print(part or "reporting", "by level:")
            for level, v in block["coverage_by_level"].items():
                print(
                    f"  {level:18s} "
                    + " ".join(f"{k}={v[k]:.3f}" for k in v if isinstance(v[k], float))
                )
        if part and part in result:
            t = result[part]
            print(
                part,
                {
                    k: t[k]
                    for k in t
                    if k.startswith(("crps", "coverage_", "pit_")) and not isinstance(t[k], dict)
                },
            )


if __name__ == "__main__":
    main()
