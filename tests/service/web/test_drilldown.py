"""The dashboard's events panel: a month link opens the events behind it, without a script."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from service.config import Settings
from service.db import session_scope
from service.ingest.service import ingest_file
from service.series.orm import Observation, Series
from service.series.repository import find_series
from tests.service.api.builders import make_anomaly
from tests.service.ingest.acled_rows import mixed_rows, write
from tests.service.web.conftest import ClientFactory

KEY = "acled|Mali|Mopti|*|*"


@pytest.fixture
def series_id(engine: Engine, settings: Settings, tmp_path: Path) -> int:
    """The id of the Mopti series, once the mixed Mali rows are ingested."""
    ingest_file(engine, write(tmp_path / "mali.csv", mixed_rows()), settings)
    with session_scope(engine) as session:
        found = find_series(session, KEY)
        assert found is not None
        return found.id


def _observed(engine: Engine, series_id: int, month: dt.date) -> int:
    with session_scope(engine) as session:
        events = session.scalar(
            select(Observation.events).where(Observation.series_id == series_id,
                                             Observation.month == month)
        )  # fmt: skip
    return int(events or 0)


def _events_panel(html: str) -> str:
    """The events panel of a dashboard page (it stands before the anomalies)."""
    return html[html.index('id="events"') : html.index('id="anomalies"')]


def test_a_month_link_opens_its_events_with_a_csv_download(
    dashboard: ClientFactory, engine: Engine, series_id: int
) -> None:
    with dashboard() as client:
        page = client.get(f"/?series={series_id}").text
        # Every known month is a plain link to its events (no script needed).
        link = f"/?series={series_id}&amp;month=2022-08#events"
        assert link in page
        assert 'id="events"' not in page  # no month chosen: no panel
        html = client.get(f"/?series={series_id}&month=2022-08").text
        expected = _observed(engine, series_id, dt.date(2022, 8, 1))
        panel = _events_panel(html)
        assert "Events of August 2022" in panel
        assert f"The {expected} events counted" in panel
        assert panel.count('id="event-') == expected
        assert all(
            d.startswith("2022-08") for d in re.findall(r"<th scope=\"row\">([\d-]+)<", panel)
        )
        assert 'aria-current="true"' in html[html.index("month-strip") :]
        href = re.search(r'<a href="([^"]+)" download>Download CSV</a>', panel)
        assert href is not None
        exported = client.get(href.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == expected
    assert {r["region"] for r in rows} == {"Mopti"}
    assert [f'id="event-{r["id"]}"' in panel for r in rows] == [True] * expected


def test_an_anomaly_row_opens_the_events_of_its_month(
    dashboard: ClientFactory, engine: Engine, series_id: int
) -> None:
    with session_scope(engine) as session:
        series = session.get(Series, series_id)
        assert series is not None
        anomaly = make_anomaly(session, series, month=dt.date(2022, 9, 1), origin="backtest")
    with dashboard() as client:
        html = client.get(f"/?series={series_id}&origin=backtest").text  # asked for
        row = html[html.index(f'id="anomaly-{anomaly.id}"') :]
        link = re.search(r'<a href="([^"]+#events)"', row[: row.index("</tr>")])
        assert link is not None
        opened = client.get(link.group(1).replace("&amp;", "&")).text
    panel = _events_panel(opened)
    assert "Events of September 2022" in panel
    assert panel.count('id="event-') == _observed(engine, series_id, dt.date(2022, 9, 1))


def test_a_bad_month_is_said_and_the_export_needs_a_reader(
    dashboard: ClientFactory, series_id: int
) -> None:
    with dashboard() as client:
        panel = _events_panel(client.get(f"/?series={series_id}&month=2022-13").text)
        assert "is not a month" in panel
        assert client.get(f"/web/events.csv?series={series_id}&month=Sept").status_code == 400
        assert client.get("/web/events.csv?series=999999&month=2022-08").status_code == 404
    with dashboard(public_read=False) as client:
        refused = client.get(f"/web/events.csv?series={series_id}&month=2022-08")
    assert refused.status_code == 401
    assert "text/csv" not in refused.headers["content-type"]
