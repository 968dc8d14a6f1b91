"""Exports read back with GDAL's own readers (pyogrio, rasterio) and agree with each other."""

from __future__ import annotations

import os
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely
from affine import Affine
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pyproj import CRS
from report_fixtures import HOSTILE, LINE, analyse, make_incidents

from geo import settings
from geo.density import DensitySurface
from geo.errors import ConfigurationError
from geo.exports import (
    export_density,
    export_hotspots,
    export_incidents,
    export_sectors,
    ranked_table,
    sectors_frame,
)
from geo.ranking import RANKED_COLUMNS
from mapview import escape_text
from mapview.standalone import inline_assets, resolve_asset, write_standalone_html


@pytest.fixture(scope="module")
def result():
    return analyse()


def test_ranked_table_flattens_the_json_shape(result):
    table = ranked_table(result)
    data = result.to_json_dict()["sectors"]
    assert list(table["sector_id"]) == [s["sector_id"] for s in data]
    assert list(table["rank"]) == list(range(1, len(data) + 1))
    first = data[0]
    row = table.iloc[0]
    assert row["rank_low"] == first["rank_interval"][0]
    assert row["rank_high"] == first["rank_interval"][1]
    assert row["nearest_town_name"] == first["nearest_town"]["name"] == "Town <i>A</i>"
    assert row["nearest_crossing_distance_km"] == first["nearest_crossing"]["distance_km"]
    contrib = [c for c in table.columns if c.startswith("contrib_")]
    assert len(contrib) == 7
    np.testing.assert_allclose(table[contrib].sum(axis=1), table["score"], atol=1e-5)
    assert table.columns[:5].tolist() == [
        "rank",
        "sector_id",
        "chainage_start_km",
        "chainage_end_km",
        "score",
    ]


def _assert_same_table(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same columns, same missing cells, same values (numbers to 1e-9 relative)."""
    assert list(left.columns) == list(right.columns)
    assert len(left) == len(right)
    for column in left.columns:
        a, b = left[column], right[column]
        assert (a.isna().to_numpy() == b.isna().to_numpy()).all(), column
        a, b = a[a.notna()], b[b.notna()]
        numeric_a = pd.to_numeric(a, errors="coerce")
        if numeric_a.notna().all() and len(a):
            np.testing.assert_allclose(
                numeric_a.astype(float), pd.to_numeric(b).astype(float), rtol=1e-9, err_msg=column
            )
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), column


def test_geojson_csv_and_geopackage_agree(result, tmp_path):
    gj = export_sectors(result, tmp_path / "s.geojson")
    csv = export_sectors(result, tmp_path / "s.csv")
    gpkg = export_sectors(result, tmp_path / "s.gpkg")
    from_geojson = pyogrio.read_dataframe(gj)
    from_csv = pd.read_csv(csv)
    from_gpkg = pyogrio.read_dataframe(gpkg, layer="sectors")
    assert from_geojson.crs.to_epsg() == 4326
    assert list(from_csv.columns) == [c for c in from_geojson.columns if c != "geometry"]
    attrs = pd.DataFrame(from_geojson.drop(columns="geometry"))
    _assert_same_table(from_csv, attrs)
    _assert_same_table(pd.DataFrame(from_gpkg.drop(columns="geometry")), attrs)
    assert len(attrs) == len(result.sectors) and attrs["crit_incidents"].sum() == 40
    # The zones' areas survive the round trip (coordinates rounded to 1e-6 degrees).
    original = sectors_frame(result).to_crs(settings.METRIC_CRS).area.to_numpy()
    for frame in (from_geojson, from_gpkg):
        np.testing.assert_allclose(
            frame.to_crs(settings.METRIC_CRS).area.to_numpy(), original, rtol=1e-4
        )
    # RFC 7946: no crs member, 6 decimals at most.
    text = gj.read_text(encoding="utf-8")
    assert '"crs"' not in text
    assert not re.search(r"\d\.\d{7,}\s*[,\]]", text.split('"geometry"', 1)[1][:2000])


def test_exporting_twice_gives_the_same_bytes(result, tmp_path):
    for name in ("a", "b"):
        export_sectors(result, tmp_path / f"{name}.csv")
        export_sectors(result, tmp_path / f"{name}.geojson")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert (tmp_path / "a.geojson").read_bytes() == (tmp_path / "b.geojson").read_bytes()


def test_geotiff_reads_back_with_crs_transform_and_values(tmp_path):
    rng = np.random.default_rng(3)
    values = rng.random((700, 600)).astype(np.float32)
    transform = Affine(250.0, 0.0, 410_000.0, 0.0, -250.0, 3_850_000.0)
    surface = DensitySurface(
        values=values,
        transform=transform,
        crs=settings.METRIC_CRS,
        bandwidth_m=1500.0,
        kernel="gaussian",
    )
    path = export_density(surface, tmp_path / "density.tif")
    with rasterio.open(path) as dataset:
        assert CRS.from_wkt(dataset.crs.to_wkt()).equals(settings.METRIC_CRS)
        assert dataset.transform.almost_equals(transform)
        np.testing.assert_array_equal(dataset.read(1), values)
        assert dataset.profile["tiled"]
        assert dataset.overviews(1), "a COG carries overviews"
        assert dataset.tags()["units"] == settings.DENSITY_UNITS


def test_density_of_an_analysis_exports(result, tmp_path):
    path = export_density(result, tmp_path / "d.tif")
    with rasterio.open(path) as dataset:
        np.testing.assert_allclose(dataset.read(1), result.density.values, rtol=1e-6)
        assert dataset.transform.almost_equals(result.density.transform)


def test_incidents_geopackage_keeps_every_column_verbatim(tmp_path):
    incidents = make_incidents(8)
    path = tmp_path / "out.gpkg"
    export_incidents(incidents, path)
    export_sectors(analyse(incidents.iloc[:0]), path, layer="sectors")
    assert sorted(pyogrio.list_layers(path)[:, 0]) == ["incidents", "sectors"]
    back = pyogrio.read_dataframe(path, layer="incidents")
    assert list(back.columns) == list(incidents.columns)
    assert back.loc[0, "description"] == HOSTILE
    pd.testing.assert_series_equal(
        pd.to_datetime(back["date"]).dt.date, incidents["date"].dt.date, check_names=False
    )
    np.testing.assert_allclose(back.geometry.x, incidents.geometry.x, atol=1e-9)


def test_hotspots_layer_written_only_when_computed(result, tmp_path):
    assert result.hotspots is not None
    assert export_hotspots(result, tmp_path / "h.gpkg")
    cells = pyogrio.read_dataframe(tmp_path / "h.gpkg", layer="hotspots")
    assert {"z", "p_fdr", "bin"} <= set(cells.columns)
    few = analyse(make_incidents(5))
    assert few.hotspots is None
    assert not export_hotspots(few, tmp_path / "none.gpkg")
    assert not (tmp_path / "none.gpkg").exists()


def test_bad_export_requests_say_what_to_do(result, tmp_path):
    with pytest.raises(ConfigurationError, match=r"format 'shp' is not supported.*gpkg"):
        export_sectors(result, tmp_path / "s.shp")
    with pytest.raises(ConfigurationError, match="no density surface"):
        export_density(None, tmp_path / "d.tif")
    no_crs = make_incidents(2).set_crs(None, allow_override=True)
    with pytest.raises(ConfigurationError, match="no CRS"):
        export_incidents(no_crs, tmp_path / "i.gpkg")


@hsettings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scores=st.lists(
        st.floats(min_value=0, max_value=1, allow_nan=False, allow_subnormal=False),
        min_size=1,
        max_size=6,
    )
)
def test_csv_round_trips_every_float_exactly(tmp_path_factory, scores):
    class Result:
        def __init__(self) -> None:
            n = len(scores)
            table = pd.DataFrame({c: [pd.NA] * n for c in RANKED_COLUMNS}, dtype=object)
            table["sector_id"] = range(1, n + 1)
            table["rank"] = range(1, n + 1)
            table["score"] = scores
            table["crit_trend"] = [s / 3 for s in scores]
            table["contrib_trend"] = scores
            table["rank_low"] = range(1, n + 1)
            table["rank_high"] = range(2, n + 2)
            self.ranked = gpd.GeoDataFrame(
                table,
                geometry=[shapely.box(36 + i / 10, 34, 36.05 + i / 10, 34.05) for i in range(n)],
                crs=4326,
            )

    path = tmp_path_factory.mktemp("csv") / "s.csv"
    export_sectors(Result(), path)
    back = pd.read_csv(path)
    assert back["score"].tolist() == scores
    assert back["crit_trend"].tolist() == [s / 3 for s in scores]


# --- Standalone HTML map ------------------------------------------------------


def _hostile_map() -> folium.Map:
    from folium.plugins import MarkerCluster

    m = folium.Map(location=[34.1, 36.3], zoom_start=9, tiles=None)
    m.options["maxZoom"] = 18  # without tiles, MarkerCluster needs the map's own maxZoom
    folium.CircleMarker(
        [34.12, 36.32],
        radius=12,
        popup=folium.Popup(escape_text(HOSTILE)),
        class_name="hostile",
    ).add_to(m)
    MarkerCluster().add_to(m)
    return m


def test_standalone_map_inlines_every_asset_and_keeps_text_plain(tmp_path):
    path = write_standalone_html(_hostile_map(), tmp_path / "map.html")
    page = path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"<link[^>]+stylesheet", page)
    assert "Content-Security-Policy" in page and "connect-src 'none'" in page
    assert "leaflet/leaflet.js" in page and "leaflet.markercluster.js" in page
    assert 'url("data:image/png;base64,' in page  # leaflet.css images inlined
    # The hostile description is plain text: no tag, no template literal, no link.
    assert '<a rel="attachment"' not in page
    assert "<img src=x" not in page
    assert "${alert" not in page
    assert "&lt;a rel=&quot;attachment&quot; href=&quot;file:///etc/passwd&quot;&gt;" in page
    assert "&#36;{alert(document.domain)}" in page


def test_the_analysts_map_exported_standalone_keeps_incident_text_plain(result):
    from mapview.builder import build_map
    from mapview.standalone import render_standalone_html

    border = gpd.GeoDataFrame({"name": ["line"], "source": ["test"]}, geometry=[LINE], crs=4326)
    page = render_standalone_html(
        build_map(
            border=border,
            incidents=result.incidents,
            sectors=sectors_frame(result),
            density=result.density,
        )
    )
    assert "<img src=x" not in page and "${alert" not in page and "<a rel=" not in page
    decoded = page.replace("\\u0026", "&").replace("\\u003c", "<").replace("\\u003e", ">")
    assert "&lt;img src=x onerror=alert(1)&gt; &#36;{alert(document.domain)}" in decoded
    assert "<img src=x" not in decoded
    assert "${alert" not in decoded
    assert not re.search(r"<script[^>]+src=", page)


def test_standalone_map_refuses_an_asset_without_local_copy(tmp_path):
    page = '<head><script src="https://cdn.example.org/some-plugin.js"></script></head>'
    with pytest.raises(ConfigurationError, match=r"some-plugin\.js.*static/vendor"):
        inline_assets(page)
    dropped = inline_assets('<script src="https://cdn.x/bootstrap.bundle.min.js"></script>')
    assert dropped == ""


def test_assets_resolve_from_cdn_and_app_urls():
    cdn = resolve_asset("https://code.jquery.com/jquery-3.7.1.min.js")
    app = resolve_asset("/app/static/vendor/jquery/jquery.min.js")
    assert cdn == app and cdn.name == "jquery.min.js"
    assert resolve_asset("/app/static/vendor/../../../etc/passwd") is None


@pytest.mark.browser
def test_standalone_map_draws_offline_in_a_browser(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        if os.environ.get("CI"):
            pytest.fail("chromium is missing under CI")
        pytest.skip("chromium is not installed")
    path = write_standalone_html(_hostile_map(), tmp_path / "map.html")
    requests: list[str] = []
    dialogs: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: dialogs.append(f"page error: {e}"))
            page.goto(path.as_uri())
            page.wait_for_selector("path.hostile", state="attached")
            page.evaluate(
                "document.querySelector('path.hostile')"
                ".dispatchEvent(new MouseEvent('click', {bubbles: true}))"
            )
            page.wait_for_selector(".leaflet-popup-content", state="attached")
            popup = page.inner_text(".leaflet-popup-content")
        finally:
            browser.close()
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    assert dialogs == []
    assert popup == HOSTILE  # shown as the analyst typed it, never interpreted
