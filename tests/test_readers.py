"""Readers: every format, ACLED mapping, and fuzzing (our error or features, nothing else)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo import schema
from geo.errors import ValidationError
from geo.ingest import validate_file
from geo.readers import detect_format, read_incident_file
from geo.readers.common import MAGIC_NUMBERS

DATA = Path(__file__).parent / "data"
SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample_incidents.geojson"
HERMEL = (36.38472, 34.39417)
QUSAYR = (36.58029, 34.5078)


def _feature(fid, lon, lat, **props):
    return {
        "type": "Feature",
        "id": fid,
        "properties": {"date": "2025-03-16", "type": "clash", **props},
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def test_feature_collection_single_feature_and_ndjson_give_the_same_incidents():
    a, b = _feature("A", *HERMEL), _feature("B", *QUSAYR, type="seizure")
    collection = json.dumps({"type": "FeatureCollection", "features": [a, b]}).encode()
    ndjson = (json.dumps(a) + "\n" + json.dumps(b) + "\n").encode()
    rfc8142 = ("\x1e" + json.dumps(a) + "\n\x1e" + json.dumps(b) + "\n").encode()
    reports = [
        validate_file(collection, filename="x.geojson"),
        validate_file(ndjson, filename="x.ndjson"),
        validate_file(ndjson, filename="x.geojson"),  # newline-delimited despite the name
        validate_file(rfc8142, filename="x.geojsons"),
    ]
    for report in reports:
        assert report.ok, report.to_text()
        assert report.accepted["id"].tolist() == ["A", "B"]  # the Feature-level id is used
        assert report.accepted["type"].tolist() == ["clash", "seizure"]
    single = validate_file(json.dumps(a).encode(), filename="one.json")
    assert single.accepted["id"].tolist() == ["A"]
    assert reports[0].format == "geojson" and reports[1].format == "ndjson"


def test_sample_reads_like_geopandas():
    report = validate_file(SAMPLE)
    reference = gpd.read_file(SAMPLE)
    assert report.ok and report.accepted_count == len(reference)
    np.testing.assert_allclose(
        shapely.get_coordinates(report.accepted.geometry),
        shapely.get_coordinates(reference.geometry),
    )
    assert report.accepted["description"].tolist() == reference["description"].tolist()


@pytest.mark.parametrize(
    ("header", "sep"),
    [
        ("id,date,type,latitude,longitude", ","),
        ("id,date,type,lat,lon", ","),
        ("ID,Date,Type,Lat,Lng", ","),
        ("id;date;type;y;x", ";"),
        ("id\tdate\ttype\tlat\tlong", "\t"),
    ],
)
def test_csv_coordinate_spellings(header, sep):
    rows = [header, sep.join(["C1", "2025-03-16", "clash", str(HERMEL[1]), str(HERMEL[0])])]
    report = validate_file(("\n".join(rows) + "\n").encode(), filename="notes.csv")
    assert report.ok, report.to_text()
    point = report.accepted.geometry.iloc[0]
    assert (point.x, point.y) == HERMEL
    assert report.accepted["id"].tolist() == ["C1"]


def test_csv_with_unknown_columns_warns_that_they_are_not_stored():
    text = "id,date,type,lat,lon,analyst\nC1,2025-03-16,clash,34.39417,36.38472,rk\n"
    report = validate_file(text.encode(), filename="x.csv")
    assert report.ok
    assert any(p.field == "properties" and "analyst" in p.value for p in report.warnings)


def test_acled_export_maps_columns_types_and_precision_codes():
    report = validate_file(DATA / "acled_sample.csv")
    assert report.format == "acled"
    assert report.ok, report.to_text()
    got = report.accepted.set_index("id")
    assert list(got.index) == [
        "LBN-T001",
        "LBN-T002",
        "SYR-T003",
        "LBN-T004",
        "SYR-T005",
        "LBN-T006",
    ]
    # event types: ours, with ACLED's kept
    assert got["type"].tolist() == ["clash", "shelling", "clash", "strike", "other", "arrest"]
    assert got.loc["LBN-T004", "source_event_type"] == "Explosions/Remote violence"
    assert got.loc["LBN-T004", "source_sub_event_type"] == "Air/drone strike"
    # geo_precision 1/2/3 -> 2 km / 10 km / 50 km; time_precision 1/2/3 -> 1/7/31 days
    assert got["location_precision_m"].tolist() == [
        schema.ACLED_GEO_PRECISION_M[c] for c in (2, 2, 2, 1, 3, 2)
    ]
    assert got["date_precision_days"].tolist() == [
        schema.ACLED_TIME_PRECISION_DAYS[c] for c in (1, 1, 2, 1, 3, 2)
    ]
    assert schema.ACLED_GEO_PRECISION_M == {1: 2_000.0, 2: 10_000.0, 3: 50_000.0}
    assert schema.ACLED_TIME_PRECISION_DAYS == {1: 1, 2: 7, 3: 31}
    # dates in ACLED's "17 March 2025" style, actors, fatalities, notes, source
    assert got.loc["LBN-T002", "date"] == pd.Timestamp("2025-03-17")
    assert got.loc["LBN-T001", "actor1"] == "Military Forces of Syria (2024-)"
    assert got.loc["LBN-T001", "fatalities"] == 3
    assert got.loc["SYR-T005", "description"].endswith("<b>smugglers</b> fled back into Lebanon.")
    assert got.loc["LBN-T001", "source"] == "ACLED: wire reports of 16-17 March 2025 (AP; Reuters)"
    assert got.loc["LBN-T001", "location_note"] == (
        "ACLED location: Hermel, Hermel, Baalbek-Hermel; ACLED geo_precision 2"
    )
    assert (got.loc["LBN-T004"].geometry.x, got.loc["LBN-T004"].geometry.y) == (35.92405, 33.70287)


def test_geopackage_layer_is_read_and_reprojected(tmp_path):
    reference = gpd.read_file(SAMPLE)
    path = tmp_path / "colleague.gpkg"
    reference.to_crs(32637).to_file(path, layer="incidents")
    report = validate_file(path)
    assert report.format == "gpkg" and report.ok, report.to_text()
    np.testing.assert_allclose(
        shapely.get_coordinates(report.accepted.geometry),
        shapely.get_coordinates(reference.geometry),
        atol=1e-7,
    )
    assert report.accepted["date"].tolist() == reference["date"].astype("datetime64[ns]").tolist()
    assert any("reprojected" in p.reason for p in report.warnings)


def test_geopackage_polygon_is_rejected_not_turned_into_a_point(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["P"], "date": ["2025-03-16"], "type": ["clash"]},
        geometry=[shapely.Point(HERMEL).buffer(0.01)],
        crs=4326,
    )
    path = tmp_path / "areas.gpkg"
    frame.to_file(path)
    report = validate_file(path)
    assert report.rejected_indices == [0]
    assert "Polygon, not a Point" in report.errors[0].reason


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (b"SQLite format 3\x00", "x.bin", "gpkg"),
        (b'{"type":', "x", "geojson"),
        (b"a,b\n", "x", "csv"),
        (b"{}", "x.ndjson", "ndjson"),
        (b"{}", "x.csv", "csv"),
    ],
)
def test_detect_format(data, name, expected):
    assert detect_format(data, name) == expected


def _outcome(data: bytes, filename: str) -> None:
    try:
        raw = read_incident_file(data, filename=filename)
    except ValidationError as exc:
        assert exc.problems and all(p.reason and p.fix for p in exc.problems)
        return
    assert len(raw.lon) == len(raw.lat) == len(raw.properties)
    report = validate_file(data, filename=filename)  # and validation never raises either
    assert report.accepted_count + report.rejected_count == report.feature_count


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["x.geojson", "x.csv", "x.ndjson", "x.gpkg", "x"]))
def test_fuzz_any_bytes(data, filename):
    _outcome(data, filename)


@FUZZ
@given(json_values)
def test_fuzz_any_json_document(value):
    _outcome(json.dumps(value).encode(), "x.geojson")


@FUZZ
@given(
    st.lists(
        st.one_of(
            json_values,
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["Feature", "feature", "Point"]),
                    "properties": st.one_of(
                        st.none(),
                        st.dictionaries(
                            st.sampled_from(
                                [
                                    "id",
                                    "date",
                                    "type",
                                    "quantity",
                                    "fatalities",
                                    "description",
                                    "location_precision_m",
                                    "date_precision_days",
                                    "Type",
                                    "x",
                                ]
                            ),
                            json_values,
                            max_size=6,
                        ),
                    ),
                    "geometry": st.one_of(
                        json_values,
                        st.fixed_dictionaries(
                            {
                                "type": st.sampled_from(["Point", "Polygon"]),
                                "coordinates": st.one_of(
                                    json_values, st.lists(st.floats(), max_size=3)
                                ),
                            }
                        ),
                    ),
                }
            ),
        ),
        max_size=5,
    )
)
def test_fuzz_feature_collections(features):
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    _outcome(data, "x.geojson")


@FUZZ
@given(
    st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=6), max_size=6),
    st.sampled_from([",", ";"]),
)
def test_fuzz_csv(rows, sep):
    header = sep.join(["id", "date", "type", "lat", "lon"])
    text = "\n".join([header] + [sep.join(row) for row in rows])
    _outcome(text.encode("utf-8", "surrogatepass"), "x.csv")


@pytest.mark.parametrize("code", ["inf", "-inf", "1e400", "1.5", "4"])
def test_acled_precision_code_that_is_not_a_code_is_reported(code):
    header = "event_id_cnty,event_date,event_type,sub_event_type,latitude,longitude,geo_precision\n"
    row = f"LBN-X1,2025-03-16,Battles,Armed clash,34.39417,36.38472,{code}\n"
    raw = read_incident_file((header + row).encode(), filename="acled.csv")
    assert raw.format == "acled"
    assert [(p.index, p.feature_id, p.field, p.value) for p in raw.problems] == [
        (0, "LBN-X1", "geo_precision", code)
    ]
    assert "not an ACLED geo_precision code" in raw.problems[0].reason


# --- regressions of what benchmarks/fuzz_ingest.py found -------------------------------------


def _printable_everywhere(report) -> None:
    """What the CLI prints (text and JSON) and what the store keeps all encode as UTF-8."""
    report.to_text().encode("utf-8")
    json.dumps(report.to_dict(), ensure_ascii=False).encode("utf-8")
    for name in report.accepted.columns:
        if name != "geometry":
            for value in report.accepted[name]:
                if isinstance(value, str):
                    value.encode("utf-8")
                    assert "\x00" not in value


def test_fuzz_finding_a_file_name_with_a_lone_surrogate(tmp_path):
    # a name from a file system that is not UTF-8 reaches Python with a lone surrogate: the
    # report could not be printed, and the ids generated from the name crashed validation
    from geo.ingest import store_report
    from geo.store import open_store

    feature = {
        "type": "Feature",
        "properties": {"date": "2025-03-16", "type": "clash"},
        "geometry": {"type": "Point", "coordinates": list(HERMEL)},
    }
    report = validate_file(json.dumps(feature).encode(), filename="bad\udce9name.ndjson")
    assert report.ok
    assert report.filename == "bad\\udce9name.ndjson"
    assert report.accepted["id"].iloc[0].startswith("bad\\udce9name-")
    _printable_everywhere(report)
    store = open_store(tmp_path / "store.gpkg", create=True)
    store_report(store, report)
    assert store.audit()["source_file"].tolist() == ["bad\\udce9name.ndjson"]


def test_fuzz_finding_a_file_name_with_control_characters_is_printed_escaped():
    report = validate_file(b"{", filename="x\x1b[2Jy\n.geojson")
    assert report.filename == "x\\x1b[2Jy\\n.geojson"
    assert "\x1b" not in report.to_text()


@pytest.mark.parametrize(
    ("where", "field"),
    [
        ('"id": "T\\udc00-1"', "id"),  # crashed pandas' text conversion
        ('"type": "clash\\ud800"', "type"),
        ('"description": "\\ud800\\u0000"', "description"),
    ],
)
def test_fuzz_finding_a_lone_surrogate_in_a_value_rejects_that_field(where, field):
    base = {"id": '"T-1"', "date": '"2025-03-16"', "type": '"clash"'}
    props = ", ".join([f'"{k}": {v}' for k, v in base.items() if k != field] + [where])
    text = (
        f'{{"type": "Feature", "properties": {{{props}}}, '
        '"geometry": {"type": "Point", "coordinates": [36.38, 34.39]}}'
    )
    report = validate_file(text.encode(), filename="x.geojson")
    assert [(p.index, p.field) for p in report.errors] == [(0, field)]  # one message
    assert "lone surrogate" in report.errors[0].reason
    _printable_everywhere(report)


def test_a_lone_surrogate_in_the_features_own_id_is_refused_too():
    text = (
        '{"type": "Feature", "id": "F\\ud800", "properties": {"date": "2025-03-16", '
        '"type": "clash"}, "geometry": {"type": "Point", "coordinates": [36.38, 34.39]}}'
    )
    report = validate_file(text.encode(), filename="x.ndjson")
    assert [(p.field, p.value) for p in report.errors] == [("id", "F\\ud800")]
    _printable_everywhere(report)


def test_fuzz_finding_a_lone_surrogate_in_a_property_name_is_printable():
    # the ignored property's name went into a warning that JSON output could not encode
    text = (
        '{"type": "Feature", "properties": {"id": "T-1", "date": "2025-03-16", "type": '
        '"clash", "location\\udc00_precision_m": 10000}, '
        '"geometry": {"type": "Point", "coordinates": [36.38, 34.39]}}'
    )
    report = validate_file(text.encode(), filename="x.geojson")
    assert report.accepted_count == 1
    [warning] = [p for p in report.warnings if p.field == "properties"]
    assert warning.value == "location\\udc00_precision_m"
    _printable_everywhere(report)


def test_a_nul_in_text_is_refused_not_stored_cut_short():
    feature = {
        "type": "Feature",
        "properties": {"id": "N-1", "date": "2025-03-16", "type": "clash", "unit": "kg\x00x"},
        "geometry": {"type": "Point", "coordinates": list(HERMEL)},
    }
    report = validate_file(json.dumps(feature).encode(), filename="x.geojson")
    assert [(p.field, p.value) for p in report.errors] == [("unit", "kg\\x00x")]
    assert "NUL character" in report.errors[0].reason


def _one(geometry: dict) -> bytes:
    feature = {
        "type": "Feature",
        "properties": {"id": "G-1", "date": "2025-03-16", "type": "clash"},
        "geometry": geometry,
    }
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def test_a_multipoint_of_one_point_is_read_as_that_point_with_a_warning():
    report = validate_file(_one({"type": "MultiPoint", "coordinates": [list(HERMEL)]}))
    point = report.accepted.geometry.iloc[0]
    assert (point.geom_type, point.x, point.y) == ("Point", *HERMEL)
    assert "a MultiPoint of one point was read as that Point" in [
        p.reason for p in report.warnings if p.index is None
    ]


@pytest.mark.parametrize(
    ("geometry", "reason", "fix"),
    [
        (
            {"type": "MultiPoint", "coordinates": [list(HERMEL), list(QUSAYR)]},
            "the geometry is a MultiPoint of 2 points, not a Point: an incident is one place",
            "split it into one Feature per Point, each with its own id",
        ),
        (
            {"type": "MultiPoint", "coordinates": []},
            "the MultiPoint is empty: it has no point",
            "give the incident a Point at the reported place",
        ),
        (
            {
                "type": "GeometryCollection",
                "geometries": [{"type": "Point", "coordinates": [1, 2]}],
            },
            "the geometry is a GeometryCollection of 1 geometry, not a Point",
            "split it into one Feature per Point, each with its own id (lines and polygons",
        ),
    ],
)
def test_several_points_or_a_collection_are_refused_with_how_to_split_them(geometry, reason, fix):
    report = validate_file(_one(geometry))
    [problem] = report.errors
    assert (problem.index, problem.feature_id, problem.field) == (0, "G-1", "geometry")
    assert problem.reason.startswith(reason) and problem.fix.startswith(fix)


def test_a_multipoint_of_one_point_is_read_as_that_point_in_a_geopackage(tmp_path):
    frame = gpd.GeoDataFrame(
        {"id": ["M-1", "M-2", "M-3"], "date": ["2025-03-16"] * 3, "type": ["clash"] * 3},
        geometry=[
            shapely.MultiPoint([HERMEL]),
            shapely.MultiPoint([HERMEL, QUSAYR]),
            shapely.MultiPoint(),
        ],
        crs=4326,
    )
    path = tmp_path / "multi.gpkg"
    frame.to_file(path)
    report = validate_file(path)
    assert report.accepted["id"].tolist() == ["M-1"]
    point = report.accepted.geometry.iloc[0]
    assert (point.geom_type, point.x, point.y) == ("Point", *HERMEL)
    reasons = {p.feature_id: p.reason for p in report.errors}
    assert "MultiPoint of 2 points" in reasons["M-2"]
    assert "the MultiPoint is empty" in reasons["M-3"]
    assert any("MultiPoint of one point" in p.reason for p in report.warnings)


def _raw_feature(props: str, *, geometry: str = '{"type": "Point", "coordinates": [36.38, 34.39]}'):
    return (
        f'{{"type": "FeatureCollection", "features": [{{"type": "Feature", "properties": '
        f'{{"id": "K", "date": "2025-03-16", {props}}}, "geometry": {geometry}}}]}}'
    ).encode()


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (
            _raw_feature('"type": "clash", "type": "seizure"'),
            "type",
            "the property 'type' is given twice: which value is meant is ambiguous",
        ),
        (
            _raw_feature(
                '"type": "clash"',
                geometry='{"type": "Point", "coordinates": [36.38, 34.39], "coordinates": [0, 0]}',
            ),
            "geometry",
            "the geometry gives 'coordinates' twice",
        ),
        (_raw_feature('"type": "clash", "fatalities": NaN'), "fatalities", "NaN is not a JSON"),
        (
            _raw_feature('"type": "clash", "location_precision_m": -Infinity'),
            "location_precision_m",
            "-Infinity is not a JSON number (RFC 8259 has no NaN or Infinity)",
        ),
    ],
)
def test_what_json_loads_hides_rejects_the_feature_naming_the_field(data, field, reason):
    report = validate_file(data, filename="x.geojson")
    [problem] = report.errors  # one message, not also 'type is missing' or the like
    assert (problem.index, problem.feature_id, problem.field) == (0, "K", field)
    assert problem.reason.startswith(reason)


def test_a_member_of_the_feature_given_twice_rejects_it():
    text = (
        '{"type": "Feature", "properties": {"id": "K", "date": "2025-03-16", "type": "clash"}, '
        '"geometry": {"type": "Point", "coordinates": [36.38, 34.39]}, "geometry": null}'
    )
    report = validate_file(text.encode(), filename="x.ndjson")
    [problem] = report.errors
    assert problem.field == "geometry"
    assert problem.reason.startswith("the member 'geometry' is given twice in this Feature")


def test_a_duplicated_top_level_member_rejects_the_file():
    text = '{"type": "FeatureCollection", "features": [], "features": []}'
    report = validate_file(text.encode(), filename="x.geojson")
    assert report.file_rejected
    assert report.errors[0].reason.startswith("the member 'features' is given twice")


def test_a_key_repeated_among_unknown_properties_is_not_a_problem():
    report = validate_file(_raw_feature('"type": "clash", "note": 1, "note": 2'))
    assert report.accepted_count == 1 and not report.errors


def test_nothing_odd_in_a_file_means_no_second_look():
    from geo.readers.common import _loads

    value, oddities = _loads('{"a": {"b": 1.5, "c": [1, "\\u00e9"]}}', max_depth=32)
    assert value == {"a": {"b": 1.5, "c": [1, "é"]}}
    assert not oddities


BIG = "1" + "0" * 400  # an integer JSON allows and no float holds


@pytest.mark.parametrize("field", ["quantity", "fatalities", "location_precision_m"])
@pytest.mark.parametrize("number", [BIG, "-" + BIG, "1e400"])
def test_a_number_too_large_for_a_float_is_refused_as_infinite(field, number):
    # a 400-digit integer crashed validation (OverflowError converting to float)
    report = validate_file(_raw_feature(f'"type": "clash", "{field}": {number}'))
    [problem] = report.errors
    assert problem.field == field
    assert problem.reason.endswith("(it is infinite: a number too large, such as 1e400)")


@pytest.mark.parametrize("name", ["x.geojson", "x.ndjson"])
def test_coordinates_too_large_for_a_float_are_refused_not_a_crash(name):
    data = _raw_feature(
        '"type": "clash"', geometry=f'{{"type": "Point", "coordinates": [{BIG}, 34]}}'
    )
    if name.endswith(".ndjson"):
        data = json.dumps(json.loads(data)["features"][0]).encode()
    report = validate_file(data, filename=name)
    [problem] = report.errors
    assert problem.field == "geometry"
    assert problem.reason == "the coordinates are not finite numbers (too large for a number)"


@FUZZ
@given(
    st.sampled_from([magic for magic, _, _ in MAGIC_NUMBERS]),
    st.binary(max_size=200),
    st.sampled_from(["x.geojson", "x.csv", "x.gpkg", "x.ndjson", "x"]),
)
def test_fuzz_binary_files_are_named_for_what_they_are(magic, tail, name):
    report = validate_file(magic + tail, filename=name)
    assert report.file_rejected
    assert re.match(r"the file is (a|an) ", report.errors[0].reason), report.errors[0]


@pytest.mark.parametrize(
    ("head", "name", "reason", "fix"),
    [
        (
            b"\x89PNG\r\n\x1a\n",
            "map.geojson",
            "the file is a PNG image, not an incident file: its name ends '.geojson'",
            "upload the incident file itself",
        ),
        (
            b"PK\x03\x04",
            "incidents.csv",
            "the file is a ZIP archive (a .xlsx, .docx, .kmz or zipped shapefile is one too)",
            "unzip it and upload the GeoJSON, CSV or GeoPackage inside",
        ),
        (b"%PDF-1.7", "x.gpkg", "the file is a PDF document, not a GeoPackage", "upload the"),
    ],
)
def test_an_image_or_archive_renamed_is_named_for_what_it_is(head, name, reason, fix):
    report = validate_file(head + b"\x00" * 64, filename=name)
    [problem] = report.errors
    assert problem.index is None and problem.field == "file"
    assert problem.reason.startswith(reason) and problem.fix.startswith(fix)


def _damaged_geopackage(tmp_path) -> bytes:
    frame = gpd.GeoDataFrame(
        {
            "id": [f"D-{i}" for i in range(300)],
            "date": ["2025-03-16"] * 300,
            "type": ["clash"] * 300,
        },
        geometry=[shapely.Point(HERMEL)] * 300,
        crs=4326,
    )
    path = tmp_path / "good.gpkg"
    frame.to_file(path)
    return path.read_bytes()


def test_a_geopackage_cut_short_is_refused_as_damaged(tmp_path):
    data = _damaged_geopackage(tmp_path)
    report = validate_file(data[: len(data) // 2], filename="cut.gpkg")
    [problem] = report.errors
    assert problem.reason.startswith("not a readable GeoPackage: SQLite cannot read it")
    assert "/tmp" not in str(problem) and "tmp" not in problem.value  # no temporary path


def test_a_geopackage_with_a_page_overwritten_is_refused_not_read_in_part(tmp_path):
    # GDAL read such a file and accepted what it could; SQLite's quick check refuses it
    data = bytearray(_damaged_geopackage(tmp_path))
    page = 4096
    data[5 * page : 6 * page] = bytes((i * 37) % 256 for i in range(page))
    report = validate_file(bytes(data), filename="damaged.gpkg")
    assert report.file_rejected
    assert report.errors[0].reason.startswith("not a readable GeoPackage")


def test_an_sqlite_database_that_is_not_a_geopackage_says_so(tmp_path):
    import sqlite3

    path = tmp_path / "plain.gpkg"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE incidents (id TEXT, date TEXT, type TEXT)")
    report = validate_file(path)
    assert report.errors[0].reason.startswith(
        "not a readable GeoPackage: an SQLite database without the GeoPackage tables"
    )
    assert report.errors[0].value == "incidents"


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("event_id_cnty,event_type,latitude,longitude", "event_date"),
        ("event_id_cnty,event_type,event_date", "latitude, longitude"),
        ("event_id_cnty,event_type,notes", "event_date, latitude, longitude"),
    ],
)
def test_an_acled_export_without_its_required_columns_is_refused_as_a_whole(header, missing):
    # without event_date every row was refused on its own ('the date is missing' each time)
    row = ",".join(["LBN-1", "Battles", "34.39", "36.38"][: len(header.split(","))])
    report = validate_file(f"{header}\n{row}\n".encode(), filename="acled.csv")
    [problem] = report.errors
    assert (problem.index, problem.field, problem.value) == (None, "header", missing)
    assert problem.reason.startswith(f"the ACLED export lacks its required column(s) {missing}")


def test_a_ten_megabyte_field_is_refused_fast_naming_the_limit():
    import time
    import tracemalloc

    description = "x" * (10 * 2**20)
    data = _raw_feature(f'"type": "clash", "description": "{description}"')
    tracemalloc.start()
    start = time.perf_counter()
    report = validate_file(data, filename="big.geojson")
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert seconds < 10  # about 0.2 s here; generous for a shared machine
    assert peak < 8 * len(data)  # the bytes, the text and the parsed string: no copy a row
    [problem] = report.errors
    assert (problem.field, problem.feature_id) == ("description", "K")
    assert problem.reason == (
        "description is longer than the limit of 10,000 characters "
        f"(geo.schema.MAX_TEXT_LENGTH): it has {len(description):,}"
    )
    assert len(problem.value) <= 80 and len(report.to_text()) < 2_000  # never echoed whole


def test_too_deep_json_says_so_not_that_it_is_invalid():
    # the depth error (a ValueError too) was caught and re-raised as 'not valid JSON; fix:
    # export the file again', the real reason left in the value
    report = validate_file(DATA / "bad" / "too_deep.geojson")
    [problem] = report.errors
    assert problem.reason == "JSON nested deeper than the limit of 32 levels"
    assert problem.value == "depth 44"
    assert problem.fix.startswith("incidents need only FeatureCollection > Feature > properties")


# --- hypothesis over odd JSON: parser oddities, escapes, geometries, BOM, CRLF, names ------

#: Raw JSON values a property may hold, as written in the file.
ODD_VALUES = [
    '"text"', '"<img src=x onerror=alert(1)>"', "NaN", "Infinity", "-Infinity", "1e400",
    "-1e400", BIG, '"\\u0000"', '"a\\u0000b"', '"\\ud800"', '"x\\udc00"', '"\\ud83d\\ude00"',
    "[1, 2]", '{"a": 1}', "[]", "{}", "null", "true", "-0", "0.5", "12", '"2025-03-16"',
    '"clash"', '""', '"  "',
]  # fmt: skip
ODD_GEOMETRIES = [
    '{"type": "Point", "coordinates": [36.38472, 34.39417]}',
    '{"type": "Point", "coordinates": [NaN, 34.39417]}',
    '{"type": "Point", "coordinates": [1e400, 34.39417]}',
    '{"type": "Point", "coordinates": [' + BIG + ", 34.39417]}",
    '{"type": "Point", "coordinates": [36.38472, 34.39417], "coordinates": [0, 0]}',
    '{"type": "MultiPoint", "coordinates": []}',
    '{"type": "MultiPoint", "coordinates": [[36.38472, 34.39417]]}',
    '{"type": "MultiPoint", "coordinates": [[36.38472, 34.39417], [36.58029, 34.5078]]}',
    '{"type": "MultiPoint", "coordinates": [["36.3", "34.3"]]}',
    '{"type": "GeometryCollection", "geometries": []}',
    '{"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [36, 34]}]}',
    '{"type": "Point\\u0000", "coordinates": [36.38472, 34.39417]}',
    "null",
]  # fmt: skip
FIELDS = [
    "id", "date", "type", "description", "source", "location_note", "actor1", "actor2",
    "commodity", "unit", "quantity", "fatalities", "location_precision_m",
    "date_precision_days", "Type", "x", "x\\ud800", "desc\\u0000ription",
]  # fmt: skip
NAMES = [
    "x.geojson", "x.ndjson", "x.json", "<img src=x onerror=alert(1)>.geojson",
    "bad\udce9name.geojson", "x\x1b[2J.geojson", "${alert(1)}.json",
]  # fmt: skip


@st.composite
def odd_documents(draw) -> tuple[str, bool]:
    """A FeatureCollection (or newline-delimited Features) written with odd values."""
    features = []
    for i in range(draw(st.integers(1, 3))):
        items = [f'"id": "O-{i}"', '"date": "2025-03-16"', '"type": "clash"']
        for _ in range(draw(st.integers(0, 3))):
            field = draw(st.sampled_from(FIELDS))
            items.append(f'"{field}": {draw(st.sampled_from(ODD_VALUES))}')  # may repeat a key
        geometry = draw(st.sampled_from(ODD_GEOMETRIES))
        extra = draw(
            st.sampled_from(["", ', "type": "Feature"', ', "id": NaN', ', "id": "\\ud800"'])
        )
        features.append(
            f'{{"type": "Feature"{extra}, "properties": {{{", ".join(items)}}}, '
            f'"geometry": {geometry}}}'
        )
    if draw(st.booleans()):
        return "\n".join(features) + "\n", True
    return '{"type": "FeatureCollection", "features": [\n' + ",\n".join(features) + "\n]}", False


@FUZZ
@given(odd_documents(), st.sampled_from(NAMES), st.booleans(), st.booleans())
def test_fuzz_odd_json_gives_one_message_a_field_and_printable_reports(doc, name, bom, crlf):
    text, newline_delimited = doc
    if newline_delimited:
        name = name.rsplit(".", 1)[0] + ".ndjson"
    data = (b"\xef\xbb\xbf" if bom else b"") + text.replace("\n", "\r\n" if crlf else "\n").encode(
        "utf-8", "surrogatepass"
    )
    _outcome(data, name)
    report = validate_file(data, filename=name)
    _printable_everywhere(report)
    errors = [(p.index, p.field) for p in report.errors if p.index is not None]
    assert len(errors) == len(set(errors)), report.to_text()  # one message a field
    plain = validate_file(text.encode("utf-8", "surrogatepass"), filename=name)
    assert report.problems == plain.problems  # a BOM and CRLF change nothing
    assert report.accepted.drop(columns="geometry").equals(plain.accepted.drop(columns="geometry"))
