"""The app's map: rendered once as streamlit-folium would, recoloured in place by the weights."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import pandas as pd
import pytest
import streamlit_folium as sf
from shapely.geometry import box

import layers
from mapview.builder import build_map
from mapview.sector_layer import sector_restyle_script, sector_styles
from webapp.map_panel import MAP_KEY, component_arguments, serialise_map

HEX_ID = re.compile(r"[0-9a-f]{32}")


def _sectors(ranks, unstable=None) -> gpd.GeoDataFrame:
    n = len(ranks)
    return gpd.GeoDataFrame(
        {
            "sector_id": list(range(1, n + 1)),
            "rank": ranks,
            "score": [1 - r / (n + 1) for r in ranks],
            "chainage_start_km": [5.0 * k for k in range(n)],
            "chainage_end_km": [5.0 * (k + 1) for k in range(n)],
            "unstable": unstable or [False] * n,
        },
        geometry=[box(36.0 + 0.05 * k, 34.0, 36.04 + 0.05 * k, 34.04) for k in range(n)],
        crs=4326,
    )


def _map(sectors):
    border = layers.load_layer("border")
    return build_map(border=border, layers={"towns": layers.load_layer("towns")}, sectors=sectors)


def test_the_rendered_parts_are_what_st_folium_sends(monkeypatch):
    sent = {}
    monkeypatch.setattr(sf, "_component_func", lambda **kwargs: sent.update(kwargs))
    sectors = _sectors([3, 1, 2])
    sf.st_folium(_map(sectors), key=MAP_KEY, returned_objects=[], height=600,
                 use_container_width=True)  # fmt: skip
    ours = component_arguments(serialise_map(_map(sectors)), update=None, height=600)
    for name in ("script", "header", "html", "id", "css_links", "js_links", "height", "width"):
        theirs, mine = sent[name], ours[name]
        if isinstance(theirs, str):  # folium's random ids differ from map to map
            theirs, mine = HEX_ID.sub("ID", theirs), HEX_ID.sub("ID", mine)
        assert mine == theirs, name
    assert ours["returned_objects"] == [] and ours["feature_group"] is None
    # nothing from a CDN: every script and stylesheet is a vendored copy
    assert all(link.startswith("/app/static/vendor/") for link in ours["js_links"])
    assert all(link.startswith("/app/static/vendor/") for link in ours["css_links"])


def _restyle_payload(script: str) -> dict:
    return json.loads(script[script.rindex("})(") + 3 : script.rindex(");")])


def test_the_recolouring_gives_each_sector_its_rank_score_and_class():
    sectors = _sectors([2, 1, 3, 4], unstable=[False, True, False, False])
    payload = _restyle_payload(sector_restyle_script(sectors, top_k=1))
    index, classes = sector_styles(sectors, top_k=1)
    assert payload["sectors"] == {
        "1": [2, pytest.approx(0.6), index[0]],
        "2": [1, pytest.approx(0.8), index[1]],
        "3": [3, pytest.approx(0.4), index[2]],
        "4": [4, pytest.approx(0.2), index[3]],
    }
    styles = payload["styles"]
    # rank 1 is the darkest class, dashed because unstable; the shared outline colour too
    assert styles[index[1]]["fillColor"] == "#a50f15" and styles[index[1]]["dashArray"] == "4 3"
    assert styles[index[0]]["dashArray"] is None and styles[index[0]]["color"] == "#67000d"
    assert len(styles) == len(classes)


def test_the_drawn_sectors_register_themselves_for_the_recolouring():
    parts = serialise_map(_map(_sectors([1, 2])))
    assert "window.bordermonSectors" in parts.script
    # a map without the weights' script shows the ranks it was built with
    assert '"rank": 1' in parts.script or '"rank":1' in parts.script


def test_the_recolouring_carries_no_text_of_the_user():
    sectors = _sectors([1, 2])
    sectors["nearest_town_name"] = "<script>alert(1)</script>"
    script = sector_restyle_script(sectors)
    assert "<" not in script and "alert" not in script
    assert set(_restyle_payload(script)) == {"styles", "sectors"}
    assert pd.Series(list(_restyle_payload(script)["sectors"])).str.isdigit().all()
