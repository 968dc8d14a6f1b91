"""The analyst's map: reference layers, incidents, density, hot spots and ranked sectors.

:func:`build_map` draws whatever it is given as layers that can be switched on
and off, with a scale bar, legends and attribution, and no request leaving the
machine (no tiles unless a tile URL is configured; scripts from
``static/vendor``). Every user string goes through :func:`mapview.escape_text`
on a display copy. What reaches the browser is kept small: reference layers
simplified in the metric CRS and rounded, only the properties shown, incidents
clustered from a compact array, and many incidents aggregated into hexagons.

This module holds the order in which the layers are drawn and the reference
layers (countries, regions, candidate lines, border, official and unofficial
crossings with their location precision, towns); the
other layers are drawn by :mod:`mapview.surface_layer` (density, hot spots),
:mod:`mapview.sector_layer` (ranked sectors) and :mod:`mapview.incident_layer`,
with the display copies of :mod:`mapview.features` and the controls of
:mod:`mapview.controls`. The names listed in ``__all__`` are importable from here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from geo import settings
from mapview.assets import STATIC_URL, localize_assets
from mapview.controls import (
    _CONTROL_CSS,
    ZOOM_SNAP,
    _Attribution,
    _Legend,
    _swatch,
    zoom_for_bounds,
)
from mapview.escaping import escape_text
from mapview.features import _add_geojson, _add_points, prepare_layer
from mapview.incident_layer import (
    TYPE_COLOURS,
    _add_incidents,
    _PrecisionCircles,
    hexbin_incidents,
)
from mapview.sector_layer import PRIORITY_CLASSES, _add_sectors, priority_class
from mapview.surface_layer import (
    EMERGING_COLOURS,
    HOTSPOT_COLOURS,
    _add_density,
    _add_emerging,
    _add_hotspots,
    density_image,
)

__all__ = [
    "CROSSING_STYLES",
    "EMERGING_COLOURS",
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


def _precision_text(value: Any) -> str:
    """Return ``" (± N m)"`` for a location precision, or nothing when it is unknown."""
    if value is None or pd.isna(value):
        return ""
    return f" (position ± {float(value):,.0f} m)"


#: The crossing layers: name, marker style and legend label. Unofficial crossings are
#: drawn smaller, hollow-looking and dashed, so they are never mistaken for official ones.
CROSSING_STYLES: tuple[tuple[str, dict[str, Any], str], ...] = (
    (
        "crossings",
        {"radius": 6, "color": "#111", "weight": 2, "fill_color": "#ffd92f"},
        "official crossing",
    ),
    (
        "unofficial_crossings",
        {
            "radius": 5,
            "color": "#8c2d04",
            "weight": 2,
            "dash_array": "3 2",
            "fill_color": "#fdae6b",
        },
        "unofficial crossing (reported)",
    ),
)


def _add_crossings(
    crossings: gpd.GeoDataFrame,
    *,
    name: str,
    style: dict[str, Any],
    label: str,
    group: Any,
) -> None:
    """Draw one crossing layer: markers with escaped tooltips and circles of their precision.

    A crossing without a citable coordinate of its own sits at a cited place with a
    covering radius (``location_precision_m``, up to tens of kilometres): the circle
    shows where it can be, the tooltip says it.
    """
    shown = prepare_layer(
        crossings,
        columns=["name", "name_ar", "counterpart", "status", "location_precision_m"],
        simplify_m=0,
    )
    tips = [
        f"{label.capitalize()}: {row.name}"
        + (f" – {row.counterpart}" if getattr(row, "counterpart", "") else "")
        + (f" ({row.status})" if getattr(row, "status", "") else "")
        + _precision_text(getattr(row, "location_precision_m", None))
        for row in shown.itertuples(index=False)
    ]
    g = group("Crossings" if name == "crossings" else "Unofficial crossings (reported)")
    _add_points(g, shown, tips, style)
    circles = (
        [
            [float(point.y), float(point.x), round(float(precision)), style["color"]]
            for point, precision in zip(
                crossings.geometry, pd.to_numeric(crossings["location_precision_m"]), strict=True
            )
            if precision is not None and not pd.isna(precision) and precision > 0
        ]
        if "location_precision_m" in crossings.columns
        else []
    )
    if circles:
        title = "Crossing" if name == "crossings" else "Unofficial crossing"
        _PrecisionCircles(circles).add_to(group(f"{title} location precision"))


def build_map(
    *,
    border: gpd.GeoDataFrame | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    density: Any | None = None,
    density_overlay: tuple[str, list[list[float]], float] | None = None,
    sectors: gpd.GeoDataFrame | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    emerging: gpd.GeoDataFrame | None = None,
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
        ``regions``, ``towns``, ``crossings``, ``unofficial_crossings`` (each
        crossing drawn with a circle of its ``location_precision_m``).
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
    emerging
        Emerging hot-spot cells (:attr:`geo.emerging.EmergingResult.cells`), coloured by
        category, off until switched on.
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
        _add_hotspots(hotspots, group=group, legend=legend)
    if emerging is not None and len(emerging) and "category" in emerging.columns:
        _add_emerging(emerging, group=group, legend=legend)
    if density is not None:
        _add_density(density, density_overlay, group=group, legend=legend)
    if sectors is not None and len(sectors):
        _add_sectors(sectors, top_k=top_k, group=group, legend=legend)
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
    for name, style, label in CROSSING_STYLES:
        if name in layers and len(layers[name]):
            _add_crossings(layers[name], name=name, style=style, label=label, group=group)
            legend.append(_swatch(style["fill_color"], label, shape="circle"))
    if "towns" in layers:
        g = group("Towns")
        shown = prepare_layer(
            layers["towns"], columns=["name", "name_ar", "country", "population"], simplify_m=0
        )
        tips = []
        for row in shown.itertuples(index=False):
            tip = str(row.name) + (f" / {row.name_ar}" if getattr(row, "name_ar", "") else "")
            pop = pd.to_numeric(getattr(row, "population", None), errors="coerce")
            if pop is not None and not pd.isna(pop):  # an escaped empty text is no number
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
