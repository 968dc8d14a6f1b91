"""run_analysis end to end on a synthetic border, the evidence guard, the JSON shape, the CLI."""

from __future__ import annotations

import argparse
import io
import itertools
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import SYNTHETIC_ORIGIN, metric_to_geographic
from numpy.testing import assert_allclose, assert_array_equal
from pandas.testing import assert_frame_equal
from shapely.geometry import LineString, Point

from geo import settings
from geo.analysis import (
    AnalysisParameters,
    measure_sectors,
    measure_surface,
    measure_zones,
    rank_sectors,
    run_analysis,
)
from geo.criteria import CRITERIA
from geo.errors import ConfigurationError, LayerError

X0, Y0 = SYNTHETIC_ORIGIN
ZERO = dict.fromkeys(CRITERIA, 0.0)


def _incidents(xy, *, dates=None, types=None):
    n = len(xy)
    return gpd.GeoDataFrame(
        {
            "id": [f"s{i}" for i in range(n)],
            "date": pd.to_datetime(dates if dates is not None else ["2025-06-01"] * n),
            "type": types or ["seizure"] * n,
            "quantity": np.nan,
            "unit": None,
            "fatalities": np.nan,
            "location_precision_m": 200.0,
        },
        geometry=[metric_to_geographic(Point(x, y)) for x, y in xy],
        crs=4326,
    )


def _cluster(n=40, *, at_km=22.5, seed=0):
    rng = np.random.default_rng(seed)
    return list(
        zip(X0 + at_km * 1_000 + rng.normal(0, 600, n), Y0 + rng.normal(0, 600, n), strict=True)
    )


@pytest.fixture
def layers_kw(straight_border):
    """Synthetic reference layers: one town, one crossing, a candidate line off in sector 8."""
    town = gpd.GeoDataFrame(
        {"name": ["Test town"], "population": [5_000.0]},
        geometry=[metric_to_geographic(Point(X0 + 2_000, Y0 - 1_000))],
        crs=4326,
    )
    crossing = gpd.GeoDataFrame(
        {"name": ["Test post"], "status": ["official"]},
        geometry=[metric_to_geographic(Point(X0 + 47_000, Y0 - 300))],
        crs=4326,
    )
    off = LineString([(X0 + 35_200, Y0 + 900), (X0 + 39_800, Y0 + 900)])
    candidates = gpd.GeoDataFrame(
        {"source": ["other"]}, geometry=[metric_to_geographic(off)], crs=4326
    )
    empty = gpd.GeoDataFrame({"iso3": []}, geometry=[], crs=4326)
    return {
        "line": straight_border,
        "towns": town,
        "crossings": crossing,
        "candidates": candidates,
        "countries": empty,
        "terrain": False,
    }


def test_the_sector_holding_a_dense_cluster_ranks_first(layers_kw):
    params = AnalysisParameters(top_k=1, weights=ZERO | {"incident_density": 1.0})
    result = run_analysis(_incidents(_cluster()), params, **layers_kw)
    assert result.evidence_ok
    top = result.sectors.iloc[0]
    assert (top["sector_id"], top["rank"]) == (5, 1)
    assert top["incidents"] >= 30
    assert top["p_top_k"] == 1.0 and not top["unstable"]
    assert top["incidents_lb"] + top["incidents_sy"] == top["incidents"]
    assert top["incidents_lb"] > 5 and top["incidents_sy"] > 5  # a cluster astride the line
    assert result.sectors["rank"].is_monotonic_increasing
    assert result.sectors.crs.to_epsg() == 4326
    assert len(result.sectors) == 10


def test_weights_that_favour_another_criterion_move_the_ranking(layers_kw):
    incidents = _incidents(_cluster())
    params = AnalysisParameters(weights=ZERO | {"line_uncertainty": 1.0})
    by_line = run_analysis(incidents, params, **layers_kw)
    assert by_line.sectors.iloc[0]["sector_id"] == 8  # where the other source stands 900 m off
    assert by_line.sectors.iloc[0]["line_uncertainty_mean_m"] == pytest.approx(900.0, abs=0.01)
    params = AnalysisParameters(weights=ZERO | {"exposure": 1.0})
    assert run_analysis(incidents, params, **layers_kw).sectors.iloc[0]["sector_id"] == 1
    params = AnalysisParameters(weights=ZERO | {"crossings": 1.0})
    by_crossing = run_analysis(incidents, params, **layers_kw).sectors
    assert by_crossing.iloc[0]["sector_id"] == 10
    assert by_crossing.iloc[0]["nearest_crossing"] == "Test post"


def test_exposure_weighs_people_not_just_towns(layers_kw):
    # Sector 2 holds three villages of unknown size (3 x 500 people), sector 7 one town of
    # 50,000: by people, sector 7 first (log10 50,001 = 4.70 against log10 1,501 = 3.18),
    # although sector 2 has more towns (the old count-only criterion ranked it first).
    villages = [Point(X0 + 6_000 + 1_000 * i, Y0 + 500) for i in range(3)]
    towns = gpd.GeoDataFrame(
        {"name": ["V1", "V2", "V3", "Big town"], "population": [np.nan] * 3 + [50_000.0]},
        geometry=[metric_to_geographic(g) for g in [*villages, Point(X0 + 32_000, Y0 - 800)]],
        crs=4326,
    )
    params = AnalysisParameters(weights=ZERO | {"exposure": 1.0})
    result = run_analysis(_incidents(_cluster()), params, **(layers_kw | {"towns": towns}))
    sectors = result.sectors.set_index("sector_id")
    assert sectors.loc[2, "towns_in_zone"] == 3 and sectors.loc[7, "towns_in_zone"] == 1
    assert sectors.loc[2, "exposed_population"] == 1_500.0
    assert sectors.loc[7, "exposure_index"] == pytest.approx(np.log10(50_001.0))
    assert result.sectors.iloc[0]["sector_id"] == 7
    assert result.sectors.iloc[1]["sector_id"] == 2
    # Min-max: the top sector's normalised exposure is 1, an empty sector's 0.
    assert sectors.loc[7, "norm_exposure"] == pytest.approx(1.0)
    assert sectors.loc[2, "norm_exposure"] == pytest.approx(np.log10(1_501.0) / np.log10(50_001.0))
    assert "exposure_index" in result.to_json_dict()["sectors"][0]["criteria"]


def test_contributions_sum_to_the_score_with_default_weights(layers_kw):
    result = run_analysis(_incidents(_cluster()), AnalysisParameters(), **layers_kw)
    contrib = result.sectors[[f"contrib_{n}" for n in CRITERIA]].sum(axis=1)
    assert_allclose(contrib, result.sectors["score"], atol=1e-12)
    assert sum(result.weights.values()) == pytest.approx(1.0)
    assert result.weights["terrain"] == 0.0  # no DEM: left out, and said
    assert any("terrain left out" in n for n in result.notes)
    assert any("unofficial crossings" in n for n in result.notes)


def test_minimum_evidence_guard_ranks_only_on_reference_layers(layers_kw):
    few = _incidents(_cluster(3))
    result = run_analysis(few, AnalysisParameters(), **layers_kw)
    assert not result.evidence_ok
    assert "Only 3 incident(s)" in result.message and "not evidence" in result.message
    assert all(result.weights[n] == 0 for n, c in CRITERIA.items() if c.incident_based)
    assert (result.sectors["contrib_incident_density"] == 0).all()
    assert result.sectors["incidents"].sum() == 3  # still counted and shown
    assert result.sectors["rank"].notna().all()
    assert result.hotspots is None and "30" in result.hotspots_message
    # The one-at-a-time sweep does not bring the excluded criteria back.
    swept = set(result.sensitivity.oat["criterion"])
    assert swept == {"crossings", "exposure", "line_uncertainty"}


def test_minimum_evidence_guard_refuses_to_rank_noise(layers_kw):
    params = AnalysisParameters(weights=ZERO | {"incident_density": 1.0, "trend": 1.0})
    result = run_analysis(_incidents(_cluster(3)), params, **layers_kw)
    assert not result.evidence_ok and "no ranking is made" in result.message
    assert result.sectors["rank"].isna().all()
    assert result.sensitivity is None
    data = result.to_json_dict()
    assert all(s["rank"] is None and s["p_top_k"] is None for s in data["sectors"])
    json.dumps(data)


def test_json_shape_of_issue_5(layers_kw):
    params = AnalysisParameters(since=pd.Timestamp("2025-01-01").date(), types=("seizure",))
    data = run_analysis(_incidents(_cluster()), params, **layers_kw).to_json_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert {"parameters", "sectors"} <= set(data)
    assert data["parameters"]["since"] == "2025-01-01"
    assert data["parameters"]["types"] == ["seizure"]
    assert sum(data["parameters"]["weights"].values()) == pytest.approx(1.0)
    required = {
        "sector_id", "rank", "score", "chainage_start_km", "chainage_end_km", "criteria",
        "contributions", "p_top_k", "rank_interval", "nearest_town", "nearest_crossing",
    }  # fmt: skip
    ranks = []
    for sector in data["sectors"]:
        assert required <= set(sector)
        assert set(sector["contributions"]) == set(CRITERIA)
        assert sum(sector["contributions"].values()) == pytest.approx(sector["score"], abs=1e-5)
        low, high = sector["rank_interval"]
        assert 1 <= low <= high <= len(data["sectors"])
        assert 0 <= sector["p_top_k"] <= 1
        ranks.append(sector["rank"])
    assert ranks == sorted(ranks)
    assert data["sectors"][0]["nearest_town"]["name"] == "Test town" or ranks[0] == 1


def test_filters_apply_before_the_analysis(layers_kw):
    dates = ["2024-01-01"] * 20 + ["2025-06-01"] * 20
    result = run_analysis(
        _incidents(_cluster(), dates=dates),
        AnalysisParameters(since=pd.Timestamp("2025-01-01").date()),
        **layers_kw,
    )
    assert len(result.incidents) == 20
    assert {"chainage_km", "offset_m", "sector_id"} <= set(result.incidents.columns)


def _same_result(staged, whole):
    assert_frame_equal(
        pd.DataFrame(staged.sectors.drop(columns="geometry")),
        pd.DataFrame(whole.sectors.drop(columns="geometry")),
    )
    assert staged.sectors.geometry.geom_equals_exact(whole.sectors.geometry, 0).all()
    assert json.dumps(staged.to_json_dict()) == json.dumps(whole.to_json_dict())


def test_the_staged_path_gives_exactly_what_run_analysis_gives(layers_kw):
    dates = [f"2025-{1 + i % 12:02d}-01" for i in range(40)]
    incidents = _incidents(_cluster(), dates=dates)
    kw = {k: v for k, v in layers_kw.items() if k not in ("line", "countries")}
    base = AnalysisParameters(types=("seizure",), half_life_days=120.0, draws=300, seed=7)
    line, countries = layers_kw["line"], layers_kw["countries"]
    surface = measure_surface(incidents, base, line=line)
    zones = measure_zones(base, line=line, countries=countries, **kw)
    criteria = measure_sectors(surface, zones, base, line=line, countries=countries)
    # stages A-C computed once, ranked under three weightings and normalisations
    for ranking in [
        {},
        {"weights": ZERO | {"line_uncertainty": 1.0, "exposure": 0.5}},
        {"weights": ZERO | {"crossings": 1.0}, "normalisation": "rank", "top_k": 2},
    ]:
        params = AnalysisParameters(**(vars(base) | ranking))
        staged = rank_sectors(criteria, params)
        _same_result(staged, run_analysis(incidents, params, **layers_kw))
    assert (
        staged.sectors["sector_id"].iloc[0] != rank_sectors(criteria).sectors["sector_id"].iloc[0]
    )
    # stage D refuses parameters that stages A-C were not computed with
    with pytest.raises(ConfigurationError, match=r"types=\('seizure',\).*types=\('clash',\)"):
        rank_sectors(criteria, AnalysisParameters(**(vars(base) | {"types": ("clash",)})))
    with pytest.raises(ConfigurationError, match=r"sector_km=5.0.*sector_km=2.0.*recompute"):
        measure_sectors(surface, zones, AnalysisParameters(**(vars(base) | {"sector_km": 2.0})))


def _no_attrs(frame):
    frame.attrs = {}
    return frame


def test_incidents_located_once_for_the_store_give_the_same_sectors(layers_kw):
    from geo.sectors import locate_incidents

    types = ["seizure", "clash"] * 20
    dates = [f"2025-{1 + i % 12:02d}-01" for i in range(40)]
    stored = _incidents(_cluster(), dates=dates, types=types)
    stored = pd.concat([stored, _incidents(_cluster(20, at_km=41.0, seed=3))], ignore_index=True)
    kw = {k: v for k, v in layers_kw.items() if k not in ("line", "countries")}
    line, countries = layers_kw["line"], layers_kw["countries"]
    params = AnalysisParameters(types=("seizure",), since=pd.Timestamp("2025-03-01").date())
    surface = measure_surface(stored, params, line=line)
    zones = measure_zones(params, line=line, countries=countries, **kw)
    everywhere = locate_incidents(
        stored, line, sector_km=params.sector_km, corridor_km=params.corridor_km
    )
    fresh = measure_sectors(surface, zones, params, line=line, countries=countries)
    reused = measure_sectors(
        surface, zones, params, line=line, countries=countries, located=everywhere
    )
    assert 0 < len(surface.incidents) < len(stored)
    assert_frame_equal(reused.raw, fresh.raw)
    # The same with the store's coordinates projected once for every filter.
    from geo.grid import project_frame

    projected = measure_surface(stored, params, line=line, xy=project_frame(stored))
    assert_array_equal(projected.density.values, surface.density.values)
    with pytest.raises(ConfigurationError, match="not in the table of metric coordinates"):
        measure_surface(stored, params, line=line, xy=project_frame(stored).iloc[5:])
    assert_frame_equal(reused.incidents, fresh.incidents)
    assert reused.in_corridor == fresh.in_corridor
    # Locations made with another sector layout, or lacking incidents, are refused.
    with pytest.raises(ConfigurationError, match=r"incident locations.*sector_km=2\.0"):
        measure_sectors(surface, zones, params, line=line,
                        located=locate_incidents(stored, line, sector_km=2.0))  # fmt: skip
    with pytest.raises(ConfigurationError, match="not in the table of incident locations"):
        measure_sectors(surface, zones, params, line=line, located=everywhere.iloc[:10])
    with pytest.raises(ConfigurationError, match="carry no options"):
        measure_sectors(surface, zones, params, line=line,
                        located=everywhere.copy().pipe(_no_attrs))  # fmt: skip


def test_parameters_validate_and_round_trip():
    with pytest.raises(ConfigurationError, match=r"sector_km=0 must be a positive number"):
        AnalysisParameters(sector_km=0)
    with pytest.raises(ConfigurationError, match=r"top_k=0 must be a whole number"):
        AnalysisParameters(top_k=0)
    with pytest.raises(ConfigurationError, match=r"criterion 'slope' is unknown"):
        AnalysisParameters(weights={"slope": 1})
    with pytest.raises(ConfigurationError, match=r"since=2025-02-01 is after until=2025-01-01"):
        AnalysisParameters(
            since=pd.Timestamp("2025-02-01").date(), until=pd.Timestamp("2025-01-01").date()
        )
    args = argparse.Namespace(sector_km=1.0, weights={"terrain": 2.0}, since=None, format="json")
    params = AnalysisParameters.from_args(args)
    assert params.sector_km == 1.0 and params.since is None
    d = params.to_dict()
    json.dumps(d)
    assert d["weights"]["terrain"] == pytest.approx(2.0 / (2.0 + 0.9))
    assert d["min_incidents_for_ranking"] == settings.MIN_INCIDENTS_FOR_RANKING


def test_an_analyst_terrain_file_that_is_missing_is_an_error(layers_kw, tmp_path):
    params = AnalysisParameters(terrain=str(tmp_path / "nope.tif"))
    with pytest.raises(LayerError, match=r"nope.tif.*does not exist"):
        run_analysis(_incidents(_cluster()), params, **layers_kw)


# --- The command line on the bundled layers and sample ----------------------------------------


@pytest.fixture(scope="module")
def bundled():
    layers = pytest.importorskip("layers")
    try:
        for name in ("towns", "crossings", "border_candidates"):
            layers.load_layer(name)
        layers.load_border_line()
    except (AttributeError, LayerError) as exc:
        pytest.skip(f"bundled layers not built: {exc}")


def test_cli_json_on_the_bundled_sample(bundled, capsys):
    from geo.cli import main

    assert main(["analyze", "--format", "json", "--draws", "200"]) == 0
    data = json.loads(capsys.readouterr().out)
    # The bundled record of reported incidents (issue 15) ranks on evidence.
    assert data["evidence_ok"] is True
    assert "incidents lie in the" in data["message"] and data["hotspots"]["computed"] is True
    assert data["parameters"]["sector_km"] == 5.0 and data["parameters"]["draws"] == 200
    sectors = data["sectors"]
    assert [s["rank"] for s in sectors] == sorted(s["rank"] for s in sectors)
    spans = sorted((s["chainage_start_km"], s["chainage_end_km"]) for s in sectors)
    assert spans[0][0] == 0 and all(a[1] == b[0] for a, b in itertools.pairwise(spans))


def test_cli_table_and_csv(bundled, capsys):
    from geo.cli import main

    assert main(["analyze", "--limit", "3", "--draws", "200", "--top-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "EVIDENCE OK" in out and "LIMITED EVIDENCE" not in out
    assert "unofficial crossings: only those a report names" in out
    assert "p_top_k" in out and "main driver" in out
    assert main(["analyze", "--format", "csv", "--draws", "200", "--sector-km", "10"]) == 0
    table = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert {"rank", "sector_id", "score", "rank_low", "rank_high"} <= set(table.columns)
    assert table["chainage_end_km"].max() > 300 and len(table) == int(
        np.ceil(table["chainage_end_km"].max() / 10)
    )


def test_the_analysis_reads_no_unread_field_and_gets_them_back_whole(bundled):
    """Analysed without the free text and provenance, the bundled record ranks the same.

    And ``with_every_field`` gives back exactly the incidents a whole analysis holds
    (what the app's files and report are made from).
    """
    from geopandas.testing import assert_geodataframe_equal

    from geo.analysis import UNREAD_FIELDS, with_every_field
    from geo.ingest import open_seeded_store
    from layers.reference import ReferenceLayers

    stored = open_seeded_store().read()  # the bundled sample, seeded in this test's folder
    assert set(UNREAD_FIELDS) <= set(stored.columns)
    assert stored["description"].notna().all() and stored["source"].notna().all()
    narrow = stored.drop(columns=list(UNREAD_FIELDS))
    params = AnalysisParameters(types=("seizure", "clash", "smuggling"), draws=200)
    reference = ReferenceLayers.bundled()
    whole = run_analysis(stored, params, reference=reference)
    analysed = run_analysis(narrow, params, reference=reference)
    _same_result(analysed, whole)
    assert_array_equal(analysed.density.values, whole.density.values)
    assert_frame_equal(
        pd.DataFrame(analysed.hotspots.cells.drop(columns="geometry")),
        pd.DataFrame(whole.hotspots.cells.drop(columns="geometry")),
    )
    assert not set(UNREAD_FIELDS) & set(analysed.incidents.columns)
    rejoined = with_every_field(analysed, stored)
    assert_geodataframe_equal(rejoined.incidents, whole.incidents)
    assert rejoined.ranked is analysed.ranked  # the ranking is not made again
    with pytest.raises(ConfigurationError, match=r"not in the stored incidents; fix"):
        with_every_field(analysed, stored.drop(index=analysed.incidents.index[0]))
