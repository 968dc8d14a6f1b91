"""Emerging hot spots: where clustering is new, growing, lasting, fading or gone.

The method follows ArcGIS Pro's Emerging Hot Spot Analysis (Esri, "How Emerging Hot
Spot Analysis works", Space Time Pattern Mining toolbox), on the same hexagons as
:func:`geo.hotspots.compute_hotspots`:

Space-time cube
    The study area's hexagons (:func:`geo.hotspots.make_hexagons`) × time slices of
    ``slice_days`` days ending on ``end`` (the last incident's day by default), so the
    most recent slice is whole; the first may be shorter and is said so. A bin holds
    the incidents of its cell and slice (``value="count"``), or their weights
    (``"weight"``, :func:`geo.weights.incident_weights`); an incident located to more
    than a hexagon's circumradius is spread over its precision disc, as for Gi*.
Gi* per bin
    Getis-Ord Gi* over the cube: a bin's neighbours are the cells within ``band_km``
    in its own slice and in the ``time_steps`` slices before it (ArcGIS's
    "neighborhood time step", default 1), binary weights, the mean and standard
    deviation taken over every bin of the cube. Two-sided p-values are adjusted by
    Benjamini–Hochberg within each slice (the FDR rule); a bin is a significant hot
    (cold) spot when its adjusted p is at most ``alpha`` (0.05) and z > 0 (z < 0).
Trend
    The Mann–Kendall test of each cell's series of Gi* z-scores over the slices
    (from slice ``time_steps + 1`` on: earlier slices have a shorter time
    neighbourhood, which would bias every series upwards):
    ``S = Σ_{i<j} sign(z_j − z_i)``, variance ``n(n−1)(2n+5)/18`` less the tie
    correction, continuity-corrected normal score; a trend is significant at
    ``alpha``.
Categories (Esri's definitions; "90 percent" is of the time slices)
    - new: a significant hot spot in the final slice, never before;
    - consecutive: a single uninterrupted run of at least two significant hot slices
      ending with the final one, never a hot spot before that run, and fewer than
      90 percent of the slices hot;
    - intensifying: hot in at least 90 percent of the slices, the final one included,
      and the intensity (z) increasing with a significant Mann–Kendall trend;
    - persistent: hot in at least 90 percent of the slices, the final one included,
      with no significant trend;
    - diminishing: as intensifying, with a significant decreasing trend;
    - sporadic: hot in the final slice, an on-again off-again hot spot, fewer than 90
      percent of the slices hot and never a significant cold spot;
    - oscillating: hot in the final slice, with a significant cold spot before, fewer
      than 90 percent of the slices hot;
    - historical: not hot in the final slice, but hot in at least 90 percent of the
      slices;
    - the same for cold spots (signs reversed); otherwise no pattern detected.
    Here persistent, intensifying and diminishing need the final slice hot (Esri's
    persistent text does not say so; otherwise a location would be both persistent
    and historical); a location both hot and cold in the final slice cannot occur.

Minimum sample: at least :data:`MIN_SLICES` slices (Mann–Kendall on fewer has no
power) and :data:`geo.settings.HOTSPOT_MIN_INCIDENTS` incidents in the study area;
fewer raise :class:`~geo.errors.InsufficientDataError` with one line saying why.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import stats
from shapely.geometry.base import BaseGeometry

from geo import settings
from geo.errors import ConfigurationError, InsufficientDataError
from geo.grid import project_points, region_polygon
from geo.hotspots import _lattice_neighbours, _spread_weights, _study_lattice, adjust_fdr
from geo.weights import incident_weights

logger = logging.getLogger(__name__)

#: Fewest time slices for the trend test.
MIN_SLICES = 10
#: Default slice length (days).
SLICE_DAYS = 30
#: Share of the slices that makes a location persistent, intensifying, diminishing, historical.
PERSISTENT_SHARE = 0.9
#: The categories, hot then cold, as Esri names them; "no pattern detected" last.
CATEGORIES: tuple[str, ...] = (
    *(
        f"{kind} {side} spot"
        for side in ("hot", "cold")
        for kind in (
            "new",
            "consecutive",
            "intensifying",
            "persistent",
            "diminishing",
            "sporadic",
            "oscillating",
            "historical",
        )
    ),
    "no pattern detected",
)


def mann_kendall(series: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the Mann–Kendall ``S``, normal score and two-sided p of each row's trend.

    Parameters
    ----------
    series
        ``(m, n)`` array: ``m`` series of ``n`` values in time order.

    Returns
    -------
    s, z, p
        Arrays of length ``m``. The variance has the tie correction
        ``Σ t(t−1)(2t+5)/18`` over groups of ``t`` equal values.
    """
    x = np.atleast_2d(np.asarray(series, dtype=float))
    m, n = x.shape
    s = np.zeros(m)
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    var = np.full(m, n * (n - 1) * (2 * n + 5) / 18.0)
    ordered = np.sort(x, axis=1)
    for row in range(m):
        _, ties = np.unique(ordered[row], return_counts=True)
        ties = ties[ties > 1]
        var[row] -= float(np.sum(ties * (ties - 1) * (2 * ties + 5))) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    z = np.where(var > 0, z, 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    return s, z, p


def classify_series(
    hot: np.ndarray, cold: np.ndarray, trend_z: float, trend_p: float, *, alpha: float = 0.05
) -> str:
    """Return the Esri category of one location from its significant hot and cold slices.

    Parameters
    ----------
    hot, cold
        Booleans per slice, oldest first: a significant hot (cold) spot.
    trend_z, trend_p
        Mann–Kendall score and p-value of the location's z-score series.
    alpha
        Significance of the trend.
    """
    hot = np.asarray(hot, dtype=bool)
    cold = np.asarray(cold, dtype=bool)
    up, down = trend_p <= alpha and trend_z > 0, trend_p <= alpha and trend_z < 0
    for side, this, other, grows, fades in (
        ("hot", hot, cold, up, down),
        ("cold", cold, hot, down, up),
    ):
        category = _category(this, other, grows, fades)
        if category:
            return f"{category} {side} spot"
    return "no pattern detected"


def _category(this: np.ndarray, other: np.ndarray, grows: bool, fades: bool) -> str | None:
    n = this.size
    share = this.sum() / n
    if not this[-1]:
        return "historical" if share >= PERSISTENT_SHARE else None
    if share >= PERSISTENT_SHARE:
        return "intensifying" if grows else "diminishing" if fades else "persistent"
    if not this[:-1].any():
        return "new"
    run = n - int(np.flatnonzero(~this)[-1]) - 1  # length of the final run
    if run >= 2 and not this[: n - run].any():
        return "consecutive"
    return "oscillating" if other[:-1].any() else "sporadic"


@dataclass
class EmergingResult:
    """Emerging hot spots on hexagons.

    Attributes
    ----------
    cells
        GeoDataFrame (EPSG:4326), one hexagon a row, those with an incident in some
        slice or a category: ``cell_id``, ``category``, ``count`` (incidents over all
        slices), ``hot_slices``, ``cold_slices``, ``trend_s``, ``trend_z``,
        ``trend_p``, ``z_last`` (Gi* z of the final slice).
    slices
        DataFrame of the slices: ``start``, ``end`` (inclusive days), ``incidents``.
    slice_days, cell_km, band_km, time_steps, alpha, value
        The options.
    n_incidents, n_outside
        Incidents in the study area and dated in the slices; outside, left out.
    """

    cells: gpd.GeoDataFrame
    slices: pd.DataFrame
    slice_days: int
    cell_km: float
    band_km: float
    time_steps: int
    alpha: float
    value: str
    n_incidents: int
    n_outside: int

    def summary(self) -> dict[str, int]:
        """Return the number of cells in each category (those with any)."""
        counts = self.cells["category"].value_counts()
        return {c: int(counts[c]) for c in CATEGORIES if c in counts.index}

    def describe(self) -> str:
        """Return one line describing the method."""
        first, last = self.slices["start"].iloc[0], self.slices["end"].iloc[-1]
        return (
            f"emerging hot spots: space-time Gi* on {self.cell_km:g} km hexagons, "
            f"{len(self.slices)} slices of {self.slice_days} days ({first:%Y-%m-%d} to "
            f"{last:%Y-%m-%d}), band {self.band_km:g} km, {self.time_steps} previous slice(s), "
            f"{self.value}, FDR {self.alpha:g} per slice, Mann-Kendall trend; "
            f"{self.n_incidents} incidents"
        )

    def to_file(self, path: str | os.PathLike[str]) -> None:
        """Write the cells (layer ``emerging_hotspots``) and slices to a GeoPackage."""
        try:
            self.cells.to_file(path, layer="emerging_hotspots", driver="GPKG", engine="pyogrio")
            slices = self.slices.assign(
                start=self.slices["start"].dt.strftime("%Y-%m-%d"),
                end=self.slices["end"].dt.strftime("%Y-%m-%d"),
            )
            gpd.GeoDataFrame(slices).to_file(
                path, layer="emerging_slices", driver="GPKG", engine="pyogrio"
            )
        except Exception as exc:  # pyogrio raises its own DataSourceError etc.
            raise ConfigurationError(
                f"cannot write the emerging hot spots to {os.fspath(path)!r}: {exc}; "
                "check that the folder exists and is writable"
            ) from exc


def compute_emerging_hotspots(
    incidents: pd.DataFrame,
    *,
    line: BaseGeometry | None = None,
    region: BaseGeometry | None = None,
    slice_days: int = SLICE_DAYS,
    end: dt.date | str | pd.Timestamp | None = None,
    cell_km: float = settings.HOTSPOT_CELL_KM,
    band_km: float | None = None,
    time_steps: int = 1,
    alpha: float = 0.05,
    value: str = "count",
    min_slices: int = MIN_SLICES,
    min_incidents: int = settings.HOTSPOT_MIN_INCIDENTS,
) -> EmergingResult:
    """Return the emerging hot and cold spots of the incidents (see the module docstring).

    Parameters
    ----------
    incidents
        Incidents (GeoDataFrame of points, EPSG:4326) with ``date`` and ``type``.
    line, region
        The border line (EPSG:4326), or the study area in metres instead.
    slice_days
        Length of a time slice in days.
    end
        Last day of the final slice (default the last incident's day).
    cell_km, band_km
        Hexagon size and neighbour distance (km; default two rings of cells).
    time_steps
        Previous slices in a bin's neighbourhood.
    alpha
        Significance of a bin (after FDR) and of a trend.
    value
        ``"count"`` (default, as ArcGIS's cubes) or ``"weight"``.
    min_slices, min_incidents
        Refuse below these.

    Raises
    ------
    InsufficientDataError
        Fewer slices or incidents than the minimum.
    ConfigurationError
        A bad option.
    """
    if value not in ("count", "weight"):
        raise ConfigurationError(f"value={value!r} is unknown; use count or weight")
    if not (int(slice_days) == slice_days and slice_days >= 1):
        raise ConfigurationError(f"slice_days={slice_days!r} must be a whole number of days ≥ 1")
    if not (0 < alpha < 1) or time_steps < 0:
        raise ConfigurationError("alpha must lie in (0, 1) and time_steps be 0 or more")
    slice_days = int(slice_days)
    band_km = settings.HOTSPOT_BAND_CELLS * cell_km if band_km is None else band_km
    if region is None:
        region = region_polygon(line=line)
    dates = pd.to_datetime(incidents["date"]).dt.normalize() if len(incidents) else None
    if dates is None or dates.isna().all():
        raise InsufficientDataError("emerging hot spots need dated incidents and none were given")
    last = pd.Timestamp(end).normalize() if end is not None else dates.max()
    first = dates.min()
    n_slices = math.ceil(((last - first).days + 1) / slice_days)
    if n_slices < min_slices:
        raise InsufficientDataError(
            f"emerging hot spots need at least {min_slices} slices and the incidents span "
            f"{(last - first).days + 1} days, {n_slices} slice(s) of {slice_days} days; "
            "use shorter --slice-days or a longer period"
        )
    age = (last - dates).dt.days.to_numpy()
    slice_of = n_slices - 1 - np.floor_divide(age, slice_days)
    dated = (age >= 0) & (slice_of >= 0)

    cell_m = cell_km * 1000.0
    x, y = project_points(incidents)
    region_wkb = shapely.to_wkb(region)
    lattice = _study_lattice(region_wkb, float(cell_m))
    cell = lattice.grid.locate(x, y)
    inside = (cell >= 0) & dated
    n_inside = int(inside.sum())
    if n_inside < min_incidents:
        raise InsufficientDataError(
            f"emerging hot spots need at least {min_incidents} incidents in the study area "
            f"and the slices, and only {n_inside} are; widen the period or add incidents"
        )
    n_cells = len(lattice.centres)
    weights = (
        incident_weights(incidents, half_life_days=None)
        if value == "weight"
        else np.ones(len(incidents))
    )
    cube = np.zeros((n_cells, n_slices))
    for t in range(n_slices):
        in_slice = inside & (slice_of == t)
        if in_slice.any():
            cube[:, t] = _spread_weights(incidents, weights, cell, in_slice, lattice.grid)
    neighbours = _lattice_neighbours(region_wkb, float(cell_m), band_km * 1000.0, None)
    z = _space_time_gi(cube, neighbours, time_steps)
    p = 2.0 * stats.norm.sf(np.abs(z))
    p_fdr = np.column_stack([adjust_fdr(p[:, t]) for t in range(n_slices)])
    hot = (p_fdr <= alpha) & (z > 0)
    cold = (p_fdr <= alpha) & (z < 0)
    # the first time_steps slices have a shorter time neighbourhood, hence smaller |z|:
    # leave them out of the trend, or every lasting hot spot would look intensifying
    s, trend_z, trend_p = mann_kendall(z[:, time_steps:])
    count = np.bincount(cell[inside], minlength=n_cells)
    categories = np.array(
        [
            classify_series(hot[i], cold[i], trend_z[i], trend_p[i], alpha=alpha)
            for i in range(n_cells)
        ],
        dtype=object,
    )
    keep = (count > 0) | (categories != "no pattern detected")
    starts = [last - pd.Timedelta(days=(n_slices - t) * slice_days - 1) for t in range(n_slices)]
    slices = pd.DataFrame(
        {
            "start": [max(s_, first) for s_ in starts],
            "end": [
                last - pd.Timedelta(days=(n_slices - 1 - t) * slice_days) for t in range(n_slices)
            ],
            "incidents": np.bincount(slice_of[inside].astype(int), minlength=n_slices),
        }
    )
    cells = gpd.GeoDataFrame(
        {
            "cell_id": np.asarray(lattice.cell_ids, dtype=object)[keep],
            "category": categories[keep],
            "count": count[keep].astype(np.int64),
            "hot_slices": hot[keep].sum(axis=1).astype(np.int64),
            "cold_slices": cold[keep].sum(axis=1).astype(np.int64),
            "trend_s": s[keep],
            "trend_z": trend_z[keep],
            "trend_p": trend_p[keep],
            "z_last": z[keep, -1],
        },
        geometry=lattice.hexagons[keep],
        crs=settings.GEOGRAPHIC_CRS,
    )
    result = EmergingResult(
        cells=cells,
        slices=slices,
        slice_days=slice_days,
        cell_km=float(cell_km),
        band_km=float(band_km),
        time_steps=int(time_steps),
        alpha=float(alpha),
        value=value,
        n_incidents=n_inside,
        n_outside=int(len(incidents) - n_inside),
    )
    logger.info("%s: %s", result.describe(), result.summary())
    return result


def _space_time_gi(cube: np.ndarray, neighbours, time_steps: int) -> np.ndarray:
    """Return the Gi* z of every bin of ``cube`` (cells × slices), space-time neighbours.

    A bin's neighbourhood is the spatial ``neighbours`` (binary, self included) in its
    slice and the ``time_steps`` slices before it; mean and standard deviation over the
    whole cube. A cube with no variation gives z = 0 everywhere.
    """
    n_slices = cube.shape[1]
    n = cube.size
    mean = cube.mean()
    s = math.sqrt(max(float(np.mean(cube**2) - mean**2), 0.0))
    spatial = neighbours @ cube  # Σ over spatial neighbours, per slice
    size = np.asarray(neighbours.sum(axis=1)).ravel()  # binary: W_i = S1_i
    z = np.zeros_like(cube)
    if s <= 1e-12 * max(1.0, abs(mean)):
        return z
    for t in range(n_slices):
        lo = max(0, t - time_steps)
        total = spatial[:, lo : t + 1].sum(axis=1)
        w = size * (t + 1 - lo)
        denominator = s * np.sqrt(np.maximum(n * w - w**2, 0.0) / (n - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            z[:, t] = np.where(denominator > 0, (total - mean * w) / denominator, 0.0)
    return z
