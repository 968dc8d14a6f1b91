"""The criteria measured in each border sector, with their units.

Seven criteria enter the priority score (:data:`CRITERIA`, weights in
:data:`geo.settings.PRIORITY_WEIGHTS`); each is one number per sector, in the
unit given, and says which way points to priority:

``incident_density``
    Weighted incidents per km² of the sector's zone, the zone clipped to the
    land of the two countries when the outlines are given (weights of
    :func:`geo.weights.incident_weights`: type × damped magnitude × optional
    recency). Higher is more urgent.
``hotspot_share``
    Share (0–1) of the zone's area inside Gi* hot cells significant at 95 %
    or more (:data:`geo.settings.HOTSPOT_SHARE_MIN_BIN`). Not available when
    the hot spots could not be computed (fewer than
    :data:`geo.settings.HOTSPOT_MIN_INCIDENTS` incidents).
``trend``
    ``log2((r + 1) / (b · R / B + 1))`` where ``r`` incidents fell in the
    last ``R`` days (:data:`geo.settings.TREND_RECENT_DAYS`) and ``b`` in the
    ``B`` days before (:data:`geo.settings.TREND_BASELINE_DAYS`): the log₂
    ratio of the recent daily rate to the baseline one, smoothed by one
    incident so that one event does not make an infinite rise. 0 is steady,
    +1 a doubling. Higher is more urgent. In the score a fall counts as steady
    (``floor`` 0): a rise makes a sector more urgent, but a sector is not made
    urgent by others' falls; without the floor, min–max normalisation gave every
    sector without incidents (trend 0) more than the sectors whose reporting fell.
``crossings``
    Distance (km) from the sector's stretch of the line to the nearest
    official crossing: where traffic is, the line matters most. Lower is more
    urgent. The count of official crossings in the zone is reported beside
    it, and the count of *unofficial* ones when a layer gives any (the
    ``unofficial_crossings`` layer: reported unofficial crossings and smuggling
    routes where a report names a place, each coded to a cited place with a
    covering radius; and crossings of the crossings layer whose ``status``
    says unofficial). The Lebanese army speaks of well over a hundred, so the
    count is a floor of what reporting names, not of what exists; without any
    layer it is unknown, never guessed. Unofficial crossings are not scored.
``exposure``
    ``log10(1 + P)`` where ``P`` is the people in the zone's towns: each
    town's GeoNames population where known, and
    :data:`geo.settings.EXPOSURE_UNKNOWN_TOWN_POPULATION` (500, the
    inclusion threshold of GeoNames cities500) for a town of unknown size
    (the hand-curated villages and some GeoNames places have none), so an
    unknown town counts but never outweighs a known city. The logarithm damps
    the range: a town of 100,000 outweighs a village of 1,000 but not a
    hundredfold (with min-max normalisation; with rank normalisation only the
    order of ``P`` matters). ``P`` is reported as ``exposed_population``
    beside the count of towns, their known population and the towns without
    one. Higher is more urgent. (Until 2026-11-23 the criterion was the count
    of towns only: ten hamlets outranked a city.)
``line_uncertainty``
    Mean distance (m) of the independent border lines (``border_candidates``,
    except the reference line itself) from the reference line in the sector,
    sampled every 100 m along each candidate; the maximum is reported beside
    it. Where sources disagree, demarcation is most needed. Higher is more
    urgent. Missing (no candidate covers the sector) counts as no
    disagreement.
``terrain``
    Relief (m): highest minus lowest elevation in the zone, from the bundled
    coarse DEM (about 9 km cells) or an analyst's GeoTIFF; the mean elevation
    is reported beside it. Rugged ground is where a line is hardest to see and
    to patrol. Higher is more urgent.

Descriptive columns (not scored): counts by type (seizures, clashes, shelling
and strikes, smuggling, arrests), the seized quantity by unit, incidents
whose location is coarser than half a sector, the trend's window counts.
"""

from __future__ import annotations

import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import rasterio
import rasterio.errors
import rasterio.features
import rasterio.windows
import shapely
from affine import Affine

from geo import settings
from geo.errors import ConfigurationError, LayerError
from geo.memo import BoundedCache, geometry_digest
from geo.sectors import BorderReference, line_piece, locate_xy, sector_bounds_m

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Criterion:
    """One criterion of the priority score.

    Attributes
    ----------
    name
        Key in :data:`geo.settings.PRIORITY_WEIGHTS`.
    column
        Column of the criteria table holding its value.
    unit
        Unit of the value.
    higher_is_priority
        Whether a larger value makes a sector more urgent.
    incident_based
        Whether it is computed from the incidents (and so needs enough of them).
    label
        Short human label.
    missing_value
        Value standing for a missing one before normalisation (``None``: a
        missing value normalises to 0, the least urgent).
    floor
        Lowest value the score sees (``None``: none): values below count as it.
    """

    name: str
    column: str
    unit: str
    higher_is_priority: bool
    incident_based: bool
    label: str
    missing_value: float | None = None
    floor: float | None = None


#: The scored criteria, in display order.
CRITERIA: dict[str, Criterion] = {
    c.name: c
    for c in (
        Criterion(
            "incident_density",
            "incident_density",
            settings.DENSITY_UNITS,
            True,
            True,
            "weighted incident density",
        ),
        Criterion("hotspot_share", "hotspot_share", "share of zone area (0–1)", True, True,
                  "area in Gi* hot spots"),
        Criterion("trend", "trend", "log2 rate ratio, recent vs baseline", True, True,
                  "trend of incidents", floor=0.0),
        Criterion("crossings", "crossing_distance_km", "km to nearest official crossing",
                  False, False, "nearness of an official crossing"),
        Criterion("exposure", "exposure_index", "log10(1 + people in zone's towns)", True,
                  False, "people exposed"),
        Criterion("line_uncertainty", "line_uncertainty_mean_m",
                  "m, mean distance of other lines", True, False,
                  "disagreement of border lines", missing_value=0.0),
        Criterion("terrain", "relief_m", "m, elevation range in zone", True, False,
                  "relief"),
    )
}  # fmt: skip
if tuple(CRITERIA) != settings.CRITERION_NAMES:  # pragma: no cover - a programming error
    raise RuntimeError("geo.criteria.CRITERIA must follow settings.CRITERION_NAMES")

#: Incident types counted per sector: column -> types.
TYPE_COUNTS: dict[str, tuple[str, ...]] = {
    "seizures": ("seizure",),
    "clashes": ("clash",),
    "shelling_strikes": ("shelling", "strike"),
    "smuggling": ("smuggling",),
    "arrests": ("arrest",),
}

#: A candidate line everywhere this close (m) to the reference line is the reference
#: itself (the layer lists the reference's source too) and is not counted.
SAME_LINE_M = 1.0

#: Fewest DEM cell centres in a zone before every touched cell is taken instead.
MIN_TERRAIN_CELLS = 4

#: Text of the unofficial-crossings criterion when no layer gives any.
UNOFFICIAL_CROSSINGS_NOTE = (
    "known unofficial crossings: no sourced dataset exists (the Lebanese army speaks of "
    "well over a hundred illegal crossings); none are counted or guessed"
)
#: ... and when a layer gives some.
UNOFFICIAL_CROSSINGS_COUNTED_NOTE = (
    "unofficial crossings: only those a report names with a place are counted (each at a "
    "cited place, often kilometres from the crossing itself: see its location_precision_m); "
    "the Lebanese army speaks of well over a hundred, so the counts are a floor, and they are "
    "not scored"
)


def _sector_ids(bounds: np.ndarray) -> pd.Index:
    return pd.Index(np.arange(1, len(bounds)), name="sector_id")


def incident_criteria(
    incidents: pd.DataFrame,
    sector: np.ndarray,
    weights: np.ndarray,
    zone_area_km2: pd.Series,
    *,
    sector_km: float,
    reference_date: pd.Timestamp | None = None,
    recent_days: int = settings.TREND_RECENT_DAYS,
    baseline_days: int = settings.TREND_BASELINE_DAYS,
) -> pd.DataFrame:
    """Return the incident criteria of each sector.

    Parameters
    ----------
    incidents
        The incidents (``type``, ``date``, ``quantity``, ``unit``,
        ``location_precision_m`` are used when present).
    sector
        Sector number of each incident (0 outside every sector).
    weights
        Weight of each incident (:func:`geo.weights.incident_weights`).
    zone_area_km2
        Area of each sector's zone, indexed by sector id.
    sector_km
        Sector length (incidents located more coarsely than half of it are
        counted as ``imprecise_incidents``).
    reference_date
        End of the trend's recent window; default the latest incident's date.
    recent_days, baseline_days
        Lengths of the trend's windows.

    Returns
    -------
    pandas.DataFrame
        Indexed by sector id: ``incidents``, ``weighted_incidents``,
        ``incident_density`` and the descriptive counts.
    """
    if recent_days <= 0 or baseline_days <= 0:
        raise ConfigurationError(
            f"trend windows recent_days={recent_days!r}, baseline_days={baseline_days!r} "
            "must be positive numbers of days"
        )
    index = zone_area_km2.index
    n = len(index)
    sector = np.asarray(sector, dtype=np.int64)
    inside = sector > 0

    def count(mask: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        sel = inside & mask
        return np.bincount(
            sector[sel] - 1, weights=None if values is None else values[sel], minlength=n
        )[:n]

    everything = np.ones(len(sector), dtype=bool)
    out = pd.DataFrame(index=index)
    out["incidents"] = count(everything).astype(np.int64)
    out["weighted_incidents"] = count(everything, np.asarray(weights, dtype=float))
    out["incident_density"] = out["weighted_incidents"] / zone_area_km2.to_numpy()
    types = _lower_types(incidents, len(sector))
    for column, names in TYPE_COUNTS.items():
        out[column] = count(np.isin(types, names)).astype(np.int64)
    out["seized_quantity"] = _seized_quantity(incidents, sector, types, index)
    if "location_precision_m" in incidents.columns:
        precision = pd.to_numeric(incidents["location_precision_m"], errors="coerce")
        coarse = precision.fillna(settings.DEFAULT_LOCATION_PRECISION_M) > sector_km * 500.0
        out["imprecise_incidents"] = count(coarse.to_numpy()).astype(np.int64)
    else:
        out["imprecise_incidents"] = out["incidents"]
    recent, baseline = _trend_counts(
        incidents, sector, n, reference_date, recent_days, baseline_days
    )
    out["incidents_recent"] = recent.astype(np.int64)
    out["incidents_baseline"] = baseline.astype(np.int64)
    expected = baseline * (recent_days / baseline_days)
    out["trend"] = np.log2((recent + 1.0) / (expected + 1.0))
    return out


def _lower_types(incidents: pd.DataFrame, n: int) -> np.ndarray:
    """Return the lower-cased type of each incident ('' when missing), fast for millions."""
    if "type" not in incidents.columns:
        return np.full(n, "", dtype=object)
    codes, uniques = pd.factorize(incidents["type"], use_na_sentinel=True)
    lowered = np.array([str(u).lower() for u in uniques] + [""], dtype=object)
    return lowered[codes]  # the sentinel -1 picks the trailing ''


def _seized_quantity(
    incidents: pd.DataFrame, sector: np.ndarray, types: np.ndarray, index: pd.Index
) -> list[str]:
    """Return, per sector, the seized quantity summed by unit as text."""
    if "quantity" not in incidents.columns or not len(incidents):
        return [""] * len(index)
    qty = pd.to_numeric(incidents["quantity"], errors="coerce").to_numpy(dtype=float)
    rows = np.flatnonzero((sector > 0) & (types == "seizure") & np.isfinite(qty))
    unit = (  # the units of the seizures counted only: a few, not every incident's
        incidents["unit"].iloc[rows].astype("string").fillna("units").to_numpy(dtype=object)
        if "unit" in incidents.columns
        else np.full(len(rows), "units", dtype=object)
    )
    frame = pd.DataFrame({"sector": sector[rows], "unit": unit, "qty": qty[rows]})
    sums = frame.groupby(["sector", "unit"])["qty"].sum()
    parts: dict[int, list[str]] = {}
    for (sid, u), q in sums.items():  # by sector, then unit
        parts.setdefault(sid, []).append(f"{q:,.0f} {u}")
    return ["; ".join(parts[sid]) if sid in parts else "" for sid in index]


def _trend_counts(
    incidents: pd.DataFrame,
    sector: np.ndarray,
    n: int,
    reference_date: pd.Timestamp | None,
    recent_days: int,
    baseline_days: int,
) -> tuple[np.ndarray, np.ndarray]:
    if "date" not in incidents.columns or not len(incidents):
        return np.zeros(n), np.zeros(n)
    dates = pd.to_datetime(incidents["date"], errors="coerce").to_numpy()
    valid = ~np.isnat(dates)
    if not valid.any():
        return np.zeros(n), np.zeros(n)
    end = np.datetime64(pd.Timestamp(reference_date)) if reference_date is not None else None
    end = dates[valid].max() if end is None else end
    age = (end - dates) / np.timedelta64(1, "D")
    age = np.where(valid, age, -1.0)
    recent = (age >= 0) & (age < recent_days)
    baseline = (age >= recent_days) & (age < recent_days + baseline_days)
    inside = sector > 0
    r = np.bincount(sector[inside & recent] - 1, minlength=n)[:n].astype(float)
    b = np.bincount(sector[inside & baseline] - 1, minlength=n)[:n].astype(float)
    return r, b


def hotspot_share(zones: gpd.GeoDataFrame, cells: gpd.GeoDataFrame | None) -> pd.Series:
    """Return the share of each zone's area inside significant hot cells.

    Parameters
    ----------
    zones
        Whole sector zones (``side == "all"``) with ``sector_id``, in any CRS.
    cells
        Gi* cells with a ``bin`` column; hot cells are those with
        ``bin >= settings.HOTSPOT_SHARE_MIN_BIN``.
    """
    zones = zones.to_crs(settings.METRIC_CRS)
    share = pd.Series(0.0, index=pd.Index(zones["sector_id"], name="sector_id"))
    if cells is None or cells.empty:
        return share
    hot = (cells["bin"] >= settings.HOTSPOT_SHARE_MIN_BIN).to_numpy()
    if not hot.any():
        return share
    overlap, areas = _zone_cell_overlap(zones.geometry, cells.geometry)
    inter = overlap @ hot.astype(float)
    share[:] = np.where(areas > 0, inter / areas, 0.0)
    return share


#: (zones, cells) content digests -> (overlap areas, zone areas); see _zone_cell_overlap.
_OVERLAPS: BoundedCache[tuple[Any, np.ndarray]] = BoundedCache(4)


def _zone_cell_overlap(zones: gpd.GeoSeries, cells: gpd.GeoSeries) -> tuple[Any, np.ndarray]:
    """Return the area (m²) each zone shares with each cell, and each zone's area.

    The cells are the hexagons of a hot-spot lattice, which do not overlap, so a zone's
    area inside the hot cells is the sum of its overlaps with them: the same as its
    overlap with their union, to a part in a billion (the hexagons' shared edges, through
    EPSG:4326 and back, meet to a nanometre). The overlaps depend on the sector layout
    and the lattice only, not on which cells are hot: they are measured once per pair
    (kept by the zones' and the cells' content), where uniting the hot cells and cutting
    the zones took 0.04-0.05 s of every filter change.

    Parameters
    ----------
    zones
        Sector zones in :data:`geo.settings.METRIC_CRS`.
    cells
        The cells (any CRS).

    Returns
    -------
    tuple
        A sparse ``(zones, cells)`` matrix of overlap areas and the zones' areas.
    """
    from scipy import sparse
    from shapely import STRtree

    def make() -> tuple[Any, np.ndarray]:
        zone_shapes = zones.to_numpy()
        cell_shapes = cells.to_crs(settings.METRIC_CRS).to_numpy()
        z, c = STRtree(cell_shapes).query(zone_shapes, predicate="intersects")
        pieces = shapely.area(shapely.intersection(zone_shapes[z], cell_shapes[c]))
        shape = (len(zone_shapes), len(cell_shapes))
        return sparse.csr_matrix((pieces, (z, c)), shape=shape), shapely.area(zone_shapes)

    key = (
        geometry_digest(zones.to_numpy(), zones.crs),
        geometry_digest(cells.to_numpy(), cells.crs),
    )
    return _OVERLAPS.get_or_make(key, make)


def _line_pieces(ref: BorderReference, bounds: np.ndarray) -> np.ndarray:
    return np.array(
        [line_piece(ref, bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)],
        dtype=object,
    )


def _points_in_zones(
    frame: gpd.GeoDataFrame, zones: gpd.GeoDataFrame, index: pd.Index
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """Return a point layer's metric points, names and ``inside[sector, point]``."""
    points = shapely.centroid(frame.to_crs(settings.METRIC_CRS).geometry.to_numpy())
    names = frame["name"].astype("string").fillna("(unnamed)").tolist()
    zone_geoms = zones.to_crs(settings.METRIC_CRS).set_index("sector_id").geometry
    inside = shapely.contains(zone_geoms.reindex(index).to_numpy()[:, None], points[None, :])
    return points, names, inside


def _nearest(pieces: np.ndarray, points: np.ndarray, names: list[str]) -> tuple[list, np.ndarray]:
    """Return, per line piece, the nearest point's name and distance (km)."""
    if len(points) == 0:
        return [None] * len(pieces), np.full(len(pieces), np.nan)
    dist = shapely.distance(pieces[:, None], points[None, :])
    j = np.argmin(dist, axis=1)
    return [names[k] for k in j], dist[np.arange(len(pieces)), j] / 1_000.0


def crossing_criteria(
    ref: BorderReference,
    zones: gpd.GeoDataFrame,
    crossings: gpd.GeoDataFrame | None,
    *,
    sector_km: float,
    unofficial: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """Return per sector the crossings in the zone and the nearest official one.

    Parameters
    ----------
    ref
        The prepared border line.
    zones
        Whole sector zones (``side == "all"``) with ``sector_id``.
    crossings
        The crossings layer (``name``, ``status``), or ``None``. Rows whose
        ``status`` says unofficial, illegal or informal count as unofficial.
    sector_km
        Sector length.
    unofficial
        The ``unofficial_crossings`` layer (``name``), or ``None``: every row
        counts as unofficial.

    Returns
    -------
    pandas.DataFrame
        Indexed by sector id: ``official_crossings``, ``unofficial_crossings``
        (``<NA>`` when no layer gives any unofficial crossing), ``nearest_crossing``
        and ``crossing_distance_km``.
    """
    bounds = sector_bounds_m(ref.length_m, sector_km)
    index = _sector_ids(bounds)
    out = pd.DataFrame(index=index)
    pieces = _line_pieces(ref, bounds)
    extra = (
        np.zeros(len(index), dtype=np.int64)
        if unofficial is None or unofficial.empty
        else _points_in_zones(unofficial, zones, index)[2].sum(axis=1).astype(np.int64)
    )
    has_extra = unofficial is not None and not unofficial.empty
    if crossings is None or crossings.empty:
        out["official_crossings"] = 0
        out["unofficial_crossings"] = (
            extra if has_extra else pd.array([pd.NA] * len(index), dtype="Int64")
        )
        out["nearest_crossing"] = None
        out["crossing_distance_km"] = np.nan
        return out
    status = (
        crossings["status"].astype("string").str.lower().fillna("")
        if "status" in crossings.columns
        else pd.Series("", index=crossings.index)
    )
    flagged = status.str.contains("unofficial|illegal|informal", regex=True).to_numpy()
    points, names, inside = _points_in_zones(crossings, zones, index)
    out["official_crossings"] = inside[:, ~flagged].sum(axis=1).astype(np.int64)
    if flagged.any() or has_extra:
        out["unofficial_crossings"] = inside[:, flagged].sum(axis=1).astype(np.int64) + extra
    else:
        out["unofficial_crossings"] = pd.array([pd.NA] * len(index), dtype="Int64")
    official = ~flagged
    nearest, km = _nearest(
        pieces, points[official], [n for n, o in zip(names, official, strict=True) if o]
    )
    out["nearest_crossing"] = nearest
    out["crossing_distance_km"] = km
    return out


def exposure_criteria(
    ref: BorderReference,
    zones: gpd.GeoDataFrame,
    towns: gpd.GeoDataFrame | None,
    *,
    sector_km: float,
    unknown_population: float = settings.EXPOSURE_UNKNOWN_TOWN_POPULATION,
) -> pd.DataFrame:
    """Return per sector the towns in the zone, the people exposed and the nearest town.

    Parameters
    ----------
    ref
        The prepared border line.
    zones
        Whole sector zones (``side == "all"``) with ``sector_id``.
    towns
        The towns layer (``name``, ``population``), or ``None``.
    sector_km
        Sector length.
    unknown_population
        People counted for a town whose population is missing.

    Returns
    -------
    pandas.DataFrame
        Indexed by sector id: ``towns_in_zone``, ``population_in_zone`` (known
        populations only), ``towns_without_population``, ``exposed_population``
        (known populations plus ``unknown_population`` per town without one),
        ``exposure_index`` (``log10(1 + exposed_population)``, the criterion),
        ``nearest_town`` and ``nearest_town_km`` (from the sector's stretch).
    """
    if not (math.isfinite(unknown_population) and unknown_population >= 0):
        raise ConfigurationError(
            f"exposure: unknown_population={unknown_population!r} must be a finite number "
            "of people ≥ 0"
        )
    bounds = sector_bounds_m(ref.length_m, sector_km)
    index = _sector_ids(bounds)
    out = pd.DataFrame(index=index)
    if towns is None or towns.empty:
        out["towns_in_zone"] = 0
        out["population_in_zone"] = 0.0
        out["towns_without_population"] = 0
        out["exposed_population"] = 0.0
        out["exposure_index"] = 0.0
        out["nearest_town"] = None
        out["nearest_town_km"] = np.nan
        return out
    points, names, inside = _points_in_zones(towns, zones, index)
    population = (
        pd.to_numeric(towns["population"], errors="coerce").to_numpy(dtype=float)
        if "population" in towns.columns
        else np.full(len(towns), np.nan)
    )
    known = np.isfinite(population)
    out["towns_in_zone"] = inside.sum(axis=1).astype(np.int64)
    out["population_in_zone"] = (inside * np.where(known, population, 0.0)).sum(axis=1)
    out["towns_without_population"] = (inside & ~known).sum(axis=1).astype(np.int64)
    people = np.where(known, np.maximum(population, 0.0), unknown_population)
    out["exposed_population"] = (inside * people).sum(axis=1)
    out["exposure_index"] = np.log10(1.0 + out["exposed_population"].to_numpy())
    nearest, km = _nearest(_line_pieces(ref, bounds), points, names)
    out["nearest_town"] = nearest
    out["nearest_town_km"] = km
    return out


def line_uncertainty(
    ref: BorderReference,
    candidates: gpd.GeoDataFrame | None,
    *,
    sector_km: float,
    sample_m: float = 100.0,
) -> pd.DataFrame:
    """Return per sector how far the candidate lines stand from the reference line.

    Each candidate line is sampled every ``sample_m`` metres (a candidate
    within :data:`SAME_LINE_M` of the reference everywhere is the reference
    itself and is skipped); each sample is
    located on the reference line (samples whose nearest point is an end of
    the reference line are dropped, so a candidate that runs past an end does
    not count there) and its distance is assigned to the sector it faces.

    Parameters
    ----------
    ref
        The prepared reference line.
    candidates
        The ``border_candidates`` layer (one line per ``source``), or ``None``.
    sector_km
        Sector length.
    sample_m
        Sampling step along each candidate (metres).

    Returns
    -------
    pandas.DataFrame
        Indexed by sector id: ``line_uncertainty_mean_m``,
        ``line_uncertainty_max_m`` (NaN where no candidate reaches) and
        ``line_sources`` (how many candidates reach the sector).
    """
    bounds = sector_bounds_m(ref.length_m, sector_km)
    index = _sector_ids(bounds)
    n = len(index)
    out = pd.DataFrame(index=index)
    if candidates is None or candidates.empty:
        out["line_uncertainty_mean_m"] = np.nan
        out["line_uncertainty_max_m"] = np.nan
        out["line_sources"] = 0
        return out
    metric = candidates.to_crs(settings.METRIC_CRS)
    total = np.zeros(n)
    count = np.zeros(n)
    peak = np.full(n, np.nan)
    sources = np.zeros(n, dtype=np.int64)
    for geom in metric.geometry.to_numpy():
        xy = shapely.get_coordinates(shapely.segmentize(geom, sample_m))
        if not len(xy):
            continue
        loc = locate_xy(xy[:, 0], xy[:, 1], ref, sector_km=sector_km, corridor_km=1e9)
        if np.abs(loc.offset_m).max() < SAME_LINE_M:
            logger.info("a border candidate is the reference line itself; not counted")
            continue
        keep = (loc.chainage_m > 1.0) & (loc.chainage_m < ref.length_m - 1.0)
        s = loc.sector[keep] - 1
        d = np.abs(loc.offset_m[keep])
        total += np.bincount(s, weights=d, minlength=n)[:n]
        count += np.bincount(s, minlength=n)[:n]
        sources += np.bincount(s, minlength=n)[:n] > 0
        mx = np.full(n, -np.inf)
        np.maximum.at(mx, s, d)
        peak = np.where(np.isfinite(mx), np.fmax(peak, mx), peak)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["line_uncertainty_mean_m"] = np.where(count > 0, total / count, np.nan)
    out["line_uncertainty_max_m"] = peak
    out["line_sources"] = sources
    return out


def terrain_criteria(zones: gpd.GeoDataFrame, path: str | os.PathLike[str] | None) -> pd.DataFrame:
    """Return the mean elevation and the relief of each zone (zonal statistics).

    Cells whose centre lies in a zone count; a zone holding fewer than
    :data:`MIN_TERRAIN_CELLS` cell centres (a DEM nearly as coarse as the zone,
    like the bundled 9 km one) takes every cell it touches, so that its relief
    is not a meaningless 0 from a single cell.

    Parameters
    ----------
    zones
        Whole sector zones (``side == "all"``) with ``sector_id``, in any CRS.
    path
        A single-band elevation GeoTIFF (metres), or ``None`` for no terrain.

    Returns
    -------
    pandas.DataFrame
        Indexed by sector id: ``elevation_mean_m`` and ``relief_m``.
    """
    index = pd.Index(zones["sector_id"].to_numpy(), name="sector_id")
    out = pd.DataFrame({"elevation_mean_m": np.nan, "relief_m": np.nan}, index=index)
    if path is None:
        return out
    path = Path(path)
    if not path.is_file():
        raise LayerError(
            f"terrain: file {str(path)!r} does not exist; fix: give an elevation GeoTIFF "
            "(e.g. SRTM or Copernicus DEM) or leave the option out for the bundled DEM"
        )
    try:
        src = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise LayerError(
            f"terrain: {path.name} is not a readable raster ({exc}); fix: give a GeoTIFF"
        ) from None
    with src:
        if src.crs is None:
            raise LayerError(f"terrain: {path.name} has no CRS; fix: give a georeferenced GeoTIFF")
        geoms = zones.to_crs(src.crs).geometry.to_numpy()
        left, bottom, right, top = shapely.total_bounds(geoms)
        window = rasterio.windows.from_bounds(left, bottom, right, top, src.transform)
        col0, row0 = math.floor(window.col_off) - 1, math.floor(window.row_off) - 1
        col1 = math.ceil(window.col_off + window.width) + 1
        row1 = math.ceil(window.row_off + window.height) + 1
        try:
            window = rasterio.windows.Window(col0, row0, col1 - col0, row1 - row0).intersection(
                rasterio.windows.Window(0, 0, src.width, src.height)
            )
        except rasterio.errors.WindowError:
            logger.warning("terrain: %s does not cover the sectors", path.name)
            return out
        data = src.read(1, window=window, masked=True).astype(float).filled(np.nan)
        t = src.transform  # rasterio's window_transform warns under affine 2.4
        col, row = int(window.col_off), int(window.row_off)
        transform = Affine(
            t.a, t.b, t.c + t.a * col + t.b * row, t.d, t.e, t.f + t.d * col + t.e * row
        )
        for row, geom in enumerate(geoms):
            for touched in (False, True):
                mask = rasterio.features.geometry_mask(
                    [geom], data.shape, transform, invert=True, all_touched=touched
                )
                values = data[mask]
                values = values[np.isfinite(values)]
                if values.size >= MIN_TERRAIN_CELLS:
                    break
            if values.size:
                out.iloc[row, 0] = float(values.mean())
                out.iloc[row, 1] = float(values.max() - values.min())
    return out


def zone_areas(zones: gpd.GeoDataFrame) -> pd.Series:
    """Return each whole zone's area in km², indexed by sector id."""
    whole = zones.loc[zones["side"] == "all"]
    return pd.Series(
        whole["area_km2"].to_numpy(dtype=float),
        index=pd.Index(whole["sector_id"].to_numpy(), name="sector_id"),
    )
