"""`sahelcast scheduler`: run the weekly job on a cron schedule, in the foreground."""

from __future__ import annotations

import datetime as dt
import signal
from types import FrameType
from typing import Annotated

import typer

from service.cli.common import console, fail, require_db


def scheduler(
    schedule: Annotated[
        str | None,
        typer.Option(
            help="Crontab line in UTC [default: SAHELCAST_SCHEDULE, '0 3 * * 1' = Mon 03:00]."
        ),
    ] = None,
) -> None:
    """Run ingest → detect → train → detect on a schedule until stopped (Ctrl-C or SIGTERM).

    New files are taken from SAHELCAST_DROP_DIR. Every firing is recorded: `sahelcast jobs list`.
    """
    from service.cli.detect import deliver_alerts_from_here
    from service.config import get_settings
    from service.jobs.scheduler import build_scheduler, cron_trigger

    engine = require_db()
    settings = get_settings()
    try:
        trigger = cron_trigger(schedule or settings.schedule)
    except ValueError as error:
        fail(str(error), 2)
    deliver_alerts_from_here()
    blocking = build_scheduler(engine, settings, trigger)

    def stop(signum: int, frame: FrameType | None) -> None:
        blocking.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    now = dt.datetime.now(dt.UTC)
    upcoming = trigger.get_next_fire_time(None, now)
    console.print(
        f"scheduler: '{schedule or settings.schedule}' (UTC); next run "
        f"{upcoming:%Y-%m-%d %H:%M} UTC; drop folder {settings.drop_dir}",
        highlight=False,
    )
    try:
        blocking.start()
    except KeyboardInterrupt:
        pass
    console.print("scheduler stopped")
