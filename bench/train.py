"""Training benchmark: a synthetic hierarchy through the default pipeline, a Prophet loop, the demo.

    .venv/bin/python bench/train.py [--series 10000] [--workers 2] [--prophet-sample 200]
    .venv/bin/python bench/train.py --series 100000 --prophet-sample 100 --skip-demo

1. Synthetic 120-month bottom series (actor x region x event type in six countries: dense,
   sparse and bursty; rainy-season effects of either sign; trends; a few regime changes where
   the level doubles or halves; NB noise) and every roll-up of both trees (actor x region,
   actor x country; region x event type, region, country) are written to a fresh SQLite
   database with coverage ending at month 108, `--series` series in all. Then `train` runs
   with the default settings on the process pool: the regime-aware panel engine, one panel
   for the source with its six countries (pooled season effects, the level filter and its
   learned rates, calibration backtests, coherent forecasts, outlooks, shift posteriors) and
   the writes, one transaction per country. Wall time and the peak RSS of the process tree
   (this process and its workers, psutil), beside the time of a fixed one-core workload
   (`machine_probe_ms`), so that a record made on a loaded or slower machine can be told from
   a slower engine.
2. The last 12 months were held out: CRPS and 80/95 % coverage of the published forecasts.
   The generator (NB counts around levels that trend, burst and change regime) is of the
   family the engine models, which flatters it: bench/accuracy.py measures it on real data.
3. A plain per-series Prophet loop (Prophet() defaults, one process) on a random sample of the
   same series with the same 108 months; its time is scaled to all series for the speed
   ratio, and both CRPS are taken on that sample.
4. The bundled UCDP demo file ingested into a temporary SQLite database and trained with the
   default settings.

Writes bench/results/train.json and appends a dated line to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DEMO = sorted((ROOT / "service" / "data" / "demo").glob("ucdp-ged-*.csv"))
TARGETS = {"wall_s": 60.0, "peak_mb": 2048.0, "speedup": 10.0, "crps_ratio": 0.9, "demo_s": 30.0}
# from 100,000 series on, the targets are wall time and memory only
LARGE, LARGE_TARGETS = 100_000, {"wall_s": 300.0, "peak_mb": 6144.0}
MONTHS, HELD_OUT = 120, 12
START = pd.Timestamp("2013-01-01")
PLACES = {
    "Mali": ["Mopti", "Segou", "Gao", "Tombouctou", "Menaka", "Kidal", "Sikasso"],
    "Burkina Faso": ["Sahel", "Nord", "Est", "Centre-Nord", "Boucle du Mouhoun", "Cascades"],
    "Niger": ["Tillaberi", "Tahoua", "Diffa", "Maradi", "Agadez"],
    "Chad": ["Lac", "Kanem", "Hadjer-Lamis", "Tibesti", "Ouaddai"],
    "Nigeria": ["Borno", "Yobe", "Adamawa", "Zamfara", "Katsina", "Sokoto"],
    "Mauritania": ["Hodh Ech Chargui", "Hodh El Gharbi", "Assaba", "Guidimaka"],
}
ROLLUPS = {  # level -> the labels it keeps (the rest are summed over)
    "actor_region": ("country", "region", "actor"),
    "actor_country": ("country", "actor"),
    "region_type": ("country", "region", "event_type"),
    "region": ("country", "region"),
    "country_type": ("country", "event_type"),  # beside the tree, as ingest writes it
    "country": ("country",),
}
EVENT_TYPES = ["Battles", "Violence against civilians", "Explosions/Remote violence",
               "Strategic developments", "Protests", "Riots"]  # fmt: skip
N_ACTORS = 500


class PeakRss:
    """Sample the resident memory of this process and all its descendants; keep the peak.

    Also keeps each process's CPU seconds: on a shared machine the CPU time tells what the
    run costs when wall time is inflated by other work.
    """

    def __init__(self, every: float = 0.2) -> None:
        import psutil

        self._root = psutil.Process()
        self._every = every
        self.peak_bytes = 0
        # MB at the peak: this process ("main") and its descendants ("others", largest first)
        self.at_peak: dict[str, Any] = {"main": 0.0, "others": []}
        self.cpu_by_pid: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        import psutil

        total = 0
        each: list[float] = []  # MB, this process first
        for proc in [self._root, *self._root.children(recursive=True)]:
            try:
                rss = proc.memory_info().rss
                times = proc.cpu_times()
                self.cpu_by_pid[proc.pid] = times.user + times.system
            except psutil.Error:
                continue  # a worker that just exited has no memory to count
            total += rss
            each.append(round(rss / 2**20, 1))
        if total > self.peak_bytes:
            main = each[0] if each else 0.0
            self.peak_bytes = total
            self.at_peak = {"main": main, "others": sorted(each[1:], reverse=True)}

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            self._sample()

    def __enter__(self) -> PeakRss:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    @property
    def cpu_s(self) -> float:
        return sum(self.cpu_by_pid.values())

    @property
    def mb(self) -> float:
        return self.peak_bytes / 2**20


def synthesize(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Return series metadata and counts (n, 120) that look like Sahel conflict data."""
    from models.seasons import season_features

    rng = np.random.default_rng(seed)
    places = [(c, r) for c, regions in PLACES.items() for r in regions]
    combos = len(places) * N_ACTORS * len(EVENT_TYPES)
    if n > combos:
        raise SystemExit(f"at most {combos} series")
    picks = rng.choice(combos, size=n, replace=False)
    place_i, rest = picks % len(places), picks // len(places)
    actor_i, type_i = rest % N_ACTORS, rest // N_ACTORS
    meta = pd.DataFrame({
        "country": [places[i][0] for i in place_i], "region": [places[i][1] for i in place_i],
        "actor": [f"Armed group {a:03d}" for a in actor_i],
        "event_type": [EVENT_TYPES[t] for t in type_i],
        "kind": rng.choice(["dense", "sparse", "bursty"], size=n, p=[0.4, 0.35, 0.25]),
    })  # fmt: skip
    index = pd.date_range(START, periods=MONTHS, freq="MS")
    share = {p: season_features(index, country=p[0], region=p[1])["season_share"].to_numpy()
             for p in places}  # fmt: skip
    shares = np.stack([share[places[i]] for i in place_i])
    years = np.arange(MONTHS) / 12.0
    # Rainy-season effects of either sign: lulls where rains cut roads, surges elsewhere.
    log_rr = rng.normal(0.0, 0.5, n)
    # A piecewise trend: one slope before a random break, another after.
    breaks = rng.uniform(3, 7, n)
    slope1, slope2 = rng.normal(0, 0.15, n), rng.normal(0, 0.3, n)
    trend = slope1[:, None] * np.minimum(years, breaks[:, None]) + slope2[:, None] * np.maximum(
        years - breaks[:, None], 0
    )
    trend -= trend[:, :1]
    base = np.where(meta["kind"] == "dense", rng.lognormal(np.log(8), 0.7, n),
                    np.where(meta["kind"] == "sparse", rng.uniform(0.15, 1.0, n),
                             rng.uniform(0.3, 1.5, n)))  # fmt: skip
    mean = base[:, None] * np.exp(np.clip(trend, -3, 2.5) + log_rr[:, None] * shares)
    bursty = np.flatnonzero(meta["kind"].to_numpy() == "bursty")
    for i in bursty:  # a few episodes of 2-6 months at 4-12 times the usual rate
        for _ in range(rng.poisson(2) + 1):
            start, length = rng.integers(0, MONTHS), rng.integers(2, 7)
            mean[i, start : start + length] *= rng.uniform(4, 12)
    # A few regime changes: the level doubles or halves from a month on, often late.
    for i in rng.choice(n, size=n // 20, replace=False):
        mean[i, rng.integers(MONTHS // 2, MONTHS - 6) :] *= rng.choice([0.5, 2.0, 3.0])
    alpha = rng.uniform(0.05, 0.5, n)[:, None]
    counts = rng.negative_binomial(1 / alpha, 1 / (1 + alpha * mean)).astype(np.int64)
    return meta, counts


def with_rollups(meta: pd.DataFrame, counts: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Add every roll-up of both trees (sums of the bottom series) after the bottoms."""
    metas, blocks = [meta.assign(level="actor_region_type")], [counts]
    for level, keep in ROLLUPS.items():
        groups = meta.groupby(list(keep), sort=True).indices
        rows = []
        for labels, idx in groups.items():
            labels = labels if isinstance(labels, tuple) else (labels,)
            rows.append({**dict(zip(keep, labels, strict=True)), "level": level})
            blocks.append(counts[idx].sum(axis=0, keepdims=True))
        metas.append(pd.DataFrame(rows))
    out = pd.concat(metas, ignore_index=True)
    for column in ("region", "actor", "event_type"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out, np.vstack(blocks)


def bottoms_for(total: int, seed: int) -> int:
    """How many bottom series give at least `total` series with their roll-ups."""
    n = total // 2
    for _ in range(4):  # the roll-ups per bottom fall as the bottoms fill the places
        have = len(with_rollups(*synthesize(n, seed))[0])
        if have >= total:
            return n
        n = int(n * total / have * 1.01) + 1
    return n


def build_database(url: str, meta: pd.DataFrame, counts: np.ndarray) -> None:
    """Write sources, places, actors, series, months and coverage (through month 108)."""
    places = [(country, name) for country, names in PLACES.items() for name in names]
    write_database(url, "acled", places, meta, counts, counts, START, MONTHS - HELD_OUT)


def write_database(
    url: str,
    source_name: str,
    places: list[tuple[str, str]],
    meta: pd.DataFrame,
    events: np.ndarray,
    deaths: np.ndarray,
    start: pd.Timestamp,
    known: int,
) -> None:
    """A migrated database with one source, the regions `places` ((country, region) pairs),
    each of their countries covered for `known` months from `start`, the actors and series of
    `meta` (series ids 1..n in its row order) and their observed months (also bench/alerts.py)."""
    from service import migrate
    from service.bulk import insert_frame
    from service.db import make_engine, session_scope
    from service.ingest.orm import Actor, Region, Source
    from service.series.aggregate import series_key
    from service.series.orm import Coverage, Observation, Series

    engine = make_engine(url)
    migrate.upgrade(engine)
    last = (start + pd.DateOffset(months=known - 1)).date()
    with session_scope(engine) as session:
        source = Source(name=source_name)
        session.add(source)
        session.flush()
        regions = {}
        for country, name in places:
            region = Region(country=country, name=name)
            session.add(region)
            session.flush()
            regions[(country, name)] = region.id
        for country in dict.fromkeys(country for country, _ in places):
            session.add(Coverage(source_id=source.id, country=country, first_month=start.date(),
                                 last_complete_month=last,
                                 last_event_date=(pd.Timestamp(last) + pd.offsets.MonthEnd(0))
                                 .date()))  # fmt: skip
        actors = {}
        for name in sorted(meta["actor"].dropna().unique()):
            actor = Actor(name=name)
            session.add(actor)
            session.flush()
            actors[name] = actor.id
        series = pd.DataFrame({
            "id": np.arange(1, len(meta) + 1),
            "key": [series_key(source_name, c, r, a, t) for c, r, a, t in
                    zip(meta["country"], meta["region"], meta["actor"], meta["event_type"],
                        strict=True)],
            "level": meta["level"], "source_id": source.id, "country": meta["country"],
            "region_id": pd.array([regions[(c, r)] if r else None for c, r in
                                   zip(meta["country"], meta["region"], strict=True)],
                                  dtype="Int64"),
            "actor_id": pd.array([actors[a] if a else None for a in meta["actor"]],
                                 dtype="Int64"),
            "event_type": meta["event_type"],
        })  # fmt: skip
        insert_frame(session, Series.__table__, series)
        insert_frame(session, Observation.__table__,
                     observation_rows(events, deaths, start, 0, known))  # fmt: skip
    engine.dispose()


def observation_rows(
    events: np.ndarray, deaths: np.ndarray, start: pd.Timestamp, first: int, stop: int
) -> pd.DataFrame:
    """The `observations` rows of months first..stop-1 (from `start`) with an event or a death."""
    months = pd.date_range(start, periods=stop, freq="MS").strftime("%Y-%m-%d")
    rows, cols = np.nonzero(events[:, first:stop] + deaths[:, first:stop])
    cols = cols + first
    return pd.DataFrame({
        "series_id": rows + 1, "month": np.asarray(months)[cols],
        "events": events[rows, cols], "fatalities": deaths[rows, cols],
    })  # fmt: skip


def train_pipeline(url: str, workers: int) -> tuple[Any, float, float, float, dict[str, Any]]:
    """Train with the default settings on the process pool; return outcome, wall, peak MB, the
    CPU seconds of the process tree and the MB of each of its processes at the peak."""
    from service.config import Settings
    from service.db import make_engine
    from service.training.service import TrainRequest, train

    settings = Settings(database_url=url, train_executor="processes", train_workers=workers)
    engine = make_engine(url)
    # Every generated series is trained (a sparse one may have fewer than the default 10).
    request = TrainRequest.from_settings(settings, min_events=1)
    import psutil

    before = psutil.Process().cpu_times()  # this process's CPU before the run is not the run's
    started = time.perf_counter()
    with PeakRss() as memory:
        outcome = train(engine, settings, request)
    wall = time.perf_counter() - started
    engine.dispose()
    return outcome, wall, memory.mb, memory.cpu_s - before.user - before.system, memory.at_peak


def pipeline_crps(url: str, run_id: int, truth: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Per-series CRPS of the run's 12 forecasts against the held-out months, and coverage."""
    from sqlalchemy import select

    from models.metrics import crps
    from service.db import make_engine, session_scope
    from service.training.orm import Forecast

    engine = make_engine(url)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Forecast.series_id, Forecast.horizon, Forecast.mean, Forecast.q025,
                   Forecast.q100, Forecast.q250, Forecast.q500, Forecast.q750, Forecast.q900,
                   Forecast.q975).where(Forecast.run_id == run_id)
        ).all()  # fmt: skip
    engine.dispose()
    frame = pd.DataFrame(rows, columns=["series_id", "horizon", "mean", *range(7)])
    frame = frame.sort_values(["series_id", "horizon"])
    sid, h = frame["series_id"].to_numpy() - 1, frame["horizon"].to_numpy() - 1
    y = truth[sid, MONTHS - HELD_OUT + h].astype(float)
    q = frame[list(range(7))].to_numpy()
    points = crps(y, frame["mean"].to_numpy(), q, np.ones(len(y)))
    out = np.full(truth.shape[0], np.nan)
    per_series = pd.Series(points).groupby(sid).mean()
    out[per_series.index.to_numpy()] = per_series.to_numpy()
    coverage = {"80": float(((q[:, 1] <= y) & (y <= q[:, 5])).mean()),
                "95": float(((q[:, 0] <= y) & (y <= q[:, 6])).mean())}  # fmt: skip
    return out, coverage


def prophet_loop(counts: np.ndarray) -> tuple[float, np.ndarray]:
    """Fit default Prophet per series on 108 months; return seconds and per-series CRPS."""
    from prophet import Prophet

    from models.base import QUANTILES
    from models.metrics import crps

    for name in ("cmdstanpy", "prophet"):
        logging.getLogger(name).setLevel(logging.ERROR)
    known = MONTHS - HELD_OUT
    ds = pd.date_range(START, periods=MONTHS, freq="MS")
    scores = []
    started = time.perf_counter()
    for i, row in enumerate(counts):
        np.random.seed(i)
        model = Prophet()
        model.fit(pd.DataFrame({"ds": ds[:known], "y": row[:known].astype(float)}))
        future = pd.DataFrame({"ds": ds[known:]})
        samples = np.clip(model.predictive_samples(future)["yhat"], 0, None)
        q = np.quantile(samples, QUANTILES, axis=1).T
        y = row[known:].astype(float)
        scores.append(crps(y, samples.mean(axis=1), q, np.ones(len(y))).mean())
    return time.perf_counter() - started, np.asarray(scores)


def demo_timing(work: Path) -> tuple[float, float]:
    """Ingest the bundled demo into a temporary SQLite database and train it as `make run` does:
    every measure of SAHELCAST_TRAIN_MEASURES (events, then fatalities)."""
    from service import migrate
    from service.config import Settings
    from service.db import make_engine
    from service.ingest.service import ingest_file
    from service.training.service import TrainRequest, train_measures

    url = f"sqlite:///{work / 'demo.db'}"
    settings = Settings(database_url=url)
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    for path in DEMO:
        ingest_file(engine, path, settings)
    ingested = time.perf_counter()
    train_measures(engine, settings, TrainRequest.from_settings(settings))
    trained = time.perf_counter()
    engine.dispose()
    return ingested - started, trained - ingested


def machine_probe_ms(repeats: int = 7) -> float:
    """The median time of a fixed one-core workload (sorting a million numbers, then a
    pure-Python loop): recorded beside the timings, so a run on a loaded or slower machine
    can be told from a slower engine."""
    data = np.random.default_rng(0).random(1_000_000)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        np.sort(data)
        total = 0
        for k in range(200_000):
            total += k % 7
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--prophet-sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-demo", action="store_true")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="default results/train.json (train-100k.json from 100,000 series)",
    )
    parser.add_argument(
        "--no-record",
        action="store_true",
        help="print the results only: neither the JSON (unless --out is given) nor RESULTS.md",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    name = "train-100k" if args.series >= LARGE else "train"
    if args.out is None and not args.no_record:
        args.out = HERE / "results" / f"{name}.json"

    probe_ms = machine_probe_ms()
    with tempfile.TemporaryDirectory(prefix="sahelcast-bench-") as tmp:
        work = Path(tmp)
        meta, counts = with_rollups(*synthesize(bottoms_for(args.series, args.seed), args.seed))
        url = f"sqlite:///{work / 'bench-train.db'}"
        started = time.perf_counter()
        build_database(url, meta, counts)
        print(f"database: {len(meta)} series in {time.perf_counter() - started:.1f} s",
              flush=True)  # fmt: skip
        outcome, wall, peak_mb, cpu_s, at_peak = train_pipeline(url, args.workers)
        print(f"train: {outcome.n_series} series, {outcome.n_failed} failed, {wall:.1f} s, "
              f"peak {peak_mb:.0f} MB", flush=True)  # fmt: skip
        ours, coverage = pipeline_crps(url, outcome.run_id, counts)
        sample = np.sort(np.random.default_rng(args.seed + 1).choice(
            len(meta), size=min(args.prophet_sample, len(meta)), replace=False))  # fmt: skip
        prophet_s, prophet_crps = prophet_loop(counts[sample])
        print(f"prophet loop: {len(sample)} series in {prophet_s:.1f} s", flush=True)
        demo_ingest_s, demo_train_s = (None, None) if args.skip_demo else demo_timing(work)

    per_series_ours = wall / outcome.n_series
    per_series_prophet = prophet_s / len(sample)
    ours_on_sample = ours[sample]
    result = {
        "date": dt.date.today().isoformat(),
        "series": int(outcome.n_series),
        "generated": int(len(meta)),
        "levels": {k: int(v) for k, v in meta["level"].value_counts().items()},
        "failed": int(outcome.n_failed),
        "months": MONTHS,
        "held_out_months": HELD_OUT,
        "workers": args.workers,
        "wall_s": round(wall, 2),
        "peak_mb": round(peak_mb, 1),
        "peak_mb_by_process": at_peak,
        "ms_per_series": round(1000 * per_series_ours, 2),
        "cpu_s": round(cpu_s, 1),
        "cpu_ms_per_series": round(1000 * cpu_s / outcome.n_series, 2),
        "machine_probe_ms": round(probe_ms, 1),
        "prophet_sample": len(sample),
        "prophet_loop_s": round(prophet_s, 2),
        "prophet_ms_per_series": round(1000 * per_series_prophet, 2),
        "prophet_loop_scaled_s": round(per_series_prophet * outcome.n_series, 1),
        "speedup_vs_prophet_loop": round(per_series_prophet / per_series_ours, 2),
        "crps_pipeline_all": round(float(np.nanmean(ours)), 4),
        "crps_pipeline_sample": round(float(np.nanmean(ours_on_sample)), 4),
        "crps_prophet_sample": round(float(np.mean(prophet_crps)), 4),
        "crps_ratio_vs_prophet_loop": round(
            float(np.nanmean(ours_on_sample) / np.mean(prophet_crps)), 4
        ),
        "series_better_than_prophet": round(float(np.mean(ours_on_sample <= prophet_crps)), 3),
        "coverage_80": round(coverage["80"], 4),
        "coverage_95": round(coverage["95"], 4),
        "demo_ingest_s": None if demo_ingest_s is None else round(demo_ingest_s, 2),
        "demo_train_s": None if demo_train_s is None else round(demo_train_s, 2),
        "targets": TARGETS,
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    if not args.no_record:
        _record(result)


def _record(r: dict[str, Any]) -> None:
    sys.path.insert(0, str(HERE))
    from record import note

    if r["series"] >= LARGE:
        checks = [r["wall_s"] <= LARGE_TARGETS["wall_s"],
                  r["peak_mb"] <= LARGE_TARGETS["peak_mb"]]  # fmt: skip
        goals = "≤300 s / ≤6 GB at 100k"
    else:
        checks = [r["wall_s"] <= TARGETS["wall_s"] or r["series"] < 10_000,
                  r["peak_mb"] <= TARGETS["peak_mb"],
                  r["speedup_vs_prophet_loop"] >= TARGETS["speedup"],
                  r["crps_ratio_vs_prophet_loop"] <= TARGETS["crps_ratio"],
                  r["demo_train_s"] is None or r["demo_train_s"] <= TARGETS["demo_s"]]  # fmt: skip
        goals = "≤60 s at 10k / ≤2 GB / ≥10x / ≤0.9 / demo ≤30 s"
    verdict = "meets" if all(checks) else "MISSES"
    demo = (
        ""
        if r["demo_train_s"] is None
        else f", demo train (both measures) {r['demo_train_s']:.1f} s"
    )
    line = (
        f"- {r['date']} train (panel engine): {r['series']:,} synthetic series with roll-ups "
        f"(120 months, 12 held out), {r['workers']} worker processes, {r['wall_s']:.1f} s "
        f"({r['ms_per_series']:.1f} ms/series; CPU {r['cpu_s']:.0f} s over the process tree), "
        f"peak {r['peak_mb']:.0f} MB; vs a default-Prophet loop on {r['prophet_sample']} of them "
        f"(scaled): {r['speedup_vs_prophet_loop']:.1f}x faster, CRPS ratio "
        f"{r['crps_ratio_vs_prophet_loop']:.3f}; held-out coverage 80 % {r['coverage_80']:.3f}, "
        f"95 % {r['coverage_95']:.3f}{demo}; machine probe {r['machine_probe_ms']:.0f} ms "
        f"({verdict} {goals}) — "
        f"`python bench/train.py --series {r['generated']}`"
    )
    note(line)


if __name__ == "__main__":
    main()
