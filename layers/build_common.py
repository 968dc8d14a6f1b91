"""What the layer builders share: :class:`LayerBuild`, the retrieval date, source texts.

Also the geodesic length of a line and the projection to the metric CRS, used by
several builders. :mod:`layers.build` runs the builders; this module imports none
of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import shapely
from pyproj import Geod

#: Date the pinned source packages were retrieved for this build (ISO 8601).
RETRIEVED = "2026-11-23"


OSM_LICENCE = "ODbL 1.0 (© OpenStreetMap contributors)"
TZ_SOURCE = "OpenStreetMap via timezone-boundary-builder 2026c (timezonefinder-data)"

_GEOD = Geod(ellps="WGS84")


@dataclass
class LayerBuild:
    """One built layer and its provenance.

    Attributes
    ----------
    name
        Layer name (one of ``layers.LAYER_NAMES``).
    gdf
        The features, EPSG:4326.
    columns
        Property columns in the order they are written.
    sort_by
        Columns that order the features.
    provenance
        Its record for ``data/provenance.json``.
    """

    name: str
    gdf: gpd.GeoDataFrame
    columns: list[str]
    sort_by: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)


def geodesic_length_km(geom: shapely.Geometry) -> float:
    """Return the geodesic length (WGS 84) of a line in kilometres."""
    return _GEOD.geometry_length(geom) / 1000.0


NE_SOURCE = "Natural Earth 10m admin-0 countries (German-view edition)"
NE_LICENCE = "public domain (Natural Earth)"


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from layers.crs import METRIC_CRS

    return gdf.to_crs(METRIC_CRS)
