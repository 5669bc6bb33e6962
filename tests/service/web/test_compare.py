"""The compare view: one chart per series, on one stated y scale, rainy seasons shaded."""

from __future__ import annotations

import re

from service.web.compare import nice_ceiling
from tests.service.web.builders import WebWorld
from tests.service.web.conftest import ClientFactory


def _panels(html: str) -> list[tuple[str, str]]:
    """(series id, ymax) of every panel's chart."""
    return re.findall(r'<svg[^>]*\bdata-series-id="(\d+)"[^>]*\bdata-ymax="([^"]+)"', html)


def test_an_actor_across_its_regions_on_one_scale(
    dashboard: ClientFactory, web_world: WebWorld
) -> None:
    with dashboard() as client:
        response = client.get("/compare", params={"actor": "jnim", "country": "Burkina Faso"})
    assert response.status_code == 200
    html = response.text
    panels = _panels(html)
    # JNIM has a series in Sahel, Nord and Est: one chart each, no other series.
    wanted = {web_world.id(r, "JNIM") for r in ("Sahel", "Nord", "Est")}
    assert sorted(int(i) for i, _ in panels) == sorted(wanted)
    assert html.count("<svg") == len(wanted)
    scales = {ymax for _, ymax in panels}
    assert len(scales) == 1  # the same y scale on every chart
    [ymax] = scales
    assert f"Same y scale on every chart: 0–{ymax} events per month" in html
    assert "Rainy seasons are shaded" in html  # each panel's description says so
    assert "JNIM across its regions in Burkina Faso" in html
    # The shared top covers the busiest panel's highest point, and is a round number.
    assert float(ymax) == nice_ceiling(float(ymax))


def test_all_actors_in_a_region(dashboard: ClientFactory, web_world: WebWorld) -> None:
    with dashboard() as client:
        html = client.get("/compare?region=Sahel&country=Burkina%20Faso").text
    ids = {int(i) for i, _ in _panels(html)}
    assert ids == {web_world.id("Sahel", "JNIM"), web_world.id("Sahel", "Islamic State Sahel")}
    assert "All actors in Sahel, Burkina Faso" in html


def test_the_dashboard_links_to_compare_and_bad_asks_are_said(
    dashboard: ClientFactory, web_world: WebWorld
) -> None:
    with dashboard() as client:
        page = client.get(f"/?series={web_world.id('Sahel', 'JNIM')}").text
        assert "/compare?actor=JNIM&amp;country=Burkina+Faso" in page
        assert "/compare?region=Sahel&amp;country=Burkina+Faso" in page
        prompt = client.get("/compare")
        assert prompt.status_code == 200
        assert "Choose an actor or a region" in prompt.text
        missing = client.get("/compare?actor=<b>Nobody</b>")
        assert missing.status_code == 404
        assert "<b>Nobody</b>" not in missing.text  # escaped
    with dashboard(public_read=False) as client:
        assert "<svg" not in client.get("/compare?actor=JNIM").text


def test_nice_ceiling() -> None:
    assert [nice_ceiling(v) for v in (0, 0.4, 1, 3, 7.1, 12, 26, 180)] == [
        1, 1, 1, 5, 10, 20, 50, 200,
    ]  # fmt: skip
