"""The report as one self-contained HTML document: :func:`build_report_html`.

The document has the title and what was analysed, the data summary (with the
chart of incidents by month, drawn with matplotlib imported inside
:func:`_month_chart`), the map, the sections of :mod:`geo.report.sections`, and
the audit: inputs and their SHA-256, software versions, parameters and the
command that regenerates the report. Every text is escaped and every image
inlined as a ``data:`` URI, so that the PDF renderer needs to fetch nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import settings
from geo.report.inputs import (
    InputFile,
    _normalise_inputs,
    _software_versions,
    summarise_incidents,
)
from geo.report.sections import (
    TOP_INCIDENT_SECTORS,
    _e,
    _incidents_section,
    _method_section,
    _near_text,
    _num,
    _provenance_section,
    _ranked_section,
    _table,
    _to_float,
)

if TYPE_CHECKING:
    from geo.analysis import AnalysisResult

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
.pagebreak { break-after: page; }
img.map { display: block; height: 215mm; margin: 0 auto; }
table.ranked td, table.ranked th { font-size: 7pt; padding: 0.6mm 0.8mm; }
tr { break-inside: avoid; }
img.chart { width: 100%; }
"""


def _data_uri(png: bytes) -> str:
    """Return a ``data:`` URI of PNG bytes."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


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


def _parameters(result: AnalysisResult) -> dict[str, Any]:
    """Return the analysis parameters as JSON-ready data (weights normalised)."""
    return dict(result.parameters.to_dict())


def _evidence(result: AnalysisResult) -> tuple[bool, str]:
    """Return ``(evidence_ok, message)`` of the minimum-evidence guard."""
    return bool(result.evidence_ok), result.message or ""


def build_report_html(
    result: AnalysisResult,
    incidents: gpd.GeoDataFrame,
    *,
    inputs: Iterable[InputFile] | Mapping[str, str] | None,
    generated_at: dt.datetime | None = None,
    top_n: int = settings.REPORT_TOP_N,
    title: str | None = None,
    command: str | None = None,
    generated_by: str | None = None,
    map_png: bytes | None = None,
    layer_records: Sequence[Mapping[str, Any]] | None = None,
    layer_reason: str = "not given",
    briefing: str | None = None,
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
    generated_by
        Who generated it (the signed-in user's e-mail in the app, the operating-system
        user for ``python -m geo report``; user text, escaped); not shown when ``None``.
    map_png
        The static map (:func:`geo.staticmap.draw_static_map`), or ``None``.
    layer_records
        Provenance records of the reference layers (``layers.list_layers()``).
    layer_reason
        Why ``layer_records`` is empty, if it is.
    briefing
        An HTML fragment put first, on a page of its own
        (:func:`geo.report.briefing.build_briefing_html`; already escaped).

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
        *([("Generated by", _e(generated_by))] if generated_by is not None else []),
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
        *([briefing, '<div class="pagebreak"></div>'] if briefing else []),
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
