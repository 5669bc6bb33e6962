"""ACLED through its API: backfill, then only what changed (new, edited, deleted events)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, func, select

from service.config import Settings
from service.db import session_scope
from service.feeds.errors import FeedConfigError
from service.feeds.orm import FeedFetch, FeedWatermark
from service.feeds.service import Options, fetch_acled
from service.ingest.orm import Event, IngestedFile
from service.series.orm import Coverage
from tests.service.feeds.fake_api import FakeApi, Seen, acled_row


def _events(engine: Engine) -> dict[str, tuple[str, int]]:
    with session_scope(engine) as session:
        rows = session.execute(select(Event.source_event_id, Event.admin1, Event.fatalities))
        return {r.source_event_id: (r.admin1, r.fatalities) for r in rows}


def test_backfill_then_only_what_changed(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [
        acled_row(1, "2024-01-05", timestamp=100),
        acled_row(2, "2024-02-10", timestamp=110),
        acled_row(3, "2024-03-31", timestamp=120, admin1="Menaka"),
        acled_row(4, "2024-03-02", timestamp=130),
        acled_row(5, "2023-12-30", timestamp=140, country="Niger", admin1="Tillaberi"),
    ]
    first = fetch_acled(engine, feed_settings, ["Mali", "Niger"], options=options)
    events = first.reports[0]
    assert (events.rows_read, events.added, events.updated) == (5, 5, 0)
    mali = [s.params for s in api.requests("/api/acled/read") if s.params["country"] == "Mali"]
    # A backfill: all dates up to the day of the fetch, no timestamp filter, pages of 2 from 1
    # until the short page.
    assert [p["page"] for p in mali] == ["1", "2", "3"]
    assert all(p["limit"] == "2" and p["_format"] == "json" for p in mali)
    assert mali[0]["event_date"] == "1997-01-01|2024-04-10"
    assert "timestamp" not in mali[0]
    # Nothing was held before: no deletion list needed; it starts at the newest version read.
    assert api.requests("/api/deleted/read") == []
    assert len(_events(engine)) == 5

    api.events[1] = acled_row(2, "2024-02-10", timestamp=200, fatalities=9)  # edited
    api.events.append(acled_row(6, "2024-04-02", timestamp=210))  # new
    api.deletions = [
        {"event_id_cnty": "MLI3", "deleted_timestamp": "205"},
        {"event_id_cnty": "MLI77", "deleted_timestamp": "206"},  # never held: no harm
    ]
    api.seen.clear()
    second = fetch_acled(engine, feed_settings, ["Mali", "Niger"], options=options)
    asked = api.requests("/api/acled/read")
    assert {s.params["country"]: s.params["timestamp"] for s in asked} == {
        "Mali": "130",
        "Niger": "140",
    }
    assert all(s.params["timestamp_where"] == ">" for s in asked)
    # A full page of two deletions, then an empty one.
    deleted = [
        (s.params["deleted_timestamp"], s.params["page"]) for s in api.requests("/api/deleted/read")
    ]
    assert deleted == [("140", "1"), ("140", "2")]
    events, deletions = second.reports
    assert (events.rows_read, events.added, events.updated) == (2, 1, 1)
    assert (deletions.rows_read, deletions.deleted) == (2, 1)
    held = _events(engine)
    assert sorted(held) == ["MLI1", "MLI2", "MLI4", "MLI6", "NIG5"]
    assert held["MLI2"] == ("Mopti", 9)

    api.seen.clear()
    third = fetch_acled(engine, feed_settings, ["Mali", "Niger"], options=options)
    assert not third.changed
    assert third.fetch_id is None  # a no-op fetch writes nothing, not even its record
    assert [s.params["deleted_timestamp"] for s in api.requests("/api/deleted/read")] == ["206"]
    with session_scope(engine) as session:
        fetches = session.scalars(select(FeedFetch).order_by(FeedFetch.id)).all()
        assert [(f.added, f.updated, f.deleted) for f in fetches] == [(5, 0, 0), (1, 1, 1)]
        assert fetches[1].watermark["Mali"]["last_timestamp"] == 210
        assert "Mali" in fetches[0].query["queries"][0]
        files = session.scalars(select(IngestedFile).order_by(IngestedFile.id)).all()
        assert [f.kind for f in files] == ["events", "events", "deletions"]
        assert files[0].path.startswith("ACLED API: country=Mali")
        marks = {m.scope: m.last_timestamp for m in session.scalars(select(FeedWatermark))}
        assert marks == {"Mali": 210, "Niger": 140, "deletions": 206}


def test_coverage_follows_what_acled_published(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    # ACLED publishes weekly: data reaching 20 April leave April incomplete; Niger had no
    # event since December, yet its quiet months up to March are real zeros.
    api.events = [
        acled_row(1, "2024-04-20", timestamp=100),
        acled_row(2, "2023-12-01", timestamp=90, country="Niger"),
    ]
    later = Options(**{**options.__dict__, "today": lambda: dt.date(2024, 4, 22)})
    fetch_acled(engine, feed_settings, ["Mali", "Niger"], options=later)
    with session_scope(engine) as session:
        last = dict(session.execute(select(Coverage.country, Coverage.last_complete_month)).all())
    assert last == {"Mali": dt.date(2024, 3, 1), "Niger": dt.date(2024, 3, 1)}
    api.events.append(acled_row(3, "2024-04-30", timestamp=300))
    may = Options(**{**options.__dict__, "today": lambda: dt.date(2024, 5, 2)})
    fetch_acled(engine, feed_settings, ["Mali", "Niger"], options=may)
    with session_scope(engine) as session:
        last = dict(session.execute(select(Coverage.country, Coverage.last_complete_month)).all())
    assert last == {"Mali": dt.date(2024, 4, 1), "Niger": dt.date(2024, 4, 1)}


def test_since_limits_the_backfill_and_an_earlier_since_backfills_again(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [
        acled_row(1, "2020-05-01", timestamp=100),
        acled_row(2, "2024-01-01", timestamp=110),
    ]
    fetch_acled(engine, feed_settings, ["Mali"], since=dt.date(2023, 1, 1), options=options)
    assert sorted(_events(engine)) == ["MLI2"]
    fetch_acled(engine, feed_settings, ["Mali"], since=dt.date(2019, 1, 1), options=options)
    assert sorted(_events(engine)) == ["MLI1", "MLI2"]
    last = api.requests("/api/acled/read")[-1].params
    assert last["event_date"] == "2019-01-01|2024-04-10"
    assert "timestamp" not in last


def test_the_token_is_refreshed_before_it_expires(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [acled_row(n, "2024-01-05", timestamp=100 + n) for n in range(1, 6)]

    def an_hour_passes(seen: Seen) -> None:
        if seen.path == "/api/acled/read" and seen.params["page"] == "1":
            api.clock.now += 3590  # the first token has 10 s left: too little for a page

    api.after_page = an_hour_passes
    fetch_acled(engine, feed_settings, ["Mali"], options=options)
    grants = [s.form["grant_type"] for s in api.requests("/oauth/token")]
    assert grants == ["password", "refresh_token"]
    bearers = [s.headers["authorization"] for s in api.requests("/api/acled/read")]
    assert bearers == ["Bearer access-1", "Bearer access-2", "Bearer access-2"]
    assert all(s.status == 200 for s in api.seen)
    assert len(_events(engine)) == 5


def test_a_token_revoked_mid_fetch_is_replaced_once(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [acled_row(n, "2024-01-05", timestamp=100 + n) for n in range(1, 4)]
    api.fail("/api/acled/read", "401")
    fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert len(_events(engine)) == 3
    assert len(api.requests("/oauth/token")) == 2


def test_missing_credentials_name_the_settings(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    settings = feed_settings.model_copy(update={"acled_username": ""})
    with pytest.raises(FeedConfigError, match="SAHELCAST_ACLED_USERNAME"):
        fetch_acled(engine, settings, ["Mali"], options=options)
    assert api.seen == []


def test_nothing_to_fetch_is_recorded_too(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    report = fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert report.reports[0].rows_read == 0
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(FeedFetch)) == 1
        mark = session.scalar(select(FeedWatermark))
        assert mark is not None
        assert (mark.scope, mark.last_timestamp) == ("Mali", 0)
