"""Exports of an analysis in formats GIS tools open without help.

- sectors: GeoPackage (layer ``sectors``), GeoJSON (RFC 7946) and CSV, one row a
  sector ranked best first, with every criterion and contribution as a column;
- density: a Cloud-Optimised GeoTIFF (written by :meth:`DensitySurface.to_geotiff`);
- incidents: a GeoPackage (layer ``incidents``) or GeoJSON, every column kept verbatim;
  a CSV of every stored field (:func:`export_incidents_csv`) and an ACLED-layout CSV
  (:func:`export_incidents_acled`), both safe against spreadsheet formula injection;
- hot spots: a GeoPackage layer ``hotspots`` when they were computed.

Everything is written in EPSG:4326 (the GeoTIFF stays in the metric CRS in which
it was computed). Column names are flat ASCII: ``crit_<criterion>`` for a
criterion's raw value, ``contrib_<criterion>`` for its contribution to the score,
``rank_low``/``rank_high`` for the rank interval. Text written here is data, not
markup: escaping is the job of whatever displays it.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from geo import ranking, schema
from geo.errors import ConfigurationError

if TYPE_CHECKING:
    from geo.analysis import AnalysisResult
    from geo.density import DensitySurface

logger = logging.getLogger(__name__)

#: Sector formats and their GDAL drivers (``None``: plain CSV without geometry).
SECTOR_FORMATS: dict[str, str | None] = {"gpkg": "GPKG", "geojson": "GeoJSON", "csv": None}
#: Coordinates are written with 6 decimals (about 0.1 m), as the layers are.
COORDINATE_DECIMALS = ranking.COORDINATE_DECIMALS


def _ranked(result: AnalysisResult) -> gpd.GeoDataFrame:
    ranked = getattr(result, "ranked", None)
    if not isinstance(ranked, gpd.GeoDataFrame):
        raise ConfigurationError(
            "analysis result: it has no ranked table; "
            "fix: pass the result of geo.analysis.run_analysis"
        )
    return ranked


def ranked_table(result: AnalysisResult) -> pd.DataFrame:
    """Return the exported columns of the ranked table, without geometry, best first.

    Parameters
    ----------
    result
        The analysis; its :attr:`~geo.analysis.AnalysisResult.ranked` table is read.

    Returns
    -------
    pandas.DataFrame
        The columns of :data:`geo.ranking.RANKED_COLUMNS`.
    """
    return pd.DataFrame(_ranked(result)[list(ranking.RANKED_COLUMNS)]).reset_index(drop=True)


def sectors_frame(result: AnalysisResult) -> gpd.GeoDataFrame:
    """Return the exported columns of the ranked table with each sector's zone (EPSG:4326).

    Parameters
    ----------
    result
        The analysis.
    """
    ranked = _ranked(result)
    return ranked[[*ranking.RANKED_COLUMNS, ranked.geometry.name]].reset_index(drop=True)


def _infer_format(path: Path, fmt: str | None, allowed: Mapping[str, Any]) -> str:
    """Return ``fmt`` or the format named by ``path``'s suffix, checked."""
    chosen = (fmt or path.suffix.lstrip(".")).lower()
    if chosen == "json":
        chosen = "geojson"
    if chosen not in allowed:
        raise ConfigurationError(
            f"export to {path.name}: format {chosen!r} is not supported; "
            f"allowed: {', '.join(allowed)}; fix: pass fmt= or use one of these suffixes"
        )
    return chosen


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose object columns hold only text or numbers (for GDAL)."""
    frame = frame.copy()
    for column in frame.columns:
        if column == "geometry" or frame[column].dtype != object:
            continue
        frame[column] = frame[column].map(
            lambda v: v if v is None or isinstance(v, str | int | float) else str(v)
        )
    return frame


def _write_vector(frame: gpd.GeoDataFrame, path: Path, fmt: str, layer: str) -> None:
    """Write ``frame`` with GDAL's driver for ``fmt`` (GeoJSON replaced whole)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = _plain_columns(frame)
    if fmt == "geojson":
        if path.exists():
            path.unlink()
        pyogrio.write_dataframe(
            frame,
            path,
            driver="GeoJSON",
            layer=layer,
            layer_options={"RFC7946": "YES", "COORDINATE_PRECISION": COORDINATE_DECIMALS},
        )
    else:
        pyogrio.write_dataframe(frame, path, driver="GPKG", layer=layer)


def export_sectors(
    result: AnalysisResult,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    layer: str = "sectors",
) -> Path:
    """Write the ranked sectors to ``path``.

    Parameters
    ----------
    result
        A :class:`geo.analysis.AnalysisResult`.
    path
        Output file. A GeoPackage keeps its other layers; other formats are replaced.
    fmt
        ``"gpkg"``, ``"geojson"`` or ``"csv"``; by default from ``path``'s suffix.
    layer
        Layer name inside a GeoPackage.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    fmt = _infer_format(path, fmt, SECTOR_FORMATS)
    frame = sectors_frame(result)
    if fmt == "csv":
        path.parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(frame.drop(columns="geometry")).to_csv(
            path, index=False, lineterminator="\n", encoding="utf-8"
        )
    else:
        _write_vector(frame, path, fmt, layer)
    logger.info("wrote %d sectors to %s", len(frame), path)
    return path


def export_density(
    result_or_surface: AnalysisResult | DensitySurface, path: str | os.PathLike[str]
) -> Path:
    """Write the density surface as a Cloud-Optimised GeoTIFF.

    Parameters
    ----------
    result_or_surface
        A :class:`geo.analysis.AnalysisResult` (its ``density``) or a
        :class:`geo.density.DensitySurface`.
    path
        Output ``.tif`` file (replaced).

    Returns
    -------
    pathlib.Path
        The file written.
    """
    surface = getattr(result_or_surface, "density", result_or_surface)
    if surface is None or not hasattr(surface, "to_geotiff"):
        raise ConfigurationError(
            "density export: the analysis has no density surface; "
            "fix: run the analysis with incidents in the region"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    surface.to_geotiff(path)
    logger.info("wrote the density surface to %s", path)
    return path


def export_incidents(
    incidents: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    fmt: str | None = None,
    *,
    layer: str = "incidents",
) -> Path:
    """Write incidents, every column verbatim, to a GeoPackage (or GeoJSON).

    Parameters
    ----------
    incidents
        Incidents with Point geometry and a CRS (written in EPSG:4326).
    path
        Output file. A GeoPackage keeps its other layers.
    fmt
        ``"gpkg"`` (default from the suffix) or ``"geojson"``.
    layer
        Layer name inside a GeoPackage.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    fmt = _infer_format(path, fmt, {"gpkg": "GPKG", "geojson": "GeoJSON"})
    if incidents.crs is None:
        raise ConfigurationError(
            "incident export: the incidents have no CRS; fix: set it (EPSG:4326 expected)"
        )
    frame = incidents.to_crs(4326)
    for column in frame.columns:
        # GDAL has no timezone-aware datetime type in every driver: store UTC.
        if isinstance(frame[column].dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.tz_convert("UTC").dt.tz_localize(None)
    _write_vector(frame.reset_index(drop=True), path, fmt, layer)
    logger.info("wrote %d incidents to %s", len(frame), path)
    return path


def export_hotspots(
    result: AnalysisResult, path: str | os.PathLike[str], *, layer: str = "hotspots"
) -> bool:
    """Write the Gi* hot-spot cells of ``result`` as a GeoPackage layer, if any.

    Parameters
    ----------
    result
        A :class:`geo.analysis.AnalysisResult`.
    path
        Output GeoPackage (its other layers are kept).
    layer
        Layer name.

    Returns
    -------
    bool
        Whether a layer was written (no hot spots were computed otherwise).
    """
    cells = getattr(getattr(result, "hotspots", None), "cells", None)
    if not isinstance(cells, gpd.GeoDataFrame) or cells.empty:
        return False
    _write_vector(cells.to_crs(4326).reset_index(drop=True), Path(path), "gpkg", layer)
    return True


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
#: injection"): such a text cell is written with a leading apostrophe.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: Columns of the ACLED-layout export, in ACLED's order (those we cannot fill are empty).
ACLED_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2",
    "inter2", "interaction", "civilian_targeting", "iso", "region", "country", "admin1",
    "admin2", "admin3", "location", "latitude", "longitude", "geo_precision", "source",
    "source_scale", "notes", "fatalities", "tags", "timestamp",
)  # fmt: skip
#: Our type -> ACLED's (event_type, sub_event_type), for incidents not imported from ACLED.
#: Smuggling and crossings have no ACLED type: "Strategic developments / Other".
ACLED_TYPES: dict[str, tuple[str, str]] = {
    "seizure": ("Strategic developments", "Disrupted weapons use"),
    "clash": ("Battles", "Armed clash"),
    "shelling": ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "strike": ("Explosions/Remote violence", "Air/drone strike"),
    "arrest": ("Strategic developments", "Arrests"),
}
_ACLED_NOTE = re.compile(
    r"^(?:ACLED location: (?P<place>.*?))?(?:(?:^|; )ACLED geo_precision (?P<code>\d+))?$"
)


def neutralise_formula(value: Any) -> Any:
    """Return ``value`` safe for a spreadsheet cell: text starting like a formula gets ``'``.

    Parameters
    ----------
    value
        A cell value; only text is changed.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy whose text cells are neutralised (:func:`neutralise_formula`)."""
    frame = frame.copy()
    for column in frame.columns:
        if frame[column].dtype == object or pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].astype(object).map(neutralise_formula)
    frame.columns = [neutralise_formula(str(c)) for c in frame.columns]
    return frame


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # CRLF line ends (RFC 4180): the csv writer then quotes any cell holding a CR or LF.
    path.parent.mkdir(parents=True, exist_ok=True)
    _csv_safe(frame).to_csv(path, index=False, lineterminator="\r\n", encoding="utf-8")


def _points(incidents: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    if incidents.crs is None:
        raise ConfigurationError(
            "incident export: the incidents have no CRS; fix: set it (EPSG:4326 expected)"
        )
    geometry = incidents.to_crs(4326).geometry
    return geometry.x.round(COORDINATE_DECIMALS + 1), geometry.y.round(COORDINATE_DECIMALS + 1)


def incidents_table(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return every stored field of the incidents as a flat table, ``longitude, latitude`` last.

    Every column of :data:`geo.schema.INCIDENT_COLUMNS` (empty where unknown), the
    store's columns when present, then any others. Dates are ISO days, ``ingested_at``
    ISO 8601 UTC; whole-number columns stay whole.
    ``python -m geo ingest`` reads the CSV of this table back (latitude/longitude columns).

    Parameters
    ----------
    incidents
        Incidents (Point geometry, any CRS; written in EPSG:4326).
    """
    lon, lat = _points(incidents)
    known = [*schema.INCIDENT_COLUMNS, *schema.STORE_COLUMNS]
    extra = [c for c in incidents.columns if c not in known and c != incidents.geometry.name]
    table = pd.DataFrame(incidents.drop(columns=incidents.geometry.name)).reset_index(drop=True)
    for column in schema.INCIDENT_COLUMNS:  # every field, empty where none is known
        if column not in table.columns:
            table[column] = None
    stored = [c for c in schema.STORE_COLUMNS if c in table.columns]
    table = table[[*schema.INCIDENT_COLUMNS, *stored, *extra]]
    if "date" in table.columns:
        table["date"] = pd.to_datetime(table["date"]).dt.strftime("%Y-%m-%d")
    if "ingested_at" in table.columns:
        stamp = pd.to_datetime(table["ingested_at"], utc=True)
        table["ingested_at"] = stamp.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    for column in ("fatalities", "date_precision_days"):
        if column in table.columns:
            table[column] = pd.array(table[column].round(), dtype="Int64")
    table["longitude"], table["latitude"] = lon.to_numpy(), lat.to_numpy()
    return table


def export_incidents_csv(incidents: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write every stored field of the incidents as CSV (UTF-8), safe to open in a spreadsheet.

    Text cells that start with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
    get a leading apostrophe (:data:`FORMULA_PREFIXES`, OWASP's rule), so Excel and
    LibreOffice show them as text instead of running them.

    Parameters
    ----------
    incidents
        Incidents (Point geometry).
    path
        Output ``.csv`` (replaced).
    """
    path = Path(path)
    _write_csv(incidents_table(incidents), path)
    logger.info("wrote %d incidents to %s", len(incidents), path)
    return path


def _code_for(value: float, mapping: Mapping[int, float]) -> int | None:
    """Return the smallest ACLED code whose precision covers ``value`` (the coarsest if none)."""
    if value is None or not np.isfinite(value):
        return None
    for code, limit in sorted(mapping.items(), key=lambda item: item[1]):
        if value <= limit:
            return code
    return max(mapping, key=mapping.__getitem__)


def acled_table(incidents: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the incidents in ACLED's column layout (:data:`ACLED_COLUMNS`).

    An incident imported from ACLED goes back as it came (``event_id_cnty``, event and
    sub-event types, location and precision codes, ``ACLED: `` taken off the source);
    others take the nearest ACLED codes: ``time_precision`` 1/2/3 for a date known to
    1/7/31 days (3 beyond), ``geo_precision`` 1/2/3 for 2/10/50 km (3 beyond), types by
    :data:`ACLED_TYPES`. Quantities, units and commodities have no ACLED column and are
    not written (the incidents CSV keeps them).

    Parameters
    ----------
    incidents
        Incidents (Point geometry).
    """
    lon, lat = _points(incidents)
    n = len(incidents)
    frame = pd.DataFrame(incidents.drop(columns=incidents.geometry.name)).reset_index(drop=True)

    def column(name: str) -> pd.Series:
        if name in frame.columns:
            return frame[name].astype(object).where(frame[name].notna(), None)
        return pd.Series([None] * n, dtype=object)

    dates = pd.to_datetime(column("date"))
    out = pd.DataFrame({c: pd.Series([None] * n, dtype=object) for c in ACLED_COLUMNS})
    out["event_id_cnty"] = column("id")
    out["event_date"] = dates.dt.strftime("%Y-%m-%d")
    out["year"] = pd.array(dates.dt.year, dtype="Int64")
    out["time_precision"] = pd.array(
        [_code_for(v, schema.ACLED_TIME_PRECISION_DAYS) for v in column("date_precision_days")],
        dtype="Int64",
    )
    events, subs, places, codes = [], [], [], []
    for kind, event, sub, note, radius in zip(
        column("type"),
        column("source_event_type"),
        column("source_sub_event_type"),
        column("location_note"),
        column("location_precision_m"),
        strict=True,
    ):
        if event is None:
            event, sub = ACLED_TYPES.get(kind, ("Strategic developments", "Other"))
        events.append(event)
        subs.append(sub)
        match = _ACLED_NOTE.match(note) if isinstance(note, str) else None
        if match and (match["place"] is not None or match["code"] is not None):
            places.append(match["place"])
            codes.append(int(match["code"]) if match["code"] else None)
        else:
            places.append(note)
            codes.append(_code_for(radius, schema.ACLED_GEO_PRECISION_M))
    out["event_type"], out["sub_event_type"] = events, subs
    out["actor1"], out["actor2"] = column("actor1"), column("actor2")
    out["location"] = places
    out["latitude"], out["longitude"] = lat.to_numpy(), lon.to_numpy()
    out["geo_precision"] = pd.array(codes, dtype="Int64")
    out["source"] = [
        s.removeprefix("ACLED: ") if isinstance(s, str) else s for s in column("source")
    ]
    out["notes"] = column("description")
    out["fatalities"] = pd.array(
        [None if v is None else round(float(v)) for v in column("fatalities")], dtype="Int64"
    )
    return out


def export_incidents_acled(incidents: gpd.GeoDataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the incidents as an ACLED-layout CSV (:func:`acled_table`), formula-safe.

    ``python -m geo ingest`` and tools that read ACLED exports read it back.

    Parameters
    ----------
    incidents
        Incidents (Point geometry).
    path
        Output ``.csv`` (replaced).
    """
    path = Path(path)
    _write_csv(acled_table(incidents), path)
    logger.info("wrote %d incidents in ACLED's layout to %s", len(incidents), path)
    return path
