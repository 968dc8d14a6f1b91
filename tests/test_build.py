"""The build: deterministic output, the border extraction and the writer's guarantees."""

from __future__ import annotations

import json
import shutil

import geopandas as gpd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon, box

import layers
from geo.errors import LayerError
from layers import build, build_incidents, sources
from layers.geojson_io import read_geojson, write_geojson

# --- determinism ---------------------------------------------------------------------------------


def test_building_border_crossings_and_the_incident_record_twice_gives_identical_files(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    names = ["border", "crossings", "unofficial_crossings", "incidents"]
    build.build_layers(names, out=first)
    build.build_layers(list(reversed(names)), out=second)
    files = [
        "layers/border.geojson",
        "layers/crossings.geojson",
        "layers/unofficial_crossings.geojson",
        "sample_incidents.geojson",
    ]
    for name in files:
        a = (first / name).read_bytes()
        b = (second / name).read_bytes()
        assert a == b, name
        # ... and the committed file is exactly what the build makes.
        assert a == (layers.DATA_DIR / name).read_bytes(), name
    assert (first / "provenance.json").read_bytes() == (second / "provenance.json").read_bytes()
    committed = layers.load_provenance()["layers"]
    built = json.loads((first / "provenance.json").read_text(encoding="utf-8"))["layers"]
    for name in names:
        assert built[name] == committed[name], name


def test_the_incident_record_is_one_feature_per_event_in_date_order(tmp_path):
    build.build_layers(["incidents"], out=tmp_path)
    doc = json.loads((tmp_path / "sample_incidents.geojson").read_text(encoding="utf-8"))
    props = [f["properties"] for f in doc["features"]]
    assert [(p["date"], p["id"]) for p in props] == sorted((p["date"], p["id"]) for p in props)
    assert list(props[0]) == list(build_incidents.INCIDENT_PROPERTIES)
    # whole numbers stay whole (no 9.0 people)
    assert all(isinstance(p["quantity"], (int, type(None))) for p in props if p["unit"] == "people")


def test_a_crossing_off_its_cited_place_is_rejected_with_the_fix(tmp_path, monkeypatch):
    path = _copy_sources(tmp_path, monkeypatch)
    text = path.read_text(encoding="utf-8").replace("34.63389,35.97556", "34.64389,35.97556")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        LayerError, match=r"\('Arida'\).* m from its cited place 'Nahr al-Kabir mouth'"
    ):
        build.build_crossings()


def test_build_records_provenance_only_for_what_it_built(tmp_path):
    build.build_layers(["crossings"], out=tmp_path)
    doc = json.loads((tmp_path / "provenance.json").read_text(encoding="utf-8"))
    assert set(doc["layers"]) == {"crossings"}
    assert doc["layers"]["crossings"]["file"] == "layers/crossings.geojson"


def test_unknown_layer_in_the_build_is_a_clear_error(tmp_path):
    with pytest.raises(LayerError, match=r"unknown layer\(s\) \['roads'\]; buildable layers"):
        build.build_layers(["roads"], out=tmp_path)


def test_command_line_builds_the_named_layers(tmp_path, capsys):
    assert build.main(["--layers", "crossings", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("crossings: ")
    assert len(read_geojson(tmp_path / "layers" / "crossings.geojson", name="crossings")) >= 2


def test_command_line_reports_errors_in_one_line(tmp_path, capsys):
    assert build.main(["--layers", "roads", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown layer(s) ['roads']") and err.count("\n") == 1


# --- border extraction on synthetic polygons -----------------------------------------------------


def _two_countries():
    # "Lebanon" west of x=1 and "Syria" east of it, both reaching 0.5 into a sea at y > 2.
    west = Polygon([(0, 0), (1, 0), (1, 2.5), (0, 2.5)])
    east = Polygon([(1, 0), (2, 0), (2, 2.5), (1, 2.5)])
    sea = box(-1, 2, 3, 3)
    return west, east, sea


def test_extract_border_line_cuts_at_the_coast_and_runs_north_to_south():
    west, east, sea = _two_countries()
    line = build.extract_border_line(west, east, sea)
    assert list(line.coords) == [(1.0, 2.0), (1.0, 0.0)]


def test_extract_border_line_refuses_a_broken_edge():
    west, east, sea = _two_countries()
    island = box(0.5, 0.9, 1.5, 1.1)  # a "sea" cutting the shared edge in two
    with pytest.raises(LayerError, match=r"border: the shared edge cut at the coast has 2 pieces"):
        build.extract_border_line(west, east, shapely.union(sea, island))


def test_shared_edge_of_real_time_zone_polygons_is_one_line_after_the_coast_cut():
    beirut, damascus = sources.timezone_polygons()
    line = build.extract_border_line(beirut, damascus, sources.load_sea_mask())
    assert line.geom_type == "LineString"
    assert 340 <= build.geodesic_length_km(line) <= 380


# --- curated tables -------------------------------------------------------------------------------


def _copy_sources(tmp_path, monkeypatch):
    shutil.copytree(sources.SOURCES_DIR, tmp_path / "sources")
    monkeypatch.setattr(sources, "SOURCES_DIR", tmp_path / "sources")
    return tmp_path / "sources" / "curated_crossings.csv"


def test_crossing_with_swapped_coordinates_is_rejected_with_the_fix(tmp_path, monkeypatch):
    path = _copy_sources(tmp_path, monkeypatch)
    text = path.read_text(encoding="utf-8").replace(
        "33.7028667,35.9240472", "35.9240472,33.7028667"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        LayerError, match=r"line 2 \('Masnaa'\).*are latitude and longitude swapped"
    ):
        build.build_crossings()


def test_crossing_without_a_number_is_rejected(tmp_path, monkeypatch):
    path = _copy_sources(tmp_path, monkeypatch)
    text = path.read_text(encoding="utf-8").replace("36.5433,3000", "36.5433,about 3000")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LayerError, match=r"line 3 \('Qaa'\): .* must be numbers"):
        build.build_crossings()


def test_every_curated_row_cites_a_source_url():
    import csv

    for name in ("curated_crossings.csv", "unofficial_crossings.csv", "curated_towns.csv"):
        with (sources.SOURCES_DIR / name).open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                # as read: a few Wikipedia mirrors were only reachable over http
                assert row["source"] and row["source_url"].startswith(("https://", "http://"))
                assert float(row["location_precision_m"]) > 0


# --- the writer ---------------------------------------------------------------------------


def _points(coords, names):
    return gpd.GeoDataFrame(
        {"name": names, "value": list(range(len(names)))},
        geometry=[Point(c) for c in coords],
        crs=4326,
    )


def test_writer_sorts_features_orders_keys_and_rounds(tmp_path):
    gdf = _points([(36.1234567891, 34.0), (35.5, 33.123456789)], ["b", "a"])
    gdf["nothing"] = [float("nan"), None]
    path = write_geojson(
        gdf,
        tmp_path / "x.geojson",
        columns=["value", "name", "nothing"],
        sort_by=["name"],
        name="x",
    )
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["name"] == "x"
    assert [f["properties"]["name"] for f in doc["features"]] == ["a", "b"]
    assert list(doc["features"][0]["properties"]) == ["value", "name", "nothing"]
    assert doc["features"][0]["properties"]["nothing"] is None
    assert doc["features"][0]["geometry"]["coordinates"] == [35.5, 33.123457]
    assert doc["features"][1]["geometry"]["coordinates"] == [36.123457, 34.0]


def test_writer_refuses_a_projected_layer(tmp_path):
    gdf = _points([(36.0, 34.0)], ["a"]).to_crs(layers.METRIC_CRS)
    with pytest.raises(LayerError, match=r"layer 'x': CRS is .* reproject with .to_crs\(4326\)"):
        write_geojson(gdf, tmp_path / "x.geojson", columns=["name"], sort_by=["name"], name="x")


def test_writer_keeps_a_polygon_valid_on_the_grid(tmp_path):
    # A sliver thinner than the 1e-6° grid would collapse; the writer must keep validity.
    poly = Polygon([(36.0, 34.0), (36.001, 34.0), (36.001, 34.001), (36.0, 34.0000004)])
    gdf = gpd.GeoDataFrame({"name": ["p"]}, geometry=[poly], crs=4326)
    path = write_geojson(gdf, tmp_path / "p.geojson", columns=["name"], sort_by=["name"], name="p")
    back = read_geojson(path, name="p")
    assert back.geometry.is_valid.all()
    assert back.geometry.iloc[0].area == pytest.approx(poly.area, rel=1e-2)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(35.0, 37.0, allow_nan=False),
            st.floats(33.0, 35.0, allow_nan=False),
            st.text(alphabet="abcdefghij", min_size=1, max_size=4),
        ),
        min_size=1,
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_writer_output_is_independent_of_input_order_and_round_trips(tmp_path_factory, rows, rnd):
    tmp = tmp_path_factory.mktemp("w")
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    paths = []
    for i, data in enumerate((rows, shuffled)):
        gdf = _points([(x, y) for x, y, _ in data], [n for _, _, n in data])
        gdf["value"] = 0
        paths.append(
            write_geojson(
                gdf, tmp / f"{i}.geojson", columns=["name", "value"], sort_by=["name"], name="w"
            )
        )
    # Ties on the sort key are broken by the rest of the feature's text, so order never leaks.
    assert paths[0].read_bytes() == paths[1].read_bytes()
    back = read_geojson(paths[0], name="w")
    # Every point comes back, at its 6-decimal rounding (within 0.5e-6° of the input).
    expected = sorted((round(x, 6), round(y, 6), n) for x, y, n in rows)
    got = sorted((p.x, p.y, n) for p, n in zip(back.geometry, back["name"], strict=True))
    assert [n for *_, n in got] == [n for *_, n in expected]
    for (gx, gy, _), (ex, ey, _) in zip(got, expected, strict=True):
        assert gx == pytest.approx(ex, abs=1e-9) and gy == pytest.approx(ey, abs=1e-9)
    assert list(back["name"]) == sorted(back["name"])


def test_reading_a_missing_layer_names_the_rebuild(tmp_path):
    with pytest.raises(LayerError, match=r"layer 'towns': file .* is missing; rebuild it"):
        read_geojson(tmp_path / "towns.geojson", name="towns")


def test_border_line_of_wrong_type_is_a_clear_error(monkeypatch):
    fake = gpd.GeoDataFrame(
        {"name": ["x"]}, geometry=[LineString([(0, 0), (1, 1)]).buffer(0.1)], crs=4326
    )
    monkeypatch.setattr(layers, "load_layer", lambda name: fake)
    with pytest.raises(LayerError, match=r"expected one LineString, found 1 feature\(s\)"):
        layers.load_border_line()


def test_the_record_builders_copies_of_the_schema_stay_equal_to_geo():
    """``layers`` may import only ``geo.errors``, so the builder copies the types and columns."""
    from geo import settings as geo_settings
    from geo.schema import INCIDENT_COLUMNS

    assert build_incidents.REPORT_TYPES == geo_settings.INCIDENT_TYPES
    n = len(build_incidents.INCIDENT_PROPERTIES)
    assert INCIDENT_COLUMNS[:n] == build_incidents.INCIDENT_PROPERTIES
    # what the schema has beyond them is ACLED's own event types, which the record has not
    assert INCIDENT_COLUMNS[n:] == ("source_event_type", "source_sub_event_type")
