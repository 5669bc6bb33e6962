"""The dashboard over HTTP: what a page shows, how the selection resolves, keys and acks."""

from __future__ import annotations

import re
from typing import cast

from fastapi import FastAPI
from sqlalchemy import Engine, select

from service.anomalies.orm import Anomaly
from service.auth.orm import ApiKey
from service.auth.service import revoke_key
from service.auth.tokens import token_prefix
from service.db import session_scope
from tests.service.web.builders import WebWorld, make_web_world
from tests.service.web.conftest import ClientFactory

SAME_SITE = {"Origin": "http://dashboard.test"}


def chart_key(html: str) -> str:
    found = re.search(r'<svg[^>]*\bdata-series-key="([^"]*)"', html)
    assert found, "no chart on the page"
    return found.group(1)


def test_the_page_shows_chart_anomalies_effects_runs_and_coverage(
    dashboard: ClientFactory, web_world: WebWorld
) -> None:
    # How fast a page renders is measured in bench/dashboard.py, not asserted here.
    with dashboard() as client:
        response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    assert chart_key(html) == web_world.key()  # the country total by default
    assert 'role="img"' in html
    assert (
        '<title id="fan-chart-title">Monthly events and forecast: All actors in Burkina Faso'
        in html
    )
    assert "Forecast by the negbin model" in html
    assert "Rainy seasons are shaded" in html
    run = web_world.run
    assert run is not None
    assert f'data-run-id="{run.id}"' in html
    assert 'data-forecast-months="12"' in html
    # The anomalies of the selection (the whole country here), the acknowledged one included.
    assert html.count('id="anomaly-') == 4
    assert "✓ acknowledged" in html
    # Each row says how far ahead the judging forecast looked and the last month it saw.
    for a in web_world.anomalies:
        row = html[html.index(f'id="anomaly-{a.id}"') :]
        row = row[: row.index("</tr>")]
        assert f"{a.horizon} mo" in row
        assert f"from {a.forecast_origin:%b %Y}" in row
    assert "Sign in with an <strong>admin</strong> key" in html
    # With nothing chosen, the effects are the country's roll-ups: country, regions, actors.
    effects = html[html.index('id="effects"') : html.index('id="run-status"')]
    assert effects.count("<tr") == 1 + 1 + 3 + 2
    assert "0.70" in effects
    assert "0.49–1.00" in effects
    assert f"run {run.id}</strong>" in html
    assert "superseded" in html
    assert "Dec 2022" in html[html.index('id="coverage"') :]
    assert "UCDP Georeferenced Event Dataset" in html


def test_the_selection_picks_a_series_and_widens_when_none_matches(
    dashboard: ClientFactory, web_world: WebWorld
) -> None:
    with dashboard() as client:
        jnim = client.get("/", params={"region": "Sahel", "actor": "JNIM"}).text
        typed = client.get("/", params={"region": "sahel", "actor": "jnim"}).text
        linked = client.get("/", params={"series": str(web_world.id("Est"))}).text
        by_key = client.get("/", params={"series": web_world.key("Nord", "JNIM")}).text
        widened = client.get("/", params={"region": "Est", "actor": "Islamic State Sahel"}).text
        unknown = client.get("/", params={"region": "Atlantis"}).text
    assert chart_key(jnim) == chart_key(typed) == web_world.key("Sahel", "JNIM")
    assert '<option value="State-based conflict" >' in jnim  # event types of that actor
    assert chart_key(linked) == web_world.key("Est")
    assert '<option value="Est" selected>' in linked
    assert chart_key(by_key) == web_world.key("Nord", "JNIM")
    assert chart_key(widened) == web_world.key("Est")
    assert "showing it without the actor" in widened
    assert chart_key(unknown) == web_world.key()
    assert "No series has the chosen region here" in unknown
    # An actor chosen: its effects by region, the current series highlighted.
    effects = jnim[jnim.index('id="effects"') : jnim.index('id="run-status"')]
    assert effects.count('<th scope="row">') == 4
    assert effects.count('aria-current="true"') == 1


def test_reads_need_a_key_when_reads_are_not_public(
    dashboard: ClientFactory, web_world: WebWorld, engine: Engine
) -> None:
    with dashboard(public_read=False) as client:
        locked = client.get("/")
        assert locked.status_code == 200
        assert "Sign in to read" in locked.text
        assert "<svg" not in locked.text
        bad = client.post("/web/session", data={"key": "sck_nope", "next": "/"}, headers=SAME_SITE)
        assert bad.status_code == 401
        assert "invalid or revoked" in bad.text
        signed = client.post(
            "/web/session",
            data={"key": web_world.read_key, "next": "/?region=Sahel"},
            headers=SAME_SITE,
            follow_redirects=False,
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/?region=Sahel"
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=strict" in cookie
        page = client.get("/?region=Sahel")
        assert chart_key(page.text) == web_world.key("Sahel")
        assert "Signed in with <strong>analyst</strong>" in page.text
        with session_scope(engine) as session:
            prefix = token_prefix(web_world.read_key)
            key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
            assert key is not None
            revoke_key(session, key.id)
        cast(
            FastAPI, client.app
        ).state.key_cache.seconds = 0  # the API's cache would remember it 5 s
        revoked = client.get("/")
        assert "<svg" not in revoked.text
        assert "invalid or revoked" in revoked.text
        out = client.post("/web/session/end", headers=SAME_SITE, follow_redirects=False)
        assert out.status_code == 303
        assert 'sahelcast_session=""' in out.headers["set-cookie"]


def test_acknowledging_needs_an_admin_key_from_this_site(
    dashboard: ClientFactory, web_world: WebWorld, engine: Engine
) -> None:
    anomaly = next(a for a in web_world.anomalies if a.status == "new")
    url = f"/web/anomalies/{anomaly.id}/acknowledge"
    form = {"next": "/?region=Sahel"}
    with dashboard() as client:
        assert client.post(url, data=form, headers=SAME_SITE).status_code == 401
        client.post("/web/session", data={"key": web_world.read_key}, headers=SAME_SITE)
        refused = client.post(url, data=form, headers=SAME_SITE)
        assert refused.status_code == 403
        assert "admin key" in refused.text
        client.post("/web/session", data={"key": web_world.admin_key}, headers=SAME_SITE)
        page = client.get("/").text
        assert page.count(">Acknowledge</button>") == 3
        elsewhere = client.post(url, data=form, headers={"Origin": "https://evil.example"})
        assert elsewhere.status_code == 403
        done = client.post(url, data=form, headers=SAME_SITE, follow_redirects=False)
        assert done.status_code == 303
        assert done.headers["location"] == f"/?region=Sahel#anomaly-{anomaly.id}"
        assert (
            client.post("/web/anomalies/999999/acknowledge", headers=SAME_SITE).status_code == 404
        )
        away = client.post(url, data={"next": "//evil.example/x"}, headers=SAME_SITE,
                           follow_redirects=False)  # fmt: skip
        assert away.headers["location"].startswith("/#anomaly-")
        assert client.get("/").text.count(">Acknowledge</button>") == 2
    with session_scope(engine) as session:
        stored = session.get(Anomaly, anomaly.id)
        assert stored is not None
        assert stored.status == "acknowledged"


def test_before_any_run_the_history_is_shown(dashboard: ClientFactory, engine: Engine) -> None:
    with dashboard() as client:
        empty = client.get("/").text
        assert "No data yet" in empty
        assert "<svg" not in empty
        with session_scope(engine) as session:
            world = make_web_world(session, publish=False)
        html = client.get("/").text
    assert chart_key(html) == world.key()
    assert 'data-forecast-months="0"' in html
    assert "No training run is published yet" in html
    assert "No published forecast." in html


def test_assets_are_versioned_and_the_pages_stay_out_of_the_api_schema(
    dashboard: ClientFactory, web_world: WebWorld
) -> None:
    with dashboard() as client:
        html = client.get("/").text
        css = re.search(r'href="(/web/assets/dashboard\.css\?v=[0-9a-f]{10})"', html)
        js = re.search(r'src="(/web/assets/dashboard\.js\?v=[0-9a-f]{10})"', html)
        assert css
        assert js
        style = client.get(css.group(1))
        assert style.status_code == 200
        assert style.headers["content-type"].startswith("text/css")
        assert "immutable" in style.headers["cache-control"]
        assert client.get(js.group(1)).headers["content-type"].startswith("text/javascript")
        assert client.get("/web/assets/base.html").status_code == 404
        assert client.get("/web/assets/..%2Fassets.py").status_code == 404
        paths = client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p == "/" or p.startswith("/web")]


def test_an_unknown_country_is_said_and_escaped(
    dashboard: ClientFactory, web_world: WebWorld
) -> None:
    with dashboard() as client:
        page = client.get("/", params={"country": "Mali<script>"}).text
    assert chart_key(page) == web_world.key()
    assert (
        "No ucdp series for Mali&lt;script&gt;; showing Burkina Faso (held: Burkina Faso)." in page
    )


def test_the_series_page_shows_the_six_month_outlook_and_the_regime_the_run_stored(
    dashboard: ClientFactory, web_world: WebWorld, engine: Engine
) -> None:
    import datetime as dt

    from service.training.orm import Outlook, SeriesState

    run = web_world.run
    assert run is not None
    sid = web_world.id()  # the country total, shown by default
    months = [dt.date(2022, m, 1) for m in range(7, 13)]
    with session_scope(engine) as session:
        session.add(Outlook(run_id=run.id, series_id=sid, months=6, first_month=dt.date(2023, 1, 1),
                            mean=123.4, q025=80, q100=95, q250=110, q500=121, q750=135, q900=152,
                            q975=170))  # fmt: skip
        for k, month in enumerate(months):
            up = 0.61 if month.month == 10 else 0.02
            session.add(SeriesState(run_id=run.id, series_id=sid, month=month, level=20.0 + k,
                                    p_shift_up=up, p_shift_down=0.03 + 0.01 * k,
                                    p_outlier=0.07))  # fmt: skip
    with dashboard() as client:
        html = client.get("/").text
    expected = {
        "outlook": ("Next 6 months, in total", "<strong>123</strong> events expected",
                    "80 % interval 95–152", "95 % 80–170"),
        "regime": ("<strong>25.0</strong> events a month in Dec 2022",
                   "likeliest shift up in the last 6 months: Oct 2022 (61 %)",
                   "down: Dec 2022 (8 %)", "Dec 2022 a one-off burst: 7 %"),
    }  # fmt: skip
    for ident, texts in expected.items():
        fact = html[html.index(f'id="{ident}"') :]
        fact = fact[: fact.index("</div>")]
        for text in texts:
            assert text in fact
