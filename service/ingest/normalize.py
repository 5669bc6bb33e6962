"""Fold raw actor and admin1 names into canonical actors and regions via editable alias tables.

Which names of an event count, and for which actor, is `service.ingest.attribution`'s job.

The tables are CSV files (`service/data/actor_aliases.csv`, `region_aliases.csv`; their header
comments document the columns) so users add aliases without touching code. Files of the same
names in user alias directories are read first and win. Every distinct name is resolved once and
cached; chunk-level methods work on codes of distinct values, never row by row.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from service.ingest.errors import AliasFileError
from service.ingest.readers.checks import clean_name

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
ACTOR_FILE = "actor_aliases.csv"
REGION_FILE = "region_aliases.csv"

ACTOR_ROLES: tuple[str, ...] = ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2")
# Associated actors count by default: Wagner, for one, is mostly coded as one.
ACTOR_ROLES_DEFAULT: tuple[str, ...] = ACTOR_ROLES
LIST_ROLES = frozenset({"assoc_actor_1", "assoc_actor_2"})  # "A; B; C"
UNKNOWN_REGION = "Unknown"

Match = Literal["exact", "prefix", "regex"]
_REGION_SUFFIXES = (" region", " province", " district")


@dataclass(frozen=True)
class ActorRule:
    """One row of an actor alias table."""

    pattern: str
    actor: str  # "" keeps the raw name
    match: Match
    counted: bool
    country: str  # folded; "" for any country
    regex: re.Pattern[str] | None = None

    def apply(self, name: str, folded: str) -> str | None:
        """The canonical actor if this rule matches `name`, else None."""
        if self.match == "exact":
            hit = folded == _fold_case(self.pattern)
        elif self.match == "prefix":
            hit = folded.startswith(_fold_case(self.pattern))
        else:
            assert self.regex is not None
            m = self.regex.fullmatch(name)
            if m is None:
                return None
            return m.expand(self.actor) if self.actor else name
        if not hit:
            return None
        return self.actor or name


@dataclass(frozen=True)
class Actor:
    """A raw name resolved: its canonical name and whether it counts as an actor."""

    name: str
    counted: bool


@dataclass
class Normalizer:
    """Resolves actor and region names; build it with `Normalizer.load()`."""

    actor_rules: list[ActorRule]
    region_aliases: dict[tuple[str, str], str]  # (folded country or "", folded name) -> region
    _actors: dict[tuple[str, str], Actor] = field(default_factory=dict, repr=False)
    _regions: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, extra_dirs: Iterable[Path] = ()) -> Normalizer:
        """Read the alias tables of `extra_dirs` (in order, each optional) and the shipped ones."""
        dirs = [Path(d) for d in extra_dirs]
        for d in dirs:
            if not d.is_dir():
                raise AliasFileError(d, problem="the alias directory does not exist")
        rules: list[ActorRule] = []
        regions: dict[tuple[str, str], str] = {}
        for d in [*dirs, DATA_DIR]:
            if (d / ACTOR_FILE).is_file():
                rules += _read_actor_rules(d / ACTOR_FILE)
            if (d / REGION_FILE).is_file():
                for key, region in _read_region_aliases(d / REGION_FILE).items():
                    regions.setdefault(key, region)  # earlier directories win
        return cls(rules, regions)

    def actor(self, raw: str, country: str = "") -> Actor:
        """Resolve one raw actor name (whitespace is collapsed first)."""
        key = (raw, country)
        if key not in self._actors:
            self._actors[key] = self._resolve_actor(clean_name(raw), _fold(country))
        return self._actors[key]

    def region(self, country: str, admin1: str) -> str:
        """Resolve one admin1 name of a country to its canonical region."""
        key = (country, admin1)
        if key not in self._regions:
            self._regions[key] = self._resolve_region(_fold(country), clean_name(admin1))
        return self._regions[key]

    def regions(self, chunk: pd.DataFrame) -> pd.Series:
        """Canonical region of each row of a frame with `country` and `admin1` columns."""
        codes, pairs = _pair_codes(chunk["admin1"], _country(chunk))
        names = np.asarray([self.region(c, a) for a, c in pairs], dtype=object)
        return pd.Series(names[codes], index=chunk.index, dtype="str")

    def _resolve_actor(self, name: str, country: str) -> Actor:
        folded = _fold_case(name)
        for rule in self.actor_rules:
            if rule.country and rule.country != country:
                continue
            actor = rule.apply(name, folded)
            if actor is not None:
                return Actor(clean_name(actor), rule.counted)
        return Actor(name, True)

    def _resolve_region(self, country: str, admin1: str) -> str:
        if not admin1:
            return UNKNOWN_REGION
        stem = _strip_suffix(admin1)
        for key in (_fold(admin1), _fold(stem)):
            for scope in (country, ""):
                if (scope, key) in self.region_aliases:
                    return self.region_aliases[(scope, key)]
        return stem


def _country(chunk: pd.DataFrame) -> pd.Series:
    if "country" in chunk:
        return chunk["country"]
    return pd.Series("", index=chunk.index, dtype="str")


def _pair_codes(names: pd.Series, countries: pd.Series) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Codes of each row's (name, country) pair and the distinct pairs."""
    name_codes, name_values = pd.factorize(names)
    country_codes, country_values = pd.factorize(countries)
    combined = name_codes.astype(np.int64) * max(len(country_values), 1) + country_codes
    codes, distinct = pd.factorize(combined)
    n_countries = max(len(country_values), 1)
    pairs = [
        (str(name_values[p // n_countries]), str(country_values[p % n_countries])) for p in distinct
    ]
    return codes, pairs


def _fold_case(value: str) -> str:
    return " ".join(value.casefold().split())


def _fold(value: str) -> str:
    """Compare key for places: no accents, case, hyphens or repeated spaces."""
    decomposed = unicodedata.normalize("NFKD", value)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[-_'’.]", " ", bare).casefold().split())


def _strip_suffix(name: str) -> str:
    lowered = name.casefold()
    for suffix in _REGION_SUFFIXES:
        if lowered.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)].strip()
    return name


def _rows(path: Path, required: Sequence[str], optional: Sequence[str]) -> list[dict[str, str]]:
    """Read an alias table: skip comments and blank lines, check the header, tag row lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise AliasFileError(path, problem="the file is not valid UTF-8") from None
    reader = csv.reader(text.splitlines())
    header: list[str] | None = None
    out = []
    for fields in reader:
        line = reader.line_num
        if not fields or not "".join(fields).strip() or fields[0].lstrip().startswith("#"):
            continue
        fields = [f.strip() for f in fields]
        if header is None:
            header = [f.lower() for f in fields]
            missing = [c for c in required if c not in header]
            unknown = [c for c in header if c not in (*required, *optional)]
            if missing or unknown:
                raise AliasFileError(
                    path,
                    line=line,
                    expected=f"the columns {', '.join([*required, *optional])}",
                    problem="; ".join(
                        [f"missing column {c!r}" for c in missing]
                        + [f"unknown column {c!r}" for c in unknown]
                    ),
                )
            continue
        if len(fields) > len(header):
            raise AliasFileError(
                path,
                line=line,
                problem=f"{len(fields)} fields but the header has {len(header)}",
                hint="Quote values that contain commas",
            )
        row = dict(zip(header, fields + [""] * (len(header) - len(fields)), strict=True))
        row["_line"] = str(line)
        out.append(row)
    if header is None:
        raise AliasFileError(path, problem="no header row", expected=", ".join(required))
    return out


def _read_actor_rules(path: Path) -> list[ActorRule]:
    rules = []
    seen: dict[tuple[str, str, str], tuple[str, int]] = {}
    for row in _rows(path, ("pattern", "actor", "match"), ("count", "country")):
        line = int(row["_line"])
        match, count = row["match"].lower(), row.get("count", "").lower() or "yes"
        if not row["pattern"]:
            raise AliasFileError(path, line=line, field="pattern", expected="a name or pattern")
        if match not in ("exact", "prefix", "regex"):
            raise AliasFileError(
                path, line=line, field="match", expected="exact, prefix or regex", got=row["match"]
            )
        if count not in ("yes", "no"):
            raise AliasFileError(path, line=line, field="count", expected="yes or no", got=count)
        regex = None
        if match == "regex":
            try:
                regex = re.compile(row["pattern"], re.IGNORECASE)
                _check_groups(regex, row["actor"])
            except (re.error, IndexError) as exc:
                raise AliasFileError(
                    path,
                    line=line,
                    field="pattern" if isinstance(exc, re.error) else "actor",
                    problem=f"invalid regular expression or group reference ({exc})",
                    got=row["pattern"],
                ) from None
        key = (_fold_case(row["pattern"]), match, _fold(row.get("country", "")))
        target = (row["actor"], count)
        if key in seen and seen[key][0] != f"{target}":
            raise AliasFileError(
                path,
                line=line,
                field="pattern",
                got=row["pattern"],
                problem=f"this pattern is already mapped differently on line {seen[key][1]}",
            )
        seen[key] = (f"{target}", line)
        rules.append(
            ActorRule(
                pattern=row["pattern"],
                actor=row["actor"],
                match=match,  # type: ignore[arg-type]
                counted=count == "yes",
                country=_fold(row.get("country", "")),
                regex=regex,
            )
        )
    return rules


def _check_groups(regex: re.Pattern[str], template: str) -> None:
    """Raise IndexError/re.error if `template` refers to a group the regex lacks."""
    for ref in re.findall(r"\\(\d+)", template):
        if int(ref) > regex.groups:
            raise IndexError(f"no group {ref} in the pattern")


def _read_region_aliases(path: Path) -> dict[tuple[str, str], str]:
    aliases: dict[tuple[str, str], str] = {}
    lines: dict[tuple[str, str], int] = {}
    for row in _rows(path, ("country", "pattern", "region"), ()):
        line = int(row["_line"])
        for name in ("pattern", "region"):
            if not row[name]:
                raise AliasFileError(path, line=line, field=name, expected="a region name")
        country = _fold(row["country"])
        region = clean_name(row["region"])
        for key in ((country, _fold(row["pattern"])), (country, _fold(region))):
            if key in aliases and aliases[key] != region:
                raise AliasFileError(
                    path,
                    line=line,
                    field="pattern",
                    got=row["pattern"],
                    problem=f"{row['pattern']!r} already maps to {aliases[key]!r} "
                    f"on line {lines[key]}",
                )
            aliases.setdefault(key, region)
            lines.setdefault(key, line)
    return aliases
