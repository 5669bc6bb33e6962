"""Faults of the APIs: retried when passing (429 with Retry-After, 5xx, timeouts, cut-off
answers), a clear error and nothing written otherwise (credentials, malformed pages, schema
drift, rows that fail the file checks). The password never shows anywhere."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Engine, MetaData, func, select, text

from service.config import Settings
from service.db import session_scope
from service.feeds.errors import FeedAuthError, FeedDataError, FeedHTTPError
from service.feeds.orm import FeedFetch, FeedWatermark
from service.feeds.service import Options, fetch_acled
from service.ingest.orm import Event, IngestedFile
from tests.service.feeds.conftest import Sleeps
from tests.service.feeds.fake_api import PASSWORD, FakeApi, acled_row


def _five(api: FakeApi) -> None:
    api.events = [acled_row(n, "2024-01-05", timestamp=100 + n) for n in range(1, 6)]


def _nothing_written(engine: Engine) -> None:
    with session_scope(engine) as session:
        for table in (Event, IngestedFile, FeedFetch, FeedWatermark):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table


def test_429_waits_as_told_and_500_backs_off(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options, sleeps: Sleeps
) -> None:
    _five(api)
    api.fail("/api/acled/read", "429")
    api.fail("/api/acled/read", "500", times=2)
    report = fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert report.reports[0].added == 5
    # Retry-After: 7 first, then the backoff doubles from SAHELCAST_FEED_BACKOFF_SECONDS=1.
    assert sleeps.calls == [7.0, 2.0, 4.0]


def test_a_cut_off_answer_and_a_timeout_are_retried(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options, sleeps: Sleeps
) -> None:
    _five(api)
    api.fail("/api/acled/read", "cut")
    api.fail("/api/acled/read", "slow")
    settings = feed_settings.model_copy(update={"feed_timeout_seconds": 0.3})
    report = fetch_acled(engine, settings, ["Mali"], options=options)
    assert report.reports[0].added == 5
    assert len(sleeps.calls) == 2


def test_retries_run_out_with_nothing_written(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options, sleeps: Sleeps
) -> None:
    _five(api)
    api.fail("/api/acled/read", "503", times=5)
    with pytest.raises(FeedHTTPError, match=r"HTTP 503 after 5 attempts"):
        fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert len(sleeps.calls) == 4
    _nothing_written(engine)


def test_bad_credentials_name_the_setting_and_never_show_the_password(
    engine: Engine,
    feed_settings: Settings,
    api: FakeApi,
    options: Options,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _five(api)
    caplog.set_level(logging.DEBUG)
    wrong = feed_settings.model_copy(update={"acled_password": type(
        feed_settings.acled_password)("not-" + PASSWORD)})  # fmt: skip
    with pytest.raises(FeedAuthError) as raised:
        fetch_acled(engine, wrong, ["Mali"], options=options)
    message = str(raised.value)
    assert "SAHELCAST_ACLED_PASSWORD" in message
    assert PASSWORD not in message
    _nothing_written(engine)
    # A good fetch, then look for the password everywhere it could leak.
    fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert PASSWORD not in caplog.text
    assert PASSWORD not in repr(feed_settings)
    assert PASSWORD not in str(feed_settings.model_dump())
    with engine.connect() as connection:
        metadata = MetaData()
        metadata.reflect(connection)
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                assert PASSWORD not in str(tuple(row)), table.name
        assert connection.execute(text("SELECT count(*) FROM events")).scalar() == 5


def test_forbidden_data_is_an_auth_error(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    _five(api)
    api.fail("/api/acled/read", "403", times=2)  # once more after a fresh token
    with pytest.raises(FeedAuthError, match="HTTP 403.*SAHELCAST_ACLED_USERNAME"):
        fetch_acled(engine, feed_settings, ["Mali"], options=options)
    _nothing_written(engine)


@pytest.mark.parametrize(("fault", "said"), [("truncated", "not JSON"), ("html", "not JSON")])
def test_a_malformed_page_writes_nothing(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options, fault: str,
    said: str,
) -> None:  # fmt: skip
    _five(api)

    def break_page_two(seen: object) -> None:
        api.fail("/api/acled/read", fault)
        api.after_page = None

    api.after_page = break_page_two  # page 1 is fine, page 2 is not
    with pytest.raises(FeedDataError, match=f"events of Mali, page 2: the answer is {said}"):
        fetch_acled(engine, feed_settings, ["Mali"], options=options)
    _nothing_written(engine)


def test_schema_drift_is_named(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    _five(api)
    for row in api.events:
        del row["fatalities"]
    with pytest.raises(FeedDataError, match=r"page 1: .*'fatalities'.*schema drift"):
        fetch_acled(engine, feed_settings, ["Mali"], options=options)
    _nothing_written(engine)


def test_one_row_without_a_column_is_named_by_page_and_event(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    _five(api)
    del api.events[3]["event_type"]
    with pytest.raises(FeedDataError, match=r"page 2, row 2, event 'MLI4'.*'event_type'"):
        fetch_acled(engine, feed_settings, ["Mali"], options=options)
    _nothing_written(engine)


def test_a_row_failing_the_checks_names_page_event_and_field(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    _five(api)
    api.events[4] = acled_row(5, "2024-01-05", fatalities=-3)
    with pytest.raises(FeedDataError) as raised:
        fetch_acled(engine, feed_settings, ["Mali"], options=options)
    message = str(raised.value)
    assert message.startswith("ACLED events of Mali, page 3, row 1, event 'MLI5', field")
    assert "'fatalities'" in message
    assert "negative" in message
    _nothing_written(engine)
