"""``python -m geo ingest FILE... [--store PATH] [--accept-partial] [--format text|json]``.

Each file is validated against the store (and the files before it) and stored as
one batch. A file with any rejected feature stores nothing unless
``--accept-partial`` is given, which stores its valid features. Exit 0 when every
file was stored, 2 when a file was refused (its features are not stored).
``--format json`` prints the report object of the file (with ``stored``), or
``{"files": [...]}`` when several files are given.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from geo.cli.options import add_store_option, open_selected_store

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``ingest`` command."""
    parser = subparsers.add_parser(
        "ingest",
        help="validate incident files and store their features",
        description="Validate GeoJSON, newline-delimited GeoJSON, CSV (latitude/longitude "
        "columns), ACLED CSV exports or GeoPackage layers, print the report and store "
        "each file as one batch. A file with any rejected feature stores nothing (exit 2) "
        "unless --accept-partial. An explicit --store that does not exist is created empty.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="incident file(s)")
    add_store_option(parser)
    parser.add_argument(
        "--accept-partial",
        action="store_true",
        help="store the valid features of a file even when others are rejected",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="report format on standard output (default: %(default)s)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Validate and store each file; print the reports; return the exit code."""
    from geo.cli import EXIT_OK, EXIT_REJECTED
    from geo.errors import LayerError, ValidationError
    from geo.ingest import store_report, validate_file
    from layers.reference import ReferenceLayers

    store = open_selected_store(args, create=True)
    try:
        border = ReferenceLayers.bundled().line
    except LayerError as exc:  # validation says so in each report
        logger.warning("border line not available (%s): region not checked", exc)
        border = None
    reports, refused = [], 0
    for name in args.files:
        report = validate_file(name, existing=store, border=border)
        stored = False
        storable = report.accepted_count and not report.file_rejected
        if storable and (not report.errors or args.accept_partial):
            try:
                store_report(store, report, accept_partial=args.accept_partial)
                stored = True
            except ValidationError as exc:  # ids stored meanwhile by another upload
                report.problems.extend(exc.problems)
        refused += not stored
        reports.append((report, stored))
        if args.format == "text":
            print(report.to_text())
            if not stored:
                why = (
                    "file rejected"
                    if report.file_rejected
                    else "nothing valid"
                    if not report.accepted_count
                    else "rejected features; fix them or use --accept-partial"
                )
                print(f"  nothing stored ({why})")
    if args.format == "json":
        out = []
        for report, stored in reports:
            item = report.to_dict()
            item["stored"] = stored
            out.append(item)
        document = out[0] if len(out) == 1 else {"files": out}
        json.dump(document, sys.stdout, indent=2, ensure_ascii=False)
        print()
    return EXIT_REJECTED if refused else EXIT_OK
