"""Accuracy benchmark of the panel engine on real data (UCDP GED, Burkina Faso 2016-2022).

    .venv/bin/python bench/accuracy.py [--no-prophet] [--no-current] [--origins all|tuning]
    .venv/bin/python bench/accuracy.py --measure fatalities   # deaths: accuracy-fatalities.json

The bundled extract is ingested by the service into a temporary SQLite database and read back
as the service's panel: every level of both trees (region x event type, region, country;
actor x region x event type, actor x region, actor x country). At rolling origins every three
months the engine is fitted on the months before the origin only (its own calibration origins
lie before it too) and forecasts 1-12 months ahead; the peers forecast the same series from
the same history: seasonal naive, no change (mean of the last three months, Poisson), default
Prophet (plain `Prophet()` per series) and the current per-series engine (the backtested model
selection of the first release, `models.select_and_forecast`).

Tuning and reporting origins are kept apart. Every default of the engine (smoothing grid,
dispersion shrinkage, calibration cells, sample size) was set looking only at the synthetic
panels of the tests and at the TUNING origins (2019-01 .. 2019-10); the REPORTING origins
(2020-01 .. 2022-01) were run once the defaults were fixed, and their figures are the ones in
bench/results/accuracy.json. The fatalities (`--measure fatalities`) were never tuned on: the
engine's defaults are the events', and every origin of theirs reports. Scores: CRPS (twice the
mean pinball loss over the 7 quantiles, the same for every model), ratio of mean CRPS over all
series x origins x horizons; coverage counts an outcome on an interval bound as inside.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from models.base import QUANTILE_COLUMNS, QUANTILES, future_index  # noqa: E402
from models.panel.engine import ENGINE, PanelEngine, interval_crps  # noqa: E402
from models.panel.peers import peer_forecasts  # noqa: E402
from models.prophet_model import quiet_prophet  # noqa: E402
from models.seasons import season_features  # noqa: E402
from models.selection import select_and_forecast  # noqa: E402

DEMO = ROOT / "service" / "data" / "demo" / "ucdp-ged-burkina-faso-2016-2022.csv"
H = 12
TUNING = [f"2019-{m:02d}" for m in (1, 4, 7, 10)]
REPORTING = [f"{y}-{m:02d}" for y in (2020, 2021) for m in (1, 4, 7, 10)] + ["2022-01"]
BANDS = {"1-3": (1, 3), "4-6": (4, 6), "7-12": (7, 12)}
TARGETS = {"crps_ratio_vs_seasonal_naive": 0.80, "crps_ratio_vs_no_change": 0.90,
           "crps_ratio_vs_prophet_default": 0.85, "coverage_80": (0.75, 0.85),
           "coverage_95": (0.90, 0.98)}  # fmt: skip
LEVELS = np.asarray(QUANTILES)


def load_demo_panel(measure: str = "events") -> Any:
    """Ingest the demo with the service and read its one panel back (its events or its deaths),
    as training does."""
    from service import migrate
    from service.config import Settings
    from service.db import make_engine, session_scope
    from service.ingest.service import ingest_file
    from service.series.repository import SeriesFilter
    from service.training.data import select_series
    from service.training.panels import load_panel, panel_names

    folder = Path(tempfile.mkdtemp(prefix="sahelcast-bench-"))
    url = f"sqlite:///{folder / 'bench.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    ingest_file(engine, DEMO, Settings(database_url=url, data_dir=folder))
    with session_scope(engine) as session:
        infos = select_series(session, SeriesFilter(), 0)
        panel = load_panel(session, panel_names(infos)[0], infos, measure)
    engine.dispose()
    return panel


class Backtest:
    """Rolling-origin forecasts of every node by every model, as long rows."""

    def __init__(self, panel: Any, prophet: bool, current: bool) -> None:
        self.panel = panel
        self.months = pd.date_range(panel.start, periods=panel.y.shape[1], freq="MS")
        self.prophet, self.current = prophet, current
        probe = PanelEngine(panel.labels, panel.y, self.months, country=panel.country,
                            name=panel.name)  # fmt: skip
        self.nodes = probe.trees.nodes
        self.summing = probe.trees.summing
        self.node_y = np.asarray(self.summing @ panel.y)
        self.seconds: dict[str, float] = {}

    def at(self, origin: str) -> pd.DataFrame:
        t = int(np.flatnonzero(self.months == pd.Timestamp(origin))[0])
        h = min(H, len(self.months) - t)
        observed = self.node_y[:, t : t + h]
        out = []
        started = time.perf_counter()
        result = PanelEngine(self.panel.labels, self.panel.y[:, :t], self.months[:t],
                             country=self.panel.country, name=self.panel.name).run()  # fmt: skip
        self._tick(ENGINE, started)
        fc = result.forecast.sort_values(["node", "horizon"])
        mean = fc["mean"].to_numpy().reshape(len(self.nodes), -1)[:, :h]
        q = fc[list(QUANTILE_COLUMNS)].to_numpy().reshape(len(self.nodes), -1, 7)[:, :h]
        out.append(self._rows(origin, ENGINE, mean, q, observed))
        started = time.perf_counter()
        for name, (pm, pq) in peer_forecasts(self.node_y[:, :t], h).items():
            out.append(self._rows(origin, name, pm, pq, observed))
        self._tick("peers", started)
        if self.prophet:
            started = time.perf_counter()
            pm, pq = self._per_node(t, h, prophet_default)
            out.append(self._rows(origin, "prophet_default", pm, pq, observed))
            self._tick("prophet_default", started)
        if self.current:
            started = time.perf_counter()
            pm, pq = self._per_node(t, h, self._current_engine)
            out.append(self._rows(origin, "current_engine", pm, pq, observed))
            self._tick("current_engine", started)
        return pd.concat(out, ignore_index=True)

    def _tick(self, name: str, started: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def _per_node(self, t: int, h: int, fit: Any) -> tuple[np.ndarray, np.ndarray]:
        means, qs = np.zeros((len(self.nodes), h)), np.zeros((len(self.nodes), h, 7))
        for n in range(len(self.nodes)):
            y = pd.Series(self.node_y[n, :t], index=self.months[:t])
            means[n], qs[n] = fit(y, h, self.nodes.iloc[n])
        return means, qs

    def _current_engine(self, y: pd.Series, h: int, node: pd.Series) -> tuple[Any, Any]:
        region = node["region"] if isinstance(node["region"], str) else None
        months = y.index.append(future_index(y.index, h))
        X = season_features(months, country=self.panel.country, region=region)
        result = select_and_forecast(y, horizon=h, X=X, seed=0)
        f = result.forecast
        return f["mean"].to_numpy(), f[list(QUANTILE_COLUMNS)].to_numpy()

    def _rows(self, origin: str, model: str, mean: np.ndarray, q: np.ndarray,
              observed: np.ndarray) -> pd.DataFrame:  # fmt: skip
        n, h = mean.shape
        return pd.DataFrame({
            "origin": origin, "model": model,
            "node": np.repeat(np.arange(n), h),
            "level": np.repeat(self.nodes["level"].to_numpy(), h),
            "horizon": np.tile(np.arange(1, h + 1), n),
            "y": observed.ravel(), "mean": mean.ravel(),
            **{c: q[:, :, j].ravel() for j, c in enumerate(QUANTILE_COLUMNS)},
        })  # fmt: skip


def prophet_default(y: pd.Series, h: int, node: pd.Series) -> tuple[Any, Any]:
    """The peer: plain `Prophet()` on raw counts; quantiles from its predictive samples,
    floored at zero (counts cannot be negative, and the floor can only help it)."""
    with quiet_prophet(0), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from prophet import Prophet

        model = Prophet().fit(pd.DataFrame({"ds": y.index, "y": y.to_numpy()}))
        idx = future_index(y.index, h)
        draws = np.clip(model.predictive_samples(pd.DataFrame({"ds": idx}))["yhat"], 0, None)
    q = np.maximum.accumulate(np.quantile(draws, QUANTILES, axis=1).T, axis=1)
    return draws.mean(axis=1), q


def summarise(rows: pd.DataFrame, origins: list[str]) -> dict[str, Any]:
    rows = rows[rows["origin"].isin(origins)].copy()
    q = rows[list(QUANTILE_COLUMNS)].to_numpy()
    y = rows["y"].to_numpy()
    rows["crps"] = interval_crps(y, q, LEVELS)
    rows["in80"] = (q[:, 1] <= y) & (y <= q[:, 5])
    rows["in95"] = (q[:, 0] <= y) & (y <= q[:, 6])
    per_model = rows.groupby("model").agg(crps=("crps", "mean"), coverage_80=("in80", "mean"),
                                          coverage_95=("in95", "mean"),
                                          points=("crps", "size"))  # fmt: skip
    engine = per_model.loc[ENGINE, "crps"]

    def ratio(peer: str) -> float | None:
        return float(engine / per_model.loc[peer, "crps"]) if peer in per_model.index else None

    own = rows[rows["model"] == ENGINE]
    busy = own[own["mean"] >= 2]  # where an integer interval can cover near nominal
    bands = {}
    for name, (lo, hi) in BANDS.items():
        part = own[own["horizon"].between(lo, hi)]
        bands[name] = {"80": float(part["in80"].mean()), "95": float(part["in95"].mean()),
                       "points": int(len(part))}  # fmt: skip
    by_level = {}
    for level, part in rows.groupby("level"):
        m = part.groupby("model")["crps"].mean()
        e = part[part["model"] == ENGINE]
        by_level[str(level)] = {
            "series": int(part["node"].nunique()),
            **{f"crps_ratio_vs_{p}": float(m[ENGINE] / m[p]) for p in m.index if p != ENGINE
               and m[p] > 0},
            "coverage_80": float(e["in80"].mean()), "coverage_95": float(e["in95"].mean()),
        }  # fmt: skip
    return {
        "crps_ratio_vs_seasonal_naive": ratio("seasonal_naive"),
        "crps_ratio_vs_no_change": ratio("poisson_last"),
        "crps_ratio_vs_prophet_default": ratio("prophet_default"),
        "crps_ratio_vs_current_engine": ratio("current_engine"),
        "coverage_80": float(own["in80"].mean()),
        "coverage_95": float(own["in95"].mean()),
        "coverage_by_horizon": bands,
        "coverage_mean_at_least_2": {
            "80": float(busy["in80"].mean()),
            "95": float(busy["in95"].mean()),
            "points": int(len(busy)),
        },  # fmt: skip
        "per_model": {m: {k: float(v) for k, v in r.items()} for m, r in per_model.iterrows()},
        "by_level": by_level,
    }


def verdicts(result: dict[str, Any]) -> dict[str, bool]:
    out = {}
    for key in ("crps_ratio_vs_seasonal_naive", "crps_ratio_vs_no_change",
                "crps_ratio_vs_prophet_default"):  # fmt: skip
        value = result.get(key)
        out[key] = value is not None and value <= TARGETS[key]
    for band, cov in result["coverage_by_horizon"].items():
        out[f"coverage_80[{band}]"] = TARGETS["coverage_80"][0] <= cov["80"] <= TARGETS[
            "coverage_80"][1]  # fmt: skip
        out[f"coverage_95[{band}]"] = TARGETS["coverage_95"][0] <= cov["95"] <= TARGETS[
            "coverage_95"][1]  # fmt: skip
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-prophet", action="store_true", help="skip default Prophet")
    parser.add_argument("--no-current", action="store_true",
                        help="skip the current per-series engine")  # fmt: skip
    parser.add_argument("--origins", choices=("tuning", "reporting", "all"), default="all")
    parser.add_argument("--measure", choices=("events", "fatalities"), default="events")
    parser.add_argument("--out", type=Path, help="[default: results/accuracy[-MEASURE].json]")
    args = parser.parse_args()
    suffix = "" if args.measure == "events" else f"-{args.measure}"
    args.out = args.out or HERE / "results" / f"accuracy{suffix}.json"
    panel = load_demo_panel(args.measure)
    bt = Backtest(panel, prophet=not args.no_prophet, current=not args.no_current)
    origins = {"tuning": TUNING, "reporting": REPORTING, "all": TUNING + REPORTING}[args.origins]
    frames = []
    for origin in origins:
        frames.append(bt.at(origin))
        spent = ", ".join(f"{k} {v:.0f}s" for k, v in bt.seconds.items())
        print(f"origin {origin}: done ({spent})", flush=True)
    rows = pd.concat(frames, ignore_index=True)
    result: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "data": DEMO.name,
        "measure": args.measure,
        "series": int(len(bt.nodes)),
        "levels": bt.nodes["level"].value_counts().to_dict(),
        "horizons": H,
        "tuning_origins": TUNING,
        "reporting_origins": REPORTING,
        "seconds": bt.seconds,
        "command": "bench/accuracy.py"
        + (" --no-prophet" if args.no_prophet else "")
        + (" --no-current" if args.no_current else "")
        + f" --measure {args.measure}",
    }
    if set(REPORTING) <= set(origins):
        result.update(summarise(rows, REPORTING))
        result["targets_met"] = verdicts(result)
    if set(TUNING) <= set(origins):
        result["tuning"] = summarise(rows, TUNING)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    print(
        json.dumps(
            {k: v for k, v in result.items() if k not in ("per_model", "by_level", "tuning")},
            indent=2,
            default=float,
        )
    )
    if "tuning" in result:
        t = result["tuning"]
        print("tuning:", {k: t[k] for k in ("crps_ratio_vs_seasonal_naive",
                                             "crps_ratio_vs_no_change", "coverage_80",
                                             "coverage_95", "coverage_by_horizon")})  # fmt: skip


if __name__ == "__main__":
    main()
