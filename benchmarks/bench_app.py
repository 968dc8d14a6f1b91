"""Measure the app: bytes sent for the map, time to first render, rerun after a filter change.

Run: ``python benchmarks/bench_app.py`` (add ``--browser`` for the time to first render in
Chromium). Prints a table. The 100,000 incidents are synthetic: the bundled sample's real
positions repeated with Gaussian jitter of 5 km (only to load the map, never stored).

What "bytes sent for the map" means: the arguments streamlit-folium sends over the websocket
for the map component (its script, header and HTML), measured on the map the app builds;
the vendored Leaflet files are listed separately (fetched once, then cached by the browser).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import layers  # noqa: E402
from geo import settings  # noqa: E402
from mapview.assets import CSS_FILES, JS_FILES, vendor_path  # noqa: E402
from mapview.builder import build_map  # noqa: E402

REFERENCE = ("border_candidates", "countries", "regions", "towns", "crossings")


def component_bytes(m) -> int:
    """Return the size of what st_folium sends for map ``m`` (script + header + HTML)."""
    import streamlit_folium as sf

    m.get_root().render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    return len(script.encode()) + len(header.encode()) + len(html.encode())


def reference_layers() -> tuple[gpd.GeoDataFrame | None, dict[str, gpd.GeoDataFrame]]:
    found = {}
    for name in REFERENCE:
        try:
            found[name] = layers.load_layer(name)
        except Exception as exc:  # a layer not built
            print(f"  (layer {name} missing: {exc})")
    return layers.load_layer("border"), found


def synthetic(n: int, base: gpd.GeoDataFrame, seed: int = 0) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    metric = base.to_crs(settings.METRIC_CRS)
    pick = rng.integers(0, len(metric), n)
    x = metric.geometry.x.to_numpy()[pick] + rng.normal(0, 5000, n)
    y = metric.geometry.y.to_numpy()[pick] + rng.normal(0, 5000, n)
    out = base.iloc[pick].drop(columns=base.geometry.name).reset_index(drop=True)
    geometry = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=settings.METRIC_CRS).to_crs(4326)
    return gpd.GeoDataFrame(out, geometry=geometry.to_numpy(), crs=4326)


def bench_map(rows: list[tuple[str, str]]) -> None:
    from geo.analysis import AnalysisParameters, run_analysis

    border, found = reference_layers()
    sample = gpd.read_file(ROOT / "data" / "sample_incidents.geojson")
    sample["date"] = pd.to_datetime(sample["date"])
    empty = gpd.GeoDataFrame(geometry=[], crs=4326)
    t = time.perf_counter()
    result = run_analysis(
        sample,
        AnalysisParameters(),
        towns=found.get("towns", empty),
        crossings=found.get("crossings", empty),
        countries=found.get("countries", empty),
        candidates=found.get("border_candidates", empty),
    )
    rows.append(("analysis of the bundled sample (s)", f"{time.perf_counter() - t:.2f}"))
    sectors = result.ranked
    for label, incidents in [
        ("bundled data", sample),
        ("100,000 incidents", synthetic(100_000, sample)),
    ]:
        t = time.perf_counter()
        m = build_map(
            border=border, layers=found, incidents=incidents, density=result.density,
            sectors=sectors,
        )  # fmt: skip
        size = component_bytes(m)
        elapsed = time.perf_counter() - t
        rows.append((f"map bytes sent, {label} (MB)", f"{size / 1e6:.2f}"))
        rows.append((f"map build + serialise, {label} (s)", f"{elapsed:.2f}"))
    vendor = sum(
        vendor_path(p).stat().st_size for p in [*JS_FILES.values(), *CSS_FILES.values()] if p
    )
    rows.append(("vendored Leaflet/jQuery/markercluster, once (MB)", f"{vendor / 1e6:.2f}"))


def synthetic_store(path: Path, n: int) -> None:
    """Create a store at ``path`` holding ``n`` synthetic incidents (see :func:`synthetic`).

    Load only: the sample's real positions jittered by 5 km, ids ``SYN-<i>``, marked as
    synthetic in their description and source; never written outside the temporary folder.
    """
    from geo.ingest import store_report, validate_file
    from geo.store import open_store
    from layers.reference import ReferenceLayers

    sample = gpd.read_file(ROOT / "data" / "sample_incidents.geojson")
    frame = synthetic(n, sample)
    frame["id"] = [f"SYN-{i}" for i in range(n)]
    frame["description"] = "synthetic benchmark incident"
    frame["source"] = "benchmarks/bench_app.py (synthetic)"
    frame["date"] = pd.to_datetime(frame["date"]).dt.strftime("%Y-%m-%d")
    data = frame.to_json(na="drop").encode()
    store = open_store(path, create=True)
    border = ReferenceLayers.bundled().line
    report = validate_file(
        data, filename="synthetic.geojson", existing=store, border=border, max_bytes=len(data)
    )
    store_report(store, report, accept_partial=True)


def bench_reruns(rows: list[tuple[str, str]], n_incidents: int = 0) -> None:
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        os.environ[settings.STORE_ENV_VAR] = str(Path(tmp) / "incidents.gpkg")
        if n_incidents:
            synthetic_store(Path(tmp) / "incidents.gpkg", n_incidents)
        t = time.perf_counter()
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600).run()
        rows.append(("first script run, cold caches (s)", f"{time.perf_counter() - t:.2f}"))
        t = time.perf_counter()
        at.run()
        rows.append(("rerun, nothing changed (s)", f"{time.perf_counter() - t:.2f}"))
        types = next(m for m in at.multiselect if m.label == "Incident types")
        t = time.perf_counter()
        types.set_value(["clash", "seizure"]).run()
        rows.append(("rerun after a type filter change (s)", f"{time.perf_counter() - t:.2f}"))
        t = time.perf_counter()
        types.set_value(list(settings.INCIDENT_TYPES)).run()
        rows.append(("rerun back to a cached filter (s)", f"{time.perf_counter() - t:.2f}"))
        for value in (0.9, 0.3):  # two weights never used before: no cache hit
            t = time.perf_counter()
            at.slider(key="w_exposure").set_value(value).run()
            rows.append(
                (f"rerun after a weight change (exposure {value}) (s)",
                 f"{time.perf_counter() - t:.2f}")
            )  # fmt: skip
        t = time.perf_counter()
        at.slider(key="w_line_uncertainty").set_value(0.5).run()
        rows.append(("rerun after another weight change (s)", f"{time.perf_counter() - t:.2f}"))
        t = time.perf_counter()
        types.set_value(["seizure", "smuggling"]).run()
        rows.append(("rerun after a type filter change, new weights (s)",
                     f"{time.perf_counter() - t:.2f}"))  # fmt: skip
        assert not at.exception


def bench_browser(rows: list[tuple[str, str]]) -> None:
    from playwright.sync_api import sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, **{settings.STORE_ENV_VAR: str(Path(tmp) / "incidents.gpkg")})
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
                    break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--headless", "--no-sandbox", "--disable-gpu"],
                )
                for label in ("cold server caches", "warm server caches"):
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    received = []

                    def on_frame(payload, store=received):
                        store.append(payload)

                    page.on("websocket", lambda ws, cb=on_frame: ws.on("framereceived", cb))
                    t = time.perf_counter()
                    page.goto(url)
                    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
                    frame.locator(".leaflet-control-layers").wait_for(
                        state="attached", timeout=120_000
                    )
                    elapsed = time.perf_counter() - t
                    page.wait_for_timeout(500)
                    ws_bytes = sum(len(f) if isinstance(f, bytes | str) else 0 for f in received)
                    rows.append((f"browser: page open to map drawn, {label} (s)", f"{elapsed:.2f}"))
                    rows.append((f"browser: websocket bytes received, {label} (MB)",
                                 f"{ws_bytes / 1e6:.2f}"))  # fmt: skip
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also time the page in Chromium")
    parser.add_argument("--reruns-only", action="store_true", help="only the AppTest reruns")
    parser.add_argument(
        "--store-incidents",
        type=int,
        default=0,
        metavar="N",
        help="time the reruns on a store of N synthetic incidents (default: the bundled sample)",
    )
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    if not args.reruns_only:
        bench_map(rows)
    bench_reruns(rows, args.store_incidents)
    if args.browser:
        bench_browser(rows)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  -----")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
