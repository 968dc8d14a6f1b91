"""Benchmark: ingest of 100,000 incidents from GeoJSON and from an ACLED CSV export.

Each case runs in its own process: read + validate (``validate_file``, region check
against the bundled border included), then store into a new GeoPackage
(``geo.ingest.store_report``), then read back (``load_incidents``). Peak memory is the
process's maximum resident set size, and its growth over the imports. Synthetic
incidents: points drawn within 40 km of the bundled border line, random types and
dates (a benchmark set; never committed, never real).

"total s" is wall-clock time of read + validate + store; "total CPU s" is the CPU time the
process used for the same work (the wall-clock time includes waiting for the CPU when other
jobs share the machine: the load average is printed). Target: under 3 s.

Usage: ``python benchmarks/bench_ingest.py [--n 100000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_files(n: int, folder: Path) -> dict[str, Path]:
    import numpy as np
    import shapely

    from geo import settings
    from layers import load_border_line

    rng = np.random.default_rng(42)
    line = load_border_line()
    at = shapely.line_interpolate_point(line, rng.uniform(0, line.length, n))
    lon = shapely.get_x(at) + rng.uniform(-0.35, 0.35, n)
    lat = shapely.get_y(at) + rng.uniform(-0.2, 0.2, n)
    types = rng.choice(settings.INCIDENT_TYPES, n)
    days = rng.integers(0, 3 * 365, n)
    dates = (np.datetime64("2022-01-01") + days).astype(str)
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": f"B-{i}",
                "date": dates[i],
                "type": types[i],
                "description": "synthetic benchmark incident",
                "fatalities": int(i % 3),
                "location_precision_m": 1000,
                "source": "benchmark",
            },
            "geometry": {"type": "Point", "coordinates": [round(lon[i], 5), round(lat[i], 5)]},
        }
        for i in range(n)
    ]
    geojson = folder / "bench.geojson"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    acled_types = ["Battles", "Explosions/Remote violence", "Strategic developments"]
    subs = ["Armed clash", "Shelling/artillery/missile attack", "Arrests"]
    rows = [
        "event_id_cnty,event_date,event_type,sub_event_type,actor1,actor2,latitude,"
        "longitude,geo_precision,time_precision,source,notes,fatalities"
    ]
    for i in range(n):
        k = i % 3
        rows.append(
            f"LBN{i},{dates[i]},{acled_types[k]},{subs[k]},Actor A,Actor B,{lat[i]:.4f},"
            f"{lon[i]:.4f},{1 + i % 3},{1 + (i // 3) % 3},benchmark,synthetic,{i % 2}"
        )
    acled = folder / "bench_acled.csv"
    acled.write_text("\n".join(rows) + "\n")
    return {"GeoJSON": geojson, "ACLED CSV": acled}


def run_case(path: Path, store_path: Path) -> dict:
    from geo.ingest import store_report, validate_file
    from geo.store import load_incidents, open_store
    from layers.reference import ReferenceLayers

    # warm up on the bundled sample: imports, the border and its 50 km zone are cached, as
    # they are in the app and in any long-running process (cold start is timed apart)
    t = time.perf_counter()
    border = ReferenceLayers.bundled().line
    validate_file(ROOT / "data" / "sample_incidents.geojson", border=border)
    cold = time.perf_counter() - t
    base = _rss_mb()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    report = validate_file(path, border=border)
    t1 = time.perf_counter()
    store = open_store(store_path, create=True)
    batch = store_report(store, report, accept_partial=True)
    t2 = time.perf_counter()
    cpu = time.process_time() - cpu0
    back = load_incidents(store)
    t3 = time.perf_counter()
    assert batch and len(back) == report.accepted_count
    return {
        "features": report.feature_count,
        "accepted": report.accepted_count,
        "validate_s": t1 - t0,
        "store_s": t2 - t1,
        "total_s": t2 - t0,
        "read_back_s": t3 - t2,
        "peak_mb": _rss_mb(),
        "growth_mb": _rss_mb() - base,
        "size_mb": path.stat().st_size / 1e6,
        "cold_s": cold,
        "cpu_s": cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--case", type=Path)
    parser.add_argument("--store", type=Path)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(args.case, args.store)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_files(args.n, folder)
        load = os.getloadavg()[0]
        print(f"{args.n} synthetic incidents; load average {load:.1f} on {os.cpu_count()} CPUs")
        print(
            f"{'input':<10} {'features':>9} {'file MB':>8} {'read+validate s':>16} "
            f"{'store s':>8} {'total s':>8} {'read back s':>12} {'peak RSS MB':>12} "
            f"{'growth MB':>10} {'warm-up s':>10} {'total CPU s':>12}"
        )
        for name, path in files.items():
            out = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--case",
                    str(path),
                    "--store",
                    str(folder / f"{path.stem}.gpkg"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(
                f"{name:<10} {r['features']:>9} {r['size_mb']:>8.1f} {r['validate_s']:>16.2f} "
                f"{r['store_s']:>8.2f} {r['total_s']:>8.2f} {r['read_back_s']:>12.2f} "
                f"{r['peak_mb']:>12.0f} {r['growth_mb']:>10.0f} {r['cold_s']:>10.2f} "
                f"{r['cpu_s']:>12.2f}"
            )


if __name__ == "__main__":
    main()
