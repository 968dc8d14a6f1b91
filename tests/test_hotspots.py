"""Getis-Ord Gi* hot spots: z against esda, BH by hand, bins, the minimum sample (issue 4)."""

from __future__ import annotations

import math

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from pyproj import Transformer
from scipy import stats
from shapely.geometry import LineString

from geo import schema, settings
from geo.cli import main
from geo.errors import ConfigurationError, InsufficientDataError
from geo.grid import region_polygon
from geo.hotspots import (
    adjust_fdr,
    bin_significance,
    build_neighbours,
    compute_gi_star,
    compute_hotspots,
    make_hexagons,
)

TO_GEO = Transformer.from_crs(settings.METRIC_CRS, 4326, always_xy=True)
#: A synthetic bent line near the real border (EPSG:4326).
LINE = LineString([(35.98, 34.63), (36.4, 34.5), (36.6, 34.2), (36.2, 33.7), (35.85, 33.3)])
REGION = region_polygon(line=LINE, distance_m=15_000)


def incidents_at(x, y, **columns) -> gpd.GeoDataFrame:
    lon, lat = TO_GEO.transform(np.asarray(x, float), np.asarray(y, float))
    data = {"type": ["seizure"] * len(lon), "location_precision_m": 100.0}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(lon, lat), crs=4326)


@pytest.fixture(scope="module")
def hexes():
    centres, _, _ = make_hexagons(REGION, cell_m=3_000)
    return centres


def esda_z(values, neighbours_without_self):
    w = libpysal.weights.WSP(neighbours_without_self).to_W(silence_warnings=True)
    return esda.G_Local(values, w, transform="B", star=True, permutations=0).Zs


def test_hexagon_lattice_spacing_and_area(hexes):
    from geo.hotspots import _hexagon_polygons

    d = 3_000.0
    nearest = libpysal.cg.KDTree(hexes).query(hexes, k=2)[0][:, 1]
    assert_allclose(nearest, d, rtol=1e-9)  # centre to centre = the size
    area = _hexagon_polygons(hexes[:3], d)[0].area
    assert area == pytest.approx(math.sqrt(3) / 2 * d**2, rel=1e-9)
    assert len(hexes) == pytest.approx(REGION.area / area, rel=0.03)


def test_distance_band_of_two_sizes_takes_two_rings(hexes):
    w = build_neighbours(hexes, band_m=6_000)
    counts = np.diff(w.indptr)
    assert counts.max() == 19  # itself, 6 + 12 neighbours
    assert w.diagonal().min() == 1
    assert (w != w.T).nnz == 0


def test_gi_star_equals_esda_with_a_distance_band(hexes):
    rng = np.random.default_rng(0)
    values = rng.poisson(0.3, len(hexes)).astype(float)
    values[:40] += rng.poisson(3, 40)
    w = build_neighbours(hexes, band_m=6_000)
    ours = compute_gi_star(values, w)
    w_no_self = w.tolil()
    w_no_self.setdiag(0)
    assert_allclose(ours, esda_z(values, w_no_self.tocsr()), rtol=1e-9, atol=1e-12)
    # and with libpysal building the same neighbours on its own
    band = libpysal.weights.DistanceBand(
        hexes, threshold=6_000.001, binary=True, silence_warnings=True
    )
    theirs = esda.G_Local(values, band, transform="B", star=True, permutations=0).Zs
    assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_gi_star_equals_esda_with_k_nearest_neighbours():
    rng = np.random.default_rng(1)
    points = rng.uniform(0, 50_000, (300, 2))  # irregular: no distance ties
    values = rng.gamma(1.0, 2.0, 300)
    ours = compute_gi_star(values, build_neighbours(points, k_neighbours=8))
    knn = libpysal.weights.KNN.from_array(points, k=8)
    theirs = esda.G_Local(values, knn, transform="B", star=True, permutations=0).Zs
    assert_allclose(ours, theirs, rtol=1e-9)


def test_gi_star_by_hand_on_a_chain_of_five():
    # cells 0-1-2-3-4 in a row, neighbours within one step, values 0 0 0 0 10
    points = np.column_stack([np.arange(5) * 1_000.0, np.zeros(5)])
    z = compute_gi_star([0, 0, 0, 0, 10], build_neighbours(points, band_m=1_000))
    # x̄ = 2, S = 4, n = 5. Cell 4: W = 2, sum = 10: (10 − 4) / (4 √((5·2 − 4)/4)) = 1.2247
    # Cell 2: W = 3, sum = 0: (0 − 6) / (4 √((15 − 9)/4)) = −1.2247
    assert z[4] == pytest.approx(6 / (4 * math.sqrt(1.5)))
    assert z[2] == pytest.approx(-6 / (4 * math.sqrt(1.5)))
    assert z[0] == pytest.approx(-4 / (4 * math.sqrt(1.5)))


def test_gi_star_refuses_constant_values(hexes):
    with pytest.raises(InsufficientDataError, match="same value"):
        compute_gi_star(np.ones(len(hexes)), build_neighbours(hexes, band_m=6_000))


def test_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.2])
    # sorted 0.01 0.03 0.04 0.2 -> ×4/rank 0.04 0.06 0.0533 0.2 -> running min from the top
    assert_allclose(adjust_fdr(p), [0.04, 0.16 / 3, 0.16 / 3, 0.2])


def test_bins_follow_the_fdr_levels_and_the_sign():
    z = np.array([3.0, 2.5, 2.0, 1.0, -2.0, -3.5, 4.0])
    q = np.array([0.005, 0.03, 0.08, 0.5, 0.09, 0.001, 0.01])
    assert bin_significance(z, q).tolist() == [3, 2, 1, 0, -1, -3, 3]


def test_a_dense_cluster_is_a_99_percent_hot_spot(hexes):
    rng = np.random.default_rng(2)
    core = hexes[len(hexes) // 2]
    scatter = hexes[rng.choice(len(hexes), 60, replace=False)]
    x = np.r_[rng.normal(core[0], 1_000, 60), scatter[:, 0]]
    y = np.r_[rng.normal(core[1], 1_000, 60), scatter[:, 1]]
    precision = np.r_[np.full(60, 100.0), np.full(30, 100.0), np.full(30, 20_000.0)]
    gdf = incidents_at(x, y, location_precision_m=precision)
    result = compute_hotspots(gdf, region=REGION)
    cells = result.cells
    assert list(cells.columns[:7]) == ["cell_id", "count", "weight", "z", "p", "p_fdr", "bin"]
    assert cells.crs.equals(settings.GEOGRAPHIC_CRS)
    assert cells["cell_id"].is_unique
    assert result.n_incidents == 120 and cells["count"].sum() == 120
    # imprecise incidents are spread, their weight conserved
    assert cells["weight"].sum() == pytest.approx(120.0)
    assert cells["weight"].max() < cells["count"].max() + 1
    centre_cell = (
        cells.to_crs(settings.METRIC_CRS)
        .distance(gpd.points_from_xy([core[0]], [core[1]], crs=settings.METRIC_CRS)[0])
        .idxmin()
    )
    assert cells.loc[centre_cell, "bin"] == 3
    assert cells.loc[centre_cell, "p_fdr"] <= 0.01
    assert (cells["bin"] >= 1).sum() >= 7  # the cluster and its ring
    assert cells.loc[cells["bin"] == 0, "p_fdr"].min() > 0.10
    assert_allclose(cells["p"], 2 * (1 - stats.norm.cdf(cells["z"].abs())), atol=1e-12)
    # Coordinates projected beforehand (the app projects the store once) give the same.
    from geo.grid import project_points

    given = compute_hotspots(gdf, region=REGION, xy=project_points(gdf))
    pd.testing.assert_frame_equal(given.cells, cells)
    with pytest.raises(ConfigurationError, match="two arrays of 120 finite metric"):
        compute_hotspots(gdf, region=REGION, xy=(x[:-1], y[:-1]))
    # The lattice is made once per study area and cell size, and only for those.
    finer = compute_hotspots(gdf, region=REGION, cell_km=settings.HOTSPOT_CELL_KM / 2)
    assert len(finer.cells) > 3 * len(cells)
    assert finer.cells["count"].sum() == finer.n_incidents >= 115
    smaller = compute_hotspots(gdf, region=REGION.buffer(-3_000))
    assert len(smaller.cells) < len(cells)
    assert set(smaller.cells["cell_id"]) < set(cells["cell_id"])


def test_counts_are_analysed_when_asked(hexes):
    rng = np.random.default_rng(3)
    pick = hexes[rng.choice(len(hexes), 40)]
    gdf = incidents_at(pick[:, 0], pick[:, 1], type=["clash"] * 20 + ["crossing"] * 20)
    by_count = compute_hotspots(gdf, region=REGION, value="count", k_neighbours=6)
    counts = by_count.cells["count"].to_numpy(float)
    w = build_neighbours(hexes, k_neighbours=6)
    assert_allclose(by_count.cells["z"], compute_gi_star(counts, w))
    assert by_count.k_neighbours == 6 and by_count.band_km is None


def test_fewer_than_the_minimum_is_refused_with_the_numbers(hexes):
    pick = hexes[:29]
    gdf = incidents_at(pick[:, 0], pick[:, 1])
    with pytest.raises(InsufficientDataError, match="at least 30 incidents and only 29 match"):
        compute_hotspots(gdf, region=REGION)
    # 40 incidents but only 20 in the study area
    far = incidents_at(np.full(20, 900_000.0), np.full(20, 40_000.0))
    both = gpd.GeoDataFrame(pd.concat([gdf.iloc[:20], far], ignore_index=True), crs=4326)
    with pytest.raises(InsufficientDataError, match="only 20 lie in the study area"):
        compute_hotspots(both, region=REGION)


def test_bad_options_are_refused(hexes):
    gdf = incidents_at(hexes[:40, 0], hexes[:40, 1])
    with pytest.raises(ConfigurationError, match="cell_km=0"):
        compute_hotspots(gdf, region=REGION, cell_km=0)
    with pytest.raises(ConfigurationError, match="band_km=1"):
        compute_hotspots(gdf, region=REGION, band_km=1)
    with pytest.raises(ConfigurationError, match="value='sum' is unknown"):
        compute_hotspots(gdf, region=REGION, value="sum")


def test_result_writes_a_geopackage(tmp_path, hexes):
    rng = np.random.default_rng(4)
    pick = hexes[rng.choice(len(hexes), 50)]
    result = compute_hotspots(incidents_at(pick[:, 0], pick[:, 1]), region=REGION)
    result.to_file(tmp_path / "h.gpkg")
    back = gpd.read_file(tmp_path / "h.gpkg", layer="hotspots")
    assert len(back) == len(result.cells)
    assert_allclose(back["z"], result.cells["z"])
    assert back["bin"].tolist() == result.cells["bin"].tolist()


def _bundled() -> gpd.GeoDataFrame:
    return gpd.read_file(settings.SAMPLE_INCIDENTS_PATH)


def test_cli_refuses_too_few_filtered_incidents_in_one_line(tmp_path, capsys):
    # the bundled record of 2026 (it stops in March 2026): fewer than 30 incidents
    n = int((pd.to_datetime(_bundled()["date"]) >= "2026-01-01").sum())
    assert 0 < n < settings.HOTSPOT_MIN_INCIDENTS
    code = main(["hotspots", "--since", "2026-01-01", "--out", str(tmp_path / "h.gpkg")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1
    assert f"at least 30 incidents and only {n} match the filters" in err
    assert not (tmp_path / "h.gpkg").exists()


def test_cli_density_writes_the_sample_surface(tmp_path, capsys):
    from geo.density import read_geotiff

    out = tmp_path / "d.tif"
    code = main(["density", "--out", str(out), "--kernel", "quartic", "--bandwidth-m", "6000"])
    assert code == 0, capsys.readouterr().err
    assert f"wrote {out}" in capsys.readouterr().out
    surface = read_geotiff(out)
    assert surface.kernel == "quartic" and surface.bandwidth_m == 6000.0
    assert surface.n_incidents == len(_bundled())
    assert surface.mass == pytest.approx(surface.total_weight, rel=0.01)


def test_cli_writes_hot_spots_from_a_store_of_36(tmp_path, capsys):
    # the six events of the former sample (ids S-...), kept in the bundled record, repeated
    # six times 30 days apart at the same real positions, in a store of their own
    from geo.ingest import open_seeded_store, store_frame
    from geo.store import open_store

    path = tmp_path / "six.gpkg"
    seeded = open_seeded_store().read()  # the test's own store ($BORDERMON_STORE), seeded
    sample = seeded[seeded["id"].str.startswith("S-")].reset_index(drop=True)
    assert len(sample) == 6
    store = open_store(path, create=True)
    keep = [*schema.INCIDENT_COLUMNS, sample.geometry.name]
    store_frame(store, sample[[c for c in sample.columns if c in keep]], source_file="t")
    copies = []
    for k in range(1, 6):
        copy = sample.copy()
        copy["id"] = copy["id"] + f"-copy{k}"
        copy["date"] = copy["date"] - pd.Timedelta(days=30 * k)
        copies.append(copy)
    extra = gpd.GeoDataFrame(pd.concat(copies, ignore_index=True), crs=sample.crs)
    store_frame(store, extra[[c for c in extra.columns if c in keep]], source_file="test")
    out = tmp_path / "h.gpkg"
    code = main(["hotspots", "--store", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "36 incidents" in captured.out
    cells = gpd.read_file(out, layer="hotspots")
    assert cells["count"].sum() == 36
    assert {"cell_id", "z", "p", "p_fdr", "bin"} <= set(cells.columns)
    assert cells["bin"].max() >= 1  # repeated incidents at one place make a hot spot


@hsettings(max_examples=30, deadline=None)
@given(
    scale=st.floats(0.01, 100),
    shift=st.floats(-100, 100),
    seed=st.integers(0, 2**16),
)
def test_gi_star_is_unchanged_by_rescaling_the_values(scale, shift, seed):
    points = np.random.default_rng(seed).uniform(0, 30_000, (60, 2))
    values = np.random.default_rng(seed + 1).gamma(0.5, 2.0, 60)
    w = build_neighbours(points, band_m=6_000)
    assert_allclose(
        compute_gi_star(scale * values + shift, w), compute_gi_star(values, w), atol=1e-7
    )
    # and flipping the sign turns hot into cold
    assert_allclose(compute_gi_star(-values, w), -compute_gi_star(values, w), atol=1e-9)


def _spread_by_search(centres, per_cell, reach):
    """The former spreading: a k-d tree search from each occupied cell, a sparse product."""
    from scipy import sparse
    from scipy.spatial import cKDTree

    tree = cKDTree(centres)
    sources = np.flatnonzero(per_cell)
    n = len(per_cell)
    if not len(sources):
        return np.zeros(n)
    reached = tree.query_ball_point(tree.data[sources], reach * (1 + 1e-9))
    sizes = np.array([len(r) for r in reached])
    rows = np.concatenate([np.asarray(r, dtype=np.intp) for r in reached])
    within = sparse.csr_matrix(
        (np.ones(rows.size), (rows, np.repeat(sources, sizes))), shape=(n, n)
    )
    within.sum_duplicates()
    share = np.zeros(n)
    share[sources] = per_cell[sources] / sizes
    return within @ share


@given(
    seed=st.integers(0, 2**32 - 1),
    reach=st.one_of(st.floats(1_500.0, 40_000.0), st.sampled_from([2_000.0, 4_000.0, 6_000.0])),
    occupied=st.floats(0.0, 1.0),
    origin=st.tuples(st.floats(-1e6, 1e6), st.floats(3.5e6, 3.9e6)),
)
@hsettings(max_examples=40, deadline=None)
def test_spreading_from_occupied_cells_equals_the_whole_band_matrix(seed, reach, occupied, origin):
    """Spreading only from the cells that hold something gives the band matrix's product.

    And the very sums of the k-d tree search it replaced, to the last bit, over areas
    with holes and at reaches equal to a lattice distance (2 km cells: 2, 4, 6 km).
    """
    from shapely.geometry import Point, box

    from geo.hotspots import CellGrid, _spread_from, build_neighbours, make_hexagons

    rng = np.random.default_rng(seed)
    x0, y0 = origin
    area = box(x0, y0, x0 + 60_000, y0 + 40_000).difference(
        Point(x0 + 30_000, y0 + 20_000).buffer(9_000)
    )
    centres, rows, cols = make_hexagons(area, cell_m=2_000)
    per_cell = rng.exponential(1.0, len(centres)) * (rng.random(len(centres)) < occupied)
    band = build_neighbours(centres, band_m=reach)
    expected = band @ (per_cell / np.diff(band.indptr))
    got = _spread_from(CellGrid.from_lattice(rows, cols, 2_000), per_cell, reach)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    assert got.sum() == pytest.approx(per_cell.sum(), rel=1e-9)  # every weight kept
    np.testing.assert_array_equal(got, _spread_by_search(centres, per_cell, reach))


@given(
    seed=st.integers(0, 2**32 - 1),
    cell_m=st.sampled_from([1_000.0, 2_500.0, 3_000.0, 5_000.0]),
    origin=st.tuples(st.floats(-2e5, 9e5), st.floats(3.4e6, 3.9e6)),
)
@hsettings(max_examples=40, deadline=None)
def test_the_hexagon_holding_a_point_is_the_one_whose_centre_is_nearest(seed, cell_m, origin):
    """Cube rounding finds what a k-d tree over every centre of the lattice finds."""
    from scipy.spatial import cKDTree
    from shapely.geometry import Point, box

    from geo.hotspots import _lattice, _study_lattice

    x0, y0 = origin
    area = box(x0, y0, x0 + 40_000, y0 + 30_000).difference(
        Point(x0 + 20_000, y0 + 15_000).buffer(6_000)
    )
    lattice = _study_lattice(shapely.to_wkb(area), cell_m)
    _, _, every_centre = _lattice(area.bounds, cell_m=cell_m)
    rng = np.random.default_rng(seed)
    x = rng.uniform(x0 - 10_000, x0 + 50_000, 3_000)  # inside, in the hole and around
    y = rng.uniform(y0 - 10_000, y0 + 40_000, 3_000)
    k = min(50, len(lattice.centres))
    x[:k], y[:k] = lattice.centres[:k, 0], lattice.centres[:k, 1]  # on centres too
    _, nearest = cKDTree(every_centre).query(np.column_stack([x, y]))
    kept = shapely.contains_xy(area, every_centre[:, 0], every_centre[:, 1])
    number = np.full(len(every_centre), -1)  # each lattice hexagon's number if kept
    number[kept] = np.arange(int(kept.sum()))
    expected = number[nearest]
    found = lattice.grid.locate(x, y)
    assert_array_equal(found, expected)
    assert (found >= 0).any() and (found < 0).any()
    assert_array_equal(found[:k], np.arange(k))


def test_a_lattice_s_neighbours_are_made_once_and_cannot_be_changed():
    from shapely.geometry import box

    from geo.hotspots import _lattice_neighbours, _study_lattice

    wkb = shapely.to_wkb(box(300_000, 3_700_000, 340_000, 3_730_000))
    w = _lattice_neighbours(wkb, 3_000.0, 9_000.0, None)
    expected = build_neighbours(_study_lattice(wkb, 3_000.0).centres, band_m=9_000.0)
    assert (w != expected).nnz == 0 and w.shape == expected.shape
    assert _lattice_neighbours(wkb, 3_000.0, 9_000.0, None) is w
    assert _lattice_neighbours(wkb, 3_000.0, 12_000.0, None).nnz > w.nnz  # another band
    with pytest.raises(ValueError, match="read-only"):
        w.data[0] = 2.0
