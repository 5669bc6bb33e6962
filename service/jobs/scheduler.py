"""The weekly schedule: APScheduler 3 fires `run_weekly` on a crontab line (UTC)."""

from __future__ import annotations

import logging
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine

from service.config import Settings
from service.jobs.pipelines import run_weekly

log = logging.getLogger(__name__)
JOB_ID = "weekly"


DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _cron_weekdays(field: str) -> str:
    """Translate a crontab day-of-week field (0 or 7 = Sunday) to APScheduler day names.

    APScheduler 3 numbers days from Monday = 0, so its `from_crontab("0 3 * * 1")` would fire
    on Tuesdays; spelling the days out keeps the crontab meaning.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            first, last = 0, 6
        else:
            lo, _, hi = span.partition("-")
            first, last = _day(lo), _day(hi or lo)
            if hi and last == 0:
                last = 7  # "5-7" or "fri-sun" runs through Sunday
        if last < first or step < 1:
            raise ValueError(f"bad day-of-week {part!r}")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def _day(token: str) -> int:
    if token in DAY_NAMES:
        return DAY_NAMES.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise ValueError(f"bad day-of-week {token!r}")


def cron_trigger(crontab: str) -> CronTrigger:
    """Parse a 5-field crontab line in UTC, raising ValueError with the line on a bad one.

    Unlike cron, a line restricting both day-of-month and day-of-week fires when both match.
    """
    fields = crontab.split()
    try:
        if len(fields) != 5:
            raise ValueError("a crontab line has 5 fields: minute hour day month day-of-week")
        minute, hour, day, month, weekday = fields
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_cron_weekdays(weekday),
            timezone="UTC",
        )
    except ValueError as error:
        raise ValueError(f"bad schedule {crontab!r}: {error}") from None


def weekly_job(engine: Engine, settings: Settings) -> None:
    """One scheduled firing; a failure is recorded in `jobs` by the runner and logged here."""
    result = run_weekly(engine, settings, trigger="schedule")
    level = logging.ERROR if result.status == "failed" else logging.INFO
    log.log(level, "weekly job %s %s: %s", result.job_id, result.status, result.message)


def build_scheduler(
    engine: Engine, settings: Settings, trigger: BaseTrigger | None = None, **options: Any
) -> BlockingScheduler:
    """A blocking scheduler with the weekly job; `trigger` overrides the configured crontab.

    One firing at a time (a long run is never overlapped by the next one), and a firing
    missed while the process was down is run once when it comes back within an hour.
    """
    scheduler = BlockingScheduler(timezone="UTC", **options)
    scheduler.add_job(
        weekly_job,
        trigger or cron_trigger(settings.schedule),
        args=(engine, settings),
        id=JOB_ID,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=3600,
    )
    return scheduler
