"""The incident store: one interface, one backend per kind of storage.

What lives here
---------------
- :mod:`geo.store.base`: :class:`IncidentStore`, the interface the rest of the
  project uses (read, add a validated batch, undo, batches, audit, content token and
  hash, and what validation asks: :class:`geo.lookup.StoredIncidents`), and
  :class:`BatchInfo`, where a batch came from.
- :mod:`geo.store.geopackage`: :class:`GeoPackageStore`, the store in a GeoPackage
  file, with :mod:`geo.store.gpkg_format` (its tables and geometry blobs) and
  :mod:`geo.store.file_lock` (one writer at a time).
- :mod:`geo.store.postgis`: :class:`~geo.store.postgis.PostgisStore`, the store in a
  PostgreSQL + PostGIS database (a ``postgresql://`` URL), with
  :mod:`geo.store.pg_format` (its URL, tables and COPY rows). Imported only when a
  URL names one (psycopg is loaded then).
- Here: :func:`open_store`, which resolves where the store is (``--store``,
  ``$BORDERMON_STORE`` or :data:`geo.settings.DEFAULT_STORE_PATH`) once and opens
  it, and :func:`load_incidents`.

What it may import
------------------
:mod:`geo.schema`, :mod:`geo.settings`, :mod:`geo.selection`, :mod:`geo.lookup`,
:mod:`geo.errors` and the scientific stack. Never :mod:`geo.validation` or
:mod:`geo.ingest`: a store only stores. Validating a file, the rules that turn a
report into a batch and the seeding of a new default store with the bundled sample
are :mod:`geo.ingest`'s (:func:`geo.ingest.store_report`,
:func:`geo.ingest.open_seeded_store`).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import geopandas as gpd

from geo import settings
from geo.errors import StoreError
from geo.selection import filter_incidents
from geo.store.base import BatchInfo, IncidentStore
from geo.store.file_lock import LOCK_TIMEOUT_S
from geo.store.geopackage import STAGING_MIN_ROWS, GeoPackageStore
from geo.store.gpkg_format import AUDIT_TABLE, LAYER, decode_points, encode_points
from geo.store.pg_format import is_database_url, redact_url

__all__ = [
    "AUDIT_TABLE",
    "LAYER",
    "LOCK_TIMEOUT_S",
    "STAGING_MIN_ROWS",
    "BatchInfo",
    "GeoPackageStore",
    "IncidentStore",
    "decode_points",
    "encode_points",
    "filter_incidents",
    "is_database_url",
    "load_incidents",
    "open_store",
    "redact_url",
    "resolve_location",
]

#: ``scheme://`` at the start of a location: a URL, not a file path.
_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://")


def _shown(location: str) -> str:
    """Return a URL as it may be printed: any password replaced by ``***``."""
    parts = urlsplit(location)
    shown = location
    if parts.password:
        shown = shown.replace(f":{parts.password}@", ":***@", 1)
    return re.sub(r"(?i)(password=)[^&;\s]*", r"\1***", shown)


def _refuse_url(location: str, *, from_env: bool) -> None:
    """Raise StoreError when ``location`` is a URL other than ``postgresql://``."""
    match = _URL.match(location)
    if not match:
        return
    given = f"${settings.STORE_ENV_VAR}" if from_env else "--store"
    raise StoreError(
        f"incident store {_shown(location)!r} ({given}) is a {match['scheme']}:// URL; "
        "only a GeoPackage file is supported, or a PostgreSQL database "
        "(postgresql://user@host:5432/database); give the path of a .gpkg file, or such "
        f"a URL, with --store or ${settings.STORE_ENV_VAR}"
    )


def resolve_location(location: str | os.PathLike[str] | None = None) -> str:
    """Return where the store is: ``location``, else ``$BORDERMON_STORE``, else the default.

    Parameters
    ----------
    location
        The ``--store`` option (a path or a URL), or ``None``.
    """
    if location is not None and str(location) != "":
        return str(location)
    return os.environ.get(settings.STORE_ENV_VAR, "") or str(settings.DEFAULT_STORE_PATH)


def open_store(
    location: str | os.PathLike[str] | None = None,
    *,
    create: bool = False,
    populate: Callable[[IncidentStore], object] | None = None,
) -> IncidentStore:
    """Open the incident store at ``location``, resolved once.

    Nothing is created or touched before the location is known to be usable: a URL
    other than ``postgresql://`` (or ``postgres://``) is refused at once.

    Parameters
    ----------
    location
        A GeoPackage file or a ``postgresql://`` URL (the ``--store`` option); ``None``
        or empty resolves ``$BORDERMON_STORE``, else
        :data:`geo.settings.DEFAULT_STORE_PATH`.
    create
        Create a GeoPackage store when it does not exist (otherwise that is an error).
        A database store creates its tables on first use whatever this says (the
        database itself must exist).
    populate
        Called with a GeoPackage store this creates before anyone else can see it
        (seeding: :func:`geo.ingest.open_seeded_store`). A database store is never
        populated: it holds only what is ingested into it.

    Raises
    ------
    StoreError
        The location is another URL, does not exist (and ``create`` is false), is a
        folder, or is not an incident store; a database that cannot be reached (one
        line naming host and port) or lacks PostGIS that the user may not add.
    """
    explicit = location is not None and str(location) != ""
    raw = resolve_location(location)
    if is_database_url(raw):
        from geo.store.postgis import PostgisStore

        return PostgisStore(raw)
    _refuse_url(raw, from_env=not explicit)
    return GeoPackageStore(settings.resolve_store_path(location), create=create, populate=populate)


def load_incidents(
    store: IncidentStore | str | os.PathLike[str],
    *,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    types: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Return stored incidents, optionally filtered.

    Parameters
    ----------
    store
        An open store, or the location of one that exists (see :func:`open_store`).
    since, until
        Keep incidents on or after / on or before these dates.
    types
        Keep these incident types.
    """
    if not isinstance(store, IncidentStore):
        store = open_store(store)
    return store.read(since=since, until=until, types=types)
