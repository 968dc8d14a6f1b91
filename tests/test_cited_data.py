"""The cited crossings and incident record (issue 15): sources, precisions, places, counts.

Distances are recomputed here from the source CSVs with :class:`pyproj.Geod` (WGS 84),
independently of :mod:`layers.cited_places`, against the committed layers.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json

import numpy as np
import pytest
import shapely
from pyproj import Geod

import layers
from geo import settings
from geo.errors import LayerError
from layers import build_incidents, cited_places
from layers.crs import METRIC_CRS
from layers.paths import DATA_DIR, SOURCES_DIR

GEOD = Geod(ellps="WGS84")
#: Border vertices this close to a region belong to its stretch (m), by the region's country.
TOLERANCE_M = {"LBN": 2_500.0, "SYR": 5_000.0}
#: The events of the former six-incident sample, kept in the record under their ids.
FORMER_SAMPLE = {
    "S-2024-10-04-MASNAA",
    "S-2025-02-07-QUSAYR",
    "S-2025-03-16-HERMEL",
    "S-2025-03-17-SHELLING",
    "S-2025-10-CAPTAGON",
    "S-2025-12-HERMEL-RAIDS",
}


def _rows(name: str) -> list[dict[str, str]]:
    with (SOURCES_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.fixture(scope="module")
def places() -> dict[str, tuple[float, float]]:
    """Cited places: key -> (longitude, latitude), as written in cited_places.csv."""
    return {
        r["place"]: (float(r["longitude"]), float(r["latitude"])) for r in _rows("cited_places.csv")
    }


@pytest.fixture(scope="module")
def reports() -> list[dict[str, str]]:
    return _rows("border_incidents.csv")


@pytest.fixture(scope="module")
def crossing_rows() -> list[dict[str, str]]:
    return _rows("curated_crossings.csv") + _rows("unofficial_crossings.csv")


@pytest.fixture(scope="module")
def incidents():
    return layers.load_layer("incidents")


@pytest.fixture(scope="module")
def covering(places) -> dict[str, float]:
    """Each named place's covering radius, recomputed from the committed layers (m)."""
    border = layers.load_border_line()
    border_xy = np.asarray(border.coords)
    border_m = shapely.points(
        np.asarray(layers.load_layer("border").to_crs(METRIC_CRS).geometry.iloc[0].coords)
    )
    regions = layers.load_layer("regions")
    out = {}
    for row in _rows("named_places.csv"):
        lon, lat = places[row["anchor"]]
        if row["rule"] in ("judged", "cited"):
            out[row["name"]] = float(row["radius_m"])
            continue
        far = 0.0
        for term in row["rule"].split(";"):
            kind, _, rest = term.partition(":")
            target, _, plus = rest.partition("+")
            if kind == "place":
                xy = np.array([places[target]])
            else:
                level, name = target.split("/")
                region = regions[(regions["level"] == level) & (regions["name"] == name)]
                assert len(region) == 1, target
                if kind == "area":
                    xy = shapely.get_coordinates(region.geometry.iloc[0])
                else:
                    zone = region.to_crs(METRIC_CRS).geometry.iloc[0]
                    near = (
                        shapely.distance(border_m, zone) <= TOLERANCE_M[region["country"].iloc[0]]
                    )
                    xy = border_xy[near]
            d = GEOD.inv(np.full(len(xy), lon), np.full(len(xy), lat), xy[:, 0], xy[:, 1])[2]
            far = max(far, d.max() + (float(plus) if plus else 0.0))
        out[row["name"]] = far
    return out


# --- every row cites a source and a precision ------------------------------------------------


def test_every_crossing_row_has_a_source_url_status_sources_and_a_precision(crossing_rows):
    assert len(crossing_rows) >= 20
    for row in crossing_rows:
        assert row["source_url"].startswith(("https://", "http://")), row["name"]
        assert "http" in row["status_sources"], row["name"]
        assert float(row["location_precision_m"]) > 0, row["name"]
        assert row["place"], row["name"]


def test_every_report_has_a_source_url_and_a_precision(reports):
    for row in reports:
        assert row["source_url"].startswith(("https://", "http://")), row["report_id"]
        assert row["source_outlet"].strip(), row["report_id"]
        assert float(row["location_precision_m"]) > 0, row["report_id"]
        assert int(row["date_precision_days"]) >= 1, row["report_id"]


def test_every_incident_feature_cites_its_reports_with_a_url(incidents, reports):
    by_event: dict[str, list[dict[str, str]]] = {}
    for row in reports:
        by_event.setdefault(row["event_id"], []).append(row)
    for feature in incidents.itertuples():
        urls = [r["source_url"] for r in by_event[feature.id]]
        assert all(url in feature.source for url in urls), feature.id
        assert feature.location_precision_m > 0


# --- every placed point lies within its precision of its cited place --------------------------


def test_every_crossing_lies_within_its_precision_of_its_cited_place(places):
    for layer, table in (
        ("crossings", "curated_crossings.csv"),
        ("unofficial_crossings", "unofficial_crossings.csv"),
    ):
        built = layers.load_layer(layer).set_index("name")
        rows = _rows(table)
        assert sorted(built.index) == sorted(r["name"] for r in rows)
        for row in rows:
            point = built.geometry[row["name"]]
            gap = _metres((point.x, point.y), places[row["place"]])
            assert gap <= float(row["location_precision_m"]), (layer, row["name"], gap)
            assert gap < 1.0, (layer, row["name"])  # the point is the cited coordinate


def test_every_incident_lies_within_its_precision_of_its_cited_place(incidents, reports, places):
    lead = {}
    for row in reports:
        lead.setdefault(row["event_id"], row)
    for feature in incidents.itertuples():
        row = lead[feature.id]
        gap = _metres((feature.geometry.x, feature.geometry.y), places[row["place"]])
        assert gap <= feature.location_precision_m, (feature.id, gap)
        assert gap < 1.0, feature.id
        assert feature.location_precision_m == float(row["location_precision_m"])


def test_a_place_without_a_cited_coordinate_is_covered_by_the_radius(
    reports, crossing_rows, covering
):
    named = {r["name"]: r for r in _rows("named_places.csv")}
    for row in [*reports, *crossing_rows]:
        if not row["named_place"]:
            continue
        place = named[row["named_place"]]
        assert row["place"] == place["anchor"], row
        assert float(row["location_precision_m"]) >= covering[row["named_place"]] - 1e-6, row


def test_matraba_and_aboudiyeh_radii_are_the_border_stretches_they_can_be_on(covering):
    # Matraba: on the border in Hermel district, from Hermel; Aboudiyeh: the Nahr al-Kabir
    # bridge, on the border along Akkar district, from the Akkar District point.
    crossings = layers.load_layer("crossings").set_index("name")
    assert crossings.loc["Matraba", "location_precision_m"] == pytest.approx(
        np.ceil(covering["Matraba crossing"] / 500) * 500
    )
    assert 15_000 < covering["Matraba crossing"] < 16_000
    assert crossings.loc["Aboudiyeh", "location_precision_m"] == pytest.approx(
        np.ceil(covering["Aboudiyeh-Dabousieh crossing"] / 500) * 500
    )
    assert 36_000 < covering["Aboudiyeh-Dabousieh crossing"] < 37_000


def test_named_places_on_the_border_reach_it(places, covering):
    import geopandas as gpd
    from shapely.geometry import Point

    line = layers.load_layer("border").to_crs(METRIC_CRS).geometry.iloc[0]
    for row in _rows("named_places.csv"):
        if row["on_border"] == "yes":
            anchor = gpd.GeoSeries([Point(places[row["anchor"]])], crs=4326).to_crs(METRIC_CRS)
            assert anchor.iloc[0].distance(line) <= covering[row["name"]], row["name"]


# --- the record --------------------------------------------------------------------------------


def test_the_record_has_at_least_150_events_from_at_least_15_outlets(incidents, reports):
    assert len(incidents) >= 150
    outlets = {build_incidents.outlet_name(r["source_outlet"]) for r in reports}
    assert len(outlets) >= 15
    assert set(incidents["id"]) >= FORMER_SAMPLE


def test_ids_are_unique_and_there_is_one_feature_per_event(incidents, reports):
    assert len({r["report_id"] for r in reports}) == len(reports)
    assert incidents["id"].is_unique
    assert set(incidents["id"]) == {r["event_id"] for r in reports}


def test_dates_and_types_are_in_range(incidents, reports):
    for row in reports:
        day = dt.date.fromisoformat(row["date"])
        assert dt.date(2024, 1, 1) <= day <= dt.date(2026, 12, 3), row["report_id"]
        assert row["type"] in settings.INCIDENT_TYPES, row["report_id"]
        if row["source_date"]:
            dt.date.fromisoformat(row["source_date"])
    assert set(incidents["type"]) <= set(settings.INCIDENT_TYPES)


def test_reports_of_one_event_agree_on_date_type_and_place(reports):
    first: dict[str, dict[str, str]] = {}
    for row in reports:
        lead = first.setdefault(row["event_id"], row)
        for key in ("date", "type", "place", "named_place"):
            assert row[key] == lead[key], (row["report_id"], key)
    assert any(sum(r["event_id"] == e for r in reports) > 1 for e in first)


def test_the_built_incidents_pass_the_ingest_validation_without_errors():
    from geo.ingest import validate_file

    report = validate_file(settings.SAMPLE_INCIDENTS_PATH, options=None)
    assert not report.errors
    assert report.accepted_count == len(layers.load_layer("incidents"))


def test_left_out_places_are_listed_in_the_data_readme():
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    rows = _rows("left_out.csv")
    assert rows and all(r["reason"] for r in rows)
    for row in rows:
        if row["place"]:
            assert row["place"] in readme, row["place"]
    for row in _rows("named_places.csv"):  # placed at an anchor: listed with it
        assert row["name"] in readme, row["name"]


def test_provenance_counts_the_record():
    record = layers.load_provenance()["layers"]["incidents"]
    assert record["features"] == len(layers.load_layer("incidents"))
    assert record["reports"] == len(_rows("border_incidents.csv"))
    assert record["outlets"] >= 15
    assert "not ground truth" in record["source"]
    doc = json.loads((DATA_DIR / "provenance.json").read_text(encoding="utf-8"))
    assert "unofficial_crossings" in doc["layers"]


# --- the checks refuse what they should ----------------------------------------------------------


def _checked(rows):
    cited = cited_places.read_cited_places()
    named = cited_places.read_named_places(cited=cited)
    border, regions = cited_places.load_reference()
    radii = cited_places.check_named_places(named, cited, border=border, regions=regions)
    build_incidents.check_reports(rows, cited=cited, named=named, radii=radii)


def test_a_report_narrower_than_its_named_place_is_refused_with_the_fix(reports):
    row = next(r for r in reports if r["named_place"] == "Hawsh al-Sayyed Ali")
    bad = [dict(row, location_precision_m="5000")]
    with pytest.raises(LayerError, match=r"less than the covering radius of 'Hawsh al-Sayyed Ali'"):
        _checked(bad)


def test_reports_are_refused_all_at_once_naming_field_value_and_fix(reports):
    row = dict(reports[0])
    bad = [
        dict(row, report_id="X1", event_id="X1", type="riot"),
        dict(row, report_id="X2", event_id="X2", source_url="", date="2023-12-31"),
        dict(row, report_id="X3", event_id="X3", place="Atlantis", named_place=""),
        dict(row, report_id="X4", event_id="X1", date="2024-01-04"),
    ]
    with pytest.raises(LayerError) as info:
        _checked(bad)
    text = str(info.value)
    assert "type 'riot'; use one of" in text
    assert "source_url '' is not a web address" in text
    assert "date 2023-12-31 is outside 2024-01-01..2026-12-03" in text
    assert "place 'Atlantis' is not in cited_places.csv" in text
    assert "differs from the event's lead report 'X1'" in text


def test_a_named_place_on_the_border_whose_radius_falls_short_is_refused():
    cited = cited_places.read_cited_places()
    named = cited_places.read_named_places(cited=cited)
    short = dataclasses.replace(named["Janta"], radius_m=5_000.0)  # Baalbek is 11 km away
    border, regions = cited_places.load_reference()
    with pytest.raises(LayerError, match=r"'Janta': on the border, but its radius 5000 m"):
        cited_places.check_named_places({"Janta": short}, cited, border=border, regions=regions)
