"""``python -m geo hotspots``: write Getis-Ord Gi* hot and cold spots to a GeoPackage.

Hexagons of ``--cell-km`` over the monitored region, with z, p, the
Benjamini–Hochberg adjusted p and the 99/95/90 % bin of each; the method is
described in :mod:`geo.hotspots`. Fewer than ``HOTSPOT_MIN_INCIDENTS``
incidents is refused with a one-line error and exit code 1.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from geo import settings
from geo.cli.options import (
    add_filter_options,
    load_reference,
    load_selected_incidents,
    open_selected_store,
    output_file,
    positive_float,
    positive_int,
)
from geo.errors import ConfigurationError

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hotspots`` command to ``python -m geo``."""
    parser = subparsers.add_parser(
        "hotspots",
        help="write Getis-Ord Gi* hot and cold spots (GeoPackage)",
        description="Getis-Ord Gi* on hexagons over the border region with "
        "false-discovery-rate correction; cells binned at 99/95/90 % confidence, "
        f"hot and cold. Needs at least {settings.HOTSPOT_MIN_INCIDENTS} incidents.",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE.gpkg", help="GeoPackage to write"
    )
    add_filter_options(parser)
    parser.add_argument(
        "--cell-km",
        type=positive_float,
        default=settings.HOTSPOT_CELL_KM,
        metavar="K",
        help="hexagon size, between opposite edges, in km (default: %(default)s)",
    )
    parser.add_argument(
        "--band-km",
        type=positive_float,
        metavar="KM",
        help="neighbours within this distance of a cell's centre (default: "
        f"{settings.HOTSPOT_BAND_CELLS:g} × --cell-km, two rings of hexagons)",
    )
    parser.add_argument(
        "--k-neighbours",
        type=positive_int,
        metavar="K",
        help="use the K nearest cells as neighbours instead of a distance band",
    )
    parser.add_argument(
        "--value",
        choices=("weight", "count"),
        default=settings.HOTSPOT_VALUE,
        help="analyse the weighted incidents or their plain count (default: %(default)s)",
    )
    parser.add_argument(
        "--emerging",
        action="store_true",
        help="emerging hot spots instead: space-time Gi* per time slice, the Mann-Kendall "
        "trend of each cell and ArcGIS's categories (new, consecutive, intensifying, "
        "persistent, diminishing, sporadic, oscillating, historical; hot and cold); "
        "layers emerging_hotspots and emerging_slices",
    )
    parser.add_argument(
        "--slice-days",
        type=positive_int,
        default=30,
        metavar="N",
        help="with --emerging, the length of a time slice in days (default: %(default)s; "
        "at least 10 slices are needed)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Compute the hot spots from the store and write them; return the exit code."""
    from geo.hotspots import compute_hotspots

    out = output_file(args.out)
    incidents = load_selected_incidents(open_selected_store(args), args)
    if args.emerging:
        return _run_emerging(args, incidents, out)
    result = compute_hotspots(
        incidents,
        cell_km=args.cell_km,
        band_km=args.band_km,
        k_neighbours=args.k_neighbours,
        value=args.value,
        line=load_reference().line,
    )
    result.to_file(out)
    summary = {label: n for label, n in result.summary().items() if n}
    print(f"wrote {out}: {result.describe()}")
    print("; ".join(f"{label}: {n} cells" for label, n in summary.items()))
    if result.n_outside:
        print(f"note: {result.n_outside} incidents lie outside the study area and are left out")
    return 0


def _run_emerging(args: argparse.Namespace, incidents, out: Path) -> int:
    """Compute and write the emerging hot spots; return the exit code."""
    from geo.emerging import compute_emerging_hotspots

    if args.k_neighbours is not None:
        raise ConfigurationError("--k-neighbours does not apply to --emerging; use --band-km")
    result = compute_emerging_hotspots(
        incidents,
        line=load_reference().line,
        slice_days=args.slice_days,
        cell_km=args.cell_km,
        band_km=args.band_km,
        value=args.value,
    )
    result.to_file(out)
    print(f"wrote {out}: {result.describe()}")
    print("; ".join(f"{label}: {n} cells" for label, n in result.summary().items()))
    return 0
