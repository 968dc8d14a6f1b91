"""Selection of incidents by date and type, in memory.

The store filters in SQL (:meth:`geo.store.IncidentStore.read`); this does the
same on a GeoDataFrame already loaded (the app filters a cached table).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo.errors import ConfigurationError


def normalize_filters(
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    types: Iterable[str] | None = None,
) -> tuple[pd.Timestamp | None, pd.Timestamp | None, list[str] | None]:
    """Return the filters as day timestamps and a type list, or raise ConfigurationError.

    Parameters
    ----------
    since, until
        Bounds of the date range (inclusive).
    types
        Incident types.
    """
    try:
        since_ts = None if since is None else pd.Timestamp(since).normalize()
        until_ts = None if until is None else pd.Timestamp(until).normalize()
    except (ValueError, TypeError):
        raise ConfigurationError(
            f"since={since!r} or until={until!r} is not a date; write YYYY-MM-DD"
        ) from None
    if since_ts is not None and until_ts is not None and since_ts > until_ts:
        raise ConfigurationError(
            f"since={since_ts.date()} is after until={until_ts.date()}; swap them"
        )
    if types is not None:
        types = [str(t).strip().lower() for t in types]
        unknown = sorted(set(types) - set(settings.INCIDENT_TYPES))
        if unknown:
            raise ConfigurationError(
                f"unknown incident type(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(settings.INCIDENT_TYPES)}"
            )
    return since_ts, until_ts, types


def filter_incidents(
    gdf: gpd.GeoDataFrame,
    *,
    since: dt.date | str | None = None,
    until: dt.date | str | None = None,
    types: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Return the incidents dated within ``[since, until]`` (inclusive) and of ``types``.

    Parameters
    ----------
    gdf
        Incidents with ``date`` and ``type`` columns.
    since, until
        Keep incidents on or after / on or before these days (``None``: no bound).
    types
        Keep these incident types (``None``: all).

    Raises
    ------
    ConfigurationError
        When ``since`` is after ``until`` or a type is unknown.
    """
    since_ts, until_ts, types = normalize_filters(since, until, types)
    mask = pd.Series(True, index=gdf.index)
    if since_ts is not None:
        mask &= gdf["date"] >= since_ts
    if until_ts is not None:
        mask &= gdf["date"] < until_ts + pd.Timedelta(days=1)
    if types is not None:
        mask &= gdf["type"].isin(types)
    keep = mask.to_numpy()
    if keep.all():  # nothing to take (a filtered frame filtered again): share the data
        return gdf.copy(deep=False)  # copy-on-write: a change to either copies first
    return gdf[keep]


def select_rows(table: pd.DataFrame, incidents: pd.DataFrame, *, what: str) -> pd.DataFrame:
    """Return the rows of ``table`` that belong to ``incidents``, in their order.

    ``table`` holds one row per incident of some larger set (the store's), indexed as
    they are: the app computes such tables once per store version, and each filter then
    only selects rows.

    Parameters
    ----------
    table
        Rows indexed like the incidents they were computed for (a unique index).
    incidents
        Incidents selected from those.
    what
        What ``table`` is, for the error messages.

    Raises
    ------
    ConfigurationError
        When ``table``'s index repeats, or some incident has no row.
    """
    if not table.index.is_unique:
        raise ConfigurationError(
            f"the {what} has a repeated index; fix: compute it for incidents with a "
            "unique index (as the store reads them)"
        )
    missing = ~incidents.index.isin(table.index)
    if missing.any():
        first = incidents.index[np.flatnonzero(missing)[0]]
        raise ConfigurationError(
            f"{int(missing.sum())} selected incident(s), the first at index {first!r}, are "
            f"not in the {what}; fix: compute it for the incidents they were selected from"
        )
    return table.loc[incidents.index]
