"""The ACLED reader: an ACLED export (read as a CSV table) mapped to the incident schema."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from geo import schema
from geo.errors import FeatureProblem
from geo.readers.common import (
    CSV_COORDINATE_COLUMNS,
    RawFeatures,
    _check_count,
    _coordinate_columns,
    _coordinates,
    file_error,
    shorten,
)

#: Columns that mark a CSV as an ACLED export.
ACLED_MARKER_COLUMNS = ("event_id_cnty", "event_type")
#: Columns an ACLED export must have (besides the markers; the coordinates may also be
#: named as in :data:`~geo.readers.common.CSV_COORDINATE_COLUMNS`).
ACLED_REQUIRED_COLUMNS = ("event_id_cnty", "event_date", "event_type", "latitude", "longitude")

_ACLED_DATE = re.compile(r"^\s*(\d{1,2}) ([A-Za-z]+) (\d{4})\s*$")


def _map_distinct(function, *columns) -> list:
    """Return ``function(*row)`` for each row of ``columns``, calling it once per distinct row.

    The columns of an export repeat a few values (event types, places, precision codes,
    dates): computing each once and looking the rest up keeps 100,000 rows fast.
    """
    keys = list(zip(*columns, strict=True))
    results = {key: function(*key) for key in set(keys)}
    return list(map(results.__getitem__, keys))


def _acled_dates(values: pd.Series) -> pd.Series:
    """Return ACLED dates as ISO text: ``YYYY-MM-DD`` kept, ``16 March 2025`` converted."""
    text = values.astype(object)
    spelled = _map_distinct(lambda v: isinstance(v, str) and bool(_ACLED_DATE.match(v)), text)
    parsed = pd.to_datetime(
        text.where(pd.Series(spelled, index=text.index, dtype=bool)),
        format="%d %B %Y",
        errors="coerce",
    )
    iso = parsed.dt.strftime("%Y-%m-%d")
    return text.where(parsed.isna(), iso)


def _acled_code(
    frame: pd.DataFrame, column: str, mapping: dict, ids: list, problems: list
) -> pd.Series:
    out = pd.Series([None] * len(frame), dtype=object)
    if column not in frame.columns:
        return out
    raw = frame[column]
    codes = pd.to_numeric(raw, errors="coerce")
    mapped = pd.Series(
        _map_distinct(
            lambda c: mapping.get(int(c)) if np.isfinite(c) and c == int(c) else None,
            codes.tolist(),
        ),
        index=codes.index,
    )
    bad = np.flatnonzero(mapped.isna().to_numpy() & raw.notna().to_numpy())
    for i in bad:
        problems.append(
            FeatureProblem(
                int(i),
                ids[i],
                column,
                shorten(raw.iat[i]),
                f"not an ACLED {column} code (allowed: {', '.join(map(str, mapping))})",
                "use ACLED's code as exported, or leave it empty for the default precision",
            )
        )
    return mapped.astype(object).where(mapped.notna(), None)


def _acled_type(event_type: object, sub_event_type: object) -> str | None:
    sub = str(sub_event_type).strip().lower() if sub_event_type is not None else ""
    event = str(event_type).strip().lower() if event_type is not None else ""
    return schema.ACLED_SUB_EVENT_TYPES.get(sub) or schema.ACLED_EVENT_TYPES.get(event)


def read_acled_frame(frame: pd.DataFrame, *, max_features: int) -> RawFeatures:
    """Map an ACLED export (already read as text columns) to the incident schema.

    ``event_id_cnty`` -> id; ``event_date`` -> date; ``time_precision`` -> date
    precision (:data:`geo.schema.ACLED_TIME_PRECISION_DAYS`); ``event_type`` and
    ``sub_event_type`` -> type (:data:`geo.schema.ACLED_SUB_EVENT_TYPES`, then
    :data:`geo.schema.ACLED_EVENT_TYPES`), both kept in ``source_event_type`` and
    ``source_sub_event_type``; ``geo_precision`` -> location precision
    (:data:`geo.schema.ACLED_GEO_PRECISION_M`); ``notes`` -> description;
    ``source`` -> source (prefixed ``ACLED: ``); ``actor1``, ``actor2``,
    ``fatalities`` kept; ``location``/``admin2``/``admin1`` and the precision
    code go into ``location_note``.
    """
    has_coordinates = any(
        lat in frame.columns and lon in frame.columns for lat, lon in CSV_COORDINATE_COLUMNS
    )
    missing = [
        c
        for c in ACLED_REQUIRED_COLUMNS
        if c not in frame.columns and not (c in ("latitude", "longitude") and has_coordinates)
    ]
    if missing:
        raise file_error(
            "header",
            ", ".join(missing),
            f"the ACLED export lacks its required column(s) {', '.join(missing)} (an ACLED "
            f"export has {', '.join(ACLED_REQUIRED_COLUMNS)})",
            "export the events again from ACLED with all columns, or add the missing ones",
        )
    if frame.empty:
        raise file_error("file", "", "the ACLED export has no rows", "export at least one event")
    _check_count(len(frame), max_features)
    n = len(frame)

    def column(name: str) -> pd.Series:
        return frame[name] if name in frame.columns else pd.Series([None] * n, dtype=object)

    ids = [
        v if type(v) is str and len(v) <= 60 else (None if v is None else shorten(v, 60))
        for v in column("event_id_cnty")
    ]
    problems: list[FeatureProblem] = []
    lat_name, lon_name = _coordinate_columns(frame)
    lon, lat = _coordinates(frame, lat_name, lon_name, ids, problems)
    event_type, sub_type = column("event_type"), column("sub_event_type")
    pairs = set(zip(event_type.tolist(), sub_type.tolist(), strict=True))
    unmapped = sorted({str(e) for e, sub in pairs if e and _acled_type(e, sub) is None})
    types = _map_distinct(
        lambda e, sub: _acled_type(e, sub) or ("other" if e else None),
        event_type.tolist(),
        sub_type.tolist(),
    )
    warnings: list[FeatureProblem] = []
    if unmapped:
        warnings.append(
            FeatureProblem(
                None,
                None,
                "event_type",
                shorten(", ".join(unmapped)),
                "ACLED event types without a match in our types were stored as 'other' "
                "(the original is kept in source_event_type)",
                "none needed; edit the type later if another fits better",
                "warning",
            )
        )

    def location_note(location, admin2, admin1, geo_code) -> str | None:
        place = ", ".join(str(p) for p in (location, admin2, admin1) if p)
        parts = (
            f"ACLED location: {place}" if place else "",
            f"ACLED geo_precision {geo_code}" if geo_code is not None else "",
        )
        return "; ".join(part for part in parts if part) or None

    note = _map_distinct(
        location_note,
        column("location").tolist(),
        column("admin2").tolist(),
        column("admin1").tolist(),
        column("geo_precision").tolist(),
    )
    source = _map_distinct(
        lambda s: None if s is None else f"ACLED: {s}", column("source").tolist()
    )
    properties = pd.DataFrame(
        {
            "id": column("event_id_cnty").to_numpy(),
            "date": _acled_dates(column("event_date")).to_numpy(),
            "date_precision_days": _acled_code(
                frame, "time_precision", schema.ACLED_TIME_PRECISION_DAYS, ids, problems
            ).to_numpy(),
            "type": types,
            "description": column("notes").to_numpy(),
            "fatalities": column("fatalities").to_numpy(),
            "actor1": column("actor1").to_numpy(),
            "actor2": column("actor2").to_numpy(),
            "location_precision_m": _acled_code(
                frame, "geo_precision", schema.ACLED_GEO_PRECISION_M, ids, problems
            ).to_numpy(),
            "location_note": note,
            "source": source,
            "source_event_type": event_type.to_numpy(),
            "source_sub_event_type": sub_type.to_numpy(),
        },
        dtype=object,
    )
    return RawFeatures("acled", properties, lon, lat, problems, warnings, ids)
