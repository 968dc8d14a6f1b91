"""The incident store: seed, add, undo, audit, counts, concurrency and a killed writer."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo import schema, settings
from geo.errors import StoreError, ValidationError
from geo.ingest import open_seeded_store, store_frame, store_report, validate_file
from geo.selection import filter_incidents
from geo.store import AUDIT_TABLE, LAYER, load_incidents, open_store
from geo.store.base import AUDIT_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = settings.DATA_DIR / "sample_incidents.geojson"
HERMEL = (36.38472, 34.39417)


def incidents(ids, *, date="2025-01-01", type_="seizure"):
    """Incidents of the schema at Hermel (a real town; the sample's coordinates)."""
    n = len(ids)
    frame = pd.DataFrame(
        {"id": list(ids), "date": [date] * n, "type": [type_] * n, "location_precision_m": 1e4}
    )
    return schema.conform_incidents(frame, shapely.points([HERMEL] * n))


def gpkg_count(path):
    con = sqlite3.connect(path)
    try:
        return con.execute(
            "SELECT feature_count FROM gpkg_ogr_contents WHERE table_name = ?", (LAYER,)
        ).fetchone()[0]
    finally:
        con.close()


def test_default_store_is_created_and_seeded_with_the_sample():
    store = open_seeded_store()
    assert store.path == Path(os.environ[settings.STORE_ENV_VAR])
    sample = gpd.read_file(SAMPLE)
    stored = store.read()
    assert sorted(stored["id"]) == sorted(sample["id"])
    assert (stored["source_file"] == "sample_incidents.geojson").all()
    audit = store.audit()
    assert audit["action"].tolist() == ["seed"] and audit["accepted_count"].tolist() == [
        len(sample)
    ]
    # opening it again does not seed twice
    assert len(open_seeded_store().read()) == len(sample)


def test_stored_incidents_keep_every_field_and_the_schema():
    store = open_seeded_store()
    stored = store.read().set_index("id")
    sample = gpd.read_file(SAMPLE).set_index("id")
    for fid, row in sample.iterrows():
        got = stored.loc[fid]
        assert got["description"] == row["description"]
        assert got["date"] == row["date"]
        assert got["location_precision_m"] == row["location_precision_m"]
        assert got.geometry.equals_exact(row.geometry, 1e-9)
    assert list(store.read().columns) == [
        *schema.INCIDENT_COLUMNS,
        *schema.STORE_COLUMNS,
        "geometry",
    ]
    assert store.read().dtypes.astype(str).to_dict() == {
        **schema.INCIDENT_DTYPES,
        "geometry": "geometry",
    }


def test_explicit_missing_store_is_an_error_for_readers(tmp_path):
    missing = tmp_path / "nope.gpkg"
    with pytest.raises(StoreError, match=r"nope.gpkg does not exist; check --store"):
        load_incidents(missing)
    assert not missing.exists()


def test_explicit_store_can_be_created_empty(tmp_path):
    store = open_store(tmp_path / "new.gpkg", create=True)
    assert store.count() == 0 and len(store.read()) == 0
    assert list(store.read().columns)[-1] == "geometry"


def test_a_file_that_is_not_a_store_is_refused(tmp_path):
    bogus = tmp_path / "bogus.gpkg"
    bogus.write_text("hello")
    with pytest.raises(StoreError, match="is not a GeoPackage"):
        open_store(bogus)


def test_filtering_again_keeps_every_row_and_never_changes_the_first_frame(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    store_frame(store, incidents(["A", "B"], date="2025-01-01"))
    store_frame(store, incidents(["C"], date="2025-02-01", type_="clash"))
    everything = store.read()
    seizures = filter_incidents(everything, types=["seizure"])
    again = filter_incidents(seizures, types=["seizure"], until="2025-01-31")
    pd.testing.assert_frame_equal(again, seizures)
    again.loc[again.index[0], "id"] = "changed"  # copy on write: the others keep theirs
    again["extra"] = 1
    assert seizures["id"].tolist() == ["A", "B"] == everything["id"].tolist()[:2]
    assert "extra" not in seizures.columns


def test_add_read_filter_undo_and_audit(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    first = store_frame(store, incidents(["A", "B"], date="2025-01-01"), source_file="a.geojson")
    second = store_frame(store, incidents(["C"], date="2025-02-01", type_="clash"))
    assert store.count() == 3 == gpkg_count(store.path)
    assert store.read(since="2025-01-15")["id"].tolist() == ["C"]
    assert store.read(types=["seizure"])["id"].tolist() == ["A", "B"]
    assert store.read(until="2025-01-01")["id"].tolist() == ["A", "B"]
    everything = store.read()
    pd.testing.assert_frame_equal(
        filter_incidents(everything, since="2025-01-15").reset_index(drop=True),
        store.read(since="2025-01-15"),
    )
    assert store.undo() == 1  # the last batch
    assert store.read()["id"].tolist() == ["A", "B"]
    assert store.undo(first) == 2
    assert store.count() == 0 == gpkg_count(store.path)
    with pytest.raises(StoreError, match="already undone"):
        store.undo(second)
    with pytest.raises(StoreError, match="no batch 'xyz'"):
        store.undo("xyz")
    audit = store.audit()
    assert audit["action"].tolist() == ["add", "add", "undo", "undo"]
    assert audit["batch_id"].tolist() == [first, second, second, first]
    batches = store.batches()
    assert batches["undone"].tolist() == [True, True]


def test_report_with_rejections_stores_nothing_unless_partial(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    data = json.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"id": "OK", "date": "2025-03-16", "type": "clash"},
                    "geometry": {"type": "Point", "coordinates": list(HERMEL)},
                },
                {
                    "type": "Feature",
                    "properties": {"id": "BAD", "date": "2025-03-16", "type": "???"},
                    "geometry": {"type": "Point", "coordinates": list(HERMEL)},
                },
            ],
        }
    ).encode()
    report = validate_file(data, filename="mixed.geojson", existing=store)
    with pytest.raises(ValidationError, match=r"nothing stored from mixed\.geojson: 1 feature"):
        store_report(store, report)
    assert store.count() == 0 and store.audit().empty
    batch = store_report(store, report, accept_partial=True)
    assert report.batch_id == batch and store.read()["id"].tolist() == ["OK"]
    row = store.audit().iloc[-1]
    assert (row["source_file"], row["accepted_count"], row["rejected_count"]) == (
        "mixed.geojson",
        1,
        1,
    )
    assert row["source_sha256"] == report.sha256
    again = validate_file(data, filename="mixed.geojson", existing=store)
    assert any("already stored as batch" in p.reason for p in again.warnings)


def test_id_clash_refuses_the_whole_upload(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    store_frame(store, incidents(["A"]))
    with pytest.raises(ValidationError, match="nothing stored: 1 id"):
        store_frame(store, incidents(["B", "A"]))
    assert store.read()["id"].tolist() == ["A"] and gpkg_count(store.path) == 1
    assert len(store.audit()) == 1


def test_gdal_sees_every_row(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    for k in range(5):
        store_frame(store, incidents([f"A{k}", f"B{k}"]))
    info = pyogrio.read_info(store.path, layer=LAYER)
    assert info["features"] == 10
    assert len(pyogrio.read_dataframe(store.path, layer=LAYER)) == 10
    assert pyogrio.read_dataframe(store.path, layer=AUDIT_TABLE, read_geometry=False).shape[0] == 5


def test_threads_do_not_lose_rows(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    errors = []

    def work(k):
        try:
            for i in range(10):
                store_frame(open_store(store.path), incidents([f"T{k}-{i}"]))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.count() == 40 == gpkg_count(store.path) == len(store.read())


WORKER = """
import sys
import pandas as pd, shapely
from geo import schema
from geo.ingest import store_frame
from geo.store import open_store
store = open_store(sys.argv[1])
worker = sys.argv[2]
frame = pd.DataFrame({"id": [f"P{worker}-{i}" for i in range(100)], "date": "2025-01-01",
                      "type": "arrest"})
uploads = schema.conform_incidents(frame, shapely.points([(36.38472, 34.39417)] * 100))
for i in range(100):
    store_frame(store, uploads.iloc[[i]], source_file=f"upload-{worker}-{i}.geojson")
"""


@pytest.fixture
def fast_dir(tmp_path):
    """A folder in memory when the machine has one: the test is about locking, not fsync."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        yield Path(folder)


def test_four_processes_times_one_hundred_uploads_keep_four_hundred_rows(fast_dir):
    store = open_store(fast_dir / "s.gpkg", create=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(store.path), str(k)], env=env, stderr=subprocess.PIPE
        )
        for k in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    stored = store.read()
    assert len(stored) == 400 and stored["id"].is_unique
    assert set(stored["id"]) == {f"P{k}-{i}" for k in range(4) for i in range(100)}
    assert gpkg_count(store.path) == 400
    assert len(pyogrio.read_dataframe(store.path, layer=LAYER)) == 400
    assert len(store.audit()) == 400 and store.audit()["batch_id"].is_unique


KILLED_WRITER = """
import sys, time
from pathlib import Path
import pandas as pd, shapely
import geo.store.gpkg_format
from geo import schema
from geo.ingest import store_frame
from geo.store import open_store

real = geo.store.gpkg_format.encode_points

def slow_points(geometry):
    # hand the rows to SQLite one by one and stop half-way, inside the transaction
    for k, blob in enumerate(real(geometry)):
        if k == 2_000:
            Path(sys.argv[2]).write_text("inserting")
            time.sleep(120)
        yield blob

geo.store.gpkg_format.encode_points = slow_points
n = 4_000
frame = pd.DataFrame({"id": [f"K{i}" for i in range(n)], "date": ["2025-01-02"] * n,
                      "type": ["smuggling"] * n})
store_frame(open_store(sys.argv[1]),
    schema.conform_incidents(frame, shapely.points([(36.38472, 34.39417)] * n)))
"""


def test_a_writer_killed_mid_upload_leaves_the_earlier_rows_and_none_of_its_own(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    store_frame(store, incidents([f"E{i}" for i in range(50)]))
    marker = tmp_path / "marker"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(store.path), str(marker)],
        env=env,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()
    reopened = open_store(store.path)
    stored = reopened.read()
    assert sorted(stored["id"]) == sorted(f"E{i}" for i in range(50))
    assert gpkg_count(store.path) == 50 == reopened.count()
    assert reopened.audit()["action"].tolist() == ["add"]
    # the lock died with the writer: the next upload goes through
    store_frame(reopened, incidents(["AFTER"]))
    assert reopened.count() == 51


def test_large_batches_round_trip_through_the_staging_path(tmp_path):
    from geo.store import STAGING_MIN_ROWS

    n = STAGING_MIN_ROWS + 10
    frame = pd.DataFrame(
        {
            "id": [f"L{i}" for i in range(n)],
            "date": pd.date_range("2020-01-01", periods=n, freq="D").strftime("%Y-%m-%d"),
            "type": "smuggling",
            "description": ["<b>x</b> ${y}" if i % 2 else None for i in range(n)],
            "quantity": [float(i) if i % 3 else None for i in range(n)],
            "date_precision_days": 7,
            "location_precision_m": 250.0,
        }
    )
    gdf = schema.conform_incidents(frame, shapely.points([HERMEL] * n))
    store = open_store(tmp_path / "s.gpkg", create=True)
    store_frame(store, incidents(["FIRST"]))
    batch = store_frame(store, gdf, source_file="big.geojson", sha256="ab" * 32)
    stored = store.read()
    assert len(stored) == n + 1 == gpkg_count(store.path)
    got = stored.iloc[1:].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got[list(schema.INCIDENT_COLUMNS)], gdf[list(schema.INCIDENT_COLUMNS)]
    )
    assert (got["batch_id"] == batch).all() and (got["source_file"] == "big.geojson").all()
    assert (got["source_sha256"] == "ab" * 32).all()
    audit = store.audit()
    assert (got["ingested_at"] == audit["at"].iloc[-1]).all()
    assert got["unit"].isna().all() and got["actor1"].isna().all()  # never staged: NULL
    assert list(store.path.parent.glob("*.staging.gpkg")) == []
    with pytest.raises(ValidationError, match="clash with stored incidents"):
        store_frame(store, gdf)  # same ids: nothing stored
    assert store.count() == n + 1
    assert store.undo(batch) == n and store.read()["id"].tolist() == ["FIRST"]


def test_first_use_seeds_without_waiting_on_its_own_lock(tmp_path, monkeypatch):
    # the report: first `geo density` on a fresh store in /tmp, border layer missing, waited
    # 120 s on the store lock. Seeding takes the lock again (the seed's transaction inside
    # the creation): both must be the same re-entrant lock, so this takes well under 5 s.
    import layers
    from geo.errors import LayerError
    from geo.store import file_lock as store_module

    def missing_border():
        raise LayerError("layer 'border': file is missing")

    monkeypatch.setattr(layers, "load_border_line", missing_border)
    monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 5.0)
    monkeypatch.setenv(settings.STORE_ENV_VAR, str(tmp_path / "fresh" / "incidents.gpkg"))
    start = time.perf_counter()
    stored = load_incidents(open_seeded_store())
    assert time.perf_counter() - start < 5.0
    assert sorted(stored["id"]) == sorted(gpd.read_file(SAMPLE)["id"])
    assert open_store().audit()["action"].tolist() == ["seed"]


def test_every_spelling_of_a_store_path_shares_one_lock(tmp_path, monkeypatch):
    from geo.store.file_lock import _locks

    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path / "real")
    relative = open_store("s.gpkg", create=True)
    spellings = [relative, open_store(tmp_path / "real" / "s.gpkg")]
    spellings.append(open_store(tmp_path / "link" / "s.gpkg"))
    pairs = [_locks(s.path, s._lock_path) for s in spellings]
    assert all(pair[0] is pairs[0][0] and pair[1] is pairs[0][1] for pair in pairs)
    # the lock file is absolute: a later chdir does not move it
    assert Path(pairs[0][1].lock_file) == tmp_path / "real" / "s.gpkg.lock"
    monkeypatch.chdir(tmp_path)
    store_frame(relative, incidents(["A"]))
    assert open_store(tmp_path / "link" / "s.gpkg").count() == 1


def test_a_timeout_inside_a_write_is_not_reported_as_a_busy_store(tmp_path):
    from filelock import Timeout

    store = open_store(tmp_path / "s.gpkg", create=True)
    with pytest.raises(Timeout), store._write_lock():
        raise Timeout("some other lock")
    store_frame(store, incidents(["A"]))  # the store's lock was released
    assert store.count() == 1


def test_a_lock_held_by_another_process_is_reported_as_busy(tmp_path, monkeypatch):
    from geo.store import file_lock as store_module

    store = open_store(tmp_path / "s.gpkg", create=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from filelock import FileLock; "
            "lock = FileLock(sys.argv[1]); lock.acquire(); print('held', flush=True); "
            "time.sleep(30)",
            str(store._lock_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(store_module, "_LOCKS", {})
        monkeypatch.setattr(store_module, "LOCK_TIMEOUT_S", 0.3)
        with pytest.raises(StoreError, match=r"busy: another process held its lock .* 0\.3 s"):
            store_frame(store, incidents(["A"]))
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert store.count() == 0


def test_a_frame_that_does_not_fit_the_schema_is_refused_row_by_row(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    gdf = incidents(["A", "B", "C", "D"])
    gdf.loc[1, "geometry"] = shapely.box(36.3, 34.3, 36.4, 34.4)
    gdf.loc[2, "type"] = None
    gdf.loc[3, "id"] = None
    gdf.loc[3, "geometry"] = None
    with pytest.raises(ValidationError, match="does not fit the incident schema") as caught:
        store_frame(store, gdf)
    assert [(p.index, p.feature_id, p.field, p.reason) for p in caught.value.problems] == [
        (1, "B", "geometry", "not a Point"),
        (2, "C", "type", "type is missing"),
        (3, None, "geometry", "not a Point"),
        (3, None, "id", "id is missing"),
    ]
    assert caught.value.problems[0].value.startswith("POLYGON")
    assert store.count() == 0


@pytest.mark.parametrize(
    "url", ["mysql://u@127.0.0.1:1/db", "http://x", "sqlite://u:hunter2@db.example/x"]
)
@pytest.mark.parametrize("via", ["argument", "environment"])
def test_a_url_is_refused_and_nothing_is_created(url, via, tmp_path, monkeypatch):
    # a URL other than postgresql:// is refused, and not taken for a relative path
    # (which created a folder "postgresql:"); postgresql:// URLs open a PostGIS store
    # (tests/test_store_contract.py)
    monkeypatch.chdir(tmp_path)
    if via == "environment":
        monkeypatch.setenv(settings.STORE_ENV_VAR, url)
    location = url if via == "argument" else None
    scheme = url.split(":", 1)[0]
    with pytest.raises(StoreError, match=rf"is a {scheme}:// URL; only a GeoPackage file") as err:
        open_seeded_store(location, create=True)
    message = str(err.value)
    assert url.replace("hunter2", "***") in message and "hunter2" not in message
    assert ("$BORDERMON_STORE" if via == "environment" else "(--store)") in message
    assert "give the path of a .gpkg file" in message
    assert list(tmp_path.iterdir()) == []


def test_content_token_changes_with_every_write_and_the_hash_with_the_content(tmp_path):
    store = open_store(tmp_path / "s.gpkg", create=True)
    store_frame(store, incidents(["A", "B"]))
    token, content = store.content_token(), store.content_hash()
    assert store.content_token() == token  # reading changes nothing
    batch = store_frame(store, incidents(["C"]))
    assert store.content_token() != token and store.content_hash() != content
    after_add = store.content_token()
    store.undo(batch)
    assert store.content_token() not in (token, after_add)
    assert store.content_hash() == content  # the same incidents as before the upload
    assert list(store.audit().columns) == list(AUDIT_COLUMNS)  # the interface's audit
    other = open_store(tmp_path / "other.gpkg", create=True)
    store_frame(other, incidents(["A", "B"]))
    assert other.content_hash() == content and other.content_token() != token
