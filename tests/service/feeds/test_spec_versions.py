"""The pure parts of the feeds: SAHELCAST_FEEDS, UCDP versions, country codes, Retry-After."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest

from service.feeds.countries import canonical, gw_code
from service.feeds.errors import FeedConfigError, FeedHTTPError
from service.feeds.http import FeedHTTP
from service.feeds.spec import FeedSpec, parse_feeds
from service.feeds.versions import Version, first_candidate_after, parse_version


def test_feeds_spec() -> None:
    feeds = parse_feeds("acled:Mali,Burkina Faso, Niger ; ucdp-candidate:Mali;ucdp@25.1:Niger;")
    assert feeds == [
        FeedSpec("acled", ("Mali", "Burkina Faso", "Niger")),
        FeedSpec("ucdp-candidate", ("Mali",)),
        FeedSpec("ucdp", ("Niger",), "25.1"),
    ]
    assert parse_feeds("") == []
    for bad, said in [
        ("acled", "expected `acled:Country"),
        ("acled@1:Mali", "no versions"),
        ("ucdp:Mali", "ucdp@25.1:Mali"),
        ("gdelt:Mali", "unknown feed"),
    ]:
        with pytest.raises(ValueError, match=said):
            parse_feeds(bad)


def test_versions_cover_dates_and_rank_publications() -> None:
    ged, march = parse_version("25.1", candidate=False), parse_version("25.0.3", candidate=True)
    assert ged.covers == (dt.date(1989, 1, 1), dt.date(2024, 12, 31))
    assert march.covers == (dt.date(2025, 3, 1), dt.date(2025, 3, 31))
    assert Version(25, 0, 12).next() == Version(26, 0, 1)
    assert Version(26, 1, 0).rank > Version(25, 0, 12).rank > Version(25, 0, 3).rank
    assert first_candidate_after(dt.date(2024, 12, 31)).name == "25.0.1"
    with pytest.raises(FeedConfigError, match="expected YY.0.M"):
        parse_version("25.0.13", candidate=True)


def test_country_codes() -> None:
    assert [gw_code(c) for c in ("Mali", "burkina faso", " Niger ")] == [432, 439, 436]
    assert canonical("NIGER") == "Niger"
    with pytest.raises(FeedConfigError, match="known: Algeria, Benin"):
        gw_code("Narnia")


def test_retry_after_as_a_date_is_read_against_the_answers_own_clock() -> None:
    waits: list[float] = []
    answers = iter(
        [
            httpx.Response(
                503,
                headers={
                    "Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT",
                    "Date": "Wed, 21 Oct 2026 07:28:00 GMT",
                },
            ),
            httpx.Response(429, headers={"Retry-After": "86400"}),
        ]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    http = FeedHTTP(
        "http://api.test", label="UCDP", settings=("S",), sleep=waits.append, transport=transport
    )
    with pytest.raises(FeedHTTPError, match="asks to wait 86400 s"):
        http.get("/x", what="page 0", params={}, headers={})
    assert waits == [30.0]
