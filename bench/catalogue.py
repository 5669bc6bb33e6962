"""The catalogue of the bundled three-country demo, by level and by actor type.

    .venv/bin/python bench/catalogue.py [--fewer-than 10] [--no-record]

Ingests the UCDP GED files of service/data/demo into a fresh SQLite database with the shipped
alias tables and settings, prints what the catalogue is made of (`sahelcast series stats`,
overall and per country) and writes bench/results/catalogue.json with a line in RESULTS.md.
No timing: the figures are counts, the same on any machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

DEMO = sorted((ROOT / "service" / "data" / "demo").glob("ucdp-ged-*.csv"))


def catalogue(fewer_than: int) -> dict[str, Any]:
    from service import migrate
    from service.config import Settings
    from service.db import make_engine, session_scope
    from service.ingest.service import ingest_file
    from service.series.repository import countries
    from service.series.stats import catalogue_stats

    with tempfile.TemporaryDirectory() as work:
        url = f"sqlite:///{Path(work) / 'catalogue.db'}"
        engine = make_engine(url)
        migrate.upgrade(engine)
        settings = Settings(database_url=url)
        for path in DEMO:
            ingest_file(engine, path, settings)
        with session_scope(engine) as session:
            overall = asdict(catalogue_stats(session, fewer_than=fewer_than))
            per_country = {
                place: asdict(catalogue_stats(session, country=place, fewer_than=fewer_than))
                for place in countries(session)
            }
        engine.dispose()
    return {
        "files": [p.name for p in DEMO],
        "armed_inter": list(settings.armed_inter),
        "actor_roles": list(settings.actor_roles),
        "all": overall,
        "countries": per_country,
    }


def _print(name: str, stats: dict[str, Any]) -> None:
    print(
        f"\n{name}: {stats['events']:,} events, {stats['ambiguous_events']} ambiguous, "
        f"{stats['events_without_actor']} counted for no actor"
    )
    for level in stats["levels"]:
        print(f"  {level['level']:<18} {level['series']:>5} series")
    for kind in stats["actor_types"]:
        print(f"  {kind['actor_type']:<18} {kind['actors']:>5} actors {kind['series']:>5} series")
    print(f"  actors with fewer than {stats['fewer_than']} events: {len(stats['small_actors'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fewer-than", type=int, default=10)
    parser.add_argument("--no-record", action="store_true", help="Print only.")
    args = parser.parse_args()
    result = catalogue(args.fewer_than)
    _print("all", result["all"])
    for place, stats in result["countries"].items():
        _print(place, stats)
    if args.no_record:
        return
    from record import record

    total = result["all"]
    levels = ", ".join(f"{x['level']} {x['series']}" for x in total["levels"])
    kinds = ", ".join(f"{x['actor_type']} {x['series']}" for x in total["actor_types"])
    line = (
        f"- {dt.date.today()} catalogue of the three-country UCDP demo: {levels} series; actor "
        f"series by type: {kinds}; {len(total['small_actors'])} actors with fewer than "
        f"{args.fewer_than} events in a country — `python bench/catalogue.py`"
    )
    record("catalogue", result, line)


if __name__ == "__main__":
    main()
