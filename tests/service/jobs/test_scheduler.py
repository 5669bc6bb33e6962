"""The scheduler fires the weekly job on its trigger and records it; the crontab is UTC."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from service.config import Settings
from service.db import session_scope
from service.jobs.repository import list_jobs
from service.jobs.scheduler import build_scheduler, cron_trigger
from tests.service.builders import make_world


def test_default_schedule_is_monday_three_utc(train_settings: Settings, engine: Engine) -> None:
    trigger = cron_trigger(train_settings.schedule)
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)  # a Wednesday
    upcoming = trigger.get_next_fire_time(None, now)
    assert upcoming == dt.datetime(2026, 11, 30, 3, 0, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="bad schedule"):
        cron_trigger("0 3 * * funday")


@pytest.mark.parametrize(
    ("weekdays", "expected"),
    [
        ("0", {6}),
        ("7", {6}),
        ("1-5", {0, 1, 2, 3, 4}),
        ("sat,sun", {5, 6}),
        ("*/3", {6, 2, 5}),
        ("5-7", {4, 5, 6}),
        ("*", set(range(7))),
    ],
)
def test_crontab_weekdays_keep_their_cron_meaning(weekdays: str, expected: set[int]) -> None:
    trigger = cron_trigger(f"0 3 * * {weekdays}")
    start = dt.datetime(2026, 11, 23, 0, 0, tzinfo=dt.UTC)  # a Monday
    fires, at = set(), start
    for _ in range(7):
        at = trigger.get_next_fire_time(None, at)
        fires.add(at.weekday())  # Python: Monday = 0
        at += dt.timedelta(minutes=1)
    assert fires == expected


def test_scheduler_fires_and_records_the_weekly_job(
    engine: Engine, train_settings: Settings
) -> None:
    with session_scope(engine) as session:
        make_world(session, regions=("Sahel",))
    # No start date: the trigger's first fire is a second after the scheduler starts.
    scheduler = build_scheduler(engine, train_settings, IntervalTrigger(seconds=1, timezone="UTC"))
    thread = threading.Thread(target=scheduler.start, daemon=True)
    thread.start()
    polls = 600  # 0.1 s apart: a bound on waiting, not a speed target (no clock read)
    try:
        while True:
            with session_scope(engine) as session:
                done = [j for j in list_jobs(session, kind="weekly")[0] if j.finished_at]
            polls -= 1
            if done or polls <= 0:
                break
            time.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
        thread.join(timeout=30)
    assert done, "the scheduler never ran the weekly job"
    weekly = done[-1]
    assert (weekly.trigger, weekly.status) == ("schedule", "succeeded")
    assert [s["kind"] for s in weekly.details["steps"]] == ["ingest", "detect", "train", "detect"]
    assert not thread.is_alive()
