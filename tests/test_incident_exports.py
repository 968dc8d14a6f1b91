"""The incident CSVs analysts pass around: every field, formula-safe, ACLED round trip."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo import schema
from geo.exports import (
    FORMULA_PREFIXES,
    export_incidents_acled,
    export_incidents_csv,
    neutralise_formula,
)
from geo.ingest import validate_file

DATA = Path(__file__).parent / "data"
HOSTILE = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def _incidents(descriptions: list[str]) -> gpd.GeoDataFrame:
    n = len(descriptions)
    return gpd.GeoDataFrame(
        {
            "id": [f"X-{i}" for i in range(n)],
            "date": pd.to_datetime(["2025-03-16"] * n),
            "date_precision_days": [1] * n,
            "type": ["seizure"] * n,
            "description": descriptions,
            "quantity": [1200.5] * n,
            "unit": ["=kg"] * n,
            "commodity": ["captagon"] * n,
            "fatalities": [np.nan] * n,
            "actor1": ["@army"] * n,
            "actor2": [None] * n,
            "location_precision_m": [2000.0] * n,
            "location_note": ["-near Qaa"] * n,
            "source": ["+wire"] * n,
        },
        geometry=[Point(36.38472, 34.39417)] * n,
        crs=4326,
    )


def test_formula_cells_are_neutralised_when_read_back(tmp_path):
    path = export_incidents_csv(_incidents([*HOSTILE, "plain text", "a=b"]), tmp_path / "i.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["description"] for r in rows] == ["'" + h for h in HOSTILE] + ["plain text", "a=b"]
    for row in rows:
        for key, value in row.items():
            assert not value.startswith(FORMULA_PREFIXES), (key, value)
        assert row["unit"] == "'=kg" and row["actor1"] == "'@army" and row["source"] == "'+wire"
        assert float(row["quantity"]) == 1200.5  # numbers stay numbers
        assert float(row["latitude"]) == 34.39417 and float(row["longitude"]) == 36.38472


def test_neutralise_formula_leaves_other_values_alone():
    assert neutralise_formula(-3.5) == -3.5
    assert neutralise_formula(None) is None
    assert neutralise_formula("Qaa") == "Qaa"
    assert neutralise_formula("=1") == "'=1"


def test_incidents_csv_holds_every_stored_field_and_reads_back(tmp_path):
    source = _incidents(["Captagon seized near the border", "fuel smuggling"])
    path = export_incidents_csv(source, tmp_path / "incidents.csv")
    header = path.read_text("utf-8").splitlines()[0].split(",")
    assert header[: len(schema.INCIDENT_COLUMNS)] == list(schema.INCIDENT_COLUMNS)
    assert header[-2:] == ["longitude", "latitude"]
    back = validate_file(path.read_bytes(), filename="incidents.csv")
    assert back.ok, back.to_text()
    assert back.accepted["id"].tolist() == ["X-0", "X-1"]
    assert back.accepted["description"].tolist() == source["description"].tolist()
    assert back.accepted["quantity"].tolist() == [1200.5, 1200.5]


def _comparable(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    out = pd.DataFrame(frame[list(schema.INCIDENT_COLUMNS)]).reset_index(drop=True)
    out["x"] = frame.geometry.x.to_numpy()
    out["y"] = frame.geometry.y.to_numpy()
    return out


def test_acled_file_ingest_export_ingest_gives_the_same_incidents(tmp_path):
    data = (DATA / "acled_sample.csv").read_bytes()
    first = validate_file(data, filename="acled_sample.csv")
    assert first.accepted_count > 0
    path = export_incidents_acled(first.accepted, tmp_path / "incidents_acled.csv")
    header = path.read_text("utf-8").splitlines()[0]
    assert header == (DATA / "acled_sample.csv").read_text("utf-8").splitlines()[0]
    second = validate_file(path.read_bytes(), filename="incidents_acled.csv")
    assert second.accepted_count == first.accepted_count
    pd.testing.assert_frame_equal(_comparable(second.accepted), _comparable(first.accepted))


def test_acled_layout_of_our_own_incidents_takes_the_nearest_codes(tmp_path):
    ours = _incidents(["x"]).assign(date_precision_days=366, location_precision_m=5_000.0)
    path = export_incidents_acled(ours, tmp_path / "a.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert (row["event_type"], row["sub_event_type"]) == (
        "Strategic developments",
        "Disrupted weapons use",
    )
    assert row["time_precision"] == "3" and row["geo_precision"] == "2"
    assert row["source"] == "'+wire" and row["location"] == "'-near Qaa"
    back = validate_file(path.read_bytes(), filename="a.csv")
    assert back.accepted["type"].tolist() == ["seizure"]


@pytest.mark.parametrize("fmt", ["csv", "acled"])
def test_no_crs_is_refused(tmp_path, fmt):
    frame = _incidents(["x"]).set_crs(None, allow_override=True)
    write = export_incidents_csv if fmt == "csv" else export_incidents_acled
    with pytest.raises(Exception, match="no CRS"):
        write(frame, tmp_path / "x.csv")
