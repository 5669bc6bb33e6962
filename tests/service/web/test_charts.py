"""The fan chart, its accessible SVG, the rainy-season spans and the selection rules."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Engine

from service.db import session_scope
from service.forecasts.repository import published_run_id
from service.series.repository import SeriesLabel, get_series
from service.web.chartdata import describe, load_chart, series_label
from service.web.plotting import fan_chart
from service.web.render import svg_markup
from service.web.seasons import describe_window, rainy_spans
from service.web.selection import Choice, resolve
from tests.service.web.builders import WebWorld


def test_the_chart_shows_history_forecast_seasons_and_anomalies(
    engine: Engine, web_world: WebWorld
) -> None:
    with session_scope(engine) as session:
        info = get_series(session, web_world.key("Sahel"))
        assert info is not None
        data = load_chart(session, info, published_run_id(session))
    assert len(data.known) == 84
    assert data.has_forecast
    assert [a.direction for a in data.anomalies] == ["above"]
    # Sahel region: rains from 1 July to 15 September, one span a year, clipped to the chart.
    assert data.seasons[0] == (dt.date(2016, 7, 1), dt.date(2016, 9, 16))
    assert len(data.seasons) == 8
    text = describe(data)
    assert "from January 2016 to December 2022" in text
    assert "Forecast by the negbin model for January 2023 to December 2023" in text
    assert "1 anomalous month is marked (1 above" in text
    svg = svg_markup(fan_chart(data), title="Sahel <all>", desc=text, ident="c",
                     attrs={"series-key": info.key})  # fmt: skip
    opening = re.match(r"<svg[^>]*>", svg)
    assert opening is not None
    assert 'role="img"' in opening.group(0)
    assert 'aria-labelledby="c-title c-desc"' in opening.group(0)
    assert "width=" not in opening.group(0)  # scales with the page
    assert f'data-series-key="{info.key}"' in opening.group(0)
    assert svg[opening.end() :].startswith('<title id="c-title">Sahel &lt;all&gt;</title>')
    assert "<metadata>" not in svg  # no creation date: the same data gives the same markup
    assert "rainy season" in svg  # text stays text (svg.fonttype none): the legend is readable
    assert svg == svg_markup(fan_chart(data), title="Sahel <all>", desc=text, ident="c",
                             attrs={"series-key": info.key})  # fmt: skip


def test_without_a_run_the_chart_says_why_there_is_no_forecast(
    engine: Engine, web_world: WebWorld
) -> None:
    with session_scope(engine) as session:
        info = get_series(session, web_world.key())
        assert info is not None
        data = load_chart(session, info, None, history_months=24)
    assert data.forecast is None
    assert len(data.history) == 24
    assert "No published forecast." in describe(data)
    assert "no forecast: the series is not in the published run" in svg_markup(
        fan_chart(data), title="t", desc="d"
    )


def test_rainy_spans_follow_the_calendar_and_clip() -> None:
    spans = rainy_spans("Burkina Faso", "Cascades", dt.date(2020, 8, 1), dt.date(2022, 1, 1))
    assert spans == [(dt.date(2020, 8, 1), dt.date(2020, 10, 16)),
                     (dt.date(2021, 5, 15), dt.date(2021, 10, 16))]  # fmt: skip
    assert rainy_spans("Atlantis", None, dt.date(2020, 1, 1), dt.date(2021, 1, 1)) == [
        (dt.date(2020, 6, 1), dt.date(2020, 10, 1))
    ]
    assert describe_window("Burkina Faso", "Sahel") == "1 Jul – 15 Sep"


def ref(
    i: int,
    region: str | None = None,
    actor: str | None = None,
    event_type: str | None = None,
    country: str = "Mali",
    source: str = "acled",
) -> SeriesLabel:
    key = "|".join([source, country, region or "*", actor or "*", event_type or "*"])
    return SeriesLabel(i, key, "x", source, country, region, actor, event_type)


CATALOGUE = [
    ref(1), ref(2, "Mopti"), ref(3, "Gao"), ref(4, None, "JNIM"), ref(5, "Mopti", "JNIM"),
    ref(6, "Mopti", "JNIM", "Battles"), ref(7, "Gao", "ISGS"), ref(8, None, "ISGS"),
    ref(9, country="Niger"), ref(10, country="Niger", source="ucdp"),
]  # fmt: skip


def test_the_selection_offers_what_exists_under_each_choice() -> None:
    first = resolve(CATALOGUE, Choice())
    assert first.series is not None
    assert first.series.id == 1  # the busiest country's total
    assert first.options.sources == ["acled", "ucdp"]
    assert first.options.countries == ["Mali", "Niger"]
    assert first.options.regions == ["Gao", "Mopti"]
    assert first.options.actors == ["ISGS", "JNIM"]  # country-wide series exist for both
    assert first.options.event_types == []
    mopti = resolve(CATALOGUE, Choice(region="Mopti", actor="JNIM"))
    assert mopti.series is not None
    assert mopti.series.id == 5
    assert mopti.options.actors == ["JNIM"]
    assert mopti.options.event_types == ["Battles"]
    assert mopti.notice is None
    assert resolve(CATALOGUE, Choice(source="ucdp")).series == CATALOGUE[9]


def test_a_choice_without_a_series_is_widened_and_said_so() -> None:
    widened = resolve(CATALOGUE, Choice(region="Gao", actor="JNIM", event_type="Battles"))
    assert widened.series is not None
    assert widened.series.id == 3
    assert widened.choice == Choice("acled", "Mali", "Gao")
    assert widened.notice is not None
    assert "without the actor and event type" in widened.notice
    unknown = resolve(CATALOGUE, Choice(country="Mali", actor="Wagner"))
    assert unknown.series is not None
    assert unknown.series.id == 1
    assert unknown.notice is not None
    assert "No series has the chosen actor" in unknown.notice
    assert resolve([], Choice()).series is None


def test_an_unknown_country_or_source_is_said_with_what_exists() -> None:
    chad = resolve(CATALOGUE, Choice(country="Chad"))
    assert chad.choice.country == "Mali"  # the busiest country instead
    assert chad.notice == "No acled series for Chad; showing Mali (held: Mali, Niger)."
    assert resolve(CATALOGUE, Choice(country="mali")).notice is None  # case does not matter
    gdelt = resolve(CATALOGUE, Choice(source="gdelt"))
    assert gdelt.notice is not None
    assert gdelt.notice.startswith("No gdelt data here; showing acled (held: acled, ucdp).")


def test_series_labels_read_as_words() -> None:
    assert series_label(CATALOGUE[5]) == "JNIM in Mopti, Mali — Battles"
    assert series_label(CATALOGUE[3], country=False) == "JNIM in all regions"
    assert series_label(CATALOGUE[0]) == "All actors in Mali"
