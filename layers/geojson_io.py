"""Deterministic GeoJSON writing and reading for the reference layers.

A layer written twice from the same input gives byte-identical files: features
are sorted by the given key columns, properties follow a fixed column order,
coordinates are snapped to a 1e-6 degree grid (about 0.1 m) without breaking
validity and printed with at most 6 decimals, one feature per line (so that
``git diff`` shows which features changed).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import mapping

from geo.errors import LayerError

logger = logging.getLogger(__name__)

#: Grid of the stored coordinates, in degrees (1e-6° is about 0.11 m).
COORDINATE_GRID_DEG = 1e-6
#: Decimals written for each coordinate.
COORDINATE_DECIMALS = 6


def _round_coordinates(obj: Any) -> Any:
    """Round every number of a nested GeoJSON coordinate list to 6 decimals."""
    if isinstance(obj, (list, tuple)):
        if obj and isinstance(obj[0], (int, float)):
            return [_clean_float(round(float(v), COORDINATE_DECIMALS)) for v in obj[:2]]
        return [_round_coordinates(v) for v in obj]
    return obj


def _clean_float(value: float) -> float:
    """Return ``value`` with ``-0.0`` made ``0.0``."""
    return 0.0 if value == 0 else value


def _clean_property(value: Any) -> Any:
    """Turn numpy and pandas scalars and missing values into JSON values."""
    if value is None:
        return None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) else value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def snap_geometry(geom: shapely.Geometry) -> shapely.Geometry:
    """Snap a geometry to the stored 1e-6° grid, keeping polygons valid.

    Parameters
    ----------
    geom
        Any shapely geometry in EPSG:4326.

    Returns
    -------
    shapely.Geometry
        The geometry on the grid; consecutive duplicate vertices removed.
    """
    return shapely.set_precision(geom, COORDINATE_GRID_DEG, mode="valid_output")


def write_geojson(
    gdf: gpd.GeoDataFrame,
    path: Path,
    *,
    columns: Sequence[str],
    sort_by: Sequence[str],
    name: str,
) -> Path:
    """Write a layer as a deterministic RFC 7946 GeoJSON file.

    Parameters
    ----------
    gdf
        The layer, in EPSG:4326.
    path
        Output file.
    columns
        Property columns, in the order they are written; others are dropped.
    sort_by
        Columns whose values order the features.
    name
        The layer's name, stored as the collection's ``name``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    LayerError
        If the layer is not in EPSG:4326 or lacks a column.
    """
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise LayerError(
            f"layer {name!r}: CRS is {gdf.crs}, but layers are stored in EPSG:4326; "
            "reproject with .to_crs(4326) before writing"
        )
    missing = [c for c in [*columns, *sort_by] if c not in gdf.columns]
    if missing:
        raise LayerError(f"layer {name!r}: missing column(s) {missing}; add them before writing")
    rows = []
    for _, row in gdf.iterrows():
        geom = snap_geometry(row.geometry)
        if geom.is_empty:
            raise LayerError(
                f"layer {name!r}: a feature's geometry vanished on the 1e-6° grid; "
                "check the source geometry"
            )
        props = {c: _clean_property(row[c]) for c in columns}
        key = tuple("" if props.get(c) is None else str(props.get(c)) for c in sort_by)
        geometry = mapping(geom)
        geometry = {
            "type": geometry["type"],
            "coordinates": _round_coordinates(geometry["coordinates"]),
        }
        feature = {"type": "Feature", "properties": props, "geometry": geometry}
        text = json.dumps(feature, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        rows.append((key, text))
    rows.sort()
    path.parent.mkdir(parents=True, exist_ok=True)
    body = ",\n".join(text for _, text in rows)
    header = json.dumps({"type": "FeatureCollection", "name": name}, separators=(",", ":"))[:-1]
    path.write_text(f'{header},"features":[\n{body}\n]}}\n', encoding="utf-8")
    logger.info("wrote %s (%d features, %d bytes)", path, len(rows), path.stat().st_size)
    return path


def read_geojson(path: Path, *, name: str) -> gpd.GeoDataFrame:
    """Read a layer file into a GeoDataFrame in EPSG:4326.

    Parameters
    ----------
    path
        The GeoJSON file.
    name
        The layer's name, used in error messages.

    Raises
    ------
    LayerError
        If the file is missing or unreadable.
    """
    if not path.is_file():
        raise LayerError(
            f"layer {name!r}: file {path} is missing; rebuild it with `python -m layers.build`"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        gdf = gpd.GeoDataFrame.from_features(data["features"], crs="EPSG:4326")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LayerError(
            f"layer {name!r}: cannot read {path} ({exc}); rebuild it with `python -m layers.build`"
        ) from exc
    return gdf
