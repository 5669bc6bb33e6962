"""Options several commands share, written once: the series filters and the output format."""

from __future__ import annotations

from typing import Annotated

import typer

from service.ingest.sources import Source
from service.measures import Measure
from service.series.levels import Level

Country = Annotated[str | None, typer.Option(help="Only this country, e.g. 'Mali'.")]
Region = Annotated[str | None, typer.Option(help="Only this admin1 region, e.g. 'Mopti'.")]
Actor = Annotated[str | None, typer.Option(help="Only this canonical actor, e.g. 'JNIM'.")]
EventType = Annotated[
    str | None, typer.Option("--event-type", help="Only this event type, e.g. 'Battles'.")
]
LevelOption = Annotated[Level | None, typer.Option("--level", help="Only this roll-up level.")]
SourceOption = Annotated[Source | None, typer.Option("--source", help="Only this data provider.")]
MeasureOption = Annotated[
    Measure,
    typer.Option(
        "--measure", help="What is counted: events, or the deaths reported in them (fatalities)."
    ),
]
