"""Actor and region folding through the shipped alias tables and user overrides."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from service.ingest.attribution import EVENT_ACTOR_COLUMNS, attribute
from service.ingest.errors import AliasFileError
from service.ingest.normalize import ACTOR_ROLES_DEFAULT, UNKNOWN_REGION, Normalizer
from service.ingest.readers import iter_events
from tests.service.ingest.builders import FIXTURES, ucdp_sample

JNIM_ACLED = "JNIM: Group for Support of Islam and Muslims"


@pytest.fixture(scope="module")
def normalizer() -> Normalizer:
    return Normalizer.load()


def frame(*events: dict[str, str]) -> pd.DataFrame:
    """Events with the actor columns; missing ones are empty."""
    rows = []
    for i, event in enumerate(events, start=1):
        row = dict.fromkeys(("actor1", "assoc_actor_1", "actor2", "assoc_actor_2"), "")
        rows.append({"source_event_id": f"E{i}", "country": "Mali", **row, **event})
    return pd.DataFrame(rows).astype("str")


@pytest.mark.parametrize(
    ("raw", "country", "canonical"),
    [
        (JNIM_ACLED, "Mali", "JNIM"),
        ("jnim:  group for support of ISLAM and muslims", "Mali", "JNIM"),
        ("JNIM", "Burkina Faso", "JNIM"),
        ("Katiba Macina", "Mali", "JNIM"),
        ("Katiba  Macina", "Mali", "JNIM"),
        ("Islamic State (West Africa) - Greater Sahara Faction", "Niger", "Islamic State Sahel"),
        ("Islamic State (Sahel)", "Mali", "Islamic State Sahel"),
        ("Islamic State (Greater Sahara)", "Burkina Faso", "Islamic State Sahel"),
        ("IS", "Burkina Faso", "Islamic State Sahel"),
        ("IS", "Niger", "Islamic State Sahel"),
        ("IS", "Iraq", "IS"),  # UCDP's IS elsewhere is another branch
        ("Military Forces of Mali (2013-2020)", "Mali", "Military Forces of Mali"),
        ("Military Forces of Mali (2021-)", "Mali", "Military Forces of Mali"),
        ("Military Forces of Mali", "Mali", "Military Forces of Mali"),
        (
            "Military Forces of Burkina Faso (2022-)",
            "Burkina Faso",
            "Military Forces of Burkina Faso",
        ),
        ("Government of Burkina Faso", "Burkina Faso", "Military Forces of Burkina Faso"),
        ("Government of Mali", "Mali", "Military Forces of Mali"),
        ("Government of Niger", "Niger", "Military Forces of Niger"),
        ("Police Forces of Niger (2023-)", "Niger", "Police Forces of Niger"),
        ("Wagner Group", "Mali", "Wagner Group"),
        ("Wagner Group (Russia)", "Mali", "Wagner Group"),
        ("Africa Corps", "Mali", "Wagner Group"),
        ("Ansaroul Islam", "Burkina Faso", "Ansaroul Islam"),
        ("Ansarul Islam", "Burkina Faso", "Ansaroul Islam"),
        ("Koglweogo", "Burkina Faso", "Koglweogo"),
        ("Koglweogo Militia (Burkina Faso)", "Burkina Faso", "Koglweogo"),
        ("Unidentified Armed Group (Mali)", "Mali", "Unidentified Armed Group (Mali)"),
        ("Ansar Dine", "Mali", "Ansar Dine"),  # deliberately not JNIM (pre-2017)
        ("  Dan Na   Ambassagou ", "Mali", "Dan Na Ambassagou"),
    ],
)
def test_default_actor_aliases(
    normalizer: Normalizer, raw: str, country: str, canonical: str
) -> None:
    actor = normalizer.actor(raw, country)
    assert (actor.name, actor.counted) == (canonical, True)


@pytest.mark.parametrize(
    "raw",
    [
        "Civilians (Mali)",
        "Civilians",
        "Protesters (Niger)",
        "Rioters (Mali)",
        "Women (Mali)",
        "Fulani Ethnic Group (Mali)",
        "Farmers (Mali)",
        "Refugees/IDPs (Burkina Faso)",
    ],
)
def test_civilians_protesters_rioters_are_not_counted(normalizer: Normalizer, raw: str) -> None:
    assert normalizer.actor(raw, "Mali").counted is False


def test_ethnic_militias_are_counted(normalizer: Normalizer) -> None:
    assert normalizer.actor("Fulani Ethnic Militia (Mali)", "Mali").counted is True


def test_event_actors_on_the_fixture(normalizer: Normalizer) -> None:
    events = pd.concat(iter_events(FIXTURES / "acled_sahel_current.csv"), ignore_index=True)
    links = attribute(normalizer, events).links
    assert tuple(links.columns) == EVENT_ACTOR_COLUMNS
    by_event = {
        k: list(zip(g["actor"], g["role"], strict=True))
        for k, g in links.groupby("source_event_id", sort=False)
    }
    assert by_event["MLI90009"] == [
        ("Military Forces of Mali", "actor1"),
        ("JNIM", "actor2"),
        ("Wagner Group", "assoc_actor_1"),
    ]
    assert by_event["MLI90002"] == [("Islamic State Sahel", "actor1")]  # civilians dropped
    assert by_event["MLI90012"] == [
        ("Military Forces of Mali", "actor1"),
        ("JNIM", "actor2"),
        ("Wagner Group", "assoc_actor_1"),
        ("Dozo Militia", "assoc_actor_1"),
    ]
    assert "MLI90006" not in by_event  # protesters with women: no counted actor
    assert not links.duplicated(["source_event_id", "actor"]).any()


def test_an_actor_in_two_roles_counts_once_with_the_first_role(normalizer: Normalizer) -> None:
    chunk = frame({"actor1": JNIM_ACLED, "assoc_actor_1": "Katiba Macina; JNIM"})
    links = attribute(normalizer, chunk).links
    assert links[["actor", "role"]].values.tolist() == [["JNIM", "actor1"]]
    reordered = attribute(normalizer, chunk, ("assoc_actor_1", "actor1")).links
    assert reordered[["actor", "role"]].values.tolist() == [["JNIM", "assoc_actor_1"]]


def test_roles_are_configurable(normalizer: Normalizer) -> None:
    chunk = frame({"actor1": "Military Forces of Mali (2021-)", "assoc_actor_1": "Wagner Group"})
    assert ACTOR_ROLES_DEFAULT == ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2")
    assert "Wagner Group" in attribute(normalizer, chunk).links["actor"].tolist()
    primary = attribute(normalizer, chunk, ("actor1", "actor2")).links
    assert primary["actor"].tolist() == ["Military Forces of Mali"]
    with pytest.raises(ValueError, match="actor roles"):
        attribute(normalizer, chunk, ("notes",))


def test_event_actors_of_an_indexed_frame_and_of_nothing(normalizer: Normalizer) -> None:
    chunk = frame({"actor1": "JNIM"}, {"actor1": "IS"}).set_axis([10, 20])
    assert attribute(normalizer, chunk).links["source_event_id"].tolist() == ["E1", "E2"]
    empty = attribute(normalizer, chunk.iloc[:0]).links
    assert tuple(empty.columns) == EVENT_ACTOR_COLUMNS
    assert len(empty) == 0


def test_actor_aliases_give_raw_to_canonical(normalizer: Normalizer) -> None:
    chunk = frame({"actor1": JNIM_ACLED, "assoc_actor_1": "Wagner Group (Russia); Women (Mali)"})
    assert attribute(normalizer, chunk).aliases == {
        JNIM_ACLED: "JNIM",
        "Wagner Group (Russia)": "Wagner Group",
    }


# Per country: admin1 as the sources write it -> the region it folds into by default.
DEFAULT_REGIONS = {
    "Burkina Faso": {
        "Sahel region": "Sahel",
        "Centre Nord region": "Centre-Nord",
        "Centre-Nord": "Centre-Nord",
        "Boucle du Mouhoun region": "Boucle du Mouhoun",
        "Hauts Bassins region": "Hauts-Bassins",
        "plateau central": "Plateau-Central",
    },
    "Mali": {
        "Ségou": "Segou",
        "SEGOU": "Segou",
        "Timbuktu": "Tombouctou",
        "Ménaka region": "Menaka",
        "Mopti": "Mopti",
        "Kidal": "Kidal",
        "Gao": "Gao",
        "": UNKNOWN_REGION,
        "Bandiagara": "Bandiagara",  # a post-2023 region passes through
    },
    "Niger": {"Tillabéri": "Tillaberi", "Tahoua Region": "Tahoua", "Diffa": "Diffa"},
    "Nigeria": {"Borno province": "Borno"},
}


@pytest.mark.parametrize(
    ("country", "admin1", "region"),
    [(c, a, r) for c, names in DEFAULT_REGIONS.items() for a, r in names.items()],
)
def test_default_regions(normalizer: Normalizer, country: str, admin1: str, region: str) -> None:
    assert normalizer.region(country, admin1) == region


def test_regions_of_a_chunk(normalizer: Normalizer) -> None:
    chunk = pd.DataFrame(
        {"country": ["Mali", "Mali", "Niger"], "admin1": ["Ségou", "", "Tillabéri"]},
        index=[5, 6, 7],
    ).astype("str")
    regions = normalizer.regions(chunk)
    assert regions.tolist() == ["Segou", UNKNOWN_REGION, "Tillaberi"]
    assert regions.index.tolist() == [5, 6, 7]


@pytest.mark.skipif(ucdp_sample() is None, reason="the UCDP sample file is not available")
def test_ucdp_sample_regions_all_fold_into_the_13_regions(normalizer: Normalizer) -> None:
    sample = ucdp_sample()
    assert sample is not None
    events = pd.concat(iter_events(sample), ignore_index=True)
    canonical = {
        "Boucle du Mouhoun",
        "Cascades",
        "Centre",
        "Centre-Est",
        "Centre-Nord",
        "Centre-Ouest",
        "Centre-Sud",
        "Est",
        "Hauts-Bassins",
        "Nord",
        "Plateau-Central",
        "Sahel",
        "Sud-Ouest",
    }
    assert set(normalizer.regions(events)) <= canonical | {UNKNOWN_REGION}
    actors = set(attribute(normalizer, events).links["actor"])
    assert actors == {
        "Military Forces of Burkina Faso",
        "JNIM",
        "Islamic State Sahel",
        "Koglweogo",
        "Ansaroul Islam",
        "AQIM",
    }


def write_aliases(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(text, encoding="utf-8")
    return directory


def test_user_aliases_come_first(tmp_path: Path) -> None:
    user = write_aliases(
        tmp_path / "aliases",
        "actor_aliases.csv",
        "# follow Africa Corps on its own\npattern,actor,match\nAfrica Corps,Africa Corps,prefix\n"
        "^Civilians \\(Mali\\)$,Civilians,regex\n",
    )
    write_aliases(user, "region_aliases.csv", "country,pattern,region\nMali,Segou,Ségou\n")
    normalizer = Normalizer.load(extra_dirs=[user])
    assert normalizer.actor("Africa Corps (Russia)", "Mali").name == "Africa Corps"
    assert normalizer.actor("Civilians (Mali)", "Mali").counted is True  # count defaults to yes
    assert normalizer.actor("Wagner Group", "Mali").name == "Wagner Group"  # defaults still apply
    assert normalizer.region("Mali", "segou") == "Ségou"
    assert normalizer.region("Mali", "Timbuktu") == "Tombouctou"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("pattern,actor,match\nJNIM,JNIM,fuzzy\n", 2, "expected exact, prefix or regex"),
        ("pattern,actor,match\n# note\n^(JNIM,JNIM,regex\n", 3, "invalid regular expression"),
        ("pattern,actor,match\n^JNIM$,\\1,regex\n", 2, "no group 1"),
        ("pattern,actor,match,count\nJNIM,JNIM,exact,maybe\n", 2, "expected yes or no"),
        ("pattern,actor,match\n,JNIM,exact\n", 2, "expected a name or pattern"),
        ("pattern,actor,matches\n", 1, "unknown column 'matches'"),
        ("pattern,actor\n", 1, "missing column 'match'"),
        ("pattern,actor,match\nJNIM,JNIM,exact\njnim,Other,exact\n", 3, "on line 2"),
        ("pattern,actor,match\nJNIM,JNIM,exact,yes,Mali,extra\n", 2, "6 fields"),
    ],
)
def test_bad_actor_alias_files(tmp_path: Path, text: str, line: int, message: str) -> None:
    user = write_aliases(tmp_path / "aliases", "actor_aliases.csv", text)
    with pytest.raises(AliasFileError) as caught:
        Normalizer.load(extra_dirs=[user])
    assert caught.value.line == line
    assert caught.value.path.name == "actor_aliases.csv"
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("country,pattern,region\nMali,Segou,Segou\nMali,ségou,Mopti\n", 3, "already maps"),
        ("country,pattern,region\nMali,,Mopti\n", 2, "expected a region name"),
        ("# only a comment\n", None, "no header row"),
    ],
)
def test_bad_region_alias_files(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    user = write_aliases(tmp_path / "aliases", "region_aliases.csv", text)
    with pytest.raises(AliasFileError) as caught:
        Normalizer.load(extra_dirs=[user])
    assert caught.value.line == line
    assert message in str(caught.value)


def test_missing_alias_directory(tmp_path: Path) -> None:
    with pytest.raises(AliasFileError, match="does not exist"):
        Normalizer.load(extra_dirs=[tmp_path / "nowhere"])


def typed(*events: dict[str, str | int]) -> pd.DataFrame:
    """Events with actor columns and the sides' types (default: rebel group vs state forces)."""
    names = ({k: str(v) for k, v in e.items() if not k.startswith("inter")} for e in events)
    chunk = frame(*names)
    chunk["inter1"] = [int(e.get("inter1", 2)) for e in events]
    chunk["inter2"] = [int(e.get("inter2", 1)) for e in events]
    return chunk


def test_ambiguous_names_become_mentions(normalizer: Normalizer) -> None:
    either = f"{JNIM_ACLED} and/or Islamic State (Sahel)"
    chunk = typed(
        {"actor1": either},
        {
            "actor1": "Military Forces of Mali (2021-)",
            "assoc_actor_1": f"Wagner Group; {either}",
            "inter1": 1,
            "actor2": "Islamic State (Sahel)",
            "inter2": 2,
        },
        {"actor1": "Civilians (Mali)", "assoc_actor_1": either, "inter1": 7},
    )
    found = attribute(normalizer, chunk)
    links = found.links.groupby("source_event_id")["actor"].apply(list).to_dict()
    mentions = found.mentions.groupby("source_event_id")["actor"].apply(list).to_dict()
    assert "E1" not in links
    assert mentions["E1"] == ["JNIM", "Islamic State Sahel"]
    assert links["E2"] == ["Military Forces of Mali", "Islamic State Sahel", "Wagner Group"]
    assert mentions["E2"] == ["JNIM"]  # IS Sahel is counted there plainly: no mention
    assert "E3" not in mentions  # an unarmed side's names are not an attribution
    assert found.ambiguous.tolist() == [True, True, False]


def test_sides_follow_their_type_and_else_the_name_rule(normalizer: Normalizer) -> None:
    victims = "Pastoralists (Mali); Fishers (Mali)"
    chunk = typed(
        {"actor1": JNIM_ACLED, "actor2": "Civilians (Mali)", "assoc_actor_2": victims, "inter2": 7},
        {
            "actor1": JNIM_ACLED,
            "actor2": "Civilians (Mali)",
            "assoc_actor_2": victims,
            "inter2": -1,
        },
        {"actor1": JNIM_ACLED, "actor2": "Pastoralists (Mali)", "inter2": 7},
        {"actor1": "Dozo Militia", "actor2": "Protesters (Mali)", "inter1": 4, "inter2": -1},
    )
    links = attribute(normalizer, chunk).links.groupby("source_event_id")["actor"].apply(list)
    assert links.to_dict() == {
        "E1": ["JNIM"],
        "E2": ["JNIM"],
        "E3": ["JNIM"],
        "E4": ["Dozo Militia"],
    }
    armed_only_states = attribute(normalizer, chunk, armed=(1,)).links
    assert armed_only_states.empty
