"""What validation may ask of the incidents already stored, and that for a GeoDataFrame.

Validation (:func:`geo.validation.validate_features`, :func:`geo.ingest.validate_file`)
needs three things of the incidents already stored, and nothing else:

- which of the new ids are taken (an id already stored rejects the feature);
- whether the same file (by SHA-256) was stored before (a file-level warning);
- the stored incidents near the new ones (the likely-duplicate warning).

:class:`StoredIncidents` is that protocol. Every :class:`geo.store.IncidentStore`
implements it in its own query language; :class:`FrameIncidents` implements it over a
GeoDataFrame already in memory (what the app and tests pass). This module imports
neither the store nor validation.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection
from typing import Protocol, runtime_checkable

import geopandas as gpd
import numpy as np
import pandas as pd

#: Metres per degree of latitude, rounded down (a box widened by it is never too small).
_METRES_PER_DEGREE = 110_000.0
#: Widening of the search box beyond the distance asked (map projection, rounding).
_BOX_MARGIN = 1.5


@runtime_checkable
class StoredIncidents(Protocol):
    """What validation needs to know of the incidents already stored."""

    def stored_ids(self, ids: Collection[str]) -> set[str]:
        """Return those of ``ids`` that are already stored."""
        ...

    def find_sha256(self, sha256: str) -> str | None:
        """Return the batch id of a stored (not undone) file with this SHA-256, if any."""
        ...

    def incidents_near(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        *,
        distance_m: float,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the stored incidents within ``distance_m`` of any point, dated in range.

        Every such incident is returned (more may be: the caller measures the exact
        distance), in the order they were stored, with at least the columns ``id``,
        ``type``, ``date`` and a Point geometry in EPSG:4326 (none missing or empty).
        """
        ...


def search_box(lon: np.ndarray, lat: np.ndarray, distance_m: float) -> tuple[float, ...]:
    """Return ``(minx, miny, maxx, maxy)``, degrees: the points' box widened by ``distance_m``.

    Generous (:data:`_BOX_MARGIN` times the distance, at the points' highest latitude):
    every place within ``distance_m`` of a point is in it.

    Parameters
    ----------
    lon, lat
        The points, in degrees (at least one).
    distance_m
        The distance of interest, in metres.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    widen = _BOX_MARGIN * distance_m + 1.0
    dlat = widen / _METRES_PER_DEGREE
    top = min(89.0, float(np.max(np.abs(lat))) + dlat)
    dlon = widen / (_METRES_PER_DEGREE * math.cos(math.radians(top)))
    return (
        float(lon.min() - dlon),
        float(lat.min() - dlat),
        float(lon.max() + dlon),
        float(lat.max() + dlat),
    )


def select_near(
    incidents: gpd.GeoDataFrame,
    lon: np.ndarray,
    lat: np.ndarray,
    *,
    distance_m: float,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> gpd.GeoDataFrame:
    """Return the incidents in the box around the points widened by ``distance_m``, in range.

    The box is :func:`search_box`'s: every incident within ``distance_m`` of a point is in it.

    Parameters
    ----------
    incidents
        Incidents with ``date`` and Point geometry (EPSG:4326); rows without a
        geometry are dropped.
    lon, lat
        The points, in degrees.
    distance_m
        The distance of interest, in metres.
    since, until
        Keep incidents dated on or after / on or before these days.
    """
    import shapely

    if incidents.empty or not len(lon):
        return incidents.iloc[:0]
    minx, miny, maxx, maxy = search_box(lon, lat, distance_m)
    points = incidents.geometry.to_numpy()
    x, y = shapely.get_x(points), shapely.get_y(points)  # NaN when missing or empty
    with np.errstate(invalid="ignore"):
        keep = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
    dates = pd.to_datetime(incidents["date"])
    if since is not None:
        keep &= (dates >= pd.Timestamp(since)).to_numpy()
    if until is not None:
        keep &= (dates < pd.Timestamp(until) + pd.Timedelta(days=1)).to_numpy()
    return incidents[keep]


class FrameIncidents:
    """:class:`StoredIncidents` over a GeoDataFrame of the incident schema.

    A frame knows no batches: :meth:`find_sha256` finds none.

    Parameters
    ----------
    incidents
        The incidents (``id``, ``type``, ``date``, Point geometry in EPSG:4326).

    Attributes
    ----------
    incidents
        The frame given.
    """

    def __init__(self, incidents: gpd.GeoDataFrame) -> None:
        self.incidents = incidents
        self._ids: set[str] | None = None

    def stored_ids(self, ids: Collection[str]) -> set[str]:
        """Return those of ``ids`` that are in the frame."""
        if self._ids is None:
            self._ids = set(self.incidents["id"].astype(object))
        return self._ids.intersection(ids)

    def find_sha256(self, sha256: str) -> str | None:
        """Return ``None``: a frame records no files."""
        return None

    def incidents_near(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        *,
        distance_m: float,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the incidents of the frame near the points (see :class:`StoredIncidents`)."""
        return select_near(
            self.incidents, lon, lat, distance_m=distance_m, since=since, until=until
        )


def as_stored_incidents(
    existing: StoredIncidents | gpd.GeoDataFrame | None,
) -> StoredIncidents | None:
    """Return ``existing`` as :class:`StoredIncidents` (a GeoDataFrame is wrapped).

    Parameters
    ----------
    existing
        A store (or anything implementing the protocol), a GeoDataFrame of the
        incident schema, or ``None`` for no stored incidents.
    """
    if isinstance(existing, gpd.GeoDataFrame):
        return FrameIncidents(existing)
    if existing is None or isinstance(existing, StoredIncidents):
        return existing
    from geo.errors import ConfigurationError

    raise ConfigurationError(
        f"existing={type(existing).__name__} cannot be checked against: give an incident "
        "store, a GeoDataFrame of the incident schema, or None"
    )
