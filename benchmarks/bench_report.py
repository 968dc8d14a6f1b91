"""Benchmark the report and the exports: time of each step and size of each output.

Run: ``python benchmarks/bench_report.py`` (a few minutes on a 2-core machine;
``--quick`` runs only the bundled sample and 1e4 incidents).

Inputs: the bundled sample (6 real incidents) and *synthetic* incidents, for
timing only: positions drawn along the real border line (uniform chainage,
Gaussian offsets of 8 km), types drawn from the settings, dates over 2024-2025,
one in three located only to 10 km. The analysis runs with the defaults
(250 m density cells, 1000 Monte Carlo draws) and the real reference layers.

Columns: seconds for the analysis (context; issue 5's code), the static map,
the PDF (map, HTML and WeasyPrint together), the GeoPackage (sectors, incidents,
hot spots), GeoJSON + CSV, the COG, and the standalone HTML map; the sizes of
the PDF and of the HTML map; the peak resident memory of the process so far.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import layers
from geo import exports, report, settings
from geo.analysis import AnalysisParameters, run_analysis
from geo.cli.report_command import _write_geopackage, _write_html_map
from geo.staticmap import draw_static_map


def synthetic_incidents(n: int, *, seed: int = 1) -> gpd.GeoDataFrame:
    """Return ``n`` synthetic incidents scattered along the real border (timing only)."""
    rng = np.random.default_rng(seed)
    line = gpd.GeoSeries([layers.load_border_line()], crs=4326).to_crs(settings.METRIC_CRS)[0]
    along = shapely.line_interpolate_point(line, rng.uniform(0, line.length, n))
    x = shapely.get_x(along) + rng.normal(0, 8_000, n)
    y = shapely.get_y(along) + rng.normal(0, 8_000, n)
    points = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=settings.METRIC_CRS).to_crs(4326)
    types = rng.choice(list(settings.INCIDENT_TYPES), n)
    return gpd.GeoDataFrame(
        {
            "id": [f"B-{i}" for i in range(n)],
            "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 730, n), "D"),
            "date_precision_days": 1,
            "type": types,
            "description": "synthetic",
            "quantity": np.nan,
            "unit": None,
            "commodity": None,
            "fatalities": np.nan,
            "location_precision_m": np.where(rng.random(n) < 1 / 3, 10_000.0, 100.0),
            "location_note": None,
            "source": "benchmark",
            "source_file": "synthetic.geojson",
            "source_sha256": "0" * 64,
        },
        geometry=points.to_numpy(),
        crs=4326,
    )


def bundled_incidents() -> gpd.GeoDataFrame:
    """Return the bundled sample incidents."""
    frame = gpd.read_file(settings.DATA_DIR / "sample_incidents.geojson")
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def timed(function, *args, **kwargs) -> tuple[float, object]:
    """Return the seconds ``function`` took and its result."""
    start = time.perf_counter()
    value = function(*args, **kwargs)
    return time.perf_counter() - start, value


def measure(name: str, incidents: gpd.GeoDataFrame, folder: Path) -> dict[str, object]:
    """Run every step once on ``incidents`` and return a table row."""
    t_analysis, result = timed(run_analysis, incidents, AnalysisParameters())
    border = layers.load_border_line()
    crossings = layers.load_layer("crossings")
    t_map, _ = timed(
        draw_static_map,
        border=border,
        sectors=result.ranked,
        incidents=incidents,
        density=result.density,
        crossings=crossings,
    )
    pdf = folder / f"{name}.pdf"
    inputs = report.collect_inputs(incidents)
    t_pdf, _ = timed(
        report.write_pdf, result, incidents, pdf, inputs=inputs, border=border, crossings=crossings
    )
    t_gpkg, _ = timed(_write_geopackage, exports, result, incidents, folder / f"{name}.gpkg")
    t_vec, _ = timed(
        lambda: (
            exports.export_sectors(result, folder / f"{name}.geojson"),
            exports.export_sectors(result, folder / f"{name}.csv"),
        )
    )
    t_tif, _ = timed(exports.export_density, result, folder / f"{name}.tif")
    html = folder / f"{name}.html"
    t_html, _ = timed(_write_html_map, result, html)
    return {
        "incidents": name,
        "analysis s": t_analysis,
        "static map s": t_map,
        "PDF s": t_pdf,
        "gpkg s": t_gpkg,
        "geojson+csv s": t_vec,
        "COG s": t_tif,
        "HTML map s": t_html,
        "PDF MB": pdf.stat().st_size / 1e6,
        "HTML MB": html.stat().st_size / 1e6,
        "peak RSS MB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """Print the benchmark table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="bundled sample and 1e4 only")
    args = parser.parse_args()
    cases = [("bundled 6", bundled_incidents()), ("1e4", synthetic_incidents(10_000))]
    if not args.quick:
        cases.append(("1e5", synthetic_incidents(100_000)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, incidents in cases:
            rows.append(measure(name.split()[0], incidents, Path(tmp)))
            rows[-1]["incidents"] = name
    table = pd.DataFrame(rows).set_index("incidents")
    with pd.option_context("display.width", 200, "display.float_format", "{:.2f}".format):
        print(table.to_string())


if __name__ == "__main__":
    main()
