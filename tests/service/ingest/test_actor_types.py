"""Reading the sides' actor types: ACLED codes or names, UCDP sides from its definitions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from service.ingest import actortypes
from service.ingest.attribution import attribute
from service.ingest.normalize import Normalizer
from service.ingest.readers import IngestError, iter_events
from tests.service.ingest.builders import REPO, acled_text, write


def _read(path: Path) -> pd.DataFrame:
    return pd.concat(iter_events(path), ignore_index=True)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("1", 1),
        ("2", 2),
        ("7", 7),
        ("0", 0),
        ("8.0", 8),
        ("State forces", 1),
        ("Rebel group", 2),
        ("Rebel groups", 2),
        ("political militia", 3),
        ("Identity militias", 4),
        ("Rioters", 5),
        ("Protestors", 6),
        (" Civilians ", 7),
        ("External/Other forces", 8),
        ("", actortypes.NOT_GIVEN),
    ],
)
def test_codes_and_names_are_read(tmp_path: Path, written: str, code: int) -> None:
    events = _read(write(tmp_path, acled_text(2, {2: {"inter2": written}})))
    assert events["inter2"].tolist() == [actortypes.NOT_GIVEN, code]


def test_an_unknown_type_names_line_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, acled_text(5, {4: {"inter1": "Bandits"}}))
    with pytest.raises(IngestError) as caught:
        _read(path)
    assert (caught.value.line, caught.value.field, caught.value.got) == (5, "inter1", "Bandits")
    assert "a code 0-8 or a name such as 'State forces'" in str(caught.value)


def test_labels() -> None:
    assert actortypes.label(7) == "Civilians"
    assert actortypes.label(None) == actortypes.label(actortypes.NOT_GIVEN) == "not given"


DEMO = REPO / "service" / "data" / "demo"


@pytest.mark.parametrize("path", sorted(DEMO.glob("ucdp-ged-*.csv")), ids=lambda p: p.name[9:14])
def test_ucdp_sides(path: Path) -> None:
    events = _read(path)
    one_sided = events["event_type"] == "One-sided violence"
    assert (events.loc[one_sided, "actor2"] == "Civilians").all()
    assert (events.loc[one_sided, "inter2"] == 7).all()
    assert (events.loc[~one_sided, "inter2"] != 7).all()
    governments = events["actor1"].str.startswith("Government of ")
    assert (events.loc[governments, "inter1"] == 1).all()
    state_based = events["event_type"] == "State-based conflict"
    assert set(events.loc[state_based, "inter2"]) <= {1, 2}
    # No UCDP side of one-sided violence becomes an actor series; every other side can.
    links = attribute(Normalizer.load(), events).links
    assert "Civilians" not in set(links["actor"])
    assert len(links) == 2 * (~one_sided).sum() + one_sided.sum() - _same_side_twice(events)


def _same_side_twice(events: pd.DataFrame) -> int:
    """Events whose two sides fold into one actor (counted once)."""
    normalizer = Normalizer.load()
    folded = [
        normalizer.actor(a, c).name == normalizer.actor(b, c).name
        for a, b, c in zip(events["actor1"], events["actor2"], events["country"], strict=True)
    ]
    return int(sum(folded))
