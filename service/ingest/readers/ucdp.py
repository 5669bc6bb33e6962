"""UCDP GED CSV files: the yearly release and the web download."""

from __future__ import annotations

import numpy as np
import pandas as pd

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

VIOLENCE_TYPES = {
    "1": "State-based conflict",
    "2": "Non-state conflict",
    "3": "One-sided violence",
}


def events(raw: pd.DataFrame, rows: Rows, layout: Layout, latest: pd.Timestamp) -> pd.DataFrame:
    """Check a UCDP chunk and give it the canonical event columns."""
    n = len(raw)
    empty = constant("", n)
    return pd.DataFrame(
        {
            **COMMON.check(rows, raw, latest),
            "event_type": _violence_types(rows, raw["type_of_violence"]),
            "sub_event_type": empty,
            "actor1": checks.text(
                rows, raw["side_a"], "side_a", FIELD_LIMITS["actor1"], required="an actor name"
            ),
            "assoc_actor_1": empty,
            "actor2": checks.text(
                rows, raw["side_b"], "side_b", FIELD_LIMITS["actor2"], required="an actor name"
            ),
            "assoc_actor_2": empty,
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
