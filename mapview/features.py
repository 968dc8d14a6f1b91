"""Display copies of layers and the helpers that draw them as GeoJSON or points.

:func:`prepare_layer` makes the small, escaped copy of a layer that is sent to
the browser; :func:`_add_geojson` draws it with a style per class
(:func:`_classify` turns one style per feature into a few distinct ones) and an
escaped tooltip; :func:`_add_points` draws points with their escaped tooltips.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping

from geo import settings
from mapview.escaping import escape_text, script_json

_DECIMALS = settings.MAP_COORDINATE_DECIMALS


#: Display copies already made, by (id of the layer, options): the layer's weak reference
#: and the copy. The reference layers are the same objects from map to map (the app
#: caches them), and simplifying them took 0.2 s of every map.
_PREPARED: dict[tuple, tuple[weakref.ref, gpd.GeoDataFrame]] = {}


def prepare_layer(
    gdf: gpd.GeoDataFrame,
    *,
    columns: list[str] | tuple[str, ...] = (),
    simplify_m: float = settings.MAP_SIMPLIFY_M,
    decimals: int = _DECIMALS,
    pointwise: bool = False,
) -> gpd.GeoDataFrame:
    """Return a small, escaped display copy of a layer for the browser.

    Geometries are simplified in the metric CRS (never in degrees), brought back
    to EPSG:4326 and rounded; only ``columns`` are kept, their text escaped. The copy
    of a layer object is made once and given again while that object lives (layers
    are never changed in place: pandas copies on write); callers must not change it.

    Parameters
    ----------
    gdf
        A layer with a CRS.
    columns
        Properties to keep (missing ones are skipped).
    simplify_m
        Simplification tolerance in metres (0 keeps every vertex).
    decimals
        Decimals of the coordinates sent.
    pointwise
        Round each vertex on its own (``shapely.set_precision``'s ``pointwise`` mode)
        instead of rebuilding a valid shape from the rounded vertices, which also moves
        each ring's first vertex. For shapes that rounding cannot make invalid: the
        hexagons of the data layers, kilometres wide, rounded to a metre (7 ms, not
        45 ms, for 2,500 of them).
    """
    key = (id(gdf), len(gdf), tuple(columns), float(simplify_m), int(decimals), pointwise)
    known = _PREPARED.get(key)
    if known is not None and known[0]() is gdf:
        return known[1]
    out = _prepare(
        gdf, columns=columns, simplify_m=simplify_m, decimals=decimals, pointwise=pointwise
    )
    try:
        reference = weakref.ref(gdf)
    except TypeError:  # pragma: no cover - every GeoDataFrame can be referenced weakly
        return out
    for stale in [k for k, (ref, _) in _PREPARED.items() if ref() is None]:
        _PREPARED.pop(stale, None)
    _PREPARED[key] = (reference, out)
    return out


def _prepare(
    gdf: gpd.GeoDataFrame,
    *,
    columns: list[str] | tuple[str, ...],
    simplify_m: float,
    decimals: int,
    pointwise: bool = False,
) -> gpd.GeoDataFrame:
    keep = [c for c in columns if c in gdf.columns]
    out = gdf[[*keep, gdf.geometry.name]].copy()
    out = out[out.geometry.notna() & ~out.geometry.is_empty]
    if simplify_m > 0 and len(out):
        metric = out.geometry.to_crs(settings.METRIC_CRS)
        out = out.set_geometry(metric.simplify(simplify_m, preserve_topology=True).to_crs(4326))
    else:
        out = out.to_crs(4326)
    mode = "pointwise" if pointwise else "valid_output"
    out = out.set_geometry(
        shapely.set_precision(out.geometry.to_numpy(), 10.0**-decimals, mode=mode)
    )
    for c in keep:
        series = out[c]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            # Kept as Python objects: a text column (pyarrow) is read back one value at a
            # time when the features are written (geo_interface), 20 times slower.
            out[c] = pd.Series([escape_text(v) for v in series], index=out.index, dtype=object)
        elif pd.api.types.is_float_dtype(series):
            out[c] = series.round(3).astype(object).where(series.notna(), None)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[c] = series.dt.strftime("%Y-%m-%d").fillna("")
    return out


def geo_interface(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    """Return ``gdf.__geo_interface__``, the same once written as JSON, made quicker.

    geopandas builds each feature's geometry through shapely's ``mapping``, one ring at
    a time (0.13 s for the 700 hexagons of the incident and hot-spot layers at 100,000
    incidents). Here the points and the polygons without holes, which is every data
    layer's geometry, take their coordinates and bounds from one vectorised call;
    other geometries still go through ``mapping``. Coordinates come as lists where
    geopandas gives tuples: the JSON is the same, byte for byte.
    """
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    ids = np.asarray(gdf.index)
    columns = gdf.columns.drop(gdf.geometry.name)
    if not gdf.columns.is_unique:
        raise ValueError("GeoDataFrame cannot contain duplicated column names.")
    rows: Any = [()] * len(gdf)
    if len(columns):
        properties = gdf[columns].astype(object)
        properties[pd.isna(gdf[columns]).to_numpy()] = None
        rows = properties.to_numpy()
    names = columns.tolist()  # read once: a text index is read value by value (pyarrow)
    geometry = _mappings(geoms)
    bounds = shapely.bounds(geoms).tolist()
    features = []
    for i, row in enumerate(rows):
        present = geometry[i] is not None
        features.append(
            {
                "id": str(ids[i]),
                "type": "Feature",
                "properties": dict(zip(names, row, strict=True)),
                "geometry": geometry[i],
                "bbox": tuple(bounds[i]) if present else None,
            }
        )
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    out["bbox"] = tuple(gdf.total_bounds.tolist())
    return out


def _mappings(geoms: np.ndarray) -> list[dict[str, Any] | None]:
    """Return each geometry's GeoJSON mapping (``None`` for a missing or empty one)."""
    out: list[dict[str, Any] | None] = [None] * len(geoms)
    type_id = shapely.get_type_id(geoms)
    present = (type_id >= 0) & ~shapely.is_empty(geoms)
    points = np.flatnonzero(present & (type_id == 0) & ~shapely.has_z(geoms))
    for i, xy in zip(points, shapely.get_coordinates(geoms[points]).tolist(), strict=True):
        out[i] = {"type": "Point", "coordinates": xy}
    plain = present & (type_id == 3) & ~shapely.has_z(geoms)
    plain[plain] = shapely.get_num_interior_rings(geoms[plain]) == 0
    polygons = np.flatnonzero(plain)
    xy, owner = shapely.get_coordinates(geoms[polygons], return_index=True)
    starts = np.searchsorted(owner, np.arange(len(polygons) + 1))
    coords = xy.tolist()
    for k, i in enumerate(polygons):
        out[i] = {"type": "Polygon", "coordinates": [coords[starts[k] : starts[k + 1]]]}
    for i in np.flatnonzero(present):
        if out[i] is None:  # anything else: shapely's own mapping
            out[i] = mapping(geoms[i])
    return out


def _add_points(
    group: folium.FeatureGroup, shown: gpd.GeoDataFrame, tips: list[str], style: dict[str, Any]
) -> None:
    """Add the points of an escaped display layer as circle markers with (escaped) tooltips.

    One GeoJSON layer, not a folium marker per point: each folium element is rendered
    and compiled as a template of its own (the towns and crossings were 240 of them,
    0.3 s of every map).
    """
    if not len(shown):
        return
    points = gpd.GeoDataFrame({"tip": list(tips)}, geometry=list(shown.geometry), crs=4326)
    folium.GeoJson(
        geo_interface(points),
        marker=folium.CircleMarker(fill=True, fill_opacity=1, **style),
        tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False, sticky=True),
    ).add_to(group)


def _add_geojson(
    group: folium.FeatureGroup,
    gdf: gpd.GeoDataFrame,
    *,
    style: dict[str, Any] | None = None,
    classes: list[dict[str, Any]] | None = None,
    tooltip: dict[str, str] | None = None,
    name: str,
    on_each_feature: str | None = None,
) -> None:
    """Add an already escaped display layer as GeoJSON with an escaped tooltip.

    With ``classes``, the integer property ``_class`` of each feature picks the
    style added to ``style``. ``on_each_feature``: our own JavaScript function, called
    with each feature and its layer (never user text).
    """
    if gdf is None or len(gdf) == 0:
        return
    # The style is picked in the browser from the feature's class: folium's own
    # style_function is called in Python for every feature and written out as a
    # switch over every feature id (0.1 s and 100 kB for the hot-spot cells).
    table = script_json({"base": dict(style or {}), "classes": list(classes or [])})
    style_js = folium.JsCode(
        f"function (feature) {{ var t = {table}; var c = (feature.properties || {{}})._class;"
        " return Object.assign({}, t.base, (c === undefined || c === null) ? {} : t.classes[c]); }"
    )

    tip = None
    if tooltip:
        fields = [f for f in tooltip if f in gdf.columns]
        tip = folium.GeoJsonTooltip(
            fields=fields, aliases=[escape_text(tooltip[f]) for f in fields], sticky=True
        )
    folium.GeoJson(
        geo_interface(gdf),
        name=name,
        style=style_js,
        tooltip=tip,
        smooth_factor=1.0,
        on_each_feature=folium.JsCode(on_each_feature) if on_each_feature else None,
    ).add_to(group)


def _classify(styles: list[dict[str, Any]]) -> tuple[list[int], list[dict[str, Any]]]:
    """Return an index per feature into the list of distinct ``styles``."""
    table: list[dict[str, Any]] = []
    keys: dict[str, int] = {}
    out = []
    for st in styles:
        key = json.dumps(st, sort_keys=True)
        if key not in keys:
            keys[key] = len(table)
            table.append(st)
        out.append(keys[key])
    return out, table
