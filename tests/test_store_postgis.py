"""What only a PostGIS store has: URLs and credentials, its errors, the tables QGIS reads,
and writers that run side by side, die, or lose their server.

The contract both stores share is tests/test_store_contract.py. These tests use the
throwaway server of tests/pgcluster.py (``pg_server``, ``pg_url`` in conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import shapely

from geo import schema, settings
from geo.cli import main
from geo.errors import StoreError, ValidationError
from geo.ingest import open_seeded_store, store_frame
from geo.store import open_store
from geo.store.postgis import PostgisStore

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = settings.SAMPLE_INCIDENTS_PATH
#: Events in the bundled record (issue 15: no longer six).
N_SAMPLE = len(json.loads(SAMPLE.read_text("utf-8"))["features"])
HERMEL = (36.38472, 34.39417)


def incidents(ids, *, date="2025-01-01"):
    n = len(ids)
    frame = pd.DataFrame({"id": list(ids), "date": [date] * n, "type": ["seizure"] * n})
    return schema.conform_incidents(frame, shapely.points([HERMEL] * n))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sql(url: str, statement: str, params=None) -> list[tuple]:
    with psycopg.connect(url, autocommit=True) as con:
        cursor = con.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@pytest.fixture
def cluster(pg_server):
    """The test server itself (its databases, logins and restarts): not a server of your own."""
    if not hasattr(pg_server, "create_database"):
        pytest.skip("needs the throwaway cluster of tests/pgcluster.py, not BORDERMON_TEST_PG")
    return pg_server


@pytest.fixture
def database(cluster):
    """A new database without PostGIS (the store adds it: the cluster's user is superuser)."""
    return cluster.create_database(f"db_{uuid.uuid4().hex[:10]}")


# --- URLs, credentials and what goes wrong ----------------------------------------------------


def test_the_password_is_never_shown(pg_url):
    with_password = pg_url.replace("postgres@", "postgres:hunter2@") + "&password=hunter3"
    store = open_store(with_password)  # the cluster trusts loopback: any password logs in
    assert isinstance(store, PostgisStore)
    assert store.location == pg_url and "hunter" not in repr(store)
    store_frame(store, incidents(["A"]))
    assert "hunter" not in store.content_token()
    with pytest.raises(StoreError) as caught:
        store.undo("nope")
    assert "hunter" not in str(caught.value)


def test_credentials_come_from_libpq_pgpassword_pgpass_and_service_files(
    cluster, tmp_path, monkeypatch
):
    user, password = f"u_{uuid.uuid4().hex[:8]}", "s3cret-Pw"
    cluster.require_password(user, password)
    cluster.sql(f"CREATE SCHEMA {user} AUTHORIZATION {user}")
    url = cluster.database_url(cluster.database, user) + f"?options=-csearch_path%3D{user},public"
    for name in ("PGPASSWORD", "PGPASSFILE", "PGSERVICEFILE", "PGSERVICE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))  # never the developer's
    with pytest.raises(StoreError) as caught:
        open_store(url)
    message = str(caught.value)
    assert f"cannot connect to 127.0.0.1 port {cluster.port}" in message
    assert "PGPASSWORD, ~/.pgpass or a service file" in message and "\n" not in message
    monkeypatch.setenv("PGPASSWORD", "wrong")
    with pytest.raises(StoreError, match="password authentication failed") as caught:
        open_store(url)
    assert "wrong" not in str(caught.value).replace("password authentication failed", "")
    monkeypatch.setenv("PGPASSWORD", password)
    store_frame(open_store(url), incidents(["FROM-PGPASSWORD"]))
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{cluster.port}:{cluster.database}:{user}:{password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert open_store(url).count() == 1
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    services = tmp_path / "pg_service.conf"
    services.write_text(
        f"[monitor]\nhost=127.0.0.1\nport={cluster.port}\ndbname={cluster.database}\n"
        f"user={user}\npassword={password}\noptions=-csearch_path={user},public\n"
    )
    monkeypatch.setenv("PGSERVICEFILE", str(services))
    store = open_store("postgresql:///?service=monitor")
    assert store.location == "postgresql:///?service=monitor" and store.count() == 1


def test_an_unreachable_server_is_one_line_naming_host_and_port(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    port = free_port()
    url = f"postgresql://ana:hunter2@127.0.0.1:{port}/monitor"
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    done = subprocess.run(
        [sys.executable, "-m", "geo", "analyze", "--store", url],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: incident store postgresql://ana@127.0.0.1")
    assert f"cannot connect to 127.0.0.1 port {port}" in lines[0]
    assert "hunter2" not in done.stderr and "Traceback" not in done.stderr
    monkeypatch.setenv(settings.STORE_ENV_VAR, url)
    assert main(["users", "list"]) == 1
    assert list(tmp_path.iterdir()) == []  # nothing created, not even a folder "postgresql:"


def test_a_missing_database_says_how_to_create_it(pg_server):
    url = pg_server.url.rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(StoreError, match=r"does not exist.*createdb no_such_database"):
        open_store(url)


def test_postgis_is_created_when_allowed_and_named_when_not(cluster, database):
    store = open_store(database)  # superuser: it creates the extension
    assert store.count() == 0
    assert sql(database, "SELECT extname FROM pg_extension WHERE extname = 'postgis'")
    bare = cluster.create_database(f"db_{uuid.uuid4().hex[:10]}")
    role = f"r_{uuid.uuid4().hex[:8]}"
    cluster.sql(f"CREATE ROLE {role} LOGIN")
    with pytest.raises(StoreError) as caught:
        open_store(bare.replace("//postgres@", f"//{role}@"))
    message = str(caught.value)
    assert "has no PostGIS extension and user" in message and role in message
    assert "fix: a database owner runs CREATE EXTENSION postgis;" in message
    assert "\n" not in message
    assert not sql(bare, "SELECT 1 FROM pg_tables WHERE tablename = 'incidents'")


def test_tables_of_something_else_are_not_taken_for_a_store(pg_url):
    sql(pg_url, "CREATE TABLE incidents (a int)")
    with pytest.raises(StoreError, match=r"is not an incident store \(incidents lacks"):
        open_store(pg_url)


def test_a_database_that_is_not_utf8_is_refused(cluster):
    name = f"latin_{uuid.uuid4().hex[:8]}"
    cluster.sql(
        f"CREATE DATABASE {name} ENCODING 'LATIN1' TEMPLATE template0 LC_COLLATE 'C' LC_CTYPE 'C'"
    )
    with pytest.raises(StoreError, match="encoding is LATIN1"):
        open_store(cluster.database_url(name))


def test_the_environment_chooses_a_database_store_that_is_never_seeded(pg_url, monkeypatch):
    monkeypatch.setenv(settings.STORE_ENV_VAR, pg_url)
    store = open_seeded_store()
    assert isinstance(store, PostgisStore) and store.count() == 0 and store.audit().empty
    assert main(["ingest", str(SAMPLE)]) == 0
    assert open_store().count() == N_SAMPLE


def test_an_edit_made_by_another_program_changes_the_token_and_is_read(pg_url):
    store = open_store(pg_url)
    store_frame(store, incidents(["A", "B"]), source_file="a.geojson")
    token, content = store.content_token(), store.content_hash()
    sql(store._url, "UPDATE incidents SET description = 'edited in QGIS' WHERE id = 'A'")
    assert store.content_token() != token and store.content_hash() != content
    # rows of one batch that no longer agree on the store's columns are read row by row
    sql(store._url, "UPDATE incidents SET source_file = 'fixed.geojson' WHERE id = 'B'")
    sql(store._url, "UPDATE incidents SET ingested_at = NULL WHERE id = 'A'")
    stored = store.read()
    assert stored["source_file"].tolist() == ["a.geojson", "fixed.geojson"]
    assert stored["ingested_at"].isna().tolist() == [True, False]
    assert stored["description"].tolist()[0] == "edited in QGIS"
    assert stored["batch_id"].nunique() == 1


def test_a_bulk_load_rebuilds_the_spatial_index_and_keeps_the_contract(pg_url, monkeypatch):
    import geo.store.postgis as postgis

    monkeypatch.setattr(postgis, "BULK_MIN_ROWS", 10)
    store = open_store(pg_url)
    store_frame(store, incidents(["S0", "S1"]))
    ids = [f"L{i}" for i in range(25)]
    store_frame(store, incidents(ids))  # 25 >= 10 and more than the 2 stored: bulk
    index = "SELECT indexdef FROM pg_indexes WHERE indexname = 'incidents_geom_idx'"
    assert "USING gist (geom)" in sql(pg_url, index)[0][0]
    assert store.read()["id"].tolist() == ["S0", "S1", *ids]  # the order stored
    with pytest.raises(ValidationError, match="clash"):
        store_frame(store, incidents([f"M{i}" for i in range(40)] + ["L3"]))
    assert sql(pg_url, index) and store.count() == 27  # the drop was rolled back too
    near = store.incidents_near([HERMEL[0]], [HERMEL[1]], distance_m=100)
    assert len(near) == 27


# --- how a read travels ------------------------------------------------------------------


def awkward_incidents(n: int) -> pd.DataFrame:
    """``n`` incidents whose text needs CSV quoting: quotes, commas, new lines, empty, NULL."""
    texts = ["plain", 'a "quoted" word', "comma, then more", "two\nlines", "", None, "ünï ✓"]
    frame = incidents([f"R{i:04d}" for i in range(n)])
    frame["description"] = [texts[i % len(texts)] for i in range(n)]
    frame["actor1"] = [texts[(i + 3) % len(texts)] for i in range(n)]
    frame["quantity"] = [None if i % 5 == 0 else i / 7 for i in range(n)]
    frame["date"] = pd.to_datetime("2025-01-01") + pd.to_timedelta(
        [i % 400 for i in range(n)], unit="D"
    )
    return frame


def test_a_read_parsed_in_many_pieces_as_it_arrives_equals_one_piece(pg_url, monkeypatch):
    import geo.store.postgis as postgis

    store = open_store(pg_url)
    store_frame(store, awkward_incidents(700))
    whole = store.read(since="2025-02-01")
    pieces = []
    parse = postgis.parse_rows

    def counted(*args, **kwargs):
        pieces.append(kwargs.get("rows"))
        return parse(*args, **kwargs)

    monkeypatch.setattr(postgis, "PARSE_CHUNK_BYTES", 256)
    monkeypatch.setattr(postgis, "parse_rows", counted)
    chunked = store.read(since="2025-02-01")
    assert len(pieces) > 50 and sum(pieces) == len(chunked) == len(whole)
    pd.testing.assert_frame_equal(pd.DataFrame(chunked), pd.DataFrame(whole))
    assert chunked["description"].isna().sum() == whole["description"].isna().sum() > 0
    assert (chunked["description"] == "").sum() > 0  # empty text stays text, not NULL


def test_rows_moved_on_disk_are_read_in_stored_order(pg_url):
    store = open_store(pg_url)
    store_frame(store, awkward_incidents(300))
    before = store.read()["id"].tolist()
    # an UPDATE writes new row versions at the end of the table: a scan meets them last
    sql(store._url, "UPDATE incidents SET unit = 'kg' WHERE id < 'R0100'")
    scanned = [r[0] for r in sql(store._url, "SELECT id FROM incidents")]
    assert scanned != before  # the table's physical order did change
    after = store.read()
    assert after["id"].tolist() == before and set(after.loc[:99, "unit"]) == {"kg"}


def test_copies_side_by_side_report_the_failing_one_and_leave_both_usable(pg_url):
    from geo.store.postgis import CopyJob, copy_together

    with (
        psycopg.connect(pg_url, autocommit=True) as a,
        psycopg.connect(pg_url, autocommit=True) as b,
    ):
        long = "COPY (SELECT g FROM generate_series(1, 50000) g) TO STDOUT"
        with pytest.raises(psycopg.errors.DivisionByZero):
            copy_together([CopyJob(a, long), CopyJob(b, "COPY (SELECT 1/0) TO STDOUT")])
        assert a.execute("SELECT 1").fetchone() == (1,)
        assert b.execute("SELECT 2").fetchone() == (2,)
        (job,) = copy_together([CopyJob(a, "COPY (SELECT %s::text) TO STDOUT", ["it's"])])
        assert job.pieces == [b"it's\n"] and job.rows == 1


# --- what QGIS and other GIS tools read --------------------------------------------------------


def _ogrinfo(url: str, layer: str) -> str | None:
    """Return ``ogrinfo -so`` of a layer through GDAL's PostgreSQL driver, if GDAL has it."""
    if not shutil.which("ogrinfo"):
        return None
    formats = subprocess.run(["ogrinfo", "--formats"], capture_output=True, text=True).stdout
    if "PostgreSQL" not in formats:
        return None
    host, rest = url.split("@", 1)[1].split(":", 1)
    port, database = rest.split("/", 1)
    source = f"PG:host={host} port={port} dbname={database} user=postgres"
    done = subprocess.run(
        ["ogrinfo", "-ro", "-so", source, layer], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_analyze_publishes_the_ranked_sectors_where_qgis_finds_them(database, tmp_path, capsys):
    gpkg = str(tmp_path / "s.gpkg")
    for location in (gpkg, database):
        assert main(["ingest", str(SAMPLE), "--store", location]) == 0
    capsys.readouterr()
    outputs = []
    for location in (gpkg, database):
        assert main(["analyze", "--store", location, "--format", "json", "--draws", "100"]) == 0
        outputs.append(capsys.readouterr())
    rankings = [json.loads(o.out) for o in outputs]
    assert rankings[1]["parameters"].pop("store") == database
    assert rankings[0]["parameters"].pop("store") == gpkg
    assert rankings[0] == rankings[1]  # the same ranking, whichever store
    assert "published" not in outputs[0].err
    assert outputs[1].err.strip() == (
        f"ranked sectors published as table ranked_sectors of {database}"
    )
    sectors = rankings[1]["sectors"]
    columns = sql(
        database,
        "SELECT f_geometry_column, type, srid FROM geometry_columns ORDER BY f_table_name",
    )
    assert columns == [("geom", "POINT", 4326), ("geom", "MULTIPOLYGON", 4326)]
    indexes = dict(sql(database, "SELECT indexname, indexdef FROM pg_indexes"))
    assert "USING gist (geom)" in indexes["ranked_sectors_geom_idx"]
    assert "USING gist (geom)" in indexes["incidents_geom_idx"]
    assert "(sector_id)" in indexes["ranked_sectors_pkey"] and "(fid)" in indexes["incidents_pkey"]
    rows = sql(
        database,
        "SELECT sector_id, rank, score, ST_AsText(geom), computed_at, parameters "
        "FROM ranked_sectors ORDER BY rank",
    )
    assert [(r[0], r[1]) for r in rows] == [(s["sector_id"], s["rank"]) for s in sectors]
    assert all(r[3].startswith("MULTIPOLYGON(((") for r in rows)
    assert rows[0][4].utcoffset() is not None and rows[0][5]["draws"] == 100
    for layer, kind, fid, count in (
        ("ranked_sectors", "Multi Polygon", "sector_id", len(sectors)),
        ("incidents", "Point", "fid", N_SAMPLE),
    ):
        info = _ogrinfo(database, layer)
        if info is not None:
            assert f"Geometry: {kind}" in info and f"Feature Count: {count}" in info
            assert f"FID Column = {fid}" in info
    # the next ranking replaces the rows and keeps what the admin granted on the table
    sql(database, "CREATE ROLE qgis_viewer_" + database[-10:])
    sql(database, f"GRANT SELECT ON ranked_sectors TO qgis_viewer_{database[-10:]}")
    assert main(["analyze", "--store", database, "--format", "csv", "--sector-km", "10"]) == 0
    (count,) = sql(database, "SELECT count(*) FROM ranked_sectors")[0]
    assert 0 < count < len(sectors)
    assert sql(
        database,
        f"SELECT has_table_privilege('qgis_viewer_{database[-10:]}', 'ranked_sectors', 'SELECT')",
    ) == [(True,)]


def test_a_read_only_login_still_analyses_and_is_warned(cluster, database, capsys):
    assert main(["ingest", str(SAMPLE), "--store", database]) == 0
    role = f"ro_{uuid.uuid4().hex[:8]}"
    cluster.sql(f"CREATE ROLE {role} LOGIN")
    sql(database, f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    capsys.readouterr()
    reader = database.replace("//postgres@", f"//{role}@")
    assert main(["analyze", "--store", reader, "--format", "csv", "--draws", "50"]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("rank,sector_id")
    assert out.err.startswith("warning: the ranking was not published in the store:")
    assert len(out.err.strip().splitlines()) == 1


def test_the_report_manifest_names_the_database_not_its_password(pg_url, tmp_path, capsys):
    assert main(["ingest", str(SAMPLE), "--store", pg_url]) == 0
    secret = pg_url.replace("postgres@", "postgres:hunter2@")
    out = tmp_path / "report"
    args = ["report", "--out", str(out), "--format", "csv", "--store", secret, "--draws", "50"]
    assert main(args) == 0
    printed = capsys.readouterr()
    assert "hunter2" not in printed.out + printed.err
    assert main(["analyze", "--store", secret, "--format", "json", "--draws", "20"]) == 0
    ranking = capsys.readouterr().out
    assert json.loads(ranking)["parameters"]["store"] == pg_url and "hunter2" not in ranking
    (parameters,) = sql(pg_url, "SELECT DISTINCT parameters FROM ranked_sectors")[0]
    assert parameters["store"] == pg_url
    for path in out.iterdir():
        assert b"hunter2" not in path.read_bytes(), path.name
    manifest = json.loads((out / "manifest.json").read_text())
    assert f"--store '{pg_url}'" in manifest["command"]
    (store_input,) = [i for i in manifest["inputs"] if i["role"] == "incident store"]
    assert store_input["name"] == pg_url
    assert store_input["sha256"] == open_store(pg_url).content_hash()


# --- writers side by side, killed, or cut off ------------------------------------------------

UPLOADER = """
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


@pytest.mark.slow
def test_four_processes_times_one_hundred_uploads_store_every_row_once(pg_url):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", UPLOADER, pg_url, str(k)], env=env, stderr=subprocess.PIPE
        )
        for k in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
    store = open_store(pg_url)
    stored = store.read()
    assert len(stored) == 400 == store.count() and stored["id"].is_unique
    assert set(stored["id"]) == {f"P{k}-{i}" for k in range(4) for i in range(100)}
    audit = store.audit()
    assert len(audit) == 400 and audit["batch_id"].is_unique
    assert store._rows_by_batch() == dict.fromkeys(audit["batch_id"], 1)


WRITER = """
import sys, time
from pathlib import Path
import pandas as pd, psycopg, shapely
from geo import schema
from geo.cli import main
from geo.store.postgis import PostgisStore

url, marker, mode, data = sys.argv[1:5]
go = Path(marker + ".go")

def pause(label):
    Path(marker).write_text(label)
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.02)

if mode == "copying":  # half the rows sent, inside the COPY
    real_write = psycopg.Copy.write
    def write(self, buffer):
        half = len(buffer) // 2
        real_write(self, buffer[:half])
        pause("copying")
        real_write(self, buffer[half:])
    psycopg.Copy.write = write
else:  # every row inserted, the audit row and the commit still to come
    real_audit = PostgisStore._audit
    def audit(*args, **kwargs):
        pause("inserted")
        return real_audit(*args, **kwargs)
    PostgisStore._audit = staticmethod(audit)
if data.endswith(".geojson"):  # through the command line, as an analyst runs it
    sys.exit(main(["ingest", data, "--store", url]))
from geo.ingest import store_frame
from geo.store import open_store
n = int(data)
frame = pd.DataFrame({"id": [f"K{i}" for i in range(n)], "date": "2025-01-02",
                      "type": "smuggling"})
store_frame(open_store(url), schema.conform_incidents(frame, shapely.points([(36.4, 34.4)] * n)))
"""


def _big_file(folder: Path, n: int = 4_000) -> Path:
    features = [
        {
            "type": "Feature",
            "properties": {"id": f"K{i}", "date": "2025-01-02", "type": "smuggling"},
            "geometry": {"type": "Point", "coordinates": list(HERMEL)},
        }
        for i in range(n)
    ]
    path = folder / "big.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _start_writer(
    url: str, folder: Path, mode: str, *, cli: bool = False
) -> tuple[subprocess.Popen, Path]:
    """Start a writer of 4,000 incidents that pauses mid-batch (``mode``); wait for the pause.

    ``cli``: it runs ``python -m geo ingest`` on a file (else it stores a frame: quicker).
    """
    marker = folder / f"marker-{mode}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    data = str(_big_file(folder)) if cli else "4000"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(marker), mode, data],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not marker.exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
        assert time.monotonic() < deadline, "the writer never reached its pause"
        time.sleep(0.05)
    return proc, marker


def _writers_left(url: str) -> int:
    """Return the sessions of the store (application bordermon) still open on the server."""
    deadline = time.monotonic() + 30
    while True:
        (n,) = sql(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'bordermon' "
            "AND pid <> pg_backend_pid()",
        )[0]
        if n == 0 or time.monotonic() > deadline:
            return n
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["copying", "inserted"])
def test_a_writer_killed_mid_batch_leaves_nothing_of_it(pg_url, tmp_path, mode):
    store = open_store(pg_url)
    store_frame(store, incidents([f"E{i}" for i in range(50)]))
    token = store.content_token()
    proc, _ = _start_writer(pg_url, tmp_path, mode)
    try:
        assert store.count() == 50  # the batch's rows are not visible before its commit
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.communicate()
    assert _writers_left(pg_url) == 0  # the server rolled the transaction back
    assert sorted(store.read()["id"]) == sorted(f"E{i}" for i in range(50))
    assert store.audit()["action"].tolist() == ["add"] and store.content_token() == token
    assert sql(pg_url, "SELECT count(*) FROM pg_class WHERE relname = 'incidents_staging'") == [
        (0,)
    ]
    # nothing held: the killed batch's ids can be stored now
    store_frame(store, incidents(["K0", "K1"]))
    assert store.count() == 52


@pytest.mark.slow
def test_a_writer_whose_connection_is_cut_fails_in_one_line_and_stores_nothing(pg_url, tmp_path):
    store = open_store(pg_url)
    proc, marker = _start_writer(pg_url, tmp_path, "inserted", cli=True)
    try:
        terminated = sql(
            pg_url,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'bordermon' AND pid <> pg_backend_pid()",
        )
        assert terminated == [(True,)]
        Path(str(marker) + ".go").write_text("go")
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("error: incident store postgresql://")
    assert "was lost while storing big.geojson" in lines[0]
    assert "nothing of it was written" in lines[0]
    assert store.count() == 0 and store.audit().empty


@pytest.mark.slow
def test_a_server_restarted_between_two_uploads(cluster, pg_url):
    store = open_store(pg_url)
    store_frame(store, incidents(["BEFORE"]))
    cluster.restart()
    store_frame(store, incidents(["AFTER"]))  # the same store object: a new connection
    assert store.read()["id"].tolist() == ["BEFORE", "AFTER"]
    cluster.stop()
    try:
        with pytest.raises(StoreError) as caught:
            store_frame(store, incidents(["WHILE-DOWN"]))
        message = str(caught.value)
        assert f"cannot connect to 127.0.0.1 port {cluster.port}" in message
        assert "\n" not in message
    finally:
        cluster.start()
    assert store.read()["id"].tolist() == ["BEFORE", "AFTER"]
    assert len(store.audit()) == 2
    store_frame(store, incidents(["WHILE-DOWN"]))
    assert store.count() == 3
    with pytest.raises(ValidationError, match="clash"):
        store_frame(store, incidents(["AFTER"]))
