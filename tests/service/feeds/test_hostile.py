"""A hostile API: what it answers must never cost data, leak a credential or run away.

Each test fails on a fetch that trusts the answer: an empty release wiping a country, a row from
the future freezing the watermark, rows of another country stored, a gzip bomb or an endless
pager filling memory, a trickle holding the fetch for ever, JSON nested past Python's stack.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings, get_settings
from service.db import session_scope
from service.feeds.errors import FeedDataError, FeedHTTPError
from service.feeds.orm import FeedFetch, FeedWatermark
from service.feeds.service import Options, fetch_acled, fetch_ucdp
from service.feeds.write import FeedRefused
from service.ingest.orm import Event, IngestedFile
from service.jobs.kinds import FAILED
from service.jobs.steps import fetch_step
from tests.service.feeds.conftest import NOW
from tests.service.feeds.fake_api import FakeApi, acled_row, ucdp_row

runner = CliRunner(env={"COLUMNS": "200"})


def _ids(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return sorted(session.scalars(select(Event.source_event_id)))


def _count(engine: Engine, table: Any) -> int:
    with session_scope(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


# -- 1: a fetch is a transaction with a sanity check -------------------------------------------


def test_an_empty_release_does_not_wipe_a_country_unless_forced(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.releases["24.1"] = [ucdp_row(n, f"2023-0{1 + n % 9}-15") for n in range(1, 31)]
    fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "24.1", options=options)
    assert len(_ids(engine)) == 30
    api.releases["25.1"] = []  # {"TotalCount": 0, "Result": []}
    with pytest.raises(FeedRefused, match=r"no events for Burkina Faso .* where 30 are held"):
        fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "25.1", options=options)
    assert len(_ids(engine)) == 30
    # Half of them gone is past the share (10 % by default): refused too.
    api.releases["25.1"] = api.releases["24.1"][:15]
    with pytest.raises(FeedRefused, match=r"leave Burkina Faso with 15 of its 30 ucdp events"):
        fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "25.1", options=options)
    with session_scope(engine) as session:
        mark = session.scalar(select(FeedWatermark.version))
    assert mark == "24.1"  # nothing moved
    # A higher share, or --force, lets the answer through.
    lenient = feed_settings.model_copy(update={"feed_max_delete_share": 0.6})
    fetch_ucdp(engine, lenient, ["Burkina Faso"], "25.1", options=options)
    assert len(_ids(engine)) == 15
    api.releases["26.1"] = []
    fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "26.1", options=options, force=True)
    assert _ids(engine) == []


def test_a_deletion_list_removing_most_of_a_country_is_refused(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [acled_row(n, "2024-01-05", timestamp=100 + n) for n in range(1, 21)]
    fetch_acled(engine, feed_settings, ["Mali"], options=options)
    api.deletions = [{"event_id_cnty": f"MLI{n}", "deleted_timestamp": "500"} for n in range(1, 16)]
    api.events.append(acled_row(99, "2024-02-05", timestamp=300))
    with pytest.raises(
        FeedRefused, match=r"leave Mali with 6 of its 20 acled events \(70% fewer\)"
    ):
        fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert len(_ids(engine)) == 20  # the new event did not land either: one transaction
    fetch_acled(engine, feed_settings, ["Mali"], options=options, force=True)
    assert len(_ids(engine)) == 6


def test_cli_fetch_names_the_refusal_and_force(
    engine: Engine, feed_settings: Settings, api: FakeApi
) -> None:
    api.releases["24.1"] = [ucdp_row(n, "2023-03-15") for n in range(1, 4)]
    ok = runner.invoke(
        app, ["fetch", "ucdp", "--version", "24.1", "-c", "Burkina Faso", "--no-detect"]
    )
    assert ok.exit_code == 0, ok.output
    api.releases["25.1"] = []
    refused = runner.invoke(
        app, ["fetch", "ucdp", "--version", "25.1", "-c", "Burkina Faso", "--no-detect"]
    )
    assert refused.exit_code == 2
    assert "where 3 are held" in refused.output
    assert "--force" in refused.output
    forced = runner.invoke(
        app, ["fetch", "ucdp", "--version", "25.1", "-c", "Burkina Faso", "--no-detect", "--force"]
    )
    assert forced.exit_code == 0, forced.output
    assert _ids(engine) == []


def test_cli_shows_what_a_server_said_as_text_not_markup(
    engine: Engine, feed_settings: Settings, api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAHELCAST_FEED_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    api.fail("/api/gedevents/", "markup")
    result = runner.invoke(app, ["fetch", "ucdp", "--version", "25.1", "-c", "Mali"])
    assert result.exit_code == 2, result.output
    assert "[/] [bold red]pwned[/bold red]" in result.output


# -- 2: no watermark past now ------------------------------------------------------------------


def test_a_row_from_the_future_is_left_out_and_the_watermark_stays_before_now(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [
        acled_row(1, "2024-01-05", timestamp=NOW - 100),
        acled_row(2, "2024-01-06", timestamp=4_000_000_000),
    ]  # 2096
    report = fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert _ids(engine) == ["MLI1"]
    assert any("stamped in the future" in w and "2096" in w for w in report.warnings)
    with session_scope(engine) as session:
        marks = {m.scope: m.last_timestamp for m in session.scalars(select(FeedWatermark))}
    assert marks == {"Mali": NOW - 100, "deletions": NOW - 100}
    # An edit made after that watermark still arrives: updates did not stop.
    api.events[0] = acled_row(1, "2024-01-05", timestamp=NOW - 10, fatalities=7)
    api.deletions = [{"event_id_cnty": "MLI77", "deleted_timestamp": "4000000000"}]
    second = fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert second.reports[0].updated == 1
    assert api.requests("/api/acled/read")[-1].params["timestamp"] == str(NOW - 100)
    with session_scope(engine) as session:
        marks = {m.scope: m.last_timestamp for m in session.scalars(select(FeedWatermark))}
    assert marks == {"Mali": NOW - 10, "deletions": NOW - 100}  # the 2096 deletion left out


def test_a_watermark_already_in_the_future_is_read_as_now(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [acled_row(1, "2024-01-05", timestamp=NOW - 100)]
    fetch_acled(engine, feed_settings, ["Mali"], options=options)
    with session_scope(engine) as session:  # as an older version would have left it
        for mark in session.scalars(select(FeedWatermark)):
            mark.last_timestamp = 4_000_000_000
    fetch_acled(engine, feed_settings, ["Mali"], options=options)
    assert api.requests("/api/acled/read")[-1].params["timestamp"] == str(NOW)
    assert api.requests("/api/deleted/read")[-1].params["deleted_timestamp"] == str(NOW)


# -- 3: rows outside the query -----------------------------------------------------------------


def test_rows_of_another_country_are_refused(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.ignore_filters = True
    api.events = [acled_row(1, "2024-01-05", country="Mali", timestamp=100)]
    with pytest.raises(
        FeedDataError,
        match=r"ACLED events of Niger, page 1, row 1, event 'MLI1'"
        r": country 'Mali', but Niger was asked",
    ):
        fetch_acled(engine, feed_settings, ["Niger"], options=options)
    api.releases["25.1"] = [ucdp_row(7, "2024-01-02", country_id=439)]
    with pytest.raises(FeedDataError, match=r"Mali, page 0, row 1, event '7': country 'Burkina"):
        fetch_ucdp(engine, feed_settings, ["Mali"], "25.1", options=options)
    assert _ids(engine) == []
    assert _count(engine, FeedWatermark) == 0


def test_rows_outside_the_dates_asked_are_refused(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.ignore_filters = True
    api.events = [acled_row(1, "2019-05-01", timestamp=100)]
    with pytest.raises(
        FeedDataError,
        match=r"event date 2019-05-01, outside the dates asked "
        r"\(2023-01-01\.\.2024-04-10\)",
    ):
        fetch_acled(engine, feed_settings, ["Mali"], since=dt.date(2023, 1, 1), options=options)
    api.releases["24.1"] = [ucdp_row(8, "2024-02-02")]  # GED 24.1 ends with 2023
    with pytest.raises(FeedDataError, match=r"event date 2024-02-02, outside the dates asked"):
        fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "24.1", options=options)
    assert _ids(engine) == []


# -- 4: nothing an API says leaks a credential -------------------------------------------------

TRICKY = 'p@ss word&x/é"y+z%41-tail'  # noqa: S105 - @, spaces, & and more, in every encoding


def _leaks(text: str, secrets: list[str]) -> list[str]:
    from service.kit.scrub import encodings

    found = []
    for secret in secrets:
        for form in encodings(secret):
            if form in text or form[:10] in text:
                found.append(form)
    return found


def test_echoed_credentials_reach_no_message_log_row_or_reader(
    engine: Engine,
    feed_settings: Settings,
    api: FakeApi,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fastapi.testclient import TestClient

    from service.api.app import create_app
    from service.jobs.pipelines import run_refresh
    from tests.service.api.builders import make_key
    from tests.service.feeds.fake_api import UCDP_TOKEN

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("SAHELCAST_ACLED_PASSWORD", TRICKY)
    monkeypatch.setenv("SAHELCAST_FEED_MAX_ATTEMPTS", "1")
    get_settings.cache_clear()
    settings = get_settings()
    api.fail("/oauth/token", "echo")  # the password, quoted back by a 500
    api.fail("/api/gedevents/", "echo")  # the UCDP token
    with session_scope(engine) as session:
        reader = {"X-API-Key": make_key(session, "read")}
    # As `POST /v1/admin/fetch` runs it: a refresh job whose fetch step records each feed.
    job_id = run_refresh(engine, settings, "acled:Mali;ucdp@25.1:Mali", trigger="api").job_id
    api.fail("/api/gedevents/", "echo")
    cli = runner.invoke(app, ["fetch", "ucdp", "--version", "25.1", "-c", "Mali"])
    api.fail("/oauth/token", "echo")
    cli_acled = runner.invoke(app, ["fetch", "acled", "-c", "Mali"])
    with TestClient(create_app(settings)) as client:
        served = client.get("/v1/jobs", headers=reader).text
        one = client.get(f"/v1/jobs/{job_id}", headers=reader).text
    for said in (served, cli.output, cli_acled.output):
        assert "HTTP 500" in said
    secrets = [TRICKY, UCDP_TOKEN]
    for place in (served, one, cli.output, cli_acled.output, caplog.text):
        assert _leaks(place, secrets) == []
    with engine.connect() as connection:
        for table in ("jobs", "feed_fetches", "ingested_files"):
            rows = connection.exec_driver_sql(f"SELECT * FROM {table}").all()  # noqa: S608
            assert _leaks(str(rows), secrets) == [], table


def test_a_bearer_token_quoted_back_mid_fetch_is_scrubbed(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [acled_row(n, "2024-01-05", timestamp=100 + n) for n in range(1, 6)]
    quick = feed_settings.model_copy(update={"feed_max_attempts": 1})

    def echo_page_two(seen: object) -> None:
        api.fail("/api/acled/read", "echo")
        api.after_page = None

    api.after_page = echo_page_two
    with pytest.raises(FeedHTTPError, match="HTTP 500") as raised:
        fetch_acled(engine, quick, ["Mali"], options=options)
    assert "access-1" not in str(raised.value)
    assert "***" in str(raised.value)


# -- 5, 6, 10: budgets, deadlines, parser limits -----------------------------------------------


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("bomb", r"larger than 1 MB \(SAHELCAST_FEED_ANSWER_MAX_MB\), unpacked"),
        ("huge", r"larger than 1 MB \(SAHELCAST_FEED_ANSWER_MAX_MB\)"),
        ("huge-declared", r"larger than 1 MB \(SAHELCAST_FEED_ANSWER_MAX_MB\)"),
        ("trickle", r"no whole answer within 0.5 s \(SAHELCAST_FEED_ANSWER_SECONDS\)"),
        ("trickle-headers", r"no whole answer within 0.5 s"),
        ("deep", r"nested too deeply"),
    ],
)
def test_a_hostile_answer_stops_with_a_clear_error(
    engine: Engine,
    feed_settings: Settings,
    api: FakeApi,
    options: Options,
    fault: str,
    said: str,
) -> None:
    api.events = [acled_row(n, "2024-01-05", timestamp=100 + n) for n in range(1, 6)]
    api.hostile_mb = 8
    tight = feed_settings.model_copy(update={"feed_answer_max_mb": 1, "feed_answer_seconds": 0.5})
    api.fail("/api/acled/read", fault)
    with pytest.raises((FeedDataError, FeedHTTPError), match=said):
        fetch_acled(engine, tight, ["Mali"], options=options)
    assert len(api.requests("/api/acled/read")) == 1  # not retried: it would do it again
    assert _ids(engine) == []


def test_the_fetch_budget_covers_all_answers(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.pager = "endless"
    small = feed_settings.model_copy(update={"feed_fetch_max_mb": 0.01})
    with pytest.raises(FeedDataError, match=r"passed 0.01 MB of answers"):
        fetch_acled(engine, small, ["Mali"], options=options)


@pytest.mark.parametrize("pager", ["cycle", "endless"])
def test_endless_acled_pagers_are_stopped(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options, pager: str
) -> None:
    api.pager = pager
    few = feed_settings.model_copy(update={"feed_max_pages": 5})
    said = "the same rows as page 1" if pager == "cycle" else r"more than 5 pages"
    with pytest.raises(FeedDataError, match=said):
        fetch_acled(engine, few, ["Mali"], options=options)
    pages = len(api.requests("/api/acled/read"))
    assert pages == (3 if pager == "cycle" else 5)


def test_an_endless_ucdp_pager_is_stopped(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.releases["25.1"] = []
    api.pager = "endless"
    few = feed_settings.model_copy(update={"feed_max_pages": 4})
    with pytest.raises(FeedDataError, match=r"NextPageUrl points past the last page \(3"):
        fetch_ucdp(engine, few, ["Burkina Faso"], "25.1", options=options)
    assert len(api.requests("/api/gedevents/25.1")) == 4


def test_a_ucdp_pager_past_its_own_count_is_stopped(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.releases["25.1"] = [ucdp_row(n, "2024-01-02") for n in range(1, 4)]
    original = api.ucdp

    def never_ending(path: str, params: dict[str, str], headers: dict[str, str]) -> Any:
        status, body = original(path, params, headers)
        page = int(params["page"])
        body["NextPageUrl"] = f"{api.base}{path}?page={page + 1}"
        body["Result"] = [ucdp_row(10 + page, "2024-01-02")]
        return status, body

    api.ucdp = never_ending  # type: ignore[method-assign]
    with pytest.raises(FeedDataError, match=r"points past the last page \(1: TotalCount 3"):
        fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "25.1", options=options)


def test_a_feed_failing_deep_json_does_not_stop_the_others(
    engine: Engine, feed_settings: Settings, api: FakeApi
) -> None:
    api.releases["24.0.1"] = [ucdp_row(1, "2024-01-05")]
    api.events = [acled_row(1, "2024-01-05", timestamp=100)]
    api.fail("/api/acled/read", "deep")
    result = fetch_step(
        engine, feed_settings, feeds="acled:Mali;ucdp-candidate@24.0.1:Burkina Faso"
    )
    assert result.status == FAILED
    [failed] = result.details["failed"]
    assert failed["feed"] == "acled:Mali"
    assert "nested too deeply" in failed["error"]
    assert [d["feed"] for d in result.details["fetched"]] == ["ucdp-candidate:Burkina Faso"]
    assert _ids(engine) == ["1"]


# -- 11: long values are cut before they are quoted --------------------------------------------


def test_a_ten_megabyte_event_id_is_not_quoted_whole(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    huge = "MLI" + "9" * 10_000_000
    api.events = [acled_row(1, "2024-01-05", timestamp=100, event_id_cnty=huge)]
    big = feed_settings.model_copy(update={"feed_answer_max_mb": 64})
    with pytest.raises(FeedDataError) as raised:
        fetch_acled(engine, big, ["Mali"], options=options)
    message = str(raised.value)
    assert len(message) < 1000
    assert "10,000,003 characters" in message
    assert "field 'event_id_cnty'" in message


# -- 14: a fetch that changes nothing writes nothing -------------------------------------------


def test_a_no_op_fetch_writes_no_rows(
    engine: Engine, feed_settings: Settings, api: FakeApi, options: Options
) -> None:
    api.events = [acled_row(1, "2024-01-05", timestamp=100)]
    api.releases["24.0.1"] = [ucdp_row(1, "2024-01-05")]
    fetch_acled(engine, feed_settings, ["Mali"], options=options)
    fetch_ucdp(engine, feed_settings, ["Burkina Faso"], "24.0.1", candidate=True, options=options)
    before = (_count(engine, IngestedFile), _count(engine, FeedFetch))
    assert before == (2, 2)
    again = fetch_acled(engine, feed_settings, ["Mali"], options=options)
    again_ucdp = fetch_ucdp(
        engine, feed_settings, ["Burkina Faso"], "24.0.1", candidate=True, options=options
    )
    assert (again.fetch_id, again_ucdp.fetch_id) == (None, None)
    assert (_count(engine, IngestedFile), _count(engine, FeedFetch)) == before
