"""Recognise a file from its header row and locate the columns each format needs."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from service.ingest.errors import IngestError
from service.ingest.sources import Source


class FileKind(StrEnum):
    ACLED_EVENTS = "acled"
    ACLED_DELETIONS = "acled_deletions"
    UCDP = "ucdp"

    @property
    def source(self) -> Source:
        """The data provider: `acled` or `ucdp`."""
        return "ucdp" if self is FileKind.UCDP else "acled"

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    FileKind.ACLED_EVENTS: "an ACLED event export",
    FileKind.ACLED_DELETIONS: "an ACLED deletion list",
    FileKind.UCDP: "a UCDP GED CSV",
}

# Column names that only one of the formats uses; a header is recognised by which it has.
_SIGNS = {
    FileKind.ACLED_EVENTS: frozenset(
        "event_id_cnty event_id_no_cnty data_id event_date time_precision sub_event_type "
        "actor1 assoc_actor_1 inter1 interaction admin1 geo_precision fatalities iso3".split()
    ),
    FileKind.UCDP: frozenset(
        "id relid date_start date_end side_a side_b type_of_violence best best_est adm_1 "
        "dyad_name conflict_name where_prec priogrid_gid".split()
    ),
}

# Each entry lists alternatives: the first one the header has is used.
REQUIRED: dict[FileKind, tuple[tuple[str, ...], ...]] = {
    FileKind.ACLED_EVENTS: (
        ("event_id_cnty",),
        ("event_date",),
        ("event_type",),
        ("actor1",),
        ("country",),
        ("admin1",),
        ("fatalities",),
    ),
    FileKind.ACLED_DELETIONS: (("event_id_cnty",), ("deleted_timestamp",)),
    FileKind.UCDP: (
        ("id",),
        ("date_start",),
        ("side_a",),
        ("side_b",),
        ("type_of_violence",),
        ("country",),
        ("adm_1",),
        ("best", "best_est"),
    ),
}
OPTIONAL: dict[FileKind, tuple[str, ...]] = {
    FileKind.ACLED_EVENTS: (
        "sub_event_type",
        "assoc_actor_1",
        "actor2",
        "assoc_actor_2",
        "inter1",
        "inter2",
        "timestamp",
    ),
    FileKind.ACLED_DELETIONS: (),
    FileKind.UCDP: (),
}

# Columns whose values hardly repeat; every other needed column is read as a categorical.
MOSTLY_DISTINCT = frozenset({"event_id_cnty", "id", "timestamp", "deleted_timestamp"})


@dataclass(frozen=True)
class Layout:
    """Where the needed columns are: `columns` maps a name in REQUIRED/OPTIONAL to its index.

    For a column with alternatives (`best`/`best_est`) the key is the first alternative.
    """

    kind: FileKind
    width: int
    columns: dict[str, int]
    names: dict[str, str]  # layout key -> the column's name in this file (best -> best_est)


def parse_header(raw: bytes, path: Path, line: int) -> list[str]:
    """Split the header record into normalised names (stripped, lower-case, no BOM)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IngestError(
            path,
            line=line,
            problem="the header row is not valid UTF-8",
            hint="Re-save the file as CSV UTF-8",
        ) from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if len(rows) > 1:  # the csv module ends rows at a bare "\r" too; the record split does not
        raise IngestError(
            path,
            line=line,
            problem="the lines end in bare carriage returns (\\r), as in old Mac files",
            hint="Re-save the file with Unix (\\n) or Windows (\\r\\n) line ends",
        )
    return [name.strip().lower() for name in (rows[0] if rows else [])]


def kind_of_header(names: list[str], path: Path, line: int) -> FileKind:
    """Say which format a header row belongs to, or raise with what was expected."""
    present = set(names)
    if {"event_id_cnty", "deleted_timestamp"} <= present:
        return FileKind.ACLED_DELETIONS
    scores = {kind: len(signs & present) for kind, signs in _SIGNS.items()}
    best = max(scores, key=lambda kind: scores[kind])
    if scores[best] >= 2 and list(scores.values()).count(scores[best]) == 1:
        return best
    shown = ", ".join(repr(n) for n in names[:6]) + (", …" if len(names) > 6 else "")
    raise IngestError(
        path,
        line=line,
        problem="unknown file format: the header matches neither an ACLED export "
        "(event_id_cnty, event_date, event_type, actor1, …) nor a UCDP GED CSV "
        f"(id, date_start, side_a, side_b, …); it starts with {shown}",
        hint=_separator_hint(names),
    )


def locate(kind: FileKind, names: list[str], path: Path, line: int) -> Layout:
    """Find the needed columns of `kind`; name every missing required one."""
    needed = {n for alternatives in REQUIRED[kind] for n in alternatives} | set(OPTIONAL[kind])
    index: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in index and name in needed:  # a repeated column nobody reads does no harm
            raise IngestError(
                path,
                line=line,
                field=name,
                problem=f"column {name!r} appears twice (columns {index[name] + 1} and {i + 1})",
            )
        if name:
            index.setdefault(name, i)
    columns: dict[str, int] = {}
    actual: dict[str, str] = {}
    missing = []
    for alternatives in REQUIRED[kind]:
        found = [a for a in alternatives if a in index]
        if found:
            columns[alternatives[0]] = index[found[0]]
            actual[alternatives[0]] = found[0]
        else:
            missing.append(" or ".join(repr(a) for a in alternatives))
    if missing:
        raise IngestError(
            path,
            line=line,
            problem=f"the header looks like {kind.label} but lacks the required "
            f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)}",
            hint="Export all columns, or check that the header row was not edited",
        )
    columns |= {name: index[name] for name in OPTIONAL[kind] if name in index}
    actual |= {name: name for name in OPTIONAL[kind] if name in index}
    return Layout(kind=kind, width=len(names), columns=columns, names=actual)


def _separator_hint(names: list[str]) -> str | None:
    if len(names) == 1 and ";" in names[0]:
        return (
            "The file seems to use ';' as separator (Excel in a French locale?); "
            "export it as comma-separated CSV"
        )
    if len(names) == 1 and "\t" in names[0]:
        return "The file seems to be tab-separated; export it as comma-separated CSV"
    if names and names[0].startswith("#"):
        return "The first row looks like an HDX #tag row; the column names must come first"
    return None
