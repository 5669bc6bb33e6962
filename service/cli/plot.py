"""`sahelcast plot`: write a series' fan chart (the dashboard's chart) to a PNG or SVG file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import console, err_console, fail, require_db
from service.cli.options import MeasureOption
from service.measures import EVENTS, file_suffix, noun


def plot(
    series: Annotated[str, typer.Argument(help="Series id or key (see `sahelcast series list`).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write, .png or .svg [default: ./series-ID.png]."),
    ] = None,
    months: Annotated[int, typer.Option(min=12, help="How many months of history to show.")] = 96,
    measure: MeasureOption = EVENTS,
) -> None:
    """Write the fan chart of a series: observed months, the published forecast with its
    50/80/95 % intervals, rainy seasons shaded and anomalies marked. `--measure fatalities`
    draws the deaths and their own forecast.

    Without a published run (or when the run has no forecast for the series), the observed
    months alone are written, and the command fails with exit status 1 to say so.
    """
    # Imported on use: matplotlib and the forecasting calendar take a second to import.
    from service.db import session_scope
    from service.forecasts.repository import published_run_id
    from service.series.repository import get_series
    from service.web.chartdata import describe, load_chart
    from service.web.plotting import fan_chart
    from service.web.render import PLOT_FORMATS, save

    engine = require_db()
    if out is not None and out.suffix.lower() not in PLOT_FORMATS:
        fail(f"--out must end in .png or .svg, got {out.name!r}", 2)
    with session_scope(engine) as session:
        info = get_series(session, series)
        if info is None:
            fail(f"no series {series!r}; find one with `sahelcast series list`", 2)
        run_id = published_run_id(session, measure)
        data = load_chart(session, info, run_id, history_months=months, measure=measure)
    target = out if out is not None else Path(f"series-{info.id}{file_suffix(measure)}.png")
    if target.parent != Path("") and not target.parent.is_dir():
        fail(f"{target.parent}: no such folder", 2)
    save(fan_chart(data, heading=True), target, title=data.label, desc=describe(data))
    if run_id is None:
        err_console.print(f"wrote the observed months only to {target}", highlight=False)
        what = "training" if measure == EVENTS else measure
        fail(f"no {what} run is published yet, so there is no forecast to draw: run "
             f"`sahelcast train --measure {measure}`")  # fmt: skip
    if not data.has_forecast:
        err_console.print(f"wrote the observed months only to {target}", highlight=False)
        fail(f"the published run {run_id} has no forecast for {info.key} (series with fewer "
             "than SAHELCAST_TRAIN_MIN_EVENTS events are not trained)")  # fmt: skip
    assert data.forecast is not None
    console.print(f"wrote {target}: {data.label}, {noun(measure)}, forecast of run {run_id} "
                  f"({data.forecast.model})", highlight=False)  # fmt: skip
