"""Criteria per sector: values computed by hand on a straight synthetic border."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine
from conftest import SYNTHETIC_ORIGIN, metric_to_geographic
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as hst
from numpy.testing import assert_allclose
from shapely.geometry import LineString, Point

from geo import settings
from geo.criteria import (
    CRITERIA,
    crossing_criteria,
    exposure_criteria,
    hotspot_share,
    incident_criteria,
    line_uncertainty,
    terrain_criteria,
    zone_areas,
)
from geo.errors import ConfigurationError, LayerError
from geo.priority import check_weights
from geo.sectors import border_reference, locate_incidents, make_sectors

X0, Y0 = SYNTHETIC_ORIGIN


@pytest.fixture
def zones(straight_border):
    return make_sectors(straight_border, sector_km=5, corridor_km=2)


@pytest.fixture
def whole(zones):
    return zones.loc[zones["side"] == "all"].reset_index(drop=True)


def _frame(xy, **columns):
    geoms = [metric_to_geographic(Point(x, y)) for x, y in xy]
    return gpd.GeoDataFrame(columns, geometry=geoms, crs=4326)


def test_every_weighted_criterion_is_documented():
    assert set(CRITERIA) == set(settings.PRIORITY_WEIGHTS)
    for crit in CRITERIA.values():
        assert crit.unit and crit.label


def test_incident_counts_density_and_trend_by_hand(straight_border, zones):
    # Sector 2 (5–10 km): 3 seizures (2 in the last 90 days), 1 clash 200 days ago,
    # 1 shelling 400 days ago; one incident in sector 4; one outside the corridor.
    xy = [(X0 + 6_000, Y0 + 100)] * 3 + [(X0 + 7_000, Y0 - 500), (X0 + 8_000, Y0 + 1_000)]
    xy += [(X0 + 17_000, Y0), (X0 + 6_000, Y0 + 3_000)]
    incidents = _frame(
        xy,
        type=["seizure", "seizure", "seizure", "clash", "shelling", "arrest", "seizure"],
        date=pd.to_datetime(
            [
                "2025-06-30",
                "2025-05-01",
                "2025-01-01",
                "2024-12-12",
                "2024-05-26",
                "2025-06-30",
                "2025-06-30",
            ]
        ),
        quantity=[100.0, 50.0, np.nan, np.nan, np.nan, np.nan, 7.0],
        unit=["kg", "kg", None, None, None, None, "kg"],
        location_precision_m=[100.0, 100.0, 100.0, 10_000.0, 100.0, 100.0, 100.0],
    )
    sector = locate_incidents(incidents, straight_border, sector_km=5, corridor_km=2)
    sector = sector["sector_id"].fillna(0).to_numpy(dtype=np.int64)
    assert sector.tolist() == [2, 2, 2, 2, 2, 4, 0]
    weights = np.array([1.0, 2.0, 1.0, 1.5, 1.5, 0.75, 9.0])
    areas = zone_areas(zones)
    out = incident_criteria(
        incidents,
        sector,
        weights,
        areas,
        sector_km=5,
        reference_date=pd.Timestamp("2025-06-30"),
        recent_days=90,
        baseline_days=365,
    )
    assert out.loc[2, "incidents"] == 5 and out.loc[4, "incidents"] == 1
    assert out["incidents"].sum() == 6  # the one outside the corridor counts nowhere
    assert out.loc[2, "weighted_incidents"] == pytest.approx(7.0)
    assert out.loc[2, "incident_density"] == pytest.approx(7.0 / areas.loc[2])
    assert areas.loc[2] == pytest.approx(20.0)
    assert (out.loc[2, "seizures"], out.loc[2, "clashes"], out.loc[2, "shelling_strikes"]) == (
        3,
        1,
        1,
    )
    assert out.loc[4, "arrests"] == 1
    assert out.loc[2, "seized_quantity"] == "150 kg"
    assert out.loc[2, "imprecise_incidents"] == 1  # 10 km precision > half a 5 km sector
    # Recent (age < 90 d): 2; baseline (90 ≤ age < 455 d): 2 (2025-01-01, 2024-12-12);
    # 2024-05-26 is 400 days old, also in the baseline: 3.
    assert (out.loc[2, "incidents_recent"], out.loc[2, "incidents_baseline"]) == (2, 3)
    expected = math.log2((2 + 1) / (3 * 90 / 365 + 1))
    assert out.loc[2, "trend"] == pytest.approx(expected)
    assert out.loc[1, "trend"] == 0.0  # nothing, steady


def test_trend_windows_must_be_positive(zones):
    with pytest.raises(ConfigurationError, match=r"recent_days=0"):
        incident_criteria(
            _frame([]), np.zeros(0, dtype=np.int64), np.zeros(0), zone_areas(zones),
            sector_km=5, recent_days=0,
        )  # fmt: skip


def test_crossings_in_sector_and_distance_by_hand(straight_border, whole):
    ref = border_reference(straight_border)
    crossings = _frame(
        [(X0 + 12_000, Y0 - 1_000), (X0 + 30_000, Y0 + 3_000)],
        name=["Alpha post", "Bravo post"],
        status=["official", "official"],
    )
    out = crossing_criteria(ref, whole, crossings, sector_km=5)
    assert out.loc[3, "official_crossings"] == 1
    assert out["official_crossings"].sum() == 1  # Bravo lies outside the 2 km corridor
    assert out.loc[3, "crossing_distance_km"] == pytest.approx(1.0, abs=1e-6)
    assert out.loc[1, "crossing_distance_km"] == pytest.approx(math.hypot(7.0, 1.0), abs=1e-6)
    assert out.loc[7, "nearest_crossing"] == "Bravo post"
    assert out.loc[7, "crossing_distance_km"] == pytest.approx(3.0, abs=1e-6)
    assert out["unofficial_crossings"].isna().all()  # no sourced dataset: unknown, not 0


def test_unofficial_crossings_counted_only_when_the_layer_has_them(straight_border, whole):
    ref = border_reference(straight_border)
    crossings = _frame(
        [(X0 + 12_000, Y0), (X0 + 13_000, Y0 + 500)],
        name=["Alpha post", "a path"],
        status=["official", "unofficial"],
    )
    out = crossing_criteria(ref, whole, crossings, sector_km=5)
    assert out.loc[3, "official_crossings"] == 1
    assert out.loc[3, "unofficial_crossings"] == 1
    assert out.loc[1, "unofficial_crossings"] == 0


def test_unofficial_crossings_layer_is_counted_and_never_the_nearest_official(
    straight_border, whole
):
    ref = border_reference(straight_border)
    crossings = _frame([(X0 + 12_000, Y0)], name=["Alpha post"], status=["official"])
    unofficial = _frame(
        [(X0 + 13_000, Y0 + 500), (X0 + 14_000, Y0 - 500), (X0 + 31_000, Y0)],
        name=["a ford", "a path", "a track"],
        status=["unofficial"] * 3,
    )
    out = crossing_criteria(ref, whole, crossings, unofficial=unofficial, sector_km=5)
    assert out.loc[3, "official_crossings"] == 1
    assert out.loc[3, "unofficial_crossings"] == 2
    assert out.loc[7, "unofficial_crossings"] == 1
    assert out["unofficial_crossings"].sum() == 3
    assert out.loc[7, "nearest_crossing"] == "Alpha post"
    # without official crossings the unofficial ones are still counted
    alone = crossing_criteria(ref, whole, None, unofficial=unofficial, sector_km=5)
    assert alone["unofficial_crossings"].sum() == 3
    assert alone["crossing_distance_km"].isna().all()


def test_exposure_towns_and_population(straight_border, whole):
    ref = border_reference(straight_border)
    towns = _frame(
        [(X0 + 21_000, Y0 + 1_500), (X0 + 22_000, Y0 - 1_000), (X0 + 23_000, Y0 + 2_500)],
        name=["North town", "South village", "Far town"],
        population=[12_000.0, np.nan, 50_000.0],
    )
    out = exposure_criteria(ref, whole, towns, sector_km=5)
    assert out.loc[5, "towns_in_zone"] == 2
    assert out.loc[5, "population_in_zone"] == 12_000.0
    assert out.loc[5, "towns_without_population"] == 1
    assert out["towns_in_zone"].sum() == 2
    # The criterion: known people plus 500 for the village of unknown size, damped.
    assert out.loc[5, "exposed_population"] == 12_500.0
    assert out.loc[5, "exposure_index"] == pytest.approx(math.log10(12_501.0), rel=1e-12)
    assert out.loc[1, "exposure_index"] == 0.0
    other = exposure_criteria(ref, whole, towns, sector_km=5, unknown_population=0.0)
    assert other.loc[5, "exposed_population"] == 12_000.0
    with pytest.raises(ConfigurationError, match=r"unknown_population=-1.*≥ 0"):
        exposure_criteria(ref, whole, towns, sector_km=5, unknown_population=-1.0)
    assert out.loc[5, "nearest_town"] == "South village"
    assert out.loc[5, "nearest_town_km"] == pytest.approx(1.0, abs=1e-6)


def test_line_uncertainty_by_hand(straight_border):
    ref = border_reference(straight_border)
    # Source A runs 300 m north of the reference on its first 20 km; source B 800 m south
    # on km 10.1–14.9 only.
    a = metric_to_geographic(LineString([(X0, Y0 + 300), (X0 + 20_000, Y0 + 300)]))
    b = metric_to_geographic(LineString([(X0 + 10_100, Y0 - 800), (X0 + 14_900, Y0 - 800)]))
    candidates = gpd.GeoDataFrame({"source": ["A", "B"]}, geometry=[a, b], crs=4326)
    out = line_uncertainty(ref, candidates, sector_km=5)
    assert_allclose(out.loc[[1, 2, 4], "line_uncertainty_mean_m"], 300.0, atol=1e-3)
    assert out.loc[3, "line_uncertainty_max_m"] == pytest.approx(800.0, abs=1e-3)
    assert 300.0 < out.loc[3, "line_uncertainty_mean_m"] < 800.0
    assert out.loc[[1, 3, 5], "line_sources"].tolist() == [1, 2, 0]
    assert out.loc[5:, "line_uncertainty_mean_m"].isna().all()  # no source reaches


def _write_dem(path, values, x_left, y_top, cell):
    with rasterio.open(
        path, "w", driver="GTiff", width=values.shape[1], height=values.shape[0], count=1,
        dtype="float32", crs=settings.METRIC_CRS, nodata=-9999.0,
        transform=Affine(cell, 0, x_left, 0, -cell, y_top),
    ) as dst:  # fmt: skip
        dst.write(values.astype("float32"), 1)


def test_terrain_zonal_statistics_by_hand(tmp_path, zones, whole):
    # 1 km cells; elevation = 10 m × (column index) + 1000 m × (row index). Sector 2's
    # zone (x 5–10 km, y ±2 km) holds cell centres in columns 5..9 and rows whose centre
    # is within ±2 km.
    cell = 1_000.0
    x_left, y_top = X0 - 10_000, Y0 + 10_000
    cols, rows = np.meshgrid(np.arange(70), np.arange(20))
    values = 10.0 * cols + 1000.0 * rows
    values[0, 0] = -9999.0
    path = tmp_path / "dem.tif"
    _write_dem(path, values, x_left, y_top, cell)
    out = terrain_criteria(whole, path)
    cx = x_left + (cols + 0.5) * cell
    cy = y_top - (rows + 0.5) * cell
    zone2 = whole.to_crs(settings.METRIC_CRS).set_index("sector_id").geometry.loc[2]
    inside = shapely.contains_xy(zone2, cx, cy)
    assert inside.sum() == 5 * 4
    assert out.loc[2, "elevation_mean_m"] == pytest.approx(values[inside].mean())
    assert out.loc[2, "relief_m"] == pytest.approx(values[inside].max() - values[inside].min())
    assert out.loc[2, "relief_m"] == pytest.approx(40.0 + 3000.0)


def test_terrain_errors_name_the_file(tmp_path, whole):
    with pytest.raises(LayerError, match=r"terrain: file .*missing.tif.* does not exist"):
        terrain_criteria(whole, tmp_path / "missing.tif")
    bad = tmp_path / "bad.tif"
    bad.write_text("not a raster")
    with pytest.raises(LayerError, match=r"bad.tif is not a readable raster"):
        terrain_criteria(whole, bad)
    assert terrain_criteria(whole, None)["relief_m"].isna().all()


def test_hotspot_share_by_hand(whole):
    # A hot square covering km 5–7.5 of the corridor's full width: half of sector 2.
    square = shapely.box(X0 + 5_000, Y0 - 3_000, X0 + 7_500, Y0 + 3_000)
    cold = shapely.box(X0 + 20_000, Y0 - 3_000, X0 + 25_000, Y0 + 3_000)
    cells = gpd.GeoDataFrame(
        {"bin": [3, 1]}, geometry=[metric_to_geographic(square), metric_to_geographic(cold)],
        crs=4326,
    )  # fmt: skip
    share = hotspot_share(whole, cells)
    assert share.loc[2] == pytest.approx(0.5, rel=1e-6)
    assert share.loc[5] == 0.0  # a 90 % bin is below the 95 % threshold
    assert hotspot_share(whole, None).eq(0).all()


@given(seed=hst.integers(0, 2**32 - 1), hot_share=hst.floats(0.0, 1.0))
@hsettings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_hotspot_share_of_lattice_cells_is_the_share_of_their_union(whole, seed, hot_share):
    """Summed overlaps with hexagons equal the overlap with the hot hexagons' union."""
    from geo.hotspots import _study_lattice

    region = whole.to_crs(settings.METRIC_CRS).geometry.union_all().buffer(4_000)
    lattice = _study_lattice(shapely.to_wkb(region), 1_500.0)
    rng = np.random.default_rng(seed)
    bins = np.where(rng.random(len(lattice.centres)) < hot_share, 3, rng.integers(-3, 2))
    cells = gpd.GeoDataFrame({"bin": bins}, geometry=lattice.hexagons, crs=4326)
    zones = whole.to_crs(settings.METRIC_CRS)
    hot = cells[cells["bin"] >= settings.HOTSPOT_SHARE_MIN_BIN].to_crs(settings.METRIC_CRS)
    union = shapely.union_all(hot.geometry.to_numpy())
    areas = shapely.area(zones.geometry.to_numpy())
    expected = shapely.area(shapely.intersection(zones.geometry.to_numpy(), union)) / areas
    got = hotspot_share(zones, cells)
    assert_allclose(got.to_numpy(), expected, rtol=1e-9, atol=1e-12)
    assert got.index.tolist() == zones["sector_id"].tolist()


def test_check_weights_normalises_and_rejects():
    w = check_weights({"terrain": 0.0, "line_uncertainty": 1.0})
    assert sum(w.values()) == pytest.approx(1.0) and w["terrain"] == 0.0
    assert list(w) == list(CRITERIA)
    with pytest.raises(ConfigurationError, match=r"criterion 'slope' is unknown"):
        check_weights({"slope": 1.0})
    with pytest.raises(ConfigurationError, match=r"exposure=-1.*not a finite number"):
        check_weights({"exposure": -1})
    with pytest.raises(ConfigurationError, match=r"every criterion has weight 0"):
        check_weights(dict.fromkeys(CRITERIA, 0.0))


def test_a_coarse_dem_uses_every_touched_cell(tmp_path, whole):
    # 10 km cells: a 5 km × 4 km zone holds at most one cell centre, so the cells it
    # touches are taken (sector 1 spans x -2..5 km, y ±2 km: two columns, one row).
    values = np.array([[100.0, 300.0, 700.0], [1000.0, 1000.0, 1000.0]])
    path = tmp_path / "coarse.tif"
    _write_dem(path, values, X0 - 10_000, Y0 + 5_000, 10_000.0)
    out = terrain_criteria(whole, path)
    assert out.loc[1, "relief_m"] == pytest.approx(200.0)
    assert out.loc[1, "elevation_mean_m"] == pytest.approx(200.0)


def _seized_by_groups(incidents, sector, types, index):
    """The former summing of seized quantities: every unit read, then one group per sector."""
    qty = pd.to_numeric(incidents["quantity"], errors="coerce").to_numpy(dtype=float)
    unit = incidents["unit"].astype("string").fillna("units").to_numpy(dtype=object)
    keep = (sector > 0) & (types == "seizure") & np.isfinite(qty)
    frame = pd.DataFrame({"sector": sector[keep], "unit": unit[keep], "qty": qty[keep]})
    sums = frame.groupby(["sector", "unit"])["qty"].sum()
    text = {
        sid: "; ".join(f"{q:,.0f} {u}" for (_, u), q in group.items())
        for sid, group in sums.groupby(level=0)
    }
    return [text.get(sid, "") for sid in index]


@given(
    seed=hst.integers(0, 2**32 - 1),
    n=hst.integers(0, 300),
    units=hst.lists(hst.one_of(hst.none(), hst.sampled_from(["kg", "pills", "L", "Kg", ""])),
                    min_size=1, max_size=4),
)  # fmt: skip
@hsettings(max_examples=60, deadline=None)
def test_seized_quantities_are_summed_by_sector_and_unit_as_before(seed, n, units):
    from geo.criteria import _seized_quantity

    rng = np.random.default_rng(seed)
    quantity = rng.choice([np.nan, 1.0, 2.5, 1e6, 1234.5], n)
    incidents = pd.DataFrame(
        {
            "quantity": quantity,
            "unit": pd.array(rng.choice(np.array(units, dtype=object), n), dtype="string"),
        }
    )
    sector = rng.integers(0, 6, n)
    types = rng.choice(np.array(["seizure", "clash"], dtype=object), n)
    index = pd.Index(range(1, 8), name="sector_id")
    assert _seized_quantity(incidents, sector, types, index) == _seized_by_groups(
        incidents, sector, types, index
    )
