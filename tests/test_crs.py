"""The metric CRS keeps distortion within the bounds its docstring states."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod, Proj, Transformer

from layers.crs import MAX_SCALE_ERROR, METRIC_CRS


@pytest.mark.parametrize("lon", np.linspace(35.2, 37.2, 9))
@pytest.mark.parametrize("lat", [32.9, 33.4, 34.0, 34.7, 35.2])
def test_scale_error_within_bound_over_region(lon, lat):
    factors = Proj(METRIC_CRS).get_factors(lon, lat)
    assert abs(factors.meridional_scale - 1) < MAX_SCALE_ERROR
    assert abs(factors.parallel_scale - 1) < MAX_SCALE_ERROR


def test_projected_distance_matches_geodesic():
    # Hermel to Masnaa: about 87 km; projected and geodesic agree within 3e-5.
    lon1, lat1, lon2, lat2 = 36.38472, 34.39417, 35.92405, 33.70287
    t = Transformer.from_crs(4326, METRIC_CRS, always_xy=True)
    x1, y1 = t.transform(lon1, lat1)
    x2, y2 = t.transform(lon2, lat2)
    projected = float(np.hypot(x2 - x1, y2 - y1))
    _, _, geodesic = Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)
    assert projected == pytest.approx(geodesic, rel=3e-5)
    assert METRIC_CRS.axis_info[0].unit_name == "metre"


def test_files_in_the_metric_crs_carry_its_name(tmp_path):
    """GeoTIFF and GeoPackage written in the metric CRS name it (not "unknown")."""
    import os
    import shutil
    import subprocess

    import geopandas as gpd
    import rasterio
    from affine import Affine
    from shapely.geometry import Point

    from layers.crs import METRIC_CRS_NAME

    tif, gpkg = tmp_path / "d.tif", tmp_path / "p.gpkg"
    with rasterio.open(
        tif, "w", driver="GTiff", width=2, height=2, count=1, dtype="float32",
        crs=METRIC_CRS, transform=Affine(250.0, 0, 500_000.0, 0, -250.0, 3_800_000.0),
    ) as dst:  # fmt: skip
        dst.write(np.zeros((1, 2, 2), dtype="float32"))
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(500_000, 3_800_000)], crs=METRIC_CRS).to_file(gpkg)
    with rasterio.open(tif) as src:
        assert src.crs.to_wkt().startswith(f'PROJCS["{METRIC_CRS_NAME}"')
    assert gpd.read_file(gpkg).crs.name == METRIC_CRS_NAME
    # the command-line tools show it too (CI installs gdal-bin)
    if shutil.which("gdalinfo") is None:
        assert os.environ.get("CI") != "true", "gdal-bin is missing in CI"
        pytest.skip("gdalinfo not installed")
    for tool, path in (("gdalinfo", tif), ("ogrinfo", gpkg)):
        args = [tool, str(path)] if tool == "gdalinfo" else [tool, "-so", str(path), "p"]
        shown = subprocess.run(args, capture_output=True, text=True, check=True).stdout
        assert METRIC_CRS_NAME in shown
