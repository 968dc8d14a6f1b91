"""Benchmark: the PostGIS store beside the GeoPackage store.

Three measurements, each backend in its own processes:

1. **Ingest** of 100,000 synthetic features (``bench_ingest.make_files``: the same
   GeoJSON): read + validate against the store (``validate_file``, region check against
   the bundled border) + store (``store_report``) into a new, empty store (for PostGIS a
   bulk load: its spatial index is built after the rows); then 100,000 more (other ids)
   into the same store, which then grows its index row by row. "CPU s" is this
   process's CPU time; the PostgreSQL server's is not in it.
2. **Read** of the 100,000 stored incidents with a date filter in SQL that keeps all of
   them (``store.read(since=..., until=...)``), and a type filter that keeps about 3/8;
   the best and the median of 5 reads.
3. **8 concurrent uploaders** (processes), each storing ``--batches`` batches of
   ``--rows`` incidents (``store_frame``) into one store, all starting at once: the wall
   time until the last finishes, incidents per second, and each batch's latency
   (median, 95th percentile). Every incident is checked to be stored exactly once.

PostgreSQL: a throwaway cluster (``tests/pgcluster.py``) started durable (fsync on, as
a production server; the tests run theirs with fsync off), on loopback, or ``--url`` a
server of your own (a schema ``bench_*`` is made and dropped in it). Targets on a
2-core machine: ingest within 1.5x of the GeoPackage path, a read of 100,000 under 0.5 s.
The backends alternate over ``--repeat`` rounds (default 3) and each figure is the best of
its rounds: other jobs on the machine slow every figure (the load average is printed).

Usage: ``python benchmarks/bench_store.py [--n 100000] [--uploaders 8] [--batches 25]
[--rows 400] [--url postgresql://...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def run_ingest(path: Path, location: str, second: Path) -> dict:
    """Ingest ``path`` into a new store at ``location``, time its reads, then ingest ``second``.

    ``second`` holds other incidents (other ids): the store then holds 100,000 already.
    """
    from geo.ingest import store_report, validate_file
    from geo.store import open_store
    from layers.reference import ReferenceLayers

    border = ReferenceLayers.bundled().line
    validate_file(ROOT / "data" / "sample_incidents.geojson", border=border)  # warm up
    store = open_store(location, create=True)
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    report = validate_file(path, border=border, existing=store)
    t1 = time.perf_counter()
    store_report(store, report, accept_partial=True)
    t2 = time.perf_counter()
    cpu = time.process_time() - cpu0
    reads: dict[str, list[float]] = {"all": [], "types": []}
    rows = {}
    for _ in range(5):
        for name, kwargs in (
            ("all", {"since": "2022-01-01", "until": "2024-12-31"}),
            ("types", {"types": ["seizure", "clash", "smuggling"]}),
        ):
            t = time.perf_counter()
            rows[name] = len(store.read(**kwargs))
            reads[name].append(time.perf_counter() - t)
    t3 = time.perf_counter()
    again = validate_file(second, border=border, existing=store)
    t4 = time.perf_counter()
    store_report(store, again, accept_partial=True)
    t5 = time.perf_counter()
    assert store.count() == report.accepted_count + again.accepted_count
    return {
        "second_validate_s": t4 - t3,
        "second_store_s": t5 - t4,
        "second_total_s": t5 - t3,
        "accepted": report.accepted_count,
        "validate_s": t1 - t0,
        "store_s": t2 - t1,
        "total_s": t2 - t0,
        "cpu_s": cpu,
        "read_best_s": min(reads["all"]),
        "read_median_s": statistics.median(reads["all"]),
        "read_rows": rows["all"],
        "types_best_s": min(reads["types"]),
        "types_rows": rows["types"],
    }


def run_uploader(location: str, worker: int, start: float, batches: int, rows: int) -> dict:
    """Store ``batches`` batches of ``rows`` incidents, starting at ``start`` (epoch seconds)."""
    import numpy as np
    import pandas as pd
    import shapely

    from geo import schema
    from geo.ingest import store_frame
    from geo.store import open_store

    rng = np.random.default_rng(worker)
    n = batches * rows
    frame = pd.DataFrame(
        {
            "id": [f"U{worker}-{i}" for i in range(n)],
            "date": (np.datetime64("2024-01-01") + rng.integers(0, 365, n)).astype(str),
            "type": rng.choice(["seizure", "clash", "smuggling"], n),
            "description": "concurrent benchmark upload",
        }
    )
    points = shapely.points(rng.uniform(35.9, 36.6, n), rng.uniform(33.4, 34.6, n))
    incidents = schema.conform_incidents(frame, points)
    store = open_store(location)
    time.sleep(max(0.0, start - time.time()))
    latencies = []
    for b in range(batches):
        t = time.perf_counter()
        store_frame(store, incidents.iloc[b * rows : (b + 1) * rows], source_file=f"w{worker}-{b}")
        latencies.append(time.perf_counter() - t)
    return {"latencies": latencies, "end": time.time()}


def _child(args: list[str]) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmark step failed: {args}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def uploaders(location: str, count: int, batches: int, rows: int) -> dict:
    """Run ``count`` uploader processes at once into ``location``; check every row once."""
    from geo.store import open_store

    open_store(location, create=True)
    start = time.time() + 8.0  # every process imported and connected by then

    def command(k: int) -> list[str]:
        return [
            *(sys.executable, __file__, "--case", "upload", "--store", location),
            *("--worker", str(k), "--start", str(start)),
            *("--batches", str(batches), "--rows", str(rows)),
        ]

    procs = [
        subprocess.Popen(command(k), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for k in range(count)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=1800)
        if proc.returncode != 0:
            raise SystemExit(f"uploader failed:\n{err}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    wall = max(r["end"] for r in results) - start
    latencies = sorted(x for r in results for x in r["latencies"])
    stored = open_store(location).read()
    expected = {f"U{k}-{i}" for k in range(count) for i in range(batches * rows)}
    assert len(stored) == len(expected) and set(stored["id"]) == expected, "rows lost or doubled"
    return {
        "wall_s": wall,
        "per_s": len(expected) / wall,
        "median_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "rows": len(stored),
    }


def _versions(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as con:
        pg = con.execute("SHOW server_version").fetchone()[0]
        gis = con.execute("SELECT extversion FROM pg_extension WHERE extname='postgis'")
        row = gis.fetchone()
    return f"PostgreSQL {pg.split()[0]}, PostGIS {row[0] if row else '(added by the store)'}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--uploaders", type=int, default=8)
    parser.add_argument("--batches", type=int, default=25)
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--url", help="a PostgreSQL server of your own (default: a throwaway one)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds; the best of each figure is shown"
    )
    parser.add_argument("--case", choices=("ingest", "upload"), help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case == "ingest":
        print(json.dumps(run_ingest(args.file, args.store, args.file.with_name("second.geojson"))))
        return
    if args.case == "upload":
        result = run_uploader(args.store, args.worker, args.start, args.batches, args.rows)
        print(json.dumps(result))
        return

    import psycopg
    from bench_ingest import make_files

    cluster = None
    if args.url:
        base = args.url
    else:
        import pgcluster

        reason = pgcluster.available()
        if reason:
            raise SystemExit(f"cannot start PostgreSQL: {reason}; give --url")
        cluster = pgcluster.PgCluster()
        cluster.start(durable=True)
        cluster.sql("CREATE EXTENSION IF NOT EXISTS postgis")
        base = cluster.url
    schemas = []

    def new_schema() -> str:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {name}")
        schemas.append(name)
        joint = "&" if "?" in base else "?"
        return f"{base}{joint}options=-csearch_path%3D{name},public"

    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            geojson = make_files(args.n, folder)["GeoJSON"]
            second = geojson.read_text().replace('"id": "B-', '"id": "C-')
            geojson.with_name("second.geojson").write_text(second)
            load = os.getloadavg()[0]
            print(
                f"{args.n} synthetic incidents; {_versions(base)}"
                f"{' (throwaway cluster, fsync on)' if cluster else ''}; "
                f"load average {load:.1f} on {os.cpu_count()} CPUs"
            )
            ingest: dict[str, dict] = {}
            for round_ in range(args.repeat):  # backends alternate: both see the same load
                for name in ("GeoPackage", "PostGIS"):
                    location = (
                        str(folder / f"ingest-{round_}.gpkg")
                        if name == "GeoPackage"
                        else new_schema()
                    )
                    r = _child(["--case", "ingest", "--store", location, "--file", str(geojson)])
                    best = ingest.setdefault(name, r)
                    for key in r:  # the best of the rounds, figure by figure
                        best[key] = min(best[key], r[key])
            print(
                f"\n{'store':<11} {'read+validate s':>15} {'store s':>8} {'total s':>8} "
                f"{'CPU s':>6} {'read 100k best s':>17} {'median s':>9} "
                f"{'by type s (rows)':>18}"
            )
            for name, r in ingest.items():
                print(
                    f"{name:<11} {r['validate_s']:>15.2f} {r['store_s']:>8.2f} "
                    f"{r['total_s']:>8.2f} {r['cpu_s']:>6.2f} {r['read_best_s']:>17.3f} "
                    f"{r['read_median_s']:>9.3f} "
                    f"{r['types_best_s']:>9.3f} ({r['types_rows']})"
                )
            ratio = ingest["PostGIS"]["total_s"] / ingest["GeoPackage"]["total_s"]
            print(f"ingest PostGIS / GeoPackage: {ratio:.2f}x (target <= 1.5x)")
            print(f"\n{args.n} more (other ids) into the store that holds the first {args.n}")
            print(f"{'store':<11} {'read+validate s':>15} {'store s':>8} {'total s':>8}")
            for name, r in ingest.items():
                print(
                    f"{name:<11} {r['second_validate_s']:>15.2f} {r['second_store_s']:>8.2f} "
                    f"{r['second_total_s']:>8.2f}"
                )
            ratio = ingest["PostGIS"]["second_total_s"] / ingest["GeoPackage"]["second_total_s"]
            print(f"ingest PostGIS / GeoPackage: {ratio:.2f}x")
            print(
                f"\n{args.uploaders} concurrent uploaders x {args.batches} batches x "
                f"{args.rows} incidents"
            )
            print(
                f"{'store':<11} {'wall s':>7} {'incidents/s':>12} {'batch median ms':>16} "
                f"{'batch p95 ms':>13} {'stored':>8}"
            )
            uploads: dict[str, dict] = {}
            for round_ in range(args.repeat):
                for name in ("GeoPackage", "PostGIS"):
                    location = (
                        str(folder / f"uploads-{round_}.gpkg")
                        if name == "GeoPackage"
                        else new_schema()
                    )
                    r = uploaders(location, args.uploaders, args.batches, args.rows)
                    if name not in uploads or r["wall_s"] < uploads[name]["wall_s"]:
                        uploads[name] = r  # the quickest round
            for name, r in uploads.items():
                print(
                    f"{name:<11} {r['wall_s']:>7.2f} {r['per_s']:>12.0f} "
                    f"{r['median_ms']:>16.0f} {r['p95_ms']:>13.0f} {r['rows']:>8}"
                )
            print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if cluster is not None:
            cluster.remove()
        else:
            with psycopg.connect(base, autocommit=True) as con:
                for name in schemas:
                    con.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


if __name__ == "__main__":
    main()
