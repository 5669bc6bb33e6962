"""The message of IngestError: where, what was expected, what was found, shown safely."""

from __future__ import annotations

from pathlib import Path

from service.ingest.errors import IngestError


def test_full_message() -> None:
    err = IngestError(
        Path("/data/acled_export.csv"),
        line=17,
        field="event_date",
        expected="a date like '01 March 2023' or '2023-03-01'",
        got="31/02/2023",
        hint="Export the file again",
    )
    assert str(err) == (
        "acled_export.csv, line 17, field 'event_date': expected a date like '01 March 2023' "
        "or '2023-03-01', got '31/02/2023'. Export the file again"
    )
    assert (err.path, err.line, err.field) == (Path("/data/acled_export.csv"), 17, "event_date")


def test_problem_without_line_or_field() -> None:
    assert str(IngestError("x.csv", problem="the file is empty (0 bytes)")) == (
        "x.csv: the file is empty (0 bytes)"
    )


def test_got_is_shortened_and_escaped() -> None:
    hostile = "\x1b[2J\u202e" + "A" * 10_000 + "\n"
    err = IngestError("x.csv", line=2, field="actor1", expected="a name", got=hostile)
    assert err.got is not None
    assert len(err.got) < 100
    assert "(10,006 characters)" in err.got
    message = str(err)
    assert "\x1b" not in message
    assert "\u202e" not in message
    assert "\\x1b" in message
    assert "\\u202e" in message
