"""The running app in a real browser (Debian's Chromium driven by Playwright).

What only a browser shows: the map frame draws the border and the sectors from
the vendored Leaflet, an upload goes through, hostile incident text fires no
dialog when its popup and tooltip open, and no request leaves 127.0.0.1.

Issue 11: a file whose name is HTML, with every text field a payload
(tests/hostile_fixtures.py), runs nothing in the upload report, the stored batches,
the map's popups and tooltips and the ranked table; nor does the standalone
map.html of ``python -m geo report``, opened from a file:// URL.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from hostile_fixtures import FILE_NAME

import layers
from geo import settings

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PAYLOADS = ["<img src=x onerror=alert(1)>", "${alert(1)}"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not os.environ.get("CI"),
        reason="chromium is not installed (CI installs it: .ci/run)",
    ),
]

# Records every Leaflet map created in any frame, so the test can open popups.
_HOOK_MAPS = """
(() => {
  let leaflet;
  Object.defineProperty(window, "L", {
    configurable: true,
    get() { return leaflet; },
    set(value) {
      leaflet = value;
      try {
        value.Map.addInitHook(function () { (window.__maps = window.__maps || []).push(this); });
      } catch (e) {}
    },
  });
})();
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Start the app on a free 127.0.0.1 port with its own store; yield its URL."""
    store = tmp_path_factory.mktemp("browser") / "incidents.gpkg"
    port = _free_port()
    env = dict(os.environ, **{settings.STORE_ENV_VAR: str(store)})
    log = (tmp_path_factory.getbasetemp() / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"streamlit did not start; see {log.name}")
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield b
        b.close()


def _hostile_upload(tmp_path: Path) -> Path:
    """Two incidents at a real border point whose descriptions are script payloads."""
    point = layers.load_border_line().interpolate(0.5, normalized=True)
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": f"XSS-{i}",
                "date": "2025-06-01",
                "type": "smuggling",
                "description": payload,
                "source": payload,
                "location_precision_m": 1000,
            },
            "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
        }
        for i, payload in enumerate(PAYLOADS)
    ]
    path = tmp_path / "hostile.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_map_upload_escaping_and_no_outside_request(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(_HOOK_MAPS)
    page = context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server)
    page.get_by_text("Lebanon–Syria border monitor").first.wait_for(timeout=60_000)

    # The map frame: Leaflet from static/vendor, with the border and the sectors.
    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    overlays = frame.locator(".leaflet-control-layers-overlays")
    overlays.wait_for(state="attached", timeout=30_000)
    labels = overlays.inner_text()
    assert "Border" in labels
    assert "Priority sectors" in labels
    assert "Border:" in frame.locator(".leaflet-control-attribution").inner_text()
    assert "Sector priority" in frame.locator(".bordermon-legend").inner_text()
    assert frame.locator(".leaflet-control-scale").count() == 1

    # Upload the hostile incidents and commit them.
    page.get_by_role("tab", name="Upload").click()
    page.locator("input[type=file]").set_input_files(str(_hostile_upload(tmp_path)))
    commit = page.get_by_role("button", name="Commit 2 valid incident(s)")
    commit.wait_for(timeout=60_000)
    commit.click()
    page.get_by_text("Stored 2 incident(s)").wait_for(timeout=60_000)

    # Back on the map: open every popup and tooltip; nothing may run.
    page.get_by_role("tab", name="Map and ranking").click()
    # while the page reruns the old map frame is kept until the new one replaces it
    page.wait_for_function(
        "() => document.querySelectorAll(\"iframe[title='streamlit_folium.st_folium']\")"
        ".length === 1",
        timeout=60_000,
    )
    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
    frame.locator(".leaflet-container").wait_for(timeout=60_000)
    map_frame = (
        page.locator("iframe[title='streamlit_folium.st_folium']").element_handle().content_frame()
    )
    # Open every popup and tooltip of the current map until the hostile ones have been shown
    # (the rerun after the upload may still be replacing the map). The bundled record has
    # more incidents than are drawn one by one, so most markers sit inside clusters, off
    # the map: their popups and tooltips are opened on the map at the marker's position.
    shown = map_frame.wait_for_function(
        f"() => {{ const t = ({_OPEN_ALL})(); "
        "return t && t.includes('XSS-0') && t.includes('XSS-1') ? t : false; }",
        timeout=60_000,
        polling=200,
    )
    texts = [shown.json_value()]
    page.wait_for_timeout(1000)  # give any injected handler time to fire
    assert dialogs == []
    joined = "\n".join(texts)
    for payload in PAYLOADS:
        assert payload in joined  # shown as text, not run
    assert map_frame.evaluate("() => document.querySelectorAll('img[src=\"x\"]').length") == 0

    # Choosing a sector in the ranked table zooms the map to it.
    zoom_js = "() => { const m = window.__maps[window.__maps.length - 1]; return m.getZoom(); }"
    whole_border = map_frame.evaluate(zoom_js)
    table = page.locator("[data-testid='stDataFrame']").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 52)  # the first row's selection box
    map_frame.wait_for_function(
        f"() => window.__maps[window.__maps.length - 1].getZoom() > {whole_border} + 2",
        timeout=30_000,
        polling=200,
    )

    outside = [u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
               and urlsplit(u).hostname != "127.0.0.1"]  # fmt: skip
    assert outside == []
    assert any("/app/static/vendor/leaflet/leaflet.js" in u for u in requests)
    context.close()


# --- issue 11: every text a person sees, and the file's name, in the app and in map.html ---

# Opens every popup and tooltip of the last Leaflet map; returns the popups' text.
_OPEN_ALL = """() => {
    const maps = window.__maps || [];
    if (!maps.length) { return null; }
    const m = maps[maps.length - 1];
    const texts = [];
    // markers inside a cluster are off the map: open theirs on the map at their position
    const visit = (layer) => {
        if (layer.getLayers) { layer.getLayers().forEach(visit); }
        const popup = layer.getPopup && layer.getPopup();
        if (popup) {
            if (layer._map) { layer.openPopup(); }
            else if (layer.getLatLng) { m.openPopup(popup.setLatLng(layer.getLatLng())); }
            const el = popup.getElement();
            if (el) { texts.push(el.innerText); }
        }
        const tip = layer.getTooltip && layer.getTooltip();
        if (tip) {
            if (layer._map) { layer.openTooltip(); }
            else if (layer.getLatLng) { m.openTooltip(tip.setLatLng(layer.getLatLng())); }
        }
    };
    m.eachLayer(visit);
    return texts.join("\\n");
}"""
# Elements a payload would have made: event handlers, javascript: links, the img of src x.
_INJECTED = """() => document.querySelectorAll(
    '[onerror], [onload], [onclick], [onmouseover], a[href^="javascript:"], img[src="x"]'
).length"""


def _flat(text: str) -> str:
    return " ".join(text.split())


def _assert_literal(popups: str, *, file_stem: str | None = None) -> None:
    """Each payload the popups show is there as text (escaped HTML reads as the original)."""
    from hostile_fixtures import payload

    shown = _flat(popups)
    for field in ("description", "source", "location_note", "commodity", "unit"):
        assert _flat(payload(field)) in shown, field
    assert "H-1<b>${x}</b>" in shown  # an id, as given
    if file_stem:
        assert f"Id: {file_stem}-" in shown  # the id generated from the file's name


def test_standalone_map_html_runs_nothing_from_a_file_url(browser, hostile_report):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    context.add_init_script(_HOOK_MAPS)
    page = context.new_page()
    dialogs: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(hostile_report["html"].as_uri())
    page.locator(".leaflet-container").wait_for(timeout=30_000)
    popups = page.wait_for_function(
        f"() => {{ const t = ({_OPEN_ALL})(); return t && t.includes('H-1') ? t : false; }}",
        polling=500,
        timeout=30_000,
    ).json_value()
    page.wait_for_timeout(1000)  # give any injected handler time to fire
    assert dialogs == []
    assert page.evaluate(_INJECTED) == 0
    _assert_literal(popups, file_stem=Path(FILE_NAME).stem)
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    context.close()


def _wait_for_the_run(page) -> None:
    """Wait until the page's script run has ended and no element of the last run is left."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=60_000
    )
    page.wait_for_function(
        "() => document.querySelectorAll('[data-stale=\"true\"]').length === 0",
        timeout=30_000,
    )


def test_hostile_file_name_and_fields_run_nothing_in_the_app(server, browser):
    from hostile_fixtures import hostile_features, payload

    features = hostile_features(fraction=0.3)
    rejected = json.loads(json.dumps(features[1]))
    rejected["properties"].update(id="H-rejected", type=payload("type"))
    document = {"type": "FeatureCollection", "features": [*features, rejected]}
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(_HOOK_MAPS)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server)
    page.get_by_text("Lebanon–Syria border monitor").first.wait_for(timeout=60_000)

    # The upload report: the file's name in the uploader, the counts, the rejected feature
    # (its hostile type in the problems table) and the preview of the accepted ones.
    page.get_by_role("tab", name="Upload").click()
    page.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": FILE_NAME,
                "mimeType": "application/geo+json",
                "buffer": json.dumps(document).encode(),
            }
        ]
    )
    commit = page.get_by_role("button", name=f"Commit {len(features)} valid incident(s)")
    commit.wait_for(timeout=60_000)
    chip = page.locator("[data-testid='stFileChipName']").first  # shortened in the middle
    assert chip.get_attribute("title") == FILE_NAME  # the name as text, not run
    assert chip.inner_text().startswith("<img ")
    page.get_by_text("1 feature(s) rejected").wait_for(timeout=30_000)
    commit.click()
    page.get_by_text(f"Stored {len(features)} incident(s)").wait_for(timeout=60_000)
    _wait_for_the_run(page)  # until then the old "Stored batches" may sit beside the new
    page.get_by_text("Stored batches").first.click()  # the batches, with the file's name
    batches = page.locator("[data-testid='stExpander']").filter(has_text="Stored batches")
    batches.locator("[data-testid='stDataFrame']").wait_for(timeout=30_000)

    # The map: every popup and tooltip opened; the ranked table below it, a row chosen.
    page.get_by_role("tab", name="Map and ranking").click()
    page.wait_for_function(
        "() => document.querySelectorAll(\"iframe[title='streamlit_folium.st_folium']\")"
        ".length === 1",
        timeout=60_000,
    )
    frame = page.locator("iframe[title='streamlit_folium.st_folium']")
    page.frame_locator("iframe[title='streamlit_folium.st_folium']").locator(
        ".leaflet-container"
    ).wait_for(timeout=60_000)
    map_frame = frame.element_handle().content_frame()
    popups = map_frame.wait_for_function(  # the map after the upload: it has H-1
        f"() => {{ const t = ({_OPEN_ALL})(); return t && t.includes('H-1') ? t : false; }}",
        polling=500,  # each poll opens every popup: unescaped, a storm of dialogs
        timeout=60_000,
    ).json_value()
    table = page.locator("[data-testid='stDataFrame']").first
    table.scroll_into_view_if_needed()
    box = table.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 52)  # the first row of the ranked table
    page.wait_for_timeout(1500)  # give any injected handler time to fire

    assert dialogs == []
    assert page.evaluate(_INJECTED) == 0
    assert map_frame.evaluate(_INJECTED) == 0
    _assert_literal(popups, file_stem=Path(FILE_NAME).stem)
    context.close()


_SECTORS_JS = (
    "() => Object.fromEntries(Object.entries(window.bordermonSectors || {}).map("
    "([id, layer]) => [id, [layer.feature.properties.rank, layer.options.fillColor]]))"
)


def test_a_weight_change_recolours_the_sectors_of_the_map_in_place(server, browser):
    from mapview.sector_layer import priority_class

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.get_by_text("Lebanon–Syria border monitor").first.wait_for(timeout=60_000)
    page.frame_locator("iframe[title='streamlit_folium.st_folium']").locator(
        ".leaflet-container"
    ).wait_for(timeout=60_000)
    map_frame = (
        page.locator("iframe[title='streamlit_folium.st_folium']").element_handle().content_frame()
    )
    map_frame.wait_for_function(
        "() => Object.keys(window.bordermonSectors || {}).length > 10", timeout=60_000, polling=200
    )
    map_frame.evaluate("() => { window.__sameMap = 'yes'; }")
    before = map_frame.evaluate(_SECTORS_JS)

    # the exposure weight to 0: the page reruns and ranks the sectors anew
    slider = page.locator("[data-testid='stSlider']").filter(has_text="exposure")
    slider.get_by_role("slider").focus()
    page.keyboard.press("Home")
    map_frame.wait_for_function(
        "(b) => Object.entries(window.bordermonSectors).some("
        "([id, layer]) => layer.feature.properties.rank !== b[id][0])",
        arg=before,
        timeout=60_000,
        polling=200,  # by time: an animation frame may never come to a frame out of view
    )
    page.wait_for_timeout(500)  # the rerun has finished drawing
    after = map_frame.evaluate(_SECTORS_JS)
    # the same map (not mounted again), every sector coloured by its new rank's class
    assert map_frame.evaluate("() => window.__sameMap") == "yes"
    assert after.keys() == before.keys()
    assert all(colour == priority_class(int(rank))[0] for rank, colour in after.values())
    assert sorted(rank for rank, _ in after.values()) == list(range(1, len(after) + 1))
    page.close()


def _data_layer_js(key: str) -> str:
    return f"window.bordermonData.find(function (d) {{ return d.key === {key!r}; }})"


def test_a_filter_change_redraws_the_data_layers_in_the_same_map(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(server)
    page.get_by_text("Lebanon–Syria border monitor").first.wait_for(timeout=60_000)
    frame = page.locator("iframe[title='streamlit_folium.st_folium']")
    frame.element_handle(timeout=60_000)
    map_frame = frame.element_handle().content_frame()
    # polled by time: an animation frame may never come to a frame scrolled out of view
    map_frame.wait_for_function(
        "() => (window.bordermonData || []).length >= 3", timeout=60_000, polling=200
    )
    _wait_for_the_run(page)
    map_frame.evaluate("() => { window.__sameMap = 'yes'; }")
    incidents = _data_layer_js("Incidents")
    before = map_frame.evaluate(f"() => {incidents}.label")
    keys = map_frame.evaluate("() => window.bordermonData.map(function (d) { return d.key; })")
    assert {"Hot spots", "Incident density", "Incidents"} <= set(keys)
    # the analyst switches the density off in the layer control
    map_frame.locator(".leaflet-control-layers").hover()
    map_frame.locator(".leaflet-control-layers-overlays label").filter(
        has_text="Incident density"
    ).locator("input").click()
    density_on = f"() => window.bordermonMap.hasLayer({_data_layer_js('Incident density')}.layer)"
    assert map_frame.evaluate(density_on) is False

    # one type fewer in the sidebar's filter: the page reruns with fewer incidents
    page.get_by_role("button", name="Remove seizure").click()
    map_frame.wait_for_function(
        f"(b) => {incidents}.label !== b", arg=before, timeout=60_000, polling=200
    )
    _wait_for_the_run(page)
    after = map_frame.evaluate(f"() => {incidents}.label")
    count = lambda label: int(label.split("(", 1)[1].split(")")[0].replace(",", ""))  # noqa: E731
    assert 0 < count(after) < count(before)
    # the same map (not mounted again), the density still off as the analyst left it,
    # each data layer once in the layer control, the legend without seizures
    assert map_frame.evaluate("() => window.__sameMap") == "yes"
    assert map_frame.evaluate(density_on) is False
    assert map_frame.evaluate(f"() => window.bordermonMap.hasLayer({incidents}.layer)") is True
    labels = map_frame.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    assert sum("Incidents (" in label for label in labels) == 1
    assert sum("Incident density" in label for label in labels) == 1
    legend = map_frame.locator(".bordermon-data-legend").inner_text()
    assert "seizure" not in legend and "clash" in legend
    page.close()
