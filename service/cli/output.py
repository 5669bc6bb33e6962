"""`--format table|json|csv` for every command that lists or shows.

A command builds its records once (plain dicts of JSON-ready values) and names its columns;
`emit` writes them as a table for people, or as JSON or CSV for programs. JSON and CSV carry
every value in full and nothing else on stdout; tables wrap long values onto more lines rather
than cutting them, between words and never inside one (a record becomes a block of lines when
its words cannot fit side by side), so a value is never shown truncated, even at 80 columns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
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
    err: bool = False,
) -> None:
    """Write `records` in `fmt`; JSON writes `document` when given (a show's header and rows).
    `err`: a table goes to stderr (a report beside a command's own output)."""
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
    _table(records, columns, title=title, caption=caption, err=err)


def _table(
    records: Sequence[Record],
    columns: Sequence[Column],
    *,
    title: str | None,
    caption: str | None,
    err: bool,
) -> None:
    """A table for people, its cells wrapped here (rich only draws them): between words, or
    after a hyphen or slash inside one, never inside a word. When the words cannot all fit
    side by side in a boxed table, the columns lose their borders; when they still cannot
    (many columns on a narrow terminal), each record is shown as a block of field/value
    lines instead."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from service.cli.common import err_console

    out = err_console if err else console
    cells = [[column.cell(record) for column in columns] for record in records]
    headings = [column.heading or column.field.replace("_", " ") for column in columns]
    n = len(columns)
    widths = _widths(columns, headings, cells, out.width - (3 * n + 1))  # borders, padding
    table = Table(title=title, caption=caption, title_justify="left")
    if widths is None:  # no borders: two spaces between columns, none at the edges
        widths = _widths(columns, headings, cells, out.width - max(2 * n - 2, 0))
        table = Table(title=title, caption=caption, title_justify="left", box=box.SIMPLE_HEAD,
                      show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))  # fmt: skip
    if widths is None:  # a block of field/value lines per record
        table = Table(title=title, caption=caption, title_justify="left", show_header=False)
        width = max((len(h) for h in headings), default=1)
        room = max(out.width - width - 7, 8)  # two columns: borders and padding take 7
        table.add_column("field", no_wrap=True, overflow="fold")
        table.add_column("value", no_wrap=True, overflow="fold")
        for row in cells:
            for k, (heading, cell) in enumerate(zip(headings, row, strict=True)):
                table.add_row(Text(heading), Text(wrap(cell, room)),
                              end_section=k == len(headings) - 1)  # fmt: skip
    else:
        for column, heading, w in zip(columns, headings, widths, strict=True):
            table.add_column(
                Text(wrap(heading, w)),
                justify="right" if column.right else "left",
                no_wrap=True,
                overflow="fold",  # only a token longer than WORD_MAX is ever folded
            )
        for row in cells:
            # Text, not str: a value with [brackets] is data, never rich markup.
            table.add_row(*(Text(wrap(c, w)) for c, w in zip(row, widths, strict=True)))
    out.print(table, soft_wrap=False)


_BREAK = re.compile(r"(?<=[^\W\d_][-/])(?=[^\W\d_])")  # after a hyphen or slash between letters


def _pieces(word: str) -> list[str]:
    """A word cut where a line may break inside it: after a hyphen or a slash between
    letters ('State-|based', 'Explosions/|Remote violence')."""
    return _BREAK.split(word)


def wrap(text: str, width: int) -> str:
    """`text` wrapped to `width` between words (or after a hyphen or slash inside one); a
    token longer than the width (a key, a file name) is folded, as nothing else can be."""
    width = max(width, 1)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            for k, piece in enumerate(_pieces(word)):
                sep = " " if k == 0 and line else ""
                if len(line) + len(sep) + len(piece) <= width:
                    line += sep + piece
                    continue
                if line:
                    lines.append(line)
                while len(piece) > width:
                    lines.append(piece[:width])
                    piece = piece[width:]
                line = piece
        lines.append(line)
    return "\n".join(lines)


def _widths(
    columns: Sequence[Column], headings: list[str], cells: list[list[str]], width: int
) -> list[int] | None:
    """Each column's width: numbers, codes and dates their longest value; each wrapping
    column at least its longest word (up to WORD_MAX: longer tokens fold), then as much
    more of what it would take unwrapped as the room left allows, all within `width`. None
    when the words do not fit side by side."""

    def values(i: int) -> list[str]:
        return [*(row[i] for row in cells), headings[i]]

    fixed = [i for i, c in enumerate(columns) if c.right or c.whole]
    wrapping = [i for i in range(len(columns)) if i not in fixed]
    out = [0] * len(columns)
    for i in fixed:
        out[i] = max(len(line) for v in values(i) for line in v.split("\n") or [""])
    room = width - sum(out)  # `width`: what the cells may take, borders and padding aside
    lowest = {
        i: min(max((len(p) for v in values(i) for w in v.split() for p in _pieces(w)),
                   default=1), WORD_MAX)
        for i in wrapping
    }  # fmt: skip
    wanted = {i: max(len(line) for v in values(i) for line in v.split("\n")) for i in wrapping}
    if sum(lowest.values()) > room:
        return None
    spare = room - sum(lowest.values())
    # the columns that want least get all they want; the others share what is left evenly
    order = sorted(wrapping, key=lambda i: wanted[i] - lowest[i])
    for k, i in enumerate(order):
        share = min(wanted[i] - lowest[i], spare // (len(order) - k))
        out[i] = lowest[i] + share
        spare -= share
    return out


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
