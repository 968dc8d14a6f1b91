"""``python -m geo layers``: the reference layers and where each comes from."""

from __future__ import annotations

import argparse
import json
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

#: Columns of the table output: (heading, record keys tried in order, width).
TABLE_COLUMNS = (
    ("layer", ("name",), 22),
    ("licence", ("licence", "license"), 22),
    ("source", ("source",), 46),
    ("version", ("version",), 14),
    ("retrieved", ("retrieved",), 12),
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``layers`` command."""
    parser = subparsers.add_parser(
        "layers",
        help="list the reference layers with their provenance and licences",
        description="List the bundled reference layers (border, candidate lines, countries, "
        "regions, towns, official and unofficial crossings, terrain, the incident record) with "
        "their source, version, licence and retrieval date, from data/provenance.json.",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="a table for people, or every provenance field as JSON (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def _field(record: Mapping[str, Any], keys: Sequence[str]) -> str:
    """Return the first present field of ``record`` as one line of text."""
    for key in keys:
        value = record.get(key)
        if value not in (None, ""):
            return " ".join(str(value).split())
    return "—"


def format_table(records: Sequence[Mapping[str, Any]]) -> str:
    """Return the provenance records as a fixed-width text table (long text wrapped).

    Parameters
    ----------
    records
        Provenance records of :func:`layers.list_layers`.
    """
    lines = ["  ".join(h.ljust(w) for h, _, w in TABLE_COLUMNS).rstrip()]
    lines.append("  ".join("-" * w for _, _, w in TABLE_COLUMNS))
    for record in records:
        cells = [textwrap.wrap(_field(record, keys), w) or [""] for _, keys, w in TABLE_COLUMNS]
        for i in range(max(len(c) for c in cells)):
            lines.append(
                "  ".join(
                    (c[i] if i < len(c) else "").ljust(w)
                    for c, (_, _, w) in zip(cells, TABLE_COLUMNS, strict=True)
                ).rstrip()
            )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run ``python -m geo layers``; return the exit code."""
    import layers
    from geo.report import OSM_ATTRIBUTION

    records = list(layers.list_layers())
    if args.format == "json":
        print(json.dumps(records, indent=2, ensure_ascii=False, default=str))
    else:
        print(format_table(records))
        print()
        print(OSM_ATTRIBUTION)
    return 0
