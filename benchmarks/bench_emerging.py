"""Benchmark: emerging hot spots (space-time Gi*, Mann-Kendall, categories).

Synthetic incidents scattered along the real border (8 km normal offsets, 30 % of them
known only to 10 km), dated uniformly over the slices. Target on the 2-core machine:
100,000 incidents over 24 slices of 30 days in under 2 s.

Run from the repository root: ``python benchmarks/bench_emerging.py [--repeat N]``.
Prints a table: incidents, slices, wall and CPU seconds (best of N), cells, categories.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from geo import settings
from geo.emerging import compute_emerging_hotspots
from geo.grid import region_line
from layers import load_border_line


def synthetic(n: int, days: int, *, seed: int = 1) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    line = region_line(load_border_line())
    along = shapely.line_interpolate_point(line, rng.uniform(0, line.length, n))
    x = shapely.get_x(along) + rng.normal(0, 8_000, n)
    y = shapely.get_y(along) + rng.normal(0, 8_000, n)
    points = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=settings.METRIC_CRS).to_crs(4326)
    return gpd.GeoDataFrame(
        {
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, days, n), "D"),
            "type": rng.choice(list(settings.INCIDENT_TYPES), n),
            "location_precision_m": np.where(rng.random(n) < 0.3, 10_000.0, 100.0),
        },
        geometry=points.to_numpy(),
        crs=4326,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    line = load_border_line()
    print(f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat}")
    print(f"{'incidents':>10} {'slices':>6} {'wall s':>7} {'CPU s':>6} {'cells':>6}  categories")
    for n, slices in ((10_000, 24), (100_000, 12), (100_000, 24), (100_000, 48)):
        frame = synthetic(n, slices * 30)
        best = (np.inf, np.inf)
        for _ in range(args.repeat):
            wall, cpu = time.perf_counter(), time.process_time()
            result = compute_emerging_hotspots(frame, line=line, slice_days=30)
            best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
        hot = sum(v for k, v in result.summary().items() if "hot" in k)
        cold = sum(v for k, v in result.summary().items() if "cold" in k)
        print(
            f"{n:>10,} {len(result.slices):>6} {best[0]:>7.2f} {best[1]:>6.2f} "
            f"{len(result.cells):>6}  {hot} hot, {cold} cold"
        )


if __name__ == "__main__":
    main()
