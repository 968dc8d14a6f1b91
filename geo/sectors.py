"""Border sectors and linear referencing along the border line.

The border line is cut, by distance along it, into sectors of ``sector_km``
numbered from 1 at the coast (the north-west end). Each sector's *zone* is
the part of the corridor (every point within ``corridor_km`` of the line)
whose nearest point on the line lies in the sector, split into its Lebanese
(``LB``) and Syrian (``SY``) parts by the line itself.

Every incident gets a *chainage* (km along the line from the coast, of its
nearest point on the line), a signed *offset* (metres from the line;
negative in Lebanon, positive in Syria) and a sector id; incidents farther
than the corridor half-width keep their chainage and offset but count in no
sector.

All measurements are made in :data:`geo.settings.METRIC_CRS`.

Method
------
The line is densified every :data:`geo.settings.SECTOR_DENSIFY_M` metres and
its points are put in a :class:`scipy.spatial.cKDTree`. A point is located by
its nearest densified point, then projected exactly onto the two line
segments that meet there: the chainage and offset are those of the exact
projection. It agrees with :func:`shapely.line_locate_point` and
:func:`shapely.distance` for 99.99 % of points near the real border; the
rest lie where two stretches of a winding line are almost equally near (the
nearest densified point belongs to the other stretch): their distance is
then off by at most half the spacing (measured: under 1 m) and their
chainage may jump to the other stretch. Many points (20,000 or more) are
first sorted along a coarse raster, then located in one block per CPU in
threads: for a million points on the real border this takes 0.6 s (1.1 s of
CPU time) where shapely takes minutes (``benchmarks/bench_sectors.py``).

The zones are the Voronoi cells of the midpoints of the densified segments,
merged by sector and clipped to the corridor: on a straight stretch they meet
exactly at the sector ends, and on a bend they agree with the sector
assignment of points except within about half the densification spacing of a
sector end.

Land, the coast and the southern end
------------------------------------
When the country outlines are given (``countries=``, the bundled
``countries`` layer in :func:`geo.analysis.run_analysis`), each zone and its
``LB`` and ``SY`` parts are clipped to the *union* of the outlines, in the
metric CRS, and ``area_km2`` is the clipped area: the incident density per
km² of an end sector is no longer diluted by ground that is not Lebanese or
Syrian land. Measured with the bundled layers at 5 km sectors: sector 1 (the
coast, Nahr al-Kabir mouth) shrinks from 74.3 to 31.8 km² (the Mediterranean
is dropped) and the last sector, at the southern end below Mount Hermon, from
62.9 to 34.9 km².

*The southern end.* The reference line (OpenStreetMap) runs down the western
slopes of Mount Hermon and stops at 35.773°E 33.336°N, at the edge of the
Shebaa Farms, where the line is disputed (held by Israel since 1967, claimed
by Lebanon, treated by the UN as occupied Syrian ground). The independent
lines stop elsewhere: Natural Earth near the Hermon summit (35.821°E
33.407°N, about 9 km short), DCW and GSHHG within about 1 km of the OSM end;
:func:`geo.criteria.line_uncertainty` drops the samples beyond the reference
line's ends, so the last sector is not blamed for where a source stops. The countries layer
(OpenStreetMap) gives about 28 km² of the last sector's corridor, around
35.77°E 33.31°N, to neither Lebanon nor Syria; that ground is dropped from the
zone, so the last sector's area and density speak only of what the layer
calls Lebanese or Syrian. The split into ``LB`` and ``SY`` is by the
reference line (extended straight past its ends), not by the outlines, so a
stretch where the outlines and the line disagree is counted on the line's
side. None of this decides a disputed claim: it follows the layers.

*Incidents* are still assigned by distance to the line alone (the fast path
below takes no point-in-polygon test): an incident at sea or on ground the
layer gives to neither country, within the corridor, counts in its sector
although it lies outside the clipped zone (a seizure off the coast is a
border incident). The zone's area is the land area only.
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from scipy.spatial import cKDTree
from shapely.geometry import LineString, MultiPoint
from shapely.ops import split

from geo import settings
from geo.errors import ConfigurationError, LayerError
from geo.memo import BoundedCache, geometry_digest

logger = logging.getLogger(__name__)

#: Side codes of the zone parts; ``"all"`` is the whole zone.
SIDES = ("all", "LB", "SY")


@dataclass(frozen=True, eq=False)
class BorderReference:
    """The border line prepared for linear referencing (in the metric CRS).

    Attributes
    ----------
    line
        The border line in :data:`geo.settings.METRIC_CRS`, from the coast.
    length_m
        Its length in metres.
    points
        The densified line, shape ``(m, 2)``.
    chainage_m
        The distance along the line of each densified point (metres).
    tree
        A k-d tree over ``points``.
    syria_sign
        ``+1`` if Syria lies on the left of the line's direction, ``-1`` if
        on the right; the offset of a point is ``syria_sign`` times its
        signed distance (positive to the left).
    """

    line: LineString
    length_m: float
    points: np.ndarray
    chainage_m: np.ndarray
    tree: cKDTree
    syria_sign: float

    @functools.cached_property
    def segments(self) -> tuple[np.ndarray, ...]:
        """Per densified segment: start x, start y, dx, dy, 1/length², length, start chainage.

        Flat contiguous arrays, so that the exact projection of a million points
        gathers from 1-D arrays instead of slicing ``(m, 2)`` ones.
        """
        a = self.points[:-1]
        d = np.diff(self.points, axis=0)
        length2 = np.einsum("ij,ij->i", d, d)
        return (
            np.ascontiguousarray(a[:, 0]),
            np.ascontiguousarray(a[:, 1]),
            np.ascontiguousarray(d[:, 0]),
            np.ascontiguousarray(d[:, 1]),
            1.0 / length2,
            np.sqrt(length2),
            self.chainage_m[:-1].copy(),
        )


@functools.lru_cache(maxsize=8)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(CRS.from_user_input(src), CRS.from_user_input(dst), always_xy=True)


def project_xy(x: np.ndarray, y: np.ndarray, *, crs: object) -> tuple[np.ndarray, np.ndarray]:
    """Return coordinates from ``crs`` in :data:`geo.settings.METRIC_CRS`.

    Parameters
    ----------
    x, y
        Coordinates (longitude and latitude for EPSG:4326).
    crs
        Their CRS (anything :class:`pyproj.CRS` accepts).
    """
    src = CRS.from_user_input(crs)
    if src == settings.METRIC_CRS:
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    tr = _transformer(src.to_wkt(), settings.METRIC_CRS.to_wkt())
    return tr.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))


def project_geometry(geom: shapely.Geometry, *, crs: object) -> shapely.Geometry:
    """Return ``geom`` (in ``crs``) in :data:`geo.settings.METRIC_CRS`."""
    src = CRS.from_user_input(crs)
    if src == settings.METRIC_CRS:
        return geom
    tr = _transformer(src.to_wkt(), settings.METRIC_CRS.to_wkt())
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _as_line(line: object, crs: object) -> tuple[LineString, CRS]:
    """Return a single LineString and its CRS from a geometry or GeoSeries."""
    if isinstance(line, gpd.GeoDataFrame):
        line = line.geometry
    if isinstance(line, gpd.GeoSeries):
        crs = line.crs or crs
        line = shapely.line_merge(shapely.union_all(line.values))
    if not isinstance(line, LineString) or line.is_empty or len(line.coords) < 2:
        raise LayerError(
            f"border line: geometry={getattr(line, 'geom_type', type(line).__name__)!r} is "
            "not a single LineString with at least two points; fix: give the border as "
            "one LineString ordered from the coast (layers.load_border_line())"
        )
    return line, CRS.from_user_input(crs)


def _densify(line: LineString, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    xy = shapely.get_coordinates(shapely.segmentize(line, spacing_m))
    keep = np.ones(len(xy), dtype=bool)
    keep[1:] = np.any(np.diff(xy, axis=0) != 0, axis=1)
    xy = xy[keep]
    chainage = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    return xy, chainage


@functools.lru_cache(maxsize=8)
def _reference_cached(wkb: bytes, crs_wkt: str, spacing_m: float, sign: float) -> BorderReference:
    line = project_geometry(shapely.from_wkb(wkb), crs=crs_wkt)
    points, chainage = _densify(line, spacing_m)
    return BorderReference(
        line=LineString(points),
        length_m=float(chainage[-1]),
        points=points,
        chainage_m=chainage,
        # An unbalanced tree with small leaves answers nearest-point queries on a
        # line's points two to five times faster than the default balanced one.
        tree=cKDTree(points, leafsize=16, balanced_tree=False, compact_nodes=False),
        syria_sign=sign,
    )


def border_reference(
    line: object,
    *,
    crs: object = settings.GEOGRAPHIC_CRS,
    countries: gpd.GeoDataFrame | None = None,
    spacing_m: float = settings.SECTOR_DENSIFY_M,
) -> BorderReference:
    """Prepare the border line for linear referencing (cached).

    Parameters
    ----------
    line
        The border as a LineString (or a GeoSeries of one) ordered from the
        coast, in ``crs``.
    crs
        CRS of ``line`` when it is a bare geometry (EPSG:4326 by default).
    countries
        Country outlines with an ``iso3`` column (``LBN``, ``SYR``). When
        given, the side of Syria is decided from them; otherwise from the
        line's orientation (from the coast eastwards then south, Syria lies
        on the left).
    spacing_m
        Densification spacing in metres.
    """
    geom, line_crs = _as_line(line, crs)
    if not spacing_m > 0:
        raise ConfigurationError(f"densification spacing {spacing_m!r} m must be positive")
    ref = _reference_cached(shapely.to_wkb(geom), line_crs.to_wkt(), float(spacing_m), 1.0)
    if countries is not None and len(countries):
        sign = _cached_syria_sign(ref, countries)
        if sign != ref.syria_sign:
            ref = _reference_cached(shapely.to_wkb(geom), line_crs.to_wkt(), float(spacing_m), sign)
    return ref


#: Side of Syria already decided, by line and countries (see :func:`_cached_syria_sign`).
_SIGNS: BoundedCache[float] = BoundedCache(8)


def _cached_syria_sign(ref: BorderReference, countries: gpd.GeoDataFrame) -> float:
    """Return :func:`_syria_sign`, decided once per line and countries' content.

    Deciding projects and unites the country outlines (0.04 s for the bundled ones),
    on every call that locates incidents; the key, a hash of the outlines' WKB, codes
    and CRS, takes a few milliseconds.
    """
    if "iso3" not in countries.columns:
        return _syria_sign(ref, countries)  # raises the layer error
    codes = [str(code) for code in countries["iso3"]]
    key = (
        shapely.to_wkb(ref.line),
        geometry_digest(countries.geometry.values, countries.crs, extra=codes),
    )
    return _SIGNS.get_or_make(key, lambda: _syria_sign(ref, countries))


def _syria_sign(ref: BorderReference, countries: gpd.GeoDataFrame) -> float:
    """Return +1 if Syria is on the left of the line, -1 if on the right."""
    if "iso3" not in countries.columns:
        raise LayerError(
            "countries: column 'iso3' is missing; fix: give the countries layer with "
            "iso3 codes LBN and SYR"
        )
    metric = countries.to_crs(settings.METRIC_CRS)
    syria = metric.loc[metric["iso3"] == "SYR"]
    lebanon = metric.loc[metric["iso3"] == "LBN"]
    if syria.empty or lebanon.empty:
        logger.warning("countries layer lacks LBN or SYR; side taken from the line's direction")
        return 1.0
    syr, lbn = shapely.union_all(syria.geometry.values), shapely.union_all(lebanon.geometry.values)
    # Probe 1 km to the left of the line at 41 places along it.
    probe = np.linspace(0.05, 0.95, 41) * ref.length_m
    idx = np.clip(np.searchsorted(ref.chainage_m, probe), 1, len(ref.points) - 1)
    a, b = ref.points[idx - 1], ref.points[idx]
    d = b - a
    normal_left = np.column_stack([-d[:, 1], d[:, 0]]) / np.hypot(d[:, 0], d[:, 1])[:, None]
    left = shapely.points(0.5 * (a + b) + 1_000.0 * normal_left)
    votes = int(shapely.contains(syr, left).sum()) - int(shapely.contains(lbn, left).sum())
    if votes == 0:
        logger.warning("cannot tell the side of Syria from the countries; using the direction")
        return 1.0
    return 1.0 if votes > 0 else -1.0


@dataclass(frozen=True)
class LocatedPoints:
    """Linear referencing of points: arrays aligned with the input points.

    Attributes
    ----------
    chainage_m
        Distance along the line of each point's nearest point on the line.
    offset_m
        Signed distance from the line (negative in Lebanon, positive in Syria).
    sector
        Sector number (1 from the coast), 0 outside the corridor.
    """

    chainage_m: np.ndarray
    offset_m: np.ndarray
    sector: np.ndarray


def sector_bounds_m(length_m: float, sector_km: float) -> np.ndarray:
    """Return the chainages (metres) of the sector ends: ``0, s, 2s, ..., length``.

    The last sector may be shorter than ``sector_km``.
    """
    _check_km("sector_km", sector_km)
    step = sector_km * 1_000.0
    n = max(1, math.ceil(length_m / step - 1e-9))
    return np.minimum(np.arange(n + 1) * step, length_m)


def locate_xy(
    x: np.ndarray,
    y: np.ndarray,
    ref: BorderReference,
    *,
    sector_km: float = settings.SECTOR_KM,
    corridor_km: float = settings.CORRIDOR_KM,
) -> LocatedPoints:
    """Locate points given in the metric CRS along the border (vectorised).

    Parameters
    ----------
    x, y
        Coordinates in :data:`geo.settings.METRIC_CRS` (metres).
    ref
        The prepared border line (:func:`border_reference`).
    sector_km, corridor_km
        Sector length and corridor half-width.
    """
    _check_km("corridor_km", corridor_km)
    bounds = sector_bounds_m(ref.length_m, sector_km)
    x = np.ascontiguousarray(x, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    if len(x) == 0:
        empty = np.empty(0)
        return LocatedPoints(empty, empty.copy(), np.empty(0, dtype=np.int64))
    chain, offset = _locate_many(x, y, ref)
    sector = np.searchsorted(bounds, chain, side="right")
    np.clip(sector, 1, len(bounds) - 1, out=sector)
    sector[np.abs(offset) > corridor_km * 1_000.0] = 0
    return LocatedPoints(chain, offset, sector.astype(np.int64, copy=False))


#: Cell size (m) of the spatial sort of many points before the k-d tree query.
_SORT_CELL_M = 500.0
#: Fewest points worth sorting spatially and sharing among threads.
_PARALLEL_MIN_POINTS = 20_000


def _locate_many(x: np.ndarray, y: np.ndarray, ref: BorderReference) -> tuple[np.ndarray, ...]:
    """Return the chainage and signed offset of many points (sorted, threaded).

    Many points are first put in the order of a coarse raster (rows of
    :data:`_SORT_CELL_M` cells): consecutive k-d tree queries then walk the same
    branches (measured for the k-d tree query of a million points: 0.69 s of
    CPU time against about 1.1 s in a random order). The sorted points are
    cut into one block per CPU, located in threads (the k-d tree query and
    numpy's arithmetic release the GIL), and put back in their order.
    """
    n = len(x)
    workers = min(os.cpu_count() or 1, 8)
    if n < _PARALLEL_MIN_POINTS:
        return _locate_block(x, y, ref)
    x0, y0 = ref.points[:, 0].min(), ref.points[:, 1].min()
    col = np.nan_to_num(np.clip((x - x0) / _SORT_CELL_M, -1e6, 1e6), nan=0.0).astype(np.int64)
    row = np.nan_to_num(np.clip((y - y0) / _SORT_CELL_M, -1e6, 1e6), nan=0.0).astype(np.int64)
    order = np.argsort(row * 4_000_000 + col, kind="stable")
    xs, ys = x[order], y[order]
    edges = np.linspace(0, n, workers + 1).astype(int)
    blocks = [slice(a, b) for a, b in itertools.pairwise(edges)]
    if workers > 1:
        with ThreadPoolExecutor(workers) as pool:
            parts = list(pool.map(lambda b: _locate_block(xs[b], ys[b], ref), blocks))
    else:
        parts = [_locate_block(xs, ys, ref)]
    chain, offset = np.empty(n), np.empty(n)
    chain[order] = np.concatenate([c for c, _ in parts])
    offset[order] = np.concatenate([o for _, o in parts])
    return chain, offset


def _locate_block(x: np.ndarray, y: np.ndarray, ref: BorderReference) -> tuple[np.ndarray, ...]:
    """Return chainage and signed offset: nearest vertex, then its two segments, exactly."""
    k = ref.tree.query(np.column_stack([x, y]), workers=1)[1]
    sx, sy, dx, dy, inv_len2, seg_len, seg_chain = ref.segments
    last = len(seg_len) - 1
    best_d2 = chain = cross = None
    for i in (np.clip(k - 1, 0, last), np.minimum(k, last)):  # the segments meeting at k
        rx = x - sx[i]
        ry = y - sy[i]
        ux, uy = dx[i], dy[i]
        t = np.clip((rx * ux + ry * uy) * inv_len2[i], 0.0, 1.0)
        ex = rx - t * ux
        ey = ry - t * uy
        d2 = ex * ex + ey * ey
        c = seg_chain[i] + t * seg_len[i]
        xp = ux * ry - uy * rx
        if best_d2 is None:
            best_d2, chain, cross = d2, c, xp
            continue
        better = d2 < best_d2
        best_d2 = np.where(better, d2, best_d2)
        chain = np.where(better, c, chain)
        cross = np.where(better, xp, cross)
    offset = np.sqrt(best_d2)
    offset = np.where(cross >= 0, offset, -offset)
    if ref.syria_sign < 0:
        offset = -offset
    return chain, offset


def locate_incidents(
    incidents: gpd.GeoDataFrame,
    line: object,
    *,
    sector_km: float = settings.SECTOR_KM,
    corridor_km: float = settings.CORRIDOR_KM,
    countries: gpd.GeoDataFrame | None = None,
    crs: object = settings.GEOGRAPHIC_CRS,
) -> pd.DataFrame:
    """Return each incident's chainage, signed offset and sector.

    Parameters
    ----------
    incidents
        Point incidents with a CRS (EPSG:4326 in the store).
    line
        The border line ordered from the coast (see :func:`border_reference`).
    sector_km, corridor_km
        Sector length and corridor half-width (km).
    countries
        Optional country outlines deciding which side is Syria.
    crs
        CRS of ``line`` if it is a bare geometry.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``incidents``: ``chainage_km`` (km from the coast),
        ``offset_m`` (metres; negative in Lebanon, positive in Syria) and
        ``sector_id`` (nullable integer; missing beyond the corridor). Its
        ``attrs["options"]`` holds ``sector_km`` and ``corridor_km``.
    """
    ref = border_reference(line, crs=crs, countries=countries)
    if len(incidents) and incidents.crs is None:
        raise ConfigurationError(
            "incidents: the GeoDataFrame has no CRS; fix: set it (EPSG:4326 for lon/lat)"
        )
    geoms = incidents.geometry.values
    bad = ~(shapely.get_type_id(geoms) == 0) | shapely.is_empty(geoms)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ConfigurationError(
            f"incident at row {first} (id {incidents.iloc[first].get('id', '?')!r}): "
            f"geometry={getattr(geoms[first], 'geom_type', None)!r} is not a point; fix: "
            "give every incident one Point location"
        )
    x, y = project_xy(shapely.get_x(geoms), shapely.get_y(geoms), crs=incidents.crs or 4326)
    loc = locate_xy(x, y, ref, sector_km=sector_km, corridor_km=corridor_km)
    sector = pd.array(np.where(loc.sector > 0, loc.sector, 0), dtype="Int64")
    sector[loc.sector == 0] = pd.NA
    located = pd.DataFrame(
        {"chainage_km": loc.chainage_m / 1_000.0, "offset_m": loc.offset_m, "sector_id": sector},
        index=incidents.index,
    )
    located.attrs["options"] = {"sector_km": float(sector_km), "corridor_km": float(corridor_km)}
    return located


def interpolate_xy(ref: BorderReference, chainage_m: np.ndarray) -> np.ndarray:
    """Return the points of the line at the given chainages (metres), shape ``(n, 2)``."""
    at = np.clip(np.asarray(chainage_m, dtype=float), 0.0, ref.length_m)
    return np.column_stack(
        [np.interp(at, ref.chainage_m, ref.points[:, 0]),
         np.interp(at, ref.chainage_m, ref.points[:, 1])]
    )  # fmt: skip


def line_piece(ref: BorderReference, start_m: float, end_m: float) -> LineString:
    """Return the stretch of the line between two chainages (metres)."""
    inner = (ref.chainage_m > start_m) & (ref.chainage_m < end_m)
    ends = interpolate_xy(ref, np.array([start_m, end_m]))
    return LineString(np.vstack([ends[:1], ref.points[inner], ends[1:]]))


def _check_km(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigurationError(f"{name}={value!r} must be a positive number of kilometres")


def _side_polygons(ref: BorderReference, corridor: shapely.Geometry) -> dict[str, shapely.Geometry]:
    """Split the corridor by the line (extended past its ends) into LB and SY."""
    pts = ref.points
    reach = 4.0 * corridor.length  # far beyond the corridor at both ends
    head = pts[0] + (pts[0] - pts[1]) / np.hypot(*(pts[0] - pts[1])) * reach
    tail = pts[-1] + (pts[-1] - pts[-2]) / np.hypot(*(pts[-1] - pts[-2])) * reach
    cutter = LineString(np.vstack([head, pts, tail]))
    pieces = list(split(corridor, cutter).geoms)
    reps = np.array([shapely.get_coordinates(pc.representative_point())[0] for pc in pieces])
    loc = locate_xy(reps[:, 0], reps[:, 1], ref, corridor_km=1e9)
    sides: dict[str, list[shapely.Geometry]] = {"LB": [], "SY": []}
    for piece, offset in zip(pieces, loc.offset_m, strict=True):
        sides["SY" if offset > 0 else "LB"].append(piece)
    return {k: shapely.union_all(v) for k, v in sides.items()}


def land_polygon(countries: gpd.GeoDataFrame | None) -> shapely.Geometry | None:
    """Return the union of the country outlines in the metric CRS (``None`` if there are none).

    Parameters
    ----------
    countries
        Country polygons with a CRS (the ``countries`` layer), or ``None``.
    """
    if countries is None or not len(countries):
        return None
    if countries.crs is None:
        raise ConfigurationError(
            "countries: the GeoDataFrame has no CRS; fix: set it (EPSG:4326 for lon/lat)"
        )
    geoms = countries.to_crs(settings.METRIC_CRS).geometry.to_numpy()
    geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
    if not len(geoms):
        return None
    return shapely.make_valid(shapely.union_all(geoms))


@functools.lru_cache(maxsize=8)
def _zones_cached(
    ref: BorderReference, sector_km: float, corridor_km: float, land_wkb: bytes | None
) -> gpd.GeoDataFrame:
    bounds = sector_bounds_m(ref.length_m, sector_km)
    corridor_m = corridor_km * 1_000.0
    corridor = ref.line.buffer(corridor_m, quad_segs=16)
    sides = _side_polygons(ref, corridor)
    if land_wkb is not None:
        # Clip once to the land of the two countries: the corridor and each side.
        land = shapely.intersection(shapely.from_wkb(land_wkb), corridor.envelope)
        corridor = shapely.intersection(corridor, land)
        sides = {k: shapely.intersection(v, land) for k, v in sides.items()}
    # Voronoi seeds: the midpoints of the densified segments of each sector's
    # stretch, so that two neighbouring sectors' cells meet where the sectors do.
    spacing = float(np.median(np.diff(ref.chainage_m)))
    seeds, labels = [], []
    for sid in range(1, len(bounds)):
        a, b = bounds[sid - 1], bounds[sid]
        n = max(1, math.ceil((b - a) / spacing - 1e-9))
        at = a + (np.arange(n) + 0.5) * (b - a) / n
        seeds.append(interpolate_xy(ref, at))
        labels.append(np.full(n, sid))
    label = np.concatenate(labels)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            MultiPoint(np.vstack(seeds)),
            extend_to=corridor.envelope.buffer(corridor_m),
            ordered=True,
        )
    )
    rows = []
    for sid in range(1, len(bounds)):
        zone = shapely.intersection(shapely.union_all(cells[label == sid]), corridor)
        start, end = bounds[sid - 1] / 1_000.0, bounds[sid] / 1_000.0
        for side in SIDES:
            part = zone if side == "all" else shapely.intersection(zone, sides[side])
            rows.append((sid, side, start, end, end - start, part.area / 1e6, part))
    frame = pd.DataFrame(
        rows,
        columns=[
            "sector_id",
            "side",
            "chainage_start_km",
            "chainage_end_km",
            "length_km",
            "area_km2",
            "geometry",
        ],
    )
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=settings.METRIC_CRS)


def make_sectors(
    line: object,
    *,
    sector_km: float = settings.SECTOR_KM,
    corridor_km: float = settings.CORRIDOR_KM,
    countries: gpd.GeoDataFrame | None = None,
    crs: object = settings.GEOGRAPHIC_CRS,
    metric: bool = False,
    clip_to_land: bool = True,
) -> gpd.GeoDataFrame:
    """Cut the border into sectors and return their zones.

    Parameters
    ----------
    line
        The border line ordered from the coast (see :func:`border_reference`).
    sector_km
        Sector length along the line (km); the last sector may be shorter.
    corridor_km
        Corridor half-width on each side of the line (km).
    countries
        Optional country outlines: they decide which side is Syria and, with
        ``clip_to_land``, the zones are clipped to their union (see the
        module notes on the coast and the southern end).
    crs
        CRS of ``line`` if it is a bare geometry.
    metric
        Return the zones in :data:`geo.settings.METRIC_CRS` instead of
        EPSG:4326.
    clip_to_land
        Clip every zone and its parts to the union of ``countries`` (no
        effect without ``countries``).

    Returns
    -------
    geopandas.GeoDataFrame
        Three rows per sector, ordered by ``sector_id`` then ``side``:
        ``side`` is ``"all"`` (the whole zone), ``"LB"`` (its Lebanese part)
        or ``"SY"`` (its Syrian part); columns ``sector_id`` (1 at the
        coast), ``chainage_start_km``, ``chainage_end_km``, ``length_km``
        (along the line), ``area_km2`` (measured in the metric CRS, after
        the clipping to land: ``LB`` + ``SY`` = ``all``).
    """
    _check_km("sector_km", sector_km)
    _check_km("corridor_km", corridor_km)
    ref = border_reference(line, crs=crs, countries=countries)
    land = land_polygon(countries) if clip_to_land else None
    land_wkb = None if land is None else shapely.to_wkb(land)
    zones = _zones_cached(ref, float(sector_km), float(corridor_km), land_wkb).copy()
    return zones if metric else zones.to_crs(settings.GEOGRAPHIC_CRS)
