"""The GeoPackage reader: the incident layer of a ``.gpkg`` file, read with pyogrio.

A MultiPoint of one point is read as that point (see :mod:`geo.readers.features`).
"""

from __future__ import annotations

import os
import tempfile
import warnings

import numpy as np
import pandas as pd

from geo import settings
from geo.errors import FeatureProblem, ValidationError
from geo.readers.common import RawFeatures, _check_count, _property_frame, file_error, shorten
from geo.readers.features import geometry_type_problem


def read_geopackage(data: bytes, *, max_features: int, layer: str | None = None) -> RawFeatures:
    """Read the incident layer of a GeoPackage (the only layer, or the one named ``incidents``).

    Parameters
    ----------
    data
        The file's bytes.
    max_features
        Most features accepted.
    layer
        The layer to read; by default the only one, else ``incidents``.
    """
    fd, tmp = tempfile.mkstemp(suffix=".gpkg")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL's notes on odd files: our error says it
            return _read_geopackage_file(tmp, max_features=max_features, layer=layer)
    finally:
        os.unlink(tmp)


def _read_geopackage_file(tmp: str, *, max_features: int, layer: str | None) -> RawFeatures:
    import pyogrio
    import shapely

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(tmp)]
    except Exception as exc:  # GDAL raises several error types on a corrupt file
        raise file_error(
            "file",
            shorten(str(exc)),
            "not a readable GeoPackage",
            "export the layer again as GeoPackage, or as GeoJSON",
        ) from None
    if layer is None:
        if len(layers) == 1:
            layer = layers[0]
        elif "incidents" in layers:
            layer = "incidents"
        else:
            raise file_error(
                "layer",
                ", ".join(layers) or "(none)",
                "the GeoPackage has no single incident layer",
                "keep one layer in the file, or name the incident layer 'incidents'",
            )
    try:
        info = pyogrio.read_info(tmp, layer=layer)
        _check_count(int(info.get("features") or 0), max_features)
        gdf = pyogrio.read_dataframe(tmp, layer=layer)
    except ValidationError:
        raise
    except Exception as exc:
        raise file_error(
            "layer",
            layer,
            f"the layer cannot be read: {shorten(str(exc))}",
            "export the layer again as GeoPackage, or as GeoJSON",
        ) from None
    _check_count(len(gdf), max_features)
    warnings: list[FeatureProblem] = []
    if gdf.crs is not None and not gdf.crs.equals(settings.GEOGRAPHIC_CRS, ignore_axis_order=True):
        warnings.append(
            FeatureProblem(
                None,
                None,
                "crs",
                shorten(gdf.crs.to_string()),
                f"coordinates were reprojected from {gdf.crs.name} to WGS 84",
                "none needed",
                "warning",
            )
        )
        gdf = gdf.to_crs(settings.GEOGRAPHIC_CRS)
    geoms = gdf.geometry.to_numpy() if gdf.geometry is not None else np.array([None] * len(gdf))
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(gdf[name]):
            frame[name] = gdf[name].dt.strftime("%Y-%m-%d").astype(object)
    frame = frame.where(frame.notna(), None)
    ids = [None if v is None else shorten(v, 60) for v in frame.get("id", [None] * len(frame))]
    types = shapely.get_type_id(geoms)
    parts = shapely.get_num_geometries(geoms)
    single = (types == 4) & (parts == 1)  # a MultiPoint of one point: read as that point
    if single.any():
        geoms = geoms.copy()
        geoms[single] = shapely.get_geometry(geoms[single], 0)
        types = np.where(single, 0, types)
        warnings.append(
            FeatureProblem(
                None,
                None,
                "geometry",
                f"{int(single.sum())} feature(s)",
                "a MultiPoint of one point was read as that Point",
                "none needed; write a Point when there is one place",
                "warning",
            )
        )
    n = len(frame)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    point = types == 0
    pts = geoms[point]
    lon[point], lat[point] = shapely.get_x(pts), shapely.get_y(pts)
    empty = shapely.is_empty(geoms)
    problems = []
    for i in np.flatnonzero(~point | empty):
        gtype = None if geoms[i] is None else geoms[i].geom_type
        if gtype is None:
            problems.append(
                FeatureProblem(
                    int(i),
                    ids[i],
                    "geometry",
                    "None",
                    "the geometry is missing (null)",
                    "give the incident a Point at the reported place, with location_precision_m",
                )
            )
        elif gtype != "Point":
            problems.append(geometry_type_problem(int(i), ids[i], gtype, int(parts[i])))
        else:
            problems.append(
                FeatureProblem(
                    int(i),
                    ids[i],
                    "geometry",
                    "POINT EMPTY",
                    "the Point is empty",
                    "give the Point its coordinates",
                )
            )
    properties = _property_frame(frame.to_dict("records"), warnings)
    return RawFeatures("gpkg", properties, lon, lat, problems, warnings, ids)
