"""Option groups (`grouped`): a command gets a group's options on its command line and what
the group makes of them; groups nest; the series filter is one such group."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.testing import CliRunner

from service.cli.options import grouped, place, series_filter
from service.series.repository import SeriesFilter

runner = CliRunner()


def pair(
    low: Annotated[int, typer.Option(help="The low end.")] = 1,
    high: Annotated[int, typer.Option(help="The high end.")] = 9,
) -> tuple[int, int]:
    return low, high


@grouped(span=pair)
def spread(span: tuple[int, int]) -> int:
    return span[1] - span[0]


def _app(command: Any) -> typer.Typer:
    app = typer.Typer()
    app.command("a")(command)
    app.command("b")(lambda: None)  # two commands: `a` is named on the command line
    return app


def test_a_group_gives_its_options_and_the_command_what_it_makes_of_them() -> None:
    seen: list[Any] = []

    @grouped(span=pair)
    def command(
        name: Annotated[str, typer.Argument(help="A name.")],
        span: tuple[int, int],
        loud: Annotated[bool, typer.Option("--loud")] = False,
    ) -> None:
        seen.append((name, span, loud))

    app = _app(command)
    assert runner.invoke(app, ["a", "x", "--high", "5", "--loud"]).exit_code == 0
    assert runner.invoke(app, ["a", "y"]).exit_code == 0
    assert seen == [("x", (1, 5), True), ("y", (1, 9), False)]
    assert spread(low=2, high=7) == 5  # callable with the group's options as keywords
    shown = runner.invoke(app, ["a", "--help"]).output
    assert "--low" in shown
    assert "The high end." in shown
    assert "--span" not in shown


def test_the_series_filter_group_nests_the_place_group() -> None:
    found: list[SeriesFilter] = []

    @grouped(filters=series_filter)
    def command(filters: SeriesFilter) -> None:
        found.append(filters)

    app = _app(command)
    args = ["a", "--country", "Mali", "--actor", "JNIM", "--level", "actor_country"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert found == [SeriesFilter(None, "Mali", None, "JNIM", None, "actor_country")]
    assert place(country="Niger") == {
        "country": "Niger",
        "region": None,
        "actor": None,
        "event_type": None,
    }
    refused = runner.invoke(app, ["a", "--level", "nowhere"])
    assert refused.exit_code == 2  # the group's choices are checked like any option's
