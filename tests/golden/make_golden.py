"""Write (or check) the golden outputs of ``analyze`` and ``report`` on two stores.

The golden files pin what the command line writes, so that a change of structure
(issue 10) can be shown to change no output: the JSON of ``analyze``, the CSV of
``analyze``, and every export of ``report`` (sectors CSV and GeoJSON, the
GeoPackage's layers, the density GeoTIFF's pixels and the standalone map).

Two stores:

- ``bundled``: the store seeded with the bundled sample (as a new user gets it);
- ``synthetic``: 5,000 synthetic incidents from :func:`synthetic_features` (fixed
  seed), enough for density, hot spots and the incident criteria.

Usage::

    python tests/golden/make_golden.py            # rewrite tests/golden/<case>/
    python tests/golden/make_golden.py --check    # compare, print differences

Outputs that carry a time or a path (the PDF, the manifest) are not pinned. A
GeoPackage is compared layer by layer as text (its bytes carry timestamps); the
GeoTIFF by its pixels' SHA-256, shape, transform and nodata.

Regenerate only for an intended change of output (new bundled data, a new column),
and say so in the commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent
CASES = ("bundled", "synthetic")
N_SYNTHETIC = 5_000
TYPES = ("seizure", "clash", "smuggling", "shelling", "strike", "arrest")


def synthetic_features(n: int = N_SYNTHETIC, *, seed: int = 5000) -> dict:
    """Return ``n`` synthetic incidents near the bundled border as a GeoJSON mapping.

    Positions: a vertex of the bundled border line, moved by a normal offset of
    6 km in the region's metric CRS (transverse Mercator at 36.2°E); dates over
    2024-2025; types, quantities and precisions drawn with a fixed seed. Built
    with numpy and pyproj only, so the input does not depend on the code under test.
    """
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    border = json.loads((ROOT / "data" / "layers" / "border.geojson").read_text("utf-8"))
    coords = np.asarray(border["features"][0]["geometry"]["coordinates"], dtype=float)
    metric = "+proj=tmerc +lat_0=0 +lon_0=36.2 +k=1 +x_0=500000 +y_0=0 +ellps=WGS84 +units=m"
    forward = Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    back = Transformer.from_crs(metric, "EPSG:4326", always_xy=True)
    pick = rng.integers(0, len(coords), n)
    x, y = forward.transform(coords[pick, 0], coords[pick, 1])
    x = np.asarray(x) + rng.normal(0, 6_000, n)
    y = np.asarray(y) + rng.normal(0, 6_000, n)
    lon, lat = back.transform(x, y)
    days = rng.integers(0, 730, n)
    types = rng.choice(TYPES, n)
    precision = rng.choice([100.0, 1_000.0, 10_000.0], n, p=[0.5, 0.3, 0.2])
    quantity = np.where(types == "seizure", np.round(rng.lognormal(8, 2, n)), np.nan)
    fatalities = np.where(types == "clash", rng.integers(0, 5, n), -1)
    features = []
    base = np.datetime64("2024-01-01")
    for i in range(n):
        props = {
            "id": f"G-{i:05d}",
            "date": str(base + np.timedelta64(int(days[i]), "D")),
            "type": str(types[i]),
            "description": f"synthetic golden incident {i}",
            "location_precision_m": float(precision[i]),
            "source": "tests/golden/make_golden.py (synthetic)",
        }
        if not np.isnan(quantity[i]):
            props["quantity"] = float(quantity[i])
            props["unit"] = "pills"
            props["commodity"] = "captagon"
        if fatalities[i] >= 0:
            props["fatalities"] = int(fatalities[i])
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(float(lon[i]), 6), round(float(lat[i]), 6)],
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _geo(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "geo", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"python -m geo {' '.join(args)} failed: {done.stderr}")
    return done.stdout


def _gpkg_text(path: Path) -> dict[str, str]:
    import pandas as pd
    import pyogrio

    out = {}
    for name, _geometry_type in pyogrio.list_layers(path):
        frame = pyogrio.read_dataframe(path, layer=name)
        if "geometry" in frame.columns:
            wkt = frame.geometry.to_wkt(rounding_precision=6)
            frame = pd.DataFrame(frame.drop(columns="geometry")).assign(geometry=wkt)
        drop = [c for c in ("ingested_at", "batch_id", "source_file") if c in frame.columns]
        frame = frame.drop(columns=drop)
        out[name] = frame.to_csv(index=False, float_format="%.9g", lineterminator="\n")
    return out


def _stable_ids(html: str) -> str:
    """Replace folium's random element ids (32 hex digits) by their order of appearance."""
    seen: dict[str, str] = {}
    return re.sub(
        r"_[0-9a-f]{32}(?![0-9a-f])", lambda m: seen.setdefault(m[0], f"_id{len(seen)}"), html
    )


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() + "\n"


def _tif_summary(path: Path) -> dict:
    import rasterio

    with rasterio.open(path) as src:
        values = src.read(1)
        return {
            "shape": list(values.shape),
            "dtype": str(values.dtype),
            "transform": list(src.transform)[:6],
            "nodata": src.nodata,
            "sha256": hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest(),
            "sum": float(values.astype(float).sum()),
        }


def produce(case: str, work: Path) -> dict[str, str]:
    """Run the commands for ``case`` in ``work`` and return ``{file name: text}``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERMON_")}
    env["PYTHONHASHSEED"] = "0"
    store = work / "store.gpkg"
    if case == "bundled":
        env["BORDERMON_STORE"] = str(store)
        _geo("analyze", "--format", "table", env=env)  # creates and seeds the store
    else:
        source = work / "synthetic.geojson"
        source.write_text(json.dumps(synthetic_features()), "utf-8")
        _geo("ingest", str(source), "--store", str(store), env=env)
        env["BORDERMON_STORE"] = str(store)
    files: dict[str, str] = {}
    files["analyze.json"] = _geo("analyze", "--format", "json", env=env)
    files["analyze.csv"] = _geo("analyze", "--format", "csv", env=env)
    out = work / "report"
    _geo("report", "--out", str(out), "--format", "gpkg,geojson,csv,tif,html", env=env)
    files["sectors.csv"] = (out / "sectors.csv").read_text("utf-8")
    files["sectors.geojson"] = (out / "sectors.geojson").read_text("utf-8")
    files["map.html.sha256"] = _sha(_stable_ids((out / "map.html").read_text("utf-8")))
    for layer, text in _gpkg_text(out / "report.gpkg").items():
        # Large layers are pinned by hash (rerun without --check and diff to see a change).
        if len(text) > 300_000:
            files[f"report.gpkg.{layer}.csv.sha256"] = _sha(text)
        else:
            files[f"report.gpkg.{layer}.csv"] = text
    files["density.tif.json"] = json.dumps(_tif_summary(out / "density.tif"), indent=1) + "\n"
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    parser.add_argument("--case", choices=CASES, action="append")
    args = parser.parse_args()
    failed = False
    for case in args.case or CASES:
        with tempfile.TemporaryDirectory() as tmp:
            files = produce(case, Path(tmp))
        folder = GOLDEN / case
        if not args.check:
            folder.mkdir(exist_ok=True)
            for old in folder.glob("*"):
                old.unlink()
            for name, text in files.items():
                (folder / name).write_text(text, "utf-8")
            print(f"{case}: wrote {len(files)} files")
            continue
        for name, text in files.items():
            path = folder / name
            if not path.exists() or path.read_text("utf-8") != text:
                print(f"{case}/{name}: differs")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
