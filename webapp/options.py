"""The page's analysis options, from the values of the sidebar's controls (no streamlit).

One place says what the controls mean and where they start: the sidebar (``app.py``)
gives its widgets these defaults and passes their values to
:func:`options_from_controls`; :mod:`webapp.warmup` asks :func:`default_options` for the
options of a page nobody has changed yet, to compute it when the server starts; both
key the map's data layers and the timelines by :func:`map_view`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from geo import settings

#: Kernel bandwidth control's start, km (0: the automatic rule).
BANDWIDTH_KM = 0.0
#: Recency half-life control's start, days (0: no decay).
HALF_LIFE_DAYS = int(settings.HALF_LIFE_DAYS or 0)
#: Criterion weight sliders' starts.
WEIGHTS = {c: float(w) for c, w in settings.PRIORITY_WEIGHTS.items()}


def date_span(incidents: Any) -> tuple[dt.date, dt.date] | None:
    """Return the first and last day of the incidents (the date control's bounds), if any."""
    if not len(incidents):
        return None
    return incidents["date"].min().date(), incidents["date"].max().date()


def options_from_controls(
    *,
    date_range: Sequence[dt.date] | None,
    types: Sequence[str],
    all_types: Sequence[str],
    sector_km: float,
    corridor_km: float,
    bandwidth_km: float,
    half_life_days: float,
    weights: Mapping[str, float],
) -> dict[str, Any]:
    """Return the analysis options the controls' values stand for.

    Parameters
    ----------
    date_range
        The date control's value: two days, or fewer while the analyst is choosing
        (then no date bound).
    types, all_types
        The chosen incident types, and all of them (all chosen: no type filter).
    sector_km, corridor_km
        Sector length and corridor half-width.
    bandwidth_km
        Kernel bandwidth (0: the automatic rule).
    half_life_days
        Recency half-life (0: no decay).
    weights
        Criterion weights (all zero: the default weights).
    """
    since = until = None
    if isinstance(date_range, tuple | list) and len(date_range) == 2:
        since, until = date_range
    return {
        "since": since,
        "until": until,
        "types": tuple(types) if set(types) != set(all_types) else None,
        "sector_km": float(sector_km),
        "corridor_km": float(corridor_km),
        "weights": dict(weights) if sum(weights.values()) > 0 else None,
        "bandwidth_m": float(bandwidth_km) * 1000 if bandwidth_km else None,
        "half_life_days": float(half_life_days) if half_life_days else None,
    }


def default_options(incidents: Any, all_types: Sequence[str]) -> dict[str, Any]:
    """Return the options of a page whose controls are as they start.

    Parameters
    ----------
    incidents
        The stored incidents (their first and last days are the date control's start).
    all_types
        Every incident type (all chosen at the start).
    """
    return options_from_controls(
        date_range=date_span(incidents),
        types=all_types,
        all_types=all_types,
        sector_km=settings.SECTOR_KM,
        corridor_km=settings.CORRIDOR_KM,
        bandwidth_km=BANDWIDTH_KM,
        half_life_days=HALF_LIFE_DAYS,
        weights=WEIGHTS,
    )


def map_view(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return the options the map's data layers and the timelines depend on: all but the weights.

    The page and :mod:`webapp.warmup` key those cached stages by this, so they must agree.
    """
    return {k: v for k, v in options.items() if k != "weights"}
