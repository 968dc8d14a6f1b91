"""One contract, two backends: every incident store behaves alike (GeoPackage and PostGIS).

Each test taking ``store`` (or ``location``) runs against both backends: the fixture
is parametrised ``gpkg`` and ``postgis``. The tests taking ``both`` store the same
incidents in one store of each kind and compare what they give back. The PostGIS half
uses the throwaway server of tests/pgcluster.py (``pg_server`` in conftest.py): it is
skipped, with the reason, where PostgreSQL is not installed, and fails on CI.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading

import numpy as np
import pandas as pd
import pytest
import shapely

from geo import schema, settings
from geo.analysis import AnalysisParameters, run_analysis
from geo.cli import main
from geo.errors import ConfigurationError, StoreError, ValidationError
from geo.ingest import store_frame, store_report, validate_file
from geo.store import STAGING_MIN_ROWS, open_store
from geo.store.base import AUDIT_COLUMNS, current_user

SAMPLE = settings.SAMPLE_INCIDENTS_PATH
#: Events in the bundled record (the sample that a new default store is seeded with).
N_SAMPLE = len(json.loads(SAMPLE.read_text("utf-8"))["features"])
HERMEL = (36.38472, 34.39417)
STORED_COLUMNS = [*schema.INCIDENT_COLUMNS, *schema.STORE_COLUMNS, "geometry"]


@pytest.fixture(params=["gpkg", "postgis"])
def location(request, tmp_path):
    """Where a new, empty store of each backend is: a file path or a database URL."""
    if request.param == "gpkg":
        return str(tmp_path / "store.gpkg")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(location):
    return open_store(location, create=True)


@pytest.fixture
def both(tmp_path, pg_url):
    """A new GeoPackage store and a new PostGIS store."""
    return open_store(tmp_path / "store.gpkg", create=True), open_store(pg_url)


@pytest.fixture(scope="module")
def reference():
    from layers.reference import ReferenceLayers

    return ReferenceLayers.bundled()


def incidents(ids, *, date="2025-01-01", type_="seizure"):
    """Incidents of the schema at Hermel."""
    n = len(ids)
    frame = pd.DataFrame(
        {"id": list(ids), "date": [date] * n, "type": [type_] * n, "location_precision_m": 1e4}
    )
    return schema.conform_incidents(frame, shapely.points([HERMEL] * n))


def rich_incidents(n, *, prefix="R", seed=0):
    """Incidents using every field: text that CSV, SQL and HTML find awkward, gaps, floats."""
    rng = np.random.default_rng(seed)
    awkward = [
        'quote " comma , newline\nend',
        "ضبط شحنة مهربة قرب الهرمل",
        "",
        None,
        "tab\there; semicolon; back\\slash",
        "=cmd|' /C calc'!A0",
        "<b>x</b> ${y}",
    ]
    frame = pd.DataFrame(
        {
            "id": [f"{prefix}{i}" for i in range(n)],
            "date": (np.datetime64("2023-01-01") + rng.integers(0, 900, n)).astype(str),
            "date_precision_days": rng.choice([1, 7, 31], n),
            "type": rng.choice(settings.INCIDENT_TYPES, n),
            "description": [awkward[i % len(awkward)] for i in range(n)],
            "quantity": [None if i % 3 == 0 else float(rng.uniform(0, 1e4)) for i in range(n)],
            "unit": [None if i % 2 else "kg" for i in range(n)],
            "fatalities": [None if i % 4 == 0 else float(i % 5) for i in range(n)],
            "actor1": ["Actor, A" if i % 5 else None for i in range(n)],
            "location_precision_m": rng.choice([250.0, 1000.0, 10_000.0], n),
            "source": "contract test",
            "source_event_type": [None if i % 2 else "Battles" for i in range(n)],
        }
    )
    lon = 36.0 + rng.uniform(0, 0.6, n)
    lat = 33.6 + rng.uniform(0, 0.9, n)
    return schema.conform_incidents(frame, shapely.points(lon, lat))


def fill(store, *, n=300):
    """Store the bundled sample and two batches of rich incidents; return the batch ids."""
    batches = [store_report(store, validate_file(SAMPLE, existing=store))]
    batches.append(store_frame(store, rich_incidents(n), source_file="a.geojson", sha256="a" * 64))
    batches.append(store_frame(store, rich_incidents(n // 2, prefix="S", seed=1)))
    return batches


def insert_duplicate_bypassing_the_store(store, fid: str) -> None:
    """Insert a row with id ``fid`` straight into the database, as another program could."""
    if store.location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(store._url, autocommit=True) as con:
            con.execute(
                "INSERT INTO incidents (id, date, type, batch_id, geom) VALUES "
                "(%s, '2025-01-01', 'other', 'raw', ST_SetSRID(ST_MakePoint(36, 34), 4326))",
                [fid],
            )
    else:
        con = sqlite3.connect(store.path)
        try:
            con.execute(
                "INSERT INTO incidents (id, date, type, batch_id) "
                "VALUES (?, '2025-01-01', 'other', 'raw')",
                (fid,),
            )
            con.commit()
        finally:
            con.close()


def unique_violation(location):
    if location.startswith("postgresql://"):
        import psycopg

        return psycopg.errors.UniqueViolation
    return sqlite3.IntegrityError


def test_without_postgresql_the_postgis_half_is_skipped_except_on_ci():
    import pgcluster

    why = "PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin/pg_ctl missing)"
    assert pgcluster.when_unavailable(why, {}) == ("skip", why)
    assert pgcluster.when_unavailable(why, {"CI": "false"}) == ("skip", why)
    outcome, message = pgcluster.when_unavailable(why, {"CI": "true"})
    assert outcome == "fail" and why in message
    assert message.startswith("CI must run the PostGIS tests")


# --- every backend ---------------------------------------------------------------------------


def test_a_new_store_is_empty_and_has_the_schema(store):
    assert store.count() == 0
    frame = store.read()
    assert list(frame.columns) == STORED_COLUMNS and frame.empty
    assert frame.dtypes.astype(str).to_dict() == {**schema.INCIDENT_DTYPES, "geometry": "geometry"}
    assert list(store.audit().columns) == list(AUDIT_COLUMNS) and store.audit().empty
    assert store.batches().empty and store.users().empty
    assert store.content_hash() == hashlib.sha256().hexdigest()


def test_add_read_filter_undo_and_audit(store):
    first = store_frame(store, incidents(["A", "B"], date="2025-01-01"), source_file="a.geojson")
    second = store_frame(store, incidents(["C"], date="2025-02-01", type_="clash"))
    assert store.count() == 3
    assert store.read(since="2025-01-15")["id"].tolist() == ["C"]
    assert store.read(types=["seizure"])["id"].tolist() == ["A", "B"]
    assert store.read(until="2025-01-01")["id"].tolist() == ["A", "B"]
    assert store.read(since="2025-03-01").empty
    assert store.undo() == 1  # the last batch
    assert store.read()["id"].tolist() == ["A", "B"]
    assert store.undo(first) == 2 and store.count() == 0
    with pytest.raises(StoreError, match="already undone"):
        store.undo(second)
    with pytest.raises(StoreError, match="no batch 'xyz'"):
        store.undo("xyz")
    with pytest.raises(StoreError, match="nothing to undo"):
        store.undo()
    audit = store.audit()
    assert audit["action"].tolist() == ["add", "add", "undo", "undo"]
    assert audit["batch_id"].tolist() == [first, second, second, first]
    assert store.batches()["undone"].tolist() == [True, True]


def test_an_upload_is_all_or_nothing(store):
    store_frame(store, incidents(["A"]))
    before = store.content_hash()
    with pytest.raises(ValidationError, match=r"nothing stored: 1 id\(s\) clash") as caught:
        store_frame(store, incidents([f"N{i}" for i in range(50)] + ["A"]))
    assert [(p.feature_id, p.field) for p in caught.value.problems] == [("A", "id")]
    with pytest.raises(ValidationError, match="repeated in the upload"):
        store_frame(store, incidents(["B", "C", "B"]))
    assert store.read()["id"].tolist() == ["A"]
    assert len(store.audit()) == 1 and store.content_hash() == before


def test_ids_are_unique_by_the_database_not_only_by_validation(store, location):
    store_frame(store, incidents(["A"]))
    report = validate_file(SAMPLE)  # not checked against the store: its ids pass
    store_report(store, report)
    unchecked = validate_file(SAMPLE, filename="again.geojson")
    with pytest.raises(ValidationError, match="clash with stored incidents") as caught:
        store_report(store, unchecked)
    assert {p.feature_id for p in caught.value.problems} == set(report.accepted["id"])
    with pytest.raises(unique_violation(location)):
        insert_duplicate_bypassing_the_store(store, "A")
    assert store.count() == 1 + report.accepted_count


def test_uploads_of_the_same_id_at_once_store_it_once(store, location):
    start = threading.Barrier(4)
    outcomes = []

    def upload(k):
        mine = open_store(location)
        start.wait()
        try:
            store_frame(mine, incidents(["SAME", f"OWN{k}"]))
            outcomes.append("stored")
        except ValidationError:
            outcomes.append("refused")

    threads = [threading.Thread(target=upload, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused"] * 3 + ["stored"]
    assert store.count() == 2 and (store.read()["id"] == "SAME").sum() == 1
    assert len(store.audit()) == 1


def test_a_file_stored_before_is_recognised_by_its_sha256(store):
    report = validate_file(SAMPLE, existing=store)
    assert not any("already stored" in p.reason for p in report.warnings)
    batch = store_report(store, report)
    assert store.find_sha256(report.sha256) == batch
    again = validate_file(SAMPLE, existing=store)
    assert [p.reason for p in again.warnings if p.field == "file"] == [
        f"this file was already stored as batch {batch}"
    ]
    assert {p.feature_id for p in again.errors} == set(report.accepted["id"])  # ids taken
    store.undo(batch)
    assert store.find_sha256(report.sha256) is None
    assert validate_file(SAMPLE, existing=store).ok


def test_undo_removes_one_batch_and_only_it(store):
    a = store_frame(store, incidents(["A1", "A2"]))
    b = store_frame(store, incidents(["B1", "B2", "B3"]))
    c = store_frame(store, incidents(["C1"]))
    assert store.undo(b, user="boss@example.org") == 3
    assert store.read()["id"].tolist() == ["A1", "A2", "C1"]
    assert store._rows_by_batch() == {a: 2, c: 1}
    assert store.undo() == 1  # the last batch still stored: c
    assert store.read()["id"].tolist() == ["A1", "A2"]
    batches = store.batches().set_index("batch_id")
    assert batches["undone"].to_dict() == {a: False, b: True, c: True}
    assert batches["rows"].to_dict() == {a: 2, b: 0, c: 0}
    assert batches.loc[b, "undone_by"] == "boss@example.org"
    # ids of an undone batch may be stored again
    store_frame(store, incidents(["B1"]))
    assert store.count() == 3


def test_the_audit_records_who_did_what(store):
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"id": i, "date": "2025-03-16", "type": t},
                    "geometry": {"type": "Point", "coordinates": list(HERMEL)},
                }
                for i, t in [("OK", "clash"), ("BAD", "???")]
            ],
        }
    ).encode()
    report = validate_file(data, filename="mixed.geojson", existing=store)
    batch = store_report(store, report, accept_partial=True, user="ana@example.org")
    store.undo(batch, user="boss@example.org")
    store.grant("ana@example.org", "analyst", by="boss@example.org")
    audit = store.audit()
    assert list(audit.columns) == list(AUDIT_COLUMNS)
    assert audit["action"].tolist() == ["add", "undo", "grant"]
    assert audit["user"].tolist() == ["ana@example.org", "boss@example.org", "boss@example.org"]
    add = audit.iloc[0]
    assert (add["source_file"], add["source_sha256"], add["format"]) == (
        "mixed.geojson",
        report.sha256,
        "geojson",
    )
    assert (add["features"], add["accepted_count"], add["rejected_count"]) == (2, 1, 1)
    assert audit["note"].iloc[1:].tolist() == ["1 incident(s) removed", "ana@example.org: analyst"]
    assert audit["event_id"].is_monotonic_increasing and audit["at"].is_monotonic_increasing
    assert str(audit["at"].dt.tz) == "UTC"
    row = store.batches().iloc[0]
    assert (row["ingested_by"], row["undone"], row["undone_by"]) == (
        "ana@example.org",
        True,
        "boss@example.org",
    )


def test_roles_are_kept_and_audited(store):
    assert store.role_of("ana@example.org") is None and store.users().empty
    store.grant("Ana@Example.org ", "analyst", by="boss@example.org")
    assert store.role_of("ANA@example.org") == "analyst"
    store.grant("ana@example.org", "admin", by="boss@example.org")  # replaces
    assert store.users()[["email", "role", "granted_by"]].values.tolist() == [
        ["ana@example.org", "admin", "boss@example.org"]
    ]
    assert str(store.users()["granted_at"].dt.tz) == "UTC"
    assert store.revoke("ana@example.org", by="boss@example.org") is True
    assert store.revoke("ana@example.org") is False
    assert store.role_of("ana@example.org") is None
    audit = store.audit()
    assert audit["action"].tolist() == ["grant", "grant", "revoke"]
    assert audit["user"].tolist() == ["boss@example.org"] * 3
    with pytest.raises(ConfigurationError, match="role 'root' is unknown"):
        store.grant("x@y.org", "root")
    with pytest.raises(ConfigurationError, match="not an e-mail address"):
        store.grant("not-an-address", "admin")
    assert len(store.audit()) == 3


def test_the_token_follows_every_write_and_the_hash_the_content(store):
    store_frame(store, incidents(["A", "B"]))
    token, content = store.content_token(), store.content_hash()
    assert store.content_token() == token  # reading changes nothing
    batch = store_frame(store, incidents(["C"]))
    assert store.content_token() != token and store.content_hash() != content
    after_add = store.content_token()
    store.undo(batch)
    assert store.content_token() not in (token, after_add)
    assert store.content_hash() == content


def test_the_command_line_works_on_either_store(location, capsys):
    assert main(["ingest", str(SAMPLE), "--store", location, "--format", "json"]) == 0
    stored = json.loads(capsys.readouterr().out)
    assert stored["stored"] and stored["accepted"] == N_SAMPLE
    assert main(["users", "--store", location, "grant", "Ana@example.org", "analyst"]) == 0
    assert main(["users", "--store", location, "list"]) == 0
    assert "ana@example.org\tanalyst\tgranted by" in capsys.readouterr().out
    assert main(["ingest", str(SAMPLE), "--store", location]) == 2  # same ids again
    assert "already stored as batch" in capsys.readouterr().out
    assert open_store(location).batches()["ingested_by"].tolist() == [current_user()]


# --- the two backends side by side -----------------------------------------------------------


def test_reads_give_the_same_frames_with_the_same_dtypes(both):
    gpkg, pg = both
    for store in both:
        fill(store)
    filters = [
        {},
        {"since": "2024-01-01"},
        {"until": "2023-06-30"},
        {"types": ["seizure", "smuggling"]},
        {"since": "2023-03-01", "until": "2024-02-29", "types": ["clash"]},
        {"since": "2030-01-01"},
    ]
    compared = [*schema.INCIDENT_COLUMNS, "source_file", "source_sha256", "geometry"]
    for kwargs in filters:
        a, b = gpkg.read(**kwargs), pg.read(**kwargs)
        assert a.dtypes.astype(str).to_dict() == b.dtypes.astype(str).to_dict(), kwargs
        pd.testing.assert_frame_equal(a[compared], b[compared], check_exact=True, obj=str(kwargs))
        assert a.crs == b.crs == settings.GEOGRAPHIC_CRS
    assert gpkg.count() == pg.count() == N_SAMPLE + 300 + 150
    assert (pg.read()["description"] == "").sum() > 0  # an empty text is not NULL
    arabic = pg.read()["description"].eq("ضبط شحنة مهربة قرب الهرمل").sum()
    assert arabic == gpkg.read()["description"].eq("ضبط شحنة مهربة قرب الهرمل").sum() > 0
    for method in ("audit", "batches", "users"):
        a, b = getattr(gpkg, method)(), getattr(pg, method)()
        assert a.dtypes.astype(str).to_dict() == b.dtypes.astype(str).to_dict(), method
    drop = ["batch_id", "at", "ingested_at", "undone_at", "event_id"]
    a, b = (s.batches().drop(columns=drop, errors="ignore") for s in both)
    pd.testing.assert_frame_equal(a, b)


def test_the_same_incidents_give_the_same_content_hash(both):
    gpkg, pg = both
    assert gpkg.content_hash() == pg.content_hash()
    for store in both:
        fill(store, n=60)
    assert gpkg.content_hash() == pg.content_hash()
    # a batch large enough for the GeoPackage store's staging path (GDAL writes its blobs)
    big = rich_incidents(STAGING_MIN_ROWS + 10, prefix="L", seed=2)
    batches = [store_frame(s, big, source_file="big.geojson") for s in both]
    assert gpkg.content_hash() == pg.content_hash()
    columns = [*schema.INCIDENT_COLUMNS, "geometry"]
    pd.testing.assert_frame_equal(gpkg.read()[columns], pg.read()[columns], check_exact=True)
    for store, batch in zip(both, batches, strict=True):
        store.undo(batch)
    assert gpkg.content_hash() == pg.content_hash()


def test_validation_asks_both_the_same_and_gets_the_same_answers(both):
    gpkg, pg = both
    for store in both:
        fill(store, n=200)
    ids = ["R1", "S3", "nope", "R199", "", "S1000"]
    assert gpkg.stored_ids(ids) == pg.stored_ids(ids) == {"R1", "S3", "R199"}
    lon, lat = np.array([36.2, 36.5]), np.array([34.0, 33.8])
    for kwargs in ({}, {"since": pd.Timestamp("2024-01-01").date()}):
        a = gpkg.incidents_near(lon, lat, distance_m=5_000, **kwargs)
        b = pg.incidents_near(lon, lat, distance_m=5_000, **kwargs)
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    a = validate_file(SAMPLE, existing=gpkg)  # stored: every id taken, the file recognised
    b = validate_file(SAMPLE, existing=pg)
    assert [str(p) for p in a.problems] == [
        str(p).replace(pg.find_sha256(b.sha256), gpkg.find_sha256(a.sha256)) for p in b.problems
    ]


@pytest.mark.slow
def test_the_analysis_is_the_same_on_both(both, reference):
    for store in both:
        fill(store, n=400)
    params = AnalysisParameters(draws=200)
    results = [
        json.dumps(run_analysis(s.read(), params, reference=reference).to_json_dict(), indent=1)
        for s in both
    ]
    assert results[0] == results[1]
    assert json.loads(results[0])["sectors"]
