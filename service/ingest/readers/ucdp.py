"""UCDP GED CSV files: the yearly release and the web download."""

from __future__ import annotations

import numpy as np
import pandas as pd

from service.ingest.actortypes import NOT_GIVEN
from service.ingest.readers import checks
from service.ingest.readers.checks import Rows
from service.ingest.readers.layout import Layout
from service.ingest.readers.schema import FIELD_LIMITS, MAX_FATALITIES, constant

# The web download writes "03/17/2020 00:00:00", the yearly release "2020-03-17".
DATE_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%m/%d/%Y",
)
DATE_EXAMPLE = "'2020-03-17' or '03/17/2020 00:00:00'"
COMMON = checks.CommonColumns("ucdp", "id", "date_start", "adm_1", DATE_FORMATS, DATE_EXAMPLE)

_STATE = "Government of "
VIOLENCE_TYPES = {
    "1": "State-based conflict",
    "2": "Non-state conflict",
    "3": "One-sided violence",
}


def events(raw: pd.DataFrame, rows: Rows, layout: Layout, latest: pd.Timestamp) -> pd.DataFrame:
    """Check a UCDP chunk and give it the canonical event columns."""
    n = len(raw)
    empty = constant("", n)
    event_type = _violence_types(rows, raw["type_of_violence"])
    side_a = checks.text(
        rows, raw["side_a"], "side_a", FIELD_LIMITS["actor1"], required="an actor name"
    )
    side_b = checks.text(
        rows, raw["side_b"], "side_b", FIELD_LIMITS["actor2"], required="an actor name"
    )
    inter1, inter2 = side_types(event_type, side_a, side_b)
    return pd.DataFrame(
        {
            **COMMON.check(rows, raw, latest),
            "event_type": event_type,
            "sub_event_type": empty,
            "actor1": side_a,
            "assoc_actor_1": empty,
            "actor2": side_b,
            "assoc_actor_2": empty,
            "inter1": inter1,
            "inter2": inter2,
            # `best` is the layout key for best|best_est, whichever the file has.
            "fatalities": checks.integers(
                rows,
                raw["best"],
                layout.names["best"],
                maximum=MAX_FATALITIES,
                what="a whole number of deaths (the best estimate)",
            ),
            # GED rows carry no revision time: every version of an event ties at 0.
            "source_timestamp": np.zeros(n, dtype=np.int64),
        }
    )


def side_types(
    event_type: pd.Series, side_a: pd.Series, side_b: pd.Series
) -> tuple[np.ndarray, np.ndarray]:
    """ACLED actor types of the two sides, from what UCDP's definitions say about them.

    UCDP names states "Government of …" (state forces, 1). State-based conflict opposes a
    government to an organised opposition group (a rebel group, 2) or to another government;
    one-sided violence is an armed group or a government against civilians (side_b, 7).
    Non-state conflict is between organised non-state groups whose kind GED does not say:
    not given (counted as armed; UCDP has no unarmed sides besides one-sided violence's).
    """
    state_a = side_a.str.startswith(_STATE).to_numpy(dtype=bool)
    state_b = side_b.str.startswith(_STATE).to_numpy(dtype=bool)
    kind = event_type.to_numpy(dtype=object)
    one_sided = kind == VIOLENCE_TYPES["3"]
    state_based = kind == VIOLENCE_TYPES["1"]
    inter1 = np.where(state_a, 1, NOT_GIVEN).astype(np.int8)
    inter2 = np.where(one_sided, 7, np.where(state_b, 1, np.where(state_based, 2, NOT_GIVEN)))
    return inter1, inter2.astype(np.int8)


def _violence_types(rows: Rows, col: pd.Series) -> pd.Series:
    codes, uniques = pd.factorize(col)
    labels = [VIOLENCE_TYPES.get(v.strip()) for v in uniques.to_numpy()]
    for i, label in enumerate(labels):
        if label is None:
            rows.report(
                int(np.argmax(codes == i)),
                field="type_of_violence",
                expected="1 (state-based), 2 (non-state) or 3 (one-sided)",
                got=str(uniques[i]),
            )
    return pd.Series(np.asarray(labels, dtype=object)[codes], dtype="str")
