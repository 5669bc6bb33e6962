"""Ingest benchmark: a 1,000,000-row synthetic ACLED export into fresh SQLite and PostgreSQL.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--backend sqlite --backend postgresql]

Each ingest runs in a child process so its peak memory (max RSS) is its own. Per backend: the
first ingest, the re-ingest of the same file (the file of the last change is not read again),
and, after a one-event file changed the events, the export again (screened row by row:
`rescreen_s`, no target). Writes bench/results/ingest.json and appends a line to
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
# Issue 21: 1,000,000 rows, first ingest <= 15 s (SQLite) / 20 s (PostgreSQL), re-ingest <= 5 s,
# peak <= 1 GB, on a quiet 2-core machine.
TARGETS = {
    "sqlite": {"first_s": 15.0, "reingest_s": 5.0, "peak_mb": 1024.0},
    "postgresql": {"first_s": 20.0, "reingest_s": 5.0, "peak_mb": 1024.0},
}


def child(url: str, path: str) -> None:
    """Ingest `path` into `url` once and print seconds and peak memory as JSON."""
    from service.config import Settings
    from service.db import make_engine
    from service.ingest.service import ingest_file

    settings = Settings(database_url=url)
    engine = make_engine(url)
    started = time.perf_counter()
    report = ingest_file(engine, Path(path), settings)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "report": report.to_dict()}))


def _run_child(url: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", url, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _fresh_database(backend: str, work: Path) -> tuple[str, object]:
    from sqlalchemy import create_engine, text

    from service import migrate
    from service.db import make_engine

    if backend == "sqlite":
        path = work / "bench-ingest.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        url, cleanup = f"sqlite:///{path}", None
    else:
        name = f"sahelcast_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"

        def cleanup() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return url, cleanup


def one_more(export: Path, path: Path) -> Path:
    """A file of one event the export does not hold (its first row under another id)."""
    with export.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header, row = next(reader), next(reader)
    row[header.index("event_id_cnty")] += "999"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, row])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--no-record", action="store_true", help="Print only (no results file).")
    parser.add_argument("--child", nargs=2, metavar=("URL", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    from acled_synth import write_export

    work = HERE / "work"
    work.mkdir(exist_ok=True)
    # v2: the sides' actor types follow the actors (the army 1, civilians 7).
    export = work / f"acled-synthetic-v2-{args.rows}.csv"
    if not export.exists():
        started = time.perf_counter()
        write_export(export, args.rows)
        print(
            f"generated {export.name} ({export.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.0f} s"
        )
    results: dict[str, dict] = {}
    for backend in args.backend or ["sqlite", "postgresql"]:
        url, cleanup = _fresh_database(backend, work)
        try:
            first = _run_child(url, export)
            again = _run_child(url, export)
            _run_child(url, one_more(export, work / "acled-one-more.csv"))
            rescreen = _run_child(url, export)
        finally:
            if cleanup:
                cleanup()
        assert again["report"]["added"] == 0, again
        assert again["report"]["updated"] == 0, again
        assert (rescreen["report"]["added"], rescreen["report"]["updated"]) == (0, 0), rescreen
        results[backend] = {
            "rows": first["report"]["rows_read"],
            "first_s": round(first["seconds"], 2),
            "reingest_s": round(again["seconds"], 2),
            "rescreen_s": round(rescreen["seconds"], 2),
            "peak_mb": round(max(first["peak_mb"], again["peak_mb"], rescreen["peak_mb"]), 1),
        }
        print(backend, json.dumps(results[backend]))
    if not args.no_record:
        _record(results)


def _record(results: dict[str, dict]) -> None:
    out = HERE / "results" / "ingest.json"
    out.parent.mkdir(exist_ok=True)
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update(results)
    out.write_text(json.dumps(previous, indent=2) + "\n")
    lines = []
    for backend, r in results.items():
        goal = TARGETS[backend]
        ok = all(r[k] <= limit for k, limit in goal.items())
        lines.append(
            f"- {dt.date.today()} ingest/{backend}: {r['rows']:,} rows, first {r['first_s']} s, "
            f"re-ingest {r['reingest_s']} s (screened row by row after another change: "
            f"{r['rescreen_s']} s), peak {r['peak_mb']:.0f} MB "
            f"({'meets' if ok else 'MISSES'} ≤{goal['first_s']:.0f} s / "
            f"≤{goal['reingest_s']:.0f} s / ≤1 GB) — `python bench/ingest.py`"
        )
    with (HERE / "RESULTS.md").open("a") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
