"""Fetches asked for through the API: a `fetch` job row to poll, the work after the response.

The request records the job; `run_fetch_job` then fetches every feed (as the weekly job's
fetch step does) and, when the data changed, flags the newly observed months (detect). It runs
in a thread: it waits on the network, and training is left to `POST /v1/admin/retrain`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from service.config import Settings
from service.db import make_engine, session_scope
from service.jobs.kinds import FAILED, SUCCEEDED
from service.jobs.repository import finish_job

log = logging.getLogger(__name__)
FetchLauncher = Callable[[Settings, int, str | None], None]


def run_fetch_job(settings: Settings, job_id: int, feeds: str | None) -> None:
    """Fetch the feeds for job `job_id` (then detect on a change), recording the outcome."""
    from service.feeds.job import fetch_step
    from service.jobs.steps import detect_step

    engine = make_engine(settings.database_url)
    try:
        result = fetch_step(engine, settings, feeds=feeds)
        details = dict(result.details)
        changed = any(
            f["added"] or f["updated"] or f["deleted"] for f in details.get("fetched", [])
        )
        if result.status == SUCCEEDED and changed:
            detected = detect_step(engine, settings)
            details["detect"] = {"status": detected.status, "message": detected.message}
        with session_scope(engine) as session:
            finish_job(session, job_id, result.status, result.message, details)
    except BaseException as error:
        log.exception("fetch job %s failed", job_id)
        with session_scope(engine) as session:
            finish_job(session, job_id, FAILED, f"{type(error).__name__}: {error}"[:4000], {})
        if not isinstance(error, Exception):
            raise
    finally:
        engine.dispose()


def launch_thread(settings: Settings, job_id: int, feeds: str | None) -> None:
    """Start the fetch job in a daemon thread of this process."""
    threading.Thread(
        target=run_fetch_job, args=(settings, job_id, feeds), name=f"sahelcast-fetch-{job_id}",
        daemon=True,
    ).start()  # fmt: skip
