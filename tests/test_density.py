"""Density surface: known answers against the exact kernel sum, mass, peaks, COG (issue 4)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from pyproj import Transformer
from scipy import stats

from geo import settings
from geo.density import (
    QUARTIC_RADIUS_PER_SIGMA,
    _truncated_gaussian_density,
    bin_points,
    compute_density,
    estimate_bandwidth,
    estimate_density,
    evaluate_exact_density,
    read_geotiff,
)
from geo.errors import ConfigurationError, InsufficientDataError
from geo.grid import Grid, project_points
from geo.weights import incident_weights

#: A 40 km × 40 km grid of 250 m cells (160 × 160) in the metric CRS, near Hermel.
GRID = Grid(x0=500_000.0, y0=60_000.0, cell_m=250.0, width=160, height=160)
CENTRE = (520_000.0, 40_000.0)
TO_GEO = Transformer.from_crs(settings.METRIC_CRS, 4326, always_xy=True)


def rel_l2(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.fixture
def cloud():
    """300 weighted points in two clusters, well inside GRID (fixed seed)."""
    rng = np.random.default_rng(42)
    x = np.r_[rng.normal(514_000, 2_500, 200), rng.normal(526_000, 3_500, 100)]
    y = np.r_[rng.normal(44_000, 2_000, 200), rng.normal(35_000, 3_000, 100)]
    w = rng.uniform(0.5, 3.0, 300)
    return x, y, w


def incidents_at(x, y, **columns) -> gpd.GeoDataFrame:
    lon, lat = TO_GEO.transform(np.asarray(x, float), np.asarray(y, float))
    data = {"type": ["seizure"] * len(lon)}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(lon, lat), crs=4326)


def test_exact_reference_equals_scipy_multivariate_normal(cloud):
    # the reference itself checked against an independent library
    x, y, w = cloud
    px, py = np.array([515_000.0, 520_000.0]), np.array([43_000.0, 38_000.0])
    ours = evaluate_exact_density(x, y, w, px, py, bandwidth_m=1_500)
    theirs = [
        sum(
            wi * stats.multivariate_normal(mean=(xi, yi), cov=1_500**2).pdf((qx, qy))
            for xi, yi, wi in zip(x, y, w, strict=True)
        )
        * 1e6
        for qx, qy in zip(px, py, strict=True)
    ]
    assert_allclose(ours, theirs, rtol=1e-10)


@pytest.mark.parametrize(("kernel", "bandwidth_m"), [("gaussian", 1_500.0), ("quartic", 4_000.0)])
def test_binned_density_matches_the_exact_sum_within_1_percent(cloud, kernel, bandwidth_m):
    x, y, w = cloud
    values, outside, _ = estimate_density(x, y, w, GRID, bandwidth_m=bandwidth_m, kernel=kernel)
    cx, cy = GRID.cell_centres()
    exact = evaluate_exact_density(x, y, w, cx, cy, bandwidth_m=bandwidth_m, kernel=kernel)
    assert outside == 0
    assert rel_l2(values, exact) < 0.01


def test_precision_widened_density_matches_the_exact_widened_sum(cloud):
    x, y, w = cloud
    precision = np.random.default_rng(1).choice([100.0, 2_000.0, 8_000.0], size=x.size)
    values, _, classes = estimate_density(x, y, w, GRID, bandwidth_m=1_500, precision_m=precision)
    cx, cy = GRID.cell_centres()
    exact = evaluate_exact_density(x, y, w, cx, cy, bandwidth_m=1_500, precision_m=precision)
    assert classes == (100.0, 2_000.0, 8_000.0)
    assert rel_l2(values, exact) < 0.01


@pytest.mark.parametrize("kernel", ["gaussian", "quartic"])
def test_mass_equals_the_weighted_count_when_the_grid_covers_the_data(cloud, kernel):
    x, y, w = cloud
    wide = Grid(x0=480_000.0, y0=80_000.0, cell_m=250.0, width=320, height=320)
    values, _, _ = estimate_density(x, y, w, wide, bandwidth_m=2_000, kernel=kernel)
    assert values.sum() * wide.cell_area_km2 == pytest.approx(w.sum(), rel=1e-6)
    # on a grid that cuts the kernels' tails, the mass lost is the tails' (small, not zero)
    values, _, _ = estimate_density(x, y, w, GRID, bandwidth_m=2_000, kernel=kernel)
    assert 0.99 * w.sum() < values.sum() * GRID.cell_area_km2 <= w.sum()


@pytest.mark.parametrize(
    ("kernel", "bandwidth_m", "height"),
    [
        ("gaussian", 2_000.0, 1e6 / (2 * math.pi * 2_000.0**2)),
        ("quartic", 4_000.0, 1e6 * 3 / (math.pi * 4_000.0**2)),
    ],
)
def test_single_point_peaks_at_its_cell_with_the_kernel_height(kernel, bandwidth_m, height):
    cx, cy = GRID.cell_centres()
    row, col = 70, 90
    values, _, _ = estimate_density(
        [cx[row, col]], [cy[row, col]], [1.0], GRID, bandwidth_m=bandwidth_m, kernel=kernel
    )
    assert np.unravel_index(np.argmax(values), values.shape) == (row, col)
    assert values[row, col] == pytest.approx(height, rel=0.01)


def test_a_30_km_incident_makes_a_lower_wider_peak_with_the_same_mass():
    grid = Grid(x0=400_000.0, y0=150_000.0, cell_m=500.0, width=400, height=400)
    gdf = incidents_at([500_000.0], [50_000.0])
    sharp = compute_density(gdf.assign(location_precision_m=250.0), grid=grid, bandwidth_m=2_000)
    vague = compute_density(gdf.assign(location_precision_m=30_000.0), grid=grid, bandwidth_m=2_000)
    assert vague.values.max() < sharp.values.max() / 10
    # Gaussian of variance h² + (R/2)²: its peak is known
    assert vague.values.max() == pytest.approx(
        1e6 / (2 * math.pi * (2_000.0**2 + 15_000.0**2)), rel=0.01
    )
    half_max_area = [(s.values >= s.values.max() / 2).sum() for s in (sharp, vague)]
    assert half_max_area[1] > 20 * half_max_area[0]
    assert vague.mass == pytest.approx(sharp.mass, rel=1e-3)
    assert sharp.mass == pytest.approx(1.0, rel=1e-3)


def test_missing_precision_counts_as_the_default():
    grid = Grid(x0=450_000.0, y0=100_000.0, cell_m=500.0, width=200, height=200)
    gdf = incidents_at([500_000.0], [50_000.0])
    missing = compute_density(gdf.assign(location_precision_m=np.nan), grid=grid, bandwidth_m=2e3)
    default = compute_density(
        gdf.assign(location_precision_m=settings.DEFAULT_LOCATION_PRECISION_M),
        grid=grid,
        bandwidth_m=2e3,
    )
    assert_allclose(missing.values, default.values)


@hsettings(max_examples=40, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.floats(0, 159.9), st.floats(0, 159.9), st.floats(0.01, 100)),
        min_size=1,
        max_size=30,
    )
)
def test_linear_binning_keeps_mass_and_centre_of_mass(points):
    cols, rows, w = (np.array(v) for v in zip(*points, strict=True))
    x = GRID.x0 + cols * GRID.cell_m
    y = GRID.y0 - rows * GRID.cell_m
    binned, outside = bin_points(x, y, w, GRID)
    assert outside == 0
    assert binned.sum() == pytest.approx(w.sum(), rel=1e-9)
    assert binned.min() >= 0
    cx, cy = GRID.cell_centres()
    inner = (cols >= 0.5) & (cols <= 159.5) & (rows >= 0.5) & (rows <= 159.5)
    if inner.all():  # away from the edge cells the centre of mass is exact
        assert (binned * cx).sum() / w.sum() == pytest.approx((w * x).sum() / w.sum(), abs=1e-6)
        assert (binned * cy).sum() / w.sum() == pytest.approx((w * y).sum() / w.sum(), abs=1e-6)


def test_points_off_the_grid_are_counted_out():
    values, outside, _ = estimate_density(
        [520_000.0, 700_000.0], [40_000.0, 40_000.0], [1.0, 2.5], GRID, bandwidth_m=1_000
    )
    assert outside == 2.5
    assert values.sum() * GRID.cell_area_km2 == pytest.approx(1.0, rel=1e-6)


def test_bandwidth_rule_is_silverman_on_the_projected_points():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 20_000, 500)
    y = rng.normal(0, 10_000, 500)
    sx, sy = x.std(), y.std()  # normal data: the standard deviation is the smaller spread
    expected = math.sqrt((sx**2 + sy**2) / 2) * 500 ** (-1 / 6)
    assert estimate_bandwidth(x, y) == pytest.approx(expected, rel=0.02)
    # scaling the weights changes nothing; clamps at both ends
    assert estimate_bandwidth(x, y, weights=np.full(500, 7.0)) == pytest.approx(expected, rel=0.02)
    assert estimate_bandwidth(x / 100, y / 100) == settings.DENSITY_BANDWIDTH_MIN_M
    assert estimate_bandwidth(x * 10, y * 10) == settings.DENSITY_BANDWIDTH_MAX_M
    assert estimate_bandwidth([0.0], [0.0]) == settings.DENSITY_BANDWIDTH_MAX_M


def test_bandwidth_rule_resists_a_far_outlier():
    rng = np.random.default_rng(4)
    x = np.r_[rng.normal(0, 5_000, 99), 300_000.0]
    y = np.r_[rng.normal(0, 5_000, 99), 0.0]
    h = estimate_bandwidth(x, y)
    assert h < 1.2 * 5_000 * 100 ** (-1 / 6)


def test_compute_density_defaults_from_incidents(cloud):
    x, y, _ = cloud
    gdf = incidents_at(x, y, type=["clash"] * 150 + ["crossing"] * 150)
    surface = compute_density(gdf, grid=GRID)
    assert surface.bandwidth_rule == "silverman"
    assert surface.total_weight == pytest.approx(150 * 1.5 + 150 * 0.5)
    assert surface.units == settings.DENSITY_UNITS == "weighted incidents per km²"
    assert surface.values.dtype == np.float32 and surface.values.shape == GRID.shape
    assert surface.transform == GRID.transform and surface.crs.equals(settings.METRIC_CRS)
    quartic = compute_density(gdf, grid=GRID, kernel="quartic")
    assert quartic.bandwidth_m == pytest.approx(surface.bandwidth_m * QUARTIC_RADIUS_PER_SIGMA)
    assert quartic.mass == pytest.approx(surface.mass, rel=1e-3)
    # Coordinates projected beforehand (the app projects the store once) give the same.
    given = compute_density(gdf, grid=GRID, xy=project_points(gdf))
    np.testing.assert_array_equal(given.values, surface.values)
    assert given.bandwidth_m == surface.bandwidth_m
    with pytest.raises(ConfigurationError, match="two arrays of 300 finite metric"):
        compute_density(gdf, grid=GRID, xy=(np.r_[x[:-1], np.nan], y))


def test_recency_applies_only_when_asked():
    x = [510_000.0, 530_000.0]
    gdf = incidents_at(x, [40_000.0, 40_000.0], date=pd.to_datetime(["2025-01-01", "2025-07-01"]))
    flat = compute_density(gdf, grid=GRID, bandwidth_m=2_000)
    decayed = compute_density(gdf, grid=GRID, bandwidth_m=2_000, half_life_days=181)
    assert flat.total_weight == 2.0
    assert decayed.total_weight == pytest.approx(1.5)


def test_refusals_name_the_value_and_the_fix(cloud):
    x, y, w = cloud
    with pytest.raises(ConfigurationError, match=r"bandwidth 100\.0 m is smaller than the 250 m"):
        estimate_density(x, y, w, GRID, bandwidth_m=100.0)
    with pytest.raises(ConfigurationError, match="kernel='epanechnikov' is unknown"):
        compute_density(incidents_at(x, y), grid=GRID, kernel="epanechnikov")
    with pytest.raises(InsufficientDataError, match="no incidents"):
        compute_density(incidents_at([], []), grid=GRID)
    with pytest.raises(InsufficientDataError, match="all weigh zero"):
        compute_density(incidents_at(x, y), grid=GRID, type_weights={"seizure": 0})


def test_cog_reads_back_identically(tmp_path):
    # 600 × 700 cells so that the COG has an overview level
    grid = Grid(x0=420_000.0, y0=120_000.0, cell_m=250.0, width=600, height=700)
    rng = np.random.default_rng(5)
    gdf = incidents_at(
        rng.uniform(450_000, 550_000, 40),
        rng.uniform(20_000, 100_000, 40),
        location_precision_m=rng.choice([500.0, 10_000.0], 40),
        date=pd.Timestamp("2025-06-01") - pd.to_timedelta(rng.integers(0, 200, 40), unit="D"),
    )
    surface = compute_density(gdf, grid=grid, half_life_days=30)
    path = tmp_path / "density.tif"
    surface.to_geotiff(path)
    back = read_geotiff(path)
    assert np.array_equal(back.values, surface.values)
    assert back.transform == surface.transform
    assert back.crs.equals(settings.METRIC_CRS)
    assert back.tags() == surface.tags()
    assert back.bandwidth_m == surface.bandwidth_m and back.kernel == surface.kernel
    assert back.total_weight == surface.total_weight
    assert back.precision_classes_m == (500.0, 10_000.0)
    with rasterio.open(path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert src.profile["tiled"] and src.profile["blockxsize"] == 512
        assert src.overviews(1) == [2]
        assert src.nodata == -9999.0
        assert src.units == ("weighted incidents per km²",)
        # averaged overview keeps the mean density
        overview = src.read(1, out_shape=(350, 300))
        assert overview.mean() == pytest.approx(surface.values.mean(), rel=1e-3)


def test_cog_write_to_a_missing_folder_says_so(tmp_path, cloud):
    x, y, _ = cloud
    surface = compute_density(incidents_at(x, y), grid=GRID)
    with pytest.raises(
        ConfigurationError, match=r"cannot write the density GeoTIFF.*does not exist"
    ):
        surface.to_geotiff(tmp_path / "no" / "such" / "d.tif")


def _reference_spread(values, weights):
    """Weighted min(std, IQR/1.349) by the textbook route: one full argsort."""
    total = weights.sum()
    mean = np.dot(weights, values) / total
    std = math.sqrt(np.dot(weights, (values - mean) ** 2) / total)
    order = np.argsort(values, kind="stable")
    q1, q3 = np.interp([0.25 * total, 0.75 * total], np.cumsum(weights[order]), values[order])
    iqr = (q3 - q1) / 1.349
    return min(std, iqr) if iqr > 0 else std


def _reference_bandwidth(x, y, w):
    n_eff = w.sum() ** 2 / np.dot(w, w)
    sigma = math.sqrt((_reference_spread(x, w) ** 2 + _reference_spread(y, w) ** 2) / 2)
    h = sigma * n_eff ** (-1 / 6)
    return min(max(h, settings.DENSITY_BANDWIDTH_MIN_M), settings.DENSITY_BANDWIDTH_MAX_M)


@hsettings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-50, 50), min_size=2, max_size=60),
    st.sampled_from([1.0, 0.1, 1.5, 7.0]),
)
def test_equal_weight_bandwidth_shortcut_equals_the_full_sort(ints, weight):
    # ties included (integers): the np.partition route must give the very same numbers
    x = np.array(ints, dtype=float) * 1_000.0
    y = x[::-1] * 0.5 + 30.0
    w = np.full(x.size, weight)
    if w.sum() ** 2 / np.dot(w, w) >= 2:
        assert estimate_bandwidth(x, y, weights=w) == _reference_bandwidth(x, y, w)


@pytest.mark.parametrize("mixed_types", [True, False])
def test_pipeline_equals_the_engine_on_the_same_projected_points(cloud, monkeypatch, mixed_types):
    """compute_density's speed-ups must not change a number.

    Everything the pipeline derives from the GeoDataFrame is recomputed here by an
    independent route (a fresh pyproj Transformer, the weights from the settings by
    hand, Silverman's rule with a full argsort) and the surface must equal the
    engine's on those points. The projection is forced through its threaded path.
    """
    monkeypatch.setattr("geo.grid._THREADED_FROM_POINTS", 50)
    x, y, _ = cloud
    n = x.size
    rng = np.random.default_rng(7)
    types = rng.choice(["clash", "crossing", "SEIZURE", "Shelling"], n) if mixed_types else None
    quantity = np.where(rng.random(n) < 0.3, rng.integers(1, 10_000, n), np.nan)
    precision = rng.choice([100.0, 5_000.0, 30_000.0, np.nan], n)
    dates = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    columns = {"location_precision_m": precision, "date": dates}
    if mixed_types:
        columns.update(type=types, quantity=quantity)
    gdf = incidents_at(x, y, **columns)
    half_life = 90.0 if mixed_types else None
    surface = compute_density(gdf, grid=GRID, half_life_days=half_life)

    lon, lat = gdf.geometry.x.to_numpy(), gdf.geometry.y.to_numpy()
    px, py = Transformer.from_crs(4326, settings.METRIC_CRS, always_xy=True).transform(lon, lat)
    if mixed_types:
        type_w = np.array([settings.TYPE_WEIGHTS[t.lower()] for t in types])
        q = np.nan_to_num(quantity)
        magnitude = np.minimum(
            1.0 + settings.QUANTITY_WEIGHT_PER_DECADE * np.log10(1.0 + q),
            settings.MAX_MAGNITUDE_FACTOR,
        )
        magnitude = np.maximum(magnitude, 1.0)
        age = (dates.max() - dates).days.to_numpy()
        w = type_w * magnitude * 0.5 ** (age / half_life)
    else:
        w = np.full(n, settings.TYPE_WEIGHTS["seizure"])
    prec = np.where(np.isnan(precision), settings.DEFAULT_LOCATION_PRECISION_M, precision)

    assert surface.total_weight == pytest.approx(w.sum(), rel=1e-12)
    assert surface.bandwidth_m == pytest.approx(_reference_bandwidth(px, py, w), rel=1e-12)
    if not mixed_types:  # equal weights: bit for bit
        assert surface.bandwidth_m == _reference_bandwidth(px, py, w)
    engine, outside, classes = estimate_density(
        px, py, w, GRID, bandwidth_m=surface.bandwidth_m, precision_m=prec
    )
    assert surface.precision_classes_m == classes
    assert surface.outside_weight == pytest.approx(outside, abs=1e-12)
    assert_allclose(surface.values, engine.astype(np.float32), rtol=1e-6, atol=0)
    # the same projected points and weights through the engine: identical to the last bit
    gx, gy = project_points(gdf)
    np.testing.assert_array_equal(gx, px)
    np.testing.assert_array_equal(gy, py)
    gw = incident_weights(gdf, half_life_days=half_life)
    assert_allclose(gw, w, rtol=1e-12, atol=0)
    exact, _, _ = estimate_density(
        gx, gy, gw, GRID, bandwidth_m=surface.bandwidth_m, precision_m=prec
    )
    np.testing.assert_array_equal(surface.values, exact.astype(np.float32))


@pytest.mark.parametrize("layout", ["normal", "tied", "outliers", "heavy_first"])
def test_bucketed_bandwidth_equals_the_full_sort(layout):
    # 30,000 unequal weights: the quartiles come from a few sorted buckets (or the
    # full sort when the target falls outside them); Silverman's h must not move
    rng = np.random.default_rng(11)
    n = 30_000
    x = rng.normal(500_000, 8_000, n)
    y = rng.exponential(10_000, n)
    w = rng.uniform(0.5, 3.0, n)
    if layout == "tied":
        x, y = np.round(x / 500) * 500, np.round(y / 2_000) * 2_000
    elif layout == "outliers":
        x[:5], y[:5] = 5e7, -5e7
    elif layout == "heavy_first":  # one incident outweighs a quarter of all: no bracket
        x[np.argmin(x)] -= 1.0
        w[np.argmin(x)] = 0.4 * w.sum()
    expected = _reference_bandwidth(x, y, w)
    assert settings.DENSITY_BANDWIDTH_MIN_M < expected < settings.DENSITY_BANDWIDTH_MAX_M
    assert estimate_bandwidth(x, y, weights=w) == pytest.approx(expected, rel=1e-12)


# --- the Gaussian engine in the frequency domain against references ---------------------

#: 200 × 150 cells of 250 m (50 km × 37.5 km).
SPECTRAL_GRID = Grid(x0=600_000.0, y0=90_000.0, cell_m=250.0, width=200, height=150)


def _clustered_points(rng, grid, n):
    """Points in three clusters and a uniform spread, a few beyond the grid's edges."""
    width_m, height_m = grid.width * grid.cell_m, grid.height * grid.cell_m
    centres = rng.uniform(0.1, 0.9, (3, 2)) * (width_m, height_m)
    pick = rng.integers(0, 4, n)
    spread = np.where(pick[:, None] < 3, rng.normal(0, 2_500, (n, 2)), 0.0)
    uniform = rng.uniform(-0.02, 1.02, (n, 2)) * (width_m, height_m)
    offset = np.where(pick[:, None] < 3, centres[np.minimum(pick, 2)] + spread, uniform)
    return grid.x0 + offset[:, 0], grid.y0 - offset[:, 1], rng.uniform(0.5, 3.0, n)


@pytest.mark.parametrize(
    ("bandwidth_m", "precisions"),
    [
        (2_000.0, (100.0, 2_000.0, 8_000.0, 20_000.0, 40_000.0)),  # all spectral, three runs
        (1_000.0, (100.0, 1_500.0, 3_000.0, 12_000.0)),  # narrow (ndimage) and spectral
        (3_000.0, None),  # one class
    ],
)
def test_gaussian_engine_equals_the_truncated_kernel_engine(bandwidth_m, precisions):
    # the former engine cuts each kernel at 4σ and renormalises it: 1.3e-4 of a kernel's
    # peak too high inside the cut, e^-8 = 3.4e-4 of it missing at the cut
    rng = np.random.default_rng(2024)
    x, y, w = _clustered_points(rng, SPECTRAL_GRID, 500)
    precision = None if precisions is None else rng.choice(precisions, x.size)
    new, outside, classes = estimate_density(
        x, y, w, SPECTRAL_GRID, bandwidth_m=bandwidth_m, precision_m=precision
    )
    old = _truncated_gaussian_density(
        x, y, w, SPECTRAL_GRID, bandwidth_m=bandwidth_m, precision_m=precision
    )
    assert outside == pytest.approx(bin_points(x, y, w, SPECTRAL_GRID)[1], rel=1e-12)
    assert outside > 0
    assert classes == ((0.0,) if precisions is None else precisions)
    assert np.abs(new - old).max() <= 3.5e-4 * old.max()
    assert rel_l2(new, old) < 2e-4


def test_narrow_gaussian_classes_keep_the_direct_filter():
    # 4σ of at most 24 cells: binned and filtered as before, to the last bit
    rng = np.random.default_rng(8)
    x, y, w = _clustered_points(rng, SPECTRAL_GRID, 300)
    precision = rng.choice([100.0, 1_000.0], x.size)
    new, _, _ = estimate_density(x, y, w, SPECTRAL_GRID, bandwidth_m=1_000, precision_m=precision)
    old = _truncated_gaussian_density(
        x, y, w, SPECTRAL_GRID, bandwidth_m=1_000, precision_m=precision
    )
    np.testing.assert_array_equal(new, old)


@pytest.mark.parametrize("bandwidth_m", [1_600.0, 5_000.0])
def test_gaussian_sums_from_points_and_from_binned_grids_agree(monkeypatch, bandwidth_m):
    # a class's frequency sums come from its sorted points or, when it has many points,
    # from its binned grid: forced one way then the other, the surfaces must agree
    rng = np.random.default_rng(21)
    x, y, w = _clustered_points(rng, SPECTRAL_GRID, 3_000)
    precision = rng.choice([100.0, 2_500.0, 9_000.0, 30_000.0], x.size)

    def density(binning_cost):
        monkeypatch.setattr("geo.density._BINNING_COST_PER_CELL", binning_cost)
        return estimate_density(
            x, y, w, SPECTRAL_GRID, bandwidth_m=bandwidth_m, precision_m=precision
        )

    on_points, outside, classes = density(math.inf)
    on_grids, outside_grids, classes_grids = density(-math.inf)
    assert (outside, classes) == (outside_grids, classes_grids)
    assert np.abs(on_points - on_grids).max() <= 1e-12 * on_points.max()


@pytest.mark.parametrize("bandwidth_m", [1_600.0, 2_000.0, 6_000.0])
def test_gaussian_engine_equals_the_exact_sum_for_points_on_cell_centres(bandwidth_m):
    # On a cell centre linear binning is exact, so the frequency-domain classes must give
    # the exact sum of Gaussians up to the neglected e^-18 (the former engine: 1.3e-4).
    rng = np.random.default_rng(11)
    grid = SPECTRAL_GRID
    n = 80
    rows = rng.integers(0, grid.height, n)
    cols = rng.integers(0, grid.width, n)
    rows[:4], cols[:4] = [0, grid.height - 1, 0, 75], [0, grid.width - 1, 120, grid.width - 1]
    cx, cy = grid.cell_centres()
    x, y = cx[rows, cols], cy[rows, cols]
    w = rng.uniform(0.5, 3.0, n)
    precision = rng.choice([100.0, 4_000.0, 10_000.0, 25_000.0], n)
    values, outside, _ = estimate_density(
        x, y, w, grid, bandwidth_m=bandwidth_m, precision_m=precision
    )
    exact = evaluate_exact_density(x, y, w, cx, cy, bandwidth_m=bandwidth_m, precision_m=precision)
    assert outside == 0
    assert np.abs(values - exact).max() <= 1e-7 * exact.max()
    old = _truncated_gaussian_density(x, y, w, grid, bandwidth_m=bandwidth_m, precision_m=precision)
    assert np.abs(old - exact).max() > 1e-5 * exact.max()  # the reference is not exact


_PRECISIONS = (100.0, 3_000.0, 9_000.0, 20_000.0)
_spectral_points = st.lists(
    st.tuples(
        st.floats(0, 1),  # column, as a fraction of the inner area
        st.floats(0, 1),  # row, likewise
        st.floats(0.01, 10),  # weight
        st.integers(0, len(_PRECISIONS) - 1),  # precision class
    ),
    min_size=1,
    max_size=25,
)


def _place(points, grid, first, span):
    """Metric coordinates of points whose (col, row) fractions fall in [first, first + span)."""
    cols, rows, w, codes = (np.array(v) for v in zip(*points, strict=True))
    x = grid.x0 + (first + cols * span) * grid.cell_m
    y = grid.y0 - (first + rows * span) * grid.cell_m
    return x, y, w, np.asarray(_PRECISIONS)[codes]


@hsettings(max_examples=30, deadline=None)
@given(
    points=_spectral_points,
    other=st.lists(st.floats(0, 10), min_size=25, max_size=25),
    a=st.floats(0.1, 5),
    b=st.floats(0, 5),
    bandwidth_m=st.sampled_from([1_600.0, 2_500.0]),
)
def test_gaussian_density_is_linear_in_the_weights(points, other, a, b, bandwidth_m):
    grid = Grid(x0=0.0, y0=30_000.0, cell_m=250.0, width=110, height=120)
    x, y, w, precision = _place(points, grid, -1.0, 112.0)  # edges and outside included
    v = np.array(other[: w.size])

    def density(weights):
        return estimate_density(
            x, y, weights, grid, bandwidth_m=bandwidth_m, precision_m=precision
        )[0]

    combined = density(a * w + b * v)
    separate = a * density(w) + b * density(v)
    assert np.abs(combined - separate).max() <= 1e-9 * max(separate.max(), 1e-300)


@hsettings(max_examples=30, deadline=None)
@given(
    points=_spectral_points,
    shift=st.tuples(st.integers(-12, 12), st.integers(-12, 12)),
    bandwidth_m=st.sampled_from([1_600.0, 2_500.0]),
)
def test_gaussian_density_moves_with_a_whole_cell_translation(points, shift, bandwidth_m):
    # points kept 13 cells from the edges, so that they and their shifts lie inside
    grid = Grid(x0=0.0, y0=30_000.0, cell_m=250.0, width=100, height=90)
    x, y, w, precision = _place(points, grid, 13.0, 60.0)
    dc, dr = shift

    def density(dx, dy):
        return estimate_density(
            x + dx, y + dy, w, grid, bandwidth_m=bandwidth_m, precision_m=precision
        )[0]

    base = density(0.0, 0.0)
    moved = density(dc * grid.cell_m, -dr * grid.cell_m)
    rows = slice(max(dr, 0), grid.height + min(dr, 0))
    cols = slice(max(dc, 0), grid.width + min(dc, 0))
    back_rows = slice(max(-dr, 0), grid.height + min(-dr, 0))
    back_cols = slice(max(-dc, 0), grid.width + min(-dc, 0))
    assert np.abs(moved[rows, cols] - base[back_rows, back_cols]).max() <= 1e-7 * base.max()


@hsettings(max_examples=30, deadline=None)
@given(points=_spectral_points, bandwidth_m=st.sampled_from([1_600.0, 2_500.0]))
def test_gaussian_density_keeps_the_mass_on_the_grid(points, bandwidth_m):
    # widest class σ = hypot(10, 40) ≈ 41 cells: a grid reaching 250 cells (6σ) beyond
    # the points keeps all but e^-18 of the mass; one cut close to them keeps less
    wide = Grid(x0=0.0, y0=135_000.0, cell_m=250.0, width=540, height=540)
    x, y, w, precision = _place(points, wide, 250.0, 40.0)
    values, outside, _ = estimate_density(
        x, y, w, wide, bandwidth_m=bandwidth_m, precision_m=precision
    )
    assert outside == 0
    assert values.min() >= 0
    assert values.sum() * wide.cell_area_km2 == pytest.approx(w.sum(), rel=1e-6)
    tight = Grid(x0=0.0, y0=30_000.0, cell_m=250.0, width=100, height=120)
    x, y, w, precision = _place(points, tight, 30.0, 40.0)
    values, outside, _ = estimate_density(
        x, y, w, tight, bandwidth_m=bandwidth_m, precision_m=precision
    )
    assert outside == 0
    assert values.min() >= 0
    assert values.sum() * tight.cell_area_km2 <= w.sum() * (1 + 1e-9)
