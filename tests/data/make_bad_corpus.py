"""Write the bad-input corpus ``tests/data/bad/`` and its index ``cases.json``.

Run from the repository root: ``python tests/data/make_bad_corpus.py``. Every
coordinate is a real place: Hermel and Qusayr at their GeoNames points (as in the sample
bundled before issue 15),
Amman (Jordan) for a point outside the region, and Hermel again projected to UTM 37N,
swapped or pushed out of range for the coordinate cases.
"""

import json
import pathlib

from pyproj import Transformer

bad = pathlib.Path(__file__).parent / "bad"
HERMEL = [36.38472, 34.39417]
QUSAYR = [36.58029, 34.5078]
AMMAN = [35.9106, 31.9539]
cases = []


def props(**kw):
    p = {
        "id": "T-1",
        "date": "2025-03-16",
        "type": "clash",
        "description": "test case",
        "location_precision_m": 10000,
        "source": "test corpus",
    }
    p.update(kw)
    return p


def feat(coords=HERMEL, geometry=None, **kw):
    g = geometry if geometry is not None else {"type": "Point", "coordinates": coords}
    return {"type": "Feature", "properties": props(**kw), "geometry": g}


def fc(*features, **extra):
    return {"type": "FeatureCollection", **extra, "features": list(features)}


def dump(name, obj):
    (bad / name).write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def case(file, match, *, field, index=None, severity="error", **options):
    item = {"file": file, "index": index, "field": field, "severity": severity, "match": match}
    if options:
        item["options"] = options
    cases.append(item)


def main():
    bad.mkdir(exist_ok=True)
    (bad / "not_json.geojson").write_text(
        '{"type": "FeatureCollection", "features": [\n  {"type": "Feature",\n', encoding="utf-8"
    )
    case("not_json.geojson", r"not JSON: .* line 3", field="file")
    dump("not_geojson.json", {"name": "incidents", "rows": [1, 2]})
    case("not_geojson.json", r"not GeoJSON", field="type")
    (bad / "empty.geojson").write_bytes(b"")
    case("empty.geojson", r"the file is empty", field="file")
    (bad / "whitespace.geojson").write_bytes(b"  \n\n ")
    case("whitespace.geojson", r"the file is empty", field="file")
    text = json.dumps(fc(feat(description="XX"))).replace("XX", "caf\udce9")
    (bad / "not_utf8.geojson").write_bytes(text.encode("utf-8", "surrogateescape"))
    case("not_utf8.geojson", r"not UTF-8: byte 0xe9", field="file")
    (bad / "utf16.geojson").write_bytes(json.dumps(fc(feat())).encode("utf-16"))
    case("utf16.geojson", r"UTF-16, not UTF-8", field="file")
    nested = 0
    for _ in range(40):
        nested = [nested]
    dump("too_deep.geojson", fc(feat(description=nested)))
    case("too_deep.geojson", r"nested deeper than the limit of 32", field="file")
    dump("too_large.geojson", fc(feat()))
    case("too_large.geojson", r"larger than the limit of 0.0002 MB", field="file", max_bytes=200)
    dump(
        "too_many_features.geojson",
        fc(feat(id="T-1"), feat(id="T-2", coords=QUSAYR), feat(id="T-3", date="2025-02-07")),
    )
    case(
        "too_many_features.geojson",
        r"3 features, more than the limit of 2",
        field="features",
        max_features=2,
    )
    dump("bare_geometry.geojson", {"type": "Point", "coordinates": HERMEL})
    case("bare_geometry.geojson", r"bare Point geometry", field="type")
    dump(
        "geometry_missing.geojson",
        fc({"type": "Feature", "properties": props(), "geometry": None}),
    )
    case("geometry_missing.geojson", r"geometry is missing", field="geometry", index=0)
    ring = [[36.35, 34.37], [36.42, 34.37], [36.42, 34.42], [36.35, 34.37]]
    dump("polygon.geojson", fc(feat(geometry={"type": "Polygon", "coordinates": [ring]})))
    case(
        "polygon.geojson",
        r"is a Polygon, not a Point \(it is not turned into a point",
        field="geometry",
        index=0,
    )
    dump(
        "coordinates_missing.geojson",
        fc(feat(geometry={"type": "Point", "coordinates": []})),
    )
    case(
        "coordinates_missing.geojson",
        r"no \[longitude, latitude\] coordinates",
        field="geometry",
        index=0,
    )
    dump(
        "coordinates_text.geojson",
        fc(feat(geometry={"type": "Point", "coordinates": ["36.38", "34.39"]})),
    )
    case("coordinates_text.geojson", r"coordinates are not numbers", field="geometry", index=0)
    dump("coordinates_nan.geojson", fc(feat(coords=[float("nan"), HERMEL[1]])))
    case("coordinates_nan.geojson", r"not finite numbers", field="geometry", index=0)
    dump("coordinates_infinite.geojson", fc(feat(coords=[float("inf"), HERMEL[1]])))
    case("coordinates_infinite.geojson", r"not finite numbers", field="geometry", index=0)
    dump("out_of_range.geojson", fc(feat(coords=[HERMEL[0], HERMEL[1] + 100])))
    case(
        "out_of_range.geojson",
        r"out of range \(longitude -180..180, latitude -90..90\)",
        field="geometry",
        index=0,
    )
    x, y = Transformer.from_crs(4326, 32637, always_xy=True).transform(*HERMEL)
    utm = [round(x, 1), round(y, 1)]
    dump("projected_no_crs.geojson", fc(feat(coords=utm)))
    case(
        "projected_no_crs.geojson",
        r"look like projected metres but the file declares no CRS",
        field="geometry",
        index=0,
    )
    unknown = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::999999"}}
    dump("crs_unknown.geojson", fc(feat(coords=utm), crs=unknown))
    case("crs_unknown.geojson", r"names a CRS that is not recognised", field="crs")
    linked = {"type": "link", "properties": {"href": "http://example.com/crs", "type": "proj4"}}
    dump("crs_linked.geojson", fc(feat(), crs=linked))
    case("crs_linked.geojson", r"not a named CRS", field="crs")
    dump("latlon_swapped.geojson", fc(feat(coords=[HERMEL[1], HERMEL[0]])))
    case(
        "latlon_swapped.geojson",
        r"swapped, \[36.38472, 34.39417\] is within 50 km",
        field="geometry",
        index=0,
        severity="warning",
    )
    case("latlon_swapped.geojson", r"outside the monitored region", field="geometry", index=0)
    dump("outside_region.geojson", fc(feat(coords=AMMAN)))
    case(
        "outside_region.geojson",
        r"outside the monitored region: 1\d\d\.\d km from the border \(limit 50 km\)",
        field="geometry",
        index=0,
    )
    case(
        "outside_region.geojson",
        r"outside the monitored region",
        field="geometry",
        index=0,
        severity="warning",
        outside_region="warn",
    )
    dump("unknown_type.geojson", fc(feat(type="seizures")))
    case("unknown_type.geojson", r"unknown type .* did you mean 'seizure'\?", field="type", index=0)
    dump("type_missing.geojson", fc(feat(type=None)))
    case("type_missing.geojson", r"the type is missing", field="type", index=0)
    dump("bad_date.geojson", fc(feat(date="16/03/2025")))
    case(
        "bad_date.geojson",
        r"not an ISO 8601 date; fix: write it as YYYY-MM-DD",
        field="date",
        index=0,
    )
    dump("future_date.geojson", fc(feat(date="2999-01-01")))
    case("future_date.geojson", r"the date is in the future", field="date", index=0)
    dump("date_missing.geojson", fc(feat(date=None)))
    case("date_missing.geojson", r"the date is missing", field="date", index=0)
    dump(
        "duplicate_id.geojson",
        fc(feat(id="T-9"), feat(id="T-9", coords=QUSAYR, date="2025-02-07")),
    )
    case("duplicate_id.geojson", r"repeated in this file \(also features 1\)", field="id", index=0)
    case("duplicate_id.geojson", r"repeated in this file \(also features 0\)", field="id", index=1)
    dump("duplicate_id_store.geojson", fc(feat(id="S-2025-03-16-HERMEL", date="2025-01-01")))
    case(
        "duplicate_id_store.geojson",
        r"already in the store",
        field="id",
        index=0,
        against_store=True,
    )
    dump(
        "likely_duplicate.geojson",
        fc(feat(id="T-1"), feat(id="T-2", coords=[36.389, 34.397], date="2025-03-17")),
    )
    case(
        "likely_duplicate.geojson",
        r"likely duplicate: same type within 1 km and 1 day\(s\) of T-2",
        field="id",
        index=0,
        severity="warning",
    )
    dump("negative_fatalities.geojson", fc(feat(fatalities=-1)))
    case(
        "negative_fatalities.geojson",
        r"fatalities must be a whole number >= 0",
        field="fatalities",
        index=0,
    )
    dump("text_is_object.geojson", fc(feat(description={"html": "<b>x</b>"})))
    case(
        "text_is_object.geojson",
        r"description must be text, not a dict",
        field="description",
        index=0,
    )
    (bad / "ndjson_broken_line.ndjson").write_text(
        json.dumps(feat(id="T-1")) + '\n{"type": "Feature", "properties": \n', encoding="utf-8"
    )
    case("ndjson_broken_line.ndjson", r"not JSON", field="line", index=1)
    (bad / "csv_no_coordinates.csv").write_text(
        "id,date,type,place\nT-1,2025-03-16,clash,Hermel\n", encoding="utf-8"
    )
    case("csv_no_coordinates.csv", r"no latitude/longitude columns found", field="header")
    (bad / "csv_bad_number.csv").write_text(
        'id,date,type,lat,lon\nT-1,2025-03-16,clash,"34,39417",36.38472\n', encoding="utf-8"
    )
    case("csv_bad_number.csv", r"coordinate is not a number", field="lat", index=0)
    (bad / "acled_bad_precision.csv").write_text(
        "event_id_cnty,event_date,event_type,sub_event_type,actor1,actor2,latitude,longitude,"
        "geo_precision,time_precision,source,notes,fatalities\n"
        "LBN-T1,2025-03-16,Battles,Armed clash,A,B,34.39417,36.38472,7,1,test,test,0\n",
        encoding="utf-8",
    )
    case(
        "acled_bad_precision.csv",
        r"not an ACLED geo_precision code \(allowed: 1, 2, 3\)",
        field="geo_precision",
        index=0,
    )
    (bad / "not_a_geopackage.gpkg").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    case("not_a_geopackage.gpkg", r"not a readable GeoPackage", field="file")
    (bad / "cases.json").write_text(json.dumps(cases, indent=1) + "\n", encoding="utf-8")
    print(len(cases), "cases")


if __name__ == "__main__":
    main()
