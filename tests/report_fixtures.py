"""Small synthetic inputs for the report, export and CLI tests (real analysis code).

A straight synthetic border line, one official crossing, one town and a
cluster of 40 incidents, analysed by the real :func:`geo.analysis.run_analysis`
on a coarse grid so that a test stays well under a second.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.analysis import AnalysisParameters, AnalysisResult, run_analysis

#: Synthetic border: a straight line of about 75 km, from north-west to south-east.
LINE = shapely.LineString([(36.0, 34.6), (36.4, 34.0)])
#: Hostile description: HTML, a template literal and a local-file link.
HOSTILE = (
    '<a rel="attachment" href="file:///etc/passwd">passwd</a> '
    "<img src=x onerror=alert(1)> ${alert(document.domain)} `tick` \\back"
)


def make_incidents(n: int = 40, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Return ``n`` incidents clustered near (36.32°E, 34.12°N), one with hostile text."""
    rng = np.random.default_rng(seed)
    lon = 36.32 + rng.normal(0, 0.01, n)
    lat = 34.12 + rng.normal(0, 0.01, n)
    description = [f"incident {i}" for i in range(n)]
    description[0] = HOSTILE  # and the most recent, so the report lists it
    dates = pd.to_datetime("2025-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    dates = dates.where(np.arange(n) != 0, pd.Timestamp("2025-11-01"))
    return gpd.GeoDataFrame(
        {
            "id": [f"T-{i:03d}" for i in range(n)],
            "date": dates,
            "date_precision_days": np.where(np.arange(n) % 4 == 0, 7, 1),
            "type": rng.choice(["seizure", "clash", "smuggling"], n),
            "description": description,
            "quantity": np.where(np.arange(n) % 5 == 0, 1000.0, np.nan),
            "unit": None,
            "commodity": None,
            "fatalities": np.where(np.arange(n) % 7 == 0, 1.0, np.nan),
            "location_precision_m": np.where(np.arange(n) % 3 == 0, 10_000.0, 100.0),
            "location_note": None,
            "source": "synthetic <b>source</b>",
            "source_file": np.where(np.arange(n) < 30, "first.geojson", "second.csv"),
            "source_sha256": np.where(np.arange(n) < 30, "a" * 64, "b" * 64),
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


def make_layers() -> dict[str, gpd.GeoDataFrame]:
    """Return the synthetic reference layers ``run_analysis`` accepts."""
    towns = gpd.GeoDataFrame(
        {"name": ["Town <i>A</i>"], "country": ["LBN"], "population": [None]},
        geometry=[shapely.Point(36.30, 34.15)],
        crs=4326,
    )
    crossings = gpd.GeoDataFrame(
        {
            "name": ["Crossing B"],
            "name_ar": ["ب"],
            "counterpart": [None],
            "counterpart_ar": [None],
            "status": ["official"],
            "location_precision_m": [100.0],
        },
        geometry=[shapely.Point(36.2, 34.3)],
        crs=4326,
    )
    candidates = gpd.GeoDataFrame(
        {"source": pd.Series([], dtype="string")}, geometry=gpd.GeoSeries([], crs=4326)
    )
    return {"towns": towns, "crossings": crossings, "candidates": candidates}


def analyse(incidents: gpd.GeoDataFrame | None = None, **options: object) -> AnalysisResult:
    """Run the real analysis on the synthetic line and layers (1 km density cells)."""
    incidents = make_incidents() if incidents is None else incidents
    params = AnalysisParameters(**{"cell_m": 1000.0, "draws": 300, **options})
    return run_analysis(incidents, params, line=LINE, countries=None, terrain=None, **make_layers())
