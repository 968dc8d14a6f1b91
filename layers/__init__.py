"""Reference layers of the Lebanon–Syria border monitor.

The layers are committed in ``data/`` (built by ``python -m layers.build``) and
read here without any build package or network access:

>>> from layers import load_layer, load_border_line
>>> border = load_layer("border")          # GeoDataFrame, EPSG:4326
>>> line = load_border_line()              # shapely LineString, coast -> Mount Hermon

Provenance of every layer: :func:`list_layers`, :func:`load_provenance`.
Measure distances and areas in :data:`layers.crs.METRIC_CRS`, never in degrees.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

import geopandas as gpd
from shapely.geometry import LineString

from geo.errors import LayerError
from layers.crs import GEOGRAPHIC_CRS, METRIC_CRS
from layers.paths import DATA_DIR, SAMPLE_INCIDENTS_PATH

logger = logging.getLogger(__name__)

__all__ = [
    "DATA_DIR",
    "GEOGRAPHIC_CRS",
    "LAYER_NAMES",
    "MAP_LAYER_NAMES",
    "METRIC_CRS",
    "list_layers",
    "load_border_line",
    "load_layer",
    "load_map_layers",
    "load_provenance",
    "terrain_path",
]

#: The vector layers, loadable with :func:`load_layer`.
LAYER_NAMES = (
    "border",
    "border_candidates",
    "countries",
    "regions",
    "towns",
    "crossings",
    "unofficial_crossings",
    "incidents",
)
#: The reference layers drawn on the map beside the border (not the incidents).
MAP_LAYER_NAMES = tuple(n for n in LAYER_NAMES if n not in ("border", "incidents"))
#: The bundled incident record (built from ``data/sources/border_incidents.csv``; not
#: duplicated under ``data/layers/``). A record of public reporting, not ground truth.
INCIDENTS_PATH = SAMPLE_INCIDENTS_PATH


def _layer_path(name: str) -> Path:
    if name == "incidents":
        return INCIDENTS_PATH
    return DATA_DIR / "layers" / f"{name}.geojson"


@functools.lru_cache(maxsize=16)
def _read_layer(name: str) -> gpd.GeoDataFrame:
    from layers.geojson_io import read_geojson

    return read_geojson(_layer_path(name), name=name)


def load_layer(name: str) -> gpd.GeoDataFrame:
    """Return a reference layer as a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    name
        One of :data:`LAYER_NAMES`.

    Returns
    -------
    geopandas.GeoDataFrame
        A fresh copy (the caller may modify it).

    Raises
    ------
    LayerError
        If the name is unknown or the file is missing or unreadable.
    """
    if name not in LAYER_NAMES:
        raise LayerError(f"unknown layer {name!r}; choose one of: {', '.join(LAYER_NAMES)}")
    return _read_layer(name).copy()


def load_map_layers() -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Return the border and the :data:`MAP_LAYER_NAMES` layers that exist, by name.

    Returns
    -------
    found
        The layers that could be read.
    missing
        One message for each layer that could not (what to rebuild).
    """
    found: dict[str, gpd.GeoDataFrame] = {}
    missing = []
    for name in ("border", *MAP_LAYER_NAMES):
        try:
            found[name] = load_layer(name)
        except LayerError as exc:
            missing.append(str(exc))
    return found, missing


def load_border_line() -> LineString:
    """Return the Lebanon–Syria border as one line in EPSG:4326.

    The line runs from the coast (north-west end, the mouth of the Nahr
    al-Kabir) to the south end near Mount Hermon.

    Raises
    ------
    LayerError
        If the border layer is not exactly one LineString.
    """
    gdf = load_layer("border")
    if len(gdf) != 1 or gdf.geometry.iloc[0].geom_type != "LineString":
        raise LayerError(
            f"layer 'border': expected one LineString, found {len(gdf)} feature(s) of type(s) "
            f"{sorted(set(gdf.geom_type))}; "
            "rebuild it with `python -m layers.build --layers border`"
        )
    return gdf.geometry.iloc[0]


def terrain_path() -> Path:
    """Return the path of the bundled terrain GeoTIFF (pvlib DEM, EPSG:4326).

    Raises
    ------
    LayerError
        If the file is missing.
    """
    path = DATA_DIR / "terrain.tif"
    if not path.is_file():
        raise LayerError(
            f"terrain: {path} is missing; rebuild it with `python -m layers.build --layers terrain`"
        )
    return path


@functools.lru_cache(maxsize=1)
def _provenance() -> dict[str, Any]:
    path = DATA_DIR / "provenance.json"
    if not path.is_file():
        raise LayerError(f"{path} is missing; rebuild it with `python -m layers.build`")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise LayerError(f"{path} is not valid JSON ({exc}); rebuild it") from exc


def load_provenance() -> dict[str, Any]:
    """Return ``data/provenance.json``: ``{"layers": {name: record}, ...}``."""
    return json.loads(json.dumps(_provenance()))


def list_layers() -> list[dict[str, Any]]:
    """Return the provenance record of every layer, each with its ``name``.

    Each record has at least ``name, source, package, version, licence,
    retrieved, steps`` and the layer's ``file``.
    """
    records = load_provenance()["layers"]
    return [{"name": name, **record} for name, record in records.items()]
