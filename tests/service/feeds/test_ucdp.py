"""UCDP through its API: GED releases, Candidate releases month by month, and a GED release
replacing the Candidate events it covers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, select

from service.config import Settings
from service.db import session_scope
from service.feeds.errors import FeedAuthError, FeedConfigError, FeedDataError, FeedNotFound
from service.feeds.orm import FeedWatermark
from service.feeds.service import Options, fetch_ucdp
from service.ingest.orm import Event
from service.series.orm import Coverage
from tests.service.feeds.fake_api import UCDP_TOKEN, FakeApi, ucdp_row


def _held(engine: Engine) -> dict[str, str]:
    with session_scope(engine) as session:
        rows = session.execute(select(Event.source_event_id, Event.event_date))
        return {r.source_event_id: str(r.event_date) for r in rows}


def test_a_ged_release_is_paged_and_not_asked_twice(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.releases["24.1"] = [ucdp_row(n, f"2023-0{n}-15") for n in range(1, 6)] + [
        ucdp_row(99, "2023-02-01", country_id=432, adm_1="Mopti region")
    ]
    report = fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "24.1", options=options)
    assert report.reports[0].added == 5
    asked = api.requests("/api/gedevents/24.1")
    assert [s.params["page"] for s in asked] == ["0", "1", "2"]  # NextPageUrl followed
    assert {(s.params["Country"], s.params["pagesize"]) for s in asked} == {("439", "2")}
    assert all(s.headers["x-ucdp-access-token"] == UCDP_TOKEN for s in asked)
    with engine.connect() as connection:  # the token is sent, never stored
        metadata = MetaData()
        metadata.reflect(connection)
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                assert UCDP_TOKEN not in str(tuple(row)), table.name
    assert sorted(_held(engine)) == ["1", "2", "3", "4", "5"]
    with session_scope(engine) as session:
        coverage = session.scalar(select(Coverage))
        assert coverage is not None
        # A release covers whole months: May, the month of its last event, is complete.
        assert coverage.last_complete_month == dt.date(2023, 5, 1)
    api.seen.clear()
    again = fetch_ucdp(engine, feed_settings, ["burkina faso"], "24.1", options=options)
    assert api.seen == []
    assert again.skipped == ["Burkina Faso"]
    assert not again.changed


def test_candidates_month_by_month_then_ged_replaces_them(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.releases["24.1"] = [ucdp_row(1, "2023-11-02"), ucdp_row(2, "2023-12-20")]
    api.releases["24.0.1"] = [ucdp_row(1001, "2024-01-10"), ucdp_row(1002, "2024-01-20")]
    api.releases["24.0.2"] = [
        ucdp_row(1003, "2024-02-03"),
        ucdp_row(1004, "2023-12-31"),
    ]  # fmt: skip  (late, GED has it)
    fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "24.1", options=options)
    first = fetch_ucdp(
        engine, feed_settings, ["Burkina Faso"], None, candidate=True, options=options
    )
    # After GED 24.1 (through 2023) come 24.0.1, 24.0.2; 24.0.3 is not out yet (404).
    assert first.query["versions"] == ["24.0.1", "24.0.2"]
    assert [s.path for s in api.requests("/api/gedevents/24.0.3")] == ["/api/gedevents/24.0.3"]
    assert sorted(_held(engine)) == ["1", "1001", "1002", "1003", "2"]

    api.releases["24.0.3"] = [ucdp_row(1005, "2024-03-09")]
    api.seen.clear()
    second = fetch_ucdp(
        engine, feed_settings, ["Burkina Faso"], None, candidate=True, options=options
    )
    assert second.query["versions"] == ["24.0.3"]
    assert {s.path for s in api.seen} == {"/api/gedevents/24.0.3", "/api/gedevents/24.0.4"}

    # GED 25.1 covers 2024: it replaces the Candidate events of January to March, keeps
    # what it confirms under its own ids, and drops what it does not hold.
    api.releases["25.1"] = [
        ucdp_row(1, "2023-11-02"),
        ucdp_row(2, "2023-12-20"),
        ucdp_row(5001, "2024-01-10"),
        ucdp_row(1003, "2024-02-03", best=7),
    ]
    ged = fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "25.1", options=options)
    events = ged.reports[0]
    assert (events.added, events.updated, events.deleted) == (1, 3, 3)
    assert sorted(_held(engine)) == ["1", "1003", "2", "5001"]
    with session_scope(engine) as session:
        marks = {
            (m.feed, m.scope): (m.version, m.covered_until)
            for m in session.scalars(select(FeedWatermark))
        }
    assert marks[("ucdp", "Burkina Faso")] == ("25.1", dt.date(2024, 12, 31))
    assert marks[("ucdp-candidate", "Burkina Faso")] == ("24.0.3", dt.date(2024, 3, 31))

    # Candidates resume after the GED release: 25.0.1 (January 2025) is the next one asked.
    api.seen.clear()
    later = Options(**{**options.__dict__, "today": lambda: dt.date(2025, 2, 1)})
    fetch_ucdp(engine, feed_settings, ["Burkina Faso"], None, candidate=True, options=later)
    assert [s.path for s in api.seen] == ["/api/gedevents/25.0.1"]


def test_an_older_ged_release_is_refused(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.releases["25.1"] = [ucdp_row(1, "2024-01-02")]
    fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "25.1", options=options)
    with pytest.raises(FeedConfigError, match="older 24.1 would go back"):
        fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "24.1", options=options)


def test_named_releases_and_their_faults(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    with pytest.raises(FeedNotFound, match="HTTP 404"):
        fetch_ucdp(engine, feed_settings, ["Niger"], "23.1", options=options)
    with pytest.raises(FeedConfigError, match="expected YY.N.*add --candidate"):
        fetch_ucdp(engine, feed_settings, ["Niger"], "25.0.3", options=options)
    with pytest.raises(FeedConfigError, match="no Gleditsch–Ward code known for 'Atlantis'"):
        fetch_ucdp(engine, feed_settings, ["Atlantis"], "25.1", options=options)
    api.releases["25.1"] = [ucdp_row(1, "2024-01-02", country_id=436, violence=4)]
    with pytest.raises(FeedDataError, match="page 0, row 1, event '1', field 'type_of_violence'"):
        fetch_ucdp(engine, feed_settings, ["Niger"], "25.1", options=options)
    no_token = feed_settings.model_copy(update={"ucdp_token": type(feed_settings.ucdp_token)("")})
    with pytest.raises(FeedAuthError, match="SAHELCAST_UCDP_TOKEN"):
        fetch_ucdp(engine, no_token, ["Niger"], "25.1", options=options)
    assert _held(engine) == {}


def test_a_short_count_is_caught(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.releases["25.1"] = [ucdp_row(n, "2024-01-02") for n in range(1, 4)]
    original = api.ucdp

    def lying(path: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, Any]:
        status, body = original(path, params, headers)
        body["TotalCount"] = 4
        return status, body

    api.ucdp = lying  # type: ignore[method-assign]
    with pytest.raises(FeedDataError, match="3 rows read but TotalCount says 4"):
        fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "25.1", options=options)
    assert _held(engine) == {}
