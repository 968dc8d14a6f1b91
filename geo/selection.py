"""Selection of incidents by date and type, in memory.

The store filters in SQL (:meth:`geo.store.IncidentStore.read`); this does the
same on a GeoDataFrame already loaded (the app filters a cached table).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import geopandas as gpd
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
