"""The incident store in a GeoPackage file: a store that loses nothing.

One GeoPackage file holds the layer ``incidents`` and the table ``ingest_audit``
(:mod:`geo.store.gpkg_format`). :class:`GeoPackageStore` implements
:class:`geo.store.base.IncidentStore` over it with :mod:`sqlite3` for writes and
small queries, and GDAL (pyogrio, Arrow) for reading incidents.

Guarantees
----------
- An upload is all-or-nothing: its rows, its audit row and the layer's feature
  count are written in one SQLite transaction. A writer killed half-way leaves
  the store as it was before (SQLite rolls the journal back on next open).
- Writes are serialised across processes (a file lock, ``<store>.lock``) and
  across threads (a lock per store path): :mod:`geo.store.file_lock`.
- The cached feature count in ``gpkg_ogr_contents`` is recomputed in every write
  transaction, so GDAL readers (QGIS, ``pyogrio.read_dataframe``) see every row.
- Ids are unique (a UNIQUE index); an upload whose ids are already stored is
  refused as a whole.
- A batch can be undone; the undo is audited too.
- A new store appears whole: it is written to a temporary file (and filled, e.g.
  seeded, by the caller's ``populate``) and then moved into place.

Reads go through SQL (:meth:`GeoPackageStore.read`), with the date and type filters
in the query.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import sqlite3
import uuid
import warnings
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import schema, settings
from geo.errors import StoreError
from geo.lookup import search_box
from geo.roles import check_email, check_role
from geo.selection import normalize_filters
from geo.store import file_lock
from geo.store.base import (
    BATCH_ACTIONS,
    BatchInfo,
    IncidentStore,
    audit_values,
    current_user,
    new_batch_id,
    now_utc,
)
from geo.store.gpkg_format import (
    ALL_COLUMNS,
    AUDIT_TABLE,
    LAYER,
    USERS_TABLE,
    create_sql,
    incident_rows,
    insert_rows_sql,
    insert_staged_sql,
    iso_time,
    quoted,
    users_sql,
    write_staging,
)

logger = logging.getLogger(__name__)

#: Batches at least this large go through a staging GeoPackage written by GDAL (Arrow) and
#: one INSERT ... SELECT: a third of the CPU time of binding every value from Python.
STAGING_MIN_ROWS = 5_000


class GeoPackageStore(IncidentStore):
    """The incident store in one GeoPackage file.

    Open one with :func:`geo.store.open_store`, which resolves ``--store``,
    ``$BORDERMON_STORE`` or the default path.

    Parameters
    ----------
    path
        The GeoPackage file.
    create
        Create the file when it does not exist (otherwise a missing file is an error).
    populate
        Called with the new store, before it becomes visible to anyone, when this
        creates it (:func:`geo.ingest.seed_store` seeds the default store so).

    Attributes
    ----------
    location
        The path as given.
    path
        The absolute path of the file (symbolic links kept as given).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        create: bool = False,
        populate: Callable[[IncidentStore], object] | None = None,
    ) -> None:
        self.location = str(path)
        # absolute: a later chdir (a test, a host app) must not move the store or its lock
        self.path = Path(path).absolute()
        self._lock_path = file_lock.lock_path_of(self.path)
        if not self.path.exists():
            if not create:
                raise StoreError(
                    f"incident store {self.path} does not exist; check --store (or "
                    f"${settings.STORE_ENV_VAR}), or create it with "
                    f"`python -m geo ingest FILE --store {self.path}`"
                )
            self._create(populate)
        elif self.path.is_dir():
            raise StoreError(f"incident store {self.path} is a folder; give a .gpkg file path")
        self._check()

    def __repr__(self) -> str:
        return f"GeoPackageStore({self.location!r})"

    @classmethod
    def _twin(cls, path: Path, lock_path: Path) -> GeoPackageStore:
        """Return a store over ``path`` (a store being created) that shares a lock."""
        store = cls.__new__(cls)
        store.location, store.path, store._lock_path = str(path), path, lock_path
        return store

    # --- low level -------------------------------------------------------------------

    def _connect(self, path: Path | None = None) -> sqlite3.Connection:
        try:
            con = sqlite3.connect(
                path or self.path, timeout=file_lock.LOCK_TIMEOUT_S, isolation_level=None
            )
        except sqlite3.Error as exc:
            raise StoreError(f"incident store {self.path} cannot be opened: {exc}") from None
        con.execute("PRAGMA foreign_keys = ON")
        return con

    @contextmanager
    def _query(self) -> Iterator[sqlite3.Connection]:
        """Yield a connection for reading; close it on exit."""
        con = self._connect()
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        with file_lock.write_lock(self.path, self._lock_path):
            yield

    @contextmanager
    def _transaction(self, *, attach: Path | None = None) -> Iterator[sqlite3.Connection]:
        """One write transaction under the locks; rolled back on any error.

        ``attach``: a staging GeoPackage attached as ``staging`` (SQLite attaches only
        outside a transaction).
        """
        with self._write_lock():
            con = self._connect()
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

    def _create(self, populate: Callable[[IncidentStore], object] | None) -> None:
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
                    for statement in create_sql():
                        con.execute(statement)
                    con.execute("COMMIT")
                finally:
                    con.close()
                if populate is not None:
                    populate(self._twin(tmp, self._lock_path))
                os.replace(tmp, self.path)
            except OSError as exc:
                raise StoreError(f"cannot create store {self.path}: {exc}") from None
            finally:
                if tmp.exists():
                    tmp.unlink()
        logger.info("created incident store %s%s", self.path, " (populated)" if populate else "")

    def _check(self) -> None:
        try:
            con = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, timeout=file_lock.LOCK_TIMEOUT_S
            )
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

    # --- writing ---------------------------------------------------------------------

    def add_batch(self, incidents: gpd.GeoDataFrame, batch: BatchInfo) -> str:
        """Store validated incidents as one batch (see :meth:`IncidentStore.add_batch`)."""
        now = now_utc()
        batch_id = new_batch_id(now)
        dtypes = incidents.dtypes.astype(str).to_dict()
        conforms = all(dtypes.get(c) == schema.INCIDENT_DTYPES[c] for c in schema.INCIDENT_COLUMNS)
        frame = (
            incidents
            if conforms
            else schema.conform_incidents(incidents, incidents.geometry.to_numpy())
        )
        stamp = (batch_id, iso_time(now), batch.source_file, batch.sha256)
        if len(frame) < STAGING_MIN_ROWS:
            rows = incident_rows(frame, stamp)
            return self._write_batch(insert_rows_sql(), rows, frame, batch, stamp, many=True)
        staging = self.path.with_name(f".{self.path.stem}-{batch_id}.staging.gpkg")
        try:
            sql = insert_staged_sql(write_staging(frame, staging))
            return self._write_batch(sql, stamp, frame, batch, stamp, attach=staging)
        except OSError as exc:
            if isinstance(exc, StoreError):
                raise
            raise StoreError(f"cannot write beside store {self.path}: {exc}") from None
        finally:
            staging.unlink(missing_ok=True)

    def _write_batch(
        self,
        sql: str,
        params: Iterable,
        frame: gpd.GeoDataFrame,
        batch: BatchInfo,
        stamp: tuple[str, str, str, str],
        *,
        many: bool = False,
        attach: Path | None = None,
    ) -> str:
        """Run the INSERT of a batch and its audit row in one transaction.

        ``many``: ``params`` are rows (``executemany``), else one set of parameters.
        """
        batch_id, at = stamp[0], stamp[1]
        n = len(frame)
        with self._transaction(attach=attach) as con:
            try:
                if many:
                    con.executemany(sql, params)
                else:
                    con.execute(sql, params)
            except sqlite3.IntegrityError:
                con.execute("ROLLBACK")
                raise self._id_clash(frame["id"].tolist()) from None
            self._audit(con, at, batch.action, batch_id, batch=batch, accepted=n)
            if n:
                minx, miny, maxx, maxy = frame.total_bounds
                con.execute(
                    "UPDATE gpkg_contents SET last_change = ?, min_x = min(coalesce(min_x, ?), ?),"
                    " min_y = min(coalesce(min_y, ?), ?), max_x = max(coalesce(max_x, ?), ?), "
                    "max_y = max(coalesce(max_y, ?), ?) WHERE table_name = ?",
                    (at, minx, minx, miny, miny, maxx, maxx, maxy, maxy, LAYER),
                )
        logger.info("stored %d incidents from %s as batch %s", n, batch.source_file, batch_id)
        return batch_id

    @staticmethod
    def _audit(
        con: sqlite3.Connection,
        at: str,
        action: str,
        batch_id: str,
        *,
        batch: BatchInfo | None = None,
        accepted: int | None = None,
        note: str | None = None,
        user: str | None = None,
    ) -> None:
        """Append an audit row (``batch``: where an added batch came from)."""
        con.execute(
            f'INSERT INTO "{AUDIT_TABLE}" (at, action, batch_id, source_file, source_sha256, '
            "format, features, accepted_count, rejected_count, warning_count, user, note) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            audit_values(
                at, action, batch_id, batch=batch, accepted=accepted, note=note, user=user
            ),
        )

    def undo(self, batch_id: str | None = None, *, user: str | None = None) -> int:
        """Remove every incident of a batch (by default the last one still stored).

        ``user``: who undoes it (audited).

        Returns
        -------
        int
            Number of incidents removed.
        """
        with self._transaction() as con:
            live = con.execute(
                f'SELECT batch_id FROM "{AUDIT_TABLE}" WHERE action IN {BATCH_ACTIONS!r} '
                f'AND batch_id NOT IN (SELECT batch_id FROM "{AUDIT_TABLE}" '
                "WHERE action = 'undo') ORDER BY event_id"
            ).fetchall()
            known = batch_id is not None and bool(
                con.execute(
                    f'SELECT 1 FROM "{AUDIT_TABLE}" WHERE batch_id = ?', (batch_id,)
                ).fetchone()
            )
            batch_id = self._batch_to_undo(batch_id, [r[0] for r in live], known)
            removed = con.execute(f'DELETE FROM "{LAYER}" WHERE batch_id = ?', (batch_id,)).rowcount
            note = f"{removed} incident(s) removed"
            self._audit(con, iso_time(now_utc()), "undo", batch_id, note=note, user=user)
        logger.info("undid batch %s: %d incidents removed", batch_id, removed)
        return removed

    # --- users and roles ---------------------------------------------------------------------

    def users(self) -> pd.DataFrame:
        """Return the users granted a role: ``email, role, granted_by, granted_at``."""
        columns = ["email", "role", "granted_by", "granted_at"]
        with self._query() as con:
            if not self._has_users_table(con):
                return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
            frame = pd.read_sql_query(
                f'SELECT {", ".join(columns)} FROM "{USERS_TABLE}" ORDER BY email', con
            )
        frame["granted_at"] = pd.to_datetime(frame["granted_at"], utc=True)
        return frame

    def role_of(self, email: str) -> str | None:
        """Return the role granted to ``email``, or ``None``."""
        with self._query() as con:
            if not self._has_users_table(con):
                return None
            row = con.execute(
                f'SELECT role FROM "{USERS_TABLE}" WHERE email = ?', (str(email).strip().lower(),)
            ).fetchone()
        return None if row is None else str(row[0])

    def grant(self, email: str, role: str, *, by: str | None = None) -> None:
        """Give ``email`` the ``role`` (see :meth:`IncidentStore.grant`)."""
        email, role = check_email(email), check_role(role)
        at = iso_time(now_utc())
        with self._transaction() as con:
            for statement in users_sql():
                con.execute(statement)
            con.execute(
                f'INSERT INTO "{USERS_TABLE}" (email, role, granted_by, granted_at) '
                "VALUES (?, ?, ?, ?) ON CONFLICT(email) DO UPDATE SET role = excluded.role, "
                "granted_by = excluded.granted_by, granted_at = excluded.granted_at",
                (email, role, by or current_user(), at),
            )
            self._audit(con, at, "grant", None, note=f"{email}: {role}", user=by)
        logger.info("granted %s the role %s", email, role)

    def revoke(self, email: str, *, by: str | None = None) -> bool:
        """Remove the role of ``email``; return whether it had one."""
        email = check_email(email)
        with self._transaction() as con:
            for statement in users_sql():
                con.execute(statement)
            removed = con.execute(f'DELETE FROM "{USERS_TABLE}" WHERE email = ?', (email,)).rowcount
            if removed:
                self._audit(con, iso_time(now_utc()), "revoke", None, note=email, user=by)
        return bool(removed)

    @staticmethod
    def _has_users_table(con: sqlite3.Connection) -> bool:
        return bool(
            con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (USERS_TABLE,)
            ).fetchone()
        )

    # --- history and counts ----------------------------------------------------------------

    def audit(self) -> pd.DataFrame:
        """Return the audit table: one row per upload, seed and undo, oldest first."""
        with self._query() as con:
            frame = pd.read_sql_query(f'SELECT * FROM "{AUDIT_TABLE}" ORDER BY event_id', con)
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def _rows_by_batch(self) -> dict[str, int]:
        with self._query() as con:
            sql = f'SELECT batch_id, count(*) FROM "{LAYER}" GROUP BY batch_id'
            return dict(con.execute(sql).fetchall())

    def count(self) -> int:
        """Return the number of stored incidents."""
        with self._query() as con:
            return int(con.execute(f'SELECT count(*) FROM "{LAYER}"').fetchone()[0])

    def content_token(self) -> str:
        """Return the last audit event and the file's (and its WAL's) time and size.

        Every add and undo appends an audit event; the file's state also changes when
        another program (QGIS, GDAL) edits it.
        """
        with self._query() as con:
            last = con.execute(f'SELECT max(event_id) FROM "{AUDIT_TABLE}"').fetchone()[0]
        parts = [str(self.path), str(last)]
        for suffix in ("", "-wal"):
            p = Path(str(self.path) + suffix)
            parts.append(f"{p.stat().st_mtime_ns}:{p.stat().st_size}" if p.exists() else "-")
        return "|".join(parts)

    def content_hash(self) -> str:
        """Return the SHA-256 of every incident's columns and geometry, in stored order."""
        digest = hashlib.sha256()
        sql = f'SELECT {quoted(schema.INCIDENT_COLUMNS)}, "geom" FROM "{LAYER}" ORDER BY "fid"'
        with self._query() as con:
            cursor = con.execute(sql)
            while rows := cursor.fetchmany(10_000):
                digest.update(repr(rows).encode())
        return digest.hexdigest()

    # --- reading ---------------------------------------------------------------------

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
        where = _date_filter(since, until)
        if types is not None:  # checked against INCIDENT_TYPES: safe to quote
            where.append(f'"type" IN ({", ".join(repr(str(t)) for t in types)})')
        frame = self._read_layer(list(ALL_COLUMNS), where)
        if frame.empty:
            return schema.empty_incidents(with_store_columns=True)
        return schema.conform_incidents(
            frame.drop(columns=frame.geometry.name),
            frame.geometry.to_numpy(),
            store_columns=True,
        )

    def _read_layer(
        self, columns: list[str], where: list[str], bbox: tuple[float, ...] | None = None
    ) -> gpd.GeoDataFrame:
        """Read the incident layer with GDAL (Arrow): ``where`` clauses and ``bbox`` applied."""
        import pyogrio

        # GDAL links its own SQLite: while it has the file open in this process, POSIX
        # locks of our sqlite3 connections are not reliable, so a read never overlaps a
        # write of this process (other processes are unaffected: locks are per process)
        try:
            with file_lock.thread_lock(self.path, self._lock_path), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return pyogrio.read_dataframe(
                    self.path,
                    layer=LAYER,
                    use_arrow=True,
                    where=" AND ".join(where) or None,
                    bbox=bbox,
                    columns=columns,
                )
        except Exception as exc:  # GDAL's errors: one message for the analyst
            raise StoreError(f"incident store {self.path} cannot be read: {exc}") from None

    def stored_ids(self, ids: Collection[str]) -> set[str]:
        """Return those of ``ids`` that are stored (through the id index, 900 at a time)."""
        ids = list(ids)
        found: set[str] = set()
        with self._query() as con:
            for k in range(0, len(ids), 900):  # under SQLite's oldest limit of 999 variables
                chunk = ids[k : k + 900]
                marks = ", ".join("?" * len(chunk))
                sql = f'SELECT "id" FROM "{LAYER}" WHERE "id" IN ({marks})'
                found.update(row[0] for row in con.execute(sql, chunk))
        return found

    def incidents_near(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        *,
        distance_m: float,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the stored incidents near the points (see :meth:`IncidentStore.incidents_near`).

        GDAL filters the dates (SQL) and the box around the points (the layer has no
        spatial index: it would slow every upload; a scan of 100,000 points is quick).
        """
        if not len(lon):
            return schema.empty_incidents()[["id", "type", "date", "geometry"]]
        box = search_box(lon, lat, distance_m)
        frame = self._read_layer(["id", "type", "date"], _date_filter(since, until), bbox=box)
        frame["date"] = pd.to_datetime(frame["date"])
        return frame


def _date_filter(since: dt.date | None, until: dt.date | None) -> list[str]:
    """Return the SQL conditions of a date range (``date`` is ``YYYY-MM-DD`` text)."""
    where = []
    if since is not None:
        where.append(f"\"date\" >= '{since:%Y-%m-%d}'")
    if until is not None:
        where.append(f"\"date\" <= '{until:%Y-%m-%d}'")
    return where
