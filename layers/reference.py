"""The reference layers an analysis is given, as one value.

:class:`ReferenceLayers` holds the border line and the layers measured against
it (towns, official and unofficial crossings, candidate lines, countries, terrain). The entry points
(``python -m geo``, the app) build it once with :meth:`ReferenceLayers.bundled`
and pass it down; the analysis in ``geo`` reads only what it is given, so a test
or a caller can hand it other layers (or none) without touching ``data/``.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
from shapely.geometry import LineString

from geo.errors import LayerError

logger = logging.getLogger(__name__)


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=4326), crs=4326)


@dataclass(frozen=True)
class ReferenceLayers:
    """The border line and the reference layers measured against it (EPSG:4326).

    Attributes
    ----------
    line
        The border as one line, ordered from the coast to Mount Hermon.
    towns, crossings, candidates, countries
        The ``towns``, ``crossings``, ``border_candidates`` and ``countries``
        layers; an empty GeoDataFrame for none.
    unofficial_crossings
        The ``unofficial_crossings`` layer (reported unofficial crossings and
        smuggling routes where a report names a place); empty for none.
    terrain
        Elevation GeoTIFF (the bundled coarse DEM), or ``None`` for none.
    """

    line: LineString
    towns: gpd.GeoDataFrame = dataclasses.field(default_factory=_empty)
    crossings: gpd.GeoDataFrame = dataclasses.field(default_factory=_empty)
    candidates: gpd.GeoDataFrame = dataclasses.field(default_factory=_empty)
    countries: gpd.GeoDataFrame = dataclasses.field(default_factory=_empty)
    terrain: Path | None = None
    unofficial_crossings: gpd.GeoDataFrame = dataclasses.field(default_factory=_empty)

    @classmethod
    def bundled(cls) -> ReferenceLayers:
        """Return the layers committed in ``data/`` (a layer that is missing is empty).

        Raises
        ------
        LayerError
            If the border line itself is missing or malformed (nothing can be
            measured without it).
        """
        import layers

        def optional(name: str) -> gpd.GeoDataFrame:
            try:
                return layers.load_layer(name)
            except LayerError as exc:
                logger.warning("layer %s unavailable (%s); using none", name, exc)
                return _empty()

        try:
            terrain: Path | None = layers.terrain_path()
        except LayerError as exc:
            logger.warning("no bundled DEM: %s", exc)
            terrain = None
        return cls(
            line=layers.load_border_line(),
            towns=optional("towns"),
            crossings=optional("crossings"),
            candidates=optional("border_candidates"),
            countries=optional("countries"),
            terrain=terrain,
            unofficial_crossings=optional("unofficial_crossings"),
        )

    def replace(self, **changes: object) -> ReferenceLayers:
        """Return a copy with some layers replaced (``terrain=None`` for none)."""
        return dataclasses.replace(self, **changes)
