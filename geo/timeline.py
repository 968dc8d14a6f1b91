"""Sector timelines: each sector's incidents by month, and by month and type.

The ranked table shows a small monthly timeline beside each sector
(:func:`sector_sparklines`); choosing a sector shows its incidents by month and type
(:func:`sector_months`). Months are calendar months of the incident's date; a month
with none is 0, so every timeline of an analysis has the same months.

May import: pandas, numpy, ``geo.settings``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo import settings


def _months(dates: pd.Series, *, first: pd.Period | None, last: pd.Period | None) -> pd.PeriodIndex:
    periods = pd.to_datetime(dates).dt.to_period("M")
    first = first if first is not None else periods.min()
    last = last if last is not None else periods.max()
    if pd.isna(first) or pd.isna(last):
        return pd.PeriodIndex([], freq="M")
    return pd.period_range(first, last, freq="M")


def sector_sparklines(
    incidents: pd.DataFrame,
    *,
    first: pd.Period | None = None,
    last: pd.Period | None = None,
) -> pd.Series:
    """Return each sector's incidents per month, as a list, indexed by ``sector_id``.

    Parameters
    ----------
    incidents
        Incidents with ``date`` and ``sector_id`` (``AnalysisResult.incidents``);
        those outside every sector are left out.
    first, last
        The months shown (default the first and last incident's).
    """
    if not len(incidents):
        return pd.Series(dtype=object)
    columns = incidents[["date", "sector_id"]]  # not every column taken along
    located = columns[columns["sector_id"].notna()]
    if located.empty:
        return pd.Series(dtype=object)
    months = _months(located["date"], first=first, last=last)
    # Counted with one bincount over (sector, month): pd.crosstab took 0.02 s a filter.
    dates = pd.to_datetime(located["date"])
    dated = dates.notna().to_numpy()  # an undated incident is in no month
    sector = located["sector_id"].to_numpy(dtype=float)[dated].astype(np.int64)
    month = dates.to_numpy(dtype="datetime64[ns]")[dated].astype("datetime64[M]")
    ids = np.unique(sector)
    if not len(months):
        counts = np.zeros((len(ids), 0), dtype=np.int64)
    else:
        offset = month.astype(np.int64) - months[0].ordinal  # months since the first shown
        shown = (offset >= 0) & (offset < len(months))
        cell = np.searchsorted(ids, sector[shown]) * len(months) + offset[shown]
        counts = np.bincount(cell, minlength=len(ids) * len(months)).reshape(len(ids), -1)
    index = pd.Index(ids, name="sector_id")
    return pd.Series([row.tolist() for row in counts], index=index, dtype=object)


def sector_months(incidents: pd.DataFrame, sector_id: int) -> pd.DataFrame:
    """Return one sector's incidents by month (rows, ``YYYY-MM``) and type (columns).

    Every month from the first to the last incident of ``incidents`` is a row; the
    types are :data:`geo.settings.INCIDENT_TYPES` that occur in the sector.

    Parameters
    ----------
    incidents
        Incidents with ``date``, ``type`` and ``sector_id``.
    sector_id
        The sector.
    """
    if incidents.empty:
        return pd.DataFrame()
    months = _months(incidents["date"], first=None, last=None)
    mine = incidents[incidents["sector_id"] == sector_id]
    month = pd.to_datetime(mine["date"]).dt.to_period("M")
    table = pd.crosstab(month, mine["type"]) if len(mine) else pd.DataFrame(index=months[:0])
    order = [t for t in settings.INCIDENT_TYPES if t in table.columns]
    table = table.reindex(index=months, columns=order, fill_value=0).astype(np.int64)
    table.index = table.index.strftime("%Y-%m")
    table.index.name = "month"
    return table
