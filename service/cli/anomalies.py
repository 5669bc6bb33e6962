"""`sahelcast anomalies`: the months flagged outside the forecast issued before them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.anomalies.severity import Direction, Kind, Origin, Severity, Status
from service.cli.common import db_session, found_or_fail
from service.cli.options import grouped, series_filter
from service.cli.output import Column, Format, FormatOption, emit, emit_one
from service.measures import EVENTS, Measure, noun

if TYPE_CHECKING:
    from service.anomalies.schemas import AnomalyRead
    from service.series.repository import SeriesFilter

app = typer.Typer(
    help="Flagged months: list them, show one.", no_args_is_help=True, rich_markup_mode=None
)
MONTH_FORMATS = ["%Y-%m", "%Y-%m-%d"]


def _range(record: dict[str, Any]) -> str:
    return f"{record['lower']:.0f}–{record['upper']:.0f}"


def _counted(record: dict[str, Any]) -> str:
    """The observed count, named when it is not events: '12 deaths'."""
    measure = record.get("measure", EVENTS)
    return str(record["observed"]) + ("" if measure == EVENTS else f" {noun(measure)}")


COLUMNS = (
    Column("id", right=True),
    Column("month", show=lambda v: f"{v:%Y-%m}", whole=True),
    Column("series_key", "series"),
    Column("counted", "observed", right=True),
    Column("range", "expected", right=True),
    # Months ahead the judging forecast looked; its origin month is in `show`, JSON and CSV
    # (an 80-column table has no room for it beside the series key).
    Column("horizon", "h", right=True),
    Column("direction", "dir", whole=True),
    Column("severity", whole=True),
    Column("status", whole=True),
)


def anomaly_record(anomaly: AnomalyRead) -> dict[str, Any]:
    """An anomaly as JSON/CSV shows it: every field, its series' labels and key."""
    return {**anomaly.model_dump(), "series_key": anomaly.series_key}


@app.command("list")
@grouped(filters=series_filter)
def list_(
    filters: SeriesFilter,
    series: Annotated[str | None, typer.Option(help="Only this series (id or key).")] = None,
    since: Annotated[
        dt.datetime | None,
        typer.Option(formats=MONTH_FORMATS, help="Months from this one on (YYYY-MM)."),
    ] = None,
    until: Annotated[
        dt.datetime | None,
        typer.Option(formats=MONTH_FORMATS, help="Months up to this one (YYYY-MM)."),
    ] = None,
    min_severity: Annotated[
        Severity | None, typer.Option("--min-severity", help="This severity or worse.")
    ] = None,
    direction: Annotated[Direction | None, typer.Option(help="Only this direction.")] = None,
    status: Annotated[Status | None, typer.Option(help="Only this status.")] = None,
    origin: Annotated[
        Origin,
        typer.Option(
            help="live: against forecasts issued before the month; backtest: evaluation history."
        ),
    ] = "live",
    kind: Annotated[
        Kind | None, typer.Option(help="interval, or new: series' first appearances [both].")
    ] = None,
    measure: Annotated[
        Measure | None,
        typer.Option(help="events, or fatalities: months whose deaths were flagged [both]."),
    ] = None,
    alerts: Annotated[
        bool, typer.Option("--alerts", help="Only the alert-worthy ones (first or worse).")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many (newest first).")] = 30,
    fmt: FormatOption = Format.table,
) -> None:
    """List flagged months, newest first."""
    from service.anomalies.repository import AnomalyFilter, list_anomalies
    from service.series.repository import get_series

    with db_session() as session:
        series_id = None
        if series is not None:
            missing = f"no series {series!r}; find one with `sahelcast series list`"
            series_id = found_or_fail(get_series(session, series), missing).id
        wanted = AnomalyFilter(
            since=since.date() if since else None,
            until=until.date() if until else None,
            min_severity=min_severity,
            direction=direction,
            status=status,
            origin=origin,
            measure=measure,
            kind=kind,
            alert=True if alerts else None,
            series_id=series_id,
            series=filters,
        )
        rows, total = list_anomalies(session, wanted, limit=limit)
    records = [anomaly_record(a) for a in rows]
    if fmt is Format.table:
        records = [{**r, "range": _range(r), "counted": _counted(r)} for r in records]
    emit(records, COLUMNS, fmt, title=f"{len(rows)} of {total} anomalies, newest first")


SHOW_FIELDS = (
    "series_key", "month", "measure", "observed", "expected", "lower", "upper", "level",
    "direction", "tail_probability", "severity", "in_season", "episode_start", "alert", "status",
    "origin", "run_id", "horizon", "forecast_origin", "created_at", "acknowledged_at",
)  # fmt: skip


@app.command()
def show(
    anomaly_id: Annotated[int, typer.Argument(help="The anomaly's id.")],
    fmt: FormatOption = Format.table,
) -> None:
    """Show one flagged month in full: what was observed, what was expected, how unusual."""
    from service.anomalies.repository import get_anomaly

    with db_session() as session:
        found = get_anomaly(session, anomaly_id)
    anomaly = found_or_fail(found, f"no anomaly {anomaly_id}; see `sahelcast anomalies list`")
    emit_one(anomaly_record(anomaly), fmt, title=f"anomaly {anomaly_id}", fields=SHOW_FIELDS)
