"""Validation: the bad-input corpus, every problem at once, region, swaps, duplicates, text."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import settings
from geo.errors import ConfigurationError
from geo.ingest import open_seeded_store, validate_file
from geo.validation import ValidationOptions, suggest_type
from layers.reference import ReferenceLayers

DATA = Path(__file__).parent / "data"
CASES = json.loads((DATA / "bad" / "cases.json").read_text(encoding="utf-8"))
HERMEL = (36.38472, 34.39417)
#: Where the bundled record codes the Hermel-district border villages (Wikipedia "Lebanon–Syria
#: border": the border cuts the Orontes at 34.455°N 36.490°E); S-2025-03-16-HERMEL is there.
ORONTES = (36.49, 34.455)


@pytest.fixture(scope="module")
def border():
    """The bundled border line, as the entry points pass it to validation."""
    return ReferenceLayers.bundled().line


def _case_id(case):
    return f"{case['file']}-{case['severity']}-{case['index']}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_bad_corpus_reports_the_expected_problem(case, border):
    options = dict(case.get("options", {}))
    existing = open_seeded_store() if options.pop("against_store", False) else None
    policy = options.pop("outside_region", None)
    report = validate_file(
        DATA / "bad" / case["file"],
        existing=existing,
        border=border,
        options=ValidationOptions(outside_region=policy) if policy else None,
        **options,
    )
    found = [
        p
        for p in report.problems
        if p.index == case["index"]
        and p.field == case["field"]
        and p.severity == case["severity"]
        and re.search(case["match"], str(p))
    ]
    assert found, f"expected {case}; got:\n" + "\n".join(map(str, report.problems))
    problem = found[0]
    assert problem.reason and problem.fix
    assert "np." not in str(problem)  # values read as the analyst wrote them
    if case["severity"] == "error":
        assert report.errors and not report.ok
        if case["index"] is None:
            assert report.file_rejected and report.accepted_count == 0
        else:
            assert case["index"] in report.rejected_indices
            assert problem.feature_id or case["field"] == "line"  # names the feature
    elif not report.errors:
        assert case["index"] not in report.rejected_indices
        assert report.accepted_count >= 1


def test_every_corpus_file_has_a_case_and_every_case_a_file():
    files = {p.name for p in (DATA / "bad").iterdir()} - {"cases.json"}
    assert files == {c["file"] for c in CASES}


def _fc(*features):
    return json.dumps({"type": "FeatureCollection", "features": list(features)}).encode()


def _feature(fid, lon=HERMEL[0], lat=HERMEL[1], **props):
    base = {"id": fid, "date": "2025-03-16", "type": "clash"}
    base.update(props)
    return {
        "type": "Feature",
        "properties": base,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
    }


def test_every_problem_of_every_feature_is_reported_at_once():
    data = _fc(
        _feature("A", type="seizures", date="yesterday", fatalities=-2),
        _feature("B"),
        _feature("C", lon=200.0, quantity="a lot"),
    )
    report = validate_file(data, filename="many.geojson")
    by_feature = {}
    for p in report.errors:
        by_feature.setdefault(p.index, set()).add(p.field)
    assert by_feature == {0: {"type", "date", "fatalities"}, 2: {"geometry", "quantity"}}
    assert report.rejected_indices == [0, 2]
    assert report.accepted["id"].tolist() == ["B"]
    assert report.to_dict()["rejected_count"] == 2


def test_region_distance_is_measured_in_metres_against_geod(border):
    # a point due east of the border's end at Hermon: distance checked against pyproj.Geod
    lon, lat = 36.9, 33.0
    report = validate_file(
        _fc(_feature("E", lon=lon, lat=lat)), filename="e.geojson", border=border
    )
    problem = next(p for p in report.problems if p.field == "geometry")
    km = float(re.search(r"([\d.]+) km from the border", problem.reason).group(1))
    vertices = shapely.get_coordinates(shapely.segmentize(border, 0.0005))  # about 50 m
    n = len(vertices)
    _, _, metres = Geod(ellps="WGS84").inv(
        np.full(n, lon), np.full(n, lat), vertices[:, 0], vertices[:, 1]
    )
    assert km == pytest.approx(metres.min() / 1000, abs=0.2)


def test_region_limit_and_policy_are_configurable(border):
    far = _fc(_feature("F", lon=35.9106, lat=31.9539))  # Amman
    assert validate_file(far, filename="f.geojson", border=border).rejected_count == 1
    wide = ValidationOptions(region_distance_m=400_000)
    assert validate_file(far, filename="f.geojson", options=wide, border=border).accepted_count == 1
    with pytest.raises(ConfigurationError, match="outside_region='drop' is not allowed"):
        ValidationOptions(outside_region="drop")


def test_without_a_border_the_region_is_not_checked_and_the_report_says_so():
    far = _fc(_feature("F", lon=35.9106, lat=31.9539))  # Amman: outside the region
    report = validate_file(far, filename="f.geojson")
    assert report.accepted_count == 1
    assert [(p.field, p.reason) for p in report.warnings if p.index is None] == [
        ("region", "the border line is not available: the distance to the border was not checked")
    ]


def test_a_store_and_a_frame_of_its_incidents_give_the_same_report(border):
    store = open_seeded_store()  # seeded: S-2025-03-16-HERMEL is a clash at the Orontes point
    data = _fc(
        _feature("S-2025-03-16-HERMEL"),  # stored already
        _feature("E", lon=ORONTES[0], lat=ORONTES[1] + 0.005),  # a likely duplicate of it
        _feature("F", type="shelling"),
    )
    against_store = validate_file(data, filename="x.geojson", existing=store, border=border)
    frame = store.read()
    against_frame = validate_file(data, filename="x.geojson", existing=frame, border=border)
    assert against_store.problems == against_frame.problems
    assert [p.feature_id for p in against_store.errors] == ["S-2025-03-16-HERMEL"]
    assert any("(stored)" in p.reason for p in against_store.warnings)


def test_region_check_uses_a_given_border():
    line = shapely.LineString([(36.0, 34.0), (36.0, 34.5)])
    inside = _fc(_feature("G", lon=36.3, lat=34.2))  # about 28 km east of the line
    assert validate_file(inside, filename="g.geojson", border=line).accepted_count == 1
    narrow = ValidationOptions(region_distance_m=20_000)
    report = validate_file(inside, filename="g.geojson", border=line, options=narrow)
    assert report.rejected_count == 1
    assert re.search(r"2[78]\.\d km from the border \(limit 20 km\)", report.errors[0].reason)


def test_legacy_crs_is_reprojected_when_recognised():
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, 32637, always_xy=True).transform(*HERMEL)
    doc = json.loads(_fc(_feature("U", lon=x, lat=y)))
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32637"}}
    report = validate_file(json.dumps(doc).encode(), filename="utm.geojson")
    assert report.accepted_count == 1
    point = report.accepted.geometry.iloc[0]
    np.testing.assert_allclose([point.x, point.y], HERMEL, atol=1e-7)
    assert any("reprojected from WGS 84 / UTM zone 37N" in p.reason for p in report.warnings)


def test_future_dates_follow_the_given_today():
    data = _fc(_feature("D", date="2025-03-16"))
    early = ValidationOptions(today=dt.date(2025, 3, 15))
    assert validate_file(data, filename="d.geojson", options=early).rejected_count == 1
    on_the_day = ValidationOptions(today=dt.date(2025, 3, 16))
    assert validate_file(data, filename="d.geojson", options=on_the_day).rejected_count == 0


def test_partial_dates_and_missing_precisions_get_documented_defaults():
    data = _fc(
        _feature("M", date="2025-03"),
        _feature("Y", date="2024", lon=36.58029, lat=34.5078),
        _feature("T", date="2025-03-16T23:30:00+02:00", location_precision_m=250),
    )
    accepted = validate_file(data, filename="p.geojson").accepted.set_index("id")
    assert accepted.loc["M", "date"] == np.datetime64("2025-03-01")
    assert accepted.loc["M", "date_precision_days"] == 31
    assert accepted.loc["Y", "date_precision_days"] == 366
    assert accepted.loc["T", "date"] == np.datetime64("2025-03-16")
    assert accepted.loc["T", "date_precision_days"] == settings.DEFAULT_DATE_PRECISION_DAYS
    assert accepted.loc["T", "location_precision_m"] == 250
    assert accepted.loc["M", "location_precision_m"] == settings.DEFAULT_LOCATION_PRECISION_M


def test_missing_ids_are_generated_stably():
    data = _fc(_feature(None), _feature(None, date="2025-03-10"))
    first = validate_file(data, filename="notes.geojson").accepted["id"].tolist()
    again = validate_file(data, filename="notes.geojson").accepted["id"].tolist()
    assert first == again and len(set(first)) == 2
    assert all(i.startswith("notes-") for i in first)


def test_html_and_script_are_kept_verbatim_as_text():
    payload = "<img src=x onerror=alert(1)> ${alert(2)} `x` <script>alert(3)</script>"
    report = validate_file(
        _fc(_feature("H", description=payload, source=payload)), filename="h.geojson"
    )
    assert report.accepted.loc[0, "description"] == payload
    assert report.accepted.loc[0, "source"] == payload


def test_likely_duplicate_against_the_store_names_the_stored_incident():
    store = open_seeded_store()  # seeded: S-2025-03-16-HERMEL is a clash at the Orontes point
    report = validate_file(
        _fc(_feature("NEW", lon=ORONTES[0], lat=ORONTES[1])), filename="n.geojson", existing=store
    )
    assert report.accepted_count == 1
    assert any(
        "S-2025-03-16-HERMEL (stored)" in p.reason and p.severity == "warning"
        for p in report.problems
    )


def test_likely_duplicates_need_same_type_and_close_dates():
    data = _fc(
        _feature("A"),
        _feature("B", type="arrest"),
        _feature("C", date="2025-03-20"),
    )
    report = validate_file(data, filename="x.geojson")
    assert not [p for p in report.warnings if "likely duplicate" in p.reason]


def test_likely_duplicates_are_listed_in_file_order_then_stored():
    # 0.005 deg of latitude is about 555 m: D and E are near each other and near the stored
    # clashes of 16-17 March 2025 at the Orontes point (S-2025-03-16-HERMEL and two reports
    # of the next day); F, a shelling, matches only the stored shelling
    lon, lat = ORONTES
    data = _fc(
        _feature("F", lon=lon, lat=lat, type="shelling"),
        _feature("E", lon=lon, lat=lat + 0.005),
        _feature("D", lon=lon, lat=lat),
        _feature("G", lon=lon + 0.05, lat=lat),  # about 4.6 km east: not a duplicate
    )
    report = validate_file(data, filename="x.geojson", existing=open_seeded_store())
    stored_clashes = (
        "S-2025-03-16-HERMEL (stored), R-2025-03-17-HERMEL-CLASH (stored), "
        "R-2025-03-17-HSA-CLASH (stored)"
    )
    found = {
        p.feature_id: p.reason.split(" of ", 1)[1]
        for p in report.warnings
        if "likely duplicate" in p.reason
    }
    assert found == {
        "F": "S-2025-03-17-SHELLING (stored)",  # the seeded shelling the next day
        "E": f"D, {stored_clashes}",
        "D": f"E, {stored_clashes}",
    }


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("seizures", "seizure"), ("Clashes", "clash"), ("shelled", "shelling"), ("zzz", "other")],
)
def test_suggest_type(typed, expected):
    assert suggest_type(typed) == expected


def test_types_are_case_insensitive():
    report = validate_file(_fc(_feature("K", type=" Seizure ")), filename="k.geojson")
    assert report.accepted["type"].tolist() == ["seizure"]


@pytest.mark.parametrize("enabled", [True, False])
def test_validate_file_restores_the_garbage_collector(enabled):
    import gc

    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        report = validate_file(DATA / "bad" / "bad_date.geojson")
        assert report.feature_count > 0
        assert gc.isenabled() is enabled
        validate_file(b"not json", filename="x.geojson")  # a rejected file restores it too
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
