"""Reading ACLED exports in their layouts: what comes out, and on which line it was."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from service.ingest.readers import (
    DELETION_COLUMNS,
    EVENT_COLUMNS,
    FileKind,
    IngestError,
    detect_kind,
    detect_source,
    iter_deletions,
    iter_events,
)
from tests.service.ingest.builders import (
    ACLED_COLUMNS,
    FIXTURES,
    acled_row,
    acled_text,
    csv_text,
    write,
)

CURRENT = FIXTURES / "acled_sahel_current.csv"
OLDER = FIXTURES / "acled_sahel_older.csv"
HDX = FIXTURES / "acled_sahel_hdx.csv"
DELETIONS = FIXTURES / "acled_deletions.csv"


def read(path: Path, **kwargs: object) -> pd.DataFrame:
    chunks = list(iter_events(path, **kwargs))  # type: ignore[arg-type]
    assert chunks, "expected at least one chunk"
    return pd.concat(chunks, ignore_index=True)


def record_lines(path: Path, skip: int = 1) -> list[int]:
    """First physical line of each record after `skip` header rows, by the csv module."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        starts, previous = [], 0
        for _ in reader:
            starts.append(previous + 1)
            previous = reader.line_num
    return starts[skip:]


def test_current_layout_gives_the_canonical_columns_and_types() -> None:
    events = read(CURRENT)
    assert tuple(events.columns) == EVENT_COLUMNS
    assert len(events) == 24
    assert events["line"].dtype == np.int64
    assert events["event_date"].dtype == "datetime64[ns]"
    assert events["fatalities"].dtype == np.int64
    assert events["source_timestamp"].dtype == np.int64
    for name in ("source", "source_event_id", "country", "admin1", "actor1", "assoc_actor_2"):
        assert events[name].dtype == "str", name
    first = events.iloc[0]
    assert first["source"] == "acled"
    assert first["source_event_id"] == "MLI90001"
    assert first["event_date"] == pd.Timestamp("2021-01-03")
    assert first["event_type"] == "Battles"
    assert first["actor1"] == "JNIM: Group for Support of Islam and Muslims"
    assert first["assoc_actor_1"] == ""
    assert (first["fatalities"], first["source_timestamp"]) == (4, 1611000000)
    assert "notes" not in events


def test_current_layout_values_are_cleaned_but_kept_raw() -> None:
    events = read(CURRENT).set_index("source_event_id")
    assert events.loc["MLI90003", "event_date"] == pd.Timestamp("2021-03-01")  # "1 March 2021"
    assert events.loc["MLI90013", "actor1"] == "Katiba Macina"  # double space collapsed
    assert events.loc["NIG90003", "admin1"] == "Tillabéri"  # raw: folding is normalize's job
    assert events.loc["MLI90012", "assoc_actor_1"] == "Wagner Group; Dozo Militia"
    assert events.loc["MLI90001", "actor2"] == "Military Forces of Mali (2020-2021)"


def test_line_numbers_are_physical_lines_across_multiline_notes() -> None:
    events = read(CURRENT)
    assert events["line"].tolist() == record_lines(CURRENT)
    multiline = events.index[events["source_event_id"] == "MLI90007"][0]
    # Its notes field spans three lines, so the next event starts three lines further on.
    assert events["line"][multiline + 1] - events["line"][multiline] == 3


def test_older_layout_with_upper_case_names_iso_dates_and_crlf() -> None:
    events = read(OLDER)
    assert len(events) == 7
    assert events["line"].tolist() == list(range(2, 9))
    assert events["event_date"].iloc[0] == pd.Timestamp("2019-03-23")
    assert events["admin1"].tolist()[:3] == ["Mopti", "Mopti", "Menaka"]
    assert events["assoc_actor_2"].iloc[0] == "Fulani Ethnic Group (Mali)"
    assert events["source_timestamp"].iloc[0] == 1553900000
    assert not events["actor1"].str.endswith("\r").any()


def test_hdx_variant_skips_the_tag_row_and_keeps_line_numbers() -> None:
    events = read(HDX)
    assert len(events) == 10
    assert events["line"].tolist() == record_lines(HDX, skip=2)
    assert events["line"].iloc[0] == 3
    assert events["source_event_id"].iloc[0] == "MLI90001"  # BOM stripped from the header
    assert (events["assoc_actor_1"] == "").all()  # column absent in this layout
    assert (events["source_timestamp"] == 0).all()


def test_deletion_list() -> None:
    chunks = list(iter_deletions(DELETIONS))
    deletions = pd.concat(chunks, ignore_index=True)
    assert tuple(deletions.columns) == DELETION_COLUMNS
    assert deletions["source_event_id"].tolist() == ["MLI90004", "MLI90008", "BFO90003", "NIG90004"]
    assert deletions["deleted_timestamp"].dtype == np.int64
    assert deletions["line"].tolist() == [2, 3, 4, 5]


@pytest.mark.parametrize(
    ("path", "kind", "source"),
    [
        (CURRENT, FileKind.ACLED_EVENTS, "acled"),
        (OLDER, FileKind.ACLED_EVENTS, "acled"),
        (HDX, FileKind.ACLED_EVENTS, "acled"),
        (DELETIONS, FileKind.ACLED_DELETIONS, "acled"),
    ],
)
def test_detects_the_kind_from_the_header(path: Path, kind: FileKind, source: str) -> None:
    assert detect_kind(path) is kind
    assert detect_source(path) == source


def test_explicit_source_must_match_the_header() -> None:
    assert len(read(CURRENT, source="acled")) == 24
    with pytest.raises(IngestError, match="looks like an ACLED event export.*UCDP GED"):
        list(iter_events(CURRENT, source="ucdp"))
    with pytest.raises(ValueError, match="source must be"):
        list(iter_events(CURRENT, source="hdx"))  # type: ignore[arg-type]


def test_deletion_list_and_event_file_are_not_confused() -> None:
    with pytest.raises(IngestError, match="deletion list.*Ingest it as a deletion list"):
        list(iter_events(DELETIONS))
    with pytest.raises(IngestError, match="Ingest it as events"):
        list(iter_deletions(CURRENT))


@pytest.mark.parametrize("after", ["", "\n", "\n\n\r\n\n"])
def test_a_header_without_rows_is_refused(tmp_path: Path, after: str) -> None:
    path = write(tmp_path, ",".join(ACLED_COLUMNS) + "\n" + after)
    with pytest.raises(IngestError, match="line 1: the file holds a header but no rows"):
        list(iter_events(path))
    hdx = HDX.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    with pytest.raises(IngestError, match="header but no rows"):
        list(iter_events(write(tmp_path, "".join(hdx[:2]) + after, "hdx.csv")))


def test_gzip_is_unpacked_whatever_the_name(tmp_path: Path) -> None:
    packed = gzip.compress(CURRENT.read_bytes())
    expected = read(CURRENT)
    for name in ("export.csv.gz", "export.csv"):
        pd.testing.assert_frame_equal(read(write(tmp_path, packed, name)), expected)


def test_column_names_ignore_case_and_surrounding_spaces(tmp_path: Path) -> None:
    text = acled_text(2)
    header, rest = text.split("\n", 1)
    shouting = ",".join(f" {name.upper()} " for name in header.split(","))
    events = read(write(tmp_path, shouting + "\n" + rest))
    assert events["source_event_id"].tolist() == ["MLI1", "MLI2"]


def test_only_the_required_columns(tmp_path: Path) -> None:
    required = ["event_id_cnty", "event_date", "event_type", "actor1", "country", "admin1"]
    path = write(tmp_path, csv_text([acled_row(1)], [*required, "fatalities"]))
    event = read(path).iloc[0]
    assert (event["sub_event_type"], event["actor2"], event["assoc_actor_1"]) == ("", "", "")
    assert event["source_timestamp"] == 0
    assert event["fatalities"] == 2


def test_iso_dates_and_days_without_leading_zero(tmp_path: Path) -> None:
    changes = {1: {"event_date": "2023-03-01"}, 2: {"event_date": "1 March 2023"}}
    events = read(write(tmp_path, acled_text(2, changes)))
    assert events["event_date"].tolist() == [pd.Timestamp("2023-03-01")] * 2


def test_blank_lines_are_skipped_and_line_numbers_stay_physical(tmp_path: Path) -> None:
    lines = acled_text(3).splitlines()
    text = "\n".join([lines[0], "", lines[1], "\r", "", lines[2], lines[3]]) + "\n\n"
    events = read(write(tmp_path, text))
    assert events["line"].tolist() == [3, 6, 7]


def test_last_line_without_a_newline(tmp_path: Path) -> None:
    events = read(write(tmp_path, acled_text(3).rstrip("\n")))
    assert events["line"].tolist() == [2, 3, 4]
    assert events["source_timestamp"].iloc[-1] == 1650000000


def test_empty_timestamp_is_zero(tmp_path: Path) -> None:
    events = read(write(tmp_path, acled_text(2, {2: {"timestamp": ""}})))
    assert events["source_timestamp"].tolist() == [1650000000, 0]


def test_hostile_strings_are_cleaned_and_formulas_are_just_data(tmp_path: Path) -> None:
    changes = {
        1: {"actor1": "JNIM\u202e: evil\x07 name\u200b", "admin1": "  Mopti\t"},
        2: {"actor1": "=cmd|' /C calc'!A0", "notes": "x" * 200_000},
    }
    events = read(write(tmp_path, acled_text(2, changes)))
    assert events["actor1"].tolist() == ["JNIM: evil name", "=cmd|' /C calc'!A0"]
    assert events["admin1"].iloc[0] == "Mopti"


def test_chunks_never_exceed_chunksize() -> None:
    sizes = [len(chunk) for chunk in iter_events(CURRENT, chunksize=5)]
    assert sizes == [5, 5, 5, 5, 4]
    with pytest.raises(ValueError, match="chunksize"):
        list(iter_events(CURRENT, chunksize=0))


def test_chunks_are_identical_whatever_the_chunksize() -> None:
    whole = read(CURRENT)
    pd.testing.assert_frame_equal(read(CURRENT, chunksize=1), whole)
    pd.testing.assert_frame_equal(read(CURRENT, chunksize=7), whole)
