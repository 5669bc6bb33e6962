"""Turn a block of records into a frame of the needed columns, checking each record's width."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from service.ingest.errors import IngestError
from service.ingest.readers.layout import MOSTLY_DISTINCT, Layout
from service.ingest.readers.records import RecordBlock


def spill_row(width: int) -> bytes:
    """The row each block must start with: one field more than the header has."""
    return b"," * width + b"\n"


def read_block(block: RecordBlock, layout: Layout, names: list[str], path: Path) -> pd.DataFrame:
    """Parse the layout's columns as str; every record must be as wide as the header.

    pandas pads short rows and, with usecols, silently drops extra fields, so the width check
    is done here: one extra column catches rows that spill over, and rows whose last named
    column is empty (rare in real exports) are re-counted exactly with the csv module.
    Extra *empty* trailing fields are tolerated: the UCDP web download writes one on every row.
    pandas sizes the frame from the first row, so the block must start with `spill_row(width)`
    (a row of commas, dropped again) for the extra column to exist.
    """
    width = layout.width
    if block.data[: block.prefix] != spill_row(width):
        raise ValueError("the block must be taken with prefix=spill_row(layout.width)")
    last = max(i for i, name in enumerate(names) if name)
    wanted = sorted(set(layout.columns.values()) | {last, width})
    # Names, dates and counts repeat a lot: pandas collects their distinct values while
    # parsing, which spares a factorize per column later. Ids and timestamps hardly repeat.
    dtypes = dict.fromkeys(wanted, str) | {
        i: "category" for key, i in layout.columns.items() if key not in MOSTLY_DISTINCT
    }
    try:
        frame = pd.read_csv(
            io.BytesIO(block.data),
            header=None,
            names=list(range(width + 1)),
            usecols=wanted,
            dtype=dtypes,
            na_filter=False,
            engine="c",
            encoding="utf-8",
        )
    except (pd.errors.ParserError, ValueError):
        raise _diagnose(block, last, path) from None
    frame = frame.iloc[1:].reset_index(drop=True)  # the spill row
    if len(frame) != len(block):
        raise _diagnose(block, last, path)
    spilled = np.flatnonzero((frame[width] != "").to_numpy())
    if len(spilled):
        raise _width_error(block, int(spilled[0]), last, path)
    for i in np.flatnonzero((frame[last] == "").to_numpy()):
        if _fields(block.record(int(i)))[0] < last + 1:
            raise _width_error(block, int(i), last, path)
    frame = frame[list(layout.columns.values())]
    frame.columns = list(layout.columns)
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = _drop_unused(frame[name])
    return frame


def _drop_unused(col: pd.Series) -> pd.Series:
    """Drop categories no row uses (the spill row adds ''); the checks expect none."""
    codes = col.cat.codes.to_numpy()
    used = np.bincount(codes, minlength=len(col.cat.categories)) > 0
    if used.all():
        return col
    remap = np.cumsum(used) - 1
    return pd.Series(pd.Categorical.from_codes(remap[codes], col.cat.categories[used]))


def _fields(raw: bytes) -> tuple[int, int]:
    """Count (fields of the first row, rows) the csv module finds in one record."""
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    return (len(rows[0]) if rows else 0), len(rows)


def _width_error(block: RecordBlock, i: int, last: int, path: Path) -> IngestError:
    n, _ = _fields(block.record(i))
    short = n < last + 1
    return IngestError(
        path,
        line=int(block.lines[i]),
        problem=f"this row has {n} fields but the header has {last + 1}",
        hint="The line looks truncated (download or export the file again)"
        if short
        else "A field probably holds an unquoted comma; quote it or export the file again",
    )


def _diagnose(block: RecordBlock, last: int, path: Path) -> IngestError:
    """Find the record pandas and the quote-parity split disagree on (error path only)."""
    for i in range(len(block)):
        n, rows = _fields(block.record(i))
        if rows != 1:
            return IngestError(
                path,
                line=int(block.lines[i]),
                problem="this record cannot be read as one CSV row",
                hint="Look for a stray double quote inside an unquoted field, or a bare "
                "carriage return; quote the field or export the file again",
            )
        if n < last + 1:
            return _width_error(block, i, last, path)
    return IngestError(
        path,
        line=int(block.lines[0]),
        problem=f"the rows from here to line {int(block.lines[-1])} cannot be parsed as CSV",
        hint="Look for stray double quotes or carriage returns",
    )
