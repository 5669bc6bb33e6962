"""The fetch step of the weekly job (and of `POST /v1/admin/fetch`): every feed of
SAHELCAST_FEEDS, each in its own transaction; a failing feed is recorded and the others go on."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine

from service.config import Settings
from service.feeds.errors import FeedError
from service.feeds.service import Options, fetch_acled, fetch_ucdp
from service.feeds.spec import FeedSpec, parse_feeds
from service.feeds.write import FetchReport
from service.jobs.kinds import FAILED, SKIPPED, SUCCEEDED
from service.jobs.runner import StepResult
from service.kit.lease import LockHeld

log = logging.getLogger(__name__)


def run_feed(
    engine: Engine, settings: Settings, feed: FeedSpec, options: Options | None = None
) -> FetchReport:
    """Fetch one feed of the spec."""
    if feed.name == "acled":
        return fetch_acled(engine, settings, list(feed.countries), options=options)
    return fetch_ucdp(engine, settings, list(feed.countries), feed.version,
                      candidate=feed.candidate, options=options)  # fmt: skip


def fetch_step(
    engine: Engine, settings: Settings, options: Options | None = None, feeds: str | None = None
) -> StepResult:
    """Fetch every configured feed; skipped when none is configured or another fetch runs."""
    specs = parse_feeds(settings.feeds if feeds is None else feeds)
    if not specs:
        return StepResult(SKIPPED, "no feeds configured (SAHELCAST_FEEDS)", {})
    done: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    for spec in specs:
        name = f"{spec.name}:{','.join(spec.countries)}"
        try:
            report = run_feed(engine, settings, spec, options)
        except LockHeld as held:
            return StepResult(SKIPPED, str(held), {"reason": "locked", "fetched": done})
        except FeedError as error:
            log.error("feed %s failed: %s", name, error)
            failed.append({"feed": name, "error": f"{type(error).__name__}: {error}"})
            continue
        events = report.reports[0]
        done.append({"feed": name, "fetch_id": report.fetch_id, "pages": report.pages,
                     "added": events.added, "updated": events.updated,
                     "deleted": sum(r.deleted for r in report.reports),
                     "skipped": report.skipped})  # fmt: skip
    details = {"fetched": done, "failed": failed}
    summary = ", ".join(
        f"{d['feed'].split(':')[0]} +{d['added']} ~{d['updated']} -{d['deleted']}" for d in done
    )
    if failed:
        names = ", ".join(f["feed"] for f in failed)
        return StepResult(FAILED, f"{len(failed)} feed(s) failed ({names}); {summary}", details)
    return StepResult(SUCCEEDED, summary or "nothing fetched", details)
