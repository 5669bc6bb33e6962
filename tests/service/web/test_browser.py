"""The dashboard in a real browser: `sahelcast serve` (uvicorn) on a random port, headless
Chromium driven by Playwright. Sign in, change the selection, see the chart change,
acknowledge an anomaly, with no console error; screenshots go to test-artifacts/.

Chromium is Debian's (`/usr/bin/chromium`, installed by `make test` when root); never a
downloaded browser. Without it the test skips, except under CI=true where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Response, sync_playwright

from tests.conftest import ROOT
from tests.service.serving import Served, serving_world
from tests.service.web.builders import WebWorld, make_web_world

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
# Offline machine: no background networking, component updates or sync that would hang or log.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install chromium; `make test` does it as root)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the browser test is required under CI=true: {message}")
    pytest.skip(message)


Server = Served[WebWorld]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """uvicorn serving a temp SQLite database with the published web world; reads need a key."""
    _require_chromium()
    folder = tmp_path_factory.mktemp("browser")
    build = partial(make_web_world, fatalities=True)
    with serving_world(folder, build, {"SAHELCAST_PUBLIC_READ": "false"}) as served:
        yield served


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)

    def record(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url')})")


def _render_ms(response: Response | None) -> float:
    assert response is not None
    timing = response.headers.get("server-timing", "")
    return float(timing.split("dur=")[1]) if "dur=" in timing else 0.0


def test_the_dashboard_in_chromium(server: Server) -> None:
    world = server.world
    console = Console()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on(
                "console", lambda m: console.errors.append(m.text) if m.type == "error" else None
            )
            page.on("pageerror", lambda error: console.errors.append(str(error)))

            # Reads need a key here: the page asks for one and shows no data.
            page.goto(server.base + "/")
            assert page.get_by_role("heading", name="Sign in to read").is_visible()
            assert page.locator("svg#fan-chart").count() == 0
            page.get_by_label("API key", exact=True).fill(world.admin_key)
            with page.expect_navigation():
                page.get_by_role("button", name="Sign in").click()
            chart = page.locator("svg#fan-chart")
            assert chart.get_attribute("data-series-key") == world.key()
            title = page.locator("#fan-chart-title")
            assert "All actors in Burkina Faso" in (title.text_content() or "")
            assert page.get_by_text("Signed in with").is_visible()

            # Choosing a region re-submits the form (dashboard.js) and redraws the chart.
            with page.expect_navigation() as navigation:
                page.get_by_label("Region", exact=True).select_option("Sahel")
            assert _render_ms(navigation.value) < 1000
            assert chart.get_attribute("data-series-key") == world.key("Sahel")
            assert "All actors in Sahel" in (title.text_content() or "")
            assert page.url.endswith("/?source=ucdp&country=Burkina+Faso&region=Sahel")
            assert chart.get_attribute("data-forecast-months") == "12"

            # Acknowledge the region's new anomaly with the admin key.
            new_rows = page.locator("#anomalies tbody tr").filter(has=page.get_by_role("button"))
            assert new_rows.count() == 1
            with page.expect_navigation():
                new_rows.first.get_by_role("button").click()
            assert page.locator("#anomalies .ack").count() == 2
            assert page.locator("#anomalies button").count() == 0
            assert chart.get_attribute("data-series-key") == world.key("Sahel")

            # An actor, then one of its event types.
            with page.expect_navigation():
                page.get_by_label("Actor", exact=True).select_option("JNIM")
            assert chart.get_attribute("data-series-key") == world.key("Sahel", "JNIM")
            assert "JNIM in Sahel" in (title.text_content() or "")
            with page.expect_navigation():
                page.get_by_label("Event type", exact=True).select_option("State-based conflict")
            key = world.key("Sahel", "JNIM", "State-based conflict")
            assert chart.get_attribute("data-series-key") == key
            page.get_by_text("Forecast table").click()
            assert page.locator("table.numbers tbody tr").count() == 12
            page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)

            # The measure toggle: the same series in deaths, forecast by the fatalities run.
            toggle = page.get_by_role("navigation", name="What is counted")
            with page.expect_navigation():
                toggle.get_by_role("link", name="Deaths").click()
            assert chart.get_attribute("data-series-key") == key
            assert chart.get_attribute("data-run-id") == str(world.fatalities_run.id)  # type: ignore[union-attr]
            assert "Monthly deaths" in (page.locator("#fan-chart-desc").text_content() or "")
            assert toggle.get_by_role("link", name="Deaths").get_attribute("aria-current") == "true"
            # Choosing another region keeps counting deaths.
            with page.expect_navigation():
                page.get_by_label("Region", exact=True).select_option("Nord")
            assert "measure=fatalities" in page.url
            assert chart.get_attribute("data-run-id") == str(world.fatalities_run.id)  # type: ignore[union-attr]
            with page.expect_navigation():
                toggle.get_by_role("link", name="Events").click()
            assert chart.get_attribute("data-run-id") == str(world.run.id)  # type: ignore[union-attr]

            # Narrow screens get one column; the chart keeps a readable size and scrolls.
            page.set_viewport_size({"width": 420, "height": 900})
            assert page.locator(".chart-scroll").bounding_box()["width"] <= 420  # type: ignore[index]
            page.screenshot(path=ARTIFACTS / "dashboard-narrow.png", full_page=True)
        finally:
            browser.close()
    assert console.errors == []
