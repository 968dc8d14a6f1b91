"""The GeoPackage reader: the incident layer of a ``.gpkg`` file, read with pyogrio.

The bytes are written to a temporary file of their own (the store is never opened
here). Before GDAL reads it, SQLite opens that copy read-only and runs its quick
integrity check, so a damaged or truncated database is refused as such, and a SQLite
database without GeoPackage tables is named for what it is. Layer and column names are
data: GDAL quotes them; a column that is not in the schema is ignored with a warning.
A MultiPoint of one point is read as that point (see :mod:`geo.readers.features`).
"""

from __future__ import annotations

import os
import re
import sqlite3
import tempfile
import warnings

import numpy as np
import pandas as pd

from geo import settings
from geo.errors import FeatureProblem, ValidationError
from geo.readers.common import RawFeatures, _check_count, _property_frame, file_error, shorten
from geo.readers.features import geometry_type_problem

_FIX = "export the layer again as GeoPackage (or as GeoJSON) from the program that made it"


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
        _check_database(tmp)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL's notes on odd files: our error says it
            return _read_geopackage_file(tmp, max_features=max_features, layer=layer)
    finally:
        os.unlink(tmp)


def _check_database(tmp: str) -> None:
    """Refuse a copy that is not an SQLite database, is damaged, or has no GeoPackage tables."""
    try:
        with open(tmp, "rb") as handle:
            header = handle.read(16)
        if header != b"SQLite format 3\x00":
            raise sqlite3.DatabaseError("file is not a database")
        uri = f"file:{tmp}?mode=ro&immutable=1"
        connection = sqlite3.connect(uri, uri=True)
        try:
            check = connection.execute("PRAGMA quick_check(1)").fetchone()
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise file_error(
            "file",
            str(exc),
            f"not a readable GeoPackage: SQLite cannot read it ({exc}); the file is damaged "
            "(cut short by a transfer?) or is not a GeoPackage",
            _FIX,
        ) from None
    if not check or check[0] != "ok":
        raise file_error(
            "file",
            check[0] if check else "",
            "not a readable GeoPackage: the database is damaged (SQLite's integrity check failed)",
            _FIX,
        )
    if not {"gpkg_contents", "gpkg_spatial_ref_sys"} <= tables:
        raise file_error(
            "file",
            ", ".join(sorted(tables)[:10]) or "(no tables)",
            "not a readable GeoPackage: an SQLite database without the GeoPackage tables "
            "(gpkg_contents, gpkg_spatial_ref_sys)",
            _FIX,
        )


def _gdal_message(exc: Exception, tmp: str) -> str:
    """Return GDAL's message without the temporary file's path."""
    text = str(exc).replace(tmp, "the file")
    return shorten(re.sub(r"\s+", " ", text).strip(), 120)


def _read_geopackage_file(tmp: str, *, max_features: int, layer: str | None) -> RawFeatures:
    import pyogrio
    import shapely

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(tmp)]
    except Exception as exc:  # GDAL raises several error types on a corrupt file
        raise file_error(
            "file",
            _gdal_message(exc, tmp),
            "not a readable GeoPackage: GDAL cannot list its layers",
            _FIX,
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
            f"the layer cannot be read: {_gdal_message(exc, tmp)}",
            _FIX,
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
