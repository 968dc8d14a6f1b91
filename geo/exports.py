"""Exports of an analysis in formats GIS tools open without help.

- sectors: GeoPackage (layer ``sectors``), GeoJSON (RFC 7946) and CSV, one row a
  sector ranked best first, with every criterion and contribution as a column;
- density: a Cloud-Optimised GeoTIFF (written by :meth:`DensitySurface.to_geotiff`);
- incidents: a GeoPackage (layer ``incidents``), every column kept verbatim;
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
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo import ranking
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
