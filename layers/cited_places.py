"""Cited places and the places reporting names without a citable coordinate.

Two hand-curated tables in ``data/sources/`` locate everything the crossings and
the incident record place:

``cited_places.csv``
    One row per place whose coordinate is read from a cited source (a Wikipedia
    infobox, GeoNames): ``place, name_ar, country, latitude, longitude,
    coordinate_source, coordinate_url, note``. Every placed crossing and incident
    sits exactly on one of these points.
``named_places.csv``
    One row per place named in reporting that has no citable coordinate
    (Hawsh al-Sayyed Ali, al-Qasr, the Aboudiyeh bridge, ...): ``name, name_ar,
    country, anchor, rule, radius_m, on_border, evidence, evidence_url``. Such a
    place is coded to its ``anchor`` (a cited place) with a radius that covers
    it, the *covering radius* (:func:`covering_radius_m`).

The covering radius follows the ``rule``:

``judged`` or ``cited``
    ``radius_m`` as given: a cited distance (``cited``: "25 km from Baalbek" plus
    an allowance for the place's extent, stated in ``evidence``) or the
    researchers' judgement from the cited relation (``judged``).
terms separated by ``;``
    The largest geodesic distance (WGS 84) from the anchor to each term, plus the
    term's allowance (``+metres``), rounded up to :data:`RADIUS_STEP_M`:

    - ``place:<cited place>[+m]``: that place's point;
    - ``border:<level>/<name>[+m]``: the vertices of the border line within
      :data:`BORDER_TOLERANCE_M` of the region (``district/Hermel``,
      ``governorate/Homs``) of the ``regions`` layer;
    - ``area:<level>/<name>[+m]``: the vertices of the region's polygon.

    The farthest point of a line or polygon from a point is one of its vertices,
    so the maximum over vertices is exact.

A named place with ``on_border = yes`` lies on or at the border; its covering
radius must reach the border line from the anchor (checked by :func:`check_named_places`).
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point

from geo.errors import LayerError
from layers.paths import SOURCES_DIR

logger = logging.getLogger(__name__)

#: The cited places and the named places without a citable coordinate.
CITED_PLACES_PATH = SOURCES_DIR / "cited_places.csv"
NAMED_PLACES_PATH = SOURCES_DIR / "named_places.csv"
#: Covering radii are rounded up to a multiple of this (metres).
RADIUS_STEP_M = 500.0
#: Border vertices this close to a region belong to its stretch (metres, metric CRS), by the
#: region's country: geoBoundaries districts depart from the OSM line by up to 2.4 km, the
#: Natural Earth governorates (simplified) by kilometres.
BORDER_TOLERANCE_M: dict[str, float] = {"LBN": 2_500.0, "SYR": 5_000.0}
#: Rules whose radius is given in the table rather than computed.
GIVEN_RULES = ("judged", "cited")

CITED_COLUMNS = (
    "place",
    "name_ar",
    "country",
    "latitude",
    "longitude",
    "coordinate_source",
    "coordinate_url",
    "note",
)
NAMED_COLUMNS = (
    "name",
    "name_ar",
    "country",
    "anchor",
    "rule",
    "radius_m",
    "on_border",
    "evidence",
    "evidence_url",
)

_GEOD = Geod(ellps="WGS84")


@dataclass(frozen=True)
class CitedPlace:
    """A place with a cited coordinate.

    Attributes
    ----------
    place
        Its key (the name used by the other tables).
    name_ar, country
        Arabic name; ISO 3 code of the country it lies in (LBN, SYR).
    latitude, longitude
        The cited coordinate (degrees, WGS 84).
    coordinate_source, coordinate_url
        Where the coordinate was read.
    note
        What the point is.
    """

    place: str
    name_ar: str
    country: str
    latitude: float
    longitude: float
    coordinate_source: str
    coordinate_url: str
    note: str

    @property
    def point(self) -> Point:
        """The place as a shapely point (longitude, latitude)."""
        return Point(self.longitude, self.latitude)


@dataclass(frozen=True)
class NamedPlace:
    """A place named in reporting without a citable coordinate, and how it is coded.

    Attributes
    ----------
    name, name_ar, country
        As reported.
    anchor
        The cited place it is coded to.
    rule
        How its covering radius is obtained (see the module docstring).
    radius_m
        The radius of a ``judged`` or ``cited`` rule; ``None`` for a computed one.
    on_border
        Whether it lies on or at the border line.
    evidence, evidence_url
        What is known of where it is (our summary) and where that is said.
    """

    name: str
    name_ar: str
    country: str
    anchor: str
    rule: str
    radius_m: float | None
    on_border: bool
    evidence: str
    evidence_url: str


def geodesic_m(lon: float, lat: float, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Return the geodesic distances (WGS 84, metres) from one point to many."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    return _GEOD.inv(np.full(lons.shape, lon), np.full(lats.shape, lat), lons, lats)[2]


def _read_csv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise LayerError(f"{path} is missing; it is a curated source of data/ (see its README)")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise LayerError(f"{path.name}: missing column(s) {missing}; add them")
        return list(reader)


def read_cited_places(path: Path | None = None) -> dict[str, CitedPlace]:
    """Return the cited places by key.

    Raises
    ------
    LayerError
        Listing every row with a duplicate key, a coordinate that is not a number
        inside the border region, or no coordinate URL.
    """
    path = path or CITED_PLACES_PATH
    out: dict[str, CitedPlace] = {}
    problems = []
    for line, row in enumerate(_read_csv(path, CITED_COLUMNS), start=2):
        key = row["place"].strip()
        try:
            lat, lon = float(row["latitude"]), float(row["longitude"])
        except ValueError:
            problems.append(f"line {line} ({key!r}): latitude and longitude must be numbers")
            continue
        if not (33.0 <= lat <= 35.0 and 35.5 <= lon <= 37.0):
            problems.append(
                f"line {line} ({key!r}): ({lat}, {lon}) is outside the border region "
                "(33–35°N, 35.5–37°E); are latitude and longitude swapped?"
            )
        if not row["coordinate_url"].startswith(("https://", "http://")):
            problems.append(f"line {line} ({key!r}): coordinate_url must be a web address")
        if key in out:
            problems.append(f"line {line}: place {key!r} is listed twice; keep one key a place")
        out[key] = CitedPlace(
            place=key,
            name_ar=row["name_ar"],
            country=row["country"],
            latitude=lat,
            longitude=lon,
            coordinate_source=row["coordinate_source"],
            coordinate_url=row["coordinate_url"],
            note=row["note"],
        )
    if problems:
        raise LayerError(f"{path.name}: " + "; ".join(problems))
    return out


def read_named_places(
    path: Path | None = None, *, cited: Mapping[str, CitedPlace] | None = None
) -> dict[str, NamedPlace]:
    """Return the named places by name, checking each anchor is a cited place.

    Raises
    ------
    LayerError
        Listing every row with an unknown anchor, a malformed rule or radius, or
        no evidence URL.
    """
    path = path or NAMED_PLACES_PATH
    cited = read_cited_places() if cited is None else cited
    out: dict[str, NamedPlace] = {}
    problems = []
    for line, row in enumerate(_read_csv(path, NAMED_COLUMNS), start=2):
        name, rule = row["name"].strip(), row["rule"].strip()
        where = f"line {line} ({name!r})"
        if row["anchor"] not in cited:
            problems.append(f"{where}: anchor {row['anchor']!r} is not in cited_places.csv")
        radius: float | None = None
        if rule in GIVEN_RULES:
            try:
                radius = float(row["radius_m"])
            except ValueError:
                problems.append(f"{where}: a {rule} rule needs radius_m in metres")
        else:
            try:
                _parse_terms(rule)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
            if row["radius_m"].strip():
                problems.append(f"{where}: radius_m is computed for rule {rule!r}; leave it empty")
        if row["on_border"] not in ("yes", "no"):
            problems.append(f"{where}: on_border must be yes or no, not {row['on_border']!r}")
        if not row["evidence_url"].startswith(("https://", "http://")):
            problems.append(f"{where}: evidence_url must be a web address")
        if name in out:
            problems.append(f"{where}: listed twice")
        out[name] = NamedPlace(
            name=name,
            name_ar=row["name_ar"],
            country=row["country"],
            anchor=row["anchor"],
            rule=rule,
            radius_m=radius,
            on_border=row["on_border"] == "yes",
            evidence=row["evidence"],
            evidence_url=row["evidence_url"],
        )
    if problems:
        raise LayerError(f"{path.name}: " + "; ".join(problems))
    return out


def _parse_terms(rule: str) -> list[tuple[str, str, float]]:
    """Return ``(kind, target, allowance_m)`` for each term of a computed rule."""
    terms = []
    for part in (p.strip() for p in rule.split(";")):
        kind, sep, rest = part.partition(":")
        if not sep or kind not in ("place", "border", "area"):
            raise ValueError(
                f"rule term {part!r} is not place:<place>, border:<level>/<name> or "
                "area:<level>/<name> (each with an optional +metres), nor judged or cited"
            )
        target, plus, allowance = rest.partition("+")
        try:
            extra = float(allowance) if plus else 0.0
        except ValueError:
            raise ValueError(f"rule term {part!r}: the allowance after + must be metres") from None
        if kind != "place" and target.count("/") != 1:
            raise ValueError(f"rule term {part!r}: name the region as <level>/<name>")
        terms.append((kind, target.strip(), extra))
    return terms


def _region(regions: gpd.GeoDataFrame, target: str) -> gpd.GeoSeries:
    level, name = target.split("/")
    match = regions[(regions["level"] == level) & (regions["name"] == name)]
    if len(match) != 1:
        raise LayerError(
            f"named places: region {target!r} not found in the regions layer (level/name); "
            "rebuild regions or fix the rule"
        )
    return match


def _vertices(geom: shapely.Geometry) -> np.ndarray:
    return shapely.get_coordinates(geom)


def covering_radius_m(
    named: NamedPlace,
    cited: Mapping[str, CitedPlace],
    *,
    border: LineString,
    regions: gpd.GeoDataFrame,
) -> float:
    """Return the radius around ``named.anchor`` that covers the named place (metres).

    Parameters
    ----------
    named
        The named place.
    cited
        The cited places (its anchor and any ``place:`` term).
    border
        The border line, EPSG:4326.
    regions
        The ``regions`` layer (``name``, ``level``, ``country``), EPSG:4326.
    """
    if named.radius_m is not None:
        return float(named.radius_m)
    from layers.crs import METRIC_CRS

    anchor = cited[named.anchor]
    border_xy = np.asarray(border.coords)[:, :2]
    border_m = shapely.points(
        np.asarray(gpd.GeoSeries([border], crs=4326).to_crs(METRIC_CRS).iloc[0].coords)[:, :2]
    )
    best = 0.0
    for kind, target, extra in _parse_terms(named.rule):
        if kind == "place":
            if target not in cited:
                raise LayerError(f"named place {named.name!r}: {target!r} is not a cited place")
            xy = np.array([[cited[target].longitude, cited[target].latitude]])
        else:
            region = _region(regions, target)
            if kind == "area":
                xy = _vertices(region.geometry.iloc[0])
            else:
                tolerance = BORDER_TOLERANCE_M.get(str(region["country"].iloc[0]), 2_500.0)
                zone = region.to_crs(METRIC_CRS).geometry.iloc[0]
                near = shapely.distance(border_m, zone) <= tolerance
                if not near.any():
                    raise LayerError(
                        f"named place {named.name!r}: no border vertex within "
                        f"{tolerance:.0f} m of {target!r}"
                    )
                xy = border_xy[near]
        far = float(geodesic_m(anchor.longitude, anchor.latitude, xy[:, 0], xy[:, 1]).max())
        best = max(best, far + extra)
    return math.ceil(best / RADIUS_STEP_M) * RADIUS_STEP_M


def describe_rule(named: NamedPlace) -> str:
    """Return the covering rule in words, for notes and the README."""
    if named.rule == "judged":
        return "a radius judged from the cited relation"
    if named.rule == "cited":
        return "a cited distance plus an allowance for the place's extent"
    parts = []
    for kind, target, extra in _parse_terms(named.rule):
        if kind == "place":
            text = f"to {target}"
        elif kind == "border":
            level, name = target.split("/")
            text = f"to the border line along {name} {level}"
        else:
            level, name = target.split("/")
            text = f"to every point of {name} {level}"
        if extra:
            text += f" (+{extra / 1000:g} km)"
        parts.append(text)
    return (
        "the largest geodesic distance from the point "
        + " and ".join(parts)
        + f", rounded up to {RADIUS_STEP_M:.0f} m"
    )


def load_reference(data_dir: Path | None = None) -> tuple[LineString, gpd.GeoDataFrame]:
    """Return the committed border line and ``regions`` layer that covering radii use.

    Read afresh from ``data_dir/layers`` (``data/`` by default), so a build that has
    just rewritten them sees the new files. ``python -m layers.build`` builds them
    before the crossings and the incident record.
    """
    from layers.geojson_io import read_geojson
    from layers.paths import DATA_DIR

    folder = (data_dir or DATA_DIR) / "layers"
    border = read_geojson(folder / "border.geojson", name="border").geometry.iloc[0]
    regions = read_geojson(folder / "regions.geojson", name="regions")
    return border, regions


def check_named_places(
    named: Mapping[str, NamedPlace],
    cited: Mapping[str, CitedPlace],
    *,
    border: LineString,
    regions: gpd.GeoDataFrame,
) -> dict[str, float]:
    """Return every named place's covering radius, checking those on the border reach it.

    Raises
    ------
    LayerError
        Listing every named place on the border whose radius does not reach the
        border line from its anchor.
    """
    from layers.crs import METRIC_CRS

    radii = {
        name: covering_radius_m(n, cited, border=border, regions=regions)
        for name, n in named.items()
    }
    line_m = gpd.GeoSeries([border], crs=4326).to_crs(METRIC_CRS).iloc[0]
    problems = []
    for name, place in named.items():
        if not place.on_border:
            continue
        anchor = gpd.GeoSeries([cited[place.anchor].point], crs=4326).to_crs(METRIC_CRS).iloc[0]
        gap = anchor.distance(line_m)
        if radii[name] < gap:
            problems.append(
                f"{name!r}: on the border, but its radius {radii[name]:.0f} m does not reach the "
                f"border line, {gap:.0f} m from {place.anchor}; widen the radius"
            )
    if problems:
        raise LayerError("named_places.csv: " + "; ".join(problems))
    return radii
