"""The incident store in PostgreSQL + PostGIS: one store a team shares, QGIS reads it too.

:class:`PostgisStore` implements :class:`geo.store.base.IncidentStore` over a database
named by a ``postgresql://`` URL (``--store`` or ``$BORDERMON_STORE``), with psycopg 3.
Its tables are :mod:`geo.store.pg_format`'s, created on first use (with the PostGIS
extension when the user may create it).

Guarantees (the contract of every backend)
-------------------------------------------
- An upload is all-or-nothing: in one transaction its rows are copied (``COPY``) into
  a temporary table, inserted into ``incidents`` with the batch's columns, and its audit
  row is written. A writer that dies, a lost connection or a server that stops leaves
  nothing of the batch: PostgreSQL rolls the transaction back.
- Ids are unique, enforced by the database (a UNIQUE constraint): a batch with an id
  already stored, or repeated within it, is refused whole with the same
  :class:`~geo.errors.ValidationError` as the GeoPackage store's.
- Writers do not wait for each other except where they must: two uploads run side by
  side; undos are serialised (an advisory lock) so a batch is undone once.
- :meth:`PostgisStore.content_hash` is the GeoPackage store's for the same incidents.

Credentials: a password is best not written in the URL. libpq reads ``PGPASSWORD``,
``~/.pgpass`` and service files (``postgresql:///?service=monitor``) by itself. The
store's :attr:`location` is the URL without any password, and no message, log line,
report or manifest shows it.

A new PostGIS store is empty: it is never seeded with the bundled sample (a team's
database holds only what its analysts ingest).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import select
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import schema, settings
from geo.errors import StoreError
from geo.lookup import search_box
from geo.roles import check_email, check_role
from geo.selection import normalize_filters
from geo.store.base import (
    AUDIT_COLUMNS,
    BATCH_ACTIONS,
    BatchInfo,
    IncidentStore,
    audit_values,
    current_user,
    new_batch_id,
    now_utc,
)
from geo.store.pg_format import (
    ALL_COLUMNS,
    AUDIT_TABLE,
    DROP_GEOM_INDEX_SQL,
    GEOM_INDEX_SQL,
    ID_CONSTRAINT,
    LAYER,
    RANKED_TABLE,
    REQUIRED_COLUMNS,
    STATE_TABLE,
    USERS_TABLE,
    batches_sql,
    content_sql,
    copy_payload,
    create_sql,
    frame_of_rows,
    insert_staged_sql,
    parse_batches,
    parse_copy,
    parse_rows,
    quoted,
    ranked_columns_sql,
    ranked_create_sql,
    ranked_insert_sql,
    redact_url,
    scrub,
    select_sql,
    server_of,
    staged_columns,
    staging_sql,
)

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

#: Seconds to wait for the server to answer a connection (unless the URL or
#: ``PGCONNECT_TIMEOUT`` says otherwise).
CONNECT_TIMEOUT_S = 10
#: Advisory lock keys (``pg_advisory_xact_lock(hashtext(schema || name))``).
_LOCK_SCHEMA, _LOCK_UNDO, _LOCK_RANKED = "bordermon:schema", "bordermon:undo", "bordermon:ranked"
#: Rows of a content hash digested at a time (the GeoPackage store's chunk: same hash).
_HASH_CHUNK = 10_000
#: A batch at least this large, and at least as large as the incidents already stored,
#: is a bulk load: the GiST index is dropped and built again (sorted) after the INSERT, in
#: the same transaction. A third of the time of 100,000 rows into an empty store; the
#: table is locked until the commit (readers wait about a second).
BULK_MIN_ROWS = 20_000


class PostgisStore(IncidentStore):
    """The incident store in a PostgreSQL database with PostGIS.

    Open one with :func:`geo.store.open_store`, which resolves ``--store``,
    ``$BORDERMON_STORE`` or the default path.

    Parameters
    ----------
    url
        ``postgresql://[user@]host[:port]/database[?options]`` (or ``postgres://``).
        Missing parts come from libpq's environment and files, as for ``psql``.

    Attributes
    ----------
    location
        The URL without any password.

    Raises
    ------
    StoreError
        The server cannot be reached or refuses the login (one line naming host and
        port), the database is not UTF-8, PostGIS is missing and the user may not add it,
        or the tables exist but are not an incident store's.
    """

    def __init__(self, url: str) -> None:
        self._url = str(url)
        self.location = redact_url(self._url)
        self._prepare()

    def __repr__(self) -> str:
        return f"PostgisStore({self.location!r})"

    # --- connections -------------------------------------------------------------------

    def _server(self) -> str:
        host, port, database, _ = server_of(self._url)
        return f"database {database} on {host} port {port}"

    def _connect_error(self, exc: Exception) -> StoreError:
        """Return the one-line error of a connection that failed (host, port, the fix)."""
        host, port, database, user = server_of(self._url)
        text = scrub(str(exc), self._url).strip().splitlines()[0] if str(exc) else type(exc)
        reason = str(text).rsplit("failed: ", 1)[-1].replace("FATAL:", "").strip()
        lowered = reason.lower()
        if "password" in lowered or "authentication" in lowered:
            fix = (
                f"give user {user}'s password in PGPASSWORD, ~/.pgpass or a service file "
                "(not in the URL), or fix the user name"
            )
        elif "does not exist" in lowered:
            fix = f"create the database (createdb {database}) or fix its name in the URL"
        else:
            fix = (
                "check that PostgreSQL runs there and accepts connections from this "
                f"machine, or fix the host and port in --store (or ${settings.STORE_ENV_VAR})"
            )
        return StoreError(
            f"incident store {self.location}: cannot connect to {host} port {port} "
            f"({reason}); {fix}"
        )

    def _open(self) -> psycopg.Connection:
        import psycopg

        options: dict[str, Any] = {"autocommit": True, "client_encoding": "utf8"}
        if "connect_timeout" not in self._url and not os.environ.get("PGCONNECT_TIMEOUT"):
            options["connect_timeout"] = CONNECT_TIMEOUT_S
        if "application_name" not in self._url and not os.environ.get("PGAPPNAME"):
            options["application_name"] = "bordermon"
        try:
            return psycopg.connect(self._url, **options)
        except psycopg.Error as exc:
            raise self._connect_error(exc) from None

    @contextmanager
    def _session(self, doing: str) -> Iterator[psycopg.Connection]:
        """Yield a connection (autocommit; ``con.transaction()`` for writes); close it on exit.

        PostgreSQL's errors become one-line :class:`StoreError` naming what was being done
        (``doing``); a unique violation of the incident id is left to the caller.
        """
        import psycopg

        con = self._open()
        try:
            yield con
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == ID_CONSTRAINT:
                raise
            raise self._error(exc, doing) from None
        except psycopg.Error as exc:
            raise self._error(exc, doing) from None
        finally:
            con.close()

    def _error(self, exc: Exception, doing: str) -> StoreError:
        import psycopg

        first = scrub(str(exc), self._url).strip().splitlines()
        reason = first[0] if first else type(exc).__name__
        if isinstance(exc, psycopg.OperationalError):
            host, port, _, _ = server_of(self._url)
            return StoreError(
                f"incident store {self.location}: the connection to {host} port {port} was "
                f"lost while {doing} ({reason}); nothing of it was written; try again once "
                "the server is back"
            )
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            _, _, _, user = server_of(self._url)
            return StoreError(
                f"incident store {self.location}: user {user} may not do this while "
                f"{doing} ({reason}); fix: the database owner grants it (GRANT SELECT, "
                f"INSERT, DELETE ON the store's tables TO {user})"
            )
        return StoreError(f"incident store {self.location}: {doing} failed: {reason}")

    # --- first use ---------------------------------------------------------------------

    def _prepare(self) -> None:
        """Check the database; create PostGIS and the tables when they are missing."""
        with self._session("opening the store") as con:
            encoding = con.execute("SHOW server_encoding").fetchone()[0]
            if str(encoding).upper() not in ("UTF8", "UTF-8"):
                raise StoreError(
                    f"incident store {self.location}: the database's encoding is {encoding}; "
                    "the store keeps Arabic and other text as UTF-8: create the database "
                    "with ENCODING 'UTF8'"
                )
            tables = self._columns(con)
            if all(set(REQUIRED_COLUMNS[t]) <= tables.get(t, set()) for t in REQUIRED_COLUMNS):
                return
            wrong = sorted(t for t in REQUIRED_COLUMNS if t in tables)
            missing = {
                t: sorted(set(REQUIRED_COLUMNS[t]) - tables[t])
                for t in wrong
                if set(REQUIRED_COLUMNS[t]) - tables[t]
            }
            if missing:
                detail = "; ".join(f"{t} lacks {', '.join(c)}" for t, c in missing.items())
                raise StoreError(
                    f"{self.location} is not an incident store ({detail}); give another "
                    "database, or a schema of its own (options=-csearch_path%3Dmonitor,public)"
                )
            with con.transaction():
                con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK_SCHEMA])
                self._ensure_postgis(con)
                for statement in create_sql():
                    con.execute(statement)
        logger.info("created the incident store's tables in %s", self.location)

    @staticmethod
    def _columns(con: psycopg.Connection) -> dict[str, set[str]]:
        rows = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = ANY(%s)",
            [list(REQUIRED_COLUMNS)],
        ).fetchall()
        out: dict[str, set[str]] = {}
        for table, column in rows:
            out.setdefault(table, set()).add(column)
        return out

    def _ensure_postgis(self, con: psycopg.Connection) -> None:
        """Create the PostGIS extension if missing, or raise the one line that says who can."""
        import psycopg

        if con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
            return
        _, _, database, user = server_of(self._url)
        try:
            with con.transaction():
                con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        except psycopg.errors.InsufficientPrivilege:
            raise StoreError(
                f"incident store {self.location}: the database {database} has no PostGIS "
                f"extension and user {user} may not create it; fix: a database owner runs "
                f"CREATE EXTENSION postgis; in {database}"
            ) from None
        except (psycopg.errors.UndefinedFile, psycopg.errors.FeatureNotSupported):
            raise StoreError(
                f"incident store {self.location}: PostGIS is not installed on the server "
                f"({self._server()}); fix: install it there (Debian: postgresql-15-postgis-3), "
                f"then a database owner runs CREATE EXTENSION postgis; in {database}"
            ) from None
        logger.info("created the PostGIS extension in %s", self.location)

    # --- writing -----------------------------------------------------------------------

    def add_batch(self, incidents: gpd.GeoDataFrame, batch: BatchInfo) -> str:
        """Store validated incidents as one batch (see :meth:`IncidentStore.add_batch`).

        One transaction: COPY into a temporary table, INSERT ... SELECT into
        ``incidents`` (the id constraint checks every row), the audit row. A bulk load
        (:data:`BULK_MIN_ROWS`) builds the spatial index again instead of growing it.
        """
        import psycopg

        now = now_utc()
        batch_id = new_batch_id(now)
        dtypes = incidents.dtypes.astype(str).to_dict()
        conforms = all(dtypes.get(c) == schema.INCIDENT_DTYPES[c] for c in schema.INCIDENT_COLUMNS)
        frame = (
            incidents
            if conforms
            else schema.conform_incidents(incidents, incidents.geometry.to_numpy())
        )
        columns = staged_columns(frame)
        at = now.to_pydatetime()
        create, copy = staging_sql(columns)
        try:
            with self._session(f"storing {batch.source_file}") as con, con.transaction():
                con.execute("SET LOCAL temp_buffers = '64MB'")  # the staging table in memory
                con.execute(create)
                with con.cursor().copy(copy) as pipe:
                    for piece in copy_payload(frame, columns):
                        pipe.write(piece)
                bulk = len(frame) >= BULK_MIN_ROWS and self._stored_fewer(con, len(frame))
                if bulk:
                    con.execute(DROP_GEOM_INDEX_SQL)
                con.execute(
                    insert_staged_sql(columns), [batch_id, at, batch.source_file, batch.sha256]
                )
                if bulk:
                    con.execute(GEOM_INDEX_SQL)
                self._audit(con, at, batch.action, batch_id, batch=batch, accepted=len(frame))
        except psycopg.errors.UniqueViolation:
            raise self._id_clash(frame["id"].tolist()) from None
        logger.info(
            "stored %d incidents from %s as batch %s", len(frame), batch.source_file, batch_id
        )
        return batch_id

    @staticmethod
    def _stored_fewer(con: psycopg.Connection, n: int) -> bool:
        """Return whether fewer than ``n`` incidents are stored (counting at most ``n``)."""
        sql = f'SELECT count(*) FROM (SELECT 1 FROM "{LAYER}" LIMIT %s) AS s'
        return int(con.execute(sql, [n]).fetchone()[0]) < n

    @staticmethod
    def _audit(
        con: psycopg.Connection,
        at: dt.datetime,
        action: str,
        batch_id: str | None,
        *,
        batch: BatchInfo | None = None,
        accepted: int | None = None,
        note: str | None = None,
        user: str | None = None,
    ) -> None:
        """Append an audit row (``batch``: where an added batch came from)."""
        con.execute(
            f'INSERT INTO "{AUDIT_TABLE}" ({quoted(AUDIT_COLUMNS[1:])}) '
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            audit_values(
                at, action, batch_id, batch=batch, accepted=accepted, note=note, user=user
            ),
        )

    def undo(self, batch_id: str | None = None, *, user: str | None = None) -> int:
        """Remove every incident of a batch (by default the last one still stored).

        ``user``: who undoes it (audited). Undos wait for each other (an advisory lock),
        so two people undoing the same batch undo it once.

        Returns
        -------
        int
            Number of incidents removed.
        """
        with self._session("undoing a batch") as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK_UNDO])
            live = con.execute(
                f'SELECT "batch_id" FROM "{AUDIT_TABLE}" WHERE "action" = ANY(%s) '
                f'AND "batch_id" NOT IN (SELECT "batch_id" FROM "{AUDIT_TABLE}" '
                'WHERE "action" = \'undo\' AND "batch_id" IS NOT NULL) ORDER BY "event_id"',
                [list(BATCH_ACTIONS)],
            ).fetchall()
            known = batch_id is not None and bool(
                con.execute(
                    f'SELECT 1 FROM "{AUDIT_TABLE}" WHERE "batch_id" = %s', [batch_id]
                ).fetchone()
            )
            batch_id = self._batch_to_undo(batch_id, [r[0] for r in live], known)
            removed = con.execute(
                f'DELETE FROM "{LAYER}" WHERE "batch_id" = %s', [batch_id]
            ).rowcount
            note = f"{removed} incident(s) removed"
            self._audit(con, now_utc().to_pydatetime(), "undo", batch_id, note=note, user=user)
        logger.info("undid batch %s: %d incidents removed", batch_id, removed)
        return removed

    # --- users and roles ---------------------------------------------------------------

    def users(self) -> pd.DataFrame:
        """Return the users granted a role: ``email, role, granted_by, granted_at``."""
        columns = ["email", "role", "granted_by", "granted_at"]
        with self._session("listing the users") as con:
            rows = con.execute(
                f'SELECT {quoted(columns)} FROM "{USERS_TABLE}" ORDER BY "email"'
            ).fetchall()
        frame = _records(rows, columns)
        frame["granted_at"] = pd.to_datetime(frame["granted_at"], utc=True)
        return frame

    def role_of(self, email: str) -> str | None:
        """Return the role granted to ``email``, or ``None``."""
        with self._session("reading a role") as con:
            row = con.execute(
                f'SELECT "role" FROM "{USERS_TABLE}" WHERE "email" = %s',
                [str(email).strip().lower()],
            ).fetchone()
        return None if row is None else str(row[0])

    def grant(self, email: str, role: str, *, by: str | None = None) -> None:
        """Give ``email`` the ``role`` (see :meth:`IncidentStore.grant`)."""
        email, role = check_email(email), check_role(role)
        at = now_utc().to_pydatetime()
        with self._session("granting a role") as con, con.transaction():
            con.execute(
                f'INSERT INTO "{USERS_TABLE}" ("email", "role", "granted_by", "granted_at") '
                'VALUES (%s, %s, %s, %s) ON CONFLICT ("email") DO UPDATE SET '
                '"role" = excluded."role", "granted_by" = excluded."granted_by", '
                '"granted_at" = excluded."granted_at"',
                [email, role, by or current_user(), at],
            )
            self._audit(con, at, "grant", None, note=f"{email}: {role}", user=by)
        logger.info("granted %s the role %s", email, role)

    def revoke(self, email: str, *, by: str | None = None) -> bool:
        """Remove the role of ``email``; return whether it had one."""
        email = check_email(email)
        with self._session("revoking a role") as con, con.transaction():
            removed = con.execute(
                f'DELETE FROM "{USERS_TABLE}" WHERE "email" = %s', [email]
            ).rowcount
            if removed:
                at = now_utc().to_pydatetime()
                self._audit(con, at, "revoke", None, note=email, user=by)
        return bool(removed)

    # --- history and counts ------------------------------------------------------------

    def audit(self) -> pd.DataFrame:
        """Return the audit: one row per upload, seed, undo, grant and revoke, oldest first."""
        with self._session("reading the audit") as con:
            rows = con.execute(
                f'SELECT {quoted(AUDIT_COLUMNS)} FROM "{AUDIT_TABLE}" ORDER BY "event_id"'
            ).fetchall()
        frame = _records(rows, list(AUDIT_COLUMNS))
        frame["at"] = pd.to_datetime(frame["at"], utc=True)
        return frame

    def find_sha256(self, sha256: str) -> str | None:
        """Return the id of a stored (not undone) batch of the file with this hash, if any.

        One query (the interface's version reads every batch and the audit).
        """
        with self._session("looking up a file") as con:
            row = con.execute(
                f'SELECT "batch_id" FROM "{AUDIT_TABLE}" WHERE "action" = ANY(%s) '
                'AND "source_sha256" = %s AND "batch_id" NOT IN (SELECT "batch_id" FROM '
                f'"{AUDIT_TABLE}" WHERE "action" = \'undo\' AND "batch_id" IS NOT NULL) '
                'ORDER BY "event_id" DESC LIMIT 1',
                [list(BATCH_ACTIONS), sha256],
            ).fetchone()
        return None if row is None else str(row[0])

    def _rows_by_batch(self) -> dict[str, int]:
        with self._session("counting the batches") as con:
            rows = con.execute(
                f'SELECT "batch_id", count(*) FROM "{LAYER}" GROUP BY "batch_id"'
            ).fetchall()
        return {str(b): int(n) for b, n in rows}

    def count(self) -> int:
        """Return the number of stored incidents."""
        with self._session("counting the incidents") as con:
            return int(con.execute(f'SELECT count(*) FROM "{LAYER}"').fetchone()[0])

    def content_token(self) -> str:
        """Return the count of changes to the incidents and the last audit event.

        The count is kept by a trigger on ``incidents`` in the writer's transaction, so
        it also changes when another program (QGIS) edits the table, and a token is
        never read before the change it stands for is visible.
        """
        with self._session("reading the store's state") as con:
            changes, last = con.execute(
                f'SELECT (SELECT "changes" FROM "{STATE_TABLE}"), '
                f'(SELECT max("event_id") FROM "{AUDIT_TABLE}")'
            ).fetchone()
        return f"{self.location}|{changes}|{last}"

    def content_hash(self) -> str:
        """Return the SHA-256 of every incident's columns and geometry, in stored order.

        The same digest as :meth:`geo.store.geopackage.GeoPackageStore.content_hash` of
        the same incidents: the rows are fetched in the GeoPackage's form (date as text,
        geometry as a GeoPackage blob) and digested in chunks of 10,000 alike.
        """
        digest = hashlib.sha256()
        with (
            self._session("hashing the incidents") as con,
            con.transaction(),
            con.cursor(name="bordermon_hash") as cursor,  # server side: 10,000 at a time
        ):
            cursor.itersize = _HASH_CHUNK
            cursor.execute(content_sql())
            while rows := cursor.fetchmany(_HASH_CHUNK):
                digest.update(repr(rows).encode())
        return digest.hexdigest()

    # --- reading -----------------------------------------------------------------------

    def read(
        self,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        types: Iterable[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the stored incidents (with the store's columns), filtered in SQL.

        In one snapshot, read side by side by two connections (:func:`copy_together`;
        the other imports this one's ``pg_export_snapshot``):

        - the incident columns with only ``batch_id`` of the store's four (half the
          bytes), one ``COPY (SELECT ...) TO STDOUT`` in CSV, parsed by Arrow;
        - the store's columns once per batch.

        Should some batch's rows differ in the store's columns (edited elsewhere), the
        incidents are read again with all four.

        Parameters
        ----------
        since, until
            Keep incidents on or after / on or before these dates.
        types
            Keep these incident types.
        """
        since, until, types = normalize_filters(since, until, types)
        where, params = _date_filter(since, until)
        if types is not None:
            where.append('"type" = ANY(%s)')
            params.append(list(types))
        columns = [*schema.INCIDENT_COLUMNS, "batch_id"]

        def incidents(con: psycopg.Connection, columns: list[str]) -> CopyJob:
            return CopyJob(
                con,
                select_sql(columns, where, with_fid=True),
                params,
                parse=partial(parse_rows, columns=columns, with_fid=True),
            )

        with self._session("reading incidents") as con, con.transaction():
            con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one snapshot
            snapshot = con.execute("SELECT pg_export_snapshot()").fetchone()[0]
            with self._in_snapshot(snapshot) as other:
                rows, batch = copy_together(
                    [incidents(con, columns), CopyJob(other, batches_sql(where), params)]
                )
            batches = parse_batches(batch.pieces[0])
            ids = [b[0] for b in batches]
            once = len(set(ids)) == len(ids)  # each batch one file, time and hash
            if not once:
                columns = list(ALL_COLUMNS)
                (rows,) = copy_together([incidents(con, columns)])
        frame, geometry = frame_of_rows(rows.pieces, columns, with_fid=True)
        if frame.empty:
            return schema.empty_incidents(with_store_columns=True)
        if once:
            rows = pd.Categorical(frame["batch_id"], categories=ids).codes
            for k, name in enumerate(schema.STORE_COLUMNS[1:], start=1):
                values = np.array([b[k] for b in batches], dtype=object)[rows]
                frame[name] = (
                    pd.to_datetime(pd.to_numeric(pd.Series(values)), unit="ms", utc=True)
                    if name == "ingested_at"
                    else values
                )
        return schema.conform_incidents(frame, geometry, store_columns=True)

    @contextmanager
    def _in_snapshot(self, snapshot: str) -> Iterator[psycopg.Connection]:
        """Yield another connection in a read-only transaction that sees ``snapshot``."""
        con = self._open()
        try:
            with con.transaction():
                con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                if not re.fullmatch(r"[0-9A-F]+-[0-9A-F]+-[0-9]+", snapshot):
                    raise StoreError(f"incident store {self.location}: odd snapshot {snapshot!r}")
                con.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")  # the server's own id
                yield con
        finally:
            con.close()

    @staticmethod
    def _copy_out(
        con: psycopg.Connection, columns: list[str], where: list[str], params: list
    ) -> tuple[pd.DataFrame, np.ndarray]:
        """Return ``columns`` and the geometries of the incidents ``where`` selects.

        One ``COPY (SELECT ...) TO STDOUT`` (:func:`copy_rows`), parsed at once by Arrow.
        """
        data, rows = copy_rows(con, select_sql(columns, where), params)
        return parse_copy(data, columns, rows=rows)

    def stored_ids(self, ids: Collection[str]) -> set[str]:
        """Return those of ``ids`` that are stored (through the id index)."""
        ids = [str(i) for i in ids]
        if not ids:
            return set()
        with self._session("looking up ids") as con:
            rows = con.execute(
                f'SELECT i."id" FROM unnest(%s::text[]) AS u("id") JOIN "{LAYER}" i USING ("id")',
                [ids],
            ).fetchall()
        return {r[0] for r in rows}

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

        The GeoPackage store's box around the points (:func:`geo.lookup.search_box`),
        found through the GiST index, and the dates in SQL: both backends return the same.
        """
        if not len(lon):
            return schema.empty_incidents()[["id", "type", "date", "geometry"]]
        box = search_box(lon, lat, distance_m)
        where, params = _date_filter(since, until)
        where.append('"geom" && ST_MakeEnvelope(%s, %s, %s, %s, 4326)')
        params.extend(box)
        columns = ["id", "date", "type"]  # the layer's order, as GDAL gives them
        with self._session("finding neighbours") as con:
            frame, geometry = self._copy_out(con, columns, where, params)
        frame["date"] = frame["date"].astype("datetime64[s]")
        return gpd.GeoDataFrame(frame, geometry=geometry, crs=settings.GEOGRAPHIC_CRS)

    # --- publishing for GIS tools --------------------------------------------------------

    def publish_ranking(
        self, sectors: gpd.GeoDataFrame, *, parameters: Mapping[str, Any]
    ) -> str | None:
        """Replace the table ``ranked_sectors`` with these ranked sectors, in one transaction.

        ``sector_id`` is the primary key, ``geom`` a ``MultiPolygon`` (EPSG:4326) with a
        GiST index, and every row carries ``computed_at`` and the ``parameters`` (JSON).
        The table keeps its grants and dependent views while its columns stay the same;
        it is made anew when they change. Readers see the old ranking or the new one.

        Returns
        -------
        str
            The table's name.
        """
        import shapely

        columns = ranked_columns_sql(sectors)
        at = now_utc().to_pydatetime()
        blob = json.dumps(dict(parameters), default=str, sort_keys=True)
        wkb = shapely.to_wkb(sectors.to_crs(settings.GEOGRAPHIC_CRS).geometry.to_numpy())
        values = [_plain(sectors[name]) for name, _ in columns]
        attributes = zip(*values, strict=True)
        rows = [(*row, at, blob, geom) for row, geom in zip(attributes, wkb, strict=True)]
        with self._session("publishing the ranking") as con, con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK_RANKED])
            existing = con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE "
                "table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
                [RANKED_TABLE],
            ).fetchall()
            wanted = [*columns, ("computed_at", "timestamp with time zone")]
            wanted += [("parameters", "jsonb"), ("geom", "USER-DEFINED")]
            if [(c, t) for c, t in existing] == wanted:
                con.execute(f'DELETE FROM "{RANKED_TABLE}"')
            else:
                con.execute(f'DROP TABLE IF EXISTS "{RANKED_TABLE}"')
                for statement in ranked_create_sql(columns):
                    con.execute(statement)
            with con.cursor() as cursor:
                cursor.executemany(ranked_insert_sql(columns), rows)
        logger.info("published %d ranked sectors in %s", len(rows), RANKED_TABLE)
        return RANKED_TABLE


#: Bytes of whole rows :func:`copy_together` gives a job's ``parse`` at a time.
PARSE_CHUNK_BYTES = 1 << 20


@dataclass
class CopyJob:
    """One ``COPY (...) TO STDOUT`` for :func:`copy_together`, and what it received.

    Attributes
    ----------
    con
        Its connection (psycopg), with no query running.
    query, params
        The COPY, with ``%s`` placeholders for ``params``.
    parse
        Called as ``parse(data, rows=n)`` with whole rows (``bytes``) while the server is
        still sending the rest; ``None``: the rows are kept as they came.
    pieces
        ``parse``'s results in order, or (without ``parse``) one ``bytes`` of all rows.
    rows
        How many rows the server sent.
    """

    con: Any
    query: str
    params: list = field(default_factory=list)
    parse: Callable[..., Any] | None = None
    pieces: list = field(default_factory=list)
    rows: int = 0


def copy_rows(con: psycopg.Connection, query: str, params: list) -> tuple[bytes, int]:
    """Run ``COPY (...) TO STDOUT`` ``query``; return its data and how many rows it sent."""
    (job,) = copy_together([CopyJob(con, query, params)])
    return job.pieces[0], job.rows


def copy_together(jobs: Sequence[CopyJob]) -> Sequence[CopyJob]:
    """Run each job's ``COPY (...) TO STDOUT`` at once; fill in its ``pieces`` and ``rows``.

    The queries are all sent first, so the server runs them side by side, one process a
    connection, while this one thread takes whatever arrives on any socket. A job's
    ``parse`` gets the rows every :data:`PARSE_CHUNK_BYTES` as they arrive, so parsing
    overlaps the server's work.

    The server sends a message a row: psycopg's ``Copy`` iterator costs about 3 µs a
    message in Python, half of a 100,000-row read, so the messages are taken straight
    from libpq (``PGconn.get_copy_data``) into one ``bytearray`` (keeping each message
    costs three times as much). ``params`` are bound client-side by psycopg
    (``ClientCursor.mogrify``: quoted and escaped for the connection's encoding).

    Raises
    ------
    psycopg.Error
        As ``cursor.copy`` would (the server's error, or a connection lost); once the
        others are done, so no connection is left with a query running.
    """
    import psycopg
    from psycopg import pq

    queries = [  # all bound before any is sent
        (
            psycopg.ClientCursor(job.con).mogrify(job.query, job.params)
            if job.params
            else job.query
        ).encode(job.con.info.encoding)
        for job in jobs
    ]
    try:
        results = _receive(jobs, queries)
    except BaseException:
        for job in jobs:  # a COPY left half-read leaves its connection unusable
            job.con.close()
        raise
    for result, job in zip(results, jobs, strict=True):
        if result is not None and result.status == pq.ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(result, job.con.info.encoding)
        if result is None or result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg.OperationalError("the server did not run the COPY")
    return jobs


def _receive(jobs: Sequence[CopyJob], queries: list[bytes]) -> list[Any]:
    """Send the queries, take the rows as they come; return each query's last result."""
    from psycopg import pq

    live = [job.con.pgconn for job in jobs]
    for pgconn, query in zip(live, queries, strict=True):
        pgconn.send_query(query)  # raises OperationalError
    for pgconn in live:
        while pgconn.flush():  # the query is not all sent yet
            select.select([pgconn.socket], [pgconn.socket], [])
    received = [bytearray() for _ in jobs]
    unparsed = [0] * len(jobs)  # rows in received[k]
    results: list[Any] = [None] * len(jobs)
    started = [False] * len(jobs)
    pending = set(range(len(jobs)))

    def hand_over(k: int) -> None:
        job = jobs[k]
        if job.parse is not None:
            job.pieces.append(job.parse(bytes(received[k]), rows=unparsed[k]))
            received[k] = bytearray()
            unparsed[k] = 0

    while pending:
        waiting = []
        for k in sorted(pending):
            pgconn = live[k]
            if not started[k]:
                if pgconn.is_busy():
                    waiting.append(pgconn.socket)
                    continue
                results[k] = pgconn.get_result()
                started[k] = True
                if results[k] is None or results[k].status != pq.ExecStatus.COPY_OUT:
                    pending.discard(k)
                    continue
            get = pgconn.get_copy_data  # raises OperationalError when the connection breaks
            chunked = jobs[k].parse is not None
            while True:
                size, data = get(1)
                if size > 0:
                    received[k] += data
                    unparsed[k] += 1
                    jobs[k].rows += 1
                    if chunked and len(received[k]) >= PARSE_CHUNK_BYTES:
                        hand_over(k)  # while the server formats the next rows
                elif size == 0:  # nothing more received yet
                    waiting.append(pgconn.socket)
                    break
                else:  # the COPY is over
                    results[k] = _last_result(pgconn)
                    pending.discard(k)
                    break
        if waiting and pending:
            ready, _, _ = select.select(waiting, [], [])
            for pgconn in live:
                if pgconn.socket in ready:
                    pgconn.consume_input()
    for k, pgconn in enumerate(live):  # the rest of each query's results
        last = _last_result(pgconn)
        results[k] = results[k] if last is None else last
    for k, job in enumerate(jobs):
        if job.parse is None:
            job.pieces.append(bytes(received[k]))
        elif received[k] or not job.pieces:
            hand_over(k)
    return results


def _last_result(pgconn: Any) -> Any:
    """Wait for the query's remaining results; return the last (``None`` if none was left)."""
    last = None
    while True:
        while pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
        result = pgconn.get_result()
        if result is None:
            return last
        last = result


def _records(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    """Return rows as pandas builds a GeoPackage store's (``read_sql_query``: the same dtypes)."""
    return pd.DataFrame.from_records(rows, columns=columns, coerce_float=True)


def _plain(column: pd.Series) -> list:
    """Return a column as Python values, a missing value as ``None`` (SQL NULL)."""
    values = column.astype(object).where(column.notna(), None)
    return [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]


def _date_filter(since: dt.date | None, until: dt.date | None) -> tuple[list[str], list]:
    """Return the SQL conditions and parameters of a date range."""
    where, params = [], []
    if since is not None:
        where.append('"date" >= %s')
        params.append(pd.Timestamp(since).date())
    if until is not None:
        where.append('"date" <= %s')
        params.append(pd.Timestamp(until).date())
    return where, params
