"""The incident schema: the columns every incident has, their types and defaults.

An incident table is a :class:`geopandas.GeoDataFrame` in EPSG:4326 (longitude,
latitude) with one Point geometry per incident and the columns of
:data:`INCIDENT_COLUMNS`, in that order. The store adds :data:`STORE_COLUMNS`.

Fields
------
id
    Text, unique in the store. A feature without one gets ``<file stem>-<sha8>-<index>``.
date
    Day of the incident (ISO 8601 ``YYYY-MM-DD``; a time of day is dropped;
    ``YYYY-MM`` and ``YYYY`` are read as the first day of the month or year).
    Stored as naive ``datetime64`` at midnight.
date_precision_days
    Whole days (>= 1) within which the date is known. Missing: 1 for a full date
    (:data:`geo.settings.DEFAULT_DATE_PRECISION_DAYS`), 31 for ``YYYY-MM``, 366 for
    ``YYYY``. ACLED ``time_precision``: see :data:`ACLED_TIME_PRECISION_DAYS`.
type
    One of :data:`geo.settings.INCIDENT_TYPES`.
description, unit, commodity, actor1, actor2, location_note, source
    Free text, stored verbatim (HTML is never interpreted; renderers escape it).
quantity
    Amount seized or moved, in ``unit`` (>= 0; NaN when unknown).
fatalities
    Reported deaths (whole number >= 0; NaN when unknown).
location_precision_m
    Radius in metres within which the true position lies (> 0). Missing:
    :data:`geo.settings.DEFAULT_LOCATION_PRECISION_M` (5 km). ACLED
    ``geo_precision``: see :data:`ACLED_GEO_PRECISION_M`.
source_event_type, source_sub_event_type
    The original event type of an imported record (ACLED's ``event_type`` and
    ``sub_event_type``), kept beside our ``type``.

Store columns
-------------
batch_id
    The upload the incident came in with (see :meth:`geo.store.IncidentStore.undo`).
ingested_at
    When it was stored (UTC).
source_file, source_sha256
    The uploaded file's name and the SHA-256 of its bytes.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo.errors import FeatureProblem

#: Columns of an incident, in order (the geometry column comes last).
INCIDENT_COLUMNS: tuple[str, ...] = (
    "id",
    "date",
    "date_precision_days",
    "type",
    "description",
    "quantity",
    "unit",
    "commodity",
    "fatalities",
    "actor1",
    "actor2",
    "location_precision_m",
    "location_note",
    "source",
    "source_event_type",
    "source_sub_event_type",
)

#: Columns the store adds to each incident.
STORE_COLUMNS: tuple[str, ...] = ("batch_id", "ingested_at", "source_file", "source_sha256")

#: Free-text columns (stored verbatim).
TEXT_COLUMNS: tuple[str, ...] = (
    "description",
    "unit",
    "commodity",
    "actor1",
    "actor2",
    "location_note",
    "source",
    "source_event_type",
    "source_sub_event_type",
)

#: Columns a file must not leave empty (``id`` is generated when missing).
REQUIRED_COLUMNS: tuple[str, ...] = ("date", "type")

#: pandas dtype of every column.
INCIDENT_DTYPES: dict[str, str] = {
    "id": "str",
    "date": "datetime64[ns]",
    "date_precision_days": "int64",
    "type": "str",
    "description": "str",
    "quantity": "float64",
    "unit": "str",
    "commodity": "str",
    "fatalities": "float64",
    "actor1": "str",
    "actor2": "str",
    "location_precision_m": "float64",
    "location_note": "str",
    "source": "str",
    "source_event_type": "str",
    "source_sub_event_type": "str",
    "batch_id": "str",
    "ingested_at": "datetime64[ns, UTC]",
    "source_file": "str",
    "source_sha256": "str",
}

#: Longest text accepted in one field (characters).
MAX_TEXT_LENGTH = 10_000
#: Longest id accepted (characters).
MAX_ID_LENGTH = 200
#: Largest date precision accepted (days; ten years).
MAX_DATE_PRECISION_DAYS = 3_660
#: Largest location precision accepted (metres).
MAX_LOCATION_PRECISION_M = 200_000.0
#: Date precision assumed for ``YYYY-MM`` and ``YYYY`` dates without one (days).
MONTH_PRECISION_DAYS = 31
YEAR_PRECISION_DAYS = 366

#: ACLED ``geo_precision`` code -> location precision in metres. ACLED's codebook:
#: 1 = the named town itself (a town is a few km across: 2 km);
#: 2 = near a town or part of a region, coded to a nearby town (10 km);
#: 3 = only a larger region is known, coded to its centre or capital (50 km).
ACLED_GEO_PRECISION_M: dict[int, float] = {1: 2_000.0, 2: 10_000.0, 3: 50_000.0}

#: ACLED ``time_precision`` code -> date precision in days:
#: 1 = the day is known; 2 = only the week (7); 3 = only the month (31).
ACLED_TIME_PRECISION_DAYS: dict[int, int] = {1: 1, 2: 7, 3: 31}

#: ACLED ``sub_event_type`` -> our type (checked first).
ACLED_SUB_EVENT_TYPES: dict[str, str] = {
    "armed clash": "clash",
    "government regains territory": "clash",
    "non-state actor overtakes territory": "clash",
    "shelling/artillery/missile attack": "shelling",
    "air/drone strike": "strike",
    "remote explosive/landmine/ied": "strike",
    "grenade": "strike",
    "suicide bomb": "strike",
    "arrests": "arrest",
    "disrupted weapons use": "seizure",
}

#: ACLED ``event_type`` -> our type (when the sub-event type is not mapped).
ACLED_EVENT_TYPES: dict[str, str] = {
    "battles": "clash",
    "explosions/remote violence": "strike",
    "violence against civilians": "other",
    "strategic developments": "other",
    "protests": "other",
    "riots": "other",
}


#: Values given to a missing precision (documented in the module docstring).
_DEFAULTS = {
    "date_precision_days": settings.DEFAULT_DATE_PRECISION_DAYS,
    "location_precision_m": settings.DEFAULT_LOCATION_PRECISION_M,
}


def empty_incidents(*, with_store_columns: bool = False) -> gpd.GeoDataFrame:
    """Return an empty incident table with the schema's columns and dtypes.

    Parameters
    ----------
    with_store_columns
        Add the columns the store adds (:data:`STORE_COLUMNS`).
    """
    names = INCIDENT_COLUMNS + (STORE_COLUMNS if with_store_columns else ())
    frame = pd.DataFrame({name: pd.Series(dtype=INCIDENT_DTYPES[name]) for name in names})
    return gpd.GeoDataFrame(
        frame, geometry=gpd.GeoSeries([], crs=settings.GEOGRAPHIC_CRS), crs=settings.GEOGRAPHIC_CRS
    )


def conform_incidents(
    frame: pd.DataFrame, geometry, *, store_columns: bool = False
) -> gpd.GeoDataFrame:
    """Return a GeoDataFrame with exactly the schema's columns, order and dtypes.

    Missing columns are added empty; extra columns are dropped; a missing precision
    gets its documented default.

    Parameters
    ----------
    frame
        The incident attributes.
    geometry
        Point geometries (array-like) in EPSG:4326, one per row of ``frame``.
    store_columns
        Keep (and add when missing) the store's columns.
    """
    names = INCIDENT_COLUMNS + (STORE_COLUMNS if store_columns else ())
    n = len(frame)
    data = {}
    for name in names:
        dtype = INCIDENT_DTYPES[name]
        if name in frame.columns:
            column = frame[name].reset_index(drop=True)
        else:
            column = pd.Series([None] * n, index=pd.RangeIndex(n), dtype="object")
        if name in _DEFAULTS and column.isna().any():
            column = column.astype(object).where(column.notna(), _DEFAULTS[name])
        if str(column.dtype) == dtype:
            pass
        elif dtype == "datetime64[ns]":
            column = pd.to_datetime(column).astype(dtype)
        elif dtype == "datetime64[ns, UTC]":
            column = pd.to_datetime(column, utc=True).astype(dtype)
        elif dtype == "float64":
            column = pd.to_numeric(column).astype(dtype)
        else:
            column = column.astype(dtype)
        data[name] = column
    out = pd.DataFrame(data, index=pd.RangeIndex(n))
    return gpd.GeoDataFrame(
        out,
        geometry=gpd.GeoSeries(np.asarray(geometry, dtype=object), crs=settings.GEOGRAPHIC_CRS),
        crs=settings.GEOGRAPHIC_CRS,
    )


def find_schema_problems(gdf: gpd.GeoDataFrame) -> list[FeatureProblem]:
    """Return one problem per row and field that keeps a frame from being stored.

    A row must have a Point geometry (not empty) and an ``id``, a ``date`` and a
    ``type``. Problems are listed row by row, geometry first, as the analyst reads them.

    Parameters
    ----------
    gdf
        Incidents of the schema.
    """
    import shapely

    # checked a column at a time (a row loop took seconds for 100,000 rows)
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
            text = str(geoms[k])[:40]
            problems.append(FeatureProblem(k, fid, "geometry", text, "not a Point", "give a Point"))
        for name in ("id", "date", "type"):
            if flags[name][k]:
                problems.append(
                    FeatureProblem(k, fid, name, "", f"{name} is missing", f"give {name}")
                )
    return problems
