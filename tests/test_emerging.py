"""Emerging hot spots: Mann–Kendall against scipy, the categories on built series, planted data."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from geo import settings as geo_settings
from geo.emerging import CATEGORIES, classify_series, compute_emerging_hotspots, mann_kendall
from geo.errors import InsufficientDataError
from geo.grid import region_line
from layers import load_border_line

LINE = load_border_line()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=3, max_size=30))
def test_mann_kendall_s_equals_scipy_kendall_tau_on_the_time_index(values):
    x = np.asarray(values, dtype=float)
    n = x.size
    s, _, p = mann_kendall(x)
    tau, _ = stats.kendalltau(np.arange(n), x)
    _, ties = np.unique(x, return_counts=True)
    n0, n2 = n * (n - 1) / 2, float((ties * (ties - 1) / 2).sum())
    expected = 0.0 if np.isnan(tau) else tau * np.sqrt(n0 * (n0 - n2))
    assert s[0] == pytest.approx(expected, abs=1e-9)
    assert 0.0 <= p[0] <= 1.0


def test_mann_kendall_of_a_rising_series_is_significant():
    s, z, p = mann_kendall(np.arange(20.0))
    assert s[0] == 190 and z[0] > 0 and p[0] < 1e-6
    s, z, p = mann_kendall(np.zeros(12))
    assert (s[0], z[0], p[0]) == (0.0, 0.0, 1.0)


H, C, N = True, "cold", False


def _series(pattern: str) -> tuple[np.ndarray, np.ndarray]:
    """'h' hot, 'c' cold, '.' neither, oldest first."""
    return np.array([c == "h" for c in pattern]), np.array([c == "c" for c in pattern])


@pytest.mark.parametrize(
    ("pattern", "trend", "expected"),
    [
        ("...........h", (0, 1), "new hot spot"),
        ("..........hh", (0, 1), "consecutive hot spot"),
        ("h.........hh", (0, 1), "sporadic hot spot"),  # a hot spot before the final run
        ("hhhhhhhhhhhh", (3, 0.001), "intensifying hot spot"),
        ("hhhhhhhhhhhh", (0.5, 0.6), "persistent hot spot"),
        (".hhhhhhhhhhh", (-3, 0.001), "diminishing hot spot"),  # 11/12 ≥ 90 %
        ("h..h.h..h..h", (0, 1), "sporadic hot spot"),
        ("c..h.h..h..h", (0, 1), "oscillating hot spot"),
        ("hhhhhhhhhhh.", (0, 1), "historical hot spot"),
        ("...........c", (0, 1), "new cold spot"),
        ("cccccccccccc", (-3, 0.001), "intensifying cold spot"),
        ("cccccccccccc", (3, 0.001), "diminishing cold spot"),
        ("h..c..c....c", (0, 1), "oscillating cold spot"),
        ("ccccccccccc.", (0, 1), "historical cold spot"),
        ("hhhhh.......", (0, 1), "no pattern detected"),
        ("............", (0, 1), "no pattern detected"),
    ],
)
def test_categories_on_built_series(pattern, trend, expected):
    hot, cold = _series(pattern)
    assert classify_series(hot, cold, *trend) == expected
    assert expected in CATEGORIES


def _planted(seed: int = 3) -> gpd.GeoDataFrame:
    """Background noise along the border for 20 slices of 30 days, and three clusters:
    one in every slice (persistent), one growing every slice, one only in the last two."""
    rng = np.random.default_rng(seed)
    line = region_line(LINE)
    start = pd.Timestamp("2024-01-01")
    rows = []

    def add(xy, n, day_lo, day_hi, spread):
        pts = np.asarray(xy) + rng.normal(0, spread, (n, 2))
        days = rng.integers(day_lo, day_hi, n)
        rows.extend(
            (x, y, start + pd.Timedelta(days=int(d))) for (x, y), d in zip(pts, days, strict=True)
        )

    along = shapely.line_interpolate_point(line, rng.uniform(0, line.length, 1500))
    for p in along:
        add((p.x, p.y), 1, 0, 600, 6_000)
    centres = {
        k: shapely.line_interpolate_point(line, f, normalized=True)
        for k, f in (("steady", 0.2), ("growing", 0.5), ("new", 0.8))
    }
    for t in range(20):
        add((centres["steady"].x, centres["steady"].y), 25, 30 * t, 30 * t + 30, 800)
        add((centres["growing"].x, centres["growing"].y), 2 + 4 * t, 30 * t, 30 * t + 30, 800)
    add((centres["new"].x, centres["new"].y), 60, 570, 600, 800)
    x, y, dates = zip(*rows, strict=True)
    geometry = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=geo_settings.METRIC_CRS).to_crs(4326)
    frame = gpd.GeoDataFrame(
        {"date": list(dates), "type": "clash", "location_precision_m": 100.0},
        geometry=geometry.to_numpy(),
        crs=4326,
    )
    frame.attrs["centres"] = {
        k: gpd.GeoSeries([c], crs=geo_settings.METRIC_CRS).to_crs(4326).iloc[0]
        for k, c in centres.items()
    }
    return frame


def test_planted_clusters_get_their_categories():
    incidents = _planted()
    result = compute_emerging_hotspots(incidents, line=LINE, end="2025-08-22", slice_days=30)
    assert len(result.slices) == 20
    cells = result.cells
    for name, wanted in (
        ("steady", {"persistent hot spot", "intensifying hot spot", "diminishing hot spot"}),
        ("growing", {"intensifying hot spot"}),
        ("new", {"new hot spot", "consecutive hot spot"}),
    ):
        centre = incidents.attrs["centres"][name]
        category = cells.loc[cells.contains(centre), "category"].iloc[0]
        assert category in wanted, (name, category)


def test_too_few_slices_or_incidents_is_refused_in_one_line():
    incidents = _planted()
    with pytest.raises(InsufficientDataError, match=r"at least 10 slices .* 2 slice\(s\) of 365"):
        compute_emerging_hotspots(incidents, line=LINE, slice_days=365)
    with pytest.raises(InsufficientDataError, match="at least 30 incidents"):
        compute_emerging_hotspots(incidents.head(20), line=LINE, slice_days=1)


def test_written_to_a_geopackage(tmp_path):
    import pyogrio

    result = compute_emerging_hotspots(_planted(), line=LINE)
    result.to_file(tmp_path / "e.gpkg")
    back = pyogrio.read_dataframe(tmp_path / "e.gpkg", layer="emerging_hotspots")
    assert len(back) == len(result.cells) and set(back["category"]) <= set(CATEGORIES)
    slices = pyogrio.read_dataframe(tmp_path / "e.gpkg", layer="emerging_slices")
    assert slices["incidents"].sum() == result.n_incidents


def test_command_line_writes_the_layers_and_refuses_short_periods(tmp_path, capsys):
    import pyogrio

    from geo.cli import main
    from geo.ingest import store_frame
    from geo.store import open_store

    incidents = _planted().drop(columns=[])
    incidents.attrs = {}
    incidents["id"] = [f"P-{i}" for i in range(len(incidents))]
    store = open_store(tmp_path / "s.gpkg", create=True)
    store_frame(store, incidents)
    out = tmp_path / "e.gpkg"
    argv = ["hotspots", "--emerging", "--slice-days", "30", "--out", str(out)]
    assert main([*argv, "--store", store.location]) == 0
    printed = capsys.readouterr().out
    assert "emerging hot spots" in printed and "new hot spot" in printed
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert layers == {"emerging_hotspots", "emerging_slices"}
    argv[3] = "400"
    assert main([*argv, "--store", store.location]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "at least 10 slices" in err
