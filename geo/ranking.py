"""The ranked table: the one published form of a ranking, read by every output.

:func:`build_ranked_table` makes it once, from the scored sectors of
:func:`geo.analysis.rank_sectors`; :attr:`geo.analysis.AnalysisResult.ranked`
holds it. The JSON of ``python -m geo analyze``, the CSV, GeoJSON and
GeoPackage exports, the PDF, the app's table and both maps read this table and
nothing else, so a sector's numbers are the same wherever an analyst meets them.

Columns (:data:`RANKED_COLUMNS`, in this order, with :data:`RANKED_DTYPES`):

- ``rank, sector_id, chainage_start_km, chainage_end_km, score, p_top_k,
  rank_low, rank_high, unstable, rank_median`` (the rank interval is
  ``rank_low``–``rank_high``, 5–95 % of the weight draws);
- ``nearest_crossing_distance_km, nearest_crossing_name,
  nearest_town_distance_km, nearest_town_name``;
- ``crit_<column>`` for every raw criterion of :data:`CRITERIA_COLUMNS`;
- ``contrib_<criterion>`` for every scored criterion of
  :data:`geo.criteria.CRITERIA` (they sum to ``score``);

then, not exported (:data:`DETAIL_COLUMNS`): ``norm_<criterion>`` and the
one-at-a-time sweep's ``oat_rank_min``, ``oat_rank_max``; and the geometry
(each sector's whole zone, EPSG:4326, coordinates to 6 decimals).

Values are rounded as published: scores, contributions and criteria to 6
decimals, chainages to 3, P(top k) to 4, distances to 2. Missing values are
``NA``/``NaN``; an empty name is missing.

May import: numpy, pandas, geopandas, shapely, ``geo.criteria`` (for the
criterion names), ``geo.errors``, ``geo.memo`` (the published zones).
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.criteria import CRITERIA
from geo.memo import BoundedCache

#: Raw criteria columns shown under ``criteria`` in the JSON, in this order.
CRITERIA_COLUMNS: tuple[str, ...] = (
    "incidents",
    "incidents_lb",
    "incidents_sy",
    "weighted_incidents",
    "incident_density",
    "seizures",
    "clashes",
    "shelling_strikes",
    "smuggling",
    "arrests",
    "seized_quantity",
    "imprecise_incidents",
    "hotspot_share",
    "incidents_recent",
    "incidents_baseline",
    "trend",
    "official_crossings",
    "unofficial_crossings",
    "crossing_distance_km",
    "towns_in_zone",
    "population_in_zone",
    "towns_without_population",
    "exposed_population",
    "exposure_index",
    "line_uncertainty_mean_m",
    "line_uncertainty_max_m",
    "line_sources",
    "elevation_mean_m",
    "relief_m",
    "area_km2",
    "area_lb_km2",
    "area_sy_km2",
)

#: Leading columns of the ranked table, in this order.
LEADING_COLUMNS: tuple[str, ...] = (
    "rank",
    "sector_id",
    "chainage_start_km",
    "chainage_end_km",
    "score",
    "p_top_k",
    "rank_low",
    "rank_high",
    "unstable",
    "rank_median",
)
#: The nearest crossing and town of each sector's stretch of the line.
NEAREST_COLUMNS: tuple[str, ...] = (
    "nearest_crossing_distance_km",
    "nearest_crossing_name",
    "nearest_town_distance_km",
    "nearest_town_name",
)
#: Every exported column, in order (the geometry follows where a format has one).
RANKED_COLUMNS: tuple[str, ...] = (
    *LEADING_COLUMNS,
    *NEAREST_COLUMNS,
    *(f"crit_{c}" for c in CRITERIA_COLUMNS),
    *(f"contrib_{n}" for n in CRITERIA),
)
#: Columns kept for the app and the report but not exported.
DETAIL_COLUMNS: tuple[str, ...] = (
    *(f"norm_{n}" for n in CRITERIA),
    "oat_rank_min",
    "oat_rank_max",
)

_TEXT = ("nearest_crossing_name", "nearest_town_name", "crit_seized_quantity")
#: Where each published column comes from in the scored sectors, and its rounding.
_SOURCES: dict[str, tuple[str, int]] = {
    "rank": ("rank", 6),
    "sector_id": ("sector_id", 6),
    "chainage_start_km": ("chainage_start_km", 3),
    "chainage_end_km": ("chainage_end_km", 3),
    "score": ("score", 6),
    "p_top_k": ("p_top_k", 4),
    "rank_low": ("rank_low", 6),
    "rank_high": ("rank_high", 6),
    "unstable": ("unstable", 6),
    "rank_median": ("rank_median", 6),
    "nearest_crossing_distance_km": ("crossing_distance_km", 2),
    "nearest_crossing_name": ("nearest_crossing", 6),
    "nearest_town_distance_km": ("nearest_town_km", 2),
    "nearest_town_name": ("nearest_town", 6),
    **{f"crit_{c}": (c, 6) for c in CRITERIA_COLUMNS},
    **{f"contrib_{n}": (f"contrib_{n}", 6) for n in CRITERIA},
    **{f"norm_{n}": (f"norm_{n}", 6) for n in CRITERIA},
    "oat_rank_min": ("oat_rank_min", 6),
    "oat_rank_max": ("oat_rank_max", 6),
}
#: Coordinates are published with 6 decimals (about 0.1 m), as the layers are.
COORDINATE_DECIMALS = 6


def json_value(value: Any, digits: int = 6) -> Any:
    """Return ``value`` as a JSON-ready scalar (NaN and NA become ``None``).

    Parameters
    ----------
    value
        A scalar from a table.
    digits
        Decimals kept for a float.
    """
    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if not math.isfinite(value) else round(float(value), digits)
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _published(values: pd.Series, digits: int) -> pd.Series:
    """Return a column's values rounded as published, with one dtype.

    Whole numbers stay integers (``Int64`` where a value is missing), text stays
    text (an empty text is missing), booleans stay booleans.
    """
    kind = values.dtype.kind if isinstance(values.dtype, np.dtype) else ""
    if kind == "f":  # what json_value does to each float, at once (0.5 ms, not 2 ms)
        return pd.Series(
            [round(v, digits) if math.isfinite(v) else np.nan for v in values.to_numpy().tolist()],
            dtype="float64",
        )
    if kind and kind in "iub" and len(values):  # whole numbers, booleans: as they are
        return pd.Series(values.to_numpy(), dtype="int64" if kind in "iu" else bool)
    cells = [json_value(v, digits) for v in values]
    cells = [None if v == "" else v for v in cells]
    present = [v for v in cells if v is not None]
    if any(isinstance(v, str) for v in present) or (not present and values.dtype == object):
        return pd.Series(cells, dtype=object)
    if present and all(isinstance(v, bool) for v in present):
        return pd.Series(cells, dtype="boolean" if len(present) < len(cells) else bool)
    if present and all(isinstance(v, int) for v in present):
        return pd.Series(cells, dtype="Int64" if len(present) < len(cells) else "int64")
    return pd.Series([np.nan if v is None else v for v in cells], dtype="float64")


def build_ranked_table(sectors: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the ranked table of scored sectors (see the module docstring).

    Parameters
    ----------
    sectors
        The scored sectors of :func:`geo.analysis.rank_sectors`, ranked best
        first, one row a sector with its whole zone as geometry.
    """
    columns: dict[str, pd.Series] = {}
    for name in (*RANKED_COLUMNS, *DETAIL_COLUMNS):
        source, digits = _SOURCES[name]
        if source not in sectors.columns:
            continue
        column = _published(sectors[source].reset_index(drop=True), digits)
        if name in _TEXT:
            column = column.astype(object)
        columns[name] = column
    table = pd.DataFrame(columns)
    return gpd.GeoDataFrame(table, geometry=_published_geometry(sectors.geometry), crs=4326)


#: Each sector zone as published (EPSG:4326, rounded), by the zone's WKB and CRS.
_PUBLISHED_ZONES: BoundedCache[Any] = BoundedCache(1024)


def _published_geometry(geometry: gpd.GeoSeries) -> np.ndarray:
    """Return the zones in EPSG:4326 rounded to :data:`COORDINATE_DECIMALS`, each made once.

    The zones are those of a sector layout, the same on every ranking: projecting and
    rounding their 10,000 vertices took 0.012-0.02 s of every weight or filter change.
    Each zone is kept by its content (WKB and CRS), so a changed zone is made anew; the
    results are those of projecting and rounding the whole column (both work zone by
    zone).
    """
    crs = "" if geometry.crs is None else geometry.crs.srs
    keys = [(crs, k) for k in shapely.to_wkb(geometry.to_numpy())]
    out = np.empty(len(keys), dtype=object)
    for i, key in enumerate(keys):
        out[i] = _PUBLISHED_ZONES.get(key)
    missing = [i for i in range(len(keys)) if out[i] is None]
    if missing:
        made = shapely.set_precision(
            geometry.iloc[missing].to_crs(4326).to_numpy(), 10.0**-COORDINATE_DECIMALS
        )
        for i, shape in zip(missing, made, strict=True):
            out[i] = shape
            _PUBLISHED_ZONES.put(keys[i], shape)
    return out


def sector_records(ranked: pd.DataFrame) -> list[dict[str, Any]]:
    """Return the ranked sectors as JSON records (``analyze --format json``'s ``sectors``).

    Parameters
    ----------
    ranked
        The ranked table (:func:`build_ranked_table`).
    """
    out = []
    for row in ranked.itertuples(index=False):
        rec = row._asdict()
        criteria = {c: json_value(rec[f"crit_{c}"]) for c in CRITERIA_COLUMNS}
        # Issue 5's shape: the seized quantity is text, "" when nothing was seized.
        criteria["seized_quantity"] = criteria["seized_quantity"] or ""
        out.append(
            {
                "sector_id": json_value(rec["sector_id"]),
                "rank": json_value(rec["rank"]),
                "score": json_value(rec["score"]),
                "chainage_start_km": json_value(rec["chainage_start_km"]),
                "chainage_end_km": json_value(rec["chainage_end_km"]),
                "criteria": criteria,
                "contributions": {n: json_value(rec[f"contrib_{n}"]) for n in CRITERIA},
                "p_top_k": json_value(rec["p_top_k"]),
                "rank_interval": [json_value(rec["rank_low"]), json_value(rec["rank_high"])],
                "rank_median": json_value(rec["rank_median"]),
                "unstable": json_value(rec["unstable"]),
                "nearest_town": {
                    "name": json_value(rec["nearest_town_name"]),
                    "distance_km": json_value(rec["nearest_town_distance_km"]),
                },
                "nearest_crossing": {
                    "name": json_value(rec["nearest_crossing_name"]),
                    "distance_km": json_value(rec["nearest_crossing_distance_km"]),
                },
            }
        )
    return out


def main_drivers(ranked: pd.DataFrame) -> list[str]:
    """Return each sector's largest contribution as ``"criterion (share of the score)"``.

    Parameters
    ----------
    ranked
        The ranked table.
    """
    contrib = ranked[[f"contrib_{n}" for n in CRITERIA]].to_numpy(dtype=float)
    names = list(CRITERIA)
    out = []
    for row, total in zip(contrib, ranked["score"].to_numpy(dtype=float), strict=True):
        if not total > 0:
            out.append("")
            continue
        j = int(np.argmax(row))
        out.append(f"{names[j]} ({row[j] / total:.0%})")
    return out


def sector_table(ranked: pd.DataFrame, *, limit: int | None = None) -> pd.DataFrame:
    """Return a compact human table of the ranked sectors (``analyze --format table``).

    Parameters
    ----------
    ranked
        The ranked table.
    limit
        Show only the first ``limit`` sectors.
    """
    s = ranked
    out = pd.DataFrame(
        {
            "rank": s["rank"],
            "sector": s["sector_id"],
            "km": [f"{a:.0f}–{b:.0f}" for a, b in zip(s["chainage_start_km"],
                                                     s["chainage_end_km"], strict=True)],
            "score": s["score"].round(3),
            "p_top_k": s["p_top_k"].round(2),
            "rank 5–95%": [
                "" if pd.isna(lo) else f"{int(lo)}–{int(hi)}"
                for lo, hi in zip(s["rank_low"], s["rank_high"], strict=True)
            ],
            "unstable": s["unstable"].map(lambda v: "yes" if v is True else ""),
            "incidents": s["crit_incidents"],
            "line_unc_m": s["crit_line_uncertainty_mean_m"].round(0),
            "crossing_km": s["crit_crossing_distance_km"].round(1),
            "towns": s["crit_towns_in_zone"],
            "relief_m": s["crit_relief_m"].round(0),
            "nearest town": s["nearest_town_name"].fillna(""),
            "main driver": main_drivers(s),
        }
    )  # fmt: skip
    return out if limit is None else out.head(limit)
