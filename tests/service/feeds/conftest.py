"""Fixtures of the feed tests: the fake API in a thread, settings pointing at it, fetch options
with a fixed day and instant, the fake's clock and a sleep that records instead of waiting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from service.config import Settings
from service.feeds.service import Options
from tests.service.feeds.fake_api import PASSWORD, UCDP_TOKEN, USERNAME, FakeApi, serving

TODAY = dt.date(2024, 4, 10)
NOW = int(dt.datetime(2024, 4, 10, 12, tzinfo=dt.UTC).timestamp())  # noon of TODAY, unix seconds


@dataclass
class Sleeps:
    calls: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture(autouse=True)
def _fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetches started without options (weekly job, API, CLI) see TODAY, not the wall clock."""
    import service.feeds.service as feeds

    monkeypatch.setattr(feeds, "utc_today", lambda: TODAY)
    monkeypatch.setattr(feeds, "utc_now", lambda: NOW)


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()
    with serving(fake):
        yield fake


@pytest.fixture
def feed_settings(
    api: FakeApi, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Settings for the test database whose APIs are the fake (the CLI sees them too)."""
    monkeypatch.setenv("SAHELCAST_ACLED_URL", api.base)
    monkeypatch.setenv("SAHELCAST_ACLED_USERNAME", USERNAME)
    monkeypatch.setenv("SAHELCAST_ACLED_PASSWORD", PASSWORD)
    monkeypatch.setenv("SAHELCAST_UCDP_URL", api.base)
    monkeypatch.setenv("SAHELCAST_UCDP_TOKEN", UCDP_TOKEN)
    monkeypatch.setenv("SAHELCAST_FEED_BACKOFF_SECONDS", "1")
    settings: Settings = request.getfixturevalue("settings")
    return settings


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def options(api: FakeApi, sleeps: Sleeps) -> Options:
    """Small pages so a handful of rows spans several; the fake's clock; no real waiting."""
    return Options(
        today=lambda: TODAY,
        now=lambda: NOW,
        sleep=sleeps,
        monotonic=api.clock,
        acled_page_size=2,
        ucdp_page_size=2,
    )
