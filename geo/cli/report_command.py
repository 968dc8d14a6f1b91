"""``python -m geo report``: the PDF report and the exports of one analysis.

Runs the same analysis as ``python -m geo analyze`` with the same options, then
writes into ``--out DIR`` the formats asked for (all by default):

- ``pdf``: ``report.pdf``, the priority-sector report;
- ``gpkg``: ``report.gpkg``, layers ``sectors``, ``incidents``, ``hotspots`` (if any);
- ``geojson``: ``sectors.geojson`` (ranked sectors, RFC 7946) and ``incidents.geojson``
  (the incidents, every field);
- ``csv``: ``sectors.csv`` (ranked sectors, no geometry), ``incidents.csv`` (the
  incidents, every field, safe to open in a spreadsheet) and ``incidents_acled.csv``
  (the incidents in ACLED's column layout);
- ``tif``: ``density.tif``, the density surface as a Cloud-Optimised GeoTIFF;
- ``html``: ``map.html``, a standalone map that works offline;

plus ``manifest.json`` (parameters, who generated them (``generated_by``), the SHA-256 of
every input and output, the command that regenerates them). A PostGIS store also gets the
ranking as its table ``ranked_sectors`` (for QGIS), once everything is written.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import logging
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geo import __version__, settings
from geo.cli.options import (
    add_analysis_options,
    add_compare_option,
    add_ranking_options,
    load_reference,
    load_selected_incidents,
    open_selected_store,
    positive_int,
    publish_ranking,
)
from geo.errors import BorderMonitorError, ConfigurationError

logger = logging.getLogger(__name__)

#: File written for each format.
OUTPUT_FILES = {
    "pdf": "report.pdf",
    "gpkg": "report.gpkg",
    "geojson": "sectors.geojson",
    "csv": "sectors.csv",
    "tif": "density.tif",
    "html": "map.html",
}
#: The incidents, written beside the sectors in the same format: output -> (format, file).
INCIDENT_FILES = {
    "incidents-csv": ("csv", "incidents.csv"),
    "incidents-acled": ("csv", "incidents_acled.csv"),
    "incidents-geojson": ("geojson", "incidents.geojson"),
}
MANIFEST = "manifest.json"


def parse_formats(text: str) -> tuple[str, ...]:
    """Parse the comma-separated ``--format`` list, keeping the canonical order."""
    asked = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in asked if f not in settings.REPORT_FORMATS]
    if not asked or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {', '.join(unknown) or '(none given)'}; "
            f"allowed: {','.join(settings.REPORT_FORMATS)}"
        )
    return tuple(f for f in settings.REPORT_FORMATS if f in asked)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``report`` command."""
    parser = subparsers.add_parser(
        "report",
        help="write the priority-sector PDF report and the exports",
        description="Rank the border sectors (as `analyze` does, with the same options) and "
        "write the PDF report, the sectors (GeoPackage, GeoJSON, CSV), the density "
        "(Cloud-Optimised GeoTIFF), the incidents (GeoPackage) and a standalone map that "
        "works offline, with a manifest of every input's and output's SHA-256.",
    )
    parser.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="folder to write into (created if missing; files of the same names are replaced)",
    )
    parser.add_argument(
        "--format",
        type=parse_formats,
        default=settings.REPORT_FORMATS,
        metavar="F,...",
        help="what to write, a comma list of "
        + ",".join(settings.REPORT_FORMATS)
        + " (default: all): "
        + "; ".join(f"{k} -> {v}" for k, v in OUTPUT_FILES.items()),
    )
    parser.add_argument(
        "--top-n",
        type=positive_int,
        default=settings.REPORT_TOP_N,
        metavar="N",
        help="sectors listed in the report's ranked table (default: %(default)s)",
    )
    parser.add_argument(
        "--title",
        metavar="TEXT",
        help="title of the report (default: 'Lebanon–Syria border: demarcation-priority sectors')",
    )
    add_analysis_options(parser)
    add_ranking_options(parser)
    add_compare_option(parser)
    parser.set_defaults(run=run)


def regenerate_command(args: argparse.Namespace, store_location: str) -> str:
    """Return the command line that regenerates these outputs, every option explicit.

    Parameters
    ----------
    args
        The parsed options.
    store_location
        The store read (``--store`` as resolved).
    """
    words = ["python", "-m", "geo", "report", "--out", str(args.out)]
    words += ["--format", ",".join(args.format), "--top-n", str(args.top_n)]
    if args.title:
        words += ["--title", args.title]
    words += ["--store", store_location]
    for option in ("since", "until"):
        if getattr(args, option):
            words += [f"--{option}", getattr(args, option).isoformat()]
    if args.types:
        words += ["--types", ",".join(args.types)]
    words += ["--sector-km", f"{args.sector_km:g}", "--corridor-km", f"{args.corridor_km:g}"]
    if args.weights:
        words += ["--weights", ",".join(f"{k}={v:g}" for k, v in args.weights.items())]
    words += ["--top-k", str(args.top_k), "--cell-m", f"{args.cell_m:g}", "--kernel", args.kernel]
    if args.bandwidth_m:
        words += ["--bandwidth-m", f"{args.bandwidth_m:g}"]
    if args.half_life_days:
        words += ["--half-life-days", f"{args.half_life_days:g}"]
    if args.terrain:
        words += ["--terrain", str(args.terrain)]
    if getattr(args, "compare_to", None):
        since, until = args.compare_to
        words += ["--compare-to", f"{since.isoformat()}..{until.isoformat()}"]
    words += ["--normalisation", args.normalisation, "--draws", str(args.draws)]
    words += ["--seed", str(args.seed)]
    return shlex.join(words)


def _check_out(out: str) -> Path:
    """Return the output folder, refusing a path that is a file (before any work)."""
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ConfigurationError(
            f"--out {out!r} is a file, not a folder; fix: give a folder (it is created if missing)"
        )
    return path


def _make_out(path: Path) -> None:
    """Create the output folder (once there is something to write)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigurationError(
            f"--out {str(path)!r} cannot be created: {exc.strerror or exc}; "
            "fix: choose a writable folder"
        ) from exc


def _layer_records() -> list[dict[str, Any]]:
    """Return the provenance records of the bundled reference layers."""
    import layers

    return list(layers.list_layers())


def _write_html_map(result: Any, path: Path) -> None:
    """Write the standalone offline map of the analysis (reference layers, sectors, ...)."""
    import layers
    from mapview.builder import build_map
    from mapview.standalone import write_standalone_html

    reference = {
        name: layers.load_layer(name)
        for name in ("border_candidates", "countries", "regions", "towns", "crossings")
    }
    cells = getattr(result.hotspots, "cells", None)
    folium_map = build_map(
        border=layers.load_layer("border"),
        layers=reference,
        incidents=result.incidents,
        density=result.density,
        sectors=result.ranked,
        hotspots=cells,
        top_k=result.parameters.top_k,
    )
    write_standalone_html(folium_map, path)


def run(args: argparse.Namespace) -> int:
    """Run ``python -m geo report``; return the exit code."""
    from tqdm import tqdm

    from geo import exports, report
    from geo.analysis import AnalysisParameters, run_analysis
    from geo.selection import filter_incidents
    from geo.store import is_database_url
    from geo.store.base import current_user

    out = _check_out(args.out)
    store = open_selected_store(args)
    steps: list[tuple[str, Callable[[], Any]]] = []
    state: dict[str, Any] = {}

    def load() -> None:
        if args.compare_to is None:
            state["incidents"] = load_selected_incidents(store, args)
            return
        # both periods are read; the exports hold the current one
        state["all"] = store.read(types=args.types)
        state["incidents"] = filter_incidents(
            state["all"], since=args.since, until=args.until, types=args.types
        )

    def analyse() -> None:
        state["reference"] = reference = load_reference()
        params = AnalysisParameters.from_args(args)
        if args.compare_to is None:
            state["result"] = run_analysis(state["incidents"], params, reference=reference)
        else:
            state.update(_briefing(state["all"], params, args.compare_to, reference))
        state["inputs"] = report.collect_inputs(
            state["incidents"],
            store_path=store.location,
            store_hash=store.content_hash() if is_database_url(store.location) else None,
        )
        _make_out(out)

    steps += [("loading incidents", load), ("analysing", analyse)]
    written: dict[str, Path] = {}

    skipped: dict[str, str] = {}

    def output(fmt: str, write: Callable[[Path], Any]) -> None:
        target = out / OUTPUT_FILES[fmt]

        def step() -> None:
            if fmt == "tif" and state["result"].density is None:
                reason = state["result"].density_message or "no density surface"
                skipped[fmt] = reason
                target.unlink(missing_ok=True)  # never leave an older surface behind
                return
            write(target)
            written[fmt] = target

        steps.append((f"writing {target.name}", step))

    generated_at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    generated_by = current_user()
    command = regenerate_command(args, store.location)
    writers: dict[str, Callable[[Path], Any]] = {
        "pdf": lambda p: report.write_pdf(
            state["result"],
            state["incidents"],
            p,
            inputs=state["inputs"],
            generated_at=generated_at,
            top_n=args.top_n,
            title=args.title,
            command=command,
            border=state["reference"].line,
            crossings=state["reference"].crossings,
            layer_records=_layer_records(),
            briefing=state.get("briefing"),
            generated_by=generated_by,
        ),
        "gpkg": lambda p: _write_geopackage(exports, state["result"], state["incidents"], p),
        "geojson": lambda p: exports.export_sectors(state["result"], p, "geojson"),
        "csv": lambda p: exports.export_sectors(state["result"], p, "csv"),
        "tif": lambda p: exports.export_density(state["result"], p),
        "html": lambda p: _write_html_map(state["result"], p),
    }
    for fmt in args.format:
        output(fmt, writers[fmt])
    incident_writers: dict[str, Callable[[Path], Any]] = {
        "incidents-csv": lambda p: exports.export_incidents_csv(state["incidents"], p),
        "incidents-acled": lambda p: exports.export_incidents_acled(state["incidents"], p),
        "incidents-geojson": lambda p: exports.export_incidents(state["incidents"], p, "geojson"),
    }
    for name, (fmt, file) in INCIDENT_FILES.items():
        if fmt in args.format:

            def write_incidents(name: str = name, target: Path = out / file) -> None:
                incident_writers[name](target)
                written[name] = target

            steps.append((f"writing {file}", write_incidents))

    progress = tqdm(
        total=len(steps), desc="report", unit="step", file=sys.stderr, leave=False, disable=None
    )
    with progress as bar:
        for label, step in steps:
            bar.set_description(label)
            logger.info("%s", label)
            try:
                step()
            except OSError as exc:
                if isinstance(exc, BorderMonitorError):
                    raise
                raise ConfigurationError(
                    f"report: {label} failed: {exc.strerror or exc}; "
                    "fix: check the folder is writable and has space"
                ) from exc
            bar.update()

    manifest = _manifest(state, written, args, command, generated_at, generated_by)
    manifest["skipped"] = [
        {"format": fmt, "file": OUTPUT_FILES[fmt], "reason": reason}
        for fmt, reason in skipped.items()
    ]
    (out / MANIFEST).write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8"
    )
    result = state["result"]
    for fmt, reason in skipped.items():
        print(f"warning: {OUTPUT_FILES[fmt]} not written: {reason}", file=sys.stderr)
    if not result.evidence_ok:
        print(f"warning: {' '.join(result.message.split())}", file=sys.stderr)
    for path in [*written.values(), out / MANIFEST]:
        print(path)
    sys.stdout.flush()
    publish_ranking(store, result)
    return 0


def _write_geopackage(exports: Any, result: Any, incidents: Any, path: Path) -> None:
    """Write the sectors, incidents and hot spots as layers of one GeoPackage."""
    partial = path.with_name(f".{path.stem}.partial.gpkg")  # GDAL wants the .gpkg suffix
    partial.unlink(missing_ok=True)
    exports.export_sectors(result, partial, "gpkg", layer="sectors")
    exports.export_incidents(incidents, partial, "gpkg", layer="incidents")
    exports.export_hotspots(result, partial, layer="hotspots")
    os.replace(partial, path)


def _briefing(incidents: Any, params: Any, then: Any, reference: Any) -> dict[str, Any]:
    """Return the comparison, its emerging hot spots and the briefing page (``--compare-to``)."""
    from geo.change import compare_periods
    from geo.emerging import compute_emerging_hotspots
    from geo.errors import InsufficientDataError
    from geo.report.briefing import build_briefing_html
    from geo.selection import filter_incidents

    comparison = compare_periods(incidents, params, then=then, reference=reference)
    until = filter_incidents(incidents, until=params.until, types=params.types)
    emerging, reason = None, None
    try:
        emerging = compute_emerging_hotspots(until, line=reference.line)
    except InsufficientDataError as exc:
        reason = f"emerging hot spots not computed: {exc}"
    html = build_briefing_html(comparison, emerging=emerging, emerging_reason=reason)
    return {"result": comparison.now, "comparison": comparison, "briefing": html}


def _periods(result: Any, comparison: Any) -> dict[str, Any]:
    """Return the analysed period, and the compared one when there is a comparison."""
    if comparison is not None:
        return comparison.to_json_dict()["periods"]
    p = result.parameters
    return {"now": [p.since.isoformat() if p.since else None,
                    p.until.isoformat() if p.until else None]}  # fmt: skip


def _manifest(
    state: dict[str, Any],
    written: dict[str, Path],
    args: argparse.Namespace,
    command: str,
    generated_at: dt.datetime,
    generated_by: str,
) -> dict[str, Any]:
    """Return the manifest: what was read, what was written, how, and by whom."""
    from geo.report import hash_file

    result = state["result"]
    return {
        "generated_at": generated_at.isoformat(),
        "generated_by": generated_by,
        "software": {"geo": __version__, "python": sys.version.split()[0]},
        "command": command,
        "parameters": result.parameters.to_dict(),
        "periods": _periods(result, state.get("comparison")),
        "incidents": len(state["incidents"]),
        "evidence_ok": bool(getattr(result, "evidence_ok", True)),
        "inputs": [dataclasses.asdict(record) for record in state["inputs"]],
        "outputs": [
            {"format": fmt, "file": path.name, "sha256": hash_file(path)}
            for fmt, path in written.items()
        ],
    }
