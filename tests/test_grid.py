"""The region grid: alignment, coverage, projection of incidents (issue 4)."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon

from geo import settings as geo_settings
from geo.errors import ConfigurationError, ValidationError
from geo.grid import Grid, grid_for_bounds, project_points, region_grid, region_polygon
from layers import load_border_line

#: A synthetic bent line near the real border (EPSG:4326), for tests that must not
#: depend on the bundled layer.
LINE = LineString([(35.98, 34.63), (36.4, 34.5), (36.6, 34.2), (36.2, 33.7), (35.85, 33.3)])


def test_grid_transform_bounds_and_centres_agree():
    grid = Grid(x0=1000.0, y0=9000.0, cell_m=250.0, width=4, height=3)
    assert grid.transform @ (0, 0) == (1000.0, 9000.0)
    assert grid.transform @ (4, 3) == (2000.0, 8250.0)
    assert grid.bounds == (1000.0, 8250.0, 2000.0, 9000.0)
    x, y = grid.cell_centres()
    assert x.shape == y.shape == grid.shape == (3, 4)
    assert (x[0, 0], y[0, 0]) == (1125.0, 8875.0)  # row 0 is north
    assert y[2, 0] == 8375.0
    assert grid.cell_area_km2 == 0.0625
    assert grid.crs.equals(geo_settings.METRIC_CRS)


@given(
    x0=st.integers(-1000, 1000),
    y0=st.integers(-1000, 1000),
    cell=st.sampled_from([50.0, 250.0, 1000.0]),
)
def test_fractional_index_of_cell_centres_is_the_cell(x0, y0, cell):
    grid = Grid(x0=x0 * cell, y0=y0 * cell, cell_m=cell, width=7, height=5)
    x, y = grid.cell_centres()
    row, col = grid.fractional_index(x, y)
    assert_allclose(row, np.arange(5)[:, None] * np.ones((1, 7)), atol=1e-9)
    assert_allclose(col, np.ones((5, 1)) * np.arange(7)[None, :], atol=1e-9)


@settings(max_examples=50)
@given(
    xmin=st.floats(-1e6, 1e6),
    ymin=st.floats(-1e6, 1e6),
    dx=st.floats(0, 5e4),
    dy=st.floats(0, 5e4),
    cell=st.sampled_from([100.0, 250.0, 3000.0]),
)
@example(xmin=-5e-324, ymin=0.0, dx=0.0, dy=0.0, cell=100.0)  # the division underflowed
@example(xmin=0.0, ymin=-5e-324, dx=0.0, dy=5e-324, cell=100.0)
def test_grid_for_bounds_covers_and_snaps(xmin, ymin, dx, dy, cell):
    grid = grid_for_bounds((xmin, ymin, xmin + dx, ymin + dy), cell_m=cell)
    gx0, gy0, gx1, gy1 = grid.bounds
    assert gx0 <= xmin and gy0 <= ymin and gx1 >= xmin + dx and gy1 >= ymin + dy
    assert gx1 - gx0 < dx + 2 * cell + 1e-6 and gy1 - gy0 < dy + 2 * cell + 1e-6
    assert math.isclose(grid.x0 / cell, round(grid.x0 / cell), abs_tol=1e-9)
    assert math.isclose(grid.y0 / cell, round(grid.y0 / cell), abs_tol=1e-9)


def test_region_grid_is_the_line_bounds_plus_margin_snapped():
    transformer = Transformer.from_crs(4326, geo_settings.METRIC_CRS, always_xy=True)
    xs, ys = transformer.transform(*np.array(LINE.coords).T)
    grid = region_grid(cell_m=500.0, margin_m=10_000.0, line=LINE)
    xmin, ymin, xmax, ymax = grid.bounds
    assert xmin <= xs.min() - 10_000 < xmin + 500
    assert xmax - 500 < xs.max() + 10_000 <= xmax
    assert ymin <= ys.min() - 10_000 < ymin + 500
    assert ymax - 500 < ys.max() + 10_000 <= ymax
    assert grid.x0 % 500 == 0 and grid.y0 % 500 == 0


def test_region_grid_of_the_bundled_border_is_about_a_million_cells():
    bundled = load_border_line()
    grid = region_grid(line=bundled)
    assert grid.cell_m == geo_settings.DENSITY_CELL_M
    assert 5e5 < grid.width * grid.height < 1.5e6
    # every point of the monitored region (border ± 50 km) is on the grid
    region = region_polygon(line=bundled)
    assert Polygon.from_bounds(*grid.bounds).contains(region)


def test_region_polygon_is_the_buffered_line():
    region = region_polygon(line=LINE, distance_m=20_000)
    line_m = region_polygon(line=LINE, distance_m=1e-3)
    assert region.contains(line_m)
    # area of a buffer: 2 d L + π d² (the bends overlap a little)
    length = region_polygon.__globals__["region_line"](LINE).length
    assert region.area == pytest.approx(2 * 20_000 * length + math.pi * 20_000**2, rel=0.05)


def test_region_grid_refuses_bad_margin():
    with pytest.raises(ConfigurationError, match="margin_m=-1"):
        region_grid(margin_m=-1, line=LINE)


def test_grid_refuses_non_positive_cells():
    with pytest.raises(ConfigurationError, match="cell_m=0"):
        grid_for_bounds((0, 0, 10, 10), cell_m=0)


def test_project_points_known_origin():
    gdf = gpd.GeoDataFrame(geometry=[Point(36.2, 34.0), Point(36.2, 34.5)], crs=4326)
    x, y = project_points(gdf)
    assert_allclose(x, [500_000.0, 500_000.0], atol=1e-6)
    assert y[0] == pytest.approx(0.0, abs=1e-6)
    # 0.5° of latitude at 34.25°N is about 55.45 km on the ellipsoid
    assert y[1] == pytest.approx(55_450, rel=2e-3)


def test_project_points_refuses_missing_crs_and_non_points():
    with pytest.raises(ConfigurationError, match="no CRS"):
        project_points(gpd.GeoDataFrame(geometry=[Point(36, 34)]))
    gdf = gpd.GeoDataFrame(
        {"id": ["a", "b"]}, geometry=[Point(36, 34), LineString([(36, 34), (36.1, 34)])], crs=4326
    )
    with pytest.raises(ValidationError, match=r"feature 1 \(id 'b'\): geometry=.*not a point"):
        project_points(gdf)
