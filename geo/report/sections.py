"""The report's HTML sections: ranked sectors, their incidents, the method, the provenance.

Each ``_*_section`` function returns one section of the report as HTML; the
text helpers (:func:`_e`, :func:`_num`, :func:`_table`, ...) are what they and
:mod:`geo.report.document` build the HTML with. Every piece of text from data or
user goes through :func:`_e` (:func:`html.escape`) before it enters the HTML;
:func:`_table` takes cells that are already escaped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo import settings

if TYPE_CHECKING:
    from geo.analysis import AnalysisResult

#: OpenStreetMap attribution required by the ODbL for the border and countries.
OSM_ATTRIBUTION = (
    "Border and country outlines © OpenStreetMap contributors, available under the "
    "Open Database License (ODbL 1.0), through timezone-boundary-builder."
)
#: Sectors whose incidents are listed in the report.
TOP_INCIDENT_SECTORS = 5
#: Incidents listed per sector.
INCIDENTS_PER_SECTOR = 10

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


# --- Result accessors ---------------------------------------------------------


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


# --- Sections ---------------------------------------------------------------

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
