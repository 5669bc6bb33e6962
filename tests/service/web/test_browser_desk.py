"""The desk in a real browser (Debian's Chromium, driven by Playwright, against `sahelcast
serve`): the country picker, the overview and its CSV, the map of each demo country, the
track record, the freshness banner, and no legend or axis label drawn outside its picture.

The server's day is fixed with SAHELCAST_TODAY (no wall clock): June 2023, five months after
the data end, so the banner shows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.service.serving import Served, serving_world
from tests.service.web.deskworld import MALI, POLYGONS, DeskWorld, make_desk_world
from tests.service.web.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, _require_chromium

pytestmark = pytest.mark.slow

# Every <text> of every inline SVG must lie inside its <svg> box (a clipped legend entry or
# axis label lies partly outside it).
OUTSIDE = """(selector) => {
  const out = [];
  for (const svg of document.querySelectorAll(selector)) {
    const box = svg.getBoundingClientRect();
    for (const el of svg.querySelectorAll("text")) {
      const b = el.getBoundingClientRect();
      if (b.width === 0) continue;
      if (b.left < box.left - 0.5 || b.right > box.right + 0.5 ||
          b.top < box.top - 0.5 || b.bottom > box.bottom + 0.5) {
        out.push(`${svg.id}: ${el.textContent.trim()}`);
      }
    }
  }
  return out;
}"""


Desk = Served[DeskWorld]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    _require_chromium()
    folder = tmp_path_factory.mktemp("desk")
    env = {"SAHELCAST_PUBLIC_READ": "true", "SAHELCAST_TODAY": "2023-06-15"}
    with serving_world(folder, make_desk_world, env) as served:
        yield served


@pytest.fixture
def page(desk: Desk) -> Iterator[Page]:
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page(viewport={"width": 1366, "height": 900}, accept_downloads=True)
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda error: errors.append(str(error)))
            yield tab
        finally:
            browser.close()
    assert errors == []


def _outside(page: Page, selector: str = "svg") -> Any:
    return page.evaluate(OUTSIDE, selector)


def test_the_picker_then_the_overview_and_its_csv(desk: Desk, page: Page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(desk.base + "/")
    cards = page.locator(".country-card")
    assert cards.count() == 3
    assert [cards.nth(i).get_attribute("data-country") for i in range(3)] == [
        "Burkina Faso", "Mali", "Niger"]  # fmt: skip
    banner = page.locator("#freshness")
    assert banner.is_visible()
    assert "end in December 2022" in (banner.text_content() or "")
    with page.expect_navigation():
        page.locator('.country-card[data-country="Mali"]').get_by_role(
            "link", name="Overview"
        ).click()
    assert page.get_by_role("heading", level=1).text_content() == (
        "Mali: what is happening and what comes next")  # fmt: skip
    regions = page.locator('table[data-kind="region"] tbody tr th a:first-child')
    assert regions.all_text_contents() == ["Mali (all)", *MALI]
    page.screenshot(path=ARTIFACTS / "overview.png", full_page=True)
    with page.expect_download() as download:
        page.locator("#regions a.csv").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows if r["kind"] == "region"] == list(MALI)
    gao = next(r for r in rows if r["name"] == "Gao")
    stored = desk.world.outlook[(int(gao["series_id"]), "events")]
    assert float(gao["outlook_high_80"]) == stored.q900
    # Sorting by a heading reorders the regions (largest outlook first).
    with page.expect_navigation():
        page.locator("#regions thead").get_by_role("link", name="Next 6 months (80 %)").click()
    names = regions.all_text_contents()[1:]
    means = {r: desk.world.outlook[(desk.world.id("Mali", r), "events")].mean for r in MALI}
    assert names == sorted(MALI, key=lambda r: -means[r])


def test_the_map_of_each_country(desk: Desk, page: Page) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for country, polygons in POLYGONS.items():
        page.goto(desk.base + "/map?" + f"country={country.replace(' ', '+')}")
        svg = page.locator("svg#map")
        assert svg.is_visible()
        assert page.locator("svg#map path.region").count() == polygons
        assert page.locator("svg#map text.label").count() == polygons
        assert page.locator("svg#map .legend text.legend-label").count() >= 5
        for i in range(polygons):  # every polygon is drawn with an area on screen
            box = page.locator("svg#map path.region").nth(i).bounding_box()
            assert box is not None
            assert box["width"] > 0
        assert _outside(page, "svg#map") == []
        if country == "Mali":
            assert page.locator("svg#map text.note", has_text="Ménaka is drawn inside").is_visible()
            page.screenshot(path=ARTIFACTS / "map.png", full_page=True)
    # Clicking a region opens its charts.
    with page.expect_navigation():
        page.locator('svg#map path.region[data-region="Maradi"]').click()
    assert "region=Maradi" in page.url
    assert page.locator("svg#fan-chart").get_attribute("data-series-key") == "ucdp|Niger|Maradi|*|*"


def test_the_track_record_shows_both_measures(desk: Desk, page: Page) -> None:
    page.goto(desk.base + "/track-record")
    for measure, heading in (("events", "Events"), ("fatalities", "Deaths")):
        section = page.locator(f'section[data-measure="{measure}"]')
        assert section.get_by_role("heading", name=heading, exact=True).is_visible()
        assert section.locator("table.levels tbody tr").count() >= 3
    page.screenshot(path=ARTIFACTS / "track-record.png", full_page=True)


def test_charts_keep_legends_and_labels_inside(desk: Desk, page: Page) -> None:
    world = desk.world
    for path in (f"/?series={world.id('Mali')}&measure=fatalities",
                 f"/?series={world.web.id('Sahel')}",
                 "/compare?actor=JNIM&measure=fatalities", "/actor?name=JNIM"):  # fmt: skip
        page.goto(desk.base + path)
        assert page.locator("svg").count() >= 1
        assert _outside(page) == [], path
    # The deaths chart names its axis; the events chart has its anomaly entries in its legend.
    page.goto(desk.base + f"/?series={world.web.id()}&measure=fatalities")
    assert page.locator("svg#fan-chart text", has_text="deaths per month").count() >= 1
    page.goto(desk.base + f"/?series={world.web.id()}")
    assert page.locator("svg#fan-chart text", has_text="anomaly, above").count() >= 1
    assert _outside(page) == []
    # At 1366 px and wider the effects' forest plot is on screen, not scrolled away.
    for width in (1366, 1600):
        page.set_viewport_size({"width": width, "height": 900})
        bar = page.locator("#effects .bar").first
        box = bar.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= width
        table = page.locator("#effects .scroll").first
        assert table.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
    # Printing drops the controls and keeps the chart.
    page.emulate_media(media="print")
    assert not page.locator("#selection").is_visible()
    assert page.locator("svg#fan-chart").is_visible()


def test_the_fixed_dashboard_defects_in_the_browser(desk: Desk, page: Page) -> None:
    # The event type can be chosen once a region is, with no actor.
    page.goto(desk.base + "/?country=Mali")
    with page.expect_navigation():
        page.get_by_label("Region", exact=True).select_option("Mopti")
    event_type = page.get_by_label("Event type", exact=True)
    assert "State-based conflict" in event_type.locator("option").all_text_contents()
    with page.expect_navigation():
        event_type.select_option("State-based conflict")
    chart = page.locator("svg#fan-chart")
    assert chart.get_attribute("data-series-key") == "ucdp|Mali|Mopti|*|State-based conflict"
    # ... and with only a country: Mali's battles, a country × event type series, with its
    # history, forecast and season like any other
    page.goto(desk.base + "/?country=Mali")
    event_type = page.get_by_label("Event type", exact=True)
    assert "State-based conflict" in event_type.locator("option").all_text_contents()
    with page.expect_navigation():
        event_type.select_option("State-based conflict")
    assert chart.get_attribute("data-series-key") == "ucdp|Mali|*|*|State-based conflict"
    assert page.get_by_label("Region", exact=True).input_value() == ""
    assert "All actors in Mali — State-based conflict" in (
        page.get_by_role("heading", level=1).text_content() or ""
    )
    assert int(chart.get_attribute("data-forecast-months") or 0) > 0
    current = page.locator("#effects tr.current th")  # its rainy-season effect, marked
    assert current.text_content() == "whole country · all actors · State-based conflict"
    # The runs table says which measure each run forecast.
    runs = page.locator("table.runs")
    assert runs.locator("thead th").all_text_contents()[1] == "Measure"
    assert set(runs.locator("tbody td:nth-child(2)").all_text_contents()) == {"events", "deaths"}
    # /compare has a form, and it counts deaths when asked.
    page.goto(desk.base + "/compare")
    page.get_by_label("Actor across its regions").select_option("JNIM")
    page.get_by_label("Count", exact=True).select_option("fatalities")
    with page.expect_navigation():
        page.get_by_role("button", name="Compare").click()
    assert "measure=fatalities" in page.url
    assert "deaths per month" in (page.locator("#shared-scale").text_content() or "")
    assert page.locator("figure.multiple").count() >= 2
    assert _outside(page) == []
    # The method page, in plain words.
    page.goto(desk.base + "/method")
    assert page.get_by_role("heading", name="Known limits").is_visible()
