"""`--format table|json|csv` for every command that lists or shows.

A command builds its records once (plain dicts of JSON-ready values) and names its columns;
`emit` writes them as a table for people, or as JSON or CSV for programs. JSON and CSV carry
every value in full and nothing else on stdout; tables fold long values onto more lines rather
than cutting them, so a value is never shown truncated, even at 80 columns.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from service.cli.common import console


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOption = Annotated[
    Format,
    typer.Option(
        "--format", "-f", help="table for people; json or csv (every field, stdout) for programs."
    ),
]

Record = Mapping[str, Any]
WORD_MAX = 24  # longer words (keys, file names) fold rather than widen their column further


@dataclass(frozen=True)
class Column:
    """A table column: the record field it shows, its heading, and how a value is written."""

    field: str
    heading: str | None = None
    right: bool = False  # numbers: right-aligned and never wrapped
    show: Callable[[Any], str] | None = None
    whole: bool = False  # codes and dates: never wrapped (other columns give way)

    def cell(self, record: Record) -> str:
        value = record.get(self.field)
        if self.show is not None:
            return self.show(value)
        return "" if value is None else _text(value)


def row_record(row: Any, *, exclude: Sequence[str] = ()) -> dict[str, Any]:
    """The column values of an ORM object, by column name (`exclude` keeps secrets out)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in exclude}


def plural(n: int, word: str) -> str:
    """`1 attempt`, `2 attempts`."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def emit(
    records: Sequence[Record],
    columns: Sequence[Column],
    fmt: Format,
    *,
    title: str | None = None,
    caption: str | None = None,
    document: Mapping[str, Any] | None = None,
) -> None:
    """Write `records` in `fmt`; JSON writes `document` when given (a show's header and rows)."""
    if fmt is Format.json:
        body = document if document is not None else list(records)
        sys.stdout.write(json.dumps(body, default=_json_default, indent=2) + "\n")
        return
    if fmt is Format.csv:
        # The one CSV writer (formula-safe); nested values become flat columns
        # (`series: {key: …}` → `series_key`), lists one cell joined by `;`, booleans true/false.
        from service.api.formats import flatten, write_csv

        flat = [flatten(dict(record)) for record in records]
        fields = list(dict.fromkeys(key for row in flat for key in row)) or [
            c.field for c in columns
        ]
        rows = ([row.get(key) for key in fields] for row in flat)
        write_csv(sys.stdout, fields, rows)
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, caption=caption, title_justify="left")
    cells = [[column.cell(record) for column in columns] for record in records]
    headings = [column.heading or column.field.replace("_", " ") for column in columns]
    widths = _min_widths(columns, headings, cells, console.width)
    for column, heading, width in zip(columns, headings, widths, strict=True):
        table.add_column(
            heading,
            justify="right" if column.right else "left",
            overflow="fold",
            no_wrap=column.right or column.whole,
            min_width=width,
        )
    for row in cells:
        # Text, not str: a value with [brackets] is data, never rich markup.
        table.add_row(*(Text(cell) for cell in row))
    console.print(table, soft_wrap=False)


def _min_widths(
    columns: Sequence[Column], headings: list[str], cells: list[list[str]], width: int
) -> list[int | None]:
    """The narrowest width of each wrapping column: its longest word (heading included, up
    to WORD_MAX), so text wraps between words rather than inside one, as far as the terminal
    allows once the columns that never wrap have their room. When the words cannot all fit,
    the widest wrapping columns give way first (a word is then folded, never cut)."""
    fixed = sum(
        max((len(v) for v in [*(row[i] for row in cells), headings[i]]), default=1)
        for i, c in enumerate(columns)
        if c.right or c.whole
    )
    room = width - (3 * len(columns) + 1) - fixed  # a border and two spaces per column
    mins: list[int | None] = [None] * len(columns)
    wrapping = [i for i, c in enumerate(columns) if not (c.right or c.whole)]
    for i in wrapping:
        words = [w for v in [*(row[i] for row in cells), headings[i]] for w in v.split()]
        mins[i] = min(max((len(w) for w in words), default=1), WORD_MAX)
    while wrapping and sum(mins[i] or 0 for i in wrapping) > room:
        widest = max(wrapping, key=lambda i: mins[i] or 0)
        if (mins[widest] or 0) <= 4:
            break
        mins[widest] = (mins[widest] or 0) - 1
    return mins


def emit_one(
    record: Record, fmt: Format, *, title: str, fields: Sequence[str] | None = None
) -> None:
    """Write one record: a field/value table (`fields` in that order), or the whole record as
    a JSON object or a one-row CSV."""
    if fmt is not Format.table:
        emit([record], (), fmt, document=record)
        return
    names = fields if fields is not None else list(record)
    rows = [{"field": name.replace("_", " "), "value": record[name]} for name in names]
    emit(rows, (Column("field", whole=True), Column("value")), fmt, title=title)
