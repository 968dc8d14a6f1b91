"""Tests of mapview: escaping of user text, vendored assets and the folium map."""

from __future__ import annotations

import html
import json
import pickle
import re
import shutil
import subprocess

import branca
import branca.element
import folium
import folium.plugins
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import ConfigurationError
from mapview import escape_frame, escape_text
from mapview.assets import CSS_FILES, JS_FILES, localize_assets, vendor_path
from mapview.builder import build_reference_map, data_layers_script
from mapview.rendering import LiteralTemplate

#: Payloads that ran script in folium popups and tooltips (shared/RECIPES.md) and relatives.
PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "${alert(1)}",
    "`+alert(1)+`",
    "\\`;alert(1);//",
    "</script><script>alert(1)</script>",
    '" onmouseover="alert(1)',
    "' onfocus='alert(1)",
    "\\u0060${alert(document.domain)}",
]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("${alert(1)}", "&#36;{alert(1)}"),
        ("`+alert(1)+`", "&#96;+alert(1)+&#96;"),
        ("a\\b", "a&#92;b"),
        ("\"x\" & 'y'", "&quot;x&quot; &amp; &#x27;y&#x27;"),
        ("Qaa – القاع", "Qaa – القاع"),
        (None, ""),
        (float("nan"), ""),
        (12.5, "12.5"),
    ],
)
def test_escape_text_known_values(raw, expected):
    assert escape_text(raw) == expected


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_text_leaves_no_active_character(payload):
    out = escape_text(payload)
    for char in "<>\"'`$\\":
        assert char not in out
    assert html.unescape(out) == payload


@given(st.text())
def test_escape_text_round_trips_and_is_inert(s):
    out = escape_text(s)
    assert html.unescape(out) == s
    assert not set(out) & set("<>\"'`$\\")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_escaped_payloads_stay_literal_inside_a_js_template_literal(tmp_path):
    # Folium writes popup HTML inside `...`: evaluating that literal must give back the
    # escaped text unchanged (no ${} interpolation, no early end of the literal).
    escaped = [escape_text(p) for p in PAYLOADS]
    body = ",".join(f"`{e}`" for e in escaped)
    script = tmp_path / "t.js"
    script.write_text(
        "globalThis.alert = () => { throw new Error('alert ran'); };\n"
        f"console.log(JSON.stringify([{body}]));\n"
    )
    result = subprocess.run(
        ["node", str(script)], capture_output=True, text=True, timeout=30, check=True
    )
    assert json.loads(result.stdout) == escaped


def test_escape_frame_escapes_values_and_names_on_a_copy():
    frame = pd.DataFrame(
        {"description": ["<b>x</b>", None], "${name}": ["`a`", "b"], "quantity": [1.5, 2.0]}
    )
    out = escape_frame(frame)
    assert list(out.columns) == ["description", "&#36;{name}", "quantity"]
    assert out["description"][0] == "&lt;b&gt;x&lt;/b&gt;"
    assert pd.isna(out["description"][1])
    assert out["&#36;{name}"].tolist() == ["&#96;a&#96;", "b"]
    assert out["quantity"].tolist() == [1.5, 2.0]
    assert frame["description"][0] == "<b>x</b>"  # the input is untouched


def test_localize_assets_points_every_asset_at_vendored_files():
    m = folium.Map(tiles=None)
    folium.plugins.MarkerCluster().add_to(m)
    localize_assets(m)
    html_text = m.get_root().render()
    assert "cdn" not in html_text.lower()
    assert "https://" not in html_text.replace("https://leafletjs.com", "")
    assert "/app/static/vendor/leaflet/leaflet.js" in html_text
    assert "/app/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in html_text


def test_localize_assets_refuses_an_unknown_asset():
    m = folium.Map(tiles=None)
    folium.plugins.Fullscreen().add_to(m)
    with pytest.raises(ConfigurationError, match=r"Fullscreen needs .* not vendored"):
        localize_assets(m)


def test_every_vendored_file_exists():
    for relative in [*JS_FILES.values(), *CSS_FILES.values()]:
        if relative is not None:
            assert vendor_path(relative).is_file(), relative


# --- the map builder ------------------------------------------------------------------------

import base64  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402
from affine import Affine  # noqa: E402
from geopandas.testing import assert_geodataframe_equal  # noqa: E402
from PIL import Image  # noqa: E402

from geo import settings  # noqa: E402
from geo.grid import project_frame  # noqa: E402
from mapview.builder import (  # noqa: E402
    build_map,
    density_image,
    hexbin_incidents,
    prepare_layer,
    priority_class,
    zoom_for_bounds,
)

#: Real places on the border (Qaa-Jousieh crossing area and Masnaa), as in the former sample.
QAA = (36.5433, 34.4217)
HERMEL = (36.38472, 34.39417)


def _incidents(points, **columns) -> gpd.GeoDataFrame:
    n = len(points)
    data = {
        "id": [f"I{i}" for i in range(n)],
        "date": pd.to_datetime(["2025-03-16"] * n),
        "type": ["seizure"] * n,
        "description": ["ordinary"] * n,
        "source": ["test"] * n,
        "location_precision_m": [1000.0] * n,
    }
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=gpd.points_from_xy(*zip(*points, strict=True)), crs=4326)


def _border() -> gpd.GeoDataFrame:
    line = shapely.LineString([(35.97, 34.63), (36.55, 34.42), (35.77, 33.34)])
    return gpd.GeoDataFrame(
        {"name": ["LB-SY"], "source": ["OSM <test>"]}, geometry=[line], crs=4326
    )


@pytest.mark.parametrize(
    ("rank", "label"),
    [
        (1, "rank 1–5"),
        (5, "rank 1–5"),
        (6, "rank 6–10"),
        (11, "rank 11–20"),
        (21, "rank 21 and below"),
    ],
)
def test_priority_class_labels(rank, label):
    assert priority_class(rank, top_k=5)[1] == label


def test_zoom_for_bounds_fits_and_is_the_largest_that_fits():
    bounds = (35.77, 33.34, 36.62, 34.69)
    (lat, lon), zoom = zoom_for_bounds(bounds, width_px=700, height_px=600, padding=0.0)
    assert (lat, lon) == pytest.approx((34.015, 36.195))

    def pixels(z):
        world = 256 * 2**z
        y = lambda la: math.log(math.tan(math.pi / 4 + math.radians(la) / 2))  # noqa: E731
        return (bounds[2] - bounds[0]) / 360 * world, (y(bounds[3]) - y(bounds[1])) / (
            2 * math.pi
        ) * world

    w, h = pixels(zoom)
    assert w <= 700 and h <= 600
    w1, h1 = pixels(zoom + 0.25)
    assert w1 > 700 or h1 > 600
    assert zoom % 0.25 == 0


@pytest.mark.parametrize("padding", [0.1, 0.2])
def test_zoom_for_bounds_leaves_the_padding_free(padding):
    # The whole border, 1.35 degrees of latitude, in a 620 px frame: 1 - padding of it at most.
    bounds = (35.77, 33.34, 36.62, 34.69)
    _, zoom = zoom_for_bounds(bounds, width_px=700, height_px=620, padding=padding)
    world = 256 * 2**zoom
    y = lambda la: math.log(math.tan(math.pi / 4 + math.radians(la) / 2))  # noqa: E731
    height = (y(bounds[3]) - y(bounds[1])) / (2 * math.pi) * world
    assert height <= (1 - padding) * 620
    assert (
        height * 2**0.25 > (1 - padding) * 620
        or (bounds[2] - bounds[0]) / 360 * world * 2**0.25 > (1 - padding) * 700
    )


def test_hexbin_counts_every_point_into_a_hexagon_that_contains_it():
    rng = np.random.default_rng(1)
    pts = list(zip(rng.uniform(35.9, 36.6, 500), rng.uniform(33.4, 34.6, 500), strict=True))
    inc = _incidents(pts)
    hexes = hexbin_incidents(inc, hex_km=5.0)
    assert hexes["count"].sum() == 500
    metric = hexes.to_crs(settings.METRIC_CRS)
    points = inc.to_crs(settings.METRIC_CRS)
    joined = gpd.sjoin(points, metric, predicate="intersects")
    assert joined.index.nunique() == 500
    # distance between opposite edges is 5 km, area is sqrt(3)/2 * 5^2 km^2
    xmin, _, xmax, _ = metric.geometry.iloc[0].bounds
    assert xmax - xmin == pytest.approx(5000.0, rel=1e-6)
    assert metric.area.iloc[0] == pytest.approx(math.sqrt(3) / 2 * 25e6, rel=1e-6)


def _stable(script: str) -> str:
    """Return a data-layer script with folium's random element ids numbered in order."""
    seen: dict[str, str] = {}
    script = re.sub(
        r"_[0-9a-f]{32}(?![0-9a-f])", lambda m: seen.setdefault(m[0], f"_id{len(seen)}"), script
    )
    return re.sub(r'(bordermonDataKey (?:===|=) )"[0-9a-f]{16}"', r"\1KEY", script)


def test_hexagons_counted_from_given_coordinates_are_those_counted_from_the_points():
    rng = np.random.default_rng(2)
    pts = list(zip(rng.uniform(35.9, 36.6, 400), rng.uniform(33.4, 34.6, 400), strict=True))
    inc = _incidents(pts)
    inc.loc[3, "geometry"] = None  # not drawn, and absent from the coordinates below
    drawn = inc[inc.geometry.notna()]
    xy = project_frame(drawn)
    expected = hexbin_incidents(drawn, hex_km=5.0)
    given = hexbin_incidents(drawn, hex_km=5.0, xy=(xy["x_m"], xy["y_m"]))
    assert_geodataframe_equal(given, expected)
    # the map's script is the same when the store's coordinates are passed (in any order)
    store_xy = xy.sample(frac=1.0, random_state=0)
    options = {"incidents": inc, "max_incident_markers": 10}
    assert _stable(data_layers_script(**options, incident_xy=store_xy)) == _stable(
        data_layers_script(**options)
    )
    with pytest.raises(ConfigurationError, match="not in the table of metric coordinates"):
        data_layers_script(**options, incident_xy=store_xy.iloc[1:])
    with pytest.raises(ConfigurationError, match="xy must be two arrays of 399"):
        hexbin_incidents(drawn, xy=(xy["x_m"], xy["y_m"].iloc[1:]))


def test_hexbin_puts_identical_points_in_one_hexagon():
    hexes = hexbin_incidents(_incidents([QAA] * 7))
    assert hexes["count"].tolist() == [7]


def test_hexagons_rounded_vertex_by_vertex_are_the_shapes_a_valid_rounding_makes():
    rng = np.random.default_rng(3)
    pts = list(zip(rng.uniform(35.9, 36.7, 3000), rng.uniform(33.3, 34.7, 3000), strict=True))
    hexes = hexbin_incidents(_incidents(pts), hex_km=3.0)
    quick = prepare_layer(hexes, columns=["count"], simplify_m=0, pointwise=True)
    valid = prepare_layer(hexes, columns=["count"], simplify_m=0)
    assert len(quick) == len(valid) == len(hexes) > 500
    assert shapely.equals(quick.geometry.values, valid.geometry.values).all()
    assert quick.geometry.is_valid.all()
    coords = shapely.get_coordinates(quick.geometry.values)
    assert np.array_equal(coords, np.round(coords, 5))  # rounded to the metre
    assert quick["count"].tolist() == valid["count"].tolist()


def test_prepare_layer_escapes_text_and_simplifies_within_tolerance():
    line = gpd.GeoSeries([_border().geometry.iloc[0].segmentize(0.001)], crs=4326)
    gdf = gpd.GeoDataFrame({"name": ["<b>${x}</b>"], "n": [1.23456]}, geometry=line, crs=4326)
    out = prepare_layer(gdf, columns=["name", "n", "missing"], simplify_m=100.0)
    assert out["name"].iloc[0] == "&lt;b&gt;&#36;{x}&lt;/b&gt;"
    assert out["n"].iloc[0] == 1.235
    assert shapely.get_num_coordinates(out.geometry.iloc[0]) < shapely.get_num_coordinates(
        line.iloc[0]
    )
    metric_in = line.to_crs(settings.METRIC_CRS).iloc[0]
    metric_out = out.geometry.to_crs(settings.METRIC_CRS).iloc[0]
    assert metric_in.hausdorff_distance(metric_out) <= 100.0 + 1.0  # + rounding to 1e-5 degrees


def test_density_image_places_the_surface_and_keeps_zero_transparent():
    # A 40 x 40 km surface of 1 km cells in the metric CRS with one hot cell.
    values = np.zeros((40, 40))
    values[10, 30] = 2.0
    surface = type("S", (), {})()
    surface.values, surface.crs = values, settings.METRIC_CRS
    surface.transform = Affine(1000.0, 0.0, 480_000.0, 0.0, -1000.0, 3_800_000.0)
    uri, ((south, west), (north, east)), vmax = density_image(surface, max_pixels=800)
    image = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    rgba = np.asarray(image)
    assert rgba.shape[2] == 4 and vmax > 0
    assert (rgba[..., 3] > 0).sum() >= 1
    # the brightest pixel is where the hot cell is (within two 1 km cells)
    row, col = np.unravel_index(np.argmax(rgba[..., 3]), rgba.shape[:2])
    lat = north - (row + 0.5) / rgba.shape[0] * (north - south)
    lon = west + (col + 0.5) / rgba.shape[1] * (east - west)
    hot = gpd.GeoSeries(
        [shapely.Point(480_000 + 30_500, 3_800_000 - 10_500)], crs=settings.METRIC_CRS
    )
    found = gpd.GeoSeries([shapely.Point(lon, lat)], crs=4326).to_crs(settings.METRIC_CRS)
    assert found.distance(hot.iloc[0]).iloc[0] < 2_000


def test_build_map_escapes_popups_tooltips_and_attribution():
    inc = _incidents(
        [QAA, HERMEL],
        description=["<img src=x onerror=alert(1)>", "${alert(1)}"],
        source=["`x`", "a\\b"],
    )
    html_text = build_map(border=_border(), incidents=inc).get_root().render()
    assert "<img src=x" not in html_text
    assert "${alert" not in html_text
    data = html_text.replace("\\u0026", "&")  # the marker array is written with tojson
    assert "&lt;img src=x onerror=alert(1)&gt;" in data
    assert "&#36;{alert(1)}" in data
    assert "OSM &lt;test&gt;" in data  # the border's source, in the attribution
    assert "/app/static/vendor/leaflet/leaflet.js" in html_text
    assert not re.search(r"https?://(?!leafletjs\.com)", html_text)


#: Jinja syntax in user text: branca evaluated it on the server (issue 13's review).
JINJA = (
    "{{ 'jinja' ~ 'ran' }}",
    "{% if 1 %}kept{% endif %}",
    "{# kept #}",
    "{{ lipsum.__globals__ }}",
)


def test_jinja_in_user_text_is_shown_literally_and_never_evaluated():
    from webapp.map_panel import serialise_map

    inc = _incidents([QAA, HERMEL], description=[JINJA[0] + " " + JINJA[1], JINJA[2]],
                     source=[JINJA[3], "{% raw %}"])  # fmt: skip
    page = build_map(border=_border(), incidents=inc).get_root().render()
    parts = serialise_map(build_map(border=_border(), incidents=inc))
    for text in (page, parts.script + parts.header + parts.html):
        text = text.replace("\\u0026", "&")  # the marker array is written with tojson
        for jinja in (*JINJA, "{% raw %}"):
            assert escape_text(jinja) in text, jinja  # shown as the analyst wrote it
        assert "jinjaran" not in text  # the expression was never computed
        assert "function generate_lorem_ipsum" not in text  # lipsum's globals not dumped


def test_text_given_to_an_element_is_kept_as_text():
    element = branca.element.Element("a {{ 1 + 1 }} b\r\n")
    assert isinstance(element._template, LiteralTemplate)
    assert element.render() == "a {{ 1 + 1 }} b"  # Jinja's newline rules, nothing evaluated
    # folium's one use of a second pass: a style that is an element, written as a reference
    assert branca.element.Element("fill: {{'pattern_1a'}}").render() == "fill: pattern_1a"
    copy = pickle.loads(pickle.dumps(element))
    assert copy.render() == "a {{ 1 + 1 }} b"
    assert branca.__version__ == "0.8.2"  # the version mapview.rendering was written for


def _hotspot_cells() -> gpd.GeoDataFrame:
    cells = [shapely.box(36.4, 34.3, 36.45, 34.35), shapely.box(36.45, 34.3, 36.5, 34.35)]
    return gpd.GeoDataFrame(
        {"bin": [3, -2], "count": [9, 0], "z": [3.1, -2.2], "p_fdr": [0.001, 0.03]},
        geometry=cells,
        crs=4326,
    )


def _overlay_labels(text: str) -> list[str]:
    """Return the layer control's overlay names written in a map's script."""
    return sorted(
        json.loads(f'"{name}"')
        for name in re.findall(r'"((?:[^"\\]|\\.)*)" : feature_group_', text)
    )


def test_the_reference_map_and_its_data_layers_make_the_whole_map():
    inc = _incidents([QAA, HERMEL], description=["<img src=x onerror=alert(1)>", "</script>"])
    data = {"incidents": inc, "hotspots": _hotspot_cells()}
    whole = build_map(border=_border(), **data).get_root().render()
    reference = build_reference_map(border=_border()).get_root().render()
    script = data_layers_script(**data)
    labels = [json.loads(x) for x in re.findall(r'label: ("(?:[^"\\]|\\.)*")', script)]
    # every layer of the whole map: the reference map's, then the data layers'
    assert _overlay_labels(whole) == sorted(_overlay_labels(reference) + labels)
    assert {"Hot spots (Gi*)", "Incidents (2)"} <= set(labels)
    # the data layers' legend rows go in the reference map's empty place for them
    assert '<div class=\\"bordermon-data-legend\\"></div>' in reference.replace(
        "\\u003c", "<"
    ).replace("\\u003e", ">")
    # the reference map loads what the data layers need, once
    assert "leaflet.markercluster.js" in reference and "leaflet.markercluster.js" not in script
    # user text stays escaped, and nothing in the script can end a <script> element
    assert "<img src=x" not in script and "</script>" not in script
    assert "&lt;img src=x onerror=alert(1)&gt;" in script.replace("\\u0026", "&")


def test_each_hot_spot_cell_is_styled_by_its_bin_in_the_browser():
    from mapview.builder import HOTSPOT_COLOURS

    script = data_layers_script(hotspots=_hotspot_cells())
    start = script.index("var t = ") + len("var t = ")
    table = json.JSONDecoder().raw_decode(script, start)[0]
    data_start = script.index('{"bbox"') if '{"bbox"' in script else script.index('{"features"')
    cells = json.JSONDecoder().raw_decode(script, data_start)[0]["features"]
    assert table["base"]["fillOpacity"] == 0.55
    fills = {
        feature["properties"]["label"]: table["classes"][feature["properties"]["_class"]][
            "fillColor"
        ]
        for feature in cells
    }
    assert fills == {
        HOTSPOT_COLOURS[3][1]: HOTSPOT_COLOURS[3][0],
        HOTSPOT_COLOURS[-2][1]: HOTSPOT_COLOURS[-2][0],
    }


def test_the_data_layers_script_keeps_the_analysts_switches_and_runs_once():
    script = data_layers_script(incidents=_incidents([QAA]), hotspots=_hotspot_cells())
    key = re.search(r'window.bordermonDataKey === ("[0-9a-f]{16}")', script).group(1)
    assert script.rstrip().endswith("})(window.bordermonMap, window.bordermonControl);")
    assert f"window.bordermonDataKey = {key};" in script  # a second run returns at once
    assert "shown[d.key] = map.hasLayer(d.layer);" in script  # switched off stays off
    assert 'key: "Hot spots"' in script and "under: true" in script  # under the sectors
    assert 'key: "Incidents"' in script  # the count is not part of the key


def test_build_map_sends_few_incidents_one_by_one_with_precision_circles():
    inc = _incidents([QAA, HERMEL], location_precision_m=[30_000.0, 10_000.0])
    html_text = build_map(incidents=inc).get_root().render()
    assert "L.markerClusterGroup" in html_text
    assert "[34.4217, 36.5433, 30000," in html_text.replace(".0,", ",")
    assert "[34.39417, 36.38472, 10000," in html_text.replace(".0,", ",")


def test_build_map_aggregates_many_incidents_into_hexagons():
    rng = np.random.default_rng(0)
    n = 100_000
    pts = list(zip(rng.uniform(35.9, 36.6, n), rng.uniform(33.4, 34.6, n), strict=True))
    inc = gpd.GeoDataFrame(
        {"type": ["seizure"] * n}, geometry=gpd.points_from_xy(*zip(*pts, strict=True)), crs=4326
    )
    html_text = build_map(border=_border(), incidents=inc).get_root().render()
    assert len(html_text) < 2_000_000
    assert "counted in 5 km hexagons" in html_text
    assert "L.markerClusterGroup" not in html_text


def test_towns_without_a_population_number_are_drawn():
    import geopandas as gpd
    from shapely.geometry import Point

    from mapview.builder import build_map

    # an object column of missing and empty values (the escaped display copy turns None
    # into "") raised "could not convert string to float" before
    towns = gpd.GeoDataFrame(
        {"name": ["A", "B", "C"], "population": [None, "", 1200]},
        geometry=[Point(36.0, 34.0), Point(36.1, 34.0), Point(36.2, 34.0)],
        crs=4326,
    )
    html = build_map(layers={"towns": towns})._repr_html_()
    assert "pop. 1,200" in html


def test_emerging_hot_spots_are_a_layer_with_a_legend():
    import geopandas as gpd
    from shapely.geometry import box

    from mapview.builder import build_map

    cells = gpd.GeoDataFrame(
        {
            "category": ["new hot spot", "persistent cold spot", "no pattern detected"],
            "count": [12, 0, 1],
            "hot_slices": [1, 0, 0],
            "cold_slices": [0, 11, 0],
            "trend_z": [0.5, -0.2, 0.0],
        },
        geometry=[
            box(36.0, 34.0, 36.03, 34.03),
            box(36.1, 34.0, 36.13, 34.03),
            box(36.2, 34.0, 36.23, 34.03),
        ],
        crs=4326,
    )
    html = build_map(emerging=cells)._repr_html_()
    assert "Emerging hot spots" in html
    assert "new hot spot" in html and "persistent cold spot" in html
    assert "#67000d" in html  # the new-hot-spot colour, in the style and the legend


def test_crossings_are_drawn_with_their_precision_and_unofficial_ones_apart():
    import geopandas as gpd
    from shapely.geometry import Point

    from mapview.builder import build_map

    def crossings(names, status, precision):
        return gpd.GeoDataFrame(
            {
                "name": names,
                "counterpart": ["<b>x</b>"] * len(names),
                "status": [status] * len(names),
                "location_precision_m": precision,
            },
            geometry=[Point(36.5433, 34.4217), Point(36.49, 34.455)][: len(names)],
            crs=4326,
        )

    import re

    html_text = (
        build_map(
            layers={
                "crossings": crossings(["Qaa"], "official", [3_000.0]),
                "unofficial_crossings": crossings(
                    ["a ford", "a path"], "unofficial", [16_500.0, 8e3]
                ),
            }
        )
        .get_root()
        .render()
    )
    # the tooltips travel inside the layer's JSON (\\uXXXX escapes): read them as text
    html_text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), html_text)
    assert "Official crossing: Qaa – &lt;b&gt;x&lt;/b&gt; (official) (position ± 3,000 m)" in (
        html_text
    )
    assert "Unofficial crossing (reported): a ford" in html_text
    assert "(position ± 16,500 m)" in html_text
    # one circle of each crossing's precision, in its own switchable group
    compact = html_text.replace(".0,", ",")
    assert '[34.4217, 36.5433, 3000, "#111"]' in compact
    assert '[34.4217, 36.5433, 16500, "#8c2d04"], [34.455, 36.49, 8000, "#8c2d04"]' in compact
    assert "Unofficial crossing location precision" in html_text
    assert "unofficial crossing (reported)" in html_text  # the legend
    assert "<b>x</b>" not in html_text


_SHAPES = st.sampled_from(["square", "point", "holed", "multi", "line", "none", "empty"])


def _shape(kind: str, x: float, y: float):
    from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

    return {
        "square": box(x, y, x + 0.013, y + 0.021),
        "point": Point(x, y),
        "holed": Polygon(
            [(x, y), (x + 4, y), (x + 4, y + 4)], [[(x + 2, y + 1), (x + 3, y + 1), (x + 3, y + 2)]]
        ),
        "multi": MultiPolygon([box(x, y, x + 1, y + 1), box(x + 2, y, x + 3, y + 1)]),
        "line": LineString([(x, y), (x + 1, y + 1)]),
        "none": None,
        "empty": Point(),
    }[kind]


@given(
    st.lists(
        st.tuples(
            _SHAPES,
            st.floats(-180, 180, allow_nan=False),
            st.floats(-80, 80, allow_nan=False),
            st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False)),
            st.one_of(st.none(), st.text(max_size=5)),
        ),
        min_size=1,
        max_size=12,
    ),
    st.booleans(),
)
def test_the_quick_geo_interface_writes_the_same_json_as_geopandas(rows, with_columns):
    from mapview.features import geo_interface

    frame = gpd.GeoDataFrame(
        {"value": [r[3] for r in rows], "label": [r[4] for r in rows]} if with_columns else {},
        geometry=[_shape(kind, x, y) for kind, x, y, _, _ in rows],
        crs=4326,
        index=[f"f{i}" for i in range(len(rows))][::-1],
    )
    assert json.dumps(geo_interface(frame)) == json.dumps(frame.__geo_interface__)
