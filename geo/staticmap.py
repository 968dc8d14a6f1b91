"""A static map for the report, drawn with matplotlib: no tiles, no browser.

The map is drawn in the project's metric CRS (:data:`geo.settings.METRIC_CRS`),
so a kilometre is the same length in both directions and the scale bar is
true. It shows the density surface (transparent where zero), the sectors
coloured by priority score with the top ranks labelled, the border, official
crossings, and the incidents: a filled dot for a precise location, a hollow
ring for a coarse one (worse than :data:`geo.settings.COARSE_LOCATION_M`) with
its precision drawn as a dashed circle when there are few incidents.

Only numbers (ranks, kilometres) are written on the map: no user text reaches
matplotlib, whose ``$...$`` would otherwise be read as mathematics.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

from geo import settings

logger = logging.getLogger(__name__)

#: Above this many incidents, precision circles are not drawn (they would hide the map).
MAX_PRECISION_CIRCLES = 300
#: Colour map of the priority score (sectors) and of the density.
SCORE_CMAP = "YlOrRd"
DENSITY_CMAP = "Purples"


def _to_metric(frame: gpd.GeoDataFrame | gpd.GeoSeries | None) -> Any:
    """Return ``frame`` in the metric CRS (assumed EPSG:4326 when it has no CRS)."""
    if frame is None or len(frame) == 0:
        return None
    if frame.crs is None:
        frame = frame.set_crs(4326)
    return frame.to_crs(settings.METRIC_CRS)


def _extent(
    border: gpd.GeoSeries | None, sectors: Any, incidents: Any, margin_m: float
) -> tuple[float, float, float, float]:
    """Return ``xmin, ymin, xmax, ymax`` of what should be visible."""
    frames = [f for f in (sectors, border) if f is not None and len(f)]
    if not frames and incidents is not None and len(incidents):
        frames = [incidents]
    if not frames:
        return (-1.0, -1.0, 1.0, 1.0)
    bounds = np.array([f.total_bounds for f in frames])
    xmin, ymin = bounds[:, 0].min(), bounds[:, 1].min()
    xmax, ymax = bounds[:, 2].max(), bounds[:, 3].max()
    return (xmin - margin_m, ymin - margin_m, xmax + margin_m, ymax + margin_m)


def _draw_density(ax: Any, density: Any, extent: tuple[float, float, float, float]) -> None:
    """Draw the density surface clipped to ``extent``, transparent where zero."""
    values = np.asarray(density.values, dtype=float)
    transform = density.transform
    if values.ndim != 2 or not values.size or not np.nanmax(values) > 0:
        return
    crs = getattr(density, "crs", settings.METRIC_CRS)
    if crs is not None and not settings.METRIC_CRS.equals(crs):
        logger.warning("density surface is not in the metric CRS; not drawn on the static map")
        return
    xmin, ymin, xmax, ymax = extent
    cell_x, cell_y = transform.a, -transform.e
    col0 = max(int((xmin - transform.c) // cell_x), 0)
    col1 = min(int((xmax - transform.c) // cell_x) + 1, values.shape[1])
    row0 = max(int((transform.f - ymax) // cell_y), 0)
    row1 = min(int((transform.f - ymin) // cell_y) + 1, values.shape[0])
    if col0 >= col1 or row0 >= row1:
        return
    window = values[row0:row1, col0:col1]
    step = max(1, int(max(window.shape) // 1500))  # enough pixels for a printed page
    window = window[::step, ::step]
    masked = np.ma.masked_less_equal(window, np.nanmax(window) * 1e-3)
    left = transform.c + col0 * cell_x
    top = transform.f - row0 * cell_y
    ax.imshow(
        masked,
        extent=(left, left + (col1 - col0) * cell_x, top - (row1 - row0) * cell_y, top),
        origin="upper",
        cmap=DENSITY_CMAP,
        alpha=0.75,
        interpolation="nearest",
        zorder=1,
    )


def _draw_scale_bar(ax: Any, extent: tuple[float, float, float, float]) -> None:
    """Draw a scale bar of a round number of kilometres in the lower left."""
    xmin, ymin, xmax, ymax = extent
    width_km = (xmax - xmin) / 1000
    length_km = next((k for k in (100, 50, 20, 10, 5, 2, 1) if k <= width_km / 4), 1)
    x0, y0 = xmin + 0.05 * (xmax - xmin), ymin + 0.04 * (ymax - ymin)
    ax.plot([x0, x0 + length_km * 1000], [y0, y0], color="black", lw=3, zorder=6)
    ax.text(
        x0 + length_km * 500, y0 + 0.01 * (ymax - ymin), f"{length_km} km", ha="center", zorder=6
    )
    ax.annotate(
        "N",
        xy=(xmax - 0.06 * (xmax - xmin), ymax - 0.04 * (ymax - ymin)),
        xytext=(xmax - 0.06 * (xmax - xmin), ymax - 0.12 * (ymax - ymin)),
        ha="center",
        arrowprops={"arrowstyle": "-|>", "color": "black"},
        zorder=6,
    )


def draw_static_map(
    *,
    border: Any = None,
    sectors: gpd.GeoDataFrame | None = None,
    incidents: gpd.GeoDataFrame | None = None,
    density: Any = None,
    crossings: gpd.GeoDataFrame | None = None,
    top_n: int = settings.REPORT_TOP_N,
    size_in: tuple[float, float] = (6.7, 8.2),
    dpi: int = 150,
) -> bytes:
    """Draw the report's map and return it as PNG bytes.

    Parameters
    ----------
    border
        The border line (a shapely geometry in EPSG:4326, or a GeoSeries/GeoDataFrame).
    sectors
        Sector zones with ``score`` and ``rank`` columns (any CRS; EPSG:4326 if none).
    incidents
        Incidents with ``location_precision_m``.
    density
        A :class:`geo.density.DensitySurface` in the metric CRS (``values``, ``transform``).
    crossings
        Official crossings (points), drawn as squares.
    top_n
        Sectors ranked up to this number are labelled with their rank.
    size_in
        Figure size in inches (width, height).
    dpi
        Resolution of the PNG.

    Returns
    -------
    bytes
        A PNG image (no timestamps in its metadata: the same inputs give the same bytes).
    """
    if border is not None and not isinstance(border, gpd.GeoSeries | gpd.GeoDataFrame):
        border = gpd.GeoSeries([border], crs=4326)
    border_m = _to_metric(border)
    sectors_m = _to_metric(sectors)
    incidents_m = _to_metric(incidents)
    crossings_m = _to_metric(crossings)
    extent = _extent(border_m, sectors_m, incidents_m, margin_m=8_000.0)

    fig = Figure(figsize=size_in, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor("#f4f4f0")
    if density is not None:
        _draw_density(ax, density, extent)
    handles: list[Any] = []
    if sectors_m is not None and "score" in sectors_m.columns:
        scores = sectors_m["score"].astype(float)
        norm = Normalize(vmin=float(np.nanmin(scores)), vmax=float(np.nanmax(scores)) or 1.0)
        sectors_m.plot(
            ax=ax,
            column="score",
            cmap=SCORE_CMAP,
            norm=norm,
            alpha=0.55,
            edgecolor="#555555",
            linewidth=0.4,
            zorder=2,
        )
        mappable = ax.collections[-1]
        fig.colorbar(mappable, ax=ax, shrink=0.5, label="priority score (0–1)")
        if "rank" in sectors_m.columns:
            for geometry, rank in zip(sectors_m.geometry, sectors_m["rank"], strict=True):
                if geometry is None or geometry.is_empty or not int(rank) <= top_n:
                    continue
                point = shapely.point_on_surface(geometry)
                ax.text(
                    point.x,
                    point.y,
                    str(int(rank)),
                    ha="center",
                    va="center",
                    fontsize=7,
                    fontweight="bold",
                    bbox={"boxstyle": "circle,pad=0.2", "fc": "white", "ec": "#333", "lw": 0.5},
                    zorder=7,
                )
    if border_m is not None:
        border_m.plot(ax=ax, color="black", linewidth=1.2, zorder=4)
        handles.append(Line2D([], [], color="black", lw=1.2, label="border (reference line)"))
    if crossings_m is not None:
        ax.scatter(
            crossings_m.geometry.x,
            crossings_m.geometry.y,
            marker="s",
            s=14,
            c="#1f5fa8",
            edgecolors="white",
            linewidths=0.5,
            zorder=8,  # above the rank labels: a crossing often sits on the line
        )
        handles.append(
            Line2D([], [], marker="s", ls="", color="#1f5fa8", label="official crossing")
        )
    if incidents_m is not None:
        precision = incidents_m.get("location_precision_m")
        precision = (
            np.zeros(len(incidents_m))
            if precision is None
            else precision.astype(float).fillna(settings.DEFAULT_LOCATION_PRECISION_M).to_numpy()
        )
        coarse = precision > settings.COARSE_LOCATION_M
        xs, ys = incidents_m.geometry.x.to_numpy(), incidents_m.geometry.y.to_numpy()
        ax.scatter(xs[~coarse], ys[~coarse], s=10, c="#111111", zorder=6)
        ax.scatter(xs[coarse], ys[coarse], s=22, facecolors="none", edgecolors="#111111", zorder=6)
        if len(incidents_m) <= MAX_PRECISION_CIRCLES:
            for x, y, radius in zip(xs[coarse], ys[coarse], precision[coarse], strict=True):
                ax.add_patch(
                    Circle((x, y), radius, fill=False, ls="--", lw=0.5, ec="#555555", zorder=3)
                )
        handles.append(Line2D([], [], marker="o", ls="", color="#111111", label="incident"))
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                ls="",
                mfc="none",
                mec="#111111",
                label=f"incident located to > {settings.COARSE_LOCATION_M / 1000:g} km",
            )
        )
    xmin, ymin, xmax, ymax = extent
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    _draw_scale_bar(ax, extent)
    if handles:
        ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
