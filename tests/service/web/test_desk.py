"""The desk over HTTP: the overview (API, page, CSV), freshness with an injected clock, the
country picker and the map, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from service.db import session_scope
from tests.service.builders import built, month_after
from tests.service.web.conftest import ClientFactory
from tests.service.web.deskworld import MALI, NIGER, POLYGONS, DeskWorld, make_desk_world

Client = Callable[..., AbstractContextManager[TestClient]]
FRESH = dt.datetime(2023, 2, 10, 9, 0)  # data through December 2022: one month behind
STALE = dt.datetime(2023, 6, 15, 9, 0)  # five months behind


@pytest.fixture
def world(engine: Engine) -> DeskWorld:
    return built(engine, make_desk_world)


@pytest.fixture
def client(dashboard: ClientFactory) -> Client:
    def open_client(now: dt.datetime = FRESH) -> AbstractContextManager[TestClient]:
        return dashboard(now=now)

    return open_client


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_overview_lists_every_region_and_actor_with_the_engines_outlook(
    client: Client, world: DeskWorld
) -> None:
    with client() as c:
        body = c.get("/v1/overview", params={"country": "mali"}).json()
    assert body["country"] == "Mali"
    assert body["last_complete_month"] == "2022-12-01"
    assert body["recent_months"] == ["2022-10-01", "2022-12-01"]
    items = {(i["kind"], i["name"]): i for i in body["items"]}
    assert {n for k, n in items if k == "region"} == set(MALI)
    assert {n for k, n in items if k == "actor"} == {"JNIM"}
    assert {n for k, n in items if k == "event_type"} == {"State-based conflict"}
    assert items[("event_type", "State-based conflict")]["event_type"] == "State-based conflict"
    assert ("country", "Mali (all)") in items
    for (kind, name), item in items.items():
        stored = world.outlook[(item["series_id"], "events")]
        # One truth: the total and its 80 % interval are the engine's, not re-summed here.
        assert item["outlook_mean"] == pytest.approx(stored.mean, abs=0.01)
        assert (item["outlook_low_80"], item["outlook_high_80"]) == (stored.q100, stored.q900)
        assert item["recent_forecast"] == pytest.approx(7.5)  # three backtest months of 2.5
        expected = "up" if stored.q100 > item["previous_observed"] else (
            "down" if stored.q900 < item["previous_observed"] else "steady")  # fmt: skip
        assert item["trend"] == expected, (kind, name)
    mopti = items[("region", "Mopti")]
    assert (mopti["shift"], mopti["shift_month"], mopti["shift_probability"]) == (
        "up", "2022-11-01", 0.83)  # fmt: skip
    assert items[("region", "Gao")]["shift"] is None


def test_the_overview_counts_the_last_months_and_open_escalations(
    client: Client, world: DeskWorld, engine: Engine
) -> None:
    from service.series.repository import get_series, series_months

    with client() as c:
        body = c.get("/v1/overview", params={"country": "Burkina Faso"}).json()
    items = {(i["kind"], i["name"]): i for i in body["items"]}
    assert items[("region", "Sahel")]["open_escalations"] == 1
    assert items[("region", "Sahel")]["escalation_ids"] == [world.escalation.id]  # type: ignore[union-attr]
    assert items[("region", "Nord")]["open_escalations"] == 0
    with session_scope(engine) as session:
        info = get_series(session, world.web.id("Nord"))
        assert info is not None
        frame = series_months(session, info)
    assert items[("region", "Nord")]["recent_observed"] == int(frame["events"].tail(3).sum())
    assert items[("region", "Nord")]["previous_observed"] == int(frame["events"].tail(6).sum())


def test_the_overview_as_csv_from_the_api_and_the_page(client: Client, world: DeskWorld) -> None:
    with client() as c:
        api = c.get("/v1/overview", params={"country": "Niger", "format": "csv"})
        page = c.get("/overview", params={"country": "Niger"})
        link = re.search(r'href="(/web/overview\.csv\?[^"]+)"', page.text)
        assert link is not None
        download = c.get(link.group(1).replace("&amp;", "&"))
        deaths = c.get("/v1/overview", params={"country": "Niger", "measure": "fatalities",
                                               "format": "csv"})  # fmt: skip
    assert api.status_code == download.status_code == 200
    assert api.headers["content-type"].startswith("text/csv")
    assert api.text == download.text
    rows = _rows(api.text)
    assert [r["name"] for r in rows if r["kind"] == "region"] == list(NIGER)
    total = next(r for r in rows if r["kind"] == "country")
    assert float(total["outlook_low_80"]) == world.outlook[(world.id("Niger"), "events")].q100
    deaths_total = next(r for r in _rows(deaths.text) if r["kind"] == "country")
    stored = world.outlook[(world.id("Niger"), "fatalities")]
    assert float(deaths_total["outlook_high_80"]) == stored.q900


def test_the_overview_page_lists_every_region_and_sorts(client: Client, world: DeskWorld) -> None:
    with client() as c:
        html = c.get("/overview", params={"country": "Mali"}).text
        by_outlook = c.get("/overview", params={"country": "Mali", "sort": "outlook"}).text
        unknown = c.get("/overview", params={"country": "Atlantis"})
        api_unknown = c.get("/v1/overview", params={"country": "Atlantis"})
    regions = re.findall(r'<table class="overview" data-kind="region">(.*?)</table>', html, re.S)
    assert len(regions) == 1
    names = re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a>', regions[0])
    assert names == ["Mali (all)", *MALI]
    table = re.findall(r'data-kind="region">(.*?)</table>', by_outlook, re.S)[0]
    sorted_names = re.findall(r'<th scope="row"><a [^>]*>([^<]+)</a>', table)[1:]
    means = {r: world.outlook[(world.id("Mali", r), "events")].mean for r in MALI}
    assert sorted_names == sorted(MALI, key=lambda r: -means[r])
    assert unknown.status_code == 404
    assert "countries held: Burkina Faso, Mali, Niger" in unknown.text
    assert api_unknown.status_code == 404
    assert api_unknown.headers["content-type"] == "application/problem+json"


def test_freshness_follows_the_given_clock(client: Client, world: DeskWorld) -> None:
    with client(FRESH) as c:
        fresh_api = c.get("/v1/freshness").json()
        fresh_page = c.get("/overview", params={"country": "Mali"}).text
    with client(STALE) as c:
        stale_api = c.get("/v1/freshness").json()
        stale_page = c.get("/overview", params={"country": "Mali"}).text
        stale_dashboard = c.get("/", params={"country": "Mali"}).text
        overview = c.get("/v1/overview", params={"country": "Mali"}).json()
        as_csv = c.get("/v1/freshness", params={"format": "csv"})
    assert fresh_api["stale"] is False
    assert {i["months_behind"] for i in fresh_api["items"]} == {1}
    assert 'id="freshness"' not in fresh_page
    assert stale_api["stale"] is True
    assert {(i["country"], i["months_behind"]) for i in stale_api["items"]} == {
        ("Burkina Faso", 5), ("Mali", 5), ("Niger", 5)}  # fmt: skip
    for html in (stale_page, stale_dashboard):
        assert 'id="freshness"' in html
        assert "end in December 2022" in html
        assert "(May 2023)" in html
    assert overview["freshness"][0]["stale"] is True
    assert _rows(as_csv.text)[0]["stale"] == "true"


def test_the_dashboard_starts_on_a_country_picker(client: Client, world: DeskWorld) -> None:
    with client() as c:
        start = c.get("/").text
        mali = c.get("/", params={"country": "Mali"}).text
    cards = re.findall(r'data-country="([^"]+)"', start)
    assert cards == ["Burkina Faso", "Mali", "Niger"]
    assert 'id="fan-chart"' not in start
    stored = world.outlook[(world.id("Mali"), "events")]
    assert f"<strong>{stored.mean:.0f}</strong> events" in start
    assert 'data-series-key="ucdp|Mali|*|*|*"' in mali


@pytest.mark.parametrize("country", sorted(POLYGONS))
def test_the_map_draws_every_polygon_with_its_numbers(
    client: Client, world: DeskWorld, country: str
) -> None:
    with client() as c:
        html = c.get("/map", params={"country": country}).text
        deaths = c.get("/map", params={"country": country, "measure": "fatalities"}).text
        csv_text = c.get("/web/map.csv", params={"country": country}).text
    svg = re.search(r"<svg[^>]*id=\"map\".*?</svg>", html, re.S)
    assert svg is not None
    paths = re.findall(r'<path class="region"[^>]*data-region="([^"]+)"', svg.group(0))
    assert len(paths) == len(set(paths)) == POLYGONS[country]
    assert 'class="legend"' in svg.group(0)
    labels = dict(re.findall(r'data-region="([^"]+)">[^<]*<tspan[^>]*>([^<]+)</tspan>',
                             svg.group(0)))  # fmt: skip
    assert set(labels) == set(paths)
    if country == "Mali":
        gao = sum(world.outlook[(world.id("Mali", r), "events")].mean for r in ("Gao", "Menaka"))
        assert labels["Gao"] == f"{gao:,.0f}"
        assert "Ménaka is drawn inside Gao and Taoudénit inside Timbuktu" in svg.group(0)
        timbuktu = world.outlook[(world.id("Mali", "Tombouctou"), "events")].mean
        assert labels["Timbuktu"] == f"{timbuktu:,.0f}"
        rows = _rows(csv_text)
        assert {r["region"] for r in rows if r["polygon"] == "Gao"} == {"Gao", "Menaka"}
        deaths_label = re.search(r'data-region="Gao">[^<]*<tspan[^>]*>([^<]+)</tspan>', deaths)
        assert deaths_label is not None
        gao_deaths = sum(world.outlook[(world.id("Mali", r), "fatalities")].mean
                         for r in ("Gao", "Menaka"))  # fmt: skip
        assert deaths_label.group(1) == f"{gao_deaths:,.0f}"
    if country == "Burkina Faso":
        # Regions without series are drawn (grey), not left out.
        assert labels["Cascades"] == "–"


def test_the_track_record_shows_both_measures_beside_the_naive_peers(
    client: Client, world: DeskWorld, engine: Engine
) -> None:
    from sqlalchemy import select

    from service.series.orm import Series
    from service.training.orm import RunSeries

    with client() as c:
        html = c.get("/track-record").text
        levels = c.get("/web/track-record.csv", params={"table": "levels",
                                                        "measure": "fatalities"})  # fmt: skip
        bad = c.get("/web/track-record.csv", params={"table": "secrets"})
    assert re.findall(r'data-measure="(\w+)"', html) == ["events", "fatalities"]
    assert html.count("No published") == 2  # no forecast month observed yet, per measure
    with session_scope(engine) as session:
        run = world.web.fatalities_run
        assert run is not None
        scores = session.execute(
            select(RunSeries.scores).join(Series, Series.id == RunSeries.series_id)
            .where(RunSeries.run_id == run.id, Series.level == "region")
        ).scalars().all()  # fmt: skip
    rows = {r["level"]: r for r in _rows(levels.text)}
    region = rows["region"]
    assert int(region["series"]) == len(scores)
    engine_crps = sum(s["negbin"]["crps"] for s in scores) / len(scores)
    naive_crps = sum(s["seasonal_naive"]["crps"] for s in scores) / len(scores)
    assert float(region["engine_crps"]) == pytest.approx(engine_crps)
    assert float(region["seasonal_naive_crps"]) == pytest.approx(naive_crps)
    assert float(region["skill_vs_seasonal_naive"]) == pytest.approx(1 - engine_crps / naive_crps)
    assert bad.status_code == 400


def test_the_method_page_says_what_the_intervals_mean(client: Client, world: DeskWorld) -> None:
    with client() as c:
        html = c.get("/method").text
    assert "80 % interval" in html
    assert "Known limits" in html


def test_the_dashboard_defects_fixed(client: Client, world: DeskWorld) -> None:
    web = world.web
    assert web.fatalities_run is not None
    with client() as c:
        # The event type is offered once a region is chosen, without an actor.
        sahel = c.get("/", params={"country": "Burkina Faso", "region": "Sahel"}).text
        mopti = c.get("/", params={"country": "Mali", "region": "Mopti"}).text
        battles = c.get("/", params={"country": "Mali", "region": "Mopti",
                                     "event_type": "State-based conflict"}).text  # fmt: skip
        # /compare has a form and counts deaths when asked.
        deaths = c.get("/compare", params={"actor": "JNIM", "country": "Burkina Faso",
                                           "measure": "fatalities"}).text  # fmt: skip
        empty = c.get("/compare").text
        downloads = {t: c.get("/web/dashboard.csv", params={"table": t, "series": web.id("Sahel")})
                     for t in ("forecast", "anomalies", "effects", "runs", "coverage")}  # fmt: skip
    select = re.search(r'<select id="f-event-type".*?</select>', sahel, re.S)
    assert select is not None
    assert "State-based conflict" not in select.group(0)  # Sahel has no region × type series
    offered = re.search(r'<select id="f-event-type".*?</select>', mopti, re.S)
    assert offered is not None
    assert "State-based conflict" in offered.group(0)  # no actor needed
    assert 'data-series-key="ucdp|Mali|Mopti|*|State-based conflict"' in battles
    runs = re.search(r'<table class="runs">.*?</table>', sahel, re.S)
    assert runs is not None
    assert '<th scope="col">Measure</th>' in runs.group(0)
    assert "deaths</td>" in runs.group(0)
    assert 'id="compare-form"' in deaths
    assert 'id="compare-form"' in empty
    assert "deaths per month" in deaths
    assert 'href="/?series=' in deaths
    assert "&amp;measure=fatalities" in deaths
    for table, response in downloads.items():
        assert response.status_code == 200, table
        assert response.headers["content-type"].startswith("text/csv")
        assert len(_rows(response.text)) >= 1, table
    forecast = _rows(downloads["forecast"].text)
    assert [r["horizon"] for r in forecast] == [str(h) for h in range(1, 13)]
    runs_csv = _rows(downloads["runs"].text)
    assert {r["measure"] for r in runs_csv} == {"events", "fatalities"}
    assert sahel.count('class="csv"') == 5  # forecast, anomalies, effects, runs, coverage


def test_an_actor_in_several_countries_has_one_page(client: Client, world: DeskWorld) -> None:
    with client() as c:
        html = c.get("/actor", params={"name": "jnim"}).text
        unknown = c.get("/actor", params={"name": "Nobody"})
        dashboard = c.get("/", params={"country": "Mali", "actor": "JNIM"}).text
    assert re.findall(r'<tr data-country="([^"]+)"', html) == ["Burkina Faso", "Mali"]
    for country in ("Burkina Faso", "Mali"):
        stored = world.outlook[(world.id(country, actor="JNIM"), "events")]
        row = re.search(rf'<tr data-country="{country}">.*?</tr>', html, re.S)
        assert row is not None
        assert f"<strong>{stored.mean:.0f}</strong>" in row.group(0)
        assert f"({stored.q100:.0f}–{stored.q900:.0f})" in row.group(0)
    panels = set(re.findall(r'<figure class="multiple" data-series-id="(\d+)"', html))
    # Per-country series stay: one chart per country, the regions a link away.
    assert panels == {str(world.id("Mali", actor="JNIM")), str(world.web.id(actor="JNIM"))}
    assert "/compare?actor=JNIM&amp;country=Mali" in html
    assert unknown.status_code == 404
    assert 'href="/actor?name=JNIM"' in dashboard


def test_the_map_coloured_by_open_escalations(client: Client, world: DeskWorld) -> None:
    with client() as c:
        html = c.get("/map", params={"country": "Burkina Faso", "colour": "escalations"}).text
        overview = c.get("/overview", params={"country": "Mali"}).text
    bins = dict(re.findall(r'data-region="([^"]+)" data-bin="([^"]+)"', html))
    assert bins["Sahel"] == "1"
    assert {b for r, b in bins.items() if r != "Sahel"} == {"none"}
    assert 'data-mode="escalations"' in html
    # Only an actor active in several countries links to its page across them.
    assert 'href="/actor?name=JNIM"' in overview


def test_the_overview_opens_on_its_map(client: Client, world: DeskWorld) -> None:
    with client() as c:
        html = c.get("/overview", params={"country": "Niger"}).text
    assert html.count('<path class="region"') == POLYGONS["Niger"]
    assert html.index('id="map"') < html.index('data-kind="region"')


def test_the_track_record_scores_published_forecasts_by_level(
    client: Client, world: DeskWorld, engine: Engine
) -> None:
    from service.anomalies.orm import RunScore

    run, deaths = world.web.run, world.web.fatalities_run
    assert run is not None
    assert deaths is not None
    mali, mopti = world.id("Mali", None), world.id("Mali", "Mopti")
    month = dt.date(2023, 1, 1)
    with session_scope(engine) as session:  # events: Mali 2.0 and 4.0, Mopti 1.0; deaths: 9.0
        for run_id, series, crps, h in (
            (run.id, mali, 2.0, 1),
            (run.id, mali, 4.0, 2),
            (run.id, mopti, 1.0, 1),
            (deaths.id, mopti, 9.0, 1),
        ):
            session.add(RunScore(run_id=run_id, series_id=series, month=month_after(month, h - 1),
                                 horizon=h, observed=5, crps=crps, in_80=crps < 3,
                                 in_95=True))  # fmt: skip
    with client() as c:
        html = c.get("/track-record").text
        events = _rows(
            c.get(
                "/web/track-record.csv", params={"table": "live_levels", "measure": "events"}
            ).text
        )
        wanted = {"table": "live_levels", "measure": "fatalities"}
        fatal = _rows(c.get("/web/track-record.csv", params=wanted).text)
    assert html.count('<table class="live-levels">') == 2  # one per measure
    assert [(r["level"], int(r["n"]), float(r["crps"])) for r in events] == [
        ("country", 2, 3.0), ("region", 1, 1.0)]  # fmt: skip
    assert float(events[0]["coverage_80"]) == 0.5
    assert [(r["level"], int(r["n"]), float(r["crps"])) for r in fatal] == [("region", 1, 9.0)]


def test_the_overview_page_has_a_table_of_event_types(client: Client, world: DeskWorld) -> None:
    with client() as c:
        mali = c.get("/overview", params={"country": "Mali"}).text
        niger = c.get("/overview", params={"country": "Niger"}).text
    table = re.findall(r'<table class="overview" data-kind="event_type">(.*?)</table>', mali, re.S)
    assert len(table) == 1
    key = "ucdp|Mali|*|*|State-based conflict"
    assert f'data-series-id="{world.series[key].id}"' in table[0]
    assert ">State-based conflict</a>" in table[0]
    assert 'data-kind="event_type"' not in niger  # no country x event type series there
