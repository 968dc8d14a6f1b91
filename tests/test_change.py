"""What changed between two periods: a cluster planted in one sector flags it, and only it."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo import settings
from geo.change import compare_periods, parse_period
from geo.errors import ConfigurationError
from geo.grid import region_line
from geo.parameters import AnalysisParameters
from layers.reference import ReferenceLayers

REFERENCE = ReferenceLayers.bundled()
THEN = (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
NOW = (dt.date(2025, 7, 1), dt.date(2025, 12, 31))
PLANT_KM = 152.5  # inside sector 31 of 5 km


def _incidents() -> gpd.GeoDataFrame:
    """The same 400 incidents in each period (same places, same days of the half-year),
    and 80 more in the second period only, 1 km from the line at chainage PLANT_KM."""
    rng = np.random.default_rng(11)
    line = region_line(REFERENCE.line)
    along = shapely.line_interpolate_point(line, rng.uniform(0, line.length, 400))
    x = shapely.get_x(along) + rng.normal(0, 2_500, 400)
    y = shapely.get_y(along) + rng.normal(0, 2_500, 400)
    offset = rng.integers(0, 181, 400)
    types = rng.choice(["seizure", "clash", "smuggling", "arrest"], 400)
    frames = []
    for start in (THEN[0], NOW[0]):
        frames.append(
            pd.DataFrame(
                {
                    "x": x,
                    "y": y,
                    "date": pd.Timestamp(start) + pd.to_timedelta(offset, "D"),
                    "type": types,
                }
            )
        )
    site = shapely.line_interpolate_point(line, PLANT_KM * 1000.0)
    frames.append(
        pd.DataFrame(
            {
                "x": site.x + rng.normal(0, 700, 80),
                "y": site.y + rng.normal(0, 700, 80),
                "date": pd.Timestamp(NOW[0]) + pd.to_timedelta(rng.integers(0, 181, 80), "D"),
                "type": "seizure",
            }
        )
    )
    table = pd.concat(frames, ignore_index=True)
    geometry = gpd.GeoSeries(
        gpd.points_from_xy(table["x"], table["y"]), crs=settings.METRIC_CRS
    ).to_crs(4326)
    return gpd.GeoDataFrame(
        table.drop(columns=["x", "y"]).assign(
            id=[f"C-{i}" for i in range(len(table))], location_precision_m=100.0
        ),
        geometry=geometry.to_numpy(),
        crs=4326,
    )


@pytest.fixture(scope="module")
def comparison():
    # a 1 km kernel: the planted cluster's density stays in its own 5 km sector
    params = AnalysisParameters(since=NOW[0], until=NOW[1], draws=300, bandwidth_m=1_000.0)
    return compare_periods(_incidents(), params, then=THEN, reference=REFERENCE)


def test_the_planted_sector_is_flagged_and_no_other(comparison):
    table = comparison.table.set_index("sector_id")
    sector = int(PLANT_KM // 5) + 1
    assert table.loc[sector, "flagged"], table.loc[sector]
    assert table.loc[sector, "rank_change"] > 0
    assert table.loc[sector, "new_seizure"] >= 80
    assert "incident_density +" in table.loc[sector, "reasons"]
    assert comparison.flagged["sector_id"].tolist() == [sector]


def test_json_names_both_periods_and_the_flag(comparison):
    data = comparison.to_json_dict()
    assert data["periods"] == {
        "now": ["2025-07-01", "2025-12-31"],
        "then": ["2025-01-01", "2025-06-30"],
    }
    assert data["flagged"] == [int(PLANT_KM // 5) + 1]
    assert len(data["sectors"]) == len(comparison.now.ranked)


@pytest.mark.parametrize("text", ["2025-01-01", "2025-06-30..2025-01-01", "x..y"])
def test_bad_periods_are_refused(text):
    with pytest.raises(ConfigurationError, match="period"):
        parse_period(text)


def test_analyze_compare_to_on_the_command_line(tmp_path, capsys):
    import json

    from geo.cli import main
    from geo.ingest import store_frame
    from geo.store import open_store

    store = open_store(tmp_path / "s.gpkg", create=True)
    store_frame(store, _incidents())
    argv = ["analyze", "--store", store.location, "--since", "2025-07-01", "--until",
            "2025-12-31", "--bandwidth-m", "1000", "--draws", "200"]  # fmt: skip
    assert main([*argv, "--compare-to", "2025-01-01..2025-06-30", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["comparison"]["flagged"] == [int(PLANT_KM // 5) + 1]
    assert data["comparison"]["periods"]["then"] == ["2025-01-01", "2025-06-30"]
    assert main([*argv, "--compare-to", "2025-01-01..2025-06-30", "--limit", "3"]) == 0
    assert "MOVED" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--compare-to", "2025-06-30..2025-01-01"])
    assert exit_info.value.code == 2


def test_report_compare_to_puts_the_briefing_first_naming_the_planted_sector(tmp_path):
    import json

    from pypdf import PdfReader

    from geo.cli import main
    from geo.ingest import store_frame
    from geo.store import open_store

    store = open_store(tmp_path / "s.gpkg", create=True)
    store_frame(store, _incidents())
    out = tmp_path / "out"
    argv = ["report", "--out", str(out), "--format", "pdf", "--store", store.location,
            "--since", "2025-07-01", "--until", "2025-12-31", "--bandwidth-m", "1000",
            "--draws", "200", "--compare-to", "2025-01-01..2025-06-30"]  # fmt: skip
    assert main(argv) == 0
    first = PdfReader(out / "report.pdf").pages[0].extract_text()
    assert "Briefing: 2025-07-01 to 2025-12-31, compared with 2025-01-01 to 2025-06-30" in " ".join(
        first.split()
    )
    sector = int(PLANT_KM // 5) + 1
    moved = first.split("What moved")[1].split("Emerging")[0]
    assert "MOVED" in moved and moved.split("flag why")[1].split()[0] == str(sector)
    assert "Emerging hot spots near the border" in first
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert manifest["periods"] == {
        "now": ["2025-07-01", "2025-12-31"],
        "then": ["2025-01-01", "2025-06-30"],
    }
    assert "--compare-to 2025-01-01..2025-06-30" in manifest["command"]
