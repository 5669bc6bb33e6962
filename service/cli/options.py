"""Options several commands share, written once: the series filters (as option groups, see
`grouped`) and the measure."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

import typer

from service.ingest.sources import Source
from service.measures import Measure
from service.series.levels import Level

if TYPE_CHECKING:
    from service.series.repository import SeriesFilter

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


def grouped(**groups: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command the options of option groups, written once.

    A group is a function whose parameters are typer options; the command's parameter named
    like the group is replaced, in `--help` and on the command line, by those options, and the
    command receives what the group returns for them (`filters: SeriesFilter` from
    `--country … --source`). A group may itself be `grouped`.
    """

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        params = []
        for param in inspect.signature(command).parameters.values():
            if param.name in groups:
                params += _options(groups[param.name])
            else:
                params.append(_evaluated(param, command))
        names = {name: list(inspect.signature(g).parameters) for name, g in groups.items()}

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            for name, group in groups.items():
                values[name] = group(**{option: values.pop(option) for option in names[name]})
            return command(**values)

        run.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run

    return decorate


def _evaluated(param: inspect.Parameter, owner: Callable[..., Any]) -> inspect.Parameter:
    """`param` as a keyword with its annotation evaluated where `owner` was written."""
    annotation = param.annotation
    if isinstance(annotation, str):
        annotation = eval(annotation, owner.__globals__)  # noqa: S307 (the module's own source)
    return param.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=annotation)


def _options(group: Callable[..., Any]) -> list[inspect.Parameter]:
    return [_evaluated(p, group) for p in inspect.signature(group).parameters.values()]


def place(
    country: Country = None,
    region: Region = None,
    actor: Actor = None,
    event_type: EventType = None,
) -> dict[str, str | None]:
    """Where: `--country`, `--region`, `--actor`, `--event-type` (None: any)."""
    return {"country": country, "region": region, "actor": actor, "event_type": event_type}


@grouped(where=place)
def series_filter(
    where: dict[str, str | None], level: LevelOption = None, source: SourceOption = None
) -> SeriesFilter:
    """The series filter of every command that lists or trains series."""
    from service.series.repository import SeriesFilter

    return SeriesFilter(source=source, level=level, **where)
