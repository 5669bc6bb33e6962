"""Plain builders for small ACLED and UCDP files in a test's tmp_path."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

ACLED_COLUMNS = (
    "event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,"
    "actor1,assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,"
    "iso,region,country,admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,"
    "source_scale,notes,fatalities,tags,timestamp"
).split(",")

UCDP_YEARLY_COLUMNS = (
    "id,relid,year,active_year,code_status,type_of_violence,conflict_dset_id,conflict_new_id,"
    "conflict_name,dyad_dset_id,dyad_new_id,dyad_name,side_a_dset_id,side_a_new_id,side_a,"
    "side_b_dset_id,side_b_new_id,side_b,number_of_sources,source_article,source_office,"
    "source_date,source_headline,source_original,where_prec,where_coordinates,"
    "where_description,adm_1,adm_2,latitude,longitude,geom_wkt,priogrid_gid,country,country_id,"
    "region,event_clarity,date_prec,date_start,date_end,deaths_a,deaths_b,deaths_civilians,"
    "deaths_unknown,best,high,low"
).split(",")


def acled_row(n: int = 1, **fields: object) -> dict[str, str]:
    """A valid made-up ACLED row; keyword arguments override fields."""
    row = dict.fromkeys(ACLED_COLUMNS, "")
    row |= {
        "event_id_cnty": f"MLI{n}",
        "event_date": "01 March 2022",
        "year": "2022",
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actor1": "JNIM: Group for Support of Islam and Muslims",
        "actor2": "Military Forces of Mali (2021-)",
        "country": "Mali",
        "admin1": "Mopti",
        "notes": f"Made-up event {n}, with a comma.",
        "fatalities": "2",
        "timestamp": "1650000000",
    }
    row |= {k: str(v) for k, v in fields.items()}
    return row


def csv_text(rows: list[dict[str, str]], columns: list[str] | None = None) -> str:
    """Rows as CSV text with a header, like a provider's export."""
    out = io.StringIO()
    names = columns or (list(rows[0]) if rows else ACLED_COLUMNS)
    writer = csv.DictWriter(out, fieldnames=names, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def acled_text(n_rows: int = 3, changes: Mapping[int, Mapping[str, object]] | None = None) -> str:
    """An ACLED export of n_rows valid rows; `changes` maps a row number to changed fields.

    Row n is on line n + 1 (the header is line 1).
    """
    changes = changes or {}
    return csv_text([acled_row(i, **changes.get(i, {})) for i in range(1, n_rows + 1)])


def write(tmp_path: Path, content: str | bytes, name: str = "acled_export.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def ucdp_yearly_row(n: int = 1, **fields: object) -> dict[str, str]:
    """A made-up row in the layout of the yearly UCDP GED CSV."""
    row = dict.fromkeys(UCDP_YEARLY_COLUMNS, "")
    row |= {
        "id": str(900000 + n),
        "year": "2021",
        "type_of_violence": "1",
        "side_a": "Government of Mali",
        "side_b": "JNIM",
        "adm_1": "Mopti region",
        "country": "Mali",
        "date_start": "2021-05-04",
        "date_end": "2021-05-04",
        "best": "3",
        "high": "4",
        "low": "3",
    }
    row |= {k: str(v) for k, v in fields.items()}
    return row


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
REPO = Path(__file__).resolve().parents[3]
# The real UCDP web download (CC BY 4.0, see its README) is not in the repository.
UCDP_SAMPLE_NAME = "ucdp-ged-burkina-faso-2016-2022.csv"
UCDP_SAMPLE_PLACES = (REPO / "data", Path("/work/shared/data"))


def ucdp_sample() -> Path | None:
    """The real UCDP web-download sample, if it is around."""
    for place in UCDP_SAMPLE_PLACES:
        if (place / UCDP_SAMPLE_NAME).is_file():
            return place / UCDP_SAMPLE_NAME
    return None
