"""CLI start-up: wall time of `sahelcast --help` and of simple read commands, in fresh processes.

    .venv/bin/python bench/cli_startup.py [--runs 15]

Migrates a fresh SQLite file (empty tables: the figure is start-up, imports and the schema
check, not the query), then runs each command `--runs` times as a new process and reports the
median and the fastest. Targets: `--help` <= 0.5 s, a simple read command <= 1 s (median).
The machine's load average is recorded beside the figures: on a shared machine they are upper
bounds. Writes bench/results/cli_startup.json and appends a line to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SAHELCAST = Path(sys.executable).parent / "sahelcast"
COMMANDS = {
    "--help": (["--help"], 0.5),
    "keys list": (["keys", "list"], 1.0),
    "jobs list": (["jobs", "list"], 1.0),
    "series list": (["series", "list"], 1.0),
}


def _time(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([str(SAHELCAST), *args], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"sahelcast {' '.join(args)} failed:\n{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="processes per command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sahelcast-bench-") as folder:
        env = {**os.environ, "SAHELCAST_DATABASE_URL": f"sqlite:///{folder}/cli.db"}
        _time(["db", "upgrade"], env)
        results: dict[str, dict[str, float]] = {}
        for name, (command, target) in COMMANDS.items():
            _time(command, env)  # warm the file cache once
            seconds = [_time(command, env) for _ in range(args.runs)]
            results[name] = {
                "median_s": round(statistics.median(seconds), 3),
                "min_s": round(min(seconds), 3),
                "target_s": target,
            }
            print(name, json.dumps(results[name]), flush=True)
    load = os.getloadavg()[0]
    _record(results, args.runs, load)


def _record(results: dict[str, dict[str, float]], runs: int, load: float) -> None:
    sys.path.insert(0, str(HERE))
    from record import record

    parts = [
        f"`{name}` median {r['median_s']} s (min {r['min_s']} s)" for name, r in results.items()
    ]
    help_ok = results["--help"]["median_s"] <= results["--help"]["target_s"]
    reads_ok = all(
        r["median_s"] <= r["target_s"] for name, r in results.items() if name != "--help"
    )
    line = (
        f"- {dt.date.today()} cli start-up, {runs} processes each, load average {load:.1f} on "
        f"2 cores: {', '.join(parts)} (--help {'meets' if help_ok else 'MISSES'} ≤0.5 s; "
        f"reads {'meet' if reads_ok else 'MISS'} ≤1 s) — `python bench/cli_startup.py`"
    )
    record("cli_startup", {"runs": runs, "load_average": load, **results}, line)


if __name__ == "__main__":
    main()
