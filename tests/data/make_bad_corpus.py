"""Write the bad-input corpus ``tests/data/bad/`` and its index ``cases.json``.

Run from the repository root: ``python tests/data/make_bad_corpus.py``. Every
coordinate is a real place: Hermel and Qusayr at their GeoNames points (as in the sample
bundled before issue 15),
Amman (Jordan) for a point outside the region, and Hermel again projected to UTM 37N,
swapped or pushed out of range for the coordinate cases.

It also writes ``tests/data/accepted/`` and its index ``accepted.json``: odd files that
must be accepted (a UTF-8 byte-order mark, CRLF line ends, a MultiPoint of one point, a
GeoPackage layer named like SQL), each with the ids it must give.

``python tests/data/make_bad_corpus.py --table`` prints the table of
``tests/data/bad_corpus.md``: each case, its message (run through validation) and
whether a store holding data was left byte-for-byte unchanged by ``python -m geo
ingest`` (run through the CLI, as ``tests/test_hostile_input.py`` does).
"""

import io
import json
import pathlib
import sqlite3
import sys
import zipfile

from pyproj import Transformer

bad = pathlib.Path(__file__).parent / "bad"
accepted_dir = pathlib.Path(__file__).parent / "accepted"
HERMEL = [36.38472, 34.39417]
QUSAYR = [36.58029, 34.5078]
AMMAN = [35.9106, 31.9539]
cases = []
accepted = []
#: A 1x1 PNG (what a screenshot renamed .geojson starts with).
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cf400000030001010018dd8db40000000049454e44ae426082"
)
#: A layer name and a column name holding quotes and SQL.
SQL_LAYER = 'x"; DROP TABLE incidents; --'
SQL_COLUMN = 'type"; DROP TABLE gpkg_contents; --'


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


def accept(file, ids, *, warning=None, same_as=None):
    item = {"file": file, "ids": ids, "warning": warning, "same_as": same_as}
    accepted.append(item)


def write_geopackage(path, layer, columns, points):
    """Write a one-layer GeoPackage with GDAL, dated so that its bytes are reproducible."""
    import geopandas as gpd
    import pyogrio
    import shapely

    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2025-01-01T00:00:00Z"})
    frame = gpd.GeoDataFrame(columns, geometry=[shapely.Point(p) for p in points], crs=4326)
    path.unlink(missing_ok=True)
    frame.to_file(path, layer=layer, engine="pyogrio")


def damaged_sqlite():
    """Return the bytes of a small SQLite file with GeoPackage tables and one page overwritten."""
    path = bad / "_damaged.tmp"
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA page_size=1024")
    db.execute("CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY)")
    db.execute("CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT)")
    db.execute("CREATE TABLE incidents (fid INTEGER PRIMARY KEY, id TEXT, date TEXT, type TEXT)")
    rows = [(f"T-{i}", "2025-03-16", "clash " + "x" * 100) for i in range(200)]
    db.executemany("INSERT INTO incidents (id, date, type) VALUES (?, ?, ?)", rows)
    db.commit()
    db.close()
    data = bytearray(path.read_bytes())
    path.unlink()
    data[5 * 1024 : 6 * 1024] = bytes((i * 37) % 256 for i in range(1024))  # page 6
    return bytes(data)


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
    more_bad_cases()
    (bad / "cases.json").write_text(json.dumps(cases, indent=1) + "\n", encoding="utf-8")
    print(len(cases), "cases", file=sys.stderr)
    accepted_cases()
    index = accepted_dir / "accepted.json"
    index.write_text(json.dumps(accepted, indent=1) + "\n", encoding="utf-8")
    print(len(accepted), "accepted files", file=sys.stderr)


def more_bad_cases():
    """Cases of issue 11: what JSON parsers hide, odd geometries and binary files."""
    text = json.dumps(fc(feat(type="clash")), indent=1)
    dup = text.replace('"type": "clash"', '"type": "clash",\n    "type": "seizure"')
    (bad / "duplicate_key.geojson").write_text(dup, encoding="utf-8")
    case(
        "duplicate_key.geojson",
        r"the property 'type' is given twice: which value is meant is ambiguous",
        field="type",
        index=0,
    )
    dump("nan_literal.geojson", fc(feat(fatalities=float("nan"))))  # json writes NaN
    case(
        "nan_literal.geojson",
        r"NaN is not a JSON number \(RFC 8259",
        field="fatalities",
        index=0,
    )
    dump("infinity_literal.geojson", fc(feat(location_precision_m=float("inf"))))
    case(
        "infinity_literal.geojson",
        r"Infinity is not a JSON number",
        field="location_precision_m",
        index=0,
    )
    text = json.dumps(fc(feat(quantity=12)), indent=1).replace(
        '"quantity": 12', '"quantity": 1e400'
    )
    (bad / "number_overflow.geojson").write_text(text, encoding="utf-8")
    case(
        "number_overflow.geojson",
        r"quantity must be a number >= 0 \(it is infinite: a number too large, such as 1e400\)",
        field="quantity",
        index=0,
    )
    dump("integer_overflow.geojson", fc(feat(coords=[10**400, HERMEL[1]])))
    case(
        "integer_overflow.geojson",
        r"not finite numbers \(too large for a number\)",
        field="geometry",
        index=0,
    )
    dump(
        "multipoint.geojson",
        fc(feat(geometry={"type": "MultiPoint", "coordinates": [HERMEL, QUSAYR]})),
    )
    case(
        "multipoint.geojson",
        r"a MultiPoint of 2 points, not a Point.*split it into one Feature per Point",
        field="geometry",
        index=0,
    )
    collection = {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": HERMEL},
            {"type": "LineString", "coordinates": [HERMEL, QUSAYR]},
        ],
    }
    dump("geometry_collection.geojson", fc(feat(geometry=collection)))
    case(
        "geometry_collection.geojson",
        r"a GeometryCollection of 2 geometries, not a Point.*split it into one Feature per Point",
        field="geometry",
        index=0,
    )
    dump("property_array.geojson", fc(feat(actor1=["Army", "Border guard"])))
    case("property_array.geojson", r"actor1 must be text, not a list", field="actor1", index=0)
    dump("property_object.geojson", fc(feat(fatalities={"killed": 2})))
    case(
        "property_object.geojson",
        r"fatalities must be a whole number >= 0",
        field="fatalities",
        index=0,
    )
    dump(
        "properties_array.geojson",
        fc({"type": "Feature", "id": "T-1", "properties": [["date", "2025-03-16"]],
            "geometry": {"type": "Point", "coordinates": HERMEL}}),
    )  # fmt: skip
    case(
        "properties_array.geojson",
        r"properties is not an object",
        field="properties",
        index=0,
    )
    dump("text_too_long.geojson", fc(feat(description="x" * 10_001)))
    case(
        "text_too_long.geojson",
        r"longer than the limit of 10,000 characters \(geo.schema.MAX_TEXT_LENGTH\): it has 10,001",
        field="description",
        index=0,
    )
    dump("nul_escape.geojson", fc(feat(description="before\x00after")))  # written \u0000
    case("nul_escape.geojson", r"holds a NUL character", field="description", index=0)
    dump("lone_surrogate.geojson", fc(feat(source="caf\ud800")))  # written \ud800
    case("lone_surrogate.geojson", r"holds a lone surrogate", field="source", index=0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("incidents.geojson", date_time=(2025, 1, 1, 0, 0, 0))
        archive.writestr(info, json.dumps(fc(feat())))
    (bad / "zip_renamed.geojson").write_bytes(buffer.getvalue())
    case("zip_renamed.geojson", r"the file is a ZIP archive.*not an incident file", field="file")
    (bad / "png_renamed.geojson").write_bytes(PNG_1PX)
    case("png_renamed.geojson", r"the file is a PNG image, not an incident file", field="file")
    (bad / "damaged_sqlite.gpkg").write_bytes(damaged_sqlite())
    case(
        "damaged_sqlite.gpkg",
        r"not a readable GeoPackage: the database is damaged",
        field="file",
    )
    write_geopackage(
        bad / "sql_names.gpkg",
        SQL_LAYER,
        {"id": ["G-1"], "date": ["2025-03-16"], SQL_COLUMN: ["clash"]},
        [HERMEL],
    )
    case("sql_names.gpkg", r"the type is missing", field="type", index=0)
    case(
        "sql_names.gpkg",
        r"properties not in the incident schema are not stored",
        field="properties",
        severity="warning",
    )
    (bad / "acled_missing_columns.csv").write_text(
        "event_id_cnty,event_type,sub_event_type,actor1,location,notes\n"
        "LBN-T1,Battles,Armed clash,A,Hermel,test\n",
        encoding="utf-8",
    )
    case(
        "acled_missing_columns.csv",
        r"lacks its required column\(s\) event_date, latitude, longitude",
        field="header",
    )


def accepted_cases():
    """Odd files that must be accepted, with the ids each must give."""
    accepted_dir.mkdir(exist_ok=True)
    plain = json.dumps(fc(feat(id="A-1"), feat(id="A-2", coords=QUSAYR, type="seizure")), indent=1)
    (accepted_dir / "plain.geojson").write_text(plain, encoding="utf-8")
    accept("plain.geojson", ["A-1", "A-2"])
    (accepted_dir / "bom.geojson").write_bytes(b"\xef\xbb\xbf" + plain.encode())
    accept("bom.geojson", ["A-1", "A-2"], same_as="plain.geojson")
    (accepted_dir / "crlf.geojson").write_bytes(plain.replace("\n", "\r\n").encode())
    accept("crlf.geojson", ["A-1", "A-2"], same_as="plain.geojson")
    lines = [json.dumps(feat(id="A-1")), json.dumps(feat(id="A-2", coords=QUSAYR, type="seizure"))]
    (accepted_dir / "bom_crlf.ndjson").write_bytes(
        b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"
    )
    accept("bom_crlf.ndjson", ["A-1", "A-2"], same_as="plain.geojson")
    header = "id,date,type,description,location_precision_m,source,latitude,longitude"
    rows = [
        f"A-1,2025-03-16,clash,test case,10000,test corpus,{HERMEL[1]},{HERMEL[0]}",
        f"A-2,2025-03-16,seizure,test case,10000,test corpus,{QUSAYR[1]},{QUSAYR[0]}",
    ]
    (accepted_dir / "bom_crlf.csv").write_bytes(
        b"\xef\xbb\xbf" + "\r\n".join([header, *rows]).encode() + b"\r\n"
    )
    accept("bom_crlf.csv", ["A-1", "A-2"], same_as="plain.geojson")
    acled = (bad.parent / "acled_sample.csv").read_bytes().replace(b"\r\n", b"\n")
    (accepted_dir / "bom_crlf_acled.csv").write_bytes(
        b"\xef\xbb\xbf" + acled.replace(b"\n", b"\r\n")
    )
    accept("bom_crlf_acled.csv", None, same_as="../acled_sample.csv")
    single = {"type": "MultiPoint", "coordinates": [HERMEL]}
    dump_to(accepted_dir / "multipoint_one.geojson", fc(feat(id="A-1", geometry=single)))
    accept(
        "multipoint_one.geojson",
        ["A-1"],
        warning="a MultiPoint of one point was read as that Point",
    )
    write_geopackage(
        accepted_dir / "sql_layer_name.gpkg",
        SQL_LAYER,
        {"id": ["A-1"], "date": ["2025-03-16"], "type": ["clash"]},
        [HERMEL],
    )
    accept("sql_layer_name.gpkg", ["A-1"])


def dump_to(path, obj):
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def table():
    """Print the markdown table of every case: its message and whether the store was unchanged."""
    import contextlib
    import hashlib
    import html
    import re
    import shutil
    import tempfile

    root = pathlib.Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(root))
    import geo.ingest
    from geo.cli import main as cli
    from geo.ingest import seed_store, validate_file
    from geo.store import open_store
    from layers.reference import ReferenceLayers

    border = ReferenceLayers.bundled().line
    work = pathlib.Path(tempfile.mkdtemp())
    seeded = work / "seeded.gpkg"
    seed_store(open_store(seeded, create=True))
    print("| case | what | message (as `python -m geo ingest` prints it) | store unchanged |")
    print("|---|---|---|---|")
    by_file = {}
    for c in cases:
        by_file.setdefault(c["file"], []).append(c)
    # made by tests/test_hostile_input.py rather than kept: too big, or not a portable name
    made = work / "made"
    made.mkdir()
    big = fc(feat(id="BIG-1", description="x" * (10 * 2**20)))
    (made / "description_10MB.geojson").write_text(json.dumps(big), encoding="utf-8")
    by_file["made/description_10MB.geojson"] = [
        {"severity": "error", "field": "description", "index": 0, "match": "longer than"}
    ]
    WHAT["made/description_10MB.geojson"] = "a 10 MB description (made by the test)"
    html_name = "made/<img src=x onerror=alert(1)>.geojson"
    (work / html_name).write_text(json.dumps(fc(feat(type="seizures"))), encoding="utf-8")
    by_file[html_name] = [{"severity": "error", "field": "type", "index": 0, "match": "unknown"}]
    WHAT[html_name] = "a file name that is HTML (made by the test), type `seizures`"
    for file, group in by_file.items():
        path = work / file if file.startswith("made/") else bad / file
        first = group[0]
        options = {
            k: v for k, v in first.get("options", {}).items() if k in ("max_bytes", "max_features")
        }
        existing = open_store(seeded) if first.get("options", {}).get("against_store") else None
        report = validate_file(path, border=border, existing=existing, **options)
        shown = [
            p for p in report.problems
            if any(p.severity == c["severity"] and p.field == c["field"]
                   and p.index == c["index"] and re.search(c["match"], str(p)) for c in group)
        ]  # fmt: skip
        message = "<br>".join(html.escape(f"{p.severity}: {p}", quote=False) for p in shown)
        message = message.replace("|", "\\|")
        refused = any(c["severity"] == "error" and "outside_region" not in c.get("options", {})
                      for c in group)  # fmt: skip
        if refused:
            store = work / f"{len(WHAT)}-{pathlib.PurePath(file).stem[:20]}.gpkg"
            store = store.with_name(re.sub(r"[^\w.-]", "_", store.name))
            shutil.copyfile(seeded, store)
            before = hashlib.sha256(store.read_bytes()).hexdigest()
            original = geo.ingest.validate_file
            geo.ingest.validate_file = lambda *a, _f=original, _o=options, **k: _f(*a, **k, **_o)
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    code = cli(["ingest", str(path), "--store", str(store)])
            finally:
                geo.ingest.validate_file = original
            same = hashlib.sha256(store.read_bytes()).hexdigest() == before
            unchanged = "yes" if same and code == 2 else f"NO (exit {code})"
        else:
            unchanged = "stored (warnings only)"
        what = WHAT.get(file, "")  # in code spans: shown literally
        print(f"| `{file.removeprefix('made/')}` | {what} | {message} | {unchanged} |")


#: One line on each case file, for the table.
WHAT = {
    "not_json.geojson": "JSON cut short",
    "not_geojson.json": "JSON that is not GeoJSON",
    "empty.geojson": "empty file",
    "whitespace.geojson": "only whitespace",
    "not_utf8.geojson": "Latin-1 byte in a UTF-8 file",
    "utf16.geojson": "UTF-16 file",
    "too_deep.geojson": "JSON nested 40 levels",
    "too_large.geojson": "larger than max_bytes (200 here)",
    "too_many_features.geojson": "more features than max_features (2 here)",
    "bare_geometry.geojson": "a bare Point, no Feature",
    "geometry_missing.geojson": "`geometry: null`",
    "polygon.geojson": "Polygon",
    "coordinates_missing.geojson": "Point with `[]`",
    "coordinates_text.geojson": "coordinates as strings",
    "coordinates_nan.geojson": "`NaN` longitude",
    "coordinates_infinite.geojson": "`Infinity` longitude",
    "out_of_range.geojson": "latitude 134",
    "projected_no_crs.geojson": "UTM metres, no `crs`",
    "crs_unknown.geojson": "`crs` EPSG::999999",
    "crs_linked.geojson": "linked `crs`",
    "latlon_swapped.geojson": "latitude and longitude swapped",
    "outside_region.geojson": "Amman (outside the region)",
    "unknown_type.geojson": "type `seizures`",
    "type_missing.geojson": "type `null`",
    "bad_date.geojson": "date `16/03/2025`",
    "future_date.geojson": "date 2999-01-01",
    "date_missing.geojson": "date `null`",
    "duplicate_id.geojson": "one id twice in the file",
    "duplicate_id_store.geojson": "an id already stored",
    "likely_duplicate.geojson": "two clashes 600 m and a day apart",
    "negative_fatalities.geojson": "`fatalities: -1`",
    "text_is_object.geojson": "description is an object",
    "ndjson_broken_line.ndjson": "a newline-delimited line cut short",
    "csv_no_coordinates.csv": "CSV without latitude/longitude",
    "csv_bad_number.csv": "latitude `34,39417`",
    "acled_bad_precision.csv": "ACLED `geo_precision` 7",
    "not_a_geopackage.gpkg": "SQLite header then zeros",
    "duplicate_key.geojson": "`type` given twice in properties",
    "nan_literal.geojson": "`NaN` literal (not JSON) in `fatalities`",
    "infinity_literal.geojson": "`Infinity` literal in `location_precision_m`",
    "number_overflow.geojson": "`quantity: 1e400` (overflows to infinity)",
    "integer_overflow.geojson": "a 401-digit integer longitude (crashed before)",
    "multipoint.geojson": "MultiPoint of 2 points",
    "geometry_collection.geojson": "GeometryCollection (Point + LineString)",
    "property_array.geojson": "`actor1` is an array",
    "property_object.geojson": "`fatalities` is an object",
    "properties_array.geojson": "`properties` is an array",
    "text_too_long.geojson": "description of 10,001 characters",
    "nul_escape.geojson": "`\\u0000` in description (was stored before)",
    "lone_surrogate.geojson": "`\\ud800` in source (crashed before)",
    "zip_renamed.geojson": "a ZIP archive named `.geojson`",
    "png_renamed.geojson": "a PNG image named `.geojson`",
    "damaged_sqlite.gpkg": "SQLite file with GeoPackage tables and a page overwritten",
    "sql_names.gpkg": 'layer `x"; DROP TABLE incidents; --`, column `type"; DROP TABLE ...`',
    "acled_missing_columns.csv": "ACLED export without `event_date`, `latitude`, `longitude`",
}


if __name__ == "__main__":
    main()
    if "--table" in sys.argv:
        table()
