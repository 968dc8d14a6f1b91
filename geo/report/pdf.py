"""The report as a PDF: :func:`write_pdf` draws the map, builds the HTML and renders it.

Safety: :func:`render_pdf` gives WeasyPrint (imported inside it) a URL fetcher
that allows only ``data:``, so a crafted ``file://`` or ``http://`` reference can
neither embed a local file nor reach the network. The border and crossings
drawn on the map are passed in by the entry points.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from geo import settings
from geo.errors import BorderMonitorError
from geo.report.document import build_report_html
from geo.report.inputs import InputFile

if TYPE_CHECKING:
    from geo.analysis import AnalysisResult


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
    briefing: str | None = None,
    generated_by: str | None = None,
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
    generated_at, top_n, title, command, generated_by
        As in :func:`build_report_html`.
    border, crossings
        The border line and the crossings layer for the map (the entry points
        pass the bundled ones; the official crossings are drawn); none when ``None``.
    layer_records
        Provenance records of the reference layers (``layers.list_layers()``,
        passed by the entry points); the report says they were not given when ``None``.
    draw_map
        Whether to draw the static map.
    briefing
        The briefing page put first (:func:`geo.report.briefing.build_briefing_html`).

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
        generated_by=generated_by,
        map_png=map_png,
        layer_records=layer_records,
        layer_reason=reason,
        briefing=briefing,
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
