"""Measure the app: each click's rerun, the map drawn in Chromium, memory, bytes sent.

Run: ``python benchmarks/bench_app.py`` on the bundled record, ``--store-incidents
100000`` on a store of 100,000 synthetic incidents (the bundled record's real positions
repeated with Gaussian jitter of 5 km, stored in a temporary folder, never elsewhere),
``--browser`` to add the page in Chromium (``--browser-only``: nothing else), ``--reruns-only``
to skip the map-size part.
Prints a table. Targets on a 2-core machine with 100,000 incidents (issue 13): a rerun
with nothing changed under 0.15 s, a weight change under 0.3 s, a date or type filter
change under 0.6 s, server start to map drawn under 3 s and on a warm server under
1.5 s, memory after 50 varied reruns under 1.5 GB and no longer growing.

The reruns are AppTest's: the page's script run as the server runs it (AppTest adds
its own few milliseconds). Map bytes: what the map component's arguments carry over the
websocket on each run (the reference map's script, header and HTML, and the data layers'
script); the vendored Leaflet files are listed separately (fetched once, then cached by
the browser). The whole map (all layers in one) is the downloaded ``map.html``'s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
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
from mapview.builder import (  # noqa: E402
    build_map,
    build_reference_map,
    data_layers_script,
    density_image,
)


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
    """Time the map as the app makes it (build, then render once) and its size."""
    from geo.analysis import AnalysisParameters, run_analysis
    from layers.reference import ReferenceLayers
    from webapp.map_panel import serialise_map

    found, missing = layers.load_map_layers()
    for message in missing:
        print(f"  ({message})")
    border = found.pop("border")
    reference = ReferenceLayers.bundled()
    sample = gpd.read_file(ROOT / "data" / "sample_incidents.geojson")
    sample["date"] = pd.to_datetime(sample["date"])
    for label, incidents in [
        ("bundled data", sample),
        ("100,000 incidents", synthetic(100_000, sample)),
    ]:
        t = time.perf_counter()
        result = run_analysis(incidents, AnalysisParameters(), reference=reference)
        rows.append((f"analysis, {label} (s)", f"{time.perf_counter() - t:.2f}"))
        hotspots = getattr(result.hotspots, "cells", None)
        t = time.perf_counter()
        m = build_map(
            border=border, layers=found, incidents=incidents, density=result.density,
            sectors=result.ranked, hotspots=hotspots,
        )  # fmt: skip
        built = time.perf_counter() - t
        whole = serialise_map(m)
        rendered = time.perf_counter() - t - built
        rows.append((f"whole map (map.html) build, {label} (s)", f"{built:.2f}"))
        rows.append((f"whole map (map.html) render, {label} (s)", f"{rendered:.2f}"))
        t = time.perf_counter()
        parts = serialise_map(
            build_reference_map(border=border, layers=found, sectors=result.ranked)
        )
        rows.append((f"app's reference map, once per sector layout, {label} (s)",
                     f"{time.perf_counter() - t:.2f}"))  # fmt: skip
        t = time.perf_counter()
        overlay = density_image(result.density)
        rows.append((f"density image, per filter change, {label} (s)",
                     f"{time.perf_counter() - t:.2f}"))  # fmt: skip
        t = time.perf_counter()
        script = data_layers_script(
            incidents=incidents, density=result.density, density_overlay=overlay,
            hotspots=hotspots,
        )  # fmt: skip
        rows.append((f"data layers' script, per filter change, {label} (s)",
                     f"{time.perf_counter() - t:.2f}"))  # fmt: skip
        rows.append((f"whole map bytes, {label} (MB)", f"{whole.size / 1e6:.2f}"))
        rows.append((f"reference map bytes, {label} (MB)", f"{parts.size / 1e6:.2f}"))
        rows.append((f"data layers bytes, {label} (MB)", f"{len(script) / 1e6:.2f}"))
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


def rss_mb() -> float:
    """Return this process's resident memory (MB), from ``/proc/self/status``."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")  # pragma: no cover - Linux only


class CollectorPauses:
    """Record the cyclic garbage collector's pauses (``gc.callbacks``) while active."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._start = 0.0

    def start(self) -> None:
        """Start recording."""
        gc.callbacks.append(self._record)

    def stop(self) -> None:
        """Stop recording."""
        gc.callbacks.remove(self._record)

    def _record(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._start))


def _timed(rows: list[tuple[str, str]], label: str, action) -> float:
    t = time.perf_counter()
    action()
    elapsed = time.perf_counter() - t
    rows.append((label, f"{elapsed:.3f}"))
    return elapsed


def bench_reruns(rows: list[tuple[str, str]], n_incidents: int = 0, varied: int = 50) -> None:
    """Time the page's reruns through AppTest (the script run, as the server runs it).

    Every change uses values not used before (no cache hit by chance). Then ``varied``
    reruns cycle through weights, types and dates, and the process's memory is read
    after each: it must stay under 1.5 GB and stop growing.
    """
    from streamlit.testing.v1 import AppTest

    with tempfile.TemporaryDirectory() as tmp:
        os.environ[settings.STORE_ENV_VAR] = str(Path(tmp) / "incidents.gpkg")
        if n_incidents:
            synthetic_store(Path(tmp) / "incidents.gpkg", n_incidents)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        _timed(rows, "first script run, cold caches (s)", at.run)
        pauses = CollectorPauses()  # from here to the last varied rerun
        pauses.start()
        for k in range(3):
            _timed(rows, f"rerun, nothing changed ({k + 1}) (s)", at.run)
        for k, value in enumerate((0.9, 0.3, 0.55)):
            slider = at.slider(key="w_exposure")
            _timed(rows, f"weight change, ranking and map ({k + 1}) (s)",
                   lambda s=slider, v=value: s.set_value(v).run())  # fmt: skip
        types = next(m for m in at.multiselect if m.label == "Incident types")
        for k, chosen in enumerate((["clash", "seizure"], ["smuggling", "seizure", "strike"])):
            _timed(rows, f"type filter change ({k + 1}) (s)",
                   lambda c=chosen: types.set_value(c).run())  # fmt: skip
        dates = at.date_input(key="dates")
        first, last = dates.value
        span = (last - first).days
        for k, cut in enumerate((0.25, 0.5)):
            since = first + dt.timedelta(days=int(span * cut))
            _timed(rows, f"date filter change ({k + 1}) (s)",
                   lambda s=since: dates.set_value((s, last)).run())  # fmt: skip

        def back() -> None:  # fresh elements: a stale one would run its own, older page
            at.date_input(key="dates").set_value((first, last))
            next(m for m in at.multiselect if m.label == "Incident types").set_value(
                list(settings.INCIDENT_TYPES)
            )
            at.run()

        _timed(rows, "back to the first filters, cached (s)", back)
        assert not at.exception, at.exception
        memory = [rss_mb()]
        rng = np.random.default_rng(0)
        kinds = list(settings.INCIDENT_TYPES)
        for k in range(varied):
            if k % 3 == 0:
                at.slider(key="w_exposure").set_value(float(rng.choice([0.1, 0.4, 0.7, 1.0])))
            elif k % 3 == 1:
                types.set_value(sorted(rng.choice(kinds, size=3, replace=False).tolist()))
            else:
                cut = int(rng.integers(0, 4))
                dates.set_value((first + dt.timedelta(days=span * cut // 8), last))
            at.run()
            memory.append(rss_mb())
        pauses.stop()
        assert not at.exception, at.exception
        full = [t for g, t in pauses.pauses if g == 2]
        rows.append(("collector after the first run: full scans, longest pause (s)",
                     f"{len(full)}, {max(full, default=0.0):.3f}"))  # fmt: skip
        rows.append(("collector after the first run: all pauses, in total (s)",
                     f"{sum(t for _, t in pauses.pauses):.3f}"))  # fmt: skip
        rows.append(("memory before the varied reruns (MB)", f"{memory[0]:.0f}"))
        for k in (10, 25, 50):
            if k <= varied:
                rows.append((f"memory after {k} varied reruns (MB)", f"{memory[k]:.0f}"))
        if varied >= 50:
            rows.append(("growth from rerun 25 to 50 (MB)", f"{memory[50] - memory[25]:+.0f}"))


#: Seconds between the server's start and the first visit timed after the warm-up.
WARM_UP_WAIT_S = 20.0


def _start_server(script: str, port: int, env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    """Start ``streamlit run script`` on ``port``; return it and the seconds until it answers."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return proc, time.perf_counter() - started
        except OSError:
            time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _open_map(page, url: str) -> float:
    """Open the app's page; return the seconds until the map and its data layers are drawn."""
    t = time.perf_counter()
    page.goto(url)
    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']")
    frame.locator(".leaflet-control-layers").wait_for(state="attached", timeout=180_000)
    # and its data layers drawn (they fill their rows of the legend)
    frame.locator(".bordermon-data-legend *").first.wait_for(state="attached", timeout=180_000)
    return time.perf_counter() - t


def _open_floor(page, url: str) -> float:
    """Open the floor page; return the seconds until its title is drawn."""
    t = time.perf_counter()
    page.goto(url)
    page.get_by_text("Streamlit's floor").wait_for(state="attached", timeout=60_000)
    return time.perf_counter() - t


#: Sliders in the app's sidebar (sector length, corridor and one per criterion weight).
CONTROL_SLIDERS = 2 + len(settings.CRITERION_NAMES)


def _open_controls(page, url: str) -> float:
    """Open the controls' floor page; return the seconds until every control is drawn."""
    t = time.perf_counter()
    page.goto(url)
    page.get_by_text("The controls are drawn.").wait_for(state="attached", timeout=60_000)
    sliders = page.locator("[data-testid='stSlider']")
    sliders.nth(CONTROL_SLIDERS - 1).wait_for(state="attached", timeout=60_000)
    return time.perf_counter() - t


def bench_browser(rows: list[tuple[str, str]], n_incidents: int = 0) -> None:
    """Time the page in Chromium: server start to map drawn, then a warm server.

    The server runs on a free loopback port with the store of ``n_incidents``
    synthetic incidents (or the bundled record). Each "fresh browser" page is a new
    browser context (nothing cached); "reloaded" pages share one context, as an
    analyst's browser keeps Streamlit's scripts (served as immutable). The same is
    measured for :mod:`streamlit_floor` (a page with a title only): the floor
    Streamlit's frontend sets on this machine; and for :mod:`streamlit_controls_floor`
    (the app's title and sidebar controls, nothing computed).
    """
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "incidents.gpkg"
        if n_incidents:
            synthetic_store(store, n_incidents)
        env = dict(os.environ, **{settings.STORE_ENV_VAR: str(store)})
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--headless", "--no-sandbox", "--disable-gpu"],
            )
            try:
                for script, label, open_page in (
                    ("app.py", "the map", _open_map),
                    ("benchmarks/streamlit_floor.py", "floor: a title only", _open_floor),
                    (
                        "benchmarks/streamlit_controls_floor.py",
                        "floor: the app's controls only",
                        _open_controls,
                    ),
                ):
                    port = _free_port()
                    url = f"http://127.0.0.1:{port}"
                    proc, up = _start_server(script, port, env)
                    try:
                        _time_pages(rows, browser, url, label, up, open_page)
                    finally:
                        proc.terminate()
                        proc.wait(timeout=10)
                # The first visit some time after a restart: the start-up hook has computed
                # the default page (webapp.warmup) by then.
                port = _free_port()
                proc, up = _start_server("app.py", port, env)
                try:
                    time.sleep(WARM_UP_WAIT_S)
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    elapsed = _open_map(page, f"http://127.0.0.1:{port}")
                    page.close()
                    rows.append((f"browser, the map: first page open until drawn, opened "
                                 f"{WARM_UP_WAIT_S:g} s after the server answered (s)",
                                 f"{elapsed:.2f}"))  # fmt: skip
                finally:
                    proc.terminate()
                    proc.wait(timeout=10)
            finally:
                browser.close()


def _time_pages(rows, browser, url: str, label: str, up: float, open_page) -> None:
    """Time one server's pages: fresh, warm with a fresh browser, reloaded with a cache."""
    rows.append((f"browser, {label}: server process started until it answers (s)",
                 f"{up:.2f}"))  # fmt: skip
    for case in ("freshly started server", "warm server", "warm server, again"):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        received: list = []

        def on_frame(payload, store=received) -> None:  # playwright wants a function
            store.append(payload)

        page.on("websocket", lambda ws, cb=on_frame: ws.on("framereceived", cb))
        elapsed = open_page(page, url)
        if case == "freshly started server":
            rows.append((f"browser, {label}: server start until drawn (s)",
                         f"{elapsed + up:.2f}"))  # fmt: skip
        rows.append((f"browser, {label}: page open until drawn, {case} (s)", f"{elapsed:.2f}"))
        page.wait_for_timeout(300)
        if label == "the map":
            ws_bytes = sum(len(f) if isinstance(f, bytes | str) else 0 for f in received)
            rows.append((f"browser, {label}: websocket bytes received, {case} (MB)",
                         f"{ws_bytes / 1e6:.2f}"))  # fmt: skip
        page.close()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        times = []
        for _ in range(3):  # the first fills the browser's cache
            page = context.new_page()
            times.append(open_page(page, url))
            page.close()
        times = times[1:]
        rows.append((f"browser, {label}: page reloaded, warm server, cached scripts (s)",
                     ", ".join(f"{t:.2f}" for t in times)))  # fmt: skip
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true", help="also time the page in Chromium")
    parser.add_argument("--reruns-only", action="store_true", help="only the AppTest reruns")
    parser.add_argument("--browser-only", action="store_true", help="only the page in Chromium")
    parser.add_argument(
        "--store-incidents",
        type=int,
        default=0,
        metavar="N",
        help="time the reruns on a store of N synthetic incidents (default: the bundled sample)",
    )
    parser.add_argument("--varied", type=int, default=50, help="varied reruns for the memory")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    where = (
        f"{args.store_incidents:,} synthetic incidents"
        if args.store_incidents
        else ("the bundled record")
    )
    print(f"store: {where}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if not (args.reruns_only or args.browser_only):
        bench_map(rows)
    if not args.browser_only:
        bench_reruns(rows, args.store_incidents, args.varied)
    if args.browser or args.browser_only:
        bench_browser(rows, args.store_incidents)
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  -----")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
