"""Fast bulk writes and reads: COPY on PostgreSQL, executemany on SQLite, raw cursors for reads.

ORM inserts and ORM result rows are too slow for a million events; these helpers keep the
caller's transaction (they run on the session's own connection).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Executable, FromClause, Table
from sqlalchemy.orm import Session

CHUNK = 100_000
NULL = r"\N"


def _column_values(values: pd.Series) -> list[Any]:
    # tolist() turns numpy scalars into Python ones, which both drivers accept; a missing
    # value (NaN, NA, NaT, None) goes as None, set by one mask rather than a test per value.
    if values.hasnans:
        objects = values.to_numpy(dtype=object, copy=True)
        objects[values.isna().to_numpy()] = None
        return objects.tolist()
    return values.tolist()


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    # Rows are made as the driver takes them: a list of every row's tuple would only add
    # to the peak memory of a large insert.
    return zip(*[_column_values(frame[c]) for c in columns], strict=True)


def _table(target: FromClause) -> Table:
    # An ORM class's `__table__` is typed as a FromClause; a declarative class's is a Table.
    if not isinstance(target, Table):
        raise TypeError(f"expected a table, got {target!r}")
    return target


def insert_frame(session: Session, target: FromClause, frame: pd.DataFrame) -> int:
    """Insert the rows of `frame` (columns named as in `target`) into it; return the count."""
    if frame.empty:
        return 0
    table = _table(target)
    columns = [c for c in frame.columns if c in table.c]
    names = ", ".join(f'"{c}"' for c in columns)
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        sql = f"COPY \"{table.name}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '{NULL}')"
        with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
            for start in range(0, len(frame), CHUNK):
                buffer = io.StringIO()
                part = frame.iloc[start : start + CHUNK][columns]
                part.to_csv(buffer, header=False, index=False, na_rep=NULL)
                copy.write(buffer.getvalue())
        return len(frame)
    placeholders = ", ".join("?" for _ in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})'
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(frame), CHUNK):
            cursor.executemany(sql, _records(frame.iloc[start : start + CHUNK], columns))
    finally:
        cursor.close()
    return len(frame)


def read_frame(session: Session, query: Executable) -> pd.DataFrame:
    """Run a query straight from the driver's cursor into a DataFrame (no per-row processing).

    Values come as the driver gives them: SQLite returns dates as ISO strings.
    """
    result = session.connection().execute(query)
    columns = list(result.keys())
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return pd.DataFrame.from_records(rows, columns=columns)


def delete_in(session: Session, target: FromClause, column: str, values: Sequence[Any]) -> None:
    """Delete rows of `target` whose `column` is in `values`, in batches the drivers accept."""
    table = _table(target)
    col = table.c[column]
    for start in range(0, len(values), 10_000):
        session.execute(table.delete().where(col.in_(list(values[start : start + 10_000]))))
