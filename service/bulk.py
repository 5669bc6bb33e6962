"""Fast bulk writes: COPY on PostgreSQL, executemany on SQLite (ORM inserts are too slow for 1M rows)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import Table
from sqlalchemy.orm import Session

CHUNK = 50_000


def _records(frame: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    # itertuples on object columns yields plain Python values that both drivers accept.
    sub = frame.loc[:, list(columns)]
    sub = sub.astype(object).where(sub.notna(), None)
    return list(sub.itertuples(index=False, name=None))


def insert_frame(session: Session, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of `frame` (columns named like the table's) into `table`; return the count."""
    if frame.empty:
        return 0
    columns = [c for c in frame.columns if c in table.c]
    connection = session.connection()
    raw = connection.connection.driver_connection
    if connection.dialect.name == "postgresql":
        names = ", ".join(f'"{c}"' for c in columns)
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                for row in _iter_rows(frame, columns):
                    copy.write_row(row)
        return len(frame)
    placeholders = ", ".join("?" for _ in columns)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({placeholders})'
    cursor = raw.cursor()  # type: ignore[union-attr]
    try:
        for start in range(0, len(frame), CHUNK):
            cursor.executemany(sql, _records(frame.iloc[start : start + CHUNK], columns))
    finally:
        cursor.close()
    return len(frame)


def _iter_rows(frame: pd.DataFrame, columns: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    for start in range(0, len(frame), CHUNK):
        yield from _records(frame.iloc[start : start + CHUNK], columns)


def delete_in(session: Session, table: Table, column: str, values: Sequence[Any]) -> None:
    """Delete rows of `table` whose `column` is in `values`, in batches the drivers accept."""
    col = table.c[column]
    for start in range(0, len(values), 10_000):
        session.execute(table.delete().where(col.in_(list(values[start : start + 10_000]))))
