"""`sahelcast forecast`, `sahelcast season` and `sahelcast overview`: the analyst's views in a
terminal, as a table for people or JSON/CSV for programs. They read what the API and the
dashboard read (the published runs, `service.desk.overview`)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from service.cli.common import db_session, fail
from service.cli.options import MeasureOption, SourceOption
from service.cli.output import Column, Format, FormatOption, emit
from service.measures import EVENTS, noun

SeriesArg = Annotated[str, typer.Argument(help="Series id or key (see `sahelcast series list`).")]
QUANTILES = ("q025", "q100", "q250", "q500", "q750", "q900", "q975")


def _num(value: Any, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _series(session: Any, ref: str) -> Any:
    from service.series.repository import get_series

    info = get_series(session, ref)
    if info is None:
        fail(f"no series {ref!r}; find one with `sahelcast series list`", 2)
    return info


def forecast(
    series: SeriesArg,
    months: Annotated[
        int,
        typer.Option(
            min=1,
            max=12,
            help="Months ahead to show (1-12); 3, 6 or 12 add the "
            "total of those months with its interval.",
        ),  # fmt: skip
    ] = 6,
    measure: MeasureOption = EVENTS,
    fmt: FormatOption = Format.table,
) -> None:
    """A series' published forecast: each month's mean and intervals, and the total of the
    next MONTHS months with its 80 % and 95 % intervals (the engine's, from its joint paths)."""
    from service.forecasts.repository import series_forecast, series_outlook

    with db_session() as session:
        info = _series(session, series)
        found = series_forecast(session, info.id, measure=measure)
        if found is None:
            fail(f"no published {measure} forecast for {info.key} (run `sahelcast train`)", 1)
        outlook = series_outlook(session, info.id, measure, months, found.run_id)
    points = [p for p in found.points if p.horizon <= months]
    records: list[dict[str, Any]] = [
        {"run_id": found.run_id, "measure": measure, "series_id": info.id, "series_key": info.key,
         "month": p.month, "horizon": p.horizon, "mean": round(p.mean, 3),
         **{q: getattr(p, q) for q in QUANTILES}, "in_season": p.in_season, "total": False}
        for p in points
    ]  # fmt: skip
    if outlook is not None:
        records.append({"run_id": found.run_id, "measure": measure, "series_id": info.id,
                        "series_key": info.key, "month": outlook.first_month, "horizon": months,
                        "mean": round(outlook.mean, 3), **{q: getattr(outlook, q)
                                                           for q in QUANTILES},
                        "in_season": None, "total": True})  # fmt: skip
    if fmt is not Format.table:
        emit(records, (), fmt)
        return
    rows = [{"month": f"{r['month']:%b %Y}" if not r["total"] else f"next {months} months",
             "mean": _num(r["mean"], 1), "median": _num(r["q500"]),
             "i80": f"{_num(r['q100'])}–{_num(r['q900'])}",
             "i95": f"{_num(r['q025'])}–{_num(r['q975'])}",
             "rainy": "" if r["total"] else ("yes" if r["in_season"] else "no")}
            for r in records]  # fmt: skip
    columns = (Column("month", whole=True), Column("mean", right=True),
               Column("median", right=True), Column("i80", "80 %", right=True),
               Column("i95", "95 %", right=True), Column("rainy", "rainy", whole=True))  # fmt: skip
    caption = (f"{noun(measure).capitalize()}, published run {found.run_id}. The last row is "
               f"the total of the next {months} months with its own interval"
               if outlook is not None else
               f"{noun(measure).capitalize()}, published run {found.run_id} (totals: --months "
               "3, 6 or 12)")  # fmt: skip
    emit(rows, columns, fmt, title=f"Forecast of {info.key}", caption=caption)


def season(
    series: SeriesArg, measure: MeasureOption = EVENTS, fmt: FormatOption = Format.table
) -> None:
    """The rainy-season effect the series' forecast uses: the rate ratio with its 95 %
    interval, its own unpooled estimate and the events behind it."""
    from service.forecasts.repository import published_result
    from service.forecasts.schemas import SeasonEffectRead

    with db_session() as session:
        info = _series(session, series)
        found = published_result(session, info.id, measure)
        if found is None or found.result is None:
            fail(f"{info.key} is not in a published {measure} run (run `sahelcast train`)", 1)
        effect = SeasonEffectRead.of(found.result)
        run_id = found.run_id
    record = {"run_id": run_id, "measure": measure, "series_id": info.id, "series_key": info.key,
              **effect.model_dump()}  # fmt: skip
    if fmt is not Format.table:
        emit([record], (), fmt)
        return
    rows = [{"field": k.replace("_", " "), "value": v} for k, v in record.items()]
    emit(rows, (Column("field", whole=True), Column("value")), fmt,
         title=f"Rainy-season effect on {info.key}",
         caption="Rate in a rainy-season month over the rate in a dry one (above 1: more "
                 "violence in the rains)")  # fmt: skip


OVERVIEW_COLUMNS = (
    Column("kind", whole=True),
    Column("name"),
    Column("recent", "last 3 mo", right=True),
    Column("forecast", "fcst", right=True),
    Column("outlook", "next 6 mo (80 %)", right=True),
    Column("trend", whole=True),
    Column("esc", "esc", right=True),
)


def overview(
    country: Annotated[str, typer.Argument(help="Country, e.g. Mali.")],
    measure: MeasureOption = EVENTS,
    source: SourceOption = None,
    fmt: FormatOption = Format.table,
) -> None:
    """A country at a glance: its total, regions, event types and actors with the last three
    months observed and forecast, the next six months' total with its 80 % interval, the trend
    and open escalations (the dashboard's /overview)."""
    from service.desk.overview import UnknownCountry, country_overview

    with db_session() as session:
        try:
            found = country_overview(session, country, measure, source)
        except UnknownCountry as error:
            fail(str(error), 2)
    records = [row.record() for row in found.rows]
    if fmt is not Format.table:
        emit(records, (), fmt, document={"country": found.country, "source": found.source,
                                         "measure": measure, "run_id": found.run_id,
                                         "items": records})  # fmt: skip
        return
    marks = {"up": "▲ up", "down": "▼ down", "steady": "● steady", None: "–"}
    rows = [{"kind": r["kind"], "name": r["name"], "recent": _num(r["recent_observed"]),
             "forecast": _num(r["recent_forecast"], 1),
             "outlook": "–" if r["outlook_mean"] is None else
             f"{_num(r['outlook_mean'])} ({_num(r['outlook_low_80'])}–"
             f"{_num(r['outlook_high_80'])})",
             "trend": marks[r["trend"]], "esc": r["open_escalations"]}
            for r in records]  # fmt: skip
    emit(
        rows,
        OVERVIEW_COLUMNS,
        fmt,
        title=f"{found.country}: {noun(measure)}",
        caption="fcst: the run's forecast of the last 3 months; esc: open escalations",
    )
