"""`--format table|json|csv` on every command that lists or shows, and tables at 80 columns."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from service.alerts.orm import Subscription
from service.cli import app
from service.cli.output import WORD_MAX, _pieces
from service.config import Settings
from service.db import session_scope
from service.jobs.repository import create_job
from tests.service.web.builders import WebWorld, make_web_world

narrow = CliRunner(env={"COLUMNS": "80"})


@pytest.fixture
def world(engine: Engine, settings: Settings) -> WebWorld:
    with session_scope(engine) as session:
        world = make_web_world(session)
        create_job(session, "ingest", "succeeded", {"path": "acled-2024.csv"})
        hook = "https://hooks.example.org/x"
        session.add(Subscription(name="duty [desk]", url=hook, secret="s" * 32,
                                 country="Burkina Faso", min_severity="medium"))  # fmt: skip
    return world


def run(*args: str) -> str:
    result = narrow.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def as_json(*args: str) -> Any:
    return json.loads(run(*args, "--format", "json"))


def as_csv(*args: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(run(*args, "--format", "csv"))))


def test_series_list_and_show_speak_json_and_csv(world: WebWorld) -> None:
    listed = as_json("series", "list", "--limit", "100")
    assert {s["key"] for s in listed} == set(world.series)
    total = next(s for s in listed if s["key"] == world.key())
    assert (total["level"], total["region"]) == ("country", None)
    assert total["first_month"] == "2016-01-01"
    rows = as_csv("series", "list", "--limit", "100", "--level", "region")
    assert {r["region"] for r in rows} == {"Sahel", "Nord", "Est"}
    assert int(rows[0]["total_events"]) >= int(rows[-1]["total_events"])  # busiest first
    shown = as_json("series", "show", world.key("Sahel"), "--last", "3")
    assert shown["series"]["key"] == world.key("Sahel")
    assert [m["month"] for m in shown["months"]] == ["2022-10-01", "2022-11-01", "2022-12-01"]
    assert all(isinstance(m["events"], int) for m in shown["months"])
    months = as_csv("series", "show", str(world.id("Sahel")), "--last", "2")
    assert [m["month"] for m in months] == ["2022-11-01", "2022-12-01"]


def test_anomalies_list_and_show_speak_json_and_csv(world: WebWorld) -> None:
    listed = as_json("anomalies", "list", "--limit", "1000")
    assert {a["id"] for a in listed} == {a.id for a in world.anomalies}
    assert {a["series"]["key"] for a in listed} <= set(world.series)
    assert all(a["series_key"] == a["series"]["key"] for a in listed)
    table = run("anomalies", "list", "--limit", "1")
    assert "ucdp" in table  # the series column shows keys
    assert " h " in table.translate(BOX)  # the horizon column
    assert listed[0]["forecast_origin"] is not None
    assert listed[0]["horizon"] == 1
    live = as_csv("anomalies", "list", "--origin", "live", "--limit", "1000")
    assert {int(r["id"]) for r in live} == {a.id for a in world.anomalies if a.origin == "live"}
    high = as_json("anomalies", "list", "--min-severity", "high", "--limit", "1000")
    assert {a["severity"] for a in high} <= {"high"}
    one = world.anomalies[0]
    shown = as_json("anomalies", "show", str(one.id))
    assert (shown["id"], shown["month"], shown["observed"]) == (
        one.id, one.month.isoformat(), one.observed,
    )  # fmt: skip
    # The judging forecast: one month ahead, from the month before the anomaly's.
    assert shown["horizon"] == 1
    assert one.forecast_origin is not None
    assert shown["forecast_origin"] == one.forecast_origin.isoformat()
    assert "forecast origin" in run("anomalies", "show", str(one.id))


def test_runs_jobs_keys_and_alerts_speak_json_and_csv(world: WebWorld) -> None:
    assert world.run is not None
    runs = as_json("runs", "list")
    assert [(r["id"], r["published"]) for r in runs] == [(world.run.id, True),
                                                         (world.run.id - 1, False)]  # fmt: skip
    assert as_json("runs", "show", str(world.run.id))["status"] == "published"
    assert [r["id"] for r in as_csv("runs", "list")] == [str(world.run.id), str(world.run.id - 1)]
    jobs = as_json("jobs", "list")
    assert jobs[0]["kind"] == "ingest"
    assert jobs[0]["details"] == {"path": "acled-2024.csv"}
    assert as_csv("jobs", "list")[0]["details_path"] == "acled-2024.csv"  # flat columns
    keys = as_json("keys", "list")
    assert {k["name"] for k in keys} == {"analyst", "duty officer"}
    assert all("token_sha256" not in k for k in keys)
    assert {row["scope"] for row in as_csv("keys", "list")} == {"read", "admin"}
    [subscription] = as_json("alerts", "list")
    assert subscription["name"] == "duty [desk]"
    assert subscription["last_delivery"] is None
    assert "secret" not in subscription
    assert as_csv("alerts", "list")[0]["min_severity"] == "medium"


BOX = str.maketrans(dict.fromkeys("│┃┏┓┗┛━─┡┩╇┳┻╋┼├┤┬┴└┘┌┐╀╁", " "))
LETTER = re.compile(r"[^\W\d_]")


def split_words(narrow_out: str, wide_out: str) -> list[str]:
    """The words of a table at 80 columns that are not whole: every token with a letter
    must be a word of the same table drawn wide, or a run of its pieces cut after a hyphen
    or slash ('State-' 'based'), or a fold of a token longer than WORD_MAX (a key)."""
    wide = wide_out.translate(BOX).split()
    allowed = set(wide)
    for word in wide:
        pieces = _pieces(word)
        for i in range(len(pieces)):
            for j in range(i + 1, len(pieces) + 1):
                allowed.add("".join(pieces[i:j]))
    long = [w for w in wide if len(w) > WORD_MAX]
    return [
        token
        for token in narrow_out.translate(BOX).split()
        if LETTER.search(token) and token not in allowed and not any(token in w for w in long)
    ]


def render(command: list[str], columns: int) -> str:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(app, command)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_whole_word_check_sees_a_word_cut() -> None:
    wide = "│ Burkina Faso │ State-based conflict │"
    assert split_words("│ Burkina │ State-   │\n│ Faso    │ based    │", wide) == []
    assert split_words("│ Burkin │\n│ a Faso │", wide) == ["Burkin", "a"]


@pytest.mark.parametrize(
    "command",
    [
        ["series", "list", "--limit", "100"],
        ["series", "stats"],
        ["anomalies", "list"],
        ["runs", "list"],
        ["jobs", "list"],
        ["alerts", "list"],
        ["keys", "list"],
    ],
)
def test_tables_fit_80_columns_and_never_cut_a_value(world: WebWorld, command: list[str]) -> None:
    out = run(*command)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out  # folded onto more lines, never truncated
    assert split_words(out, render(command, 240)) == []  # and never inside a word
    if command[0] == "alerts":  # [brackets] are data, not markup
        assert {"duty", "[desk]"} <= set(out.translate(BOX).split())


def test_unknown_format_is_refused(world: WebWorld) -> None:
    result = narrow.invoke(app, ["series", "list", "--format", "yaml"])
    assert result.exit_code == 2
    assert "yaml" in result.output


def test_an_unmatched_country_hints_at_the_ones_held(world: WebWorld) -> None:
    result = narrow.invoke(app, ["series", "list", "--country", "Mali", "--format", "json"])
    assert result.exit_code == 0
    assert result.stdout.strip() == "[]"
    assert "No series for the country 'Mali'; the database holds: Burkina Faso." in result.stderr
    matched = narrow.invoke(app, ["series", "list", "--country", "burkina faso"])
    assert "the database holds" not in matched.stderr
