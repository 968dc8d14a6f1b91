"""Sectors and linear referencing: known answers on synthetic lines, invariants, the real border."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from conftest import SYNTHETIC_ORIGIN, metric_to_geographic
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from shapely.geometry import LineString, Point, box

from geo import settings
from geo.errors import ConfigurationError, LayerError
from geo.sectors import (
    border_reference,
    locate_incidents,
    locate_xy,
    make_sectors,
    sector_bounds_m,
)

X0, Y0 = SYNTHETIC_ORIGIN


def _points(xy):
    """Incidents at metric coordinates, stored in EPSG:4326."""
    geoms = [metric_to_geographic(Point(x, y)) for x, y in xy]
    return gpd.GeoDataFrame({"id": [f"p{i}" for i in range(len(xy))]}, geometry=geoms, crs=4326)


def test_chainage_and_offset_by_hand_on_a_straight_line(straight_border):
    pts = _points([(X0 + 1_000, Y0 + 250), (X0 + 12_345, Y0 - 4_000), (X0 + 49_999, Y0 + 4_999)])
    located = locate_incidents(pts, straight_border, sector_km=5, corridor_km=5)
    assert_allclose(located["chainage_km"], [1.0, 12.345, 49.999], atol=1e-6)
    # North of an eastward line is its left: Syria by the line's orientation.
    assert_allclose(located["offset_m"], [250.0, -4_000.0, 4_999.0], atol=1e-3)
    assert located["sector_id"].tolist() == [1, 3, 10]
    assert located.index.equals(pts.index)


def test_beyond_the_corridor_keeps_chainage_and_offset_but_no_sector(straight_border):
    # The third lies beyond the western end: its nearest point is the end itself.
    pts = _points([(X0 + 7_500, Y0 + 6_000), (X0 + 7_500, Y0 - 5_001), (X0 - 3_000, Y0 - 5_000)])
    located = locate_incidents(pts, straight_border, sector_km=5, corridor_km=5)
    assert_allclose(located["chainage_km"], [7.5, 7.5, 0.0], atol=1e-6)
    assert_allclose(located["offset_m"], [6_000.0, -5_001.0, -math.hypot(3_000, 5_000)], atol=1e-3)
    assert located["sector_id"].isna().all()


def test_chainage_on_a_bent_line_by_hand():
    # East 10 km, then south 10 km: a point 2 km west of the second leg, 4 km down it.
    line = LineString([(X0, Y0), (X0 + 10_000, Y0), (X0 + 10_000, Y0 - 10_000)])
    ref = border_reference(line, crs=settings.METRIC_CRS)
    loc = locate_xy(np.array([X0 + 8_000, X0 + 13_000]), np.array([Y0 - 4_000, Y0 + 4_000]), ref)
    assert_allclose(loc.chainage_m, [14_000.0, 10_000.0], atol=1e-6)
    # Heading south, the west is on the right: Lebanon (negative); the outer corner is left.
    assert_allclose(loc.offset_m, [-2_000.0, 5_000.0], atol=1e-6)
    # The second is exactly one corridor (5 km) from the corner: still in, in the sector
    # that starts there; just outside a slightly narrower corridor.
    assert loc.sector.tolist() == [3, 3]
    narrower = locate_xy(np.array([X0 + 13_000]), np.array([Y0 + 4_000]), ref, corridor_km=4.99)
    assert narrower.sector.tolist() == [0]


def test_many_points_take_the_sorted_threaded_path_and_keep_their_order(straight_border):
    # 30,000 points (above the threshold of the sorted, threaded path) on the straight line:
    # the chainage is x - x0 and the offset y - y0, each in its own row.
    ref = border_reference(straight_border)
    rng = np.random.default_rng(5)
    dx, dy = rng.uniform(0, 50_000, 30_000), rng.uniform(-6_000, 6_000, 30_000)
    line_x0, line_y0 = ref.points[0]
    loc = locate_xy(line_x0 + dx, line_y0 + dy, ref, sector_km=5, corridor_km=5)
    assert_allclose(loc.chainage_m, dx, atol=1e-6)
    assert_allclose(loc.offset_m, dy, atol=1e-6)
    expected = np.where(np.abs(dy) <= 5_000, np.minimum(dx // 5_000 + 1, 10), 0)
    assert (loc.sector == expected).all()
    # The same answer point by point in small calls (the plain path).
    small = [locate_xy(line_x0 + dx[i : i + 500], line_y0 + dy[i : i + 500], ref)
             for i in range(0, 3_000, 500)]  # fmt: skip
    assert_allclose(np.concatenate([s.chainage_m for s in small]), loc.chainage_m[:3_000])


def test_side_of_syria_follows_the_country_polygons(straight_border):
    north = metric_to_geographic(box(X0 - 20_000, Y0, X0 + 70_000, Y0 + 30_000))
    south = metric_to_geographic(box(X0 - 20_000, Y0 - 30_000, X0 + 70_000, Y0))
    pts = _points([(X0 + 2_000, Y0 + 1_000)])
    syria_north = gpd.GeoDataFrame({"iso3": ["SYR", "LBN"]}, geometry=[north, south], crs=4326)
    syria_south = gpd.GeoDataFrame({"iso3": ["LBN", "SYR"]}, geometry=[north, south], crs=4326)
    kw = {"sector_km": 5, "corridor_km": 5}
    assert locate_incidents(pts, straight_border, countries=syria_north, **kw)["offset_m"][0] > 0
    assert locate_incidents(pts, straight_border, countries=syria_south, **kw)["offset_m"][0] < 0
    zones = make_sectors(straight_border, countries=syria_south, metric=True, **kw)
    lb = zones.loc[(zones["side"] == "LB") & (zones["sector_id"] == 2)].geometry.iloc[0]
    assert lb.representative_point().y > Y0  # the Lebanese part is now the northern one


def test_the_side_of_syria_is_decided_once_per_line_and_countries(straight_border, monkeypatch):
    from geo import sectors

    north = metric_to_geographic(box(X0 - 20_000, Y0, X0 + 70_000, Y0 + 30_000))
    south = metric_to_geographic(box(X0 - 20_000, Y0 - 30_000, X0 + 70_000, Y0))
    calls = []
    decide = sectors._syria_sign
    monkeypatch.setattr(sectors, "_SIGNS", sectors.BoundedCache(8))
    monkeypatch.setattr(sectors, "_syria_sign", lambda *a: calls.append(1) or decide(*a))
    pts = _points([(X0 + 2_000, Y0 + 1_000)])
    kw = {"sector_km": 5, "corridor_km": 5}
    syria_north = gpd.GeoDataFrame({"iso3": ["SYR", "LBN"]}, geometry=[north, south], crs=4326)
    for _ in range(3):
        assert locate_incidents(pts, straight_border, countries=syria_north, **kw)["offset_m"].iloc[
            0
        ] == pytest.approx(1_000.0, abs=1.0)
    assert len(calls) == 1
    # Another content is decided again: codes swapped, or one outline moved.
    swapped = syria_north.assign(iso3=["LBN", "SYR"])
    assert locate_incidents(pts, straight_border, countries=swapped, **kw)["offset_m"].iloc[0] < 0
    moved = syria_north.copy()
    moved.loc[1, "geometry"] = metric_to_geographic(box(X0 - 20_000, Y0 - 31_000, X0, Y0))
    locate_incidents(pts, straight_border, countries=moved, **kw)
    assert len(calls) == 3


def test_sector_bounds_last_sector_shorter():
    assert_allclose(sector_bounds_m(12_000.0, 5.0), [0, 5_000, 10_000, 12_000])
    assert_allclose(sector_bounds_m(10_000.0, 5.0), [0, 5_000, 10_000])
    assert_allclose(sector_bounds_m(3_000.0, 5.0), [0, 3_000])


def test_zone_areas_by_hand(straight_border):
    zones = make_sectors(straight_border, sector_km=5, corridor_km=2, metric=True)
    assert zones["sector_id"].nunique() == 10
    assert (
        zones.groupby("sector_id")["side"]
        .apply(list)
        .map(sorted)
        .eq([sorted(["all", "LB", "SY"])] * 10)
        .all()
    )
    whole = zones.loc[zones["side"] == "all"].set_index("sector_id")
    # Inner sectors: a 5 km × 4 km rectangle; end sectors add a half disc of radius 2 km.
    assert_allclose(whole.loc[2:9, "area_km2"], 20.0, rtol=1e-9)
    half_disc = math.pi * 2.0**2 / 2
    assert_allclose(whole.loc[[1, 10], "area_km2"], 20.0 + half_disc, rtol=2e-3)
    lb = zones.loc[zones["side"] == "LB"].set_index("sector_id")["area_km2"]
    sy = zones.loc[zones["side"] == "SY"].set_index("sector_id")["area_km2"]
    assert_allclose(lb + sy, whole["area_km2"], rtol=1e-9)
    assert_allclose(lb, sy, rtol=1e-9)
    # Lebanon south of this line (negative offset side).
    assert zones.loc[zones["side"] == "LB"].geometry.iloc[3].representative_point().y < Y0
    # Zones in EPSG:4326 by default.
    assert make_sectors(straight_border, sector_km=5, corridor_km=2).crs.to_epsg() == 4326


def test_zones_partition_the_corridor(straight_border):
    zones = make_sectors(straight_border, sector_km=7, corridor_km=3, metric=True)
    whole = zones.loc[zones["side"] == "all"]
    corridor = border_reference(straight_border).line.buffer(3_000, quad_segs=16)
    assert_allclose(whole["area_km2"].sum(), corridor.area / 1e6, rtol=1e-9)
    union = shapely.union_all(whole.geometry.to_numpy())
    assert union.symmetric_difference(corridor).area < 1.0  # m²
    assert whole["chainage_end_km"].iloc[-1] == pytest.approx(50.0)
    assert whole["length_km"].tolist() == pytest.approx([7.0] * 7 + [1.0])


def test_zones_are_clipped_to_land_by_hand(straight_border):
    # Sea west of x0 + 2 km; Lebanon (south) runs on past the eastern end, Syria (north)
    # stops at x0 + 45 km: beyond that the north side is neither country's land.
    lbn = metric_to_geographic(box(X0 + 2_000, Y0 - 30_000, X0 + 60_000, Y0))
    syr = metric_to_geographic(box(X0 + 2_000, Y0, X0 + 45_000, Y0 + 30_000))
    countries = gpd.GeoDataFrame({"iso3": ["LBN", "SYR"]}, geometry=[lbn, syr], crs=4326)
    zones = make_sectors(straight_border, sector_km=5, corridor_km=2, countries=countries,
                         metric=True)  # fmt: skip
    area = zones.set_index(["sector_id", "side"])["area_km2"]
    # Coast sector: only x0+2..x0+5 km of the 4 km wide band is land (the half disc is sea).
    assert area[(1, "all")] == pytest.approx(12.0, rel=1e-6)
    assert area[(1, "LB")] == pytest.approx(6.0, rel=1e-6)
    assert area[(1, "SY")] == pytest.approx(6.0, rel=1e-6)
    assert area[(5, "all")] == pytest.approx(20.0, rel=1e-9)
    # Last sector: the Lebanese half band and the southern quarter disc (radius 2 km).
    assert area[(10, "SY")] == pytest.approx(0.0, abs=1e-9)
    assert area[(10, "all")] == pytest.approx(10.0 + math.pi, rel=2e-3)
    sides = area.xs("LB", level="side") + area.xs("SY", level="side")
    assert_allclose(sides, area.xs("all", level="side"), rtol=1e-9)
    # Without the countries, or when asked not to clip, the zones are whole again.
    whole = make_sectors(straight_border, sector_km=5, corridor_km=2, countries=countries,
                         metric=True, clip_to_land=False)  # fmt: skip
    assert whole.loc[whole["side"] == "all", "area_km2"].iloc[0] == pytest.approx(
        20.0 + math.pi * 2.0, rel=2e-3
    )


@hsettings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-3_000, 3_000), st.floats(-3_000, 3_000)), min_size=3, max_size=8
    ),
    st.lists(st.tuples(st.floats(-8_000, 8_000), st.floats(-8_000, 8_000)), min_size=1,
             max_size=20),
)  # fmt: skip
def test_locate_matches_shapely_on_random_polylines(steps, points):
    # A meandering line going broadly east; the k-d tree answer must match shapely's
    # exact projection (line_locate_point, distance) to the centimetre.
    xy = [(X0, Y0)]
    for dx, dy in steps:
        xy.append((xy[-1][0] + 4_000 + dx, xy[-1][1] + dy))
    line = LineString(xy)
    ref = border_reference(line, crs=settings.METRIC_CRS)
    mid = np.array(line.interpolate(0.5, normalized=True).coords[0])
    p = mid + np.array(points)
    loc = locate_xy(p[:, 0], p[:, 1], ref, corridor_km=100)
    geoms = shapely.points(p)
    expected_d = shapely.distance(ref.line, geoms)
    assert_allclose(np.abs(loc.offset_m), expected_d, atol=1e-6)
    # Chainage: where the nearest point is unique, it is shapely's.
    expected_c = shapely.line_locate_point(ref.line, geoms)
    back = shapely.distance(shapely.line_interpolate_point(ref.line, loc.chainage_m), geoms)
    assert_allclose(back, expected_d, atol=1e-6)
    unique = np.abs(expected_c - loc.chainage_m) < 1e-3
    assert unique.mean() > 0.5


def test_bad_inputs_say_what_and_how_to_fix(straight_border):
    with pytest.raises(ConfigurationError, match=r"sector_km=0 must be a positive"):
        make_sectors(straight_border, sector_km=0)
    with pytest.raises(ConfigurationError, match=r"corridor_km=nan"):
        make_sectors(straight_border, corridor_km=float("nan"))
    with pytest.raises(LayerError, match=r"border line: geometry='Point'.*fix"):
        make_sectors(Point(36, 34))
    lines = gpd.GeoDataFrame(
        {"id": ["a-line"]}, geometry=[LineString([(36, 34), (36.1, 34)])], crs=4326
    )
    with pytest.raises(ConfigurationError, match=r"id 'a-line'.*LineString.*not a point"):
        locate_incidents(lines, straight_border)
    no_crs = gpd.GeoDataFrame({"id": ["x"]}, geometry=[Point(36.2, 34.3)])
    with pytest.raises(ConfigurationError, match=r"no CRS"):
        locate_incidents(no_crs, straight_border)


def test_empty_incidents(straight_border):
    empty = gpd.GeoDataFrame({"id": []}, geometry=[], crs=4326)
    located = locate_incidents(empty, straight_border)
    assert list(located.columns) == ["chainage_km", "offset_m", "sector_id"]
    assert len(located) == 0


# --- The real border -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_border():
    layers = pytest.importorskip("layers")
    try:
        return layers.load_border_line()
    except (AttributeError, LayerError) as exc:
        pytest.skip(f"bundled border not built: {exc}")


def test_real_border_sectors_cover_the_line_in_5_km_stretches(real_border):
    zones = make_sectors(real_border)
    whole = zones.loc[zones["side"] == "all"].sort_values("sector_id")
    ref = border_reference(real_border)
    n = math.ceil(ref.length_m / 5_000)
    assert whole["sector_id"].tolist() == list(range(1, n + 1))
    assert_allclose(whole["length_km"].iloc[:-1], 5.0)
    assert 0 < whole["length_km"].iloc[-1] <= 5.0
    assert whole["chainage_start_km"].iloc[0] == 0
    assert_allclose(whole["chainage_end_km"].iloc[-1], ref.length_m / 1_000)
    assert_allclose(whole["chainage_start_km"].iloc[1:], whole["chainage_end_km"].iloc[:-1])
    corridor = ref.line.buffer(5_000, quad_segs=16).area / 1e6
    assert_allclose(whole["area_km2"].sum(), corridor, rtol=1e-9)
    sides = zones.loc[zones["side"] != "all"].groupby("sector_id")["area_km2"].sum()
    assert_allclose(sides.to_numpy(), whole["area_km2"].to_numpy(), rtol=1e-9)


def test_real_border_sides_of_the_bundled_sample(real_border):
    # The record's Masnaa strike is coded to the Lebanese post, about 4 km inside
    # Lebanon; the clash west of Qusayr to Aqrabiyah, in Syria; an incident in Hermel town
    # is in Lebanon; the Hermel-district border villages are coded to the point where the
    # border cuts the Orontes, on the line.
    sample = gpd.read_file(settings.DATA_DIR / "sample_incidents.geojson").set_index("id")
    located = locate_incidents(sample, real_border)
    assert -5_000 < located.loc["S-2024-10-04-MASNAA", "offset_m"] < -3_000
    assert located.loc["S-2025-02-07-QUSAYR", "offset_m"] > 0
    assert located.loc["R-2024-10-19-HERMEL-TRUCK-STRIKE", "offset_m"] < -10_000
    assert abs(located.loc["S-2025-03-16-HERMEL", "offset_m"]) < 100
    assert located["chainage_km"].between(0, 400).all()


def test_real_border_zones_are_clipped_to_the_land_of_the_two_countries(real_border):
    layers = pytest.importorskip("layers")
    countries = layers.load_layer("countries")
    zones = make_sectors(real_border, countries=countries, metric=True)
    whole = zones.loc[zones["side"] == "all"].set_index("sector_id")
    unclipped = make_sectors(real_border, countries=countries, metric=True, clip_to_land=False)
    unclipped = unclipped.loc[unclipped["side"] == "all"].set_index("sector_id")
    land = shapely.union_all(countries.to_crs(settings.METRIC_CRS).geometry.to_numpy())
    # The coast sector is the corridor's first zone ∩ land, measured with shapely here.
    coast = shapely.intersection(unclipped.geometry.loc[1], land).area / 1e6
    assert whole.loc[1, "area_km2"] == pytest.approx(coast, rel=1e-6)
    assert whole.loc[1, "area_km2"] < 0.6 * unclipped.loc[1, "area_km2"]  # the sea is gone
    last = whole.index.max()
    assert whole.loc[last, "area_km2"] < unclipped.loc[last, "area_km2"] - 10.0  # Hermon end
    assert shapely.difference(shapely.union_all(whole.geometry.to_numpy()), land).area < 1.0
    sides = zones.loc[zones["side"] != "all"].groupby("sector_id")["area_km2"].sum()
    assert_allclose(sides.to_numpy(), whole["area_km2"].to_numpy(), rtol=1e-9)
