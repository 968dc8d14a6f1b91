"""The monitored region and the regular metric grid laid over it.

The region is defined once, here: the border line projected to
:data:`~geo.settings.METRIC_CRS`, its bounding box widened by
:data:`~geo.settings.REGION_MARGIN_M` on every side and snapped outwards to a
multiple of the cell size, so that grids of the same cell size always align
(cell edges at whole multiples of ``cell_m`` in the metric CRS). With the
defaults (250 m cells, 60 km margin) the grid holds about a million cells.

Incidents are allowed up to :data:`~geo.settings.REGION_DISTANCE_M` (50 km)
from the border, so the 60 km margin keeps every accepted incident on the grid
with a further 10 km for its kernel's tail.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
from affine import Affine
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from geo import settings
from geo.errors import ConfigurationError, FeatureProblem, ValidationError

logger = logging.getLogger(__name__)

__all__ = [
    "Grid",
    "given_xy",
    "grid_for_bounds",
    "project_frame",
    "project_points",
    "region_grid",
    "region_line",
    "region_polygon",
]


@dataclass(frozen=True)
class Grid:
    """A north-up regular grid of square cells in the metric CRS.

    Attributes
    ----------
    x0, y0
        Upper-left corner (west edge, north edge) in metres.
    cell_m
        Cell size in metres.
    width, height
        Number of columns and rows; row 0 is the northernmost.
    """

    x0: float
    y0: float
    cell_m: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.cell_m) and self.cell_m > 0):
            raise ConfigurationError(
                f"grid cell size cell_m={self.cell_m!r} must be a positive number of metres"
            )
        if self.width < 1 or self.height < 1:
            raise ConfigurationError(
                f"grid of {self.width}×{self.height} cells is empty; give at least one cell"
            )

    @property
    def transform(self) -> Affine:
        """Affine transform from (column, row) to metric (x, y)."""
        return Affine(self.cell_m, 0.0, self.x0, 0.0, -self.cell_m, self.y0)

    @property
    def crs(self) -> CRS:
        """The grid's CRS, always :data:`~geo.settings.METRIC_CRS`."""
        return settings.METRIC_CRS

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)``, the shape of an array on this grid."""
        return (self.height, self.width)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the outer cell edges, in metres."""
        return (
            self.x0,
            self.y0 - self.height * self.cell_m,
            self.x0 + self.width * self.cell_m,
            self.y0,
        )

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in km²."""
        return (self.cell_m / 1000.0) ** 2

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the cells' centres as two ``(height, width)`` arrays ``x, y`` in metres."""
        xs = self.x0 + (np.arange(self.width) + 0.5) * self.cell_m
        ys = self.y0 - (np.arange(self.height) + 0.5) * self.cell_m
        return np.meshgrid(xs, ys)

    def fractional_index(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Return the fractional ``(row, col)`` of points, 0.0 at the first cell's centre.

        Parameters
        ----------
        x, y
            Metric coordinates in metres.
        """
        col = (np.asarray(x, dtype=float) - self.x0) / self.cell_m - 0.5
        row = (self.y0 - np.asarray(y, dtype=float)) / self.cell_m - 0.5
        return row, col


def grid_for_bounds(bounds: tuple[float, float, float, float], *, cell_m: float) -> Grid:
    """Return the smallest grid aligned on multiples of ``cell_m`` covering ``bounds``.

    Parameters
    ----------
    bounds
        ``(xmin, ymin, xmax, ymax)`` in metres (metric CRS).
    cell_m
        Cell size in metres.
    """
    if not (math.isfinite(cell_m) and cell_m > 0):
        raise ConfigurationError(f"cell_m={cell_m!r} must be a positive number of metres")
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    if not all(map(math.isfinite, (xmin, ymin, xmax, ymax))) or xmin > xmax or ymin > ymax:
        raise ConfigurationError(
            f"bounds {bounds!r} are not (xmin, ymin, xmax, ymax) with xmin <= xmax, ymin <= ymax"
        )
    x0 = math.floor(xmin / cell_m) * cell_m
    y0 = math.ceil(ymax / cell_m) * cell_m
    x0 -= cell_m * (x0 > xmin)  # the division underflows for tiny values (-5e-324 / 100)
    y0 += cell_m * (y0 < ymax)
    width = max(1, math.ceil((xmax - x0) / cell_m))
    height = max(1, math.ceil((y0 - ymin) / cell_m))
    width += x0 + width * cell_m < xmax  # guard the rounding of the divisions
    height += y0 - height * cell_m > ymin
    return Grid(x0=x0, y0=y0, cell_m=float(cell_m), width=int(width), height=int(height))


def _to_metric(geometry: BaseGeometry) -> BaseGeometry:
    transformer = Transformer.from_crs(settings.GEOGRAPHIC_CRS, settings.METRIC_CRS, always_xy=True)
    return shapely.transform(
        geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


@lru_cache(maxsize=4)
def _metric_line(wkb: bytes) -> BaseGeometry:
    return _to_metric(shapely.from_wkb(wkb))


def _require_line(line: BaseGeometry | None, what: str) -> BaseGeometry:
    if line is None:
        raise ConfigurationError(
            f"{what}: no border line given; fix: pass line= (the border in EPSG:4326, "
            "e.g. layers.reference.ReferenceLayers.bundled().line)"
        )
    return line


def region_line(line: BaseGeometry) -> BaseGeometry:
    """Return the border line in the metric CRS (cached per line).

    Parameters
    ----------
    line
        The border line in EPSG:4326.
    """
    return _metric_line(shapely.to_wkb(_require_line(line, "region_line")))


def region_polygon(
    *, distance_m: float = settings.REGION_DISTANCE_M, line: BaseGeometry | None = None
) -> BaseGeometry:
    """Return the monitored region: the border line buffered by ``distance_m`` (metric CRS).

    Parameters
    ----------
    distance_m
        Half-width of the region in metres (default :data:`~geo.settings.REGION_DISTANCE_M`).
    line
        The border line in EPSG:4326 (required).
    """
    wkb = shapely.to_wkb(_require_line(line, "region_polygon"))
    return _buffered_line(wkb, float(distance_m))


@lru_cache(maxsize=8)
def _buffered_line(wkb: bytes, distance_m: float) -> BaseGeometry:
    return _metric_line(wkb).buffer(distance_m, quad_segs=16)


def region_grid(
    *,
    cell_m: float = settings.DENSITY_CELL_M,
    margin_m: float = settings.REGION_MARGIN_M,
    line: BaseGeometry | None = None,
) -> Grid:
    """Return the grid covering the border corridor plus ``margin_m``, snapped to ``cell_m``.

    Parameters
    ----------
    cell_m
        Cell size in metres (default :data:`~geo.settings.DENSITY_CELL_M`).
    margin_m
        Margin added on every side of the border line's bounding box, in metres
        (default :data:`~geo.settings.REGION_MARGIN_M`).
    line
        The border line in EPSG:4326 (required).
    """
    if not (math.isfinite(margin_m) and margin_m >= 0):
        raise ConfigurationError(f"margin_m={margin_m!r} must be zero or a positive number")
    xmin, ymin, xmax, ymax = region_line(_require_line(line, "region_grid")).bounds
    grid = grid_for_bounds(
        (xmin - margin_m, ymin - margin_m, xmax + margin_m, ymax + margin_m), cell_m=cell_m
    )
    if grid.width * grid.height > 50_000_000:
        raise ConfigurationError(
            f"cell_m={cell_m} m gives a grid of {grid.width}×{grid.height} cells over the region; "
            "use cells of at least 50 m"
        )
    return grid


def hexagon_of(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Return the axial ``(q, r)`` of the pointy-top hexagon holding each point.

    Hexagons of circumradius ``radius`` (metres) centred at ``x = radius sqrt(3) (q + r / 2)``,
    ``y = 1.5 radius r``: the hexagon whose centre is nearest, found by rounding the
    point's cube coordinates (a point at the same distance from two centres goes to one
    of them).

    Parameters
    ----------
    x, y
        Metric coordinates.
    radius
        Circumradius of the hexagons (metres).
    """
    q = (math.sqrt(3.0) / 3.0 * np.asarray(x, dtype=float) - np.asarray(y) / 3.0) / radius
    r = (2.0 / 3.0 * np.asarray(y, dtype=float)) / radius
    s = -q - r
    rq, rs, rr = np.round(q), np.round(s), np.round(r)
    dq, ds, dr = np.abs(rq - q), np.abs(rs - s), np.abs(rr - r)
    fix_q = (dq > ds) & (dq > dr)
    fix_r = ~fix_q & ~(ds > dr)
    rq = np.where(fix_q, -rs - rr, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def given_xy(xy: tuple[np.ndarray, np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return coordinates given for ``n`` incidents as two float arrays, or raise.

    Raises
    ------
    ConfigurationError
        When they are not two arrays of ``n`` finite numbers.
    """
    x, y = (np.asarray(a, dtype=float) for a in xy)
    if x.shape != (n,) or y.shape != (n,) or not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise ConfigurationError(
            f"xy must be two arrays of {n} finite metric coordinates, one per incident; "
            "fix: give geo.grid.project_points of the same incidents"
        )
    return x, y


def project_frame(points) -> pd.DataFrame:
    """Return :func:`project_points` as a table: ``x_m``, ``y_m``, indexed like ``points``.

    The app projects every stored incident once per store version and passes the
    table to :func:`geo.analysis.measure_surface`, which selects its incidents' rows.
    """
    x, y = project_points(points)
    return pd.DataFrame({"x_m": x, "y_m": y}, index=points.index)


def project_points(points) -> tuple[np.ndarray, np.ndarray]:
    """Return the metric ``x, y`` (metres) of a GeoDataFrame or GeoSeries of points.

    Parameters
    ----------
    points
        A GeoDataFrame or GeoSeries with Point geometries and a CRS (normally EPSG:4326).

    Raises
    ------
    ValidationError
        If the CRS is missing or a geometry is missing, empty or not a point.
    """
    geoms = points.geometry if hasattr(points, "geometry") else points
    if geoms.crs is None:
        raise ConfigurationError(
            "incidents have no CRS; set it (EPSG:4326 for longitude/latitude) before analysis"
        )
    arr = np.asarray(geoms.values, dtype=object)
    type_ids = shapely.get_type_id(arr)
    xy = shapely.get_coordinates(arr) if not (type_ids != 0).any() else None
    if xy is None or len(xy) != len(arr):  # a missing, empty or non-point geometry
        bad = np.flatnonzero((type_ids != 0) | shapely.is_empty(arr))
        ids = points["id"].to_numpy() if "id" in getattr(points, "columns", ()) else None
        problems = [
            FeatureProblem(
                index=int(i),
                feature_id=None if ids is None else str(ids[i]),
                field="geometry",
                value="missing" if arr[i] is None else str(arr[i])[:60],
                reason="not a point",
                fix="give each incident a Point geometry (longitude, latitude)",
            )
            for i in bad
        ]
        raise ValidationError(problems, summary="incidents without a point location")
    crs = CRS.from_user_input(geoms.crs)
    if crs.equals(settings.METRIC_CRS):
        return xy[:, 0].copy(), xy[:, 1].copy()
    x = np.ascontiguousarray(xy[:, 0])
    y = np.ascontiguousarray(xy[:, 1])
    del xy
    blocks = _projection_blocks(x.size)
    wkt = crs.to_wkt()

    def project_block(block: slice) -> None:
        # in place (no copies), one Transformer per thread: PROJ objects are not shared
        _metric_transformer(wkt).transform(x[block], y[block], inplace=True)

    if len(blocks) == 1:
        project_block(blocks[0])
        return x, y

    with ThreadPoolExecutor(max_workers=len(blocks)) as pool:
        list(pool.map(project_block, blocks))
    return x, y


#: Fewest points worth projecting in more than one thread.
_THREADED_FROM_POINTS = 200_000


def _projection_blocks(n: int) -> list[slice]:
    workers = min(os.cpu_count() or 1, 4) if n >= _THREADED_FROM_POINTS else 1
    edges = np.linspace(0, n, workers + 1).astype(int)
    return [slice(int(a), int(b)) for a, b in itertools.pairwise(edges)]


_thread_state = threading.local()


def _metric_transformer(crs_wkt: str) -> Transformer:
    cache = getattr(_thread_state, "transformers", None)
    if cache is None:
        cache = _thread_state.transformers = {}
    if crs_wkt not in cache:
        cache[crs_wkt] = Transformer.from_crs(
            CRS.from_wkt(crs_wkt), settings.METRIC_CRS, always_xy=True
        )
    return cache[crs_wkt]
