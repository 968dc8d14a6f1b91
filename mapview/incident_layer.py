"""The incidents layer: points clustered with popups, precision circles, or hexagons.

Up to a threshold incidents are drawn from one compact array as clustered
markers (colour by type, an escaped popup and tooltip each) with circles of
their location precision; beyond it they are counted in hexagons
(:func:`hexbin_incidents`).
"""

from __future__ import annotations

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
from geo.grid import given_xy, hexagon_of, project_points
from geo.selection import select_rows
from mapview.controls import _swatch
from mapview.escaping import escape_text
from mapview.features import _DECIMALS, _add_geojson, _classify, prepare_layer

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


def hexbin_incidents(
    incidents: gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    hex_km: float = settings.MAP_HEX_KM,
    xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> gpd.GeoDataFrame:
    """Count incidents in pointy-topped hexagons of the metric CRS.

    Parameters
    ----------
    incidents
        Points with a CRS.
    hex_km
        Distance between opposite edges of a hexagon (km).
    xy
        The points' metric coordinates (:func:`geo.grid.project_points`), when the
        caller holds them already (the app projects the stored incidents once).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per non-empty hexagon (EPSG:4326): ``count`` and the hexagon.
    """
    if len(incidents) == 0:
        return gpd.GeoDataFrame({"count": []}, geometry=[], crs=4326)
    # Arrays through pyproj: 3x quicker than to_crs.
    x, y = project_points(incidents) if xy is None else given_xy(xy, len(incidents))
    size = hex_km * 1000.0 / math.sqrt(3.0)  # circumradius
    qx, qz = hexagon_of(x, y, size)
    # One integer per hexagon, ordered as its (qx, qz) pair: np.unique over rows of two
    # columns sorts a structured view (0.04 s for 100,000 incidents), over one column not.
    span = int(qz.max() - qz.min()) + 1
    codes, counts = np.unique((qx - qx.min()) * span + (qz - qz.min()), return_counts=True)
    keys = np.column_stack([codes // span + qx.min(), codes % span + qz.min()])
    centre_x = size * math.sqrt(3.0) * (keys[:, 0] + keys[:, 1] / 2.0)
    centre_y = size * 1.5 * keys[:, 1]
    angles = np.radians(30.0 + 60.0 * np.arange(6))
    ring_x = centre_x[:, None] + size * np.cos(angles)[None, :]
    ring_y = centre_y[:, None] + size * np.sin(angles)[None, :]
    coords = np.stack([ring_x, ring_y], axis=-1)
    polygons = shapely.polygons(np.concatenate([coords, coords[:, :1]], axis=1))
    out = gpd.GeoDataFrame({"count": counts}, geometry=polygons, crs=settings.METRIC_CRS)
    return out.to_crs(4326)


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


def _add_incidents(
    m: folium.Map,
    incidents: gpd.GeoDataFrame,
    *,
    max_markers: int,
    cluster_min: int,
    hex_km: float,
    legend: list[str],
    group: Any,
    xy: pd.DataFrame | None = None,
) -> None:
    """Draw incidents one by one, clustered, or aggregated into hexagons.

    ``xy``: every incident's metric coordinates (:func:`geo.grid.project_frame`, indexed
    like the incidents or a superset of them), used when they are counted in hexagons.
    """
    geometry = incidents.geometry
    shapes = np.asarray(geometry.array, dtype=object)
    drawn = ~(shapely.is_missing(shapes) | shapely.is_empty(shapes))
    n = int(drawn.sum())
    if n > max_markers:
        # Counted in hexagons: only the points are needed, not a copy of every column.
        points = geometry[drawn] if n < len(geometry) else geometry
        rows = None if xy is None else select_rows(xy, points, what="table of metric coordinates")
        coords = None if rows is None else (rows["x_m"].to_numpy(), rows["y_m"].to_numpy())
        hexes = hexbin_incidents(points, hex_km=hex_km, xy=coords)
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
            prepare_layer(hexes, columns=["count", "_class"], simplify_m=0, pointwise=True),
            style={"color": "#08306b", "weight": 0.3, "fillColor": "#2171b5"},
            classes=classes,
            tooltip={"count": "Incidents"},
            name="incident_hexagons",
        )
        legend.append(f"<b>Incidents</b>: {n:,}, counted in {hex_km:g} km hexagons (darker: more)")
        return
    points = incidents.to_crs(4326)
    points = points[drawn] if n < len(points) else points
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
