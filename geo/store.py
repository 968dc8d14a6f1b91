"""The incident store: a GeoPackage that loses nothing.

One GeoPackage file (``settings.DEFAULT_STORE_PATH``, or ``$BORDERMON_STORE``, or
an explicit path) holds the layer ``incidents`` (the schema of :mod:`geo.schema`
with the store's columns) and the table ``ingest_audit`` (one row per upload,
seed and undo: time, action, batch, file name, SHA-256, counts, user).

Guarantees
----------
- An upload is all-or-nothing: its rows, its audit row and the layer's feature
  count are written in one SQLite transaction. A writer killed half-way leaves
  the store as it was before (SQLite rolls the journal back on next open).
- Writes are serialised across processes (a file lock, ``<store>.lock``) and
  across threads (a lock per store path).
- The cached feature count in ``gpkg_ogr_contents`` is recomputed in every write
  transaction, so GDAL readers (QGIS, ``pyogrio.read_dataframe``) see every row.
- Ids are unique (a UNIQUE index); an upload whose ids are already stored is
  refused as a whole.
- A batch can be undone; the undo is audited too.

Reads go through SQL (:meth:`IncidentStore.read`, :func:`load_incidents`), with the
date and type filters in the query.

The default store (no explicit path) is created and seeded with the bundled
sample (``data/sample_incidents.geojson``) on first use. An explicit path that
does not exist is an error unless ``create=True`` (``geo ingest --store`` does
that, and does not seed).
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import logging
import os
import sqlite3
import threading
import uuid
import warnings
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import schema, settings
from geo.errors import FeatureProblem, StoreError, ValidationError
from geo.lookup import select_near
from geo.selection import filter_incidents, normalize_filters

logger = logging.getLogger(__name__)

#: Name of the incident layer in the GeoPackage.
LAYER = "incidents"
#: Name of the audit table.
AUDIT_TABLE = "ingest_audit"
#: Seconds to wait for another writer before giving up.
LOCK_TIMEOUT_S = 120.0
#: Batches at least this large go through a staging GeoPackage written by GDAL (Arrow) and
#: one INSERT ... SELECT: a third of the CPU time of binding every value from Python.
STAGING_MIN_ROWS = 5_000
#: The bundled sample that seeds a new default store.
SAMPLE_PATH = settings.SAMPLE_INCIDENTS_PATH

_SRS_ID = 4326
#: GeoPackage geometry header: "GP", version 0, flags (little-endian, no envelope), srs_id.
_GPKG_HEADER = b"GP\x00\x01" + _SRS_ID.to_bytes(4, "little")
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}

_COLUMN_SQL = {
    "str": "TEXT",
    "datetime64[ns]": "DATE",
    "datetime64[ns, UTC]": "DATETIME",
    "int64": "INTEGER",
    "float64": "REAL",
}
_ALL_COLUMNS = schema.INCIDENT_COLUMNS + schema.STORE_COLUMNS

_LOCKS: dict[str, tuple[threading.RLock, object]] = {}
_LOCKS_GUARD = threading.Lock()


def _locks(path: Path, lock_path: Path) -> tuple[threading.RLock, object]:
    """Return the thread lock and the (re-entrant) file lock of a store, one pair per lock file.

    One pair per process: a second FileLock object on the same file is a second open
    file, whose ``flock`` waits for the first even in the same thread (a self-deadlock
    until the timeout). Keyed and created by the absolute lock path, so every spelling
    of the store's path (relative, through a symbolic link) shares the pair, and a
    later ``chdir`` cannot send a relative lock path to another file.
    """
    from filelock import FileLock

    key = str(lock_path.resolve())
    with _LOCKS_GUARD:
        if key not in _LOCKS:
            _LOCKS[key] = (threading.RLock(), FileLock(key, timeout=LOCK_TIMEOUT_S))
        return _LOCKS[key]


def _now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC").floor("ms")


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


def _new_batch_id(now: pd.Timestamp) -> str:
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def encode_points(geometry: gpd.GeoSeries) -> list[bytes]:
    """Return GeoPackage geometry blobs of Points (header without envelope, then WKB)."""
    import shapely

    wkb = shapely.to_wkb(geometry.to_numpy(), byte_order=1, output_dimension=2)
    return [_GPKG_HEADER + blob for blob in wkb]


def decode_points(blobs: Iterable[bytes | None]) -> np.ndarray:
    """Return shapely geometries from GeoPackage geometry blobs (any envelope)."""
    import shapely

    wkb = [
        None if b is None else bytes(b[8 + _ENVELOPE_BYTES.get((b[3] >> 1) & 7, 0) :])
        for b in blobs
    ]
    return shapely.from_wkb(wkb)


@dataclass(frozen=True)
class _BatchInfo:
    """What the audit row of a batch records."""

    batch_id: str
    now: pd.Timestamp
    source_file: str
    sha256: str
    fmt: str | None
    features: int
    rejected: int
    warnings: int
    action: str = "add"
    note: str | None = None


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(f'"{name}"' for name in names)


def _create_sql() -> list[str]:
    columns = ", ".join(
        f'"{name}" {_COLUMN_SQL[schema.INCIDENT_DTYPES[name]]}'
        + (" NOT NULL" if name in ("id", "date", "type", "batch_id") else "")
        for name in _ALL_COLUMNS
    )
    return [
        f'DROP TABLE IF EXISTS "{LAYER}"',
        f'CREATE TABLE "{LAYER}" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
        f'"geom" POINT, {columns})',
        f'CREATE UNIQUE INDEX "{LAYER}_id" ON "{LAYER}" ("id")',
        # only the id is indexed: an index on date or batch costs 0.4 s per 100,000 rows
        # stored and a scan of 100,000 rows is a few milliseconds
        # no per-row count triggers (100,000 UPDATEs per upload): every write transaction
        # sets gpkg_ogr_contents.feature_count itself (see IncidentStore._transaction)
        f'CREATE TABLE "{AUDIT_TABLE}" ("event_id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
        '"at" DATETIME NOT NULL, "action" TEXT NOT NULL, "batch_id" TEXT, "source_file" TEXT, '
        '"source_sha256" TEXT, "format" TEXT, "features" INTEGER, "accepted_count" INTEGER, '
        '"rejected_count" INTEGER, "warning_count" INTEGER, "user" TEXT, "note" TEXT)',
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
        f"VALUES ('{AUDIT_TABLE}', 'attributes', '{AUDIT_TABLE}', "
        "'one row per upload, seed and undo of the incident store')",
    ]


class IncidentStore:
    """The incident store (a GeoPackage file).

    Parameters
    ----------
    path
        The GeoPackage file; ``None`` resolves ``$BORDERMON_STORE``, else
        :data:`geo.settings.DEFAULT_STORE_PATH`.
    create
        Create the file when it does not exist. Default: ``True`` for the default
        store, ``False`` for an explicit path (a missing explicit store is an error).
    seed
        Seed a newly created store with the bundled sample. Default: as ``create``
        for the default store, ``False`` for an explicit path.

    Attributes
    ----------
    path
        The absolute path of the file (symbolic links kept as given).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool | None = None,
        seed: bool | None = None,
    ) -> None:
        explicit = path is not None and str(path) != ""
        # absolute: a later chdir (a test, a host app) must not move the store or its lock
        self.path = settings.resolve_store_path(path).absolute()
        self._lock_path = self.path.with_name(self.path.name + ".lock")
        create = (not explicit) if create is None else create
        seed = (not explicit) if seed is None else seed
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"incident store {self.path} does not exist; check --store (or "
                    f"${settings.STORE_ENV_VAR}), or create it with "
                    f"`python -m geo ingest FILE --store {self.path}`"
                )
            self._create(seed=seed)
        elif self.path.is_dir():
            raise StoreError(f"incident store {self.path} is a folder; give a .gpkg file path")
        self._check()

    def __repr__(self) -> str:
        return f"IncidentStore({str(self.path)!r})"

    # --- low level ---------------------------------------------------------------

    def _connect(self, path: Path | None = None) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(path or self.path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"incident store {self.path} cannot be opened: {exc}") from None
        con.execute("PRAGMA foreign_keys = ON")
        return con

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        from filelock import Timeout

        thread_lock, file_lock = _locks(self.path, self._lock_path)
        with thread_lock:
            try:
                # poll every 5 ms (filelock's default, 50 ms, idles four writers in turn)
                held = file_lock.acquire(poll_interval=0.005)
            except Timeout:  # only the wait for the lock: a Timeout from the body is not ours
                raise StoreError(
                    f"incident store {self.path} is busy: another process held its lock "
                    f"{self._lock_path} for {LOCK_TIMEOUT_S:g} s; try again once its upload "
                    "has finished (the lock is released when that process ends)"
                ) from None
            with held:
                yield

    @contextmanager
    def _transaction(
        self, path: Path | None = None, *, attach: Path | None = None
    ) -> Iterator[sqlite3.Connection]:
        """One write transaction under the locks; rolled back on any error.

        ``attach``: a staging GeoPackage attached as ``staging`` (SQLite attaches only
        outside a transaction).
        """
        with self._write_lock():
            con = self._connect(path)
            try:
                con.execute("PRAGMA cache_size = -65536")  # 64 MB: index updates stay in memory
                if attach is not None:
                    con.execute("ATTACH DATABASE ? AS staging", (str(attach),))
                con.execute("BEGIN IMMEDIATE")
                yield con
                con.execute(
                    "UPDATE gpkg_ogr_contents SET feature_count = "
                    f'(SELECT count(*) FROM "{LAYER}") WHERE lower(table_name) = lower(?)',
                    (LAYER,),
                )
                con.execute("COMMIT")
            except BaseException:
                if con.in_transaction:
                    con.execute("ROLLBACK")
                raise
            finally:
                con.close()

    def _create(self, *, seed: bool) -> None:
        import pyogrio

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the folder of store {self.path}: {exc}") from None
        with self._write_lock():
            if self.path.exists():  # another process created it while we waited
                return
            tmp = self.path.with_name(f".{self.path.stem}-{uuid.uuid4().hex[:8]}.tmp.gpkg")
            try:
                pyogrio.write_dataframe(
                    schema.empty_incidents(with_store_columns=True),
                    tmp,
                    layer=LAYER,
                    driver="GPKG",
                    geometry_type="Point",
                    layer_options={"SPATIAL_INDEX": "NO", "FID": "fid"},
                )
                con = self._connect(tmp)
                try:
                    con.execute("BEGIN")
                    for statement in _create_sql():
                        con.execute(statement)
                    con.execute("COMMIT")
                finally:
                    con.close()
                if seed:
                    self._seed(tmp)
                os.replace(tmp, self.path)
            except OSError as exc:
                raise StoreError(f"cannot create store {self.path}: {exc}") from None
            finally:
                if tmp.exists():
                    tmp.unlink()
        logger.info("created incident store %s%s", self.path, " (seeded)" if seed else "")

    def _seed(self, tmp: Path) -> None:
        from geo.ingest import validate_file
        from geo.validation import ValidationOptions

        # the sample is ours: validated without the distance to the border, so that a
        # new store is seeded wherever it is first used, the border layer present or not
        report = validate_file(SAMPLE_PATH, options=ValidationOptions(check_region=False))
        if report.errors:
            raise StoreError(
                f"the bundled sample {SAMPLE_PATH} failed validation: {report.errors[0]}"
            )
        self._insert(
            report.accepted,
            tmp=tmp,
            source_file=report.filename,
            sha256=report.sha256,
            fmt=report.format,
            features=report.feature_count,
            rejected=0,
            warnings=len(report.warnings),
            action="seed",
        )

    def _check(self) -> None:
        try:
            con = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
            try:
                names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"incident store {self.path} is not a GeoPackage ({exc}); give another path"
            ) from None
        missing = {LAYER, AUDIT_TABLE, "gpkg_ogr_contents"} - names
        if missing:
            raise StoreError(
                f"{self.path} is not an incident store (missing {', '.join(sorted(missing))}); "
                "give another path or a new file name"
            )

    def _insert(
        self,
        gdf: gpd.GeoDataFrame,
        *,
        tmp: Path | None = None,
        source_file: str,
        sha256: str,
        fmt: str | None,
        features: int,
        rejected: int,
        warnings: int,
        action: str = "add",
        note: str | None = None,
    ) -> str:
        now = _now()
        batch_id = _new_batch_id(now)
        dtypes = gdf.dtypes.astype(str).to_dict()
        conforms = all(dtypes.get(c) == schema.INCIDENT_DTYPES[c] for c in schema.INCIDENT_COLUMNS)
        frame = gdf if conforms else schema.conform_incidents(gdf, gdf.geometry.to_numpy())
        info = _BatchInfo(
            batch_id, now, source_file, sha256, fmt, features, rejected, warnings, action, note
        )
        if len(frame) >= STAGING_MIN_ROWS and tmp is None:
            with self._staged(frame, info) as (staging, staged):
                copy = ", ".join(
                    'substr("date", 1, 10)' if c == "date" else f'"{c}"' for c in staged
                )
                # the store's columns are the same for every row: bound once, not staged
                insert = (
                    f'INSERT INTO "{LAYER}" ("geom", {_quoted(staged)}, '
                    f'{_quoted(schema.STORE_COLUMNS)}) SELECT "geom", {copy}, ?, ?, ?, ? '
                    'FROM staging."staging" ORDER BY "fid"'
                )
                params = (info.batch_id, _iso(info.now), info.source_file, info.sha256)
                return self._write_batch(
                    lambda con: con.execute(insert, params), frame, info, attach=staging
                )
        columns: list[list] = []
        for name in schema.INCIDENT_COLUMNS:
            if name == "date":
                days = frame[name].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
                columns.append(np.datetime_as_string(days).tolist())
            else:
                values = frame[name].to_numpy(dtype=object)
                columns.append([None if v is None or v != v else v for v in values.tolist()])
        n = len(frame)
        columns += [[batch_id] * n, [_iso(now)] * n, [source_file] * n, [sha256] * n]
        rows = zip(encode_points(frame.geometry), *columns, strict=True)
        marks = ", ".join("?" * (len(_ALL_COLUMNS) + 1))
        insert = f'INSERT INTO "{LAYER}" ("geom", {_quoted(_ALL_COLUMNS)}) VALUES ({marks})'
        return self._write_batch(lambda con: con.executemany(insert, rows), frame, info, path=tmp)

    @contextmanager
    def _staged(
        self, frame: gpd.GeoDataFrame, info: _BatchInfo
    ) -> Iterator[tuple[Path, list[str]]]:
        """Write a large batch to a staging GeoPackage beside the store (GDAL, Arrow: fast).

        Yields the staging file and the columns staged: the incident columns that hold a
        value (a column empty in every row stays NULL in the store without being written).
        """
        import pyogrio

        staging = self.path.with_name(f".{self.path.stem}-{info.batch_id}.staging.gpkg")
        staged = [
            name
            for name in schema.INCIDENT_COLUMNS
            if name in ("id", "date", "type") or frame[name].notna().any()
        ]
        out = frame[[*staged, frame.geometry.name]]  # a new frame: the caller's is untouched
        out["date"] = np.datetime_as_string(
            frame["date"].to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
        )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                pyogrio.write_dataframe(
                    out,
                    staging,
                    layer="staging",
                    driver="GPKG",
                    use_arrow=True,
                    geometry_type="Point",
                    layer_options={"SPATIAL_INDEX": "NO", "FID": "fid"},
                )
            yield staging, staged
        except OSError as exc:
            raise StoreError(f"cannot write beside store {self.path}: {exc}") from None
        finally:
            staging.unlink(missing_ok=True)

    def _write_batch(
        self,
        insert,
        frame: gpd.GeoDataFrame,
        info: _BatchInfo,
        *,
        path: Path | None = None,
        attach: Path | None = None,
    ) -> str:
        n = len(frame)
        with self._transaction(path, attach=attach) as con:
            try:
                insert(con)
            except sqlite3.IntegrityError:
                con.execute("ROLLBACK")
                raise self._id_clash(frame["id"].tolist()) from None
            self._audit(
                con,
                info.now,
                info.action,
                info.batch_id,
                info.source_file,
                info.sha256,
                info.fmt,
                info.features,
                n,
                info.rejected,
                info.warnings,
                info.note,
            )
            if n:
                minx, miny, maxx, maxy = frame.total_bounds
                con.execute(
                    "UPDATE gpkg_contents SET last_change = ?, min_x = min(coalesce(min_x, ?), ?),"
                    " min_y = min(coalesce(min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?), "
                    "max_y = max(coalesce(max_y, ?), ?) WHERE table_name = ?",
                    (_iso(info.now), minx, minx, miny, miny, maxx, maxx, maxy, maxy, LAYER),
                )
        logger.info("stored %d incidents from %s as batch %s", n, info.source_file, info.batch_id)
        return info.batch_id

    def _id_clash(self, ids: list[str]) -> ValidationError:
        stored = self.stored_ids(ids)
        clash = [i for i in ids if i in stored]
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].tolist()
        problems = [
            FeatureProblem(
                k,
                i,
                "id",
                i,
                "an incident with this id is already in the store",
                "give it a new id, or undo the batch that stored the earlier one",
            )
            for k, i in enumerate(ids)
            if i in stored
        ] + [
            FeatureProblem(
                None,
                i,
                "id",
                i,
                "the id is repeated in the upload",
                "give every incident its own id",
            )
            for i in dup
        ]
        return ValidationError(
            problems,
            summary=f"nothing stored: {len(clash) + len(dup)} "
            "id(s) clash with stored incidents or repeat in the upload",
        )

    @staticmethod
    def _audit(
        con,
        now,
        action,
        batch_id,
        source_file,
        sha256,
        fmt,
        features,
        accepted,
        rejected,
        warnings,
        note,
    ) -> None:
        con.execute(
            f'INSERT INTO "{AUDIT_TABLE}" (at, action, batch_id, source_file, source_sha256, '
            "format, features, accepted_count, rejected_count, warning_count, user, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                _iso(now),
                action,
                batch_id,
                source_file,
                sha256,
                fmt,
                features,
                accepted,
                rejected,
                warnings,
                _user(),
                note,
            ),
        )

    # --- public --------------------------------------------------------------------

    def add(
        self,
        incidents,
        *,
        accept_partial: bool = False,
        source_file: str | None = None,
        sha256: str | None = None,
    ) -> str:
        """Store the accepted features of a report (or a GeoDataFrame) as one batch.

        Parameters
        ----------
        incidents
            An :class:`geo.ingest.IngestReport` (its ``accepted`` features are
            stored, its counts audited) or a GeoDataFrame of the schema.
        accept_partial
            Store a report's valid features even though others were rejected.
        source_file, sha256
            File name and hash for a GeoDataFrame (a report carries its own).

        Returns
        -------
        str
            The batch id (also set on the report).

        Raises
        ------
        ValidationError
            The report has rejected features (without ``accept_partial``), nothing
            to store, or ids already in the store. Nothing is stored then.
        """
        from geo.ingest import IngestReport

        if isinstance(incidents, IngestReport):
            report = incidents
            if report.file_rejected or (report.errors and not accept_partial):
                raise ValidationError(
                    report.errors,
                    summary=f"nothing stored from {report.filename}: {report.rejected_count} "
                    "feature(s) rejected (fix them, or accept a partial upload)",
                )
            if not report.accepted_count:
                raise ValidationError([], summary=f"nothing to store from {report.filename}")
            batch_id = self._insert(
                report.accepted,
                source_file=report.filename,
                sha256=report.sha256,
                fmt=report.format,
                features=report.feature_count,
                rejected=report.rejected_count,
                warnings=len(report.warnings),
            )
            report.batch_id = batch_id
            return batch_id
        gdf = self._checked_frame(incidents)
        return self._insert(
            gdf,
            source_file=source_file or "(data frame)",
            sha256=sha256 or "",
            fmt="dataframe",
            features=len(gdf),
            rejected=0,
            warnings=0,
        )

    @staticmethod
    def _checked_frame(gdf) -> gpd.GeoDataFrame:
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise ValidationError(
                [],
                summary=f"cannot store a {type(gdf).__name__}: give an "
                "IngestReport or a GeoDataFrame of the incident schema",
            )
        if gdf.crs is None:
            raise ValidationError([], summary="the GeoDataFrame has no CRS; set EPSG:4326")
        gdf = gdf.to_crs(settings.GEOGRAPHIC_CRS)
        import shapely

        # checked a column at a time (a row loop took seconds for 100,000 rows); the
        # problems are listed row by row, geometry first, as the analyst reads them
        geoms = gdf.geometry.to_numpy()
        flags = {
            "geometry": (shapely.get_type_id(geoms) != 0) | shapely.is_empty(geoms),
            **{
                name: gdf[name].isna().to_numpy()
                if name in gdf.columns
                else np.ones(len(gdf), dtype=bool)
                for name in ("id", "date", "type")
            },
        }
        fids = gdf["id"].tolist() if "id" in gdf.columns else [None] * len(gdf)
        problems = []
        for k in np.flatnonzero(np.logical_or.reduce(list(flags.values()))).tolist():
            fid = None if pd.isna(fids[k]) else fids[k]  # NaN is no id (nor valid JSON)
            if flags["geometry"][k]:
                problems.append(
                    FeatureProblem(
                        k, fid, "geometry", str(geoms[k])[:40], "not a Point", "give a Point"
                    )
                )
            for name in ("id", "date", "type"):
                if flags[name][k]:
                    problems.append(
                        FeatureProblem(k, fid, name, "", f"{name} is missing", f"give {name}")
                    )
        if problems:
            raise ValidationError(
                problems,
                summary="nothing stored: the GeoDataFrame does not fit the incident schema",
            )
        return gdf

    def undo(self, batch_id: str | None = None) -> int:
        """Remove every incident of a batch (by default the last one still stored).

        Returns
        -------
        int
            Number of incidents removed.
        """
        with self._transaction() as con:
            live = con.execute(
                f"SELECT batch_id FROM \"{AUDIT_TABLE}\" WHERE action IN ('add', 'seed') "
                f'AND batch_id NOT IN (SELECT batch_id FROM "{AUDIT_TABLE}" '
                "WHERE action = 'undo') ORDER BY event_id"
            ).fetchall()
            live_ids = [r[0] for r in live]
            if batch_id is None:
                if not live_ids:
                    raise StoreError(f"nothing to undo in {self.path}: no batch is stored")
                batch_id = live_ids[-1]
            elif batch_id not in live_ids:
                known = con.execute(
                    f'SELECT 1 FROM "{AUDIT_TABLE}" WHERE batch_id = ?', (batch_id,)
                ).fetchone()
                raise StoreError(
                    f"batch {batch_id!r} was already undone"
                    if known
                    else f"no batch {batch_id!r} in {self.path}; stored batches: "
                    f"{', '.join(live_ids[-5:]) or 'none'}"
                )
            removed = con.execute(f'DELETE FROM "{LAYER}" WHERE batch_id = ?', (batch_id,)).rowcount
            self._audit(
                con,
                _now(),
                "undo",
                batch_id,
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                f"{removed} incident(s) removed",
            )
        logger.info("undid batch %s: %d incidents removed", batch_id, removed)
        return removed

    def audit(self) -> pd.DataFrame:
        """Return the audit table: one row per upload, seed and undo, oldest first."""
        con = self._connect()
        try:
            frame = pd.read_sql_query(f'SELECT * FROM "{AUDIT_TABLE}" ORDER BY event_id', con)
        finally:
            con.close()
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def batches(self) -> pd.DataFrame:
        """Return the batches: id, time, file, SHA-256, counts, rows still stored, undone flag."""
        audit = self.audit()
        adds = audit[audit["action"].isin(["add", "seed"])]
        undone = set(audit.loc[audit["action"] == "undo", "batch_id"])
        con = self._connect()
        try:
            rows = dict(
                con.execute(
                    f'SELECT batch_id, count(*) FROM "{LAYER}" GROUP BY batch_id'
                ).fetchall()
            )
        finally:
            con.close()
        out = adds[
            [
                "batch_id",
                "at",
                "action",
                "source_file",
                "source_sha256",
                "accepted_count",
                "rejected_count",
                "warning_count",
                "user",
            ]
        ].copy()
        out = out.rename(columns={"at": "ingested_at"})
        out["rows"] = out["batch_id"].map(rows).fillna(0).astype("int64")
        out["undone"] = out["batch_id"].isin(undone)
        return out.reset_index(drop=True)

    def find_sha256(self, sha256: str) -> str | None:
        """Return the id of a stored (not undone) batch of the file with this hash, if any."""
        batches = self.batches()
        match = batches[(batches["source_sha256"] == sha256) & ~batches["undone"]]
        return None if match.empty else str(match["batch_id"].iloc[-1])

    def stored_ids(self, ids: Collection[str]) -> set[str]:
        """Return those of ``ids`` that are stored (one query, through the id index)."""
        if not ids:
            return set()
        sql = f'SELECT "id" FROM "{LAYER}" WHERE "id" IN (SELECT value FROM json_each(?))'
        con = self._connect()
        try:
            return {row[0] for row in con.execute(sql, (json.dumps(list(ids)),))}
        finally:
            con.close()

    def incidents_near(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        *,
        distance_m: float,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the stored incidents near the points (:class:`geo.lookup.StoredIncidents`).

        The dates are filtered in SQL, the box around the points in memory (the layer
        has no spatial index: it would slow every upload).
        """
        where, params = [], []
        if since is not None:
            where.append('"date" >= ?')
            params.append(f"{since:%Y-%m-%d}")
        if until is not None:
            where.append('"date" <= ?')
            params.append(f"{until:%Y-%m-%d}")
        sql = (
            f'SELECT "id", "type", "date", "geom" FROM "{LAYER}"'
            + (f" WHERE {' AND '.join(where)}" if where else "")
            + ' ORDER BY "fid"'
        )
        con = self._connect()
        try:
            rows = con.execute(sql, params).fetchall()
        finally:
            con.close()
        ids, types, dates, blobs = zip(*rows, strict=True) if rows else ((), (), (), ())
        near = gpd.GeoDataFrame(
            {
                "id": pd.Series(ids, dtype=object),
                "type": pd.Series(types, dtype=object),
                "date": pd.to_datetime(pd.Series(dates, dtype=object), format="ISO8601"),
            },
            geometry=gpd.GeoSeries(decode_points(blobs), crs=4326),
            crs=4326,
        )
        return select_near(near, lon, lat, distance_m=distance_m, since=since, until=until)

    def count(self) -> int:
        """Return the number of stored incidents."""
        con = self._connect()
        try:
            return int(con.execute(f'SELECT count(*) FROM "{LAYER}"').fetchone()[0])
        finally:
            con.close()

    def read(
        self,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        types: Iterable[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the stored incidents (with the store's columns), filtered in SQL.

        Parameters
        ----------
        since, until
            Keep incidents on or after / on or before these dates.
        types
            Keep these incident types.
        """
        since, until, types = normalize_filters(since, until, types)
        import pyogrio

        where = []
        if since is not None:
            where.append(f"\"date\" >= '{since:%Y-%m-%d}'")
        if until is not None:
            where.append(f"\"date\" <= '{until:%Y-%m-%d}'")
        if types is not None:  # checked against INCIDENT_TYPES: safe to quote
            where.append(f'"type" IN ({", ".join(repr(str(t)) for t in types)})')
        # GDAL links its own SQLite: while it has the file open in this process, POSIX
        # locks of our sqlite3 connections are not reliable, so a read never overlaps a
        # write of this process (other processes are unaffected: locks are per process)
        thread_lock, _ = _locks(self.path, self._lock_path)
        try:
            with thread_lock, warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                frame = pyogrio.read_dataframe(
                    self.path,
                    layer=LAYER,
                    use_arrow=True,
                    where=" AND ".join(where) or None,
                    columns=list(_ALL_COLUMNS),
                )
        except Exception as exc:  # GDAL's errors: one message for the analyst
            raise StoreError(f"incident store {self.path} cannot be read: {exc}") from None
        if frame.empty:
            return schema.empty_incidents(with_store_columns=True)
        return schema.conform_incidents(
            frame.drop(columns=frame.geometry.name),
            frame.geometry.to_numpy(),
            store_columns=True,
        )


def load_incidents(
    store: IncidentStore | str | os.PathLike[str] | None = None,
    *,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    types: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Return stored incidents, optionally filtered (what the analysis commands and app call).

    Parameters
    ----------
    store
        An :class:`IncidentStore`, an explicit path (which must exist), or ``None``
        for the default store (``$BORDERMON_STORE`` or the default path; created and
        seeded on first use).
    since, until
        Keep incidents on or after / on or before these dates.
    types
        Keep these incident types.
    """
    if not isinstance(store, IncidentStore):
        store = IncidentStore(store)
    return store.read(since=since, until=until, types=types)


__all__ = ["AUDIT_TABLE", "LAYER", "IncidentStore", "filter_incidents", "load_incidents"]
