"""Run a Core statement on the driver's cursor: compiled once per dialect, no result machinery.

For the hot read only, where SQLAlchemy's per-execution work costs as much as the query. The
values come back as the driver returns them: SQLite gives dates and times as ISO text and
booleans as 0/1, so callers normalise them (see `as_date`, `as_datetime`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled


class RawStatement:
    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, Compiled]] = {}

    def _for(self, connection: Connection) -> tuple[str, Compiled]:
        dialect = connection.dialect
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            found = self._compiled[dialect.name] = (str(compiled), compiled)
        return found

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        sql, compiled = self._for(connection)
        values: dict[str, Any] = dict(compiled.construct_params(dict(params)) or {})
        names: list[str] = getattr(compiled, "positiontup", None) or []
        args: Any = tuple(values[n] for n in names) if connection.dialect.positional else values
        cursor = connection.connection.cursor()
        try:
            cursor.execute(sql, args)
            return list(cursor.fetchall())
        finally:
            cursor.close()


def as_date(value: Any) -> Any:
    """A date from SQLite's text (other drivers already return dates; None stays None)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def as_datetime(value: Any) -> Any:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value
