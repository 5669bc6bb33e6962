"""The bundled demo (UCDP GED, Burkina Faso, Mali and Niger) out of the box: every admin1 name
folds into a region of the alias table, and the README's examples answer as written."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from service.cli import app
from service.config import Settings
from service.db import session_scope
from service.ingest.normalize import DATA_DIR, REGION_FILE, UNKNOWN_REGION, Normalizer
from service.ingest.readers import iter_events
from service.ingest.service import ingest_file
from service.series.repository import countries
from service.series.stats import catalogue_stats
from tests.service.ingest.builders import REPO

DEMO = sorted((REPO / "service" / "data" / "demo").glob("ucdp-ged-*.csv"))
runner = CliRunner(env={"COLUMNS": "200"})


def _canonical_regions() -> dict[str, set[str]]:
    rows = [
        line
        for line in (DATA_DIR / REGION_FILE).read_text().splitlines()
        if line and not line.startswith("#")
    ]
    out: dict[str, set[str]] = {}
    for row in csv.DictReader(rows):
        out.setdefault(row["country"], set()).add(row["region"])
    return out


@pytest.mark.parametrize("path", DEMO, ids=lambda p: p.name)
def test_every_admin1_folds_into_a_listed_region(path: Path) -> None:
    events = pd.concat(iter_events(path), ignore_index=True)
    regions = Normalizer.load().regions(events)
    listed = _canonical_regions()
    for country, found in regions.groupby(events["country"]):
        assert set(found) <= listed[str(country)] | {UNKNOWN_REGION}, country


@pytest.mark.parametrize(
    ("country", "admin1", "region"),
    [
        ("Mali", "Segou region", "Segou"),
        ("Mali", "Ménaka region", "Menaka"),
        ("Mali", "Timbuktu", "Tombouctou"),
        ("Mali", "Taoudénit", "Taoudeni"),
        ("Niger", "Tillabéri region", "Tillaberi"),
        ("Burkina Faso", "Centre Nord region", "Centre-Nord"),
        ("Burkina Faso", "Plateau Central", "Plateau-Central"),
        ("Mali", "", UNKNOWN_REGION),
    ],
)
def test_quirks_of_the_files_and_the_boundaries(country: str, admin1: str, region: str) -> None:
    assert Normalizer.load().region(country, admin1) == region


@pytest.mark.slow
def test_the_readme_examples_on_the_three_countries(settings: Settings, engine: Engine) -> None:
    for path in DEMO:
        ingest_file(engine, path, settings)
    with session_scope(engine) as session:
        assert countries(session) == ["Burkina Faso", "Mali", "Niger"]
        stats = catalogue_stats(session)
    listed = runner.invoke(app, ["series", "list", "--country", "Mali", "--actor", "JNIM"])
    assert listed.exit_code == 0, listed.output
    assert "Mopti" in listed.output
    assert "0 of 0" not in listed.output
    mopti = runner.invoke(app, ["series", "show", "ucdp|Mali|Mopti|JNIM|*"])
    assert mopti.exit_code == 0, mopti.output
    # One-sided violence's civilians are who was hit: no actor, and every event counts for one.
    rows = sum(len(pd.read_csv(path, usecols=["id"])) for path in DEMO)
    assert stats.events == rows
    assert stats.events_without_actor == 0
    by_level = {level.level: level.series for level in stats.levels}
    assert by_level["country"] == 3
    assert "Civilians" not in {a.actor for a in stats.small_actors}
