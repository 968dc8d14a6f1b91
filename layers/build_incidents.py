"""Builder of the bundled incident record: ``data/sample_incidents.geojson``.

The source is ``data/sources/border_incidents.csv``: one row per *report* of an
incident along the Lebanon–Syria border, 2024–2026, from public reporting (outlet,
date, URL), with our own one-line summary. Reports of the same event share an
``event_id``; the built file has one feature per event:

- the event's fields (date, type, description, quantities, actors, place and
  precision) are those of its first report in the table, its *lead report*; every
  other report of the event must give the same date, type and place;
- ``source`` lists every report of the event: ``outlet, date, URL``, joined by ``; ``;
- the point is the cited coordinate of the report's ``place``
  (``data/sources/cited_places.csv``); a report at a place without a citable
  coordinate names it in ``named_place`` and its ``location_precision_m`` must reach
  that place's covering radius (:mod:`layers.cited_places`).

This is a record of public reporting, not ground truth: what outlets reported,
located as precisely as the reporting and the cited places allow.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import Point

from geo.errors import LayerError
from layers import cited_places, sources
from layers.build_common import LayerBuild

logger = logging.getLogger(__name__)

#: The record, one row per report.
REPORTS_PATH = sources.SOURCES_DIR / "border_incidents.csv"
#: What the record may hold (inclusive).
FIRST_DATE = dt.date(2024, 1, 1)
LAST_DATE = dt.date(2026, 12, 3)
#: Incident types (those of :data:`geo.settings.INCIDENT_TYPES`).
REPORT_TYPES = (
    "seizure",
    "clash",
    "smuggling",
    "shelling",
    "strike",
    "arrest",
    "crossing",
    "other",
)
#: Columns of the record.
REPORT_COLUMNS = (
    "report_id",
    "event_id",
    "date",
    "date_precision_days",
    "type",
    "description",
    "quantity",
    "unit",
    "commodity",
    "fatalities",
    "actor1",
    "actor2",
    "place",
    "named_place",
    "location_precision_m",
    "location_note",
    "source_outlet",
    "source_date",
    "source_url",
    "compiled_by",
)
#: Properties of a built incident (the schema of :mod:`geo.schema`), in order.
INCIDENT_PROPERTIES = (
    "id",
    "date",
    "date_precision_days",
    "type",
    "description",
    "quantity",
    "unit",
    "commodity",
    "fatalities",
    "actor1",
    "actor2",
    "location_precision_m",
    "location_note",
    "source",
)
#: Every report of one event must agree on these.
EVENT_KEYS = ("date", "type", "place", "named_place")


def read_reports(path: Path | None = None) -> list[dict[str, str]]:
    """Return the rows of the record, unchanged."""
    path = path or REPORTS_PATH
    if not path.is_file():
        raise LayerError(f"incidents: {path} is missing; it is a curated source of data/")
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REPORT_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise LayerError(f"{path.name}: missing column(s) {missing}; add them")
        return list(reader)


def _number(value: str) -> int | float | None:
    """Return a whole number as int, another as float, an empty text as None."""
    if not value.strip():
        return None
    number = float(value)
    return int(number) if number.is_integer() else number


def source_text(report: dict[str, str]) -> str:
    """Return one report's citation: ``outlet, date, URL`` (``undated`` without a date)."""
    return (
        f"{report['source_outlet']}, {report['source_date'] or 'undated'}, {report['source_url']}"
    )


def check_reports(
    reports: Sequence[dict[str, str]],
    *,
    cited: dict[str, cited_places.CitedPlace],
    named: dict[str, cited_places.NamedPlace],
    radii: dict[str, float],
    name: str = "border_incidents.csv",
) -> None:
    """Check every report, then raise one error listing every problem.

    Raises
    ------
    LayerError
        Naming the line, the report, the field, the value and the fix of each problem.
    """
    problems = []
    seen: set[str] = set()
    leads: dict[str, dict[str, str]] = {}
    for line, r in enumerate(reports, start=2):
        where = f"line {line} ({r['report_id']!r})"
        if r["report_id"] in seen:
            problems.append(f"{where}: report_id used twice; give each report its own id")
        seen.add(r["report_id"])
        try:
            day = dt.date.fromisoformat(r["date"])
            if not FIRST_DATE <= day <= LAST_DATE:
                problems.append(f"{where}: date {r['date']} is outside {FIRST_DATE}..{LAST_DATE}")
        except ValueError:
            problems.append(f"{where}: date {r['date']!r} is not YYYY-MM-DD")
        if r["source_date"]:
            try:
                dt.date.fromisoformat(r["source_date"])
            except ValueError:
                problems.append(f"{where}: source_date {r['source_date']!r} is not YYYY-MM-DD")
        if r["type"] not in REPORT_TYPES:
            problems.append(f"{where}: type {r['type']!r}; use one of {', '.join(REPORT_TYPES)}")
        for field in ("description", "source_outlet", "event_id"):
            if not r[field].strip():
                problems.append(f"{where}: {field} is empty")
        if not r["source_url"].startswith(("https://", "http://")):
            problems.append(f"{where}: source_url {r['source_url']!r} is not a web address")
        try:
            days = int(r["date_precision_days"])
            precision = float(r["location_precision_m"])
            for field in ("quantity", "fatalities"):
                value = _number(r[field])
                if value is not None and value < 0:
                    problems.append(f"{where}: {field} {value} is negative")
        except ValueError as exc:
            problems.append(f"{where}: a number field does not parse ({exc})")
            continue
        if days < 1 or precision <= 0:
            problems.append(f"{where}: date_precision_days >= 1 and location_precision_m > 0")
        if r["place"] not in cited:
            problems.append(f"{where}: place {r['place']!r} is not in cited_places.csv")
        place_name = r["named_place"]
        if place_name:
            if place_name not in named or named[place_name].anchor != r["place"]:
                problems.append(
                    f"{where}: named_place {place_name!r} must be in named_places.csv with "
                    f"anchor {r['place']!r}"
                )
            elif precision < radii[place_name]:
                problems.append(
                    f"{where}: location_precision_m {precision:.0f} is less than the covering "
                    f"radius of {place_name!r}, {radii[place_name]:.0f} m; raise it"
                )
        lead = leads.setdefault(r["event_id"], r)
        for key in EVENT_KEYS:
            if r[key] != lead[key]:
                problems.append(
                    f"{where}: {key} {r[key]!r} differs from the event's lead report "
                    f"{lead['report_id']!r} ({lead[key]!r}); same event, same {key}"
                )
    if problems:
        raise LayerError(f"{name}: {len(problems)} problem(s): " + "; ".join(problems))


def events_from_reports(
    reports: Sequence[dict[str, str]], cited: dict[str, cited_places.CitedPlace]
) -> gpd.GeoDataFrame:
    """Return one incident per event (schema properties, the lead report's point)."""
    groups: dict[str, list[dict[str, str]]] = {}
    for r in reports:
        groups.setdefault(r["event_id"], []).append(r)
    rows = []
    for event_id, group in groups.items():
        lead = group[0]
        place = cited[lead["place"]]
        rows.append(
            {
                "id": event_id,
                "date": lead["date"],
                "date_precision_days": int(lead["date_precision_days"]),
                "type": lead["type"],
                "description": lead["description"],
                "quantity": _number(lead["quantity"]),
                "unit": lead["unit"] or None,
                "commodity": lead["commodity"] or None,
                "fatalities": _number(lead["fatalities"]),
                "actor1": lead["actor1"] or None,
                "actor2": lead["actor2"] or None,
                "location_precision_m": _number(lead["location_precision_m"]),
                "location_note": lead["location_note"] or None,
                "source": "; ".join(source_text(r) for r in group),
                "geometry": Point(place.longitude, place.latitude),
            }
        )
    frame = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    for column in ("quantity", "fatalities", "location_precision_m"):
        # keep whole numbers whole (pandas would make a column with gaps float)
        frame[column] = pd.Series([row[column] for row in rows], index=frame.index, dtype=object)
    return frame


def outlet_name(label: str) -> str:
    """Return the outlet of a ``source_outlet`` label, without what it cites or mirrors.

    ``"LBCI (AFP)"`` and ``"LBCI"`` are one outlet; ``"Arab News (mirror copy)"`` is Arab News.
    """
    name = label.split(" (")[0].split(" via ")[0].strip()
    return name.removeprefix("The ")


def build_incidents(out: Path) -> dict[str, Any]:
    """Build ``out/sample_incidents.geojson`` from the record; return its provenance record.

    Parameters
    ----------
    out
        The folder the file is written in (``data/`` for the committed build).
    """
    from layers.geojson_io import write_geojson

    reports = read_reports()
    cited = cited_places.read_cited_places()
    named = cited_places.read_named_places(cited=cited)
    border, regions = cited_places.load_reference()
    radii = cited_places.check_named_places(named, cited, border=border, regions=regions)
    check_reports(reports, cited=cited, named=named, radii=radii)
    events = events_from_reports(reports, cited)
    build = LayerBuild("incidents", events, list(INCIDENT_PROPERTIES), ["date", "id"])
    path = write_geojson(
        build.gdf,
        out / "sample_incidents.geojson",
        columns=build.columns,
        sort_by=build.sort_by,
        name="sample_incidents",
    )
    outlets = sorted({outlet_name(r["source_outlet"]) for r in reports})
    used = sorted({r["named_place"] for r in reports if r["named_place"]})
    digest = hashlib.sha256(REPORTS_PATH.read_bytes()).hexdigest()
    logger.info(
        "incidents: %d reports, %d events, %d outlets", len(reports), len(events), len(outlets)
    )
    return {
        "file": path.name,
        "source": "data/sources/border_incidents.csv: a record of public reporting of incidents "
        "along the Lebanon-Syria border, 2024-2026, one row per report (outlet, date, URL); "
        "compiled from stored public pages by three researchers and the project. A record of "
        "reporting, not ground truth",
        "package": "none (curated table in the repository)",
        "version": f"sha256 {digest}",
        "licence": "facts and coordinates with their citations; descriptions are our own "
        "one-line summaries, no text copied from the sources; place coordinates from Wikipedia "
        "(CC BY-SA 4.0) and GeoNames (CC BY 4.0), cited in data/sources/cited_places.csv",
        "retrieved": "2026-12-03",
        "steps": [
            "read data/sources/border_incidents.csv (one row per report)",
            "check every report: type, dates in 2024-01-01..2026-12-03, a source URL, a "
            "precision, a cited place, and a precision reaching the covering radius of any "
            "named place without a citable coordinate (data/sources/named_places.csv)",
            "one feature per event_id: the lead (first) report's fields, every report in "
            "source, the cited place's coordinate",
        ],
        "precision": "per feature (location_precision_m); reports at places without a citable "
        "coordinate carry the covering radius of that place",
        "features": len(events),
        "reports": len(reports),
        "outlets": len(outlets),
        "named_places": {name: radii[name] for name in used},
        "missing": "reports that no cited place can locate within a stated radius are listed in "
        "data/sources/left_out.csv and data/README.md, not placed",
    }
