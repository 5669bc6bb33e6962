"""Bad input: one exception type, naming the file, the line and the field, as early as possible."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from service.ingest.readers import IngestError, iter_deletions, iter_events, records
from tests.service.ingest.builders import ACLED_COLUMNS, FIXTURES, acled_text, csv_text, write


def error_of(path: Path, **kwargs: object) -> IngestError:
    with pytest.raises(IngestError) as caught:
        for _ in iter_events(path, **kwargs):  # type: ignore[arg-type]
            pass
    return caught.value


def test_message_names_file_line_field_expected_and_got(tmp_path: Path) -> None:
    path = write(tmp_path, acled_text(20, {16: {"event_date": "31/02/2023"}}))
    err = error_of(path)
    assert (err.path, err.line, err.field, err.got) == (path, 17, "event_date", "31/02/2023")
    assert str(err).startswith(
        "acled_export.csv, line 17, field 'event_date': expected a date like "
        "'01 March 2023' or '2023-03-01', got '31/02/2023'"
    )
    assert "ambiguous" in str(err)  # the hint


def test_missing_required_columns_are_named_with_the_format(tmp_path: Path) -> None:
    columns = [c for c in ACLED_COLUMNS if c not in ("admin1", "fatalities")]
    err = error_of(write(tmp_path, csv_text([], columns)))
    assert err.line == 1
    assert "looks like an ACLED event export" in str(err)
    assert "required columns 'admin1', 'fatalities'" in str(err)


def test_missing_death_estimate_of_ucdp(tmp_path: Path) -> None:
    header = "id,date_start,side_a,side_b,type_of_violence,country,adm_1,high,low\n"
    err = error_of(write(tmp_path, header))
    assert "a UCDP GED CSV" in str(err)
    assert "'best' or 'best_est'" in str(err)


@pytest.mark.parametrize(
    ("header", "hint"),
    [
        ("date,place,count\n2023-01-01,Mopti,3\n", None),
        ("event_id_cnty;event_date;actor1\n", "';' as separator"),
        ("event_id_cnty\tevent_date\tactor1\n", "tab-separated"),
        ("#event+code,#date+occurred\n", "#tag row"),
    ],
)
def test_unknown_format(tmp_path: Path, header: str, hint: str | None) -> None:
    err = error_of(write(tmp_path, header))
    assert "unknown file format" in str(err)
    assert "ACLED export" in str(err)
    assert "UCDP GED CSV" in str(err)
    if hint:
        assert hint in str(err)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("31 February 2023", "no such day in the calendar"),
        ("2023-02-30", "no such day in the calendar"),
        ("March 2023", None),
        ("", None),
        ("yesterday", None),
    ],
)
def test_bad_dates(tmp_path: Path, value: str, problem: str | None) -> None:
    err = error_of(write(tmp_path, acled_text(3, {2: {"event_date": value}})))
    assert (err.line, err.field, err.got) == (3, "event_date", value)
    assert "expected a date like" in str(err)
    if problem:
        assert problem in str(err)


def test_dates_in_the_future_or_long_ago(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, acled_text(2, {1: {"event_date": "01 March 2999"}})))
    assert "outside the plausible range" in str(err)
    err = error_of(write(tmp_path, acled_text(2, {2: {"event_date": "0023-03-01"}})))
    assert (err.line, err.field) == (3, "event_date")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("-3", "negative values are not allowed"),
        ("- 3", "negative values are not allowed"),
        ("2.5", "expected a whole number of deaths"),
        ("many", "expected a whole number of deaths"),
        ("", "expected a whole number of deaths"),
        ("99999999999999999999999", "expected a whole number of deaths"),
        ("2000000", "between 0 and 1,000,000"),
    ],
)
def test_bad_fatalities(tmp_path: Path, value: str, text: str) -> None:
    err = error_of(write(tmp_path, acled_text(4, {3: {"fatalities": value}})))
    assert (err.line, err.field, err.got) == (4, "fatalities", value)
    assert text in str(err)


def test_bad_timestamp(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, acled_text(3, {2: {"timestamp": "2023-03-01"}})))
    assert (err.line, err.field) == (3, "timestamp")
    assert "unix time" in str(err)


def test_duplicate_event_id_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, acled_text(6, {5: {"event_id_cnty": "MLI2"}}))
    err = error_of(path)
    assert (err.line, err.field) == (6, "event_id_cnty")
    assert "'MLI2' already appeared on line 3" in str(err)


def test_duplicate_event_id_across_chunks(tmp_path: Path) -> None:
    path = write(tmp_path, acled_text(9, {8: {"event_id_cnty": " MLI1 "}}))
    err = error_of(path, chunksize=2)
    assert err.line == 9
    assert "'MLI1' already appeared on line 2" in str(err)


def test_the_earliest_problem_of_a_chunk_is_reported(tmp_path: Path) -> None:
    changes = {4: {"event_date": "someday"}, 2: {"fatalities": "-1"}, 3: {"actor1": ""}}
    err = error_of(write(tmp_path, acled_text(5, changes)))
    assert (err.line, err.field) == (3, "fatalities")


def test_empty_required_text(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, acled_text(3, {3: {"actor1": "  "}})))
    assert (err.line, err.field) == (4, "actor1")
    assert "expected an actor name" in str(err)
    err = error_of(write(tmp_path, acled_text(3, {1: {"event_id_cnty": ""}})))
    assert (err.line, err.field) == (2, "event_id_cnty")


def test_empty_file(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, b""))
    assert "empty (0 bytes)" in str(err)
    assert err.line is None
    err = error_of(write(tmp_path, "\n\r\n\n"))
    assert "only blank lines" in str(err)


def test_non_utf8_bytes_name_the_line(tmp_path: Path) -> None:
    data = (
        acled_text(5, {4: {"admin1": "S\u00e9gou"}}).encode("utf-8").replace(b"\xc3\xa9", b"\xe9")
    )
    err = error_of(write(tmp_path, data))
    assert err.line == 5
    assert "not valid UTF-8" in str(err)
    assert "UTF-8" in (err.hint or "")


def test_non_utf8_bytes_in_an_unused_column_are_caught_too(tmp_path: Path) -> None:
    data = acled_text(3, {2: {"notes": "Caf\u00e9"}}).encode("utf-8").replace(b"\xc3\xa9", b"\xe9")
    assert error_of(write(tmp_path, data)).line == 3


def test_non_utf8_header(tmp_path: Path) -> None:
    data = b"event_id_cnty,\xe9vent_date\n"
    assert error_of(write(tmp_path, data)).line == 1


@pytest.mark.parametrize(
    ("content", "text"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "a PNG image"),
        (b"PK\x03\x04" + bytes(100), "ZIP archive"),
        (b"%PDF-1.7\n", "a PDF document"),
        (b"\xff\xfeU\x00T\x00F\x00", "UTF-16 text"),
        (gzip.compress(b"\x89PNG\r\n\x1a\n" + bytes(100), mtime=0), "a PNG image"),
        (
            gzip.compress(gzip.compress(b"event_id_cnty\n", mtime=0), mtime=0),
            "gzip-compressed twice",
        ),
        (b"event_id_cnty,event_date\nMLI1,\x00\x00\x00\n", "NUL bytes"),
    ],
    ids=["png", "zip", "pdf", "utf16", "gzipped-png", "gzip-twice", "nul"],
)
def test_binary_files_are_refused_early(tmp_path: Path, content: bytes, text: str) -> None:
    err = error_of(write(tmp_path, content))
    assert text in str(err)


def test_nul_bytes_name_their_line(tmp_path: Path) -> None:
    data = acled_text(4).encode() + b"garbage\x00\x01\x02\n"
    assert error_of(write(tmp_path, data)).line == 6


def test_corrupt_gzip(tmp_path: Path) -> None:
    packed = gzip.compress(acled_text(50).encode())
    err = error_of(write(tmp_path, packed[: len(packed) // 2]))
    assert "gzip data is corrupt or truncated" in str(err)
    assert zlib  # the corrupt-stream errors come from zlib and gzip


def test_truncated_last_line(tmp_path: Path) -> None:
    text = acled_text(4)
    err = error_of(write(tmp_path, text[: text.rindex("Made-up") - 5]))
    assert err.line == 5
    assert "fields but the header has 31" in str(err)
    assert "truncated" in (err.hint or "")


def test_unterminated_quote_at_the_end(tmp_path: Path) -> None:
    text = acled_text(4)
    err = error_of(write(tmp_path, text[: text.rindex("with a comma")]))
    assert err.line == 5
    assert "never closed" in str(err)


def test_stray_quote_in_an_unquoted_field(tmp_path: Path) -> None:
    text = acled_text(4).replace("MLI2,", 'MLI2,"', 1)
    err = error_of(write(tmp_path, text))
    assert err.line == 3


@pytest.mark.parametrize("row", [2, 3])
def test_rows_with_too_many_fields(tmp_path: Path, row: int) -> None:
    text = acled_text(3, {row: {"admin1": "Mopti"}})
    lines = text.split("\n")
    lines[row] = lines[row].replace(",Mopti,", ",Mopti,Mali,", 1)  # an unquoted comma
    err = error_of(write(tmp_path, "\n".join(lines)))
    assert err.line == row + 1
    assert "32 fields but the header has 31" in str(err)
    assert "unquoted comma" in (err.hint or "")


def test_rows_with_too_few_fields_in_the_middle(tmp_path: Path) -> None:
    lines = acled_text(3).split("\n")
    lines[2] = lines[2].rsplit(",", 2)[0]  # drops tags and timestamp
    err = error_of(write(tmp_path, "\n".join(lines)))
    assert err.line == 3
    assert "29 fields but the header has 31" in str(err)


def test_trailing_empty_field_is_tolerated(tmp_path: Path) -> None:
    lines = acled_text(3).rstrip("\n").split("\n")
    text = "\n".join([lines[0], *(line + "," for line in lines[1:])]) + "\n"
    assert sum(len(c) for c in iter_events(write(tmp_path, text))) == 3


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [
        ("actor1", "A" * 501, "at most 500 characters"),
        ("admin1", "Mopti " * 100, "at most 500 characters"),
        ("assoc_actor_1", "Wagner Group; " + "B" * 600, "names of at most 500 characters"),
        ("assoc_actor_2", "; ".join(["Civilians (Mali)"] * 700), "at most 10,000 characters"),
        ("event_id_cnty", "MLI" + "9" * 70, "at most 64 characters"),
        ("country", "Mali" * 40, "at most 120 characters"),
    ],
)
def test_over_long_fields(tmp_path: Path, field: str, value: str, limit: str) -> None:
    err = error_of(write(tmp_path, acled_text(3, {2: {field: value}})))
    assert (err.line, err.field) == (3, field)
    assert limit in str(err)
    assert len(str(err)) < 400  # the value is shortened in the message


def test_runaway_record_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 2_000)
    monkeypatch.setattr(records, "READ_SIZE", 1_000)
    text = acled_text(40).replace("MLI3,", 'MLI3,"', 1)
    err = error_of(write(tmp_path, text))
    assert err.line == 4
    assert "runs on for more than" in str(err)


def test_bad_deletion_list(tmp_path: Path) -> None:
    path = write(tmp_path, "event_id_cnty,deleted_timestamp\nMLI1,1670000000\nMLI2,soon\n")
    with pytest.raises(IngestError) as caught:
        list(iter_deletions(path))
    assert (caught.value.line, caught.value.field) == (3, "deleted_timestamp")


def test_missing_file(tmp_path: Path) -> None:
    assert "no such file" in str(error_of(tmp_path / "nope.csv"))
    assert "directory" in str(error_of(tmp_path))


def test_the_fixtures_are_valid() -> None:
    for name in ("acled_sahel_current.csv", "acled_sahel_older.csv", "acled_sahel_hdx.csv"):
        assert sum(len(c) for c in iter_events(FIXTURES / name)) > 0


def test_old_mac_line_ends_are_refused_not_read_as_a_header_only_file(tmp_path: Path) -> None:
    err = error_of(write(tmp_path, acled_text(3).replace("\n", "\r")))
    assert err.line == 1
    assert "bare carriage returns" in str(err)


def test_repeated_columns(tmp_path: Path) -> None:
    text = acled_text(2).replace("source_scale", "source", 1)  # two unused 'source' columns
    assert sum(len(c) for c in iter_events(write(tmp_path, text))) == 2
    err = error_of(write(tmp_path, acled_text(2).replace("admin2", "admin1", 1)))
    assert (err.line, err.field) == (1, "admin1")
    assert "appears twice (columns 19 and 20)" in str(err)
