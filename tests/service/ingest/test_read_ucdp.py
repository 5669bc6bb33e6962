"""Reading UCDP GED files: the web download (real sample) and the yearly release layout."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from service.ingest.readers import EVENT_COLUMNS, FileKind, IngestError, detect_kind, iter_events
from tests.service.ingest.builders import (
    UCDP_YEARLY_COLUMNS,
    csv_text,
    ucdp_sample,
    ucdp_yearly_row,
    write,
)

SAMPLE = ucdp_sample()
needs_sample = pytest.mark.skipif(SAMPLE is None, reason="the UCDP sample file is not available")


def read(path: Path, **kwargs: object) -> pd.DataFrame:
    return pd.concat(list(iter_events(path, **kwargs)), ignore_index=True)  # type: ignore[arg-type]


def raw_rows(path: Path) -> tuple[list[dict[str, str]], list[int]]:
    """The rows by the csv module, and the physical line each starts on."""
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows, starts, previous = [], [], reader.line_num
        for fields in reader:
            rows.append(dict(zip(header, fields, strict=False)))
            starts.append(previous + 1)
            previous = reader.line_num
    return rows, starts


@needs_sample
def test_web_download_with_its_quirks() -> None:
    assert SAMPLE is not None
    events = read(SAMPLE, chunksize=100)
    rows, starts = raw_rows(SAMPLE)
    assert tuple(events.columns) == EVENT_COLUMNS
    assert len(events) == len(rows) == 909
    assert events["line"].tolist() == starts  # multi-line source fields counted right
    assert (events["source"] == "ucdp").all()
    assert events["source_event_id"].tolist() == [r["id"] for r in rows]
    assert events["fatalities"].sum() == sum(int(r["best_est"]) for r in rows)
    assert events["event_type"].value_counts().to_dict() == {
        "State-based conflict": 512,
        "One-sided violence": 355,
        "Non-state conflict": 42,
    }
    first = events.iloc[0]
    assert first["event_date"] == pd.Timestamp("2020-03-17")
    assert (first["actor1"], first["actor2"]) == ("Government of Burkina Faso", "IS")
    assert first["admin1"] == "Sahel region"
    # The README counts 17 imprecise locations; the file itself has 14 empty adm_1.
    assert (events["admin1"] == "").sum() == sum(r["adm_1"].strip() == "" for r in rows)
    assert (events[["sub_event_type", "assoc_actor_1", "assoc_actor_2"]] == "").all().all()
    assert (events["source_timestamp"] == 0).all()


@needs_sample
def test_web_download_is_detected() -> None:
    assert SAMPLE is not None
    assert detect_kind(SAMPLE) is FileKind.UCDP
    assert len(read(SAMPLE, source="ucdp")) == 909
    with pytest.raises(IngestError, match="looks like a UCDP GED CSV"):
        list(iter_events(SAMPLE, source="acled"))


def test_yearly_release_layout(tmp_path: Path) -> None:
    rows = [
        ucdp_yearly_row(1),
        ucdp_yearly_row(
            2,
            type_of_violence=3,
            side_a="IS",
            side_b="Civilians",
            best=12,
            adm_1="",
            date_start="2022-11-30",
        ),
        ucdp_yearly_row(
            3,
            type_of_violence=2,
            side_a="JNIM",
            side_b="IS",
            adm_1="Ménaka region",
            date_start="2021-02-01 00:00:00.000",
        ),
    ]
    events = read(write(tmp_path, csv_text(rows, UCDP_YEARLY_COLUMNS), "GEDEvent_v24_1.csv"))
    assert events["event_type"].tolist() == [
        "State-based conflict",
        "One-sided violence",
        "Non-state conflict",
    ]
    assert events["fatalities"].tolist() == [3, 12, 3]
    assert events["event_date"].tolist() == [
        pd.Timestamp("2021-05-04"),
        pd.Timestamp("2022-11-30"),
        pd.Timestamp("2021-02-01"),
    ]
    assert events["admin1"].tolist() == ["Mopti region", "", "Ménaka region"]


@pytest.mark.parametrize(
    ("field", "value", "text"),
    [
        ("type_of_violence", "4", "expected 1 (state-based), 2 (non-state) or 3 (one-sided)"),
        ("date_start", "02/30/2021 00:00:00", "no such day in the calendar"),
        ("date_start", "30.01.2021", "expected a date like '2020-03-17'"),
        ("best", "-1", "negative values are not allowed"),
        ("side_b", "", "expected an actor name"),
    ],
)
def test_bad_ucdp_values(tmp_path: Path, field: str, value: str, text: str) -> None:
    rows = [ucdp_yearly_row(1), ucdp_yearly_row(2, **{field: value})]
    with pytest.raises(IngestError) as caught:
        list(iter_events(write(tmp_path, csv_text(rows, UCDP_YEARLY_COLUMNS))))
    assert (caught.value.line, caught.value.field) == (3, field)
    assert text in str(caught.value)


def test_ucdp_duplicate_ids(tmp_path: Path) -> None:
    rows = [ucdp_yearly_row(1), ucdp_yearly_row(2), ucdp_yearly_row(1)]
    with pytest.raises(IngestError, match="'900001' already appeared on line 2"):
        list(iter_events(write(tmp_path, csv_text(rows, UCDP_YEARLY_COLUMNS))))


def test_web_download_field_name_in_messages(tmp_path: Path) -> None:
    columns = [c if c not in ("best", "high", "low") else f"{c}_est" for c in UCDP_YEARLY_COLUMNS]
    rows = [
        {(k if k not in ("best", "high", "low") else f"{k}_est"): v for k, v in r.items()}
        for r in (ucdp_yearly_row(1), ucdp_yearly_row(2, best="many"))
    ]
    with pytest.raises(IngestError) as caught:
        list(iter_events(write(tmp_path, csv_text(rows, columns))))
    assert caught.value.field == "best_est"
