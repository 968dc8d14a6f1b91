"""``python -m geo density``: write the incident density surface as a Cloud-Optimised GeoTIFF.

The surface covers the border region (the border line's bounding box plus
``REGION_MARGIN_M``) on cells of ``--cell-m`` metres in the metric CRS, in
weighted incidents per km². No recency decay unless ``--half-life-days`` is
given. The method is described in :mod:`geo.density`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from geo.cli.options import (
    add_density_options,
    add_filter_options,
    load_reference,
    load_selected_incidents,
    open_selected_store,
    output_file,
)

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``density`` command to ``python -m geo``."""
    parser = subparsers.add_parser(
        "density",
        help="write the incident density surface (Cloud-Optimised GeoTIFF)",
        description="Weighted kernel density of the stored incidents on a metric grid over "
        "the border region, written as a Cloud-Optimised GeoTIFF in weighted incidents "
        "per km². Each incident's kernel is widened by its location precision.",
    )
    parser.add_argument(
        "--out", required=True, type=Path, metavar="FILE.tif", help="GeoTIFF to write"
    )
    add_filter_options(parser)
    add_density_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Compute the surface from the store and write it; return the exit code."""
    from geo.density import compute_density, describe_surface

    out = output_file(args.out)
    incidents = load_selected_incidents(open_selected_store(args), args)
    surface = compute_density(
        incidents,
        line=load_reference().line,
        cell_m=args.cell_m,
        bandwidth_m=args.bandwidth_m,
        kernel=args.kernel,
        half_life_days=args.half_life_days,
    )
    surface.to_geotiff(out)
    info = describe_surface(surface)
    print(
        f"wrote {out}: {info['cells']} cells of {info['cell_m']:g} m, "
        f"{info['incidents']} incidents (weight {info['total_weight']:g}), "
        f"{info['kernel']} kernel, bandwidth {info['bandwidth_m']:g} m "
        f"({info['bandwidth_rule']}), peak {info['peak']:.4g} {info['units']}"
    )
    if surface.outside_weight > 0:
        print(
            f"note: incidents of weight {surface.outside_weight:g} lie outside the grid "
            "and are not in the surface"
        )
    return 0
