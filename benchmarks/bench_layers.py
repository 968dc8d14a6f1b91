"""Benchmark the reference layers: load time, memory and size on disk, and build time.

Run from the repository root: ``python -m benchmarks.bench_layers`` (about 10 s);
``--build`` also times the build of the border and the crossings into a temporary folder.

Columns:

- ``features``, ``vertices``: what the layer holds.
- ``file kB``: size of the committed file.
- ``cold ms``: first ``layers.load_layer(name)`` in this process (reads and parses
  the file); ``warm ms``: a second call (cached; returns a copy).
- ``peak MB``: tracemalloc peak during the cold load.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

import shapely

import layers


def bench_loads() -> None:
    print(
        f"{'layer':<18} {'features':>8} {'vertices':>9} {'file kB':>8} {'cold ms':>8} "
        f"{'warm ms':>8} {'peak MB':>8}"
    )
    for name in layers.LAYER_NAMES:
        path = layers._layer_path(name)
        tracemalloc.start()
        t0 = time.perf_counter()
        gdf = layers.load_layer(name)
        cold = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        t0 = time.perf_counter()
        layers.load_layer(name)
        warm = time.perf_counter() - t0
        vertices = int(shapely.get_num_coordinates(gdf.geometry.to_numpy()).sum())
        print(
            f"{name:<18} {len(gdf):>8} {vertices:>9} {path.stat().st_size / 1e3:>8.1f} "
            f"{cold * 1e3:>8.1f} {warm * 1e3:>8.1f} {peak / 1e6:>8.1f}"
        )
    t0 = time.perf_counter()
    layers.load_border_line()
    print(f"load_border_line (warm): {(time.perf_counter() - t0) * 1e3:.1f} ms")


def bench_build() -> None:
    from layers import build

    with tempfile.TemporaryDirectory() as tmp:
        for names in (["border"], ["crossings"], ["border", "crossings"]):
            t0 = time.perf_counter()
            build.build_layers(names, out=Path(tmp))
            print(f"build {'+'.join(names):<18} {time.perf_counter() - t0:8.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--build", action="store_true", help="also time the build")
    args = parser.parse_args()
    bench_loads()
    if args.build:
        bench_build()


if __name__ == "__main__":
    main()
