"""The priority-sector report: a PDF others can audit and regenerate.

The report states what was found (the ranked sectors, each criterion's
contribution, how stable each rank is when the weights change), how (criteria
and units, normalisation, weights, bandwidth, sector length, corridor width),
and from which data (incidents by type and month, how many located only
coarsely, the provenance and licence of every reference layer, the SHA-256 of
every input file, the software versions and every parameter).

Safety: every piece of text from data or user is escaped with
:func:`html.escape` before it enters the HTML, images are inlined as ``data:``
URIs, and WeasyPrint is given a URL fetcher that allows only ``data:``, so a
crafted ``file://`` or ``http://`` reference can neither embed a local file nor
reach the network.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import logging
import math
import os
import platform
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import __version__, settings
from geo.errors import BorderMonitorError, ConfigurationError

if TYPE_CHECKING:
    from geo.analysis import AnalysisResult

logger = logging.getLogger(__name__)

#: Packages whose versions the report lists (with GDAL and PROJ).
REPORTED_PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "geopandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "rasterio",
    "esda",
    "libpysal",
    "matplotlib",
    "weasyprint",
)
#: OpenStreetMap attribution required by the ODbL for the border and countries.
OSM_ATTRIBUTION = (
    "Border and country outlines © OpenStreetMap contributors, available under the "
    "Open Database License (ODbL 1.0), through timezone-boundary-builder."
)
#: Sectors whose incidents are listed in the report.
TOP_INCIDENT_SECTORS = 5
#: Incidents listed per sector.
INCIDENTS_PER_SECTOR = 10
#: Chunk size when hashing files.
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input of the analysis, identified by its SHA-256.

    Attributes
    ----------
    role
        What the file is to the analysis (``"incident source"``,
        ``"reference layer"``, ``"incident store"``, ...).
    name
        The file's name (or path relative to the project).
    sha256
        Hex SHA-256 of the file's bytes.
    detail
        A short note (e.g. how many of its incidents were used).
    """

    role: str
    name: str
    sha256: str
    detail: str = ""


def hash_file(path: str | os.PathLike[str]) -> str:
    """Return the hex SHA-256 of the file at ``path``.

    Parameters
    ----------
    path
        File to hash, read in 1 MiB chunks.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def collect_inputs(
    incidents: pd.DataFrame | None = None,
    *,
    store_path: str | os.PathLike[str] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> list[InputFile]:
    """List every input of an analysis with its SHA-256.

    Parameters
    ----------
    incidents
        The incidents analysed; their ``source_file`` and ``source_sha256``
        columns (written by the store on ingest) name the files they came from.
    store_path
        The incident store, hashed as it is now.
    data_dir
        Folder of the bundled reference data (default :data:`settings.DATA_DIR`):
        ``layers/*.geojson``, ``terrain.tif`` and ``provenance.json`` are hashed.

    Returns
    -------
    list of InputFile
        Incident sources (with the number of incidents used from each), the
        store, then the reference data, each group sorted by name.
    """
    records: list[InputFile] = []
    if incidents is not None and {"source_file", "source_sha256"} <= set(incidents.columns):
        sources = (
            pd.DataFrame(
                {
                    "name": incidents["source_file"].astype("string").fillna("(unnamed)"),
                    "sha": incidents["source_sha256"].astype("string").fillna(""),
                }
            )
            .value_counts()
            .sort_index()
        )
        for (name, sha), count in sources.items():
            records.append(
                InputFile("incident source", str(name), str(sha), f"{count} incident(s) used")
            )
    if store_path is not None and Path(store_path).is_file():
        records.append(
            InputFile(
                "incident store",
                Path(store_path).name,
                hash_file(store_path),
                "the store as read for this report",
            )
        )
    root = Path(data_dir) if data_dir is not None else settings.DATA_DIR
    candidates = [
        *sorted((root / "layers").glob("*.geojson")),
        root / "terrain.tif",
        root / "provenance.json",
    ]
    for path in candidates:
        if path.is_file():
            records.append(
                InputFile("reference data", path.relative_to(root).as_posix(), hash_file(path))
            )
    return records


def _normalise_inputs(inputs: Iterable[InputFile] | Mapping[str, str] | None) -> list[InputFile]:
    """Accept ``InputFile`` records or a ``{name: sha256}`` mapping."""
    if inputs is None:
        return []
    if isinstance(inputs, Mapping):
        return [InputFile("input", str(k), str(v)) for k, v in sorted(inputs.items())]
    records = list(inputs)
    for record in records:
        if not isinstance(record, InputFile):
            raise ConfigurationError(
                f"report inputs: {record!r} is not an InputFile; "
                "fix: build them with geo.report.collect_inputs"
            )
    return records


# --- Text helpers -----------------------------------------------------------


def _e(value: Any) -> str:
    """Escape any value for HTML text or attribute content."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return html.escape(str(value), quote=True)


def _num(value: Any, digits: int = 2) -> str:
    """Format a number with ``digits`` decimals, or an em dash when missing."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _e(value)
    if math.isnan(number):
        return "—"
    if number.is_integer() and abs(number) < 1e15 and digits == 0:
        return f"{int(number):,}"
    return f"{number:,.{digits}f}"


def _data_uri(png: bytes) -> str:
    """Return a ``data:`` URI of PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _software_versions() -> list[tuple[str, str]]:
    """Return ``(name, version)`` of the software that made the report."""
    rows = [("border monitor (geo)", __version__), ("Python", platform.python_version())]
    revision = _git_revision()
    if revision:
        rows.append(("git revision", revision))
    for name in REPORTED_PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    try:
        import pyogrio
        import pyproj

        rows.append(("GDAL", pyogrio.__gdal_version_string__))
        rows.append(("PROJ", pyproj.proj_version_str))
    except (ImportError, AttributeError):  # pragma: no cover - both are requirements
        pass
    return rows


def _git_revision() -> str | None:
    """Return the commit of the working tree, read from ``.git`` (no subprocess)."""
    git = settings.PROJECT_ROOT / ".git"
    try:
        head = (git / "HEAD").read_text(encoding="ascii").strip()
        if not head.startswith("ref: "):
            return head[:40]
        ref = head[5:]
        ref_path = git / ref
        if ref_path.is_file():
            return ref_path.read_text(encoding="ascii").strip()[:40]
        for line in (git / "packed-refs").read_text(encoding="ascii").splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:40]
    except OSError:
        return None
    return None


# --- Data summary -----------------------------------------------------------


@dataclass
class IncidentSummary:
    """Counts of the incidents analysed.

    Attributes
    ----------
    total
        Number of incidents.
    by_type
        Table indexed by type: ``incidents``, ``fatalities``, ``coarse_location``.
    by_month
        Table indexed by month (``YYYY-MM``), one column a type, and ``total``.
    coarse_location
        Incidents located more coarsely than :data:`settings.COARSE_LOCATION_M`.
    coarse_date
        Incidents dated to more than a day.
    first_date, last_date
        Earliest and latest incident dates (``None`` without incidents).
    """

    total: int
    by_type: pd.DataFrame
    by_month: pd.DataFrame
    coarse_location: int
    coarse_date: int
    first_date: dt.date | None
    last_date: dt.date | None


def summarise_incidents(incidents: pd.DataFrame) -> IncidentSummary:
    """Count incidents by type and by month, and those with coarse locations.

    Parameters
    ----------
    incidents
        Incidents with ``type``, ``date`` and ``location_precision_m``.
    """
    frame = pd.DataFrame(incidents).drop(columns="geometry", errors="ignore")
    total = len(frame)
    types = frame.get("type", pd.Series("other", index=frame.index)).astype("string")
    types = types.fillna("other")
    precision = pd.to_numeric(
        frame.get("location_precision_m", pd.Series(np.nan, index=frame.index)), errors="coerce"
    ).fillna(settings.DEFAULT_LOCATION_PRECISION_M)
    coarse = precision > settings.COARSE_LOCATION_M
    fatalities = pd.to_numeric(
        frame.get("fatalities", pd.Series(np.nan, index=frame.index)), errors="coerce"
    )
    order = {t: i for i, t in enumerate(settings.INCIDENT_TYPES)}
    by_type = (
        pd.DataFrame({"type": types, "fatalities": fatalities, "coarse": coarse})
        .groupby("type", sort=False)
        .agg(
            incidents=("type", "size"),
            fatalities=("fatalities", "sum"),
            coarse_location=("coarse", "sum"),
        )
    )
    by_type = by_type.iloc[np.argsort([order.get(t, len(order)) for t in by_type.index])]
    dates = pd.to_datetime(frame.get("date", pd.Series(pd.NaT, index=frame.index)), errors="coerce")
    months = dates.dt.strftime("%Y-%m")
    by_month = pd.crosstab(months, types).sort_index() if total else pd.DataFrame()
    if not by_month.empty:
        by_month = by_month[[t for t in by_type.index if t in by_month.columns]]
        by_month["total"] = by_month.sum(axis=1)
    date_precision = pd.to_numeric(
        frame.get("date_precision_days", pd.Series(1, index=frame.index)), errors="coerce"
    ).fillna(settings.DEFAULT_DATE_PRECISION_DAYS)
    valid = dates.dropna()
    return IncidentSummary(
        total=total,
        by_type=by_type,
        by_month=by_month,
        coarse_location=int(coarse.sum()),
        coarse_date=int((date_precision > 1).sum()),
        first_date=valid.min().date() if len(valid) else None,
        last_date=valid.max().date() if len(valid) else None,
    )


def _month_chart(by_month: pd.DataFrame) -> bytes | None:
    """Draw incidents by month stacked by type; ``None`` without incidents."""
    if by_month.empty:
        return None
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    full = pd.period_range(by_month.index.min(), by_month.index.max(), freq="M").strftime("%Y-%m")
    counts = by_month.drop(columns="total").reindex(full, fill_value=0)
    fig = Figure(figsize=(6.7, 2.2), dpi=150, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bottom = np.zeros(len(counts))
    x = np.arange(len(counts))
    for column in counts.columns:
        values = counts[column].to_numpy(dtype=float)
        # Types are from the closed list of settings.INCIDENT_TYPES; escape mathtext anyway.
        ax.bar(x, values, bottom=bottom, label=str(column).replace("$", r"\$"), width=0.8)
        bottom += values
    step = max(1, len(x) // 12)
    ax.set_xticks(x[::step], [str(m) for m in counts.index[::step]], fontsize=7, rotation=45)
    ax.set_ylabel("incidents", fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=6, ncols=4, frameon=False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


# --- Result accessors ---------------------------------------------------------


def _parameters(result: AnalysisResult) -> dict[str, Any]:
    """Return the analysis parameters as JSON-ready data (weights normalised)."""
    return dict(result.parameters.to_dict())


def _evidence(result: AnalysisResult) -> tuple[bool, str]:
    """Return ``(evidence_ok, message)`` of the minimum-evidence guard."""
    return bool(result.evidence_ok), result.message or ""


def _hotspot_summary(result: AnalysisResult) -> str:
    """Describe the hot spots of ``result``, or why there are none."""
    cells = getattr(result.hotspots, "cells", None)
    if isinstance(cells, pd.DataFrame) and "bin" in cells.columns:
        bins = cells["bin"].astype(int)
        return (
            f"Getis-Ord Gi* on {len(cells):,} cells (false-discovery-rate corrected): "
            f"{int((bins >= 2).sum())} hot at 95 % or more, {int((bins <= -2).sum())} cold."
        )
    return result.hotspots_message or "hot spots not computed"


def _criterion_docs() -> dict[str, dict[str, Any]]:
    """Return ``{criterion: {column, unit, label, ...}}`` from :mod:`geo.criteria`."""
    from geo.criteria import CRITERIA

    return {
        name: {
            "column": c.column,
            "unit": c.unit,
            "label": c.label,
            "higher_is_priority": c.higher_is_priority,
            "incident_based": c.incident_based,
        }
        for name, c in CRITERIA.items()
    }


# --- HTML -------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm;
  @bottom-center { content: "page " counter(page) " of " counter(pages);
    font: 8pt "DejaVu Sans", sans-serif; }
  @bottom-left { content: string(doctitle); font: 8pt "DejaVu Sans", sans-serif; color: #555; } }
@page wide { size: A4 landscape; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9pt; color: #111; }
h1 { font-size: 17pt; margin: 0 0 2mm 0; string-set: doctitle content(); }
h2 { font-size: 12.5pt; margin: 6mm 0 2mm 0; border-bottom: 1px solid #999; }
h3 { font-size: 10pt; margin: 4mm 0 1mm 0; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm 0; }
th, td { border: 0.5px solid #bbb; padding: 1mm 1.2mm; vertical-align: top; }
th { background: #eee; text-align: left; }
td.n { text-align: right; white-space: nowrap; }
table.prov { table-layout: fixed; font-size: 8pt; }
table.prov td { overflow-wrap: break-word; }
.wide { page: wide; }
.small { font-size: 7.5pt; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; word-break: break-all; }
.warn { border: 1.5px solid #b30000; background: #fff0f0; padding: 2mm; margin: 2mm 0; }
.meta td:first-child { width: 38mm; font-weight: bold; }
.bar { display: block; height: 3mm; width: 30mm; background: #f2f2f2; white-space: nowrap; }
.bar span { display: inline-block; height: 3mm; }
.key span { display: inline-block; width: 3mm; height: 3mm; margin: 0 1mm 0 3mm; }
.mappage { break-before: page; }
img.map { display: block; height: 215mm; margin: 0 auto; }
table.ranked td, table.ranked th { font-size: 7pt; padding: 0.6mm 0.8mm; }
tr { break-inside: avoid; }
img.chart { width: 100%; }
"""
#: Colours of the criteria in the contribution bars (tab10).
_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: set[int]) -> str:
    """Return an HTML table; cells are already escaped HTML."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _near_text(row: pd.Series, prefix: str) -> str:
    """Return escaped text for a nearest town or crossing (name and distance)."""
    if prefix in row.index and not isinstance(row[prefix], float):
        return _e(row[prefix])
    name = next(
        (row[c] for c in (f"{prefix}_name", f"{prefix}_0") if c in row.index and pd.notna(row[c])),
        None,
    )
    distance = next(
        (
            row[c]
            for c in (f"{prefix}_distance_km", f"{prefix}_km", f"{prefix}_1")
            if c in row.index and pd.notna(row[c])
        ),
        None,
    )
    if name is None:
        return "—"
    return _e(name) + (f"<br>({_num(distance, 1)} km)" if distance is not None else "")


def _ranked_section(table: pd.DataFrame, top_n: int, weights: Mapping[str, float]) -> str:
    """Return the ranked-sector table with contribution bars and the criteria table."""
    top = table.head(top_n)
    contrib = [c for c in table.columns if c.startswith("contrib_")]
    names = [c.removeprefix("contrib_") for c in contrib]
    colours = {n: _COLOURS[i % len(_COLOURS)] for i, n in enumerate(names)}
    key = "".join(f'<span style="background:{colours[n]}"></span>{_e(n)}' for n in names)
    max_score = float(table["score"].max()) if "score" in table and len(table) else 1.0
    rows = []
    for _, row in top.iterrows():
        bar = "".join(
            f'<span style="width:{max(float(row[c]), 0) / (max_score or 1) * 30:.2f}mm;'
            f'background:{colours[n]}"></span>'
            for c, n in zip(contrib, names, strict=True)
            if pd.notna(row[c])
        )
        unstable = bool(row.get("unstable", False)) if pd.notna(row.get("unstable")) else False
        rows.append(
            [
                _num(row.get("rank"), 0) + (" ⚠" if unstable else ""),
                _e(row.get("sector_id")),
                f"{_num(row.get('chainage_start_km'), 1)}–{_num(row.get('chainage_end_km'), 1)}",
                _near_text(row, "nearest_town"),
                _near_text(row, "nearest_crossing"),
                _num(row.get("score"), 3),
                f'<span class="bar">{bar}</span>',
                *[_num(row[c], 3) for c in contrib],
                _num(row.get("p_top_k"), 2),
                f"{_num(row.get('rank_low'), 0)}–{_num(row.get('rank_high'), 0)}",
            ]
        )
    headers = [
        "rank",
        "sector",
        "chainage (km)",
        "nearest town",
        "nearest crossing",
        "score",
        "contributions",
        *[n.replace("_", " ") for n in names],
        "P(top k)",
        "rank interval",
    ]
    first_contrib = 7
    numeric = {0, 5, *range(first_contrib, first_contrib + len(names) + 2)}
    parts = [
        '<section class="wide">',
        f"<h2>Ranked sectors (top {len(top)} of {len(table)})</h2>",
        '<p class="small">Score = Σ weight × normalised criterion; each criterion column is its '
        "contribution to the score (the contributions sum to the score). P(top k): share of "
        "weight draws in which the sector ranks in the top k; rank interval: the central "
        "range of its rank over those draws; ⚠ marks an unstable rank.</p>",
        f'<p class="small key">{key}</p>',
        _table(headers, rows, numeric=numeric).replace("<table>", '<table class="ranked">'),
    ]
    docs = _criterion_docs()
    shown = [
        ("incidents", "incidents in zone", "count"),
        ("imprecise_incidents", "coarsely located", "count"),
    ]
    shown += [(d["column"], d["label"], d["unit"]) for d in docs.values()]
    shown = [(f"crit_{col}", label, unit) for col, label, unit in shown if f"crit_{col}" in table]
    if shown:
        crit_rows = [
            [_num(row.get("rank"), 0), _e(row.get("sector_id"))]
            + [_num(row[c], 2) for c, _, _ in shown]
            for _, row in top.iterrows()
        ]
        parts += [
            "<h3>Criteria before normalisation</h3>",
            _table(
                ["rank", "sector"] + [f"{label} ({unit})" for _, label, unit in shown],
                crit_rows,
                numeric={0, *range(2, 2 + len(shown))},
            ).replace("<table>", '<table class="small">'),
            '<p class="small">Every criterion of every sector is in the exports '
            "(sectors.csv, sectors.geojson, report.gpkg).</p>",
        ]
    if weights:
        parts.append(
            '<p class="small">Weights used in the score: '
            + ", ".join(f"{_e(k)} = {_num(v, 3)}" for k, v in weights.items())
            + "</p>"
        )
    parts.append("</section>")
    return "\n".join(parts)


def _incidents_section(
    result: AnalysisResult, incidents: pd.DataFrame, table: pd.DataFrame, *, top_n: int
) -> str:
    """Return the incidents of the top sectors, most recent first, as plain text."""
    located = getattr(result, "incidents", None)
    if not isinstance(located, pd.DataFrame) or "sector_id" not in located.columns:
        located = incidents
    if "sector_id" not in located.columns or not len(table):
        return ""
    parts = [
        f"<h2>Incidents in the top {min(top_n, len(table))} sectors</h2>",
        f'<p class="small">At most {INCIDENTS_PER_SECTOR} per sector, most recent first; '
        "descriptions shortened to 300 characters; precision is the stated location "
        "precision.</p>",
    ]
    for _, sector in table.head(top_n).iterrows():
        chosen = located.loc[located["sector_id"].astype("Float64") == float(sector["sector_id"])]
        if "date" in chosen.columns:
            chosen = chosen.sort_values("date", ascending=False, kind="stable")
        rows = [
            [
                _e(pd.Timestamp(r.get("date")).date() if pd.notna(r.get("date")) else None),
                _e(r.get("type")),
                _e(_shorten(r.get("description"), 300)),
                _e(r.get("source")),
                _num(r.get("location_precision_m"), 0) + " m",
            ]
            for _, r in chosen.head(INCIDENTS_PER_SECTOR).iterrows()
        ]
        heading = (
            f"<h3>Rank {_num(sector.get('rank'), 0)}: sector {_e(sector['sector_id'])} "
            f"({len(chosen)} incident(s))</h3>"
        )
        parts.append(heading)
        if rows:
            parts.append(
                _table(["date", "type", "description", "source", "precision"], rows, numeric={4})
            )
    return "\n".join(parts)


def _to_float(value: Any) -> float:
    """Return ``value`` as a float, NaN when missing or not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _shorten(text: Any, limit: int) -> Any:
    """Return ``text`` cut to ``limit`` characters with an ellipsis."""
    if not isinstance(text, str) or len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _method_section(
    result: AnalysisResult,
    parameters: Mapping[str, Any],
    requested: Mapping[str, float],
    used: Mapping[str, float],
) -> str:
    """Return the method: criteria and units, normalisation, weights, bandwidth, geometry."""
    docs = _criterion_docs()
    density = result.density
    rows = []
    for name in dict.fromkeys([*docs, *requested]):
        doc = docs.get(name, {})
        direction = "" if not doc else ("higher" if doc["higher_is_priority"] else "lower")
        rows.append(
            [
                _e(name),
                _e(doc.get("label")),
                _e(doc.get("unit")),
                _e(f"{direction} is more urgent" if direction else None),
                _num(requested.get(name, float("nan")), 3),
                _num(used.get(name, float("nan")), 3),
            ]
        )
    params = result.parameters
    if density is not None:
        density_text = (
            f"{_e(density.kernel)} kernel, bandwidth {_num(density.bandwidth_m, 0)} m "
            f"({_e(getattr(density, 'bandwidth_rule', ''))}), cells of {_num(params.cell_m, 0)} m, "
            f"units {_e(density.units)}; each incident's kernel widened by its location "
            "precision"
        )
    else:
        density_text = _e(result.density_message or "not computed")
    items = [
        (
            "Sector length",
            f"{_num(params.sector_km, 1)} km along "
            "the reference border line, numbered from the coast (north-west end)",
        ),
        (
            "Corridor width",
            f"{_num(params.corridor_km, 1)} km "
            "on each side of the line (Lebanese and Syrian parts)",
        ),
        (
            "Normalisation",
            _e(params.normalisation)
            + (" (min–max to 0–1 across sectors)" if params.normalisation == "minmax" else "")
            + (" (rank across sectors, scaled to 0–1)" if params.normalisation == "rank" else ""),
        ),
        ("Density", density_text),
        (
            "Recency",
            "no decay"
            if not params.half_life_days
            else f"half-life {_num(params.half_life_days, 0)} days",
        ),
        (
            "Sensitivity",
            f"{_num(params.draws, 0)} Dirichlet draws of the weights centred on the chosen "
            f"weights (concentration {_num(params.concentration, 0)}, seed {_e(params.seed)}); "
            f"top-k with k = {_e(params.top_k)}; an unstable rank is one whose top-k "
            f"probability lies within {_e(settings.UNSTABLE_P_TOP_K)} or whose interval spans "
            f"more than {_e(settings.UNSTABLE_RANK_SPAN)} ranks",
        ),
        ("Hot spots", _e(_hotspot_summary(result))),
        (
            "Distances",
            "measured in a transverse Mercator on WGS 84 centred on 36.2°E "
            "(scale error under 1.2e-4 in the region), never in degrees",
        ),
    ]
    meta = "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in items)
    return (
        "<h2>Method</h2>"
        f'<table class="meta"><tbody>{meta}</tbody></table>'
        "<h3>Criteria and weights</h3>"
        + _table(
            ["criterion", "meaning", "unit", "direction", "weight asked", "weight used"],
            rows,
            numeric={4, 5},
        )
        + '<p class="small">Criteria and their units are defined in <code>geo/criteria.py</code>; '
        "each is normalised across sectors before weighting.</p>"
    )


def _provenance_section(layer_records: Sequence[Mapping[str, Any]] | None, reason: str) -> str:
    """Return the provenance and licence of every reference layer."""
    parts = ["<h2>Reference layers: provenance and licences</h2>"]
    if layer_records:
        rows = []
        for record in layer_records:
            version = " ".join(str(record[k]) for k in ("package", "version") if record.get(k))
            steps = record.get("steps")
            if isinstance(steps, list | tuple):
                steps = "; ".join(str(s) for s in steps)
            rows.append(
                [
                    _e(record.get("name")),
                    _e(record.get("source"))
                    + (f'<div class="small">{_e(steps)}</div>' if steps else ""),
                    _e(version or "—"),
                    _e(record.get("licence") or record.get("license")),
                    _e(record.get("retrieved")),
                ]
            )
        parts.append(
            _table(
                ["layer", "source and processing", "version", "licence", "retrieved"],
                rows,
                numeric=set(),
            ).replace(
                "<table>",
                '<table class="prov"><colgroup><col style="width:13%"><col style="width:42%">'
                '<col style="width:18%"><col style="width:15%"><col style="width:12%"></colgroup>',
            )
        )
    else:
        parts.append(f'<p class="warn">Layer provenance unavailable: {_e(reason)}</p>')
    parts.append(f"<p>{_e(OSM_ATTRIBUTION)}</p>")
    return "\n".join(parts)


def build_report_html(
    result: AnalysisResult,
    incidents: gpd.GeoDataFrame,
    *,
    inputs: Iterable[InputFile] | Mapping[str, str] | None,
    generated_at: dt.datetime | None = None,
    top_n: int = settings.REPORT_TOP_N,
    title: str | None = None,
    command: str | None = None,
    map_png: bytes | None = None,
    layer_records: Sequence[Mapping[str, Any]] | None = None,
    layer_reason: str = "not given",
) -> str:
    """Return the report as one self-contained HTML document.

    Parameters
    ----------
    result
        A :class:`geo.analysis.AnalysisResult`.
    incidents
        The incidents analysed (after the filters).
    inputs
        The input files and their SHA-256 (:func:`collect_inputs`).
    generated_at
        Time of generation (UTC now by default).
    top_n
        Sectors listed in the ranked table.
    title
        Report title (user text, escaped).
    command
        The command line that regenerates the report (escaped).
    map_png
        The static map (:func:`geo.staticmap.draw_static_map`), or ``None``.
    layer_records
        Provenance records of the reference layers (``layers.list_layers()``).
    layer_reason
        Why ``layer_records`` is empty, if it is.

    Returns
    -------
    str
        HTML with every image inlined as a ``data:`` URI and every text escaped.
    """
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    title = title or "Lebanon–Syria border: demarcation-priority sectors"
    table = result.ranked
    parameters = _parameters(result)
    requested, weights = dict(result.requested_weights), dict(result.weights)
    summary = summarise_incidents(incidents)
    ok, evidence_message = _evidence(result)
    records = _normalise_inputs(inputs)

    since, until = parameters.get("since"), parameters.get("until")
    period = (
        f"{_e(since or 'first incident')} to {_e(until or 'last incident')} (filter); "
        f"incidents dated {_e(summary.first_date)} to {_e(summary.last_date)}"
    )
    chain_end = (
        table["chainage_end_km"].max() if "chainage_end_km" in table and len(table) else None
    )
    area = (
        f"Lebanon–Syria border, chainage 0–{_num(chain_end, 1)} km from the coast, corridor "
        f"±{_num(parameters.get('corridor_km', settings.CORRIDOR_KM), 1)} km, "
        f"{len(table)} sectors of {_num(parameters.get('sector_km', settings.SECTOR_KM), 1)} km"
    )
    types = parameters.get("types")
    meta_rows = [
        ("Generated", _e(generated_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"))),
        ("Area", area),
        ("Period", period),
        (
            "Incident types",
            _e(", ".join(types) if isinstance(types, list | tuple) else types or "all"),
        ),
        ("Incidents analysed", _num(summary.total, 0)),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        '<meta name="generator" content="border monitor">',
        f'<meta name="dcterms.created" content="{_e(generated_at.isoformat())}">',
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        '<table class="meta"><tbody>'
        + "".join(f"<tr><td>{_e(k)}</td><td>{v}</td></tr>" for k, v in meta_rows)
        + "</tbody></table>",
    ]
    if not ok:
        parts.append(
            f'<div class="warn"><b>Too little incident evidence.</b> {_e(evidence_message)}</div>'
        )
    notes = [n for n in getattr(result, "notes", []) or [] if isinstance(n, str)]
    if (evidence_message and ok) or notes:
        parts.append(
            (f"<p>{_e(evidence_message)}</p>" if ok else "")
            + ("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>" if notes else "")
        )
    if len(table):
        best = table.iloc[0]
        near = _near_text(best, "nearest_town").replace("<br>", " ")
        parts.append(
            f"<p><b>Top sector: {_e(best.get('sector_id'))}</b>, chainage "
            f"{_num(best.get('chainage_start_km'), 1)}–{_num(best.get('chainage_end_km'), 1)} km, "
            f"near {near}; score {_num(best.get('score'), 3)}, "
            f"in the top k in {_num(100 * _to_float(best.get('p_top_k')), 0)} % of "
            "weight draws.</p>"
        )
    # Data summary.
    parts.append("<h2>Data summary</h2>")
    parts.append(
        f"<p>{_num(summary.total, 0)} incidents; {_num(summary.coarse_location, 0)} located "
        f"more coarsely than {_num(settings.COARSE_LOCATION_M, 0)} m and "
        f"{_num(summary.coarse_date, 0)} dated to more than a day.</p>"
    )
    if not summary.by_type.empty:
        parts.append(
            _table(
                ["type", "incidents", "fatalities", "coarse location"],
                [
                    [
                        _e(t),
                        _num(r["incidents"], 0),
                        _num(r["fatalities"], 0),
                        _num(r["coarse_location"], 0),
                    ]
                    for t, r in summary.by_type.iterrows()
                ],
                numeric={1, 2, 3},
            )
        )
    chart = _month_chart(summary.by_month)
    if chart:
        parts.append(f'<img class="chart" alt="incidents by month" src="{_data_uri(chart)}">')
    if not summary.by_month.empty and len(summary.by_month) <= 36:
        parts.append(
            _table(
                ["month", *summary.by_month.columns],
                [[_e(m), *[_num(v, 0) for v in r]] for m, r in summary.by_month.iterrows()],
                numeric=set(range(1, len(summary.by_month.columns) + 1)),
            ).replace("<table>", '<table class="small">')
        )
    if map_png:
        parts.append(
            '<section class="mappage"><h2>Map</h2>'
            f'<img class="map" alt="map of the border, sectors and incidents" '
            f'src="{_data_uri(map_png)}">'
            '<p class="small">Sectors coloured by priority score with their rank; density of '
            "incidents in purple; dots are incidents, rings incidents located to worse than "
            f"{_num(settings.COARSE_LOCATION_M / 1000, 1)} km (dashed: their precision). "
            "Metric transverse Mercator, north up.</p></section>"
        )
    parts.append(_ranked_section(table, top_n, weights))
    parts.append(
        _incidents_section(result, incidents, table, top_n=min(top_n, TOP_INCIDENT_SECTORS))
    )
    parts.append(_method_section(result, parameters, requested, weights))
    parts.append(_provenance_section(layer_records, layer_reason))
    # Audit.
    parts.append("<h2>Inputs, software and parameters</h2>")
    parts.append(
        _table(
            ["role", "file", "SHA-256", "note"],
            [
                [_e(r.role), _e(r.name), f'<span class="mono">{_e(r.sha256)}</span>', _e(r.detail)]
                for r in records
            ],
            numeric=set(),
        )
        if records
        else '<p class="warn">No input files were recorded.</p>'
    )
    parts.append(
        _table(
            ["software", "version"],
            [[_e(n), _e(v)] for n, v in _software_versions()],
            numeric=set(),
        )
    )
    parts.append(
        _table(
            ["parameter", "value"],
            [[_e(k), _e(_param_text(v))] for k, v in sorted(parameters.items())],
            numeric=set(),
        )
    )
    if command:
        parts.append(f'<p>Regenerate with:</p><p class="mono">{_e(command)}</p>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _param_text(value: Any) -> str:
    """Return a parameter value as text (mappings as ``k=v`` lists)."""
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return "—" if value is None else str(value)


# --- PDF --------------------------------------------------------------------


def render_pdf(document: str, path: str | os.PathLike[str]) -> Path:
    """Render HTML to PDF with WeasyPrint, fetching nothing but ``data:`` URIs.

    Parameters
    ----------
    document
        The HTML (from :func:`build_report_html`).
    path
        Output PDF, written to a temporary file then moved into place.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fetcher = URLFetcher(allowed_protocols=["data"])
    partial = path.with_name(path.name + ".part")
    try:
        HTML(string=document, base_url=None, url_fetcher=fetcher).write_pdf(partial)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BorderMonitorError(f"report: cannot write {path}: {exc.strerror or exc}") from exc
    return path


def write_pdf(
    result: AnalysisResult,
    incidents: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[InputFile] | Mapping[str, str] | None,
    generated_at: dt.datetime | None = None,
    top_n: int = settings.REPORT_TOP_N,
    title: str | None = None,
    command: str | None = None,
    border: Any = None,
    crossings: gpd.GeoDataFrame | None = None,
    layer_records: Sequence[Mapping[str, Any]] | None = None,
    draw_map: bool = True,
) -> Path:
    """Write the priority-sector report as a PDF.

    Parameters
    ----------
    result
        A :class:`geo.analysis.AnalysisResult`.
    incidents
        The incidents analysed.
    path
        Output PDF.
    inputs
        The input files and their SHA-256 (:func:`collect_inputs`).
    generated_at, top_n, title, command
        As in :func:`build_report_html`.
    border, crossings
        The border line and the crossings layer for the map (the entry points
        pass the bundled ones; the official crossings are drawn); none when ``None``.
    layer_records
        Provenance records of the reference layers (``layers.list_layers()``,
        passed by the entry points); the report says they were not given when ``None``.
    draw_map
        Whether to draw the static map.

    Returns
    -------
    pathlib.Path
        The PDF written.
    """
    reason = "not given"
    map_png = None
    if draw_map:
        from geo.staticmap import draw_static_map

        crossings = official_crossings(crossings)
        map_png = draw_static_map(
            border=border,
            sectors=result.ranked,
            incidents=incidents,
            density=getattr(result, "density", None),
            crossings=crossings,
            top_n=top_n,
        )
    document = build_report_html(
        result,
        incidents,
        inputs=inputs,
        generated_at=generated_at,
        top_n=top_n,
        title=title,
        command=command,
        map_png=map_png,
        layer_records=layer_records,
        layer_reason=reason,
    )
    return render_pdf(document, path)


def official_crossings(crossings: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame | None:
    """Return the crossings whose ``status`` starts with "official" (all without a status).

    Parameters
    ----------
    crossings
        The crossings layer, or ``None``.
    """
    if crossings is None or "status" not in crossings.columns:
        return crossings
    status = crossings["status"].astype("string").str.strip().str.lower()
    return crossings[status.str.startswith("official", na=False)]
