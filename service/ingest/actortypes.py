"""ACLED's actor types (the `inter1` / `inter2` codes) and how exports write them.

Light on purpose (no pandas): the readers, the normalizer, the drill-down and the CLI share it.
ACLED's codebook gives each primary actor a type; an associated actor belongs to its primary
actor's side (`assoc_actor_1` to `inter1`, `assoc_actor_2` to `inter2`). Older exports and the
API write codes (`1`), newer ones names (`State forces`); both are read.
"""

from __future__ import annotations

NOT_GIVEN = -1  # no inter column in the file, or an empty field: the name rule decides
NO_ACTOR = 0  # ACLED writes 0 for a side without an actor

TYPES: dict[int, str] = {
    1: "State forces",
    2: "Rebel groups",
    3: "Political militias",
    4: "Identity militias",
    5: "Rioters",
    6: "Protesters",
    7: "Civilians",
    8: "External/Other forces",
}
ARMED_DEFAULT: tuple[int, ...] = (1, 2, 3, 4, 8)

# Every spelling seen in ACLED files and API answers, case-blind: plural (codebook, API) and
# singular (newer exports) names, and `Protestors`.
_SPELLINGS: dict[str, int] = {str(code): code for code in range(0, 9)}
for _code, _label in TYPES.items():
    _SPELLINGS[_label.casefold()] = _code
    _SPELLINGS[_label.casefold().removesuffix("s")] = _code
_SPELLINGS |= {
    "protestors": 6,
    "protestor": 6,
    "external/other force": 8,
    "external/other forces": 8,
    "civilian": 7,
    "state force": 1,
}
EXPECTED = "an ACLED actor type: a code 0-8 or a name such as 'State forces' or 'Civilians'"


def parse(text: str) -> int | None:
    """The code a file's inter field stands for; NOT_GIVEN when empty; None when unknown."""
    value = " ".join(text.split()).casefold()
    if not value:
        return NOT_GIVEN
    if value.endswith(".0"):  # a spreadsheet's 2.0
        value = value[:-2]
    return _SPELLINGS.get(value)


def label(code: int | None) -> str:
    """The readable name of a code ("not given" when the file gave none)."""
    if code is None or code == NOT_GIVEN:
        return "not given"
    if code == NO_ACTOR:
        return "no actor"
    return TYPES.get(code, f"type {code}")
