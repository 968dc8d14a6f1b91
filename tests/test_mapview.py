"""Tests of mapview: escaping of user text, vendored assets and the folium map."""

from __future__ import annotations

import html
import json
import shutil
import subprocess

import folium
import folium.plugins
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import ConfigurationError
from mapview import escape_frame, escape_text
from mapview.assets import CSS_FILES, JS_FILES, localize_assets, vendor_path

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
