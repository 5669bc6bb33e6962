"""Benchmark of the REST API: forecast-by-series vs /health under load, on SQLite and PostgreSQL,
and consistency while a retrain publishes new runs.

    .venv/bin/python bench/api.py                # both backends, 20 s per load, writes results
    .venv/bin/python bench/api.py --seconds 5 --backends sqlite --no-write

A database with 10,000 series and a published run (12 months each) is built with bulk inserts;
`sahelcast serve --workers 2` serves it; load comes from a separate process: `wrk` (random
series through a Lua script) when installed, else a Python thread pool. The publication check
runs readers that verify every response against the run it names while another process keeps
publishing new runs (insert a run's forecasts, then flip the pointer in one transaction).
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import create_engine, delete, text, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service import migrate  # noqa: E402
from service.auth.service import create_key  # noqa: E402
from service.bulk import insert_frame  # noqa: E402
from service.db import make_engine, session_scope  # noqa: E402
from service.ingest.orm import Actor, Region, Source  # noqa: E402
from service.series.orm import Coverage, Series  # noqa: E402
from service.training.orm import Forecast, Publication, Run, RunSeries  # noqa: E402
from tests.service.serving import running_server  # noqa: E402

PG_ADMIN = os.environ.get(
    "SAHELCAST_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
RESULTS = ROOT / "bench" / "results" / "api.json"
N_SERIES, HORIZON = 10_000, 12
COUNTRIES = [
    "Mali",
    "Burkina Faso",
    "Niger",
    "Chad",
    "Mauritania",
    "Nigeria",
    "Cameroon",
    "Senegal",
    "Benin",
    "Togo",
]
EVENT_TYPES = [
    "Battles",
    "Violence against civilians",
    "Explosions/Remote violence",
    "Riots",
    "Protests",
    "Strategic developments",
]
FIRST_MONTH = dt.date(2025, 1, 1)


def expected_mean(run_id: int, series_id: int, horizon: int) -> float:
    """Forecast means encode their run, so a reader can tell runs apart in any response."""
    return run_id * 1000 + series_id % 997 + horizon / 100


# --- data ----------------------------------------------------------------------------------


def _months() -> list[dt.date]:
    return [(pd.Timestamp(FIRST_MONTH) + pd.DateOffset(months=h)).date() for h in range(HORIZON)]


def write_run(engine: Any, run_id: int, series_ids: range) -> None:
    """Insert a complete run (run_series + forecasts) without publishing it."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    months = _months()
    with session_scope(engine) as session:
        session.add(
            Run(
                id=run_id,
                status="running",
                executor="bench",
                params={},
                data_signature=f"{run_id:064d}",
                n_series=len(series_ids),
                n_failed=0,
                started_at=now,
                finished_at=now,
            )
        )
        session.flush()
        insert_frame(
            session,
            RunSeries.__table__,
            pd.DataFrame(
                {
                    "run_id": run_id,
                    "series_id": list(series_ids),
                    "status": "ok",
                    "model": "ets",
                    "trained_through": dt.date(2024, 12, 1),
                    "scores": "{}",
                    "failures": "{}",
                    "summary": "{}",
                    "seconds": 0.1,
                }
            ),
        )
        ids = [s for s in series_ids for _ in months]
        hs = [h + 1 for _ in series_ids for h in range(HORIZON)]
        means = [expected_mean(run_id, s, h) for s, h in zip(ids, hs, strict=True)]
        frame = pd.DataFrame(
            {
                "run_id": run_id,
                "series_id": ids,
                "month": months * len(series_ids),
                "horizon": hs,
                "mean": means,
            }
        )
        for name, factor in (
            ("q025", 0.2),
            ("q100", 0.4),
            ("q250", 0.7),
            ("q500", 0.95),
            ("q750", 1.3),
            ("q900", 1.7),
            ("q975", 2.1),
        ):
            frame[name] = frame["mean"] * factor
        frame["in_season"] = [m.month in (6, 7, 8, 9) for m in frame["month"]]
        insert_frame(session, Forecast.__table__, frame)


def publish_run(engine: Any, run_id: int) -> None:
    """Flip the publication pointer to `run_id` in one transaction (what training does)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with session_scope(engine) as session:
        session.execute(update(Run).where(Run.status == "published").values(status="superseded"))
        session.execute(
            update(Run).where(Run.id == run_id).values(status="published", published_at=now)
        )
        pointer = session.get(Publication, 1)
        if pointer is None:
            session.add(Publication(id=1, run_id=run_id, published_at=now))
        else:
            pointer.run_id, pointer.published_at = run_id, now


def drop_run(engine: Any, run_id: int) -> None:
    with session_scope(engine) as session:
        for table in (Forecast, RunSeries, Run):
            column = table.id if table is Run else table.run_id
            session.execute(delete(table).where(column == run_id))


def build_database(url: str) -> str:
    """Migrate, insert 10,000 series and a published run; return a read key."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    started = time.perf_counter()
    with session_scope(engine) as session:
        session.add(Source(id=1, name="acled"))
        session.flush()
        regions = [(c, f"{c} R{i}") for c in COUNTRIES for i in range(10)]
        insert_frame(
            session,
            Region.__table__,
            pd.DataFrame(
                {
                    "id": range(1, len(regions) + 1),
                    "country": [c for c, _ in regions],
                    "name": [n for _, n in regions],
                }
            ),
        )
        insert_frame(
            session,
            Actor.__table__,
            pd.DataFrame({"id": range(1, 51), "name": [f"Actor {i}" for i in range(1, 51)]}),
        )
        rows = []
        for n in range(N_SERIES):
            region_id = n % len(regions) + 1
            actor_id = (n // len(regions)) % 50 + 1
            event_type = EVENT_TYPES[(n // (len(regions) * 50)) % len(EVENT_TYPES)]
            country, region = regions[region_id - 1]
            rows.append(
                {
                    "id": n + 1,
                    "key": f"acled|{country}|{region}|Actor {actor_id}|{event_type}",
                    "level": "actor_region_type",
                    "source_id": 1,
                    "country": country,
                    "region_id": region_id,
                    "actor_id": actor_id,
                    "event_type": event_type,
                }
            )
        insert_frame(session, Series.__table__, pd.DataFrame(rows))
        for country in COUNTRIES:
            session.add(
                Coverage(
                    source_id=1,
                    country=country,
                    first_month=dt.date(2016, 1, 1),
                    last_complete_month=dt.date(2024, 12, 1),
                    last_event_date=dt.date(2024, 12, 31),
                )
            )
        _, token = create_key(session, "bench", "read")
    write_run(engine, 1, range(1, N_SERIES + 1))
    publish_run(engine, 1)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"  built {N_SERIES:,} series + run in {time.perf_counter() - started:.1f} s", flush=True)
    return token


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="sahelcast-bench-")
        try:
            yield f"sqlite:///{folder}/bench.db"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"sahelcast_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- server --------------------------------------------------------------------------------


@contextmanager
def server(url: str, workers: int) -> Iterator[int]:
    """`sahelcast serve --workers N` on a free port (the tests' helper), ready; yield the port."""
    env = {"SAHELCAST_DATABASE_URL": url, "SAHELCAST_LOG_LEVEL": "WARNING"}
    with tempfile.TemporaryDirectory(prefix="sahelcast-bench-") as folder:
        log = Path(folder) / "serve.log"
        with running_server(env, log, "--workers", str(workers)) as base:
            time.sleep(1.0)  # let every worker finish starting
            yield int(base.rsplit(":", 1)[1])


# --- load ----------------------------------------------------------------------------------

WRK_SCRIPT = """
math.randomseed(%(seed)d)
local headers = {["Authorization"] = "Bearer %(token)s"}
request = function()
  local path = "%(path)s"
  if path == "" then
    path = "/v1/series/" .. math.random(1, %(n)d) .. "/forecast"
  end
  return wrk.format("GET", path, headers)
end
done = function(summary, latency, requests)
  for _, p in ipairs({%(points)s}) do
    io.write(string.format("CDF %%g %%d\\n", p, latency:percentile(p)))
  end
  io.write(string.format("CDF 100 %%d\\n", latency.max))  -- percentile(100) reads 0
end
"""
# Latency percentiles wrk reports per round (microseconds), to merge rounds' distributions.
CDF_POINTS = [1, 5, 10, 25, 40, 50, 60, 75, 90, 95, 97, 98, 98.5, 99, 99.25, 99.5, 99.75, 99.9]


def _ms(value: str) -> float:
    number, unit = float(re.match(r"[\d.]+", value).group()), re.sub(r"[\d.]+", "", value)  # type: ignore[union-attr]
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk_load(port: int, token: str, path: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        points = ", ".join(str(p) for p in CDF_POINTS)
        script.write(
            WRK_SCRIPT % {"seed": 7, "token": token, "path": path, "n": N_SERIES, "points": points}
        )
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t",
                "1",
                "-c",
                str(connections),
                "-d",
                f"{seconds}s",
                "--latency",
                "-s",
                script.name,
                f"http://127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    cdf = [
        (float(p) / 100, int(us) / 1000) for p, us in re.findall(r"^CDF (\S+) (\d+)$", out, re.M)
    ]
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": _ms(latency["50"]),
        "p99_ms": _ms(latency["99"]),
        "errors": errors + (int(non_2xx.group(1)) if non_2xx else 0),
        "cdf": cdf,  # type: ignore[dict-item]
    }


def python_load(
    port: int, token: str, path: str, seconds: int, connections: int
) -> dict[str, float]:
    """Fallback without wrk: keep-alive connections in threads (slower than wrk, still useful)."""
    latencies: list[float] = []
    errors = [0]
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        while time.monotonic() < stop:
            target = path or f"/v1/series/{rng.randint(1, N_SERIES)}/forecast"
            start = time.perf_counter()
            try:
                connection.request("GET", target, headers={"Authorization": f"Bearer {token}"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    with lock:
                        errors[0] += 1
            except OSError:
                with lock:
                    errors[0] += 1
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "errors": errors[0],
    }


def load(port: int, token: str, path: str, seconds: int, connections: int) -> dict[str, float]:
    runner = wrk_load if shutil.which("wrk") else python_load
    return runner(port, token, path, seconds, connections)


# --- consistency during publication ---------------------------------------------------------


def publisher(url: str, stop_file: str) -> None:
    """Keep publishing new runs until `stop_file` exists (run in a separate process)."""
    engine = make_engine(url)
    run_id = 2
    while not os.path.exists(stop_file):
        write_run(engine, run_id, range(1, N_SERIES + 1))
        publish_run(engine, run_id)
        if run_id > 3:
            drop_run(engine, run_id - 2)  # retention: readers may still be on run_id - 1
        print(f"  published run {run_id}", flush=True)
        run_id += 1
    engine.dispose()


def check_during_publish(url: str, port: int, token: str, seconds: int) -> dict[str, int]:
    stop_file = tempfile.mktemp(prefix="sahelcast-bench-stop-")
    process = subprocess.Popen([sys.executable, __file__, "--publisher", url, stop_file], cwd=ROOT)
    counts = {"requests": 0, "errors": 0, "mixed_runs": 0}
    runs: set[int] = set()
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            series_id = rng.randint(1, N_SERIES)
            fmt = "csv" if rng.random() < 0.2 else "json"
            error = mixed = False
            run_id = None
            try:
                connection.request(
                    "GET",
                    f"/v1/series/{series_id}/forecast?format={fmt}",
                    headers={"Authorization": f"Bearer {token}"},
                )
                response = connection.getresponse()
                body = response.read().decode()
                if response.status != 200:
                    error = True
                elif fmt == "json":
                    data = json.loads(body)
                    run_id = data["run_id"]
                    mixed = len(data["months"]) != HORIZON or any(
                        m["mean"] != expected_mean(run_id, series_id, m["horizon"])
                        for m in data["months"]
                    )
                else:
                    rows = [line.split(",") for line in body.strip().splitlines()[1:]]
                    ids = {int(r[0]) for r in rows}
                    run_id = next(iter(ids)) if len(ids) == 1 else None
                    mixed = (
                        run_id is None
                        or len(rows) != HORIZON
                        or any(
                            float(r[6]) != expected_mean(run_id, series_id, int(r[5])) for r in rows
                        )
                    )
            except (OSError, ValueError, KeyError):
                error = True
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            with lock:
                counts["requests"] += 1
                counts["errors"] += error
                counts["mixed_runs"] += mixed
                if run_id is not None:
                    runs.add(run_id)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    Path(stop_file).touch()
    process.wait(120)
    os.unlink(stop_file)
    return {**counts, "runs_seen": len(runs)}


# --- main ----------------------------------------------------------------------------------


def _share_below(cdf: list[tuple[float, float]], ms: float) -> float:
    """The share of a round's requests faster than `ms`, interpolated in its percentiles."""
    if ms < cdf[0][1]:
        return cdf[0][0] * ms / cdf[0][1] if cdf[0][1] else cdf[0][0]
    for (p0, x0), (p1, x1) in zip(cdf, cdf[1:], strict=False):
        if x0 <= ms <= x1:
            return p0 if x1 == x0 else p0 + (p1 - p0) * (ms - x0) / (x1 - x0)
    return 1.0


def merged_percentile(rounds: list[dict[str, Any]], share: float) -> float:
    """The latency under which `share` of all rounds' requests fall (rounds weighted by count)."""
    weights = [r["rps"] for r in rounds]  # equal durations: request counts are proportional
    low, high = 0.0, max(r["cdf"][-1][1] for r in rounds)
    for _ in range(60):
        middle = (low + high) / 2
        below = sum(
            w * _share_below(r["cdf"], middle) for w, r in zip(weights, rounds, strict=True)
        )
        low, high = (middle, high) if below / sum(weights) < share else (low, middle)
    return high


def combine(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """Rounds of equal length: mean throughput, percentiles of all their requests, all errors."""
    merged = all(r.get("cdf") for r in rounds)
    return {
        "rps": statistics.fmean(r["rps"] for r in rounds),
        "p50_ms": merged_percentile(rounds, 0.50)
        if merged
        else statistics.median(r["p50_ms"] for r in rounds),
        "p99_ms": merged_percentile(rounds, 0.99) if merged else max(r["p99_ms"] for r in rounds),
        "errors": sum(r["errors"] for r in rounds),
        "worst_round_p99_ms": max(r["p99_ms"] for r in rounds),
    }


def interleaved(
    port: int, token: str, seconds: int, connections: int
) -> tuple[dict[str, float], ...]:
    """`seconds` of load on each endpoint, alternated in rounds of at most 5 s, so a change in
    what else the machine runs affects both the same way."""
    rounds = max(1, seconds // 5)
    forecast, health = [], []
    for _ in range(rounds):
        forecast.append(load(port, token, "", seconds // rounds, connections))
        health.append(load(port, token, "/health", seconds // rounds, connections))
    return combine(forecast), combine(health)


def bench_backend(backend: str, seconds: int, connections: int, workers: int) -> dict[str, Any]:
    print(f"{backend}:", flush=True)
    with database(backend) as url:
        token = build_database(url)
        with server(url, workers) as port:
            load(port, token, "", 5, connections)  # warm up connections and caches
            forecast, health = interleaved(port, token, seconds, connections)
            print(f"  forecast: {forecast}", flush=True)
            print(f"  health:   {health}", flush=True)
            during = check_during_publish(url, port, token, seconds)
            print(f"  during publication: {during}", flush=True)
    return {
        "forecast_rps": round(forecast["rps"], 1),
        "forecast_p50_ms": round(forecast["p50_ms"], 2),
        "forecast_p99_ms": round(forecast["p99_ms"], 2),
        "health_rps": round(health["rps"], 1),
        "errors": int(forecast["errors"] + health["errors"]),
        "during_publish": during,
    }


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--publisher":
        publisher(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--no-write", action="store_true", help="Do not write bench/results.")
    args = parser.parse_args()
    results: dict[str, Any] = {}
    for backend in args.backends.split(","):
        results[backend] = bench_backend(backend, args.seconds, args.connections, args.workers)
    backends = list(results)
    during = [results[b].pop("during_publish") for b in backends]
    results["during_publish"] = {
        "errors": sum(d["errors"] for d in during),
        "mixed_runs": sum(d["mixed_runs"] for d in during),
        "requests": sum(d["requests"] for d in during),
        "runs_seen": {b: d["runs_seen"] for b, d in zip(backends, during, strict=True)},
    }
    results["meta"] = {
        "date": dt.date.today().isoformat(),
        "series": N_SERIES,
        "horizon": HORIZON,
        "workers": args.workers,
        "connections": args.connections,
        "seconds": args.seconds,
        "load": "wrk" if shutil.which("wrk") else "python threads",
        "cores": os.cpu_count(),
    }
    print(json.dumps(results, indent=2))
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
