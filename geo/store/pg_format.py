"""The layout of a PostGIS store: its URL, its tables, and the rows it copies in and out.

A PostGIS store keeps, in one schema of one database (``public`` unless the URL's
``options`` set another ``search_path``):

- :data:`LAYER` ``incidents``: the incident schema of :mod:`geo.schema` plus the
  store's columns, ``fid`` (an identity primary key: the order stored), ``id`` unique
  (the constraint :data:`ID_CONSTRAINT`), ``geom geometry(Point, 4326)`` with a GiST
  index. QGIS and GDAL find it through PostGIS's ``geometry_columns``.
- :data:`AUDIT_TABLE` ``ingest_audit`` and :data:`USERS_TABLE` ``users``: the same
  columns as in a GeoPackage store.
- :data:`STATE_TABLE` ``store_state``: one row counting the statements that changed
  ``incidents`` (a trigger), the cheap :meth:`~geo.store.IncidentStore.content_token`.
- :data:`RANKED_TABLE` ``ranked_sectors``: the latest published ranking
  (:meth:`geo.store.postgis.PostgisStore.publish_ranking`), for QGIS.

Rows travel as CSV through ``COPY``: written by Arrow (:func:`copy_payload`), read by
Arrow (:func:`parse_copy`); dates as days since 1970 and times as milliseconds, so no
server setting (``DateStyle``, ``TimeZone``) changes what is read.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import schema
from geo.store.base import AUDIT_COLUMNS

if TYPE_CHECKING:
    import pyarrow as pa

#: URL schemes of a PostgreSQL store (libpq's own).
SCHEMES = ("postgresql", "postgres")
#: The incident table.
LAYER = "incidents"
#: The audit table.
AUDIT_TABLE = "ingest_audit"
#: The users and their roles.
USERS_TABLE = "users"
#: One row: how many statements changed the incident table.
STATE_TABLE = "store_state"
#: The latest ranked sectors (for QGIS and other GIS tools).
RANKED_TABLE = "ranked_sectors"
#: The unique constraint on the incident id: a clash names it.
ID_CONSTRAINT = "incidents_id_key"
#: Every column of the incident table but ``fid`` and the geometry, in order.
ALL_COLUMNS = schema.INCIDENT_COLUMNS + schema.STORE_COLUMNS

_PG_TYPES = {
    "str": "text",
    "datetime64[ns]": "date",
    "datetime64[ns, UTC]": "timestamptz",
    "int64": "bigint",
    "float64": "double precision",
}
#: GeoPackage geometry header of a little-endian point without envelope, SRS 4326: a
#: content hash made of these blobs is the GeoPackage store's (``GP``, 0, 1, 4326 LE).
_GPKG_POINT_HEADER = "\\x47500001e6100000"


# --- the URL -------------------------------------------------------------------------


def is_database_url(location: str | os.PathLike[str] | None) -> bool:
    """Return whether ``location`` is a ``postgresql://`` (or ``postgres://``) URL."""
    text = "" if location is None else str(location)
    return any(text.startswith(f"{scheme}://") for scheme in SCHEMES)


def _password(url: str) -> str | None:
    """Return the password written in ``url`` (in its user part or as a parameter)."""
    parts = urlsplit(url)
    if parts.password:
        return parts.password
    match = re.search(r"(?:^|&)password=([^&]*)", parts.query, flags=re.IGNORECASE)
    return match[1] if match else None


def redact_url(url: str) -> str:
    """Return ``url`` without any password: what may be printed, logged or written.

    ``postgresql://ana:secret@db:5432/monitor?password=x&sslmode=require`` becomes
    ``postgresql://ana@db:5432/monitor?sslmode=require``; the rest is kept as written.
    """
    parts = urlsplit(url)
    out = url
    if "@" in parts.netloc:
        user, host = parts.netloc.rsplit("@", 1)
        if ":" in user:
            out = out.replace(f"//{parts.netloc}", f"//{user.split(':', 1)[0]}@{host}", 1)
    if parts.query:
        kept = [
            item
            for item in parts.query.split("&")
            if item and not item.lower().startswith("password=")
        ]
        if kept != parts.query.split("&"):
            head = out.partition("?")[0]
            fragment = f"#{parts.fragment}" if parts.fragment else ""
            out = head + (f"?{'&'.join(kept)}" if kept else "") + fragment
    return out


def scrub(text: str, url: str) -> str:
    """Return ``text`` with the password of ``url`` (raw and %-decoded) replaced by ``***``."""
    from urllib.parse import unquote

    password = _password(url)
    if password:
        for form in {password, unquote(password)}:
            if form:
                text = text.replace(form, "***")
    return text


def server_of(url: str) -> tuple[str, str, str, str]:
    """Return ``(host, port, database, user)`` that libpq connects to for ``url``.

    What the URL leaves out comes from libpq's environment (``PGHOST``, ``PGPORT``,
    ``PGDATABASE``, ``PGUSER``) and then its defaults. A host that is a folder is a
    Unix socket. Never the password.
    """
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = conninfo_to_dict(url)
    except Exception:  # malformed: still name what the URL shows
        parts = urlsplit(url)
        params = {"host": parts.hostname, "port": parts.port, "dbname": parts.path[1:]}
    user = str(params.get("user") or os.environ.get("PGUSER") or _os_user())
    host = str(params.get("host") or os.environ.get("PGHOST") or "the local socket")
    port = str(params.get("port") or os.environ.get("PGPORT") or 5432)
    database = str(params.get("dbname") or os.environ.get("PGDATABASE") or user)
    return host, port, database, user


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "(this user)"


# --- the tables ------------------------------------------------------------------------


def quoted(names: Sequence[str]) -> str:
    """Return SQL identifiers, double-quoted and comma-separated."""
    return ", ".join(f'"{name}"' for name in names)


def incident_columns_sql() -> str:
    """Return the column definitions of :data:`ALL_COLUMNS` (``id``, ``date``, ... required)."""
    return ", ".join(
        f'"{name}" {_PG_TYPES[schema.INCIDENT_DTYPES[name]]}'
        # ids compare byte by byte: the unique index is not slowed by a database's locale
        + (' COLLATE "C"' if name == "id" else "")
        + (" NOT NULL" if name in ("id", "date", "type", "batch_id") else "")
        for name in ALL_COLUMNS
    )


#: The spatial index of the incidents (also rebuilt after a bulk load: PostgisStore.add_batch).
GEOM_INDEX_SQL = f'CREATE INDEX IF NOT EXISTS "{LAYER}_geom_idx" ON "{LAYER}" USING gist ("geom")'
#: Its removal before a bulk load.
DROP_GEOM_INDEX_SQL = f'DROP INDEX IF EXISTS "{LAYER}_geom_idx"'


def create_sql() -> list[str]:
    """Return the statements that create a store's tables (idempotent, in one transaction).

    Indexes: the primary key ``fid``, ``id`` unique and ``geom`` (GiST, for QGIS and
    the neighbours of validation). None on ``date`` or ``batch_id``: a scan of 100,000
    rows takes milliseconds (a read, an undo), an index costs every upload (the
    batch's cost a quarter of an upload of 100,000 rows).
    """
    from geo.roles import ROLES

    roles = ", ".join(f"'{r}'" for r in ROLES)
    return [
        f'CREATE TABLE IF NOT EXISTS "{LAYER}" ('
        '"fid" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, '
        f"{incident_columns_sql()}, "
        '"geom" geometry(Point, 4326) NOT NULL, '
        f'CONSTRAINT "{ID_CONSTRAINT}" UNIQUE ("id"))',
        GEOM_INDEX_SQL,
        f'COMMENT ON TABLE "{LAYER}" IS \'incidents of the Lebanon-Syria border monitor; '
        "write through python -m geo ingest or the app (batches, audit, undo)'",
        f'CREATE TABLE IF NOT EXISTS "{AUDIT_TABLE}" ('
        '"event_id" bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, '
        '"at" timestamptz NOT NULL, "action" text NOT NULL, "batch_id" text, '
        '"source_file" text, "source_sha256" text, "format" text, "features" bigint, '
        '"accepted_count" bigint, "rejected_count" bigint, "warning_count" bigint, '
        '"user" text, "note" text)',
        f'CREATE INDEX IF NOT EXISTS "{AUDIT_TABLE}_batch_idx" ON "{AUDIT_TABLE}" ("batch_id")',
        f'CREATE TABLE IF NOT EXISTS "{USERS_TABLE}" ("email" text PRIMARY KEY, '
        f'"role" text NOT NULL CHECK ("role" IN ({roles})), "granted_by" text, '
        '"granted_at" timestamptz NOT NULL)',
        f'CREATE TABLE IF NOT EXISTS "{STATE_TABLE}" ('
        '"one" boolean PRIMARY KEY DEFAULT true CHECK ("one"), '
        '"changes" bigint NOT NULL DEFAULT 0)',
        f'INSERT INTO "{STATE_TABLE}" ("one", "changes") VALUES (true, 0) ON CONFLICT DO NOTHING',
        # every statement that changes the incidents (ours, or an edit in QGIS) counts,
        # in its own transaction: the content token sees committed changes only
        "CREATE OR REPLACE FUNCTION bordermon_count_change() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        f'EXECUTE format(\'UPDATE %I."{STATE_TABLE}" SET "changes" = "changes" + 1\', '
        "TG_TABLE_SCHEMA); RETURN NULL; END $$",
        f'DROP TRIGGER IF EXISTS "{LAYER}_changed" ON "{LAYER}"',
        f'CREATE TRIGGER "{LAYER}_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
        f'ON "{LAYER}" FOR EACH STATEMENT EXECUTE FUNCTION bordermon_count_change()',
    ]


#: Tables a store has, and columns each must have (what :func:`create_sql` makes).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    LAYER: ("fid", *ALL_COLUMNS, "geom"),
    AUDIT_TABLE: AUDIT_COLUMNS,
    USERS_TABLE: ("email", "role", "granted_by", "granted_at"),
    STATE_TABLE: ("one", "changes"),
}


# --- rows in: COPY ... FROM STDIN (FORMAT csv) ---------------------------------------------


def staged_columns(frame: gpd.GeoDataFrame) -> list[str]:
    """Return the incident columns worth copying: required ones and those holding a value."""
    return [
        name
        for name in schema.INCIDENT_COLUMNS
        if name in ("id", "date", "type") or frame[name].notna().any()
    ]


def staging_sql(columns: Sequence[str]) -> list[str]:
    """Return the temporary table a batch is copied into, and the COPY into it.

    The table is dropped at the end of the transaction. Beside the incident columns it
    has ``ord`` (the row's position: the order stored) and ``x``, ``y`` (degrees).
    """
    defs = ", ".join(f'"{c}" {_PG_TYPES[schema.INCIDENT_DTYPES[c]]}' for c in columns)
    return [
        f'CREATE TEMPORARY TABLE "{LAYER}_staging" ({defs}, "ord" bigint, '
        '"x" double precision, "y" double precision) ON COMMIT DROP',
        f'COPY "{LAYER}_staging" ({quoted(columns)}, "ord", "x", "y") FROM STDIN (FORMAT csv)',
    ]


def insert_staged_sql(columns: Sequence[str]) -> str:
    """Return the INSERT ... SELECT of the staging table; the four store columns are bound."""
    return (
        f'INSERT INTO "{LAYER}" ({quoted(columns)}, {quoted(schema.STORE_COLUMNS)}, "geom") '
        f"SELECT {quoted(columns)}, %s, %s, %s, %s, "
        f'ST_SetSRID(ST_MakePoint("x", "y"), 4326) FROM "{LAYER}_staging" ORDER BY "ord"'
    )


def copy_payload(
    frame: gpd.GeoDataFrame, columns: Sequence[str], *, rows: int = 20_000
) -> Iterator[bytes]:
    """Yield the CSV rows of :func:`staging_sql`'s COPY, ``rows`` at a time.

    Written by Arrow: every value quoted, a missing one (NaN, None) left empty and
    unquoted, which PostgreSQL's CSV reads as NULL (an empty text stays empty); floats
    in their shortest exact form, dates as ``YYYY-MM-DD``. In pieces, so the server
    reads one while the next is written.
    """
    for start in range(0, len(frame), rows):
        yield _csv_rows(frame.iloc[start : start + rows], columns, start)


def _csv_rows(frame: gpd.GeoDataFrame, columns: Sequence[str], first: int) -> bytes:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import shapely

    arrays = {}
    for name in columns:
        column = frame[name]
        if name == "date":
            arrays[name] = pa.array(column.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]"))
        elif schema.INCIDENT_DTYPES[name] == "str":
            values = column.to_numpy(dtype=object)
            arrays[name] = pa.array(values, type=pa.string(), from_pandas=True)
        else:
            arrays[name] = pa.array(column.to_numpy(), from_pandas=True)
    geoms = frame.geometry.to_numpy()
    arrays["ord"] = pa.array(np.arange(first, first + len(frame), dtype=np.int64))
    arrays["x"] = pa.array(shapely.get_x(geoms))
    arrays["y"] = pa.array(shapely.get_y(geoms))
    out = io.BytesIO()
    pacsv.write_csv(
        pa.table(arrays),
        out,
        pacsv.WriteOptions(include_header=False, quoting_style="all_valid"),
    )
    return out.getvalue()


# --- rows out: COPY (SELECT ...) TO STDOUT (FORMAT csv) -------------------------------------


def _select_expr(name: str) -> str:
    dtype = schema.INCIDENT_DTYPES[name]
    if dtype == "datetime64[ns]":
        return f"(\"{name}\" - date '1970-01-01')"
    if dtype == "datetime64[ns, UTC]":
        return f'(extract(epoch FROM "{name}") * 1000)::bigint'
    return f'"{name}"'


def select_sql(columns: Sequence[str], where: Sequence[str], *, with_fid: bool = False) -> str:
    """Return the COPY of incident ``columns``, ``x`` and ``y``, filtered.

    ``where``: SQL conditions with ``%s`` placeholders (joined with AND). In stored
    order (``ORDER BY fid``, through the primary key), or with ``with_fid`` in no order
    (a sequential scan, cheaper for the server), each row led by its ``fid``, which
    :func:`parse_copy` sorts by.
    """
    exprs = [_select_expr(c) for c in columns] + ['ST_X("geom")', 'ST_Y("geom")']
    order = ' ORDER BY "fid"'
    if with_fid:
        exprs.insert(0, '"fid"')
        order = ""
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    return (
        f'COPY (SELECT {", ".join(exprs)} FROM "{LAYER}"{condition}{order}) TO STDOUT (FORMAT csv)'
    )


def batches_sql(where: Sequence[str]) -> str:
    """Return the COPY of the store's columns once per batch among the rows ``where`` selects.

    ``ingested_at`` comes as milliseconds since 1970. A read sends these once per batch
    instead of once per row (half the bytes of a row) when each batch has one set.
    """
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    select = ", ".join(_select_expr(c) for c in schema.STORE_COLUMNS)
    return f'COPY (SELECT DISTINCT {select} FROM "{LAYER}"{condition}) TO STDOUT (FORMAT csv)'


def _arrow_types(columns: Sequence[str], with_fid: bool) -> dict:
    import pyarrow as pa

    arrow_types = {"str": pa.string(), "int64": pa.int64(), "float64": pa.float64()}
    types = {"__fid": pa.int64()} if with_fid else {}
    types |= {
        c: arrow_types.get(schema.INCIDENT_DTYPES[c], pa.int64())  # days, milliseconds
        for c in columns
    }
    return types | {"__x": pa.float64(), "__y": pa.float64()}


def parse_rows(
    data: bytes, columns: Sequence[str], *, rows: int | None = None, with_fid: bool = False
) -> pa.Table:
    """Return whole rows of :func:`select_sql`'s COPY (CSV) as an Arrow table.

    An unquoted empty field is NULL, a quoted one an empty text. ``rows``: how many rows
    ``data`` holds, if known (when every row is one line, Arrow's quicker parser is
    used). ``with_fid``: as given to :func:`select_sql`.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    types = _arrow_types(columns, with_fid)
    if not data:  # no row (Arrow refuses an empty CSV)
        return pa.table({name: pa.array([], type=kind) for name, kind in types.items()})
    # one thread: the server and the caller share the machine's cores
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(
            column_names=list(types), block_size=1 << 24, use_threads=False
        ),
        parse_options=pacsv.ParseOptions(newlines_in_values=data.count(b"\n") != rows),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )


def frame_of_rows(
    tables: Sequence[pa.Table], columns: Sequence[str], *, with_fid: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the columns (pandas) and Point geometries of :func:`parse_rows`' tables.

    Dates come as ``datetime64`` days, times as UTC ``datetime64``. ``with_fid``: as
    given to :func:`select_sql`; the rows are put in stored order.
    """
    import pyarrow as pa
    import pyarrow.compute as pc
    import shapely

    table = pa.concat_tables(tables) if tables else parse_rows(b"", columns, with_fid=with_fid)
    if with_fid:
        fid = table["__fid"].to_numpy()
        if (np.diff(fid) < 0).any():  # rows moved on disk (space reused after an undo)
            table = table.take(pc.sort_indices(table["__fid"]))
        table = table.drop_columns(["__fid"])
    frame = table.to_pandas()
    # one (n, 2) array: twice as quick as shapely.points(x, y)
    geometry = shapely.points(np.column_stack([frame.pop("__x"), frame.pop("__y")]))
    for name in columns:
        dtype = schema.INCIDENT_DTYPES[name]
        if dtype == "datetime64[ns]":
            days = frame[name].to_numpy(dtype="int64")
            frame[name] = days.astype("datetime64[D]").astype("datetime64[ns]")
        elif dtype == "datetime64[ns, UTC]":
            frame[name] = pd.to_datetime(frame[name], unit="ms", utc=True)
    return frame, geometry


def parse_copy(
    data: bytes, columns: Sequence[str], *, rows: int | None = None, with_fid: bool = False
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the columns (pandas) and Point geometries of :func:`select_sql`'s rows.

    :func:`parse_rows` then :func:`frame_of_rows`, for one piece of ``data``.
    """
    table = parse_rows(data, columns, rows=rows, with_fid=with_fid)
    return frame_of_rows([table], columns, with_fid=with_fid)


def parse_batches(data: bytes) -> list[tuple]:
    """Return the rows of :func:`batches_sql` (CSV) as tuples of the store's columns.

    In :data:`geo.schema.STORE_COLUMNS` order; ``ingested_at`` as milliseconds since
    1970, or ``None``.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not data:
        return []
    names = list(schema.STORE_COLUMNS)
    types = {
        n: pa.int64() if schema.INCIDENT_DTYPES[n] == "datetime64[ns, UTC]" else pa.string()
        for n in names
    }
    table = pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False
        ),
    )
    return list(zip(*(table[n].to_pylist() for n in names), strict=True))


def content_sql() -> str:
    """Return the SELECT whose rows a content hash digests: the GeoPackage store's rows.

    The incident columns as a GeoPackage returns them (the date as ``YYYY-MM-DD`` text)
    and the geometry as a GeoPackage blob, so both backends hash the same incidents alike.
    """
    select = ", ".join(
        "to_char(\"date\", 'YYYY-MM-DD')" if c == "date" else f'"{c}"'
        for c in schema.INCIDENT_COLUMNS
    )
    return (
        f"SELECT {select}, '{_GPKG_POINT_HEADER}'::bytea || ST_AsBinary(\"geom\", 'NDR') "
        f'FROM "{LAYER}" ORDER BY "fid"'
    )


# --- the ranked sectors ----------------------------------------------------------------------


def ranked_columns_sql(frame: pd.DataFrame) -> list[tuple[str, str]]:
    """Return ``(column, SQL type)`` of a ranked table's attributes (not its geometry)."""
    out = []
    for name in frame.columns:
        if name == getattr(frame, "_geometry_column_name", None):
            continue
        dtype = frame[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            sql = "boolean"
        elif pd.api.types.is_integer_dtype(dtype):
            sql = "bigint"
        elif pd.api.types.is_float_dtype(dtype):
            sql = "double precision"
        else:
            sql = "text"
        out.append((str(name), sql))
    return out


def ranked_create_sql(columns: list[tuple[str, str]]) -> list[str]:
    """Return the statements that create :data:`RANKED_TABLE` with these attribute columns."""
    defs = ", ".join(
        f'"{name}" {sql}' + (" PRIMARY KEY" if name == "sector_id" else "") for name, sql in columns
    )
    return [
        f'CREATE TABLE "{RANKED_TABLE}" ({defs}, '
        '"computed_at" timestamptz NOT NULL, "parameters" jsonb NOT NULL, '
        '"geom" geometry(MultiPolygon, 4326))',
        f'CREATE INDEX "{RANKED_TABLE}_geom_idx" ON "{RANKED_TABLE}" USING gist ("geom")',
        f'COMMENT ON TABLE "{RANKED_TABLE}" IS \'the latest ranking of the border sectors '
        "for demarcation, written by python -m geo analyze or report'",
    ]


def ranked_insert_sql(columns: list[tuple[str, str]]) -> str:
    """Return the INSERT of one ranked sector: attributes, time, parameters, WKB geometry."""
    names = [name for name, _ in columns]
    marks = ", ".join(["%s"] * len(names))
    return (
        f'INSERT INTO "{RANKED_TABLE}" ({quoted(names)}, "computed_at", "parameters", "geom") '
        f"VALUES ({marks}, %s, %s, ST_Multi(ST_GeomFromWKB(%s, 4326)))"
    )
