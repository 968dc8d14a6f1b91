"""The analyst's map: reference layers, incidents, density, hot spots and ranked sectors.

:func:`build_map` draws whatever it is given as layers that can be switched on
and off, with a scale bar, legends and attribution, and no request leaving the
machine (no tiles unless a tile URL is configured; scripts from
``static/vendor``). Every user string goes through :func:`mapview.escape_text`
on a display copy. What reaches the browser is kept small: reference layers
simplified in the metric CRS and rounded, only the properties shown, incidents
clustered from a compact array, and many incidents aggregated into hexagons.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import math
from collections.abc import Mapping
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from geo import settings
from mapview.assets import STATIC_URL, localize_assets
from mapview.escaping import escape_text

__all__ = [
    "HOTSPOT_COLOURS",
    "PRIORITY_CLASSES",
    "TYPE_COLOURS",
    "build_map",
    "density_image",
    "hexbin_incidents",
    "prepare_layer",
    "priority_class",
    "zoom_for_bounds",
]

logger = logging.getLogger(__name__)

#: Colour of each incident type (colour-blind-safe Okabe–Ito palette).
TYPE_COLOURS = {
    "seizure": "#E69F00",
    "clash": "#D55E00",
    "smuggling": "#0072B2",
    "shelling": "#CC79A7",
    "strike": "#000000",
    "arrest": "#009E73",
    "crossing": "#56B4E9",
    "other": "#999999",
}
#: Hot-spot bins (Gi* with FDR) -> (colour, label).
HOTSPOT_COLOURS = {
    3: ("#b2182b", "hot spot, 99 %"),
    2: ("#ef8a62", "hot spot, 95 %"),
    1: ("#fddbc7", "hot spot, 90 %"),
    -1: ("#d1e5f0", "cold spot, 90 %"),
    -2: ("#67a9cf", "cold spot, 95 %"),
    -3: ("#2166ac", "cold spot, 99 %"),
}
#: Priority classes by rank: (upper rank as a multiple of top-k, colour, label template).
PRIORITY_CLASSES = (
    (1, "#a50f15", "rank 1–{k}"),
    (2, "#ef3b2c", "rank {lo}–{hi}"),
    (4, "#fc9272", "rank {lo}–{hi}"),
    (None, "#fee0d2", "rank {lo} and below"),
)
_DECIMALS = settings.MAP_COORDINATE_DECIMALS


def prepare_layer(
    gdf: gpd.GeoDataFrame,
    *,
    columns: list[str] | tuple[str, ...] = (),
    simplify_m: float = settings.MAP_SIMPLIFY_M,
    decimals: int = _DECIMALS,
) -> gpd.GeoDataFrame:
    """Return a small, escaped display copy of a layer for the browser.

    Geometries are simplified in the metric CRS (never in degrees), brought back
    to EPSG:4326 and rounded; only ``columns`` are kept, their text escaped.

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
    """
    keep = [c for c in columns if c in gdf.columns]
    out = gdf[[*keep, gdf.geometry.name]].copy()
    out = out[out.geometry.notna() & ~out.geometry.is_empty]
    if simplify_m > 0 and len(out):
        metric = out.geometry.to_crs(settings.METRIC_CRS)
        out = out.set_geometry(metric.simplify(simplify_m, preserve_topology=True).to_crs(4326))
    else:
        out = out.to_crs(4326)
    out = out.set_geometry(shapely.set_precision(out.geometry.to_numpy(), 10.0**-decimals))
    for c in keep:
        series = out[c]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[c] = [escape_text(v) for v in series]
        elif pd.api.types.is_float_dtype(series):
            out[c] = series.round(3).astype(object).where(series.notna(), None)
        elif pd.api.types.is_datetime64_any_dtype(series):
            out[c] = series.dt.strftime("%Y-%m-%d").fillna("")
    return out


def hexbin_incidents(
    incidents: gpd.GeoDataFrame, *, hex_km: float = settings.MAP_HEX_KM
) -> gpd.GeoDataFrame:
    """Count incidents in pointy-topped hexagons of the metric CRS.

    Parameters
    ----------
    incidents
        Points with a CRS.
    hex_km
        Distance between opposite edges of a hexagon (km).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per non-empty hexagon (EPSG:4326): ``count`` and the hexagon.
    """
    if len(incidents) == 0:
        return gpd.GeoDataFrame({"count": []}, geometry=[], crs=4326)
    pts = incidents.geometry.to_crs(settings.METRIC_CRS)
    x, y = pts.x.to_numpy(), pts.y.to_numpy()
    size = hex_km * 1000.0 / math.sqrt(3.0)  # circumradius
    q = (math.sqrt(3.0) / 3.0 * x - y / 3.0) / size
    r = (2.0 / 3.0 * y) / size
    # Cube rounding: the nearest hexagon centre.
    cx, cz = q, r
    cy = -cx - cz
    rx, ry, rz = np.round(cx), np.round(cy), np.round(cz)
    dx, dy, dz = np.abs(rx - cx), np.abs(ry - cy), np.abs(rz - cz)
    fix_x = (dx > dy) & (dx > dz)
    fix_y = ~fix_x & (dy > dz)
    rx = np.where(fix_x, -ry - rz, rx)
    ry = np.where(fix_y, -rx - rz, ry)
    rz = np.where(~fix_x & ~fix_y, -rx - ry, rz)
    keys, counts = np.unique(np.column_stack([rx, rz]).astype(np.int64), axis=0, return_counts=True)
    centre_x = size * math.sqrt(3.0) * (keys[:, 0] + keys[:, 1] / 2.0)
    centre_y = size * 1.5 * keys[:, 1]
    angles = np.radians(30.0 + 60.0 * np.arange(6))
    ring_x = centre_x[:, None] + size * np.cos(angles)[None, :]
    ring_y = centre_y[:, None] + size * np.sin(angles)[None, :]
    coords = np.stack([ring_x, ring_y], axis=-1)
    polygons = shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
    out = gpd.GeoDataFrame({"count": counts}, geometry=polygons, crs=settings.METRIC_CRS)
    return out.to_crs(4326)


def density_image(
    surface: Any, *, max_pixels: int = settings.MAP_DENSITY_MAX_PIXELS
) -> tuple[str, list[list[float]], float]:
    """Return a density surface as a PNG data URI with its EPSG:4326 bounds.

    The surface is resampled to Web Mercator (what Leaflet displays) so that
    the image lies exactly where it should; cells below 1 % of the maximum are
    transparent.

    Parameters
    ----------
    surface
        A :class:`geo.density.DensitySurface` (``values``, ``transform``, ``crs``).
    max_pixels
        Largest side of the image.

    Returns
    -------
    tuple
        ``(data_uri, [[south, west], [north, east]], vmax)`` with ``vmax`` in
        the surface's units.
    """
    from affine import Affine
    from matplotlib import colormaps
    from PIL import Image
    from pyproj import Transformer
    from rasterio.transform import array_bounds
    from rasterio.warp import Resampling, reproject, transform_bounds

    values = np.asarray(surface.values, dtype="float64")
    height, width = values.shape
    left, bottom, right, top = array_bounds(height, width, surface.transform)
    dst_crs = "EPSG:3857"
    mx0, my0, mx1, my1 = transform_bounds(surface.crs, dst_crs, left, bottom, right, top)
    scale = max(1.0, max(width, height) / max_pixels)
    w, h = max(1, round(width / scale)), max(1, round(height / scale))
    transform = Affine((mx1 - mx0) / w, 0.0, mx0, 0.0, -(my1 - my0) / h, my1)
    dst = np.full((h, w), np.nan)
    reproject(
        values,
        dst,
        src_transform=surface.transform,
        src_crs=surface.crs,
        dst_transform=transform,
        dst_crs=dst_crs,
        resampling=Resampling.average,
        src_nodata=np.nan,
        dst_nodata=np.nan,
    )
    vmax = float(np.nanmax(dst)) if np.isfinite(dst).any() else 0.0
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    if vmax > 0:
        norm = np.clip(np.nan_to_num(dst / vmax), 0.0, 1.0)
        rgba = (colormaps["inferno_r"](norm) * 255).astype(np.uint8)
        rgba[..., 3] = np.where(norm >= 0.01, (80 + 140 * norm).astype(np.uint8), 0)
    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, format="PNG", optimize=True)
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    mx0, my1, mx1, my0 = array_bounds(h, w, transform)
    to_geo = Transformer.from_crs(dst_crs, 4326, always_xy=True)
    west, south = to_geo.transform(mx0, my1)
    east, north = to_geo.transform(mx1, my0)
    return uri, [[south, west], [north, east]], vmax


def priority_class(rank: int, *, top_k: int = settings.TOP_K) -> tuple[str, str]:
    """Return the (colour, label) of a sector's rank class.

    Parameters
    ----------
    rank
        1 is the highest priority.
    top_k
        Size of the first class.
    """
    lo = 1
    for multiple, colour, label in PRIORITY_CLASSES:
        if multiple is None or rank <= multiple * top_k:
            hi = multiple * top_k if multiple else None
            return colour, label.format(k=top_k, lo=lo, hi=hi)
        lo = multiple * top_k + 1
    raise AssertionError("unreachable")  # pragma: no cover


#: Fixed CSS of the map's controls (no user text).
_CONTROL_CSS = "<style>.leaflet-control-attribution{max-width:66%;}</style>"

#: Zoom step of the map (Leaflet's ``zoomSnap``): quarter steps let the whole
#: border fill the frame instead of jumping between too close and too far.
ZOOM_SNAP = 0.25


def zoom_for_bounds(
    bounds: tuple[float, float, float, float],
    *,
    width_px: int = 700,
    height_px: int = 600,
    padding: float = 0.12,
    snap: float = ZOOM_SNAP,
) -> tuple[list[float], float]:
    """Return the centre ``[lat, lon]`` and Web Mercator zoom that fit ``bounds``.

    The zoom is the largest multiple of ``snap`` at which ``bounds`` fit in the
    map with ``padding`` of its width and height left free, so that corridors
    drawn around a line and the attribution bar do not hide its ends.

    Parameters
    ----------
    bounds
        ``(west, south, east, north)`` in degrees.
    width_px, height_px
        Size of the map.
    padding
        Fraction of the map's width and height kept free around ``bounds``.
    snap
        Zoom step (Leaflet's ``zoomSnap``).
    """
    west, south, east, north = bounds

    def merc_y(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return math.log((1 + s) / (1 - s)) / 2.0

    dx = max(east - west, 1e-6) / 360.0
    dy = max(merc_y(north) - merc_y(south), 1e-6) / (2.0 * math.pi)
    usable = 1.0 - padding
    fit = min(math.log2(usable * width_px / 256.0 / dx), math.log2(usable * height_px / 256.0 / dy))
    zoom = math.floor(fit / snap + 1e-9) * snap
    return [(south + north) / 2.0, (west + east) / 2.0], float(max(1.0, min(zoom, 17.0)))


class _Legend(MacroElement):
    """A static legend in a Leaflet control; ``html`` must already be escaped."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "bordermon-legend");
                div.style.cssText = "background:rgba(255,255,255,0.9);padding:6px 8px;" +
                    "font:11px/1.35 sans-serif;border-radius:4px;box-shadow:0 0 4px #888;" +
                    "max-width:240px";
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str, *, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html
        self.position = position


class _Attribution(MacroElement):
    """Adds escaped attribution text to the map's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


class _PrecisionCircles(MacroElement):
    """Circles of each incident's location precision, drawn from one compact array."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var rows = {{ this.rows|tojson }};
            for (var i = 0; i < rows.length; i++) {
                L.circle([rows[i][0], rows[i][1]], {radius: rows[i][2], color: rows[i][3],
                    weight: 1, opacity: 0.6, fillOpacity: 0.05, interactive: false})
                    .addTo({{ this._parent.get_name() }});
            }
        })();
        {% endmacro %}
        """
    )

    def __init__(self, rows: list[list[Any]]) -> None:
        super().__init__()
        self._name = "PrecisionCircles"
        self.rows = rows


_MARKER_CALLBACK = """function (row) {
    var marker = L.circleMarker(new L.LatLng(row[0], row[1]),
        {radius: 6, color: "#222", weight: 1, fillColor: row[2], fillOpacity: 0.9});
    marker.bindPopup(row[3], {maxWidth: 360});
    marker.bindTooltip(row[4]);
    return marker;
}"""


def _swatch(colour: str, label: str, *, shape: str = "square") -> str:
    """Return one legend row (``label`` escaped here)."""
    radius = "50%" if shape == "circle" else "2px"
    return (
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{colour};'
        f'border:1px solid #555;border-radius:{radius};margin-right:5px"></span>'
        f"{escape_text(label)}</div>"
    )


def _incident_popup(row: Mapping[str, Any]) -> str:
    """Return the escaped HTML popup of one incident."""

    def fmt(value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return "—"
        if isinstance(value, pd.Timestamp):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, float) and value.is_integer():
            return f"{value:,.0f}"
        return escape_text(value)

    quantity = fmt(row.get("quantity"))
    if quantity != "—" and row.get("unit") not in (None, "") and not pd.isna(row.get("unit")):
        quantity += " " + escape_text(row.get("unit"))
    if row.get("commodity") not in (None, "") and not pd.isna(row.get("commodity")):
        quantity += " of " + escape_text(row.get("commodity"))
    precision_days = row.get("date_precision_days")
    date = fmt(row.get("date"))
    if precision_days is not None and not pd.isna(precision_days) and precision_days > 1:
        date += f" (± {int(precision_days)} days)"
    lines = [
        ("Date", date),
        ("Type", fmt(row.get("type"))),
        ("Description", fmt(row.get("description"))),
        ("Quantity", quantity),
        ("Fatalities", fmt(row.get("fatalities"))),
        ("Source", fmt(row.get("source"))),
        ("Location precision", f"± {fmt(row.get('location_precision_m'))} m"),
        ("Location note", fmt(row.get("location_note"))),
        ("Id", fmt(row.get("id"))),
    ]
    return "".join(f"<b>{label}:</b> {value}<br>" for label, value in lines if value != "—")


def _precision_text(value: Any) -> str:
    """Return ``" (± N m)"`` for a location precision, or nothing when it is unknown."""
    if value is None or pd.isna(value):
        return ""
    return f" (position ± {float(value):,.0f} m)"


def _add_points(
    group: folium.FeatureGroup, shown: gpd.GeoDataFrame, tips: list[str], style: dict[str, Any]
) -> None:
    """Add one circle marker per point of an escaped display layer, with its (escaped) tooltip."""
    for point, tip in zip(shown.geometry, tips, strict=True):
        folium.CircleMarker(
            [point.y, point.x], fill=True, fill_opacity=1, tooltip=tip, **style
        ).add_to(group)


def _add_geojson(
    group: folium.FeatureGroup,
    gdf: gpd.GeoDataFrame,
    *,
    style: dict[str, Any] | None = None,
    classes: list[dict[str, Any]] | None = None,
    tooltip: dict[str, str] | None = None,
    name: str,
) -> None:
    """Add an already escaped display layer as GeoJSON with an escaped tooltip.

    With ``classes``, the integer property ``_class`` of each feature picks the
    style added to ``style``.
    """
    if gdf is None or len(gdf) == 0:
        return
    base = dict(style or {})

    def style_function(feature: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        index = feature.get("properties", {}).get("_class")
        if classes and index is not None:
            out.update(classes[int(index)])
        return out

    tip = None
    if tooltip:
        fields = [f for f in tooltip if f in gdf.columns]
        tip = folium.GeoJsonTooltip(
            fields=fields, aliases=[escape_text(tooltip[f]) for f in fields], sticky=True
        )
    folium.GeoJson(
        gdf.__geo_interface__,
        name=name,
        style_function=style_function,
        tooltip=tip,
        smooth_factor=1.0,
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


def build_map(
    *,
    border: gpd.GeoDataFrame | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    density: Any | None = None,
    density_overlay: tuple[str, list[list[float]], float] | None = None,
    sectors: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    top_k: int = settings.TOP_K,
    tile_url: str | None = None,
    tile_attribution: str = settings.MAP_TILE_ATTRIBUTION,
    max_incident_markers: int = settings.MAP_MAX_INCIDENT_MARKERS,
    cluster_min: int = settings.MAP_CLUSTER_MIN_INCIDENTS,
    hex_km: float = settings.MAP_HEX_KM,
    simplify_m: float = settings.MAP_SIMPLIFY_M,
    base_url: str = STATIC_URL,
    height_px: int = settings.MAP_HEIGHT_PX,
) -> folium.Map:
    """Return the analyst's map with every layer it is given.

    Parameters
    ----------
    border
        The border layer (``name, source``), EPSG:4326; the initial view fits it.
    layers
        Other reference layers by name: ``border_candidates``, ``countries``,
        ``regions``, ``towns``, ``crossings``.
    incidents
        Incidents of the schema (already filtered). Up to ``cluster_min``
        they are drawn one by one, up to ``max_incident_markers`` clustered,
        beyond that counted in hexagons of ``hex_km``.
    density
        A :class:`geo.density.DensitySurface`, drawn as an image with a legend.
    density_overlay
        The result of :func:`density_image` for ``density``, if already made
        (the app caches it); ``density`` still gives the units and bandwidth.
    sectors
        Ranked sectors (``AnalysisResult.ranked``: ``sector_id, rank, score,
        chainage_start_km, chainage_end_km, unstable, ...``), coloured by rank class.
    hotspots
        Gi* cells (``bin``, ``count``, ``z``, ``p_fdr``); cells in bin 0 are not drawn.
    top_k
        Size of the first priority class.
    tile_url, tile_attribution
        Optional background tiles (off by default: nothing leaves the machine).
    max_incident_markers, cluster_min, hex_km
        When incidents are clustered and when they are aggregated.
    simplify_m
        Display simplification of the reference layers (metres).
    base_url
        URL of ``static/vendor`` as the browser sees it.
    height_px
        Height of the map.

    Returns
    -------
    folium.Map
        Scripts and stylesheets point at ``base_url``; no CDN.
    """
    layers = dict(layers or {})
    m = folium.Map(
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        zoom_snap=ZOOM_SNAP,
        maxZoom=18,
        minZoom=5,
        location=[34.0, 36.2],
        zoom_start=8,
    )
    # A long attribution wraps across the whole bottom edge and hides the scale bar:
    # keep it to the right two thirds so the scale bar keeps the bottom-left corner.
    m.get_root().header.add_child(folium.Element(_CONTROL_CSS))
    if tile_url:
        folium.TileLayer(
            tiles=tile_url,
            attr=escape_text(tile_attribution),
            name="Background tiles",
            maxZoom=18,
        ).add_to(m)
    legend: list[str] = []
    attribution: list[str] = []

    def group(name: str, *, show: bool = True) -> folium.FeatureGroup:
        return folium.FeatureGroup(name=escape_text(name), show=show, overlay=True).add_to(m)

    if "countries" in layers:
        g = group("Countries")
        _add_geojson(
            g,
            prepare_layer(layers["countries"], columns=["name", "iso3"], simplify_m=simplify_m * 4),
            style={"color": "#666", "weight": 1, "fillColor": "#f2efe9", "fillOpacity": 0.35},
            tooltip={"name": "Country"},
            name="countries",
        )
    if "regions" in layers:
        g = group("Districts and governorates", show=False)
        _add_geojson(
            g,
            prepare_layer(
                layers["regions"], columns=["name", "level", "country"], simplify_m=simplify_m * 2
            ),
            style={"color": "#8c8c8c", "weight": 0.8, "dashArray": "2 3", "fillOpacity": 0},
            tooltip={"name": "Region", "level": "Level", "country": "Country"},
            name="regions",
        )
    if hotspots is not None and len(hotspots) and "bin" in hotspots.columns:
        cells = hotspots[hotspots["bin"].fillna(0).astype(int) != 0].copy()
        cells["_class"], classes = _classify(
            [{"fillColor": HOTSPOT_COLOURS[int(b)][0]} for b in cells["bin"]]
        )
        cells["label"] = [HOTSPOT_COLOURS[int(b)][1] for b in cells["bin"]]
        g = group("Hot spots (Gi*)")
        _add_geojson(
            g,
            prepare_layer(cells, columns=["label", "count", "z", "p_fdr", "_class"], simplify_m=0),
            style={"color": "#555", "weight": 0.5, "fillOpacity": 0.55},
            classes=classes,
            tooltip={"label": "Gi*", "count": "Incidents", "z": "z", "p_fdr": "p (FDR)"},
            name="hotspots",
        )
        legend.append("<b>Hot spots (Gi*, FDR)</b>")
        legend += [
            _swatch(c, label) for _, (c, label) in sorted(HOTSPOT_COLOURS.items(), reverse=True)
        ]
    if density is not None:
        uri, bounds, vmax = density_overlay or density_image(density)
        if vmax > 0:
            g = group("Incident density")
            folium.raster_layers.ImageOverlay(
                uri,
                bounds=bounds,
                opacity=0.75,
                interactive=False,
                cross_origin=False,
                name="density",
            ).add_to(g)
            units = getattr(density, "units", settings.DENSITY_UNITS)
            bandwidth = getattr(density, "bandwidth_m", None)
            legend.append(
                "<b>Density</b> ("
                + escape_text(units)
                + ')<div style="height:10px;background:linear-gradient(to right,'
                + '#fcffa4,#f98e09,#bc3754,#57106e,#000004)"></div>'
                + '<div style="display:flex;justify-content:space-between"><span>0</span>'
                + f"<span>{vmax:.3g}</span></div>"
                + (f"<div>kernel bandwidth {bandwidth / 1000:.1f} km</div>" if bandwidth else "")
            )
    if sectors is not None and len(sectors):
        shown = sectors.copy()
        shown["_class"], classes = _classify(
            [
                {
                    "fillColor": priority_class(int(r), top_k=top_k)[0],
                    "dashArray": "4 3" if bool(u) else None,
                    "weight": 2.5 if bool(u) else 1,
                }
                for r, u in zip(
                    shown["rank"],
                    shown.get("unstable", pd.Series(False, index=shown.index)),
                    strict=True,
                )
            ]
        )
        shown["chainage"] = [
            f"{a:.1f}–{b:.1f} km"
            for a, b in zip(shown["chainage_start_km"], shown["chainage_end_km"], strict=True)
        ]
        shown["score"] = shown["score"].astype(float).round(3)
        g = group("Priority sectors")
        _add_geojson(
            g,
            prepare_layer(
                shown, columns=["rank", "sector_id", "chainage", "score", "_class"], simplify_m=20.0
            ),
            style={"color": "#67000d", "fillOpacity": 0.45},
            classes=classes,
            tooltip={
                "rank": "Rank",
                "sector_id": "Sector",
                "chainage": "Chainage",
                "score": "Score",
            },
            name="sectors",
        )
        legend.append("<b>Sector priority</b>")
        seen: list[tuple[str, str]] = []
        for rank in sorted(shown["rank"].astype(int)):
            entry = priority_class(rank, top_k=top_k)
            if entry not in seen:
                seen.append(entry)
        legend += [_swatch(c, label) for c, label in seen]
        legend.append("<div>dashed outline: rank unstable under the weights</div>")
    if "border_candidates" in layers:
        g = group("Candidate border lines", show=False)
        _add_geojson(
            g,
            prepare_layer(
                layers["border_candidates"],
                columns=["source", "version"],
                simplify_m=simplify_m / 2,
            ),
            style={"color": "#7570b3", "weight": 1.5, "dashArray": "5 4"},
            tooltip={"source": "Source", "version": "Version"},
            name="border_candidates",
        )
    if border is not None and len(border):
        g = group("Border")
        _add_geojson(
            g,
            prepare_layer(border, columns=["name", "source"], simplify_m=10.0),
            style={"color": "#d7301f", "weight": 3},
            tooltip={"name": "Border", "source": "Source"},
            name="border",
        )
        sources = sorted({str(s) for s in border.get("source", pd.Series(dtype=str)).dropna()})
        if sources:
            attribution.append("Border: " + escape_text("; ".join(sources)))
        # The initial view shows the whole border (set directly: fitBounds would run before
        # the frame has its final size).
        centre, zoom = zoom_for_bounds(
            tuple(border.to_crs(4326).total_bounds), height_px=height_px, padding=0.2
        )
        m.location, m.options["zoom"] = centre, zoom
    if "crossings" in layers:
        crossings = layers["crossings"]
        g = group("Crossings")
        shown = prepare_layer(
            crossings,
            columns=["name", "name_ar", "counterpart", "status", "location_precision_m"],
            simplify_m=0,
        )
        tips = [
            f"Crossing: {row.name}"
            + (f" – {row.counterpart}" if getattr(row, "counterpart", "") else "")
            + (f" ({row.status})" if getattr(row, "status", "") else "")
            + _precision_text(getattr(row, "location_precision_m", None))
            for row in shown.itertuples(index=False)
        ]
        style = {"radius": 6, "color": "#111", "weight": 2, "fill_color": "#ffd92f"}
        _add_points(g, shown, tips, style)
        legend.append(_swatch("#ffd92f", "border crossing", shape="circle"))
    if "towns" in layers:
        g = group("Towns")
        shown = prepare_layer(
            layers["towns"], columns=["name", "name_ar", "country", "population"], simplify_m=0
        )
        tips = []
        for row in shown.itertuples(index=False):
            tip = str(row.name) + (f" / {row.name_ar}" if getattr(row, "name_ar", "") else "")
            pop = getattr(row, "population", None)
            if pop is not None and not pd.isna(pop):
                tip += f" — pop. {float(pop):,.0f}"
            tips.append(tip)
        _add_points(
            g, shown, tips, {"radius": 3, "color": "#333", "weight": 1, "fill_color": "#fff"}
        )
    if incidents is not None and len(incidents):
        _add_incidents(
            m,
            incidents,
            max_markers=max_incident_markers,
            cluster_min=cluster_min,
            hex_km=hex_km,
            legend=legend,
            group=group,
        )
    attribution.append("Reference layers: © OpenStreetMap contributors (ODbL) and others")
    _Attribution(" | ".join(attribution)).add_to(m)
    if legend:
        _Legend("".join(legend)).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return localize_assets(m, base_url=base_url)


def _add_incidents(
    m: folium.Map,
    incidents: gpd.GeoDataFrame,
    *,
    max_markers: int,
    cluster_min: int,
    hex_km: float,
    legend: list[str],
    group: Any,
) -> None:
    """Draw incidents one by one, clustered, or aggregated into hexagons."""
    points = incidents.to_crs(4326)
    points = points[points.geometry.notna() & ~points.geometry.is_empty]
    n = len(points)
    if n > max_markers:
        hexes = hexbin_incidents(points, hex_km=hex_km)
        top = max(int(hexes["count"].max()), 1)
        # Opacity in 8 classes of log(count): few distinct styles, small payload.
        hexes["_class"], classes = _classify(
            [
                {"fillOpacity": round(0.15 + 0.1 * round(7 * math.log1p(c) / math.log1p(top)), 2)}
                for c in hexes["count"]
            ]
        )
        g = group(f"Incidents ({n:,}, counted in {hex_km:g} km hexagons)")
        _add_geojson(
            g,
            prepare_layer(hexes, columns=["count", "_class"], simplify_m=0),
            style={"color": "#08306b", "weight": 0.3, "fillColor": "#2171b5"},
            classes=classes,
            tooltip={"count": "Incidents"},
            name="incident_hexagons",
        )
        legend.append(f"<b>Incidents</b>: {n:,}, counted in {hex_km:g} km hexagons (darker: more)")
        return
    lat = np.round(points.geometry.y.to_numpy(), _DECIMALS)
    lon = np.round(points.geometry.x.to_numpy(), _DECIMALS)
    records = points.drop(columns=points.geometry.name).to_dict("records")
    rows = []
    circles = []
    for y, x, rec in zip(lat, lon, records, strict=True):
        colour = TYPE_COLOURS.get(str(rec.get("type")), TYPE_COLOURS["other"])
        date = rec.get("date")
        date_text = date.strftime("%Y-%m-%d") if isinstance(date, pd.Timestamp) else ""
        tip = escape_text(f"{date_text} {rec.get('type') or ''}".strip())
        rows.append([float(y), float(x), colour, _incident_popup(rec), tip])
        precision = rec.get("location_precision_m")
        if precision is not None and not pd.isna(precision) and precision > 0:
            circles.append([float(y), float(x), round(float(precision)), colour])
    g = group(f"Incidents ({n:,})")
    options: dict[str, Any] = {"maxClusterRadius": 40, "spiderfyOnMaxZoom": True}
    if n <= cluster_min:
        options["disableClusteringAtZoom"] = 1  # few incidents: every one is shown
    folium.plugins.FastMarkerCluster(rows, callback=_MARKER_CALLBACK, options=options).add_to(g)
    if circles:
        pg = group("Incident location precision", show=n <= 500)
        _PrecisionCircles(circles).add_to(pg)
    present = sorted({str(r.get("type")) for r in records})
    legend.append("<b>Incidents</b> (circle: location precision)")
    legend += [
        _swatch(TYPE_COLOURS.get(t, TYPE_COLOURS["other"]), t, shape="circle") for t in present
    ]
