"""Faults of the APIs: retried when passing (429 with Retry-After, 5xx, timeouts, cut-off
answers), a clear error and nothing written otherwise (credentials, malformed pages, schema
drift, rows that fail the file checks). The password never shows anywhere."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, MetaData, func, select, text

from service.config import Settings
from service.db import session_scope
from service.feeds.errors import FeedAuthError, FeedDataError, FeedHTTPError
from service.feeds.orm import FeedFetch, FeedWatermark
from service.feeds.service import Options, fetch_acled
from service.feeds.write import FetchReport
from service.ingest.orm import Event, IngestedFile
from tests.service.feeds.conftest import Sleeps
from tests.service.feeds.fake_api import PASSWORD, FakeApi, acled_row


def _nothing_written(engine: Engine) -> None:
    with session_scope(engine) as session:
        for table in (Event, IngestedFile, FeedFetch, FeedWatermark):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table


@dataclass
class Mali:
    """Five ACLED events of Mali in the fake API, fetched into the test database in pages of 2."""

    engine: Engine
    settings: Settings
    api: FakeApi
    options: Options

    def fetch(self, settings: Settings | None = None) -> FetchReport:
        return fetch_acled(self.engine, settings or self.settings, ["Mali"], options=self.options)

    def refused(
        self, error: type[Exception], match: str | None = None, settings: Settings | None = None
    ) -> str:
        """Fetch, expecting `error` (matching `match`) and nothing written; return its message."""
        with pytest.raises(error, match=match) as raised:
            self.fetch(settings)
        _nothing_written(self.engine)
        return str(raised.value)


@pytest.fixture
def mali(engine: Engine, feed_settings: Settings, api: FakeApi, options: Options) -> Mali:
    api.events = [acled_row(n, "2024-01-05", timestamp=100 + n) for n in range(1, 6)]
    return Mali(engine, feed_settings, api, options)


def test_429_waits_as_told_and_500_backs_off(mali: Mali, sleeps: Sleeps) -> None:
    mali.api.fail("/api/acled/read", "429")
    mali.api.fail("/api/acled/read", "500", times=2)
    assert mali.fetch().reports[0].added == 5
    # Retry-After: 7 first, then the backoff doubles from SAHELCAST_FEED_BACKOFF_SECONDS=1.
    assert sleeps.calls == [7.0, 2.0, 4.0]


def test_a_cut_off_answer_and_a_timeout_are_retried(mali: Mali, sleeps: Sleeps) -> None:
    mali.api.fail("/api/acled/read", "cut")
    mali.api.fail("/api/acled/read", "slow")
    quick = mali.settings.model_copy(update={"feed_timeout_seconds": 0.3})
    assert mali.fetch(quick).reports[0].added == 5
    assert len(sleeps.calls) == 2


def test_retries_run_out_with_nothing_written(mali: Mali, sleeps: Sleeps) -> None:
    mali.api.fail("/api/acled/read", "503", times=5)
    mali.refused(FeedHTTPError, r"HTTP 503 after 5 attempts")
    assert len(sleeps.calls) == 4


def test_bad_credentials_name_the_setting_and_never_show_the_password(
    mali: Mali, caplog: pytest.LogCaptureFixture
) -> None:
    engine, feed_settings = mali.engine, mali.settings
    caplog.set_level(logging.DEBUG)
    wrong = feed_settings.model_copy(
        update={"acled_password": type(feed_settings.acled_password)("not-" + PASSWORD)}
    )
    message = mali.refused(FeedAuthError, settings=wrong)
    assert "SAHELCAST_ACLED_PASSWORD" in message
    assert PASSWORD not in message
    # A good fetch, then look for the password everywhere it could leak.
    mali.fetch()
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


def test_forbidden_data_is_an_auth_error(mali: Mali) -> None:
    mali.api.fail("/api/acled/read", "403", times=2)  # once more after a fresh token
    mali.refused(FeedAuthError, "HTTP 403.*SAHELCAST_ACLED_USERNAME")


@pytest.mark.parametrize(("fault", "said"), [("truncated", "not JSON"), ("html", "not JSON")])
def test_a_malformed_page_writes_nothing(mali: Mali, fault: str, said: str) -> None:
    def break_page_two(seen: object) -> None:
        mali.api.fail("/api/acled/read", fault)
        mali.api.after_page = None

    mali.api.after_page = break_page_two  # page 1 is fine, page 2 is not
    mali.refused(FeedDataError, f"events of Mali, page 2: the answer is {said}")


def test_schema_drift_is_named(mali: Mali) -> None:
    for row in mali.api.events:
        del row["fatalities"]
    mali.refused(FeedDataError, r"page 1: .*'fatalities'.*schema drift")


def test_one_row_without_a_column_is_named_by_page_and_event(mali: Mali) -> None:
    del mali.api.events[3]["event_type"]
    mali.refused(FeedDataError, r"page 2, row 2, event 'MLI4'.*'event_type'")


def test_a_row_failing_the_checks_names_page_event_and_field(mali: Mali) -> None:
    mali.api.events[4] = acled_row(5, "2024-01-05", fatalities=-3)
    message = mali.refused(FeedDataError)
    assert message.startswith("ACLED events of Mali, page 3, row 1, event 'MLI5', field")
    assert "'fatalities'" in message
    assert "negative" in message
