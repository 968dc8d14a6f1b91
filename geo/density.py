"""Weighted kernel density of incidents on the metric grid, and its GeoTIFF.

Method
------
1. Incidents are projected to :data:`~geo.settings.METRIC_CRS` and weighted
   with :func:`geo.weights.incident_weights` (type × damped magnitude ×
   optional recency).
2. Each weight is spread over the four cells around its point by linear
   (bilinear) binning, which keeps the mass and the centre of mass exactly.
3. The binned weights are convolved with the kernel, one precision class at a
   time (see Location precision), each class ``i`` with its own Gaussian
   standard deviation ``σᵢ`` in cells; zero is assumed beyond the grid's edges.

   - Gaussian, narrow classes (``4σᵢ`` of at most 24 cells): the class is binned
     onto the grid and smoothed by :func:`scipy.ndimage.gaussian_filter`
     (sampled kernel cut at ``4σᵢ``, normalised to sum to one).
   - Gaussian, wider classes: in the frequency domain, without a grid per
     class. Such a Gaussian is band-limited: its transfer function
     ``exp(-2π²σᵢ²f²)`` is below ``e⁻¹⁸`` for ``f > 0.955/σᵢ`` cycles per cell.
     The grid is taken as periodic, extended by ``6σ`` of the widest class (so
     a kernel wrapped around weighs at most ``e⁻¹⁸`` of its peak), and only the
     low-frequency block of each class's discrete Fourier transform is summed,
     straight from the binned corners: a sparse product with the cosines and
     sines of ``ky · row``, then a product with those of ``kx · column``
     (``kx ≥ 0`` only: the data are real). (A class with so many points that
     the sparse product would cost more is binned onto a grid first and the
     product made dense.) Each block is multiplied by its
     class's Gaussian transfer function and the blocks are added; one inverse
     transform (two matrix products, with the weights of a real array's
     Hermitian spectrum) gives the grid. Classes are taken in runs whose
     ``σ`` differ at most threefold, each run on a grid extended for its
     widest class, so that narrow classes need fewer frequencies. The result
     is the convolution with the untruncated sampled Gaussian to within
     ``e⁻¹⁸`` of a kernel's peak. (Before, these classes were convolved on
     full grids by FFT with the sampled kernel cut at ``4σᵢ`` and
     renormalised, which is 1.3e-4 of the peak too high inside the cut and
     ``e⁻⁸`` of it too low at the cut; :func:`_truncated_gaussian_density`
     keeps that engine as a reference.)
   - Quartic: each class is binned onto the grid and blurred by its
     location-precision Gaussian (:func:`scipy.ndimage.gaussian_filter`, or by
     FFT with the kernel cut at ``4σ`` when wide), then the sum is convolved
     with a sampled quartic (biweight) kernel by FFT
     (:func:`scipy.signal.fftconvolve`).

   Each kernel has unit mass, so the surface's mass equals the weighted count
   of the incidents on the grid, less what spreads past its edges. No sum over
   every point for every cell is ever made: the cost is that of binning (linear
   in incidents) plus, for the Gaussian, a filter over the grid per narrow class
   and, for the wider ones, sums linear in incidents and in the number of
   frequencies kept, and matrix products of the grid's size times that number.
4. Values are divided by the cell area: the units are
   :data:`~geo.settings.DENSITY_UNITS` (weighted incidents per km²).

Bandwidth
---------
``bandwidth_m`` is the Gaussian kernel's standard deviation, or the quartic
kernel's radius (its support, as in ArcGIS). The default rule is Silverman's
(equal to Scott's in two dimensions), ``h = sigma · n_eff^(-1/6)``, with
``sigma`` the root mean of the two axes' spreads, each the smaller of the
weighted standard deviation and the weighted interquartile range / 1.349
(robust to a few far-off incidents), and ``n_eff = (Σw)² / Σw²`` the
effective number of incidents. The result is clamped to
[:data:`~geo.settings.DENSITY_BANDWIDTH_MIN_M`,
:data:`~geo.settings.DENSITY_BANDWIDTH_MAX_M`]. For the quartic kernel the
default radius is ``√8 · h``: the quartic kernel of radius R has a standard
deviation of R/√8 on each axis, so both kernels then smooth alike.

Location precision
------------------
An incident whose position is known only to ``location_precision_m`` (R) lies
somewhere in a disc of radius R around its point. That uncertainty is
modelled as a Gaussian with the variance of a uniform disc, ``σ_loc = R/2``
per axis, and the incident's kernel is convolved with it: for the Gaussian
kernel the result is exactly a Gaussian of standard deviation
``sqrt(h² + σ_loc²)``; for the quartic kernel the binned incidents are
first blurred by ``σ_loc`` and then convolved with the quartic. A 30 km
incident therefore spreads its unchanged mass over some 15 km instead of
making a sharp peak. Incidents are grouped by precision (exact values when
there are at most 16 distinct ones, otherwise classes 9 % apart) and each
group is convolved once. A missing precision counts as
:data:`~geo.settings.DEFAULT_LOCATION_PRECISION_M`.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from affine import Affine
from pyproj import CRS
from scipy import ndimage, signal, sparse
from shapely.geometry.base import BaseGeometry

from geo import settings
from geo.errors import ConfigurationError, InsufficientDataError
from geo.grid import Grid, given_xy, project_points, region_grid
from geo.weights import incident_weights, location_precisions

logger = logging.getLogger(__name__)

__all__ = [
    "KERNELS",
    "DensitySurface",
    "bin_points",
    "compute_density",
    "estimate_bandwidth",
    "estimate_density",
    "evaluate_exact_density",
    "group_precisions",
    "read_geotiff",
]

#: Kernel names accepted by :func:`compute_density`.
KERNELS = ("gaussian", "quartic")
#: Ratio of the quartic kernel's radius to the Gaussian bandwidth that smooths alike.
QUARTIC_RADIUS_PER_SIGMA = math.sqrt(8.0)
#: Nodata value written to the GeoTIFF (never a density: densities are >= 0).
NODATA = -9999.0
#: Gaussian kernels are truncated at this many standard deviations.
_TRUNCATE = 4.0
#: Beyond this half-width (cells) a Gaussian is applied by FFT, not directly.
_FFT_FROM_CELLS = 24
#: Spectral Gaussian path: the periodic grid extends the grid by this many of the
#: widest class's standard deviations, so that wrapped-around kernels weigh at most
#: exp(-6²/2) = exp(-18) of their peak.
_WRAP_SIGMAS = 6.0
#: Spectral Gaussian path: frequencies where a class's Gaussian transfer function is
#: below this are left out of its sums.
_TRANSFER_FLOOR = math.exp(-18.0)
#: Spectral Gaussian path: classes are smoothed in runs whose widest standard deviation
#: is at most this many times the narrowest, each run on a grid padded for its widest.
_RUN_WIDTH_RATIO = 3.0
#: Spectral Gaussian path, in multiply-adds of a dense matrix product, as measured on 2
#: cores: the cost of one multiply-add of a sparse product, and that of binning a class
#: onto a grid, per cell. They choose between the sparse and the dense sums of a class
#: (the results are the same either way).
_SPARSE_MULTIPLY_ADD_COST = 15.0
_BINNING_COST_PER_CELL = 375.0
#: Most distinct precisions convolved separately before they are grouped.
_MAX_PRECISION_CLASSES = 16
#: Ratio between neighbouring precision classes when grouping is needed.
_CLASS_RATIO = 2 ** (1 / 8)


@dataclass
class DensitySurface:
    """A density surface on a north-up grid.

    Attributes
    ----------
    values
        2-D float32 array, row 0 north, in ``units``.
    transform
        Affine transform from (column, row) to (x, y) in ``crs``.
    crs
        The surface's CRS (:data:`~geo.settings.METRIC_CRS`).
    bandwidth_m
        Gaussian standard deviation or quartic radius, in metres.
    kernel
        ``"gaussian"`` or ``"quartic"``.
    units
        Units of ``values`` (:data:`~geo.settings.DENSITY_UNITS`).
    total_weight
        Weighted count of the incidents used (on and off the grid).
    n_incidents
        Number of incidents used.
    outside_weight
        Weight of incidents outside the grid, which the surface leaves out.
    bandwidth_rule
        ``"silverman"`` (the default rule, after clamping) or ``"user"``.
    precision_classes_m
        The location precisions (metres) convolved separately.
    half_life_days
        Recency half-life used, or ``None``.
    """

    values: np.ndarray
    transform: Affine
    crs: CRS
    bandwidth_m: float
    kernel: str
    units: str = settings.DENSITY_UNITS
    total_weight: float = 0.0
    n_incidents: int = 0
    outside_weight: float = 0.0
    bandwidth_rule: str = "user"
    precision_classes_m: tuple[float, ...] = ()
    half_life_days: float | None = None
    extra_tags: dict[str, str] = field(default_factory=dict)

    @property
    def grid(self) -> Grid:
        """The surface's :class:`~geo.grid.Grid` (square cells assumed)."""
        t = self.transform
        return Grid(x0=t.c, y0=t.f, cell_m=t.a, width=self.values.shape[1],
                    height=self.values.shape[0])  # fmt: skip

    @property
    def cell_area_km2(self) -> float:
        """Area of one cell in km²."""
        return abs(self.transform.a * self.transform.e) / 1e6

    @property
    def mass(self) -> float:
        """Weighted incidents on the grid: the sum of values times cell area."""
        return float(self.values.sum(dtype=np.float64) * self.cell_area_km2)

    def tags(self) -> dict[str, str]:
        """Return the metadata written to the GeoTIFF."""
        tags = {
            "units": self.units,
            "kernel": self.kernel,
            "bandwidth_m": repr(float(self.bandwidth_m)),
            "bandwidth_rule": self.bandwidth_rule,
            "total_weight": repr(float(self.total_weight)),
            "n_incidents": str(int(self.n_incidents)),
            "outside_weight": repr(float(self.outside_weight)),
            "precision_classes_m": ",".join(repr(float(p)) for p in self.precision_classes_m),
            "half_life_days": (
                "" if self.half_life_days is None else repr(float(self.half_life_days))
            ),
            "software": "border-monitor geo.density",
        }
        tags.update(self.extra_tags)
        return tags

    def to_geotiff(self, path: str | os.PathLike[str]) -> None:
        """Write the surface as a Cloud-Optimised GeoTIFF.

        Tiled 512×512, DEFLATE with the floating-point predictor, internal
        overviews averaged (the mean density of the cells they cover), the CRS,
        nodata :data:`NODATA` and the metadata of :meth:`tags` (units included,
        also as the band's unit).

        Parameters
        ----------
        path
            Destination ``.tif`` file; replaced if it exists.
        """
        import rasterio
        import rasterio.crs
        import rasterio.shutil
        from rasterio.io import MemoryFile

        folder = os.path.dirname(os.path.abspath(os.fspath(path)))
        if not os.path.isdir(folder):
            raise ConfigurationError(
                f"cannot write the density GeoTIFF {os.fspath(path)!r}: folder {folder!r} "
                "does not exist; create it first"
            )
        values = np.asarray(self.values, dtype=np.float32)
        profile = {
            "driver": "GTiff",
            "height": values.shape[0],
            "width": values.shape[1],
            "count": 1,
            "dtype": "float32",
            "crs": rasterio.crs.CRS.from_wkt(self.crs.to_wkt()),
            "transform": self.transform,
            "nodata": NODATA,
        }
        try:
            with MemoryFile() as memfile:
                with memfile.open(**profile) as dataset:
                    dataset.write(values, 1)
                    dataset.update_tags(**self.tags())
                    dataset.set_band_description(1, "incident density")
                    dataset.set_band_unit(1, self.units)
                with memfile.open() as source:
                    rasterio.shutil.copy(
                        source,
                        os.fspath(path),
                        driver="COG",
                        COMPRESS="DEFLATE",
                        PREDICTOR="YES",
                        BLOCKSIZE=512,
                        OVERVIEW_RESAMPLING="AVERAGE",
                        BIGTIFF="IF_SAFER",
                    )
        except (rasterio.errors.RasterioError, OSError) as exc:
            raise ConfigurationError(
                f"cannot write the density GeoTIFF {os.fspath(path)!r}: {exc}; "
                "check that the folder exists and is writable"
            ) from exc


def read_geotiff(path: str | os.PathLike[str]) -> DensitySurface:
    """Read a density surface written by :meth:`DensitySurface.to_geotiff`.

    Parameters
    ----------
    path
        A GeoTIFF file.
    """
    import rasterio

    try:
        with rasterio.open(path) as src:
            values = src.read(1)
            tags = src.tags()
            transform = src.transform
            crs = CRS.from_wkt(src.crs.to_wkt()) if src.crs else None
    except rasterio.errors.RasterioIOError as exc:
        raise ConfigurationError(
            f"cannot read the density GeoTIFF {os.fspath(path)!r}: {exc}"
        ) from exc
    known = {
        "units", "kernel", "bandwidth_m", "bandwidth_rule", "total_weight", "n_incidents",
        "outside_weight", "precision_classes_m", "half_life_days", "software",
    }  # fmt: skip

    def number(name: str, default: float = math.nan) -> float:
        try:
            return float(tags[name])
        except (KeyError, ValueError):
            return default

    classes = tags.get("precision_classes_m", "")
    half_life = tags.get("half_life_days", "")
    return DensitySurface(
        values=values,
        transform=transform,
        crs=crs,
        bandwidth_m=number("bandwidth_m"),
        kernel=tags.get("kernel", "unknown"),
        units=tags.get("units", "unknown"),
        total_weight=number("total_weight"),
        n_incidents=int(number("n_incidents", 0)),
        outside_weight=number("outside_weight", 0.0),
        bandwidth_rule=tags.get("bandwidth_rule", "unknown"),
        precision_classes_m=tuple(float(p) for p in classes.split(",") if p),
        half_life_days=float(half_life) if half_life else None,
        extra_tags={k: v for k, v in tags.items() if k not in known and k != "AREA_OR_POINT"},
    )


def _weighted_quartiles(values: np.ndarray, weights: np.ndarray, total: float) -> np.ndarray:
    """Return the weighted first and third quartiles of ``values`` (weights all positive).

    The quantile interpolates linearly in the cumulative weight of the sorted
    values. With all weights equal the cumulative weight in sorted order is the
    plain cumulative sum, so only the four order statistics that bracket the two
    quartiles are needed: :func:`numpy.partition` finds them exactly (the same
    numbers as a full sort) at a fraction of an argsort's cost. Otherwise one
    argsort orders the values and their weights.
    """
    targets = np.array([0.25 * total, 0.75 * total])
    if weights.min() == weights.max():
        cum = np.cumsum(weights)
        # cum[j - 1] <= target < cum[j]: the pair np.interp interpolates between
        above = np.searchsorted(cum, targets, side="right")
        ranks = np.unique(np.clip(np.concatenate([above - 1, above]), 0, values.size - 1))
        ordered = np.partition(values, ranks)
        return np.interp(targets, cum[ranks], ordered[ranks])
    if values.size >= _BUCKETED_FROM:
        found = _bucketed_quantiles(values, weights, targets)
        if found is not None:
            return found
    order = np.argsort(values)
    return np.interp(targets, np.cumsum(weights[order]), values[order])


#: Fewest values for which weighted quantiles are found through buckets, not a full sort.
_BUCKETED_FROM = 20_000
_BUCKETS = 4096


def _bucketed_quantiles(
    values: np.ndarray, weights: np.ndarray, targets: np.ndarray
) -> np.ndarray | None:
    """Weighted quantiles (cumulative weights ``targets``) sorting only a few buckets.

    The values are cut into equal-width buckets and their weights summed per
    bucket; the bucket holding each target, with one neighbour on each side, is
    sorted and the target interpolated there exactly as over the full sort, with
    the cumulative weight starting from the weight of the buckets below. The
    result equals the full sort's up to the rounding of that sum (about 1e-15
    relative). ``None`` when a target does not fall strictly inside the sorted
    window (empty neighbours, a target before the first value): the caller then
    sorts everything.
    """
    lo = float(values.min())
    hi = float(values.max())
    if not hi > lo:
        return None
    bucket = ((values - lo) * (_BUCKETS / (hi - lo))).astype(np.int64)
    np.minimum(bucket, _BUCKETS - 1, out=bucket)
    below = np.concatenate([[0.0], np.cumsum(np.bincount(bucket, weights, minlength=_BUCKETS))])
    result = np.empty(targets.size)
    for i, target in enumerate(targets):
        k = int(np.searchsorted(below[1:], target, side="right"))
        first, last = max(k - 1, 0), min(k + 1, _BUCKETS - 1)
        members = np.flatnonzero((bucket >= first) & (bucket <= last))
        order = np.argsort(values[members])
        local_values = values[members][order]
        cum = below[first] + np.cumsum(weights[members][order])
        j = int(np.searchsorted(cum, target, side="right"))
        if not 1 <= j < cum.size:
            return None
        result[i] = np.interp(target, cum[j - 1 : j + 1], local_values[j - 1 : j + 1])
    return result


def _weighted_spread(values: np.ndarray, weights: np.ndarray) -> float:
    total = weights.sum()
    mean = np.dot(weights, values) / total
    std = math.sqrt(max(float(np.dot(weights, (values - mean) ** 2) / total), 0.0))
    q1, q3 = _weighted_quartiles(values, weights, total)
    iqr = (q3 - q1) / 1.349
    return min(std, iqr) if iqr > 0 else std


def estimate_bandwidth(
    x: np.ndarray,
    y: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    min_m: float = settings.DENSITY_BANDWIDTH_MIN_M,
    max_m: float = settings.DENSITY_BANDWIDTH_MAX_M,
) -> float:
    """Return the default bandwidth (metres): Silverman's rule, clamped.

    ``h = sigma · n_eff^(-1/6)`` (see the module's notes), clamped to
    ``[min_m, max_m]``. With fewer than two effective incidents the spread is
    unknown and ``max_m`` is returned (the smoothest, the least claim).

    Parameters
    ----------
    x, y
        Metric coordinates in metres.
    weights
        Incident weights (default all one).
    min_m, max_m
        Floor and ceiling of the result in metres.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = w > 0
    x, y, w = x[keep], y[keep], w[keep]
    if w.size == 0:
        return float(max_m)
    n_eff = w.sum() ** 2 / np.dot(w, w)
    if n_eff < 2:
        return float(max_m)
    sigma = math.sqrt((_weighted_spread(x, w) ** 2 + _weighted_spread(y, w) ** 2) / 2)
    h = sigma * n_eff ** (-1 / 6)
    return float(min(max(h, min_m), max_m))


class _LinearBinning(NamedTuple):
    """The four cells around each point inside a grid and the point's share of each.

    Attributes
    ----------
    row0, row1, col0, col1
        Rows and columns of the cells whose centres surround each point
        (clamped to the edge cells).
    frac_row, frac_col
        The point's fractional offset from ``(row0, col0)`` towards ``(row1, col1)``.
    weights
        Weight of each point.
    inside
        Mask of the points inside the grid, over all the points given.
    outside_weight
        Total weight of the points outside the grid.
    """

    row0: np.ndarray
    row1: np.ndarray
    col0: np.ndarray
    col1: np.ndarray
    frac_row: np.ndarray
    frac_col: np.ndarray
    weights: np.ndarray
    inside: np.ndarray
    outside_weight: float

    def corners(self) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Return ``(rows, cols, weights)`` of the four corners of every point."""
        w, fr, fc = self.weights, self.frac_row, self.frac_col
        return [
            (self.row0, self.col0, w * (1 - fr) * (1 - fc)),
            (self.row0, self.col1, w * (1 - fr) * fc),
            (self.row1, self.col0, w * fr * (1 - fc)),
            (self.row1, self.col1, w * fr * fc),
        ]

    def take(self, keep: np.ndarray | slice) -> _LinearBinning:
        """Return the binning of the points (among those inside) selected by ``keep``."""
        arrays = (self.row0, self.row1, self.col0, self.col1, self.frac_row, self.frac_col)
        return _LinearBinning(
            *(a[keep] for a in arrays), self.weights[keep], self.inside, self.outside_weight
        )


def _linear_binning(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, grid: Grid
) -> _LinearBinning:
    """Return the linear binning of weighted points on ``grid`` (see :func:`bin_points`)."""
    row, col = grid.fractional_index(x, y)
    w = np.asarray(weights, dtype=float)
    inside = (row >= -0.5) & (row <= grid.height - 0.5) & (col >= -0.5) & (col <= grid.width - 0.5)
    outside_weight = float(w[~inside].sum())
    if not inside.all():
        row, col, w = row[inside], col[inside], w[inside]
    r0 = np.floor(row)
    c0 = np.floor(col)
    fr = row - r0
    fc = col - c0
    r0 = r0.astype(np.int64)
    c0 = c0.astype(np.int64)
    r1 = np.minimum(r0 + 1, grid.height - 1)
    c1 = np.minimum(c0 + 1, grid.width - 1)
    np.maximum(r0, 0, out=r0)
    np.maximum(c0, 0, out=c0)
    return _LinearBinning(r0, r1, c0, c1, fr, fc, w, inside, outside_weight)


def _binned_grid(binning: _LinearBinning, grid: Grid) -> np.ndarray:
    """Return the ``(height, width)`` grid of weight per cell of a linear binning."""
    size = grid.height * grid.width
    binned = None
    for rows, cols, shares in binning.corners():
        counts = np.bincount(rows * grid.width + cols, shares, minlength=size)
        if binned is None:
            binned = counts
        else:
            binned += counts
    return binned.reshape(grid.shape)


def bin_points(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, grid: Grid
) -> tuple[np.ndarray, float]:
    """Spread weighted points over the grid by linear binning.

    Each point's weight goes to the four cells whose centres surround it, in
    proportion to the overlap of a cell-sized square centred on the point; a
    point on a cell centre goes wholly to that cell. Points within the grid's
    outer edge but beyond the outermost centres go to the edge cells.

    Parameters
    ----------
    x, y
        Metric coordinates in metres.
    weights
        Weight of each point.
    grid
        The grid.

    Returns
    -------
    binned
        ``(height, width)`` float64 array of weight per cell.
    outside_weight
        Total weight of the points outside the grid (left out).
    """
    binning = _linear_binning(x, y, weights, grid)
    return _binned_grid(binning, grid), binning.outside_weight


def _gaussian_1d(sigma_cells: float) -> np.ndarray:
    radius = math.ceil(_TRUNCATE * sigma_cells)
    offsets = np.arange(-radius, radius + 1, dtype=float)
    kernel = np.exp(-0.5 * (offsets / sigma_cells) ** 2)
    return kernel / kernel.sum()


def _gaussian_smooth(array: np.ndarray, sigma_cells: float) -> np.ndarray:
    """Convolve with a normalised sampled Gaussian; zero beyond the edges."""
    if sigma_cells <= 0:
        return array
    if _TRUNCATE * sigma_cells <= _FFT_FROM_CELLS:
        return ndimage.gaussian_filter(array, sigma_cells, mode="constant", truncate=_TRUNCATE)
    kernel = _gaussian_1d(sigma_cells)
    out = signal.fftconvolve(array, kernel[np.newaxis, :], mode="same", axes=1)
    return signal.fftconvolve(out, kernel[:, np.newaxis], mode="same", axes=0)


def _gaussian_transfer(sigma_cells: float, k_max: int, period: int) -> np.ndarray:
    """Return the Gaussian's transfer function at frequencies ``0 .. k_max`` (cycles per period)."""
    k = np.arange(k_max + 1, dtype=float) / period
    return np.exp(-2.0 * math.pi**2 * sigma_cells**2 * k**2)


def _fourier_basis(n: int, k_max: int, period: int) -> np.ndarray:
    """Return ``cos`` and ``sin`` of ``2π·j·k / period`` as an ``(n, 2, k_max + 1)`` array."""
    phase = np.outer(np.arange(n), np.arange(k_max + 1)) % period
    turn = (2.0 * math.pi / period) * np.arange(period)
    basis = np.empty((n, 2, k_max + 1))
    basis[:, 0] = np.cos(turn)[phase]
    basis[:, 1] = np.sin(turn)[phase]
    return basis


class _Run(NamedTuple):
    """Classes of similar width smoothed together on one periodic grid.

    Attributes
    ----------
    members
        The classes of the run.
    period_y, period_x
        The periodic grid's size: the grid extended by ``_WRAP_SIGMAS`` of the run's widest class.
    k_y, k_x
        Highest frequency kept for each class (indexed by class, over all classes).
    """

    members: np.ndarray
    period_y: int
    period_x: int
    k_y: np.ndarray
    k_x: np.ndarray


def _plan_runs(sigmas: np.ndarray, grid: Grid) -> list[_Run]:
    """Split classes into runs of similar width (``σ`` within ``_RUN_WIDTH_RATIO``)."""
    ny, nx = grid.shape
    # the transfer exp(-2π²σ²f²) is below the floor beyond f = cut / σ (cycles per cell)
    cut = math.sqrt(-math.log(_TRANSFER_FLOOR) / 2.0) / math.pi
    by_width = np.argsort(sigmas, kind="stable")
    runs = []
    first = 0
    for last in range(1, by_width.size + 1):
        if (
            last < by_width.size
            and sigmas[by_width[last]] <= _RUN_WIDTH_RATIO * sigmas[by_width[first]]
        ):
            continue
        members = by_width[first:last]
        pad = math.ceil(_WRAP_SIGMAS * float(sigmas[members].max()))
        period_y, period_x = ny + pad, nx + pad
        k_y = np.minimum(np.ceil(cut * period_y / sigmas).astype(int), (period_y - 1) // 2)
        k_x = np.minimum(np.ceil(cut * period_x / sigmas).astype(int), (period_x - 1) // 2)
        runs.append(_Run(members, period_y, period_x, k_y, k_x))
        first = last
    return runs


class _SortedPoints(NamedTuple):
    """Points sorted by (class, left column) as the parts of a CSR matrix.

    Entry ``2·p`` holds point ``p``'s share in ``row0``, ``2·p + 1`` its share in ``row1``.

    Attributes
    ----------
    indptr
        Start of the entries of each (class, left column) pair, as in CSR.
    rows
        Grid row of each entry.
    left, right
        Each entry's weight in the left column and in the column to its right.
    """

    indptr: np.ndarray
    rows: np.ndarray
    left: np.ndarray
    right: np.ndarray


def _sort_points(
    binning: _LinearBinning, index: np.ndarray, n_classes: int, grid: Grid
) -> _SortedPoints:
    """Sort points by (class ``index``, left column) for the sparse sums of their classes."""
    nx = grid.width
    # A point's weight goes to its left column (share_left) and to the next one
    # (share_right), both split between row0 and row1. At the edge columns the two are
    # one cell: all goes to the left.
    w, fr, fc = binning.weights, binning.frac_row, binning.frac_col
    one_column = binning.col1 == binning.col0
    share_left = w * np.where(one_column, 1.0, 1.0 - fc)
    share_right = w * np.where(one_column, 0.0, fc)
    keys = index * nx + binning.col0
    n_keys = n_classes * nx
    order = np.argsort(keys.astype(np.uint16) if n_keys <= 2**16 else keys, kind="stable")
    indptr = np.zeros(n_keys + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_keys), out=indptr[1:])
    split = np.column_stack([1.0 - fr[order], fr[order]])
    return _SortedPoints(
        indptr=2 * indptr,  # two entries (row0, row1) a point
        rows=np.column_stack([binning.row0[order], binning.row1[order]]).astype(np.int32).ravel(),
        left=(split * share_left[order, np.newaxis]).ravel(),
        right=(split * share_right[order, np.newaxis]).ravel(),
    )


def _sparse_sums(
    points: _SortedPoints, i: int, basis: np.ndarray, grid: Grid
) -> tuple[np.ndarray, np.ndarray]:
    """Return the columns holding weight of class ``i`` and their sums against ``basis``.

    ``basis`` is an ``(height, m)`` array of functions of the row; the sums are
    ``Σ_rows Bᵢ[row, column] · basis[row]``, one ``m``-vector for each column, from
    the sorted points, without a grid. The columns may include ``width`` (of weight 0).
    """
    ny, nx = grid.shape
    class_ptr = points.indptr[i * nx : (i + 1) * nx + 1]
    columns = np.flatnonzero(np.diff(class_ptr))  # left columns of the points of class i
    start, stop = class_ptr[0], class_ptr[-1]
    ptr = np.append(class_ptr[columns], stop) - start
    # Bᵢᵀ: the left shares by left column, then the right shares by the same
    class_t = sparse.csr_matrix(
        (
            np.concatenate([points.left[start:stop], points.right[start:stop]]),
            np.concatenate([points.rows[start:stop], points.rows[start:stop]]),
            np.concatenate([ptr, ptr[1:] + (stop - start)]),
        ),
        shape=(2 * columns.size, ny),
    )
    sums = class_t @ basis
    at = np.union1d(columns, columns + 1)
    by_column = np.zeros((at.size, basis.shape[1]))
    by_column[np.searchsorted(at, columns)] = sums[: columns.size]
    by_column[np.searchsorted(at, columns + 1)] += sums[columns.size :]
    return at, by_column


def _spectral_gaussian_sum(
    binning: _LinearBinning, classes: np.ndarray, sigmas_cells: np.ndarray, grid: Grid
) -> np.ndarray:
    """Return the sum over classes of each class's binned points convolved with its Gaussian.

    Computed in the frequency domain: see the module's notes (Method, step 3).
    For classes more than ``_FFT_FROM_CELLS / _TRUNCATE`` cells wide, whose
    Gaussians are band-limited well within the grid's Nyquist frequency. A
    class's low-frequency sums are taken from its sorted points (a sparse
    product), or, for a class with so many points that this costs more than
    binning it, from its binned grid (a dense product).

    Parameters
    ----------
    binning
        The linear binning of the points.
    classes
        Class of each point of ``binning``, an index into ``sigmas_cells``.
    sigmas_cells
        Gaussian standard deviation of each class, in cells.
    grid
        The grid.

    Returns
    -------
    numpy.ndarray
        ``(height, width)`` float64 array of smoothed weight per cell.
    """
    ny, nx = grid.shape
    counts = np.bincount(classes, minlength=len(sigmas_cells))
    used = np.flatnonzero(counts)
    index = (np.cumsum(counts > 0) - 1)[classes]
    counts = counts[used]
    sigmas = np.asarray(sigmas_cells, dtype=float)[used]
    if used.size > 1:  # the points in class order (a radix sort), each class a slice
        order = np.argsort(index.astype(np.uint16) if used.size <= 2**16 else index, kind="stable")
        binning, index = binning.take(order), index[order]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    runs = _plan_runs(sigmas, grid)
    # dense for a class whose sparse product (4 entries a point, 2·(k_y + 1) sums each)
    # would cost more than binning it and a dense product
    dense = np.zeros(used.size, dtype=bool)
    for run in runs:
        sums = 2.0 * (run.k_y[run.members] + 1)
        sparse_cost = 4 * counts[run.members] * sums * _SPARSE_MULTIPLY_ADD_COST
        dense[run.members] = sparse_cost > ny * nx * (sums + _BINNING_COST_PER_CELL)
    if dense.any():
        on_points = ~dense[index]
        points = _sort_points(binning.take(on_points), index[on_points], used.size, grid)
    else:
        points = _sort_points(binning, index, used.size, grid)

    factors = []
    for run in runs:
        basis_y = _fourier_basis(ny, int(run.k_y[run.members].max()), run.period_y)
        basis_x = _fourier_basis(nx + 1, int(run.k_x[run.members].max()), run.period_x)
        # spectrum[a, kx, b, ky]: Σᵢ Hᵢ(kx, ky) Σ_cells Bᵢ · (cos, sin)_a(kx·x) · (cos, sin)_b(ky·y)
        spectrum = np.zeros(basis_x.shape[1:] + basis_y.shape[1:])
        for i in run.members:
            ky, kx = int(run.k_y[i]), int(run.k_x[i])
            rows_basis = basis_y[:, :, : ky + 1].reshape(ny, -1)
            if dense[i]:
                part = binning.take(slice(bounds[i], bounds[i + 1]))
                at, by_column = np.arange(nx), _binned_grid(part, grid).T @ rows_basis
            else:
                at, by_column = _sparse_sums(points, i, rows_basis, grid)
            block = basis_x[at, :, : kx + 1].reshape(at.size, -1).T @ by_column
            block = block.reshape(2, kx + 1, 2, ky + 1)
            block *= _gaussian_transfer(sigmas[i], kx, run.period_x)[:, np.newaxis, np.newaxis]
            block *= _gaussian_transfer(sigmas[i], ky, run.period_y)
            spectrum[:, : kx + 1, :, : ky + 1] += block
        # a real array from its cosine and sine sums: f = Σ w_k (C cos + S sin) / N along
        # each axis, w_0 = 1 and w_k = 2 for 0 < k < N / 2
        spectrum[:, 1:] *= 2.0
        spectrum[:, :, :, 1:] *= 2.0
        spectrum /= run.period_x * run.period_y
        k_x2, k_y2 = spectrum.shape[0] * spectrum.shape[1], spectrum.shape[2] * spectrum.shape[3]
        along_x = basis_x[:nx].reshape(nx, k_x2) @ spectrum.reshape(k_x2, k_y2)
        factors.append((basis_y.reshape(ny, k_y2), along_x))
    # the surface: Σ_runs basis_y @ along_xᵀ, as one product
    return np.hstack([f[0] for f in factors]) @ np.hstack([f[1] for f in factors]).T


def _smooth_gaussian_classes(
    binning: _LinearBinning, classes: np.ndarray, sigmas_cells: np.ndarray, grid: Grid
) -> np.ndarray:
    """Return the sum over classes of each class's binned points convolved with its Gaussian.

    Narrow classes (half-width ``_TRUNCATE · σ`` of at most ``_FFT_FROM_CELLS``
    cells) are binned onto a grid and smoothed by
    :func:`scipy.ndimage.gaussian_filter`; the others together in the frequency
    domain (:func:`_spectral_gaussian_sum`).

    Parameters
    ----------
    binning
        The linear binning of the points.
    classes
        Class of each point of ``binning``, an index into ``sigmas_cells``.
    sigmas_cells
        Gaussian standard deviation of each class, in cells (all positive).
    grid
        The grid.
    """
    narrow = _TRUNCATE * np.asarray(sigmas_cells) <= _FFT_FROM_CELLS
    total = None
    for code in np.flatnonzero(narrow):
        members = classes == code
        if not members.any():
            continue
        part = binning if members.all() else binning.take(members)
        smoothed = _gaussian_smooth(_binned_grid(part, grid), sigmas_cells[code])
        total = smoothed if total is None else total + smoothed
    wide = ~narrow[classes]
    if wide.any():
        part, part_classes = (
            (binning, classes) if wide.all() else (binning.take(wide), classes[wide])
        )
        spectral = _spectral_gaussian_sum(part, part_classes, sigmas_cells, grid)
        total = spectral if total is None else total + spectral
    return np.zeros(grid.shape) if total is None else total


def _quartic_2d(radius_cells: float) -> np.ndarray:
    r = math.floor(radius_cells)
    offsets = np.arange(-r, r + 1, dtype=float)
    d2 = (offsets[np.newaxis, :] ** 2 + offsets[:, np.newaxis] ** 2) / radius_cells**2
    kernel = np.where(d2 < 1.0, (1.0 - d2) ** 2, 0.0)
    return kernel / kernel.sum()


def group_precisions(values_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group location precisions (or sigmas) into a few classes.

    Exact values when there are at most 16 distinct ones; otherwise classes
    on a logarithmic scale 9 % apart (a value of at most 1 m becomes 0).

    Parameters
    ----------
    values_m
        One precision (metres) per incident.

    Returns
    -------
    codes
        Class index of each incident.
    classes
        The value (metres) of each class.
    """
    distinct = np.unique(values_m)
    if distinct.size <= _MAX_PRECISION_CLASSES:
        codes = np.searchsorted(distinct, values_m)
        return codes, distinct
    positive = np.maximum(values_m, 1.0)
    levels = np.round(np.log(positive) / math.log(_CLASS_RATIO))
    distinct_levels, codes = np.unique(levels, return_inverse=True)
    values = np.exp(distinct_levels * math.log(_CLASS_RATIO))
    values[distinct_levels == 0] = 0.0  # sigma of at most 1 m: no widening
    return codes, values


def _precision_classes(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, precision_m: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return the points as float arrays, each one's precision class and the classes' σ.

    ``σ_loc = R / 2`` per axis for a precision ``R`` (the module's notes), grouped by
    :func:`group_precisions`; one class of σ 0 for exact points (``precision_m=None``).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    weights = np.asarray(weights, dtype=float)
    if precision_m is None:
        return x, y, weights, np.zeros(x.size, dtype=np.int64), np.zeros(1)
    codes, sigma_classes = group_precisions(np.asarray(precision_m, dtype=float) / 2.0)
    return x, y, weights, codes, sigma_classes


def estimate_density(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    grid: Grid,
    *,
    bandwidth_m: float,
    kernel: str = "gaussian",
    precision_m: np.ndarray | None = None,
) -> tuple[np.ndarray, float, tuple[float, ...]]:
    """Return the density (per km²) of weighted metric points on ``grid``.

    The engine under :func:`compute_density`: binning and convolution, with
    the location-precision widening of the module's notes.

    Parameters
    ----------
    x, y
        Metric coordinates in metres.
    weights
        Weight of each point.
    grid
        The grid.
    bandwidth_m
        Gaussian standard deviation or quartic radius, in metres.
    kernel
        ``"gaussian"`` or ``"quartic"``.
    precision_m
        Location precision (radius, metres) of each point; ``None`` for exact points.

    Returns
    -------
    values
        ``(height, width)`` float64 array of weighted points per km².
    outside_weight
        Weight of the points outside the grid.
    precision_classes_m
        The precisions (metres, ``2 · σ_loc``) convolved separately.
    """
    if kernel not in KERNELS:
        raise ConfigurationError(f"kernel={kernel!r} is unknown; use one of {', '.join(KERNELS)}")
    if not (math.isfinite(bandwidth_m) and bandwidth_m >= grid.cell_m):
        raise ConfigurationError(
            f"bandwidth {bandwidth_m!r} m is smaller than the {grid.cell_m:g} m cells; "
            f"give a bandwidth of at least {grid.cell_m:g} m or smaller cells"
        )
    x, y, weights, codes, sigma_classes = _precision_classes(x, y, weights, precision_m)
    h_cells = bandwidth_m / grid.cell_m
    if kernel == "gaussian":
        binning = _linear_binning(x, y, weights, grid)
        sigmas_cells = np.hypot(h_cells, sigma_classes / grid.cell_m)
        total = _smooth_gaussian_classes(binning, codes[binning.inside], sigmas_cells, grid)
        outside = binning.outside_weight
    else:
        total = np.zeros(grid.shape)
        outside = 0.0
        for code, sigma_m in enumerate(sigma_classes):
            members = codes == code
            if sigma_classes.size > 1 and not members.any():
                continue
            if sigma_classes.size == 1:
                binned, out_w = bin_points(x, y, weights, grid)
            else:
                binned, out_w = bin_points(x[members], y[members], weights[members], grid)
            outside += out_w
            s_cells = sigma_m / grid.cell_m
            total += _gaussian_smooth(binned, s_cells) if s_cells >= 0.25 else binned
        total = signal.fftconvolve(total, _quartic_2d(h_cells), mode="same")
    np.maximum(total, 0.0, out=total)  # FFT round-off can leave -1e-17
    total /= grid.cell_area_km2
    return total, outside, tuple(float(2.0 * s) for s in sigma_classes)


def _truncated_gaussian_density(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    grid: Grid,
    *,
    bandwidth_m: float,
    precision_m: np.ndarray | None = None,
) -> np.ndarray:
    """Return the Gaussian density (per km²) by the former engine: a reference for tests.

    Each precision class is binned onto a full grid and convolved with a sampled
    Gaussian cut at :data:`_TRUNCATE` standard deviations and normalised to sum
    to one (:func:`_gaussian_smooth`). Kept to compare :func:`estimate_density`
    with it and to time both; slow (a full-grid convolution per class).

    Parameters
    ----------
    x, y, weights
        Incidents (metres) and their weights.
    grid
        The grid.
    bandwidth_m
        Gaussian standard deviation in metres.
    precision_m
        Location precision (metres) of each incident; ``None`` for exact points.
    """
    x, y, weights, codes, sigma_classes = _precision_classes(x, y, weights, precision_m)
    h_cells = bandwidth_m / grid.cell_m
    total = np.zeros(grid.shape)
    for code, sigma_m in enumerate(sigma_classes):
        members = codes == code
        if not members.any():
            continue
        binned, _ = bin_points(x[members], y[members], weights[members], grid)
        total += _gaussian_smooth(binned, math.hypot(h_cells, sigma_m / grid.cell_m))
    np.maximum(total, 0.0, out=total)
    total /= grid.cell_area_km2
    return total


def evaluate_exact_density(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    px: np.ndarray,
    py: np.ndarray,
    *,
    bandwidth_m: float,
    kernel: str = "gaussian",
    precision_m: np.ndarray | None = None,
    chunk: int = 2_000_000,
) -> np.ndarray:
    """Return the exact kernel sum (per km²) at points ``px, py``: a reference for tests.

    A direct sum over every incident for every evaluation point, ``O(N·M)``:
    for checking :func:`estimate_density` on small cases, never for production.
    With ``precision_m`` the Gaussian kernel's variance is ``h² + (R/2)²``
    (the quartic kernel has no closed form then and is refused).

    Parameters
    ----------
    x, y, weights
        Incidents (metres) and their weights.
    px, py
        Evaluation points (metres), any shape.
    bandwidth_m
        Gaussian standard deviation or quartic radius, in metres.
    kernel
        ``"gaussian"`` or ``"quartic"``.
    precision_m
        Location precision (metres) of each incident, Gaussian kernel only.
    chunk
        Largest number of incident × point pairs computed at once.
    """
    shape = np.shape(px)
    qx = np.ravel(px).astype(float)
    qy = np.ravel(py).astype(float)
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    w = np.asarray(weights, dtype=float)
    if kernel == "gaussian":
        var = np.full(x.size, float(bandwidth_m) ** 2)
        if precision_m is not None:
            var = var + (np.asarray(precision_m, dtype=float) / 2) ** 2
    elif precision_m is not None:
        raise ConfigurationError("the exact quartic sum has no location-precision widening")
    out = np.zeros(qx.size)
    step = max(1, chunk // max(1, qx.size))
    for start in range(0, x.size, step):
        sl = slice(start, start + step)
        d2 = (qx[:, None] - x[None, sl]) ** 2 + (qy[:, None] - y[None, sl]) ** 2
        if kernel == "gaussian":
            k = np.exp(-0.5 * d2 / var[None, sl]) / (2 * math.pi * var[None, sl])
        else:
            u = d2 / bandwidth_m**2
            k = np.where(u < 1, 3 / (math.pi * bandwidth_m**2) * (1 - u) ** 2, 0.0)
        out += k @ w[sl]
    return (out * 1e6).reshape(shape)


def compute_density(
    incidents: pd.DataFrame,
    *,
    grid: Grid | None = None,
    line: BaseGeometry | None = None,
    cell_m: float = settings.DENSITY_CELL_M,
    bandwidth_m: float | None = None,
    kernel: str = settings.DENSITY_KERNEL,
    half_life_days: float | None = settings.HALF_LIFE_DAYS,
    reference_date: dt.date | str | pd.Timestamp | None = None,
    type_weights: Mapping[str, float] | None = None,
    weights: np.ndarray | None = None,
    widen_by_precision: bool = True,
    xy: tuple[np.ndarray, np.ndarray] | None = None,
) -> DensitySurface:
    """Return the weighted kernel density of incidents on the region's grid.

    Parameters
    ----------
    incidents
        Incidents (GeoDataFrame of points, EPSG:4326) with the schema's
        columns (``type``; ``date`` with a half-life; ``quantity``,
        ``fatalities`` and ``location_precision_m`` when present).
    grid
        Grid to estimate on; default :func:`geo.grid.region_grid` around ``line``
        with ``cell_m``.
    line
        The border line (EPSG:4326); needed when ``grid`` is not given.
    cell_m
        Cell size in metres when ``grid`` is not given.
    bandwidth_m
        Gaussian standard deviation or quartic radius in metres; default the
        clamped Silverman rule (see the module's notes).
    kernel
        ``"gaussian"`` or ``"quartic"``.
    half_life_days
        Recency half-life in days; ``None`` for no decay.
    reference_date
        Day from which ages are counted; default the latest incident's date.
    type_weights
        Weights overriding :data:`~geo.settings.TYPE_WEIGHTS`.
    weights
        Precomputed weights, one per incident, instead of
        :func:`geo.weights.incident_weights`.
    widen_by_precision
        Whether to widen each kernel by the incident's location precision (default ``True``).
    xy
        The incidents' metric coordinates (:func:`geo.grid.project_points`) when
        already known; default: projected here.

    Raises
    ------
    InsufficientDataError
        If there is no incident, or their total weight is zero.
    ConfigurationError
        For an unknown kernel or a bandwidth smaller than a cell.
    """
    if kernel not in KERNELS:
        raise ConfigurationError(f"kernel={kernel!r} is unknown; use one of {', '.join(KERNELS)}")
    if bandwidth_m is not None and not (math.isfinite(bandwidth_m) and bandwidth_m > 0):
        raise ConfigurationError(
            f"bandwidth_m={bandwidth_m!r} must be a positive number of metres, or None "
            "for the default rule"
        )
    if len(incidents) == 0:
        raise InsufficientDataError(
            "no incidents to estimate a density from; widen the date range or the types"
        )
    if weights is None:
        weights = incident_weights(
            incidents,
            type_weights=type_weights,
            half_life_days=half_life_days,
            reference_date=reference_date,
        )
    else:
        weights = np.asarray(weights, dtype=float)
        if weights.shape != (len(incidents),) or not np.all(np.isfinite(weights) & (weights >= 0)):
            raise ConfigurationError(
                f"weights must be {len(incidents)} finite numbers, zero or more (one per incident)"
            )
    total_weight = float(weights.sum())
    if total_weight <= 0:
        raise InsufficientDataError(
            f"the {len(incidents)} incidents all weigh zero; check type_weights and the half-life"
        )
    x, y = project_points(incidents) if xy is None else given_xy(xy, len(incidents))
    precision = location_precisions(incidents) if widen_by_precision else None
    if grid is None:
        grid = region_grid(cell_m=cell_m, line=line)
    if bandwidth_m is None:
        bandwidth_m = estimate_bandwidth(x, y, weights=weights)
        if kernel == "quartic":
            bandwidth_m *= QUARTIC_RADIUS_PER_SIGMA
        rule = "silverman"
    else:
        rule = "user"
    values, outside, classes = estimate_density(
        x, y, weights, grid, bandwidth_m=bandwidth_m, kernel=kernel, precision_m=precision
    )
    if outside > 0:
        logger.warning(
            "%.3g of %.3g weighted incidents lie outside the density grid and are left out",
            outside,
            total_weight,
        )
    logger.info(
        "density: %d incidents, %s kernel, bandwidth %.0f m (%s), %d×%d cells of %g m",
        len(incidents), kernel, bandwidth_m, rule, grid.width, grid.height, grid.cell_m,
    )  # fmt: skip
    return DensitySurface(
        values=values.astype(np.float32),
        transform=grid.transform,
        crs=grid.crs,
        bandwidth_m=float(bandwidth_m),
        kernel=kernel,
        units=settings.DENSITY_UNITS,
        total_weight=total_weight,
        n_incidents=len(incidents),
        outside_weight=outside,
        bandwidth_rule=rule,
        precision_classes_m=classes if precision is not None else (),
        half_life_days=half_life_days,
    )


def describe_surface(surface: DensitySurface) -> dict[str, Any]:
    """Return a short summary of a surface (for logs and the command line).

    Parameters
    ----------
    surface
        A density surface.
    """
    peak_index = np.unravel_index(int(np.argmax(surface.values)), surface.values.shape)
    return {
        "cells": f"{surface.values.shape[1]}×{surface.values.shape[0]}",
        "cell_m": abs(surface.transform.a),
        "kernel": surface.kernel,
        "bandwidth_m": round(surface.bandwidth_m, 1),
        "bandwidth_rule": surface.bandwidth_rule,
        "incidents": surface.n_incidents,
        "total_weight": round(surface.total_weight, 3),
        "mass_on_grid": round(surface.mass, 3),
        "peak": float(surface.values[peak_index]),
        "peak_row_col": tuple(int(i) for i in peak_index),
        "units": surface.units,
    }
