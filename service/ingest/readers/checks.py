"""Vectorised value checks: the happy path touches each distinct value once, never each row in
a pandas loop; the row of the first bad value is looked up only when there is one."""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from service.ingest import actortypes
from service.ingest.errors import IngestError
from service.ingest.readers.schema import FIELD_LIMITS, constant

# Control characters, zero-width and bidi formatting characters: never part of a name, and the
# invisible ones can make two different names look identical.
_INVISIBLE: dict[int, str] = dict.fromkeys([*range(0x00, 0x20), *range(0x7F, 0xA0)], " ")
_INVISIBLE |= dict.fromkeys([0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF], "")
_INVISIBLE |= dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)], "")

EARLIEST_DATE = pd.Timestamp("1900-01-01")
# Whitespace at the start or end of a value in "\x00"-joined values (str.strip's whitespace).
_EDGE_SPACE = re.compile(r"(?:^|\x00)[^\S\x00]|[^\S\x00](?:\x00|$)")


@dataclass
class Rows:
    """A chunk's rows being checked; remembers the problem found on the earliest line."""

    path: Path
    lines: np.ndarray
    first: tuple[int, IngestError] | None = field(default=None)

    def report(self, row: int, **details: str | None) -> None:
        if self.first is None or row < self.first[0]:
            error = IngestError(self.path, line=int(self.lines[row]), **details)
            self.first = (row, error)

    def raise_first(self) -> None:
        if self.first is not None:
            raise self.first[1]


def distinct(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values (an object array) of a column, free for a categorical one."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), col.cat.categories.to_numpy(dtype=object)
    codes, uniques = pd.factorize(col)
    return codes, uniques.to_numpy(dtype=object)


def expand(values: np.ndarray, codes: np.ndarray) -> pd.Series:
    """Rebuild a str column from distinct values and codes."""
    return pd.Series(values[codes], dtype="str")


def clean_name(value: str) -> str:
    """Drop invisible characters and collapse whitespace runs to one space."""
    if value.isascii() and value.isprintable() and "  " not in value:
        return value.strip()
    return " ".join(value.translate(_INVISIBLE).split())


def text(
    rows: Rows,
    col: pd.Series,
    name: str,
    limit: int,
    *,
    required: str | None = None,
    part_limit: int | None = None,
) -> pd.Series:
    """Clean a name column, each distinct value once.

    `required` describes the value when an empty one is an error; `part_limit` bounds each
    `;`-separated name of a list field (associated actors) on top of the field's `limit`.
    """
    codes, raw = distinct(col)
    cleaned = [clean_name(v) for v in raw]
    for i, value in enumerate(cleaned):
        problem = _text_problem(value, limit, required, part_limit)
        if problem is not None:
            row = int(np.argmax(codes == i))
            rows.report(row, field=name, got=value if value else str(raw[i]), **problem)
    if col.dtype == "str" and all(a == b for a, b in zip(cleaned, raw, strict=True)):
        return col.reset_index(drop=True)
    return expand(np.asarray(cleaned, dtype=object), codes)


def _text_problem(
    value: str, limit: int, required: str | None, part_limit: int | None
) -> dict[str, str] | None:
    if not value:
        return None if required is None else {"expected": required}
    hint = "A missing closing quote can merge several fields into one"
    if len(value) > limit:
        return {"expected": f"at most {limit:,} characters", "hint": hint}
    if part_limit is not None and len(value) > part_limit:
        for part in value.split(";"):
            if len(part.strip()) > part_limit:
                return {
                    "expected": f"names of at most {part_limit:,} characters separated by ';'",
                    "hint": hint,
                }
    return None


def identifiers(rows: Rows, col: pd.Series, name: str, limit: int) -> pd.Series:
    """Strip event ids (mostly distinct, so no factorising) and require them non-empty."""
    raw = col.to_numpy(dtype=object)
    # Ids almost never carry spaces: one search over them all (NUL cannot be in a file that
    # got this far) spares a strip() call per row. The search looks for a space beside a NUL,
    # slow over a whole chunk; most chunks hold no white space at all, which split() (the same
    # white space as the pattern's) tells far sooner.
    joined = "\x00".join(raw)
    padded = joined.split(maxsplit=1) != [joined] and _EDGE_SPACE.search(joined) is not None
    values = [v.strip() for v in raw] if padded else list(raw)
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    bad = np.flatnonzero((lengths == 0) | (lengths > limit))
    if len(bad):
        row = int(bad[0])
        if lengths[row] == 0:
            rows.report(row, field=name, expected="a non-empty event id", got=values[row])
        else:
            rows.report(
                row,
                field=name,
                expected=f"an event id of at most {limit} characters",
                got=values[row],
            )
    # str.strip() returns the very same object when there is nothing to strip.
    if not padded or not any(map(operator.is_not, values, raw)):
        return col.reset_index(drop=True)
    return pd.Series(values, dtype="str")


def integers(
    rows: Rows,
    col: pd.Series,
    name: str,
    *,
    maximum: int,
    empty: int | None = None,
    what: str = "a whole number",
    hint: str | None = None,
) -> np.ndarray:
    """Parse integers in 0..maximum; an empty field becomes `empty`, or is an error if None."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes, values = distinct(col)
    else:  # mostly distinct values (timestamps): factorising would not pay
        codes, values = None, col.to_numpy(dtype=object)
    parsed, bad = _to_ints(values, empty)
    if bad is None:
        out_of_range = (parsed < 0) | (parsed > maximum)
        if out_of_range.any():
            bad = int(np.argmax(out_of_range))
    if bad is not None:
        row = bad if codes is None else int(np.argmax(codes == bad))
        got = str(values[bad])
        negative = re.fullmatch(r"\s*-\s*[\d.]+\s*", got) is not None
        rows.report(
            row,
            field=name,
            problem="negative values are not allowed" if negative else None,
            expected=f"{what} between 0 and {maximum:,}",
            got=got,
            hint=hint,
        )
    return parsed if codes is None else parsed[codes]


def actor_types(rows: Rows, col: pd.Series, name: str) -> np.ndarray:
    """Parse ACLED actor types (codes or names, see `actortypes`) to int8, each distinct value
    once; an empty field is NOT_GIVEN."""
    codes, values = distinct(col)
    parsed = [actortypes.parse(v) for v in values]
    for i, code in enumerate(parsed):
        if code is None:
            rows.report(
                int(np.argmax(codes == i)),
                field=name,
                expected=actortypes.EXPECTED,
                got=str(values[i]),
            )
    known = np.asarray([actortypes.NOT_GIVEN if c is None else c for c in parsed], dtype=np.int8)
    return known[codes] if len(codes) else np.empty(0, dtype=np.int8)


def _to_ints(values: np.ndarray, empty: int | None) -> tuple[np.ndarray, int | None]:
    """Parse an object array of digit strings; on failure give the first bad index."""
    if empty is not None:
        values = np.where(values == "", str(empty), values)
    try:
        return values.astype(np.int64), None
    except (ValueError, OverflowError):
        digits = re.compile(r"\s*\d{1,18}\s*")
        bad = next(i for i, v in enumerate(values) if not digits.fullmatch(v))
        return np.zeros(len(values), dtype=np.int64), bad


def dates(
    rows: Rows,
    col: pd.Series,
    name: str,
    formats: Sequence[str],
    example: str,
    latest: pd.Timestamp,
) -> np.ndarray:
    """Parse dates to datetime64[ns] at day precision, each distinct value once.

    Each format is tried on the values the previous formats left unparsed.
    """
    codes, uniques = distinct(col)
    raw = pd.Series(uniques, dtype="str").str.strip()
    days = np.full(len(raw), np.datetime64("NaT"), dtype="datetime64[D]")
    for fmt in formats:
        todo = np.isnat(days)
        if not todo.any():
            break
        attempt = pd.to_datetime(raw[todo], format=fmt, errors="coerce")
        days[todo] = attempt.to_numpy().astype("datetime64[D]")
    earliest = EARLIEST_DATE.to_datetime64().astype("datetime64[D]")
    last = latest.to_datetime64().astype("datetime64[D]")
    bad = (np.isnat(days) | (days < earliest) | (days > last))[codes]
    if bad.any():
        row = int(np.argmax(bad))
        got = str(raw.iloc[codes[row]])
        if np.isnat(days[codes[row]]):
            problem = _impossible(got, month_first=any("%m/%d" in f for f in formats))
            rows.report(
                row,
                field=name,
                problem=problem,
                expected=f"a date like {example}",
                got=got,
                hint=None
                if problem
                else "Day/month order is ambiguous in numeric dates "
                "such as 01/03/2023; export the file again without opening it in Excel",
            )
        else:
            rows.report(
                row,
                field=name,
                problem="the date is outside the plausible range",
                expected=f"a date between {EARLIEST_DATE.date()} and {latest.date()}",
                got=got,
            )
        days[np.isnat(days)] = earliest
    return np.clip(days, earliest, last).astype("datetime64[ns]")[codes]


_MONTHS = {
    m: i
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for m in names
}


def _impossible(value: str, month_first: bool) -> str | None:
    """Say so when a value is shaped like a date but no such day exists (31 February).

    Numeric dates with slashes are judged only for formats that use them (UCDP: month first).
    """
    parts: tuple[int, int, int] | None = None
    if m := re.fullmatch(r"(\d{1,2})[ -]([A-Za-z]+)[ -](\d{4})", value):
        month = _MONTHS.get(m[2].lower())
        parts = None if month is None else (int(m[3]), month, int(m[1]))
    elif m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value):
        parts = (int(m[1]), int(m[2]), int(m[3]))
    elif month_first and (m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})( [\d:]+)?", value)):
        parts = (int(m[3]), int(m[1]), int(m[2]))
    if parts is None:
        return None
    try:
        dt.date(*parts)
    except ValueError:
        return "no such day in the calendar"
    return None


@dataclass(frozen=True)
class CommonColumns:
    """Where a format keeps the event columns every format checks alike: its event id, date,
    country and admin1 (`country` is called that everywhere), and how it writes dates."""

    source: str
    event_id: str
    date: str
    admin1: str
    date_formats: Sequence[str]
    date_example: str

    def check(self, rows: Rows, raw: pd.DataFrame, latest: pd.Timestamp) -> dict[str, Any]:
        """The canonical `line`, `source`, `source_event_id`, `event_date`, `country` and
        `admin1` columns of a chunk."""
        n = len(raw)
        return {
            "line": rows.lines,
            "source": constant(self.source, n),
            "source_event_id": identifiers(
                rows, raw[self.event_id], self.event_id, FIELD_LIMITS["source_event_id"]
            ),
            "event_date": dates(
                rows, raw[self.date], self.date, self.date_formats, self.date_example, latest
            ),
            "country": text(
                rows, raw["country"], "country", FIELD_LIMITS["country"], required="a country name"
            ),
            "admin1": text(rows, raw[self.admin1], self.admin1, FIELD_LIMITS["admin1"]),
        }
