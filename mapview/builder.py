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

import hashlib
import logging
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

import folium
import folium.plugins
import folium.raster_layers
import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

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
from mapview.escaping import escape_text, script_json
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
    "build_reference_map",
    "data_layers_script",
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


def _layer_key(name: str) -> str:
    """Return a data layer's lasting key: its name without the counts that change with filters."""
    return name.split(" (", 1)[0]


#: Data layers drawn under the sectors and the border (above the countries and regions).
_UNDER_SECTORS = frozenset({"Hot spots", "Emerging hot spots"})

#: Replaces the data layers of a reference map (see :func:`data_layers_script`).
_DATA_SCRIPT = """(function (map, control) {{
  if (!map || !control || window.bordermonDataKey === {key}) {{ return; }}
  var shown = window.bordermonShown = window.bordermonShown || {{}};
  (window.bordermonData || []).forEach(function (d) {{
    shown[d.key] = map.hasLayer(d.layer);
    control.removeLayer(d.layer);
    map.removeLayer(d.layer);
  }});
  var added = (function ({map_name}) {{
{body}
    return [{layers}];
  }})(map);
  added.forEach(function (d) {{
    var on = Object.prototype.hasOwnProperty.call(shown, d.key) ? shown[d.key] : d.show;
    if (on) {{ map.addLayer(d.layer); }} else {{ map.removeLayer(d.layer); }}
    control.addOverlay(d.layer, d.label);
  }});
  added.slice().reverse().forEach(function (d) {{ if (d.under) {{ d.layer.bringToBack(); }} }});
  (window.bordermonContext || []).slice().reverse().forEach(function (layer) {{
    layer.bringToBack();
  }});
  window.bordermonData = added;
  var legend = document.querySelector(".bordermon-data-legend");
  if (legend) {{ legend.innerHTML = {legend}; }}
  window.bordermonDataKey = {key};
}})(window.bordermonMap, window.bordermonControl);
"""


class _Registry(MacroElement):
    """Names the map, its layer control and its context layers for :func:`data_layers_script`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.bordermonMap = {{ this._parent.get_name() }};
        window.bordermonControl = {{ this.control.get_name() }};
        window.bordermonContext = [{{ this.context|join(", ") }}];
        {% endmacro %}
        """
    )

    def __init__(self, control: folium.LayerControl, context: list[str]) -> None:
        super().__init__()
        self._name = "Registry"
        self.control = control
        self.context = context


class _DataLayerAssets(JSCSSMixin, MacroElement):
    """The scripts and stylesheets the data layers need, for a map that has none yet.

    The marker-cluster plugin, and the style folium's ``ImageOverlay`` puts in the page's
    header for the density image (drawn pixel by pixel, not smoothed).
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}{{ this.image_style }}{% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "DataLayerAssets"
        overlay = folium.raster_layers.ImageOverlay._template.module
        self.image_style = overlay.header(SimpleNamespace(pixelated=True), {})
        self.default_js = list(folium.plugins.FastMarkerCluster.default_js)
        self.default_css = list(folium.plugins.FastMarkerCluster.default_css)


def _new_map() -> tuple[folium.Map, Any, list[str]]:
    """Return an empty map, its feature-group factory and its legend rows."""
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

    def group(name: str, *, show: bool = True) -> folium.FeatureGroup:
        return folium.FeatureGroup(name=escape_text(name), show=show, overlay=True).add_to(m)

    return m, group, []


def _add_reference(
    m: folium.Map,
    group: Any,
    legend: list[str],
    *,
    border: gpd.GeoDataFrame | None,
    layers: dict[str, gpd.GeoDataFrame],
    sectors: gpd.GeoDataFrame | None,
    top_k: int,
    tile_url: str | None,
    tile_attribution: str,
    simplify_m: float,
    height_px: int,
) -> tuple[list[str], list[str]]:
    """Draw the tiles, reference layers and sectors.

    Returns the attribution parts, and the names of the context layers (countries,
    regions) that the data layers are drawn over (:class:`_Registry`).
    """
    attribution: list[str] = []
    context: list[str] = []
    if tile_url:
        folium.TileLayer(
            tiles=tile_url,
            attr=escape_text(tile_attribution),
            name="Background tiles",
            maxZoom=18,
        ).add_to(m)
    if "countries" in layers:
        g = group("Countries")
        context.append(g.get_name())
        _add_geojson(
            g,
            prepare_layer(layers["countries"], columns=["name", "iso3"], simplify_m=simplify_m * 4),
            style={"color": "#666", "weight": 1, "fillColor": "#f2efe9", "fillOpacity": 0.35},
            tooltip={"name": "Country"},
            name="countries",
        )
    if "regions" in layers:
        g = group("Districts and governorates", show=False)
        context.append(g.get_name())
        _add_geojson(
            g,
            prepare_layer(
                layers["regions"], columns=["name", "level", "country"], simplify_m=simplify_m * 2
            ),
            style={"color": "#8c8c8c", "weight": 0.8, "dashArray": "2 3", "fillOpacity": 0},
            tooltip={"name": "Region", "level": "Level", "country": "Country"},
            name="regions",
        )
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
    return attribution, context


def _add_data(
    m: folium.Map,
    group: Any,
    legend: list[str],
    *,
    incidents: gpd.GeoDataFrame | None,
    density: Any | None,
    density_overlay: tuple[str, list[list[float]], float] | None,
    hotspots: gpd.GeoDataFrame | None,
    emerging: gpd.GeoDataFrame | None,
    max_incident_markers: int,
    cluster_min: int,
    hex_km: float,
    incident_xy: pd.DataFrame | None = None,
) -> None:
    """Draw the data layers: hot spots, emerging hot spots, density, incidents."""
    if hotspots is not None and len(hotspots) and "bin" in hotspots.columns:
        _add_hotspots(hotspots, group=group, legend=legend)
    if emerging is not None and len(emerging) and "category" in emerging.columns:
        _add_emerging(emerging, group=group, legend=legend)
    if density is not None:
        _add_density(density, density_overlay, group=group, legend=legend)
    if incidents is not None and len(incidents):
        _add_incidents(
            m,
            incidents,
            max_markers=max_incident_markers,
            cluster_min=cluster_min,
            hex_km=hex_km,
            legend=legend,
            group=group,
            xy=incident_xy,
        )


def _finish(
    m: folium.Map,
    attribution: list[str],
    legend: list[str],
    data: list[str] | None,
    context: list[str],
) -> None:
    """Add the attribution, the legend, the layer control and the registry.

    ``data``: the data layers' legend rows, in a place of their own that
    :func:`data_layers_script` fills; ``None`` for a map that receives its data layers
    later (the legend is then drawn even while it is empty).
    """
    attribution.append("Reference layers: © OpenStreetMap contributors (ODbL) and others")
    _Attribution(" | ".join(attribution)).add_to(m)
    if legend or data is None or data:
        rows = "".join(data or [])
        _Legend("".join(legend) + f'<div class="bordermon-data-legend">{rows}</div>').add_to(m)
    control = folium.LayerControl(collapsed=True).add_to(m)
    _Registry(control, context).add_to(m)


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
    return _compose(
        border=border, layers=layers, sectors=sectors, top_k=top_k, tile_url=tile_url,
        tile_attribution=tile_attribution, simplify_m=simplify_m, height_px=height_px,
        base_url=base_url,
        data={
            "incidents": incidents, "density": density, "density_overlay": density_overlay,
            "hotspots": hotspots, "emerging": emerging,
            "max_incident_markers": max_incident_markers, "cluster_min": cluster_min,
            "hex_km": hex_km,
        },
    )  # fmt: skip


def build_reference_map(
    *,
    border: gpd.GeoDataFrame | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    sectors: gpd.GeoDataFrame | None = None,
    top_k: int = settings.TOP_K,
    tile_url: str | None = None,
    tile_attribution: str = settings.MAP_TILE_ATTRIBUTION,
    simplify_m: float = settings.MAP_SIMPLIFY_M,
    base_url: str = STATIC_URL,
    height_px: int = settings.MAP_HEIGHT_PX,
) -> folium.Map:
    """Return the map of :func:`build_map` without its data layers, ready to receive them.

    The app draws this map once per sector layout and sends the data layers (incidents,
    density, hot spots, emerging hot spots) as :func:`data_layers_script`, so a filter
    change neither rebuilds nor reloads the map. Its legend holds an empty place for
    the data layers' rows, and its scripts include those the data layers need
    (marker clusters). Parameters as for :func:`build_map`.
    """
    return _compose(
        border=border, layers=layers, sectors=sectors, top_k=top_k, tile_url=tile_url,
        tile_attribution=tile_attribution, simplify_m=simplify_m, height_px=height_px,
        base_url=base_url, data=None,
    )  # fmt: skip


def _compose(
    *,
    layers: Mapping[str, gpd.GeoDataFrame] | None,
    base_url: str,
    data: dict[str, Any] | None,
    **reference: Any,
) -> folium.Map:
    """Return a whole map, or with ``data=None`` a reference map.

    ``data``: the options of :func:`_add_data`; ``reference``: those of
    :func:`_add_reference`. :func:`build_map` and :func:`build_reference_map` both
    come here, so the two maps are made the same way.
    """
    m, group, legend = _new_map()
    attribution, context = _add_reference(m, group, legend, layers=dict(layers or {}), **reference)
    rows: list[str] | None = None
    if data is None:
        _DataLayerAssets().add_to(m)
    else:
        rows = []
        _add_data(m, group, rows, **data)
    _finish(m, attribution, legend, rows, context)
    return localize_assets(m, base_url=base_url)


def data_layers_script(
    *,
    incidents: gpd.GeoDataFrame | None = None,
    density: Any | None = None,
    density_overlay: tuple[str, list[list[float]], float] | None = None,
    hotspots: gpd.GeoDataFrame | None = None,
    emerging: gpd.GeoDataFrame | None = None,
    max_incident_markers: int = settings.MAP_MAX_INCIDENT_MARKERS,
    cluster_min: int = settings.MAP_CLUSTER_MIN_INCIDENTS,
    hex_km: float = settings.MAP_HEX_KM,
    incident_xy: pd.DataFrame | None = None,
) -> str:
    """Return the JavaScript that puts these data layers on a map of :func:`build_reference_map`.

    The layers are built by the same code as :func:`build_map`'s and rendered by folium;
    the script then replaces the data layers the map holds (keeping each one switched on
    or off as the analyst left it), lists them in the layer control, draws the surface
    layers under the sectors and above the countries as :func:`build_map` does, and
    fills the legend's place for them. Running it twice changes nothing the second time.
    Every text in it is escaped as in :func:`build_map`; the labels and legend are written
    as JSON. Parameters as for :func:`build_map`, and ``incident_xy``: the metric
    coordinates of the incidents (:func:`geo.grid.project_frame`, of these incidents or
    of a set holding them), which saves projecting them again when they are counted in
    hexagons.
    """
    m = folium.Map(tiles=None)
    entries: list[tuple[str, folium.FeatureGroup, bool]] = []

    def group(name: str, *, show: bool = True) -> folium.FeatureGroup:
        fg = folium.FeatureGroup(name=escape_text(name), show=show, overlay=True).add_to(m)
        entries.append((name, fg, show))
        return fg

    legend: list[str] = []
    _add_data(
        m, group, legend, incidents=incidents, density=density,
        density_overlay=density_overlay, hotspots=hotspots, emerging=emerging,
        max_incident_markers=max_incident_markers, cluster_min=cluster_min, hex_km=hex_km,
        incident_xy=incident_xy,
    )  # fmt: skip
    figure = m.get_root()
    figure.render()
    scripts = figure.script._children.items()
    body = "\n".join(element.render() for name, element in scripts if name != m.get_name())
    js = script_json
    layers = ",".join(
        f"{{key: {js(_layer_key(name))}, label: {js(fg.layer_name)}, layer: {fg.get_name()}, "
        f"show: {js(show)}, under: {js(_layer_key(name) in _UNDER_SECTORS)}}}"
        for name, fg, show in entries
    )
    key = hashlib.sha256((body + layers + "".join(legend)).encode()).hexdigest()[:16]
    return _DATA_SCRIPT.format(
        key=script_json(key),
        map_name=m.get_name(),
        body=body,
        layers=layers,
        legend=script_json("".join(legend)),
    )
