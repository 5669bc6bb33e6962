"""Response formats: fast JSON for hot paths, CSV on request (`?format=csv` or `Accept`).

`write_csv` is the one CSV writer of the service (the API, the dashboard's downloads, the
CLI's `--format csv`): a text cell that a spreadsheet would run as a formula (starting with
`=`, `+`, `-`, `@`, a tab or a line break: `=HYPERLINK(…)` in an actor's name) is written with
a leading `'`, which spreadsheets show as text. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from fastapi import Request, Response

from service.api.schemas.common import as_utc

CSV = "text/csv"
CSV_UTF8 = f"{CSV}; charset=utf-8"
JSON = "application/json"
CSV_RESPONSE = {"content": {CSV: {"schema": {"type": "string"}}}}


def wants_csv(request: Request, format: str | None) -> bool:
    """CSV when asked by `format`, else when `Accept` prefers text/csv over JSON."""
    if format is not None:
        return format == "csv"
    accept = request.headers.get("accept", "")
    return CSV in accept and "application/json" not in accept


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode_json(body: Any) -> bytes:
    """Encode an already-shaped body without a second validation pass (the hot path)."""
    return json.dumps(body, default=_default, separators=(",", ":"), allow_nan=False).encode()


def json_response(body: Any, status_code: int = 200) -> Response:
    return Response(encode_json(body), status_code=status_code, media_type=JSON)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutral_cell(value: Any) -> Any:
    """A cell as a spreadsheet will read it as data: a text that could start a formula gets
    a leading `'`; anything else is unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def write_csv(stream: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write `header` and `rows` as CSV to `stream`, every cell neutral (see the module)."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(neutral_cell(name) for name in header)
    for row in rows:
        writer.writerow(neutral_cell(_cell(value)) for value in row)


def encode_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    write_csv(buffer, header, rows)
    return buffer.getvalue().encode()


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


def csv_response(header: Sequence[str], rows: Iterable[Sequence[Any]], filename: str) -> Response:
    return Response(encode_csv(header, rows), media_type=CSV_UTF8, headers=attachment(filename))


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def flatten(record: Any, prefix: str = "") -> dict[str, Any]:
    """A nested record as flat CSV columns: `series: {key: …}` becomes `series_key`; a list of
    plain values is one cell joined by `;`, a list of records numbered columns (`parts_1_…`)."""
    out: dict[str, Any] = {}
    if isinstance(record, dict):
        for key, value in record.items():
            out.update(flatten(value, f"{prefix}{key}_"))
    elif isinstance(record, list | tuple):
        if all(not isinstance(v, dict | list | tuple) for v in record):
            out[prefix.rstrip("_")] = ";".join(str(_cell(v)) for v in record)
        else:
            for i, value in enumerate(record, start=1):
                out.update(flatten(value, f"{prefix}{i}_"))
    else:
        out[prefix.rstrip("_")] = record
    return out


def _fields(record: Any) -> Any:
    if hasattr(record, "model_dump"):
        return record.model_dump(mode="json")
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return dataclasses.asdict(record)
    return record


def records_csv(records: Sequence[Any], filename: str, columns: Sequence[str] = ()) -> Response:
    """Records (pydantic models, dataclasses or dicts) as a flat CSV download; `columns` when
    there are none."""
    flat = [flatten(_fields(r)) for r in records]
    header = list(dict.fromkeys(k for row in flat for k in row)) or list(columns)
    return csv_response(header, [[row.get(c) for c in header] for row in flat], filename)
