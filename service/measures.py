"""What sahelcast counts, forecasts and flags: events, and the deaths reported in them.

Each measure has its own training runs and its own publication pointer (a row of `publication`),
so the engine fits fatalities as counts with their own dispersion and readers pick a measure the
way they pick a series. No heavy imports: the CLI's choices use these names.
"""

from __future__ import annotations

from typing import Literal, get_args

Measure = Literal["events", "fatalities"]
MEASURES: tuple[Measure, ...] = get_args(Measure)
EVENTS: Measure = "events"
FATALITIES: Measure = "fatalities"
# The row of `publication` that names each measure's published run.
PUBLICATION_IDS: dict[str, int] = {"events": 1, "fatalities": 2}
# What one unit of the measure is called in sentences ("8 deaths, expected 2.7").
NOUNS: dict[str, str] = {"events": "events", "fatalities": "deaths"}


def noun(measure: str) -> str:
    return NOUNS.get(measure, measure)


def link_query(measure: str) -> str:
    """What a dashboard link adds to show `measure`: nothing for events (the default)."""
    return "" if measure == EVENTS else f"&measure={measure}"


def file_suffix(measure: str) -> str:
    """What a file name adds for `measure`: nothing for events, '-fatalities' otherwise."""
    return "" if measure == EVENTS else f"-{measure}"
