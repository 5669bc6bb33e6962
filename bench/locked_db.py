"""A locked database: how fast the API says 503 while a table is held for 45 seconds.

    .venv/bin/python bench/locked_db.py [--requests 80] [--hold 45]

PostgreSQL only (SQLite readers are never blocked by a writer, in WAL mode). The database of
bench/api.py (10,000 series, a published run) is served by `sahelcast serve --workers 2` with
the default SAHELCAST_DB_TIMEOUT_SECONDS; another connection takes ACCESS EXCLUSIVE locks on
the tables reads use (as a migration would) and holds them; 80 concurrent reads (forecasts,
the catalogue, anomalies, /ready) are timed. Every one must answer 503 problem+json within the
timeout; after the lock is let go they answer 200 again. Writes bench/results/locked_db.json and
appends a line to bench/RESULTS.md. Timings are upper bounds on a shared machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

TABLES = "series, forecasts, run_series, publication, anomalies"
PATHS = ["/v1/series/{n}/forecast", "/v1/series?limit=5", "/v1/anomalies", "/ready"]


def _get(base: str, path: str, token: str, out: list[dict[str, object]]) -> None:
    import httpx

    started = time.perf_counter()
    try:
        response = httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        status, kind = response.status_code, response.headers.get("content-type", "")
    except httpx.HTTPError as error:
        status, kind = 0, type(error).__name__
    out.append(
        {"path": path, "status": status, "type": kind, "seconds": time.perf_counter() - started}
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=80)
    parser.add_argument("--hold", type=float, default=45.0)
    args = parser.parse_args()
    from api import build_database, database, server
    from record import record
    from sqlalchemy import create_engine, text

    from service.config import Settings
    from service.db import normalize_url

    timeout = Settings().db_timeout_seconds
    with database("postgresql") as url:
        token = build_database(url)
        with server(url, 2) as port:
            base = f"http://127.0.0.1:{port}"
            holder = create_engine(normalize_url(url)).connect()
            holder.execute(text(f"LOCK TABLE {TABLES} IN ACCESS EXCLUSIVE MODE"))
            locked_at = time.perf_counter()
            answers: list[dict[str, object]] = []
            threads = [
                threading.Thread(
                    target=_get, args=(base, PATHS[i % len(PATHS)].format(n=i + 1), token, answers)
                )
                for i in range(args.requests)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            answered_in = time.perf_counter() - locked_at
            time.sleep(max(args.hold - (time.perf_counter() - locked_at), 0))
            holder.rollback()
            holder.close()
            after: list[dict[str, object]] = []
            for path in PATHS:
                _get(base, path.format(n=1), token, after)
    seconds = [float(a["seconds"]) for a in answers]  # type: ignore[arg-type]
    problems = sum(a["status"] == 503 and "problem+json" in str(a["type"]) for a in answers)
    result = {
        "date": dt.date.today().isoformat(),
        "timeout_seconds": timeout,
        "hold_seconds": args.hold,
        "requests": args.requests,
        "answered_503_problem": problems,
        "max_seconds": round(max(seconds), 2),
        "median_seconds": round(statistics.median(seconds), 2),
        "all_answered_within_s": round(answered_in, 2),
        "after_release": [a["status"] for a in after],
    }
    meets = (
        problems == args.requests
        and max(seconds) <= timeout
        and all(a["status"] == 200 for a in after)
    )
    result["meets"] = meets
    line = (
        f"- {result['date']} locked database (PostgreSQL, ACCESS EXCLUSIVE on {TABLES} for "
        f"{args.hold:g} s, `serve --workers 2`, SAHELCAST_DB_TIMEOUT_SECONDS={timeout:g}): "
        f"{problems}/{args.requests} concurrent reads answered 503 problem+json, median "
        f"{result['median_seconds']} s, max {result['max_seconds']} s; 200 again after the "
        f"release ({'meets' if meets else 'MISSES'} 503 within the timeout) — "
        "`python bench/locked_db.py`"
    )
    record("locked_db", result, line)
    print(line)


if __name__ == "__main__":
    main()
