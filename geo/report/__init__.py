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

The package holds:

- :mod:`geo.report.inputs`: the report's inputs: :class:`InputFile`,
  :func:`hash_file`, :func:`collect_inputs`, :func:`summarise_incidents` and
  :class:`IncidentSummary`, the software versions and the git revision;
- :mod:`geo.report.sections`: the HTML sections (ranked sectors, their
  incidents, method, provenance) and the text helpers they are built with
  (``_e`` escapes, ``_num`` formats, ``_table``);
- :mod:`geo.report.document`: :func:`build_report_html`, the whole document
  (title, data summary and its chart, map, sections, audit);
- :mod:`geo.report.pdf`: :func:`render_pdf` (WeasyPrint, fetching only
  ``data:``), :func:`write_pdf` and :func:`official_crossings`.

Its modules may import numpy, pandas, geopandas, :mod:`geo.settings`,
:mod:`geo.errors`, :mod:`geo.criteria` and :mod:`geo.staticmap` (inside the
functions that use them), and each other (``inputs`` and ``sections`` import no
other report module); WeasyPrint and matplotlib only inside the functions that
use them, so that ``import geo.report`` stays light. Never streamlit, never
``layers``: the reference layers and their provenance are passed in by the
entry points. Every name other modules import is importable from
``geo.report`` itself.
"""

from __future__ import annotations

import logging

from geo.report.document import build_report_html
from geo.report.inputs import (
    REPORTED_PACKAGES,
    IncidentSummary,
    InputFile,
    collect_inputs,
    hash_file,
    summarise_incidents,
)
from geo.report.pdf import official_crossings, render_pdf, write_pdf
from geo.report.sections import INCIDENTS_PER_SECTOR, OSM_ATTRIBUTION, TOP_INCIDENT_SECTORS

__all__ = [
    "INCIDENTS_PER_SECTOR",
    "OSM_ATTRIBUTION",
    "REPORTED_PACKAGES",
    "TOP_INCIDENT_SECTORS",
    "IncidentSummary",
    "InputFile",
    "build_report_html",
    "collect_inputs",
    "hash_file",
    "official_crossings",
    "render_pdf",
    "summarise_incidents",
    "write_pdf",
]

logger = logging.getLogger(__name__)
