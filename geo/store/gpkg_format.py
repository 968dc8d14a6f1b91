"""The layout of a GeoPackage store: its tables, their columns and the geometry blobs.

The file holds the layer :data:`LAYER` (the incident schema of :mod:`geo.schema`
plus the store's columns, Point geometry in EPSG:4326, no spatial index) and the
attribute table :data:`AUDIT_TABLE` (one row per upload, seed and undo). Geometry
is written as GeoPackage blobs without an envelope (:func:`encode_points`) and read
whatever envelope GDAL wrote (:func:`decode_points`).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import schema

#: Name of the incident layer in the GeoPackage.
LAYER = "incidents"
#: Name of the audit table.
AUDIT_TABLE = "ingest_audit"
#: Name of the table of users and their roles (:mod:`geo.roles`).
USERS_TABLE = "users"
#: Every column of the incident layer but the geometry, in order.
ALL_COLUMNS = schema.INCIDENT_COLUMNS + schema.STORE_COLUMNS

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


def iso_time(ts: pd.Timestamp) -> str:
    """Return a UTC time as GeoPackage writes DATETIME (ISO 8601, milliseconds, ``Z``)."""
    return ts.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


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


def _days(dates: pd.Series) -> np.ndarray:
    """Return dates as ``YYYY-MM-DD`` text (how the layer's DATE column holds them)."""
    return np.datetime_as_string(dates.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"))


def incident_rows(frame: gpd.GeoDataFrame, stamp: tuple[str, ...]) -> Iterator[tuple]:
    """Return the rows of :func:`insert_rows_sql` for incidents of the schema.

    Parameters
    ----------
    frame
        Incidents of the schema (dtypes of :data:`geo.schema.INCIDENT_DTYPES`).
    stamp
        The store's columns, the same for every row of a batch.
    """
    columns: list[list] = []
    for name in schema.INCIDENT_COLUMNS:
        if name == "date":
            columns.append(_days(frame[name]).tolist())
        else:
            values = frame[name].to_numpy(dtype=object)
            columns.append([None if v is None or v != v else v for v in values.tolist()])
    columns += [[value] * len(frame) for value in stamp]
    return zip(encode_points(frame.geometry), *columns, strict=True)


def insert_rows_sql() -> str:
    """Return the INSERT of one incident row: geometry, then :data:`ALL_COLUMNS`."""
    marks = ", ".join("?" * (len(ALL_COLUMNS) + 1))
    return f'INSERT INTO "{LAYER}" ("geom", {quoted(ALL_COLUMNS)}) VALUES ({marks})'


def write_staging(frame: gpd.GeoDataFrame, path: Path) -> list[str]:
    """Write incidents to a staging GeoPackage (GDAL, Arrow: fast); return the columns written.

    Only the incident columns that hold a value are written (a column empty in every
    row stays NULL in the store). The frame given is not changed.
    """
    import pyogrio

    staged = [
        name
        for name in schema.INCIDENT_COLUMNS
        if name in ("id", "date", "type") or frame[name].notna().any()
    ]
    out = frame[[*staged, frame.geometry.name]]  # a new frame: the caller's is untouched
    out["date"] = _days(frame["date"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pyogrio.write_dataframe(
            out,
            path,
            layer="staging",
            driver="GPKG",
            use_arrow=True,
            geometry_type="Point",
            layer_options={"SPATIAL_INDEX": "NO", "FID": "fid"},
        )
    return staged


def insert_staged_sql(staged: list[str]) -> str:
    """Return the INSERT ... SELECT of a staging GeoPackage attached as ``staging``.

    The store's four columns are bound once (``?``): they are the same for every row.
    """
    copy = ", ".join('substr("date", 1, 10)' if c == "date" else f'"{c}"' for c in staged)
    return (
        f'INSERT INTO "{LAYER}" ("geom", {quoted(staged)}, {quoted(schema.STORE_COLUMNS)}) '
        f'SELECT "geom", {copy}, ?, ?, ?, ? FROM staging."staging" ORDER BY "fid"'
    )


def quoted(names: Iterable[str]) -> str:
    """Return SQL identifiers, double-quoted and comma-separated."""
    return ", ".join(f'"{name}"' for name in names)


def users_sql() -> list[str]:
    """Return the statements that add the users table (idempotent: older stores lack it)."""
    from geo.roles import ROLES

    allowed = ", ".join(f"'{r}'" for r in ROLES)
    return [
        f'CREATE TABLE IF NOT EXISTS "{USERS_TABLE}" ("email" TEXT PRIMARY KEY NOT NULL, '
        f'"role" TEXT NOT NULL CHECK ("role" IN ({allowed})), "granted_by" TEXT, '
        '"granted_at" DATETIME NOT NULL)',
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        f"VALUES ('{USERS_TABLE}', 'attributes', '{USERS_TABLE}', "
        "'users of the monitor and their roles (viewer, analyst, admin)')",
    ]


def create_sql() -> list[str]:
    """Return the statements that turn a GeoPackage written by GDAL into a store."""
    columns = ", ".join(
        f'"{name}" {_COLUMN_SQL[schema.INCIDENT_DTYPES[name]]}'
        + (" NOT NULL" if name in ("id", "date", "type", "batch_id") else "")
        for name in ALL_COLUMNS
    )
    return [
        f'DROP TABLE IF EXISTS "{LAYER}"',
        f'CREATE TABLE "{LAYER}" ("fid" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
        f'"geom" POINT, {columns})',
        f'CREATE UNIQUE INDEX "{LAYER}_id" ON "{LAYER}" ("id")',
        # only the id is indexed: an index on date or batch costs 0.4 s per 100,000 rows
        # stored and a scan of 100,000 rows is a few milliseconds
        # no per-row count triggers (100,000 UPDATEs per upload): every write transaction
        # sets gpkg_ogr_contents.feature_count itself (see GeoPackageStore._transaction)
        f'CREATE TABLE "{AUDIT_TABLE}" ("event_id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
        '"at" DATETIME NOT NULL, "action" TEXT NOT NULL, "batch_id" TEXT, "source_file" TEXT, '
        '"source_sha256" TEXT, "format" TEXT, "features" INTEGER, "accepted_count" INTEGER, '
        '"rejected_count" INTEGER, "warning_count" INTEGER, "user" TEXT, "note" TEXT)',
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
        f"VALUES ('{AUDIT_TABLE}', 'attributes', '{AUDIT_TABLE}', "
        "'one row per upload, seed and undo of the incident store')",
        *users_sql(),
    ]
