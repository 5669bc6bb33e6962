"""The steps every job is made of: fetch the feeds, ingest the drop folder, train, detect.

Each step is a job boundary (it commits its own transactions) and runs as a job of its own
(service.jobs.runner); service.jobs.pipelines strings them together for the weekly job, a
retrain (`sahelcast train`, `POST /v1/admin/retrain`) and a fetch (`POST /v1/admin/fetch`).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from service.anomalies import events
from service.anomalies.detect import detect
from service.anomalies.severity import Rules
from service.config import Settings
from service.db import session_scope
from service.ingest.orm import IngestedFile
from service.jobs.kinds import FAILED, SKIPPED, SUCCEEDED
from service.jobs.runner import StepResult
from service.kit.lease import LockHeld
from service.kit.scrub import shown
from service.migrate import require_current
from service.training.service import (
    NothingToTrain,
    Progress,
    StaleData,
    TrainRequest,
    train_measures,
)

log = logging.getLogger(__name__)
PROCESSED = "processed"


def pending_files(drop_dir: Path) -> list[Path]:
    """Files waiting in the drop folder (hidden and partial `.part`/`.tmp` files excluded)."""
    if not drop_dir.is_dir():
        return []
    return sorted(
        p
        for p in drop_dir.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix not in (".part", ".tmp")
    )


def _move_to_processed(path: Path) -> Path:
    target_dir = path.parent / PROCESSED
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    n = 1
    while target.exists():
        target = target_dir / f"{path.stem}.{n}{path.suffix}"
        n += 1
    return Path(shutil.move(path, target))


def fetch_step(engine: Engine, settings: Settings, feeds: str | None = None) -> StepResult:
    """Fetch every feed of `feeds` (default: SAHELCAST_FEEDS), each in its own transaction; a
    failing feed is recorded and the others go on, whatever it failed with (the feeds' messages
    are scrubbed of credentials and cut). Skipped when none is configured or another fetch holds
    the lease."""
    from service.feeds.errors import FeedError
    from service.feeds.job import run_feed
    from service.feeds.spec import parse_feeds

    specs = parse_feeds(settings.feeds if feeds is None else feeds)
    if not specs:
        return StepResult(SKIPPED, "no feeds configured (SAHELCAST_FEEDS)", {})
    done: list[dict[str, Any]] = []
    failed: list[dict[str, str]] = []
    for spec in specs:
        name = f"{spec.name}:{','.join(spec.countries)}"
        try:
            report = run_feed(engine, settings, spec)
        except LockHeld as held:
            return StepResult(SKIPPED, str(held), {"reason": "locked", "fetched": done})
        except FeedError as error:
            log.error("feed %s failed: %s", name, error)
            failed.append({"feed": name, "error": f"{type(error).__name__}: {error}"})
            continue
        except Exception as error:  # noqa: BLE001 - a bug in one feed must not stop the others
            log.error("feed %s failed: %s: %s", name, type(error).__name__, shown(str(error)))
            failed.append({"feed": name, "error": f"{type(error).__name__} (see the log)"})
            continue
        events = report.reports[0]
        done.append(
            {
                "feed": name,
                "fetch_id": report.fetch_id,
                "pages": report.pages,
                "added": events.added,
                "updated": events.updated,
                "deleted": sum(r.deleted for r in report.reports),
                "skipped": report.skipped,
                "warnings": report.warnings,
            }
        )
    details = {"fetched": done, "failed": failed}
    summary = ", ".join(
        f"{d['feed'].split(':')[0]} +{d['added']} ~{d['updated']} -{d['deleted']}" for d in done
    )
    if failed:
        names = ", ".join(f["feed"] for f in failed)
        return StepResult(FAILED, f"{len(failed)} feed(s) failed ({names}); {summary}", details)
    return StepResult(SUCCEEDED, summary or "nothing fetched", details)


def fetched_changes(details: dict[str, Any]) -> bool:
    """Whether a fetch step wrote anything (then newly observed months are worth flagging)."""
    fetched = details.get("fetched", [])
    return any(f["added"] or f["updated"] or f["deleted"] for f in fetched)


def ingest_step(engine: Engine, settings: Settings) -> StepResult:
    """Ingest every new file of the drop folder, one transaction per file.

    A file whose sha256 was ingested before is skipped. Ingested and skipped files move to
    `processed/` so the folder shows what is pending; a file that fails stays where it is
    (fix the cause and the next run retries it) and fails the step, loudly.
    Names containing `deletion` are ACLED deletion lists.
    """
    # Imported here: the readers are heavy and only this step needs them.
    from service.ingest.service import ingest_file
    from service.ingest.sync import file_sha256

    require_current(engine)
    drop_dir = settings.drop_dir
    drop_dir.mkdir(parents=True, exist_ok=True)
    ingested, duplicates, failed = [], [], []
    for path in pending_files(drop_dir):
        digest = file_sha256(path)
        with session_scope(engine) as session:
            seen = session.scalar(select(IngestedFile.id).where(IngestedFile.sha256 == digest))
        if seen is not None:
            duplicates.append(path.name)
            _move_to_processed(path)
            continue
        try:
            report = ingest_file(engine, path, settings, deletions="deletion" in path.name.lower())
        except Exception as error:  # recorded in the step's outcome, the other files go on
            log.error("ingest of %s failed: %s", path, error)
            failed.append({"file": path.name, "error": f"{type(error).__name__}: {error}"})
            continue
        ingested.append(
            {
                "file": path.name,
                "added": report.added,
                "updated": report.updated,
                "deleted": report.deleted,
            }
        )
        _move_to_processed(path)
    details = {
        "drop_dir": str(drop_dir),
        "ingested": ingested,
        "duplicates": duplicates,
        "failed": failed,
    }
    summary = f"{len(ingested)} ingested, {len(duplicates)} already seen, {len(failed)} failed"
    if failed:
        names = ", ".join(f["file"] for f in failed)
        return StepResult(FAILED, f"{summary} ({names})", details)
    if not ingested:
        return StepResult(SKIPPED, f"no new files in {drop_dir} ({summary})", details)
    return StepResult(SUCCEEDED, summary, details)


def train_step(
    engine: Engine,
    settings: Settings,
    request: TrainRequest,
    progress: Progress | None = None,
    measures: Sequence[str] | None = None,
) -> StepResult:
    """Train and publish a run per measure (default: SAHELCAST_TRAIN_MEASURES); a refusal (no new
    data, another run, nothing to train) is a skip."""
    try:
        outcome = train_measures(engine, settings, request, measures, progress=progress)
    except StaleData as why:
        return StepResult(SKIPPED, str(why), {"reason": "stale"})
    except NothingToTrain as why:
        return StepResult(SKIPPED, str(why), {"reason": "nothing"})
    except LockHeld as why:
        details = {
            "reason": "locked",
            "holder": why.owner,
            "expires_at": why.expires_at.isoformat(),
        }
        return StepResult(SKIPPED, str(why), details)
    return StepResult(SUCCEEDED, outcome.describe(), outcome.to_dict())


def detect_step(engine: Engine, settings: Settings) -> StepResult:
    """Score runs and flag anomalies (committed), then hand new alerts to the listeners."""
    require_current(engine)
    with session_scope(engine) as session:
        report = detect(session, level=settings.anomaly_level, rules=Rules.from_settings(settings),
                        budget=settings.alert_budget_per_country_month)  # fmt: skip
    # After the commit: listeners may read the anomalies or deliver them elsewhere.
    failures = events.emit(report.alerts)
    details = {
        **report.to_dict(),
        "alert_ids": [a.id for a in report.alerts],
        "listener_failures": [f"{who!r}: {err}" for who, err in failures],
    }
    message = (
        f"{report.scored} forecasts scored, {report.live} new anomalies "
        f"({len(report.alerts)} alerts), {report.backtest} from backtests, "
        f"{report.new} new series"
    )
    if failures:
        return StepResult(FAILED, f"{message}; {len(failures)} alert listener(s) failed", details)
    return StepResult(SUCCEEDED, message, details)
