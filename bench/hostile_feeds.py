"""Hostile feeds: what a fetch costs when the API attacks it, with the default budgets.

    .venv/bin/python bench/hostile_feeds.py [--case bomb --case huge …]

The fake ACLED/UCDP API of the tests (tests/service/feeds/fake_api.py) serves, from this
process, a 1 MB gzip answer that unpacks to 1 GB, a 500 MB page (no Content-Length), ACLED
pages cycling A, B, A, B…, ACLED and UCDP pagers that never end (full pages of new rows, a
`NextPageUrl` every time), and one trickling a byte a second. Each fetch runs in a child
process against a fresh SQLite database, so its peak memory (max RSS) is its own; it must stop
with a clear error (nothing written). Writes bench/results/hostile_feeds.json and appends a line
to bench/RESULTS.md. Timings are upper bounds on a shared machine; the memory figure is not.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

TARGETS = {"peak_mb": 300.0, "seconds": 30.0}
CASES = {
    # name: (feed, fault or pager, what)
    "bomb": ("acled", "bomb", "1 MB of gzip that unpacks to 1 GB"),
    "huge": ("acled", "huge", "a 500 MB page without Content-Length"),
    "cycle": ("acled", "pager:cycle", "ACLED pages A, B, A, B…"),
    "acled-endless": ("acled", "pager:endless", "ACLED full pages of new rows, for ever"),
    "ucdp-endless": ("ucdp", "pager:endless", "UCDP NextPageUrl for ever, TotalCount 10^12"),
    "trickle": ("acled", "trickle", "a byte a second (SAHELCAST_FEED_ANSWER_SECONDS=20)"),
}
CHECKED = ("bomb", "huge", "cycle", "acled-endless", "ucdp-endless")  # the targets


def child(case: str, base: str, db: str) -> None:
    """Fetch once against the hostile API at `base`; print seconds, peak and the error."""
    from service import migrate
    from service.config import Settings
    from service.db import make_engine
    from service.feeds.errors import FeedError
    from service.feeds.service import Options, fetch_acled, fetch_ucdp
    from tests.service.feeds.fake_api import PASSWORD, UCDP_TOKEN, USERNAME

    url = f"sqlite:///{db}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    extra = {"feed_answer_seconds": 20.0} if case == "trickle" else {}
    settings = Settings(
        database_url=url,
        acled_url=base,
        acled_username=USERNAME,
        acled_password=PASSWORD,
        ucdp_url=base,
        ucdp_token=UCDP_TOKEN,
        feed_max_attempts=1,
        **extra,
    )
    options = Options(today=lambda: dt.date(2024, 4, 10))
    before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    error = None
    try:
        if CASES[case][0] == "acled":
            fetch_acled(engine, settings, ["Mali"], options=options)
        else:
            fetch_ucdp(engine, settings, ["Burkina Faso"], "25.1", options=options)
    except FeedError as raised:
        error = f"{type(raised).__name__}: {raised}"
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with engine.connect() as connection:
        events = connection.exec_driver_sql("SELECT count(*) FROM events").scalar()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "peak_mb": round(peak_mb, 1),
                "before_fetch_mb": round(before_mb, 1),
                "error": error,
                "events_written": events,
            }
        )
    )


def run(case: str) -> dict[str, object]:
    from tests.service.feeds.fake_api import FakeApi, serving

    feed, hostile, what = CASES[case]
    api = FakeApi(hostile_mb=1000 if case == "bomb" else 500, trickle_seconds=1.0)
    if hostile.startswith("pager:"):
        api.pager = hostile.removeprefix("pager:")
        api.releases["25.1"] = []
    else:
        api.fail("/api/acled/read", hostile)
    with serving(api) as base, tempfile.TemporaryDirectory() as work:
        out = subprocess.run(
            [sys.executable, __file__, "--child", case, base, str(Path(work) / "hostile.db")],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["case"], result["what"] = case, what
    result["pages_asked"] = len([s for s in api.seen if s.path.startswith("/api/")])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=sorted(CASES))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    cases = args.case or list(CASES)
    results = []
    for case in cases:
        result = run(case)
        results.append(result)
        print(
            f"{case}: {result['seconds']} s, peak {result['peak_mb']} MB "
            f"(before the fetch {result['before_fetch_mb']} MB), "
            f"{result['pages_asked']} requests; {str(result['error'])[:160]}"
        )
    checked = [r for r in results if r["case"] in CHECKED]
    meets = all(
        r["error"]
        and r["events_written"] == 0
        and r["peak_mb"] <= TARGETS["peak_mb"]
        and r["seconds"] <= TARGETS["seconds"]
        for r in checked
    )
    summary = {
        "date": dt.date.today().isoformat(),
        "targets": TARGETS,
        "cases": results,
        "meets": meets,
    }
    parts = ", ".join(f"{r['case']} {r['seconds']} s / {r['peak_mb']:.0f} MB" for r in results)
    line = (
        f"- {summary['date']} hostile feeds (default budgets, each stopped with an error, "
        f"nothing written): {parts} ({'meets' if meets else 'MISSES'} ≤300 MB peak and "
        "≤30 s each for the bomb, the 500 MB page and the endless pagers) — "
        "`python bench/hostile_feeds.py`"
    )
    from record import record

    if not args.case:
        record("hostile_feeds", summary, line)
    print(line)


if __name__ == "__main__":
    main()
