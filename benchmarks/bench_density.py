"""Benchmark the density surface: speed, memory and accuracy against the exact sum.

Run: ``python benchmarks/bench_density.py`` (about two minutes on a 2-core machine;
``--quick`` stops at 1e5 incidents; ``--engines`` runs only the last table).

Grid: the real region grid (:func:`geo.grid.region_grid`, 250 m cells, about 0.86
million cells). Incidents: *synthetic*, for timing only: positions drawn along
the real border line (uniform chainage, Gaussian offsets of 8 km), weights
uniform in [0.5, 3]. Gaussian kernel, bandwidth 2 km for every method.

Columns:

- ``ours``: :func:`geo.density.estimate_density` on projected points (binning +
  convolution), best of two runs; ``ours+3cls`` the same with three location
  precision classes (100 m, 10 km, 30 km) widened separately.
- ``pipeline``: :func:`geo.density.compute_density` from a GeoDataFrame in
  EPSG:4326 (projection, weights, bandwidth rule and all), one run: wall
  seconds and process CPU seconds (``time.process_time``, all threads: the
  projection runs in two threads from 2e5 points, so CPU can exceed wall).
  The 1-minute load average is printed with the table: on a shared machine
  the wall times are only comparable at a similar load.
- ``peak MB``: tracemalloc peak of numpy allocations during ``ours``.
- ``err``: relative L2 error against the exact direct sum of kernels on 400
  random cells where the density is not negligible.
- ``KDEpy``: ``FFTKDE(bw=2).fit(points_km, weights).evaluate(grid_km)`` on the same
  grid (in kilometres: in metres, bw=2000, KDEpy 1.1.12 cuts the Gaussian at about
  1.2 sigma, tommyod/KDEpy#202), and its error on the same cells.
- ``gaussian_kde``: ``scipy.stats.gaussian_kde`` with the same isotropic
  covariance (h² I), timed on 2,000 cells and extrapolated to the grid
  (it is an exact sum: error ~1e-15); not run at 1e6 points.
- ``exact``: the direct sum (matrix product), timed on the 400 cells and
  extrapolated to the grid.

A second table times the Gaussian engine on real inputs as the analysis makes
them (projected points, weights, location-precision classes, Silverman's
bandwidth, the region grid): the bundled record, and 100,000 incidents made from
it as ``bench_app`` makes them (its positions with Gaussian jitter of 5 km).
``engine s`` is :func:`geo.density.estimate_density`, ``former s`` the former
engine (:func:`geo.density._truncated_gaussian_density`: one full-grid FFT
convolution per class), both best of five; ``max diff`` is their largest
difference relative to the surface's maximum.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
from functools import partial

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer
from scipy.stats import gaussian_kde

from geo import settings
from geo.density import (
    _truncated_gaussian_density,
    compute_density,
    estimate_bandwidth,
    estimate_density,
    evaluate_exact_density,
    group_precisions,
)
from geo.grid import project_points, region_grid, region_line
from geo.weights import incident_weights, location_precisions
from layers import load_border_line

BANDWIDTH_M = 2_000.0


class IsotropicKDE(gaussian_kde):
    """scipy's gaussian_kde with covariance h² I (the same kernel as ours)."""

    def __init__(self, dataset, weights, bandwidth_m):
        self._data_covariance = np.eye(2)
        self._data_cho_cov = np.eye(2)
        super().__init__(dataset, bw_method=bandwidth_m, weights=weights)


def synthetic_points(n: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    line = region_line(load_border_line())
    along = rng.uniform(0, line.length, n)
    base = shapely.get_coordinates(shapely.line_interpolate_point(line, along))
    x = base[:, 0] + rng.normal(0, 8_000, n)
    y = base[:, 1] + rng.normal(0, 8_000, n)
    w = rng.uniform(0.5, 3.0, n)
    return x, y, w


def best_of(runs: int, fn):
    best = float("inf")
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def rel_l2(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def kdepy_density(x, y, w, grid) -> np.ndarray | None:
    try:
        from KDEpy import FFTKDE
    except ImportError:
        return None
    cx = grid.x0 + (np.arange(grid.width) + 0.5) * grid.cell_m
    cy_north_first = grid.y0 - (np.arange(grid.height) + 0.5) * grid.cell_m
    cy = cy_north_first[::-1]
    gx, gy = np.meshgrid(cx, cy, indexing="ij")
    points = np.column_stack([gx.ravel(), gy.ravel()])
    inside = (x > cx[0]) & (x < cx[-1]) & (y > cy[0]) & (y < cy[-1])
    # In kilometres: KDEpy 1.1.12 truncates a Gaussian of bw 2000 at about 1.2 sigma
    # (absolute tolerance in practical_support, tommyod/KDEpy#202); bw 2 is safe.
    kde = FFTKDE(kernel="gaussian", bw=BANDWIDTH_M / 1000).fit(
        np.column_stack([x[inside], y[inside]]) / 1000, weights=w[inside]
    )
    values = kde.evaluate(points / 1000).reshape(grid.width, grid.height).T[::-1]
    return values * w[inside].sum()  # a pdf per km²: scale to weighted incidents per km²


def compare_engines(runs: int = 5) -> None:
    """Time the Gaussian engine and the former one on the bundled record and 100,000 incidents."""
    import pandas as pd

    from benchmarks.bench_app import ROOT, synthetic

    grid = region_grid(line=load_border_line())
    sample = gpd.read_file(ROOT / "data" / "sample_incidents.geojson")
    sample["date"] = pd.to_datetime(sample["date"])
    header = (
        f"{'incidents':>18} | {'classes':>7} {'bandwidth m':>11} | {'engine s':>8} "
        f"{'former s':>8} | {'max diff':>8}"
    )
    print(
        f"\nGaussian engine on real inputs, best of {runs}; load average {os.getloadavg()[0]:.2f}"
    )
    print(header)
    print("-" * len(header))
    for label, incidents in [
        ("bundled", sample),
        ("100,000 synthetic", synthetic(100_000, sample)),
    ]:
        x, y = project_points(incidents)
        w = incident_weights(incidents, half_life_days=settings.HALF_LIFE_DAYS)
        precision = location_precisions(incidents)
        bandwidth = estimate_bandwidth(x, y, weights=w)
        n_classes = np.unique(group_precisions(precision / 2)[0]).size
        options = {"bandwidth_m": bandwidth, "precision_m": precision}
        t_new, (new, _, _) = best_of(runs, partial(estimate_density, x, y, w, grid, **options))
        t_old, old = best_of(runs, partial(_truncated_gaussian_density, x, y, w, grid, **options))
        diff = float(np.abs(new - old).max() / old.max())
        print(
            f"{label:>18} | {n_classes:>7} {bandwidth:>11.0f} | {t_new:>8.3f} {t_old:>8.3f} | "
            f"{diff:>8.1e}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="stop at 1e5 incidents")
    parser.add_argument("--engines", action="store_true", help="only the engines' table")
    args = parser.parse_args()
    if args.engines:
        compare_engines()
        return
    sizes = [1_000, 10_000, 100_000] + ([] if args.quick else [1_000_000])
    rng = np.random.default_rng(20251123)
    grid = region_grid(line=load_border_line())
    n_cells = grid.width * grid.height
    to_geo = Transformer.from_crs(settings.METRIC_CRS, settings.GEOGRAPHIC_CRS, always_xy=True)
    print(
        f"grid {grid.width}×{grid.height} = {n_cells:,} cells of {grid.cell_m:g} m; "
        f"Gaussian kernel, bandwidth {BANDWIDTH_M:g} m; synthetic incidents along the border; "
        f"load average at the start {os.getloadavg()[0]:.2f}"
    )
    header = (
        f"{'N':>9} | {'ours s':>7} {'ours+3cls s':>11} {'pipeline s':>10} {'cpu s':>6} "
        f"{'peak MB':>8} "
        f"{'err':>8} | {'KDEpy s':>8} {'KDEpy err':>9} | {'gaussian_kde s':>15} | {'exact s':>9}"
    )
    print(header)
    print("-" * len(header))
    for n in sizes:
        x, y, w = synthetic_points(n, rng)
        precision = rng.choice([100.0, 10_000.0, 30_000.0], n)

        def ours(x=x, y=y, w=w):
            return estimate_density(x, y, w, grid, bandwidth_m=BANDWIDTH_M)

        t_ours, (values, _, _) = best_of(2, ours)
        tracemalloc.start()
        ours()
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        t_cls, _ = best_of(
            1,
            lambda x=x, y=y, w=w, p=precision: estimate_density(
                x, y, w, grid, bandwidth_m=BANDWIDTH_M, precision_m=p
            ),
        )
        lon, lat = to_geo.transform(x, y)
        gdf = gpd.GeoDataFrame(
            {"type": np.full(n, "seizure"), "location_precision_m": 100.0},
            geometry=gpd.points_from_xy(lon, lat),
            crs=settings.GEOGRAPHIC_CRS,
        )
        cpu_start = time.process_time()
        t_pipe, _ = best_of(1, lambda gdf=gdf: compute_density(gdf, grid=grid))
        cpu_pipe = time.process_time() - cpu_start

        # accuracy on 400 random cells where the density is not negligible
        flat = values.ravel()
        candidates = np.flatnonzero(flat > 0.01 * flat.max())
        cells = rng.choice(candidates, size=min(400, candidates.size), replace=False)
        cx, cy = grid.cell_centres()
        px, py = cx.ravel()[cells], cy.ravel()[cells]
        t_exact, exact = best_of(
            1,
            lambda x=x, y=y, w=w, px=px, py=py: evaluate_exact_density(
                x, y, w, px, py, bandwidth_m=BANDWIDTH_M
            ),
        )
        t_exact_grid = t_exact * n_cells / cells.size
        err = rel_l2(flat[cells], exact)

        t_kdepy, kdepy_values = best_of(1, lambda x=x, y=y, w=w: kdepy_density(x, y, w, grid))
        kdepy_err = rel_l2(kdepy_values.ravel()[cells], exact) if kdepy_values is not None else None

        if n <= 100_000:
            sub = rng.choice(n_cells, size=2_000, replace=False)
            kde = IsotropicKDE(np.vstack([x, y]), w / w.sum(), BANDWIDTH_M)
            queries = np.vstack([cx.ravel()[sub], cy.ravel()[sub]])
            t_sub, _ = best_of(1, lambda kde=kde, queries=queries: kde(queries))
            kde_check = kde(np.vstack([px, py])) * w.sum() * 1e6
            assert rel_l2(kde_check, exact) < 1e-9, "gaussian_kde kernel differs from ours"
            kde_text = f"{t_sub * n_cells / sub.size:,.0f} (extrap.)"
        else:
            kde_text = "not run"
        print(
            f"{n:>9,} | {t_ours:>7.3f} {t_cls:>11.3f} {t_pipe:>10.3f} {cpu_pipe:>6.3f} "
            f"{peak_mb:>8.0f} "
            f"{err:>8.1e} | {t_kdepy:>8.3f} "
            f"{kdepy_err if kdepy_err is None else format(kdepy_err, '.1e'):>9} | "
            f"{kde_text:>15} | {t_exact_grid:>9,.0f}",
            flush=True,
        )
    compare_engines()
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak resident memory (all runs, incl. GeoDataFrames): {maxrss_mb:,.0f} MB")


if __name__ == "__main__":
    main()
