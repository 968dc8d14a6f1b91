"""The surface layers: the density image and the Gi* hot spots.

:func:`density_image` turns a density surface into a PNG in Web Mercator
(rasterio, pyproj, matplotlib and Pillow are imported inside it);
:func:`_add_density` and :func:`_add_hotspots` draw the two layers with their
legends.
"""

from __future__ import annotations

import base64
import functools
import io
import zlib
from collections.abc import Callable
from typing import Any

import folium
import geopandas as gpd
import numpy as np

from geo import settings
from mapview.controls import _swatch
from mapview.escaping import escape_text
from mapview.features import _add_geojson, _classify, prepare_layer

#: Hot-spot bins (Gi* with FDR) -> (colour, label).
HOTSPOT_COLOURS = {
    3: ("#b2182b", "hot spot, 99 %"),
    2: ("#ef8a62", "hot spot, 95 %"),
    1: ("#fddbc7", "hot spot, 90 %"),
    -1: ("#d1e5f0", "cold spot, 90 %"),
    -2: ("#67a9cf", "cold spot, 95 %"),
    -3: ("#2166ac", "cold spot, 99 %"),
}


def density_image(
    surface: Any, *, max_pixels: int = settings.MAP_DENSITY_MAX_PIXELS
) -> tuple[str, list[list[float]], float]:
    """Return a density surface as a PNG data URI with its EPSG:4326 bounds.

    The image is in Web Mercator (what Leaflet displays), so that it lies exactly
    where it should: each pixel's centre is projected back into the surface's grid
    and the surface is read there by bilinear interpolation (outside the grid the
    pixel is transparent). Where each pixel falls is computed once per grid
    (:func:`_display_grid`), so a new surface on the same grid costs a few array
    reads. The surface is smooth at the pixel's scale (its kernel is several cells
    wide), so reading it at the pixel's centre differs from averaging over the pixel by
    about 0.1 % of the maximum. Cells below 1 % of the maximum are transparent.

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
    from matplotlib import colormaps
    from PIL import Image

    values = np.asarray(surface.values, dtype="float64")
    grid = _display_grid(str(surface.crs), tuple(surface.transform)[:6], values.shape, max_pixels)
    (r0, c0, fr, fc, inside), (h, w), bounds = grid
    flat = values.ravel()
    width = values.shape[1]
    i00 = r0 * width + c0
    sampled = (1 - fr) * ((1 - fc) * flat[i00] + fc * flat[i00 + 1]) + fr * (
        (1 - fc) * flat[i00 + width] + fc * flat[i00 + width + 1]
    )
    dst = np.full(h * w, np.nan)
    dst[inside] = sampled
    dst = dst.reshape(h, w)
    vmax = float(np.nanmax(dst)) if np.isfinite(dst).any() else 0.0
    rgba = np.zeros((h, w, 4), dtype=np.uint8)
    if vmax > 0:
        norm = np.clip(np.nan_to_num(dst / vmax), 0.0, 1.0)
        rgba = colormaps["inferno_r"](norm, bytes=True)
        rgba[..., 3] = np.where(norm >= 0.01, (80 + 140 * norm).astype(np.uint8), 0)
    buffer = io.BytesIO()
    # zlib's run-length strategy: half the time of its default (0.024 s, not 0.049 s, for
    # 800 x 588 pixels), for a file of 105 kB instead of 70 kB, the same pixels. PIL's
    # optimize=True searched for a 4 % smaller file in 6x the time.
    Image.fromarray(rgba, mode="RGBA").save(
        buffer, format="PNG", compress_level=6, compress_type=zlib.Z_RLE
    )
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
    return uri, [list(corner) for corner in bounds], vmax


@functools.lru_cache(maxsize=8)
def _display_grid(
    crs: str, transform: tuple[float, ...], shape: tuple[int, int], max_pixels: int
) -> tuple[
    tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    tuple[int, int],
    tuple[tuple[float, float], tuple[float, float]],
]:
    """Return where each Web Mercator pixel of a grid's image reads the grid.

    Returns
    -------
    tuple
        ``(row, col, row_fraction, col_fraction, inside)``: for the pixels inside the
        grid (``inside``, a boolean mask over the flattened image), the upper-left
        cell of the four read and the fractions towards the next row and column; the
        image's ``(height, width)``; its ``((south, west), (north, east))``.
    """
    from affine import Affine
    from pyproj import Transformer
    from rasterio.transform import array_bounds
    from rasterio.warp import transform_bounds

    height, width = shape
    source = Affine(*transform)
    left, bottom, right, top = array_bounds(height, width, source)
    mx0, my0, mx1, my1 = transform_bounds(crs, "EPSG:3857", left, bottom, right, top)
    scale = max(1.0, max(width, height) / max_pixels)
    w, h = max(1, round(width / scale)), max(1, round(height / scale))
    dx, dy = (mx1 - mx0) / w, (my1 - my0) / h
    mx = mx0 + (np.arange(w) + 0.5) * dx
    my = my1 - (np.arange(h) + 0.5) * dy
    gx, gy = np.meshgrid(mx, my)
    x, y = Transformer.from_crs("EPSG:3857", crs, always_xy=True).transform(gx.ravel(), gy.ravel())
    inverse = ~source  # (x, y) -> (col, row); the grid is north-up, without rotation
    col = inverse.a * np.asarray(x) + inverse.b * np.asarray(y) + inverse.c - 0.5
    row = inverse.d * np.asarray(x) + inverse.e * np.asarray(y) + inverse.f - 0.5
    inside = (col >= 0) & (col <= width - 1) & (row >= 0) & (row <= height - 1)
    col, row = col[inside], row[inside]
    c0 = np.minimum(np.floor(col).astype(np.int64), width - 2)
    r0 = np.minimum(np.floor(row).astype(np.int64), height - 2)
    to_geo = Transformer.from_crs("EPSG:3857", 4326, always_xy=True)
    west, south = to_geo.transform(mx0, my0)
    east, north = to_geo.transform(mx1, my1)
    for array in (r0, c0, inside):
        array.setflags(write=False)
    fr, fc = row - r0, col - c0
    fr.setflags(write=False)
    fc.setflags(write=False)
    return (r0, c0, fr, fc, inside), (h, w), ((south, west), (north, east))


def _add_density(
    density: Any,
    density_overlay: tuple[str, list[list[float]], float] | None,
    *,
    group: Callable[..., folium.FeatureGroup],
    legend: list[str],
) -> None:
    """Draw a density surface as an image and add its colour ramp to the legend.

    Parameters
    ----------
    density
        A :class:`geo.density.DensitySurface`; nothing is drawn when it is zero everywhere.
    density_overlay
        Its :func:`density_image`, if already made.
    group
        Makes the layer's feature group: ``group(name, *, show=True)`` (from :func:`build_map`).
    legend
        Rows of the map's legend (escaped HTML), appended to.
    """
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


def _add_hotspots(
    hotspots: gpd.GeoDataFrame,
    *,
    group: Callable[..., folium.FeatureGroup],
    legend: list[str],
) -> None:
    """Draw the Gi* cells outside bin 0, coloured by bin, and add their legend.

    Parameters
    ----------
    hotspots
        Gi* cells (``bin``, ``count``, ``z``, ``p_fdr``).
    group
        Makes the layer's feature group: ``group(name, *, show=True)`` (from :func:`build_map`).
    legend
        Rows of the map's legend (escaped HTML), appended to.
    """
    cells = hotspots[hotspots["bin"].fillna(0).astype(int) != 0].copy()
    cells["_class"], classes = _classify(
        [{"fillColor": HOTSPOT_COLOURS[int(b)][0]} for b in cells["bin"]]
    )
    cells["label"] = [HOTSPOT_COLOURS[int(b)][1] for b in cells["bin"]]
    g = group("Hot spots (Gi*)")
    _add_geojson(
        g,
        prepare_layer(
            cells,
            columns=["label", "count", "z", "p_fdr", "_class"],
            simplify_m=0,
            pointwise=True,
        ),
        style={"color": "#555", "weight": 0.5, "fillOpacity": 0.55},
        classes=classes,
        tooltip={"label": "Gi*", "count": "Incidents", "z": "z", "p_fdr": "p (FDR)"},
        name="hotspots",
    )
    legend.append("<b>Hot spots (Gi*, FDR)</b>")
    legend += [_swatch(c, label) for _, (c, label) in sorted(HOTSPOT_COLOURS.items(), reverse=True)]


#: Colour of each emerging hot/cold spot category (hot reds, cold blues; darker = stronger).
EMERGING_COLOURS: dict[str, str] = {
    "new hot spot": "#67000d",
    "consecutive hot spot": "#a50f15",
    "intensifying hot spot": "#cb181d",
    "persistent hot spot": "#ef3b2c",
    "diminishing hot spot": "#fb6a4a",
    "sporadic hot spot": "#fc9272",
    "oscillating hot spot": "#fcbba1",
    "historical hot spot": "#fee0d2",
    "new cold spot": "#08306b",
    "consecutive cold spot": "#08519c",
    "intensifying cold spot": "#2171b5",
    "persistent cold spot": "#4292c6",
    "diminishing cold spot": "#6baed6",
    "sporadic cold spot": "#9ecae1",
    "oscillating cold spot": "#c6dbef",
    "historical cold spot": "#deebf7",
}


def _add_emerging(
    cells: gpd.GeoDataFrame,
    *,
    group: Callable[..., folium.FeatureGroup],
    legend: list[str],
) -> None:
    """Draw the emerging hot and cold spots by category, with their legend.

    Parameters
    ----------
    cells
        :attr:`geo.emerging.EmergingResult.cells` (``category``, ``count``,
        ``hot_slices``, ``cold_slices``, ``trend_z``); "no pattern detected" is not drawn.
    group, legend
        As for :func:`_add_hotspots`.
    """
    shown = cells[cells["category"].isin(EMERGING_COLOURS)].copy()
    if shown.empty:
        return
    shown["_class"], classes = _classify(
        [{"fillColor": EMERGING_COLOURS[c]} for c in shown["category"]]
    )
    g = group("Emerging hot spots", show=False)
    _add_geojson(
        g,
        prepare_layer(
            shown,
            columns=["category", "count", "hot_slices", "cold_slices", "trend_z", "_class"],
            simplify_m=0,
            pointwise=True,
        ),
        style={"color": "#444", "weight": 0.5, "fillOpacity": 0.6},
        classes=classes,
        tooltip={
            "category": "Emerging",
            "count": "Incidents",
            "hot_slices": "Hot slices",
            "cold_slices": "Cold slices",
            "trend_z": "Trend (Mann-Kendall z)",
        },
        name="emerging",
    )
    present = set(shown["category"])
    legend.append("<b>Emerging hot spots</b>")
    legend += [_swatch(c, label) for label, c in EMERGING_COLOURS.items() if label in present]
