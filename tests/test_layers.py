"""The committed reference layers: valid, in EPSG:4326, and true to known geography."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Geod
from shapely.geometry import LineString, Point

import layers
from geo.errors import LayerError
from layers.crs import METRIC_CRS

GEOD = Geod(ellps="WGS84")
#: Mount Hermon summit (Wikipedia "Mount Hermon": 33°24′58″N 35°51′27″E).
HERMON = (35.8575, 33.4161)
#: Mouth of the Nahr al-Kabir (Wikipedia "Nahr al-Kabir": 34°38′N 35°58′E, to the minute).
NAHR_AL_KABIR_MOUTH = (35.9667, 34.6333)

VECTOR_LAYERS = [n for n in layers.LAYER_NAMES]
COLUMNS = {
    "border": {"name", "source"},
    "border_candidates": {"source", "version", "licence"},
    "countries": {"iso3", "name"},
    "regions": {"name", "level", "country", "source"},
    "towns": {"name", "name_ar", "country", "population", "source", "location_precision_m"},
    "crossings": {
        "name",
        "name_ar",
        "counterpart",
        "counterpart_ar",
        "status",
        "status_sources",
        "location_precision_m",
        "source",
    },
    "unofficial_crossings": {
        "name",
        "name_ar",
        "counterpart",
        "status",
        "status_sources",
        "location_precision_m",
        "location_note",
        "source",
    },
    "incidents": {"id", "date", "type", "location_precision_m", "source"},
}


def geodesic_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    return GEOD.inv(a[0], a[1], b[0], b[1])[2]


@pytest.fixture(scope="module")
def border():
    return layers.load_border_line()


@pytest.fixture(scope="module")
def border_m():
    return layers.load_layer("border").to_crs(METRIC_CRS).geometry.iloc[0]


@pytest.fixture(scope="module")
def countries_m():
    return layers.load_layer("countries").to_crs(METRIC_CRS).set_index("iso3").geometry


@pytest.fixture(scope="module")
def districts_m():
    regions = layers.load_layer("regions")
    districts = regions[(regions["level"] == "district") & (regions["country"] == "LBN")]
    return districts.to_crs(METRIC_CRS).set_index("name").geometry


def sample_line(line, step_m: float) -> np.ndarray:
    return shapely.line_interpolate_point(line, np.arange(0.0, line.length + step_m, step_m))


# --- every layer ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", VECTOR_LAYERS)
def test_layer_is_valid_geometry_in_epsg4326_with_its_columns(name):
    gdf = layers.load_layer(name)
    assert gdf.crs.to_epsg() == 4326
    assert len(gdf) > 0
    assert gdf.geometry.is_valid.all()
    assert not gdf.geometry.is_empty.any()
    minx, miny, maxx, maxy = gdf.total_bounds
    assert minx >= 34.5 and maxx <= 42.5 and miny >= 32.3 and maxy <= 37.4  # lon, lat order
    assert COLUMNS[name] <= set(gdf.columns), COLUMNS[name] - set(gdf.columns)


@pytest.mark.parametrize("name", [*VECTOR_LAYERS, "terrain"])
def test_every_layer_has_provenance(name):
    records = {r["name"]: r for r in layers.list_layers()}
    record = records[name]
    for key in ("source", "package", "version", "licence", "retrieved", "steps", "precision"):
        assert record.get(key), f"{name}: provenance lacks {key!r}"
    assert (layers.DATA_DIR / record["file"]).is_file()


def test_osm_layers_carry_odbl_attribution():
    records = {r["name"]: r for r in layers.list_layers()}
    for name in ("border", "countries"):
        assert "OpenStreetMap" in records[name]["licence"]
        assert "ODbL" in records[name]["licence"]
    assert (layers.load_layer("border")["licence"].str.contains("OpenStreetMap")).all()


def test_unknown_layer_is_a_clear_error():
    with pytest.raises(LayerError, match=r"unknown layer 'bordr'; choose one of: border"):
        layers.load_layer("bordr")


def test_load_layer_returns_a_copy():
    gdf = layers.load_layer("crossings")
    gdf.loc[:, "name"] = "changed"
    assert "changed" not in set(layers.load_layer("crossings")["name"])


def test_incidents_layer_is_the_bundled_sample_not_a_duplicate():
    assert not (layers.DATA_DIR / "layers" / "incidents.geojson").exists()
    raw = json.loads((layers.DATA_DIR / "sample_incidents.geojson").read_text(encoding="utf-8"))
    assert len(layers.load_layer("incidents")) == len(raw["features"])


# --- border -----------------------------------------------------------------------------------


def test_border_length_is_between_340_and_380_km_geodesic(border):
    length_km = GEOD.geometry_length(border) / 1000.0
    assert 340.0 <= length_km <= 380.0
    # The projected length agrees with the geodesic one (scale error < 3e-5 on the border).
    projected_km = layers.load_layer("border").to_crs(METRIC_CRS).length.iloc[0] / 1000.0
    assert projected_km == pytest.approx(length_km, rel=1e-4)


def test_border_is_one_connected_simple_line(border):
    assert isinstance(border, LineString)
    assert border.is_simple
    assert len(border.coords) > 1000  # not simplified away


def test_border_starts_at_the_coast_and_ends_near_mount_hermon(border):
    start, end = border.coords[0], border.coords[-1]
    assert start[1] > end[1]  # north-west end first
    assert geodesic_m(start, NAHR_AL_KABIR_MOUTH) < 2_000.0
    assert geodesic_m(end, HERMON) < 20_000.0
    # The coast end is on the coast: within 200 m of the sea, and the line never enters it.
    sea = layers.load_layer("countries").union_all()
    assert Point(start).distance(sea.boundary) < 1e-3
    assert border.difference(sea.buffer(1e-6)).length == pytest.approx(0.0, abs=1e-9)


def test_border_lies_within_50_m_of_the_shared_edge_of_the_country_outlines(border_m, countries_m):
    shared = countries_m["LBN"].boundary.intersection(countries_m["SYR"].boundary)
    assert shared.length == pytest.approx(border_m.length, rel=1e-3)
    assert shapely.distance(sample_line(border_m, 250.0), shared).max() <= 50.0
    assert shapely.distance(sample_line(shapely.line_merge(shared), 250.0), border_m).max() <= 50.0


def test_country_outlines_do_not_overlap(countries_m):
    overlap_km2 = countries_m["LBN"].intersection(countries_m["SYR"]).area / 1e6
    assert overlap_km2 < 0.01
    # Wikipedia "Lebanon": 10,452 km² in all; the OSM land outline gives about 10,170 km².
    assert 9_800 <= countries_m["LBN"].area / 1e6 <= 10_500


def test_border_candidates_are_independent_lines_that_disagree(border_m):
    candidates = layers.load_layer("border_candidates")
    metric = candidates.to_crs(METRIC_CRS).set_index("source").geometry
    assert set(metric.index) == {
        "osm-timezone-2026",
        "osm-2017",
        "natural-earth-10m",
        "gshhg-2.3.7",
        "dcw-2.1.1",
    }
    assert metric["osm-timezone-2026"].equals_exact(border_m, 1e-3)
    points = sample_line(border_m, 1_000.0)
    # Mean distance from the OSM line; DATA-SOURCES measured 79 m (OSM 2017), 272 m (GSHHG),
    # 326 m (DCW) and 894 m (Natural Earth) with its own cut of each line.
    expected_mean_m = {
        "osm-2017": (30, 200),
        "gshhg-2.3.7": (150, 500),
        "dcw-2.1.1": (150, 500),
        "natural-earth-10m": (500, 1_500),
    }
    for source, (low, high) in expected_mean_m.items():
        mean_m = shapely.distance(points, metric[source]).mean()
        assert low < mean_m < high, (source, mean_m)
        assert metric[source].hausdorff_distance(border_m) < 10_000.0, source
    lengths = candidates.set_index("source").geometry.map(GEOD.geometry_length) / 1000.0
    assert lengths.between(280.0, 380.0).all(), lengths.to_dict()


# --- crossings and towns ------------------------------------------------------------------------


def test_each_crossing_is_within_5_km_of_the_border_on_its_side(border_m, countries_m):
    crossings = layers.load_layer("crossings").to_crs(METRIC_CRS)
    # The six official crossings (reported June 2025), each placed.
    assert set(crossings["name"]) == {
        "Masnaa",
        "Qaa",
        "Arida",
        "Aboudiyeh",
        "Bqaiaa (Jisr Qamar)",
        "Matraba",
    }
    assert (crossings["status"] == "official").all()
    for row in crossings.itertuples():
        # A crossing coded to a cited place away from the line (Aboudiyeh at the Akkar
        # District point, Matraba at Hermel) reaches the line within its precision.
        reach = max(5_000.0, row.location_precision_m)
        assert row.geometry.distance(border_m) <= reach, row.name
        on_side = countries_m[row.country].covers(row.geometry)
        assert on_side or row.geometry.distance(border_m) <= row.location_precision_m, row.name
        assert row.name_ar and row.counterpart and row.counterpart_ar
        assert "http" in row.source
    masnaa = crossings.set_index("name").geometry["Masnaa"]
    assert 3_000.0 < masnaa.distance(border_m) < 5_000.0  # the post is about 4 km inside
    assert countries_m["LBN"].contains(masnaa)


def test_each_unofficial_crossing_reaches_the_border_within_its_precision(border_m):
    unofficial = layers.load_layer("unofficial_crossings").to_crs(METRIC_CRS)
    assert len(unofficial) >= 10
    assert (unofficial["status"] == "unofficial").all()
    for row in unofficial.itertuples():
        assert row.geometry.distance(border_m) <= row.location_precision_m, row.name
        assert "http" in row.source and "http" in row.status_sources, row.name


def test_each_town_is_on_the_side_of_its_country(countries_m, border_m):
    towns = layers.load_layer("towns").to_crs(METRIC_CRS)
    assert set(towns["country"]) == {"LBN", "SYR"}
    for row in towns.itertuples():
        assert countries_m[row.country].covers(row.geometry), row.name
        assert row.geometry.distance(border_m) <= 30_000.0 + 1.0, row.name
        assert row.location_precision_m > 0


def test_towns_include_the_known_border_towns_and_the_curated_villages():
    names = set(layers.load_layer("towns")["name"])
    for town in ("El Hermel", "Aarsâl", "Al Quşayr", "Az Zabadānī", "Qaa", "Wadi Khaled"):
        assert town in names, town
    hermel = layers.load_layer("towns").set_index("name").loc["El Hermel"]
    # Wikipedia "Hermel": 34°23′29″N 36°23′45″E; GeoNames agrees within 2 km.
    assert geodesic_m((hermel.geometry.x, hermel.geometry.y), (36.39583, 34.39139)) < 2_000.0


# --- regions ------------------------------------------------------------------------------------


def test_hermel_district_touches_the_border(districts_m, border_m):
    hermel = districts_m["Hermel"]
    assert hermel.distance(border_m) < 100.0
    assert border_m.intersection(hermel.buffer(1_000.0)).length > 10_000.0


def test_lebanese_border_districts_run_the_whole_lebanese_side(districts_m, border_m):
    union = shapely.union_all(list(districts_m.values))
    gaps = shapely.distance(sample_line(border_m, 500.0), union)
    # geoBoundaries' generalised edge departs from the OSM line by at most 2.4 km.
    assert max(gaps) <= 2_500.0
    assert np.percentile(gaps, 95) <= 1_000.0


def test_the_coverage_check_detects_a_missing_district(districts_m, border_m):
    # Without Baalbek the remaining districts leave a long stretch uncovered.
    union = shapely.union_all([g for n, g in districts_m.items() if n != "Baalbek"])
    assert shapely.distance(sample_line(border_m, 500.0), union).max() > 10_000.0


def test_governorates_are_their_districts_dissolved():
    regions = layers.load_layer("regions").to_crs(METRIC_CRS)
    gov = regions[regions["level"] == "governorate"].set_index("name")
    dis = regions[regions["level"] == "district"].set_index("name")
    # DATA-SOURCES: Baalbek-Hermel about 2842 km², Bekaa about 1412 km².
    assert gov.area["Baalbek-Hermel"] / 1e6 == pytest.approx(2842, rel=0.01)
    assert gov.area["Bekaa"] / 1e6 == pytest.approx(1412, rel=0.01)
    assert gov.area["Baalbek-Hermel"] == pytest.approx(
        dis.area["Baalbek"] + dis.area["Hermel"], rel=1e-6
    )
    assert {"Homs", "Rif Dimashq", "Tartus"} <= set(regions[regions["country"] == "SYR"]["name"])


# --- terrain ------------------------------------------------------------------------------------


def test_terrain_matches_pvlib_lookup_and_covers_the_border(border):
    import pvlib.location

    with rasterio.open(layers.terrain_path()) as src:
        assert src.crs.to_epsg() == 4326
        assert src.res == pytest.approx((1 / 12, 1 / 12))
        left, bottom, right, top = src.bounds
        minx, miny, maxx, maxy = border.bounds
        assert left < minx and right > maxx and bottom < miny and top > maxy
        for lon, lat in [HERMON, (36.211, 34.006), (36.38, 34.39), (35.90, 33.85)]:
            value = next(src.sample([(lon, lat)]))[0]
            assert value == pvlib.location.lookup_altitude(lat, lon)
        hermon = next(src.sample([HERMON]))[0]
        bekaa = next(src.sample([(35.95, 33.80)]))[0]
        assert hermon > bekaa + 200


def test_missing_layer_file_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(layers, "DATA_DIR", tmp_path)
    with pytest.raises(LayerError, match=r"terrain: .* is missing; rebuild it"):
        layers.terrain_path()
