"""The Streamlit app through AppTest: start, filters, weights, upload and config."""

from __future__ import annotations

import datetime as dt
import io
import json
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest

import layers
from geo import settings

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 180


def _sites() -> list[tuple[str, float, float]]:
    """Return three real places close to the border: towns within 4 km, else border points."""
    line = layers.load_border_line()
    towns = layers.load_layer("towns")
    if len(towns):
        metric_line = gpd.GeoSeries([line], crs=4326).to_crs(settings.METRIC_CRS).iloc[0]
        distance = towns.to_crs(settings.METRIC_CRS).distance(metric_line)
        near = towns[distance < 4_000].sort_values("name")
        if len(near) >= 3:
            picked = near.iloc[[0, len(near) // 2, len(near) - 1]]
            return [(str(r["name"]), r.geometry.x, r.geometry.y) for _, r in picked.iterrows()]
    points = [line.interpolate(f, normalized=True) for f in (0.15, 0.5, 0.85)]
    return [(f"border {f}", p.x, p.y) for f, p in zip((0.15, 0.5, 0.85), points, strict=True)]


def _feature(i: int, kind: str, site: tuple[str, float, float], **extra) -> dict:
    name, x, y = site
    props = {
        "id": f"T-{kind}-{i}",
        "date": f"2025-{1 + i % 12:02d}-{1 + i % 27:02d}",
        "type": kind,
        "description": f"test incident {i} near {name}",
        "location_precision_m": 500,
        "source": "test fixture",
    }
    props.update(extra)
    return {
        "type": "Feature",
        "properties": props,
        "geometry": {"type": "Point", "coordinates": [x, y]},
    }


def _collection(features: list[dict]) -> bytes:
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.fixture(scope="module")
def seeded_store(tmp_path_factory) -> Path:
    """A store with 24 seizures at one site and 12 clashes at another (real places)."""
    from geo.ingest import store_report, validate_file
    from geo.store import open_store

    sites = _sites()
    features = [_feature(i, "seizure", sites[0]) for i in range(24)]
    features += [_feature(i, "clash", sites[2]) for i in range(12)]
    path = tmp_path_factory.mktemp("store") / "incidents.gpkg"
    store = open_store(path, create=True)
    border = layers.load_border_line()
    report = validate_file(
        _collection(features), filename="seed.geojson", existing=store, border=border
    )
    assert report.accepted_count == 36, report.to_text()
    store_report(store, report)
    return path


@pytest.fixture
def app(seeded_store, monkeypatch) -> AppTest:
    monkeypatch.setenv(settings.STORE_ENV_VAR, str(seeded_store))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    return at.run()


def _count_caption(at: AppTest) -> str:
    """Return the caption that counts the stored incidents."""
    return next(c.value for c in at.caption if "stored incidents" in c.value)


def _ranked(at: AppTest):
    return next(d.value for d in at.dataframe if "rank" in d.value.columns)


def test_app_starts_without_exception(app):
    assert not app.exception
    assert not app.error
    table = _ranked(app)
    assert len(table) > 10
    assert table["rank"].tolist() == sorted(table["rank"].tolist())
    assert "36 of 36 stored incidents" in _count_caption(app)


def test_app_says_the_bundled_incidents_are_a_record_of_reporting(app):
    # under the title, before anything else: what the bundled incidents are and are not
    assert "a record of public reporting, not ground truth" in app.caption[0].value


def test_type_filter_changes_the_table(app):
    before = _ranked(app)
    types = next(m for m in app.multiselect if m.label == "Incident types")
    assert set(types.value) == set(settings.INCIDENT_TYPES)
    types.set_value(["clash"]).run()
    assert not app.exception
    after = _ranked(app)
    assert "12 of 36 stored incidents" in _count_caption(app)
    assert before["incident density"].sum() != pytest.approx(after["incident density"].sum())
    # the seizures' sector leads with every type, the clashes' sector with clashes only
    assert before["sector"].iloc[0] != after["sector"].iloc[0]


def test_changing_a_weight_changes_the_ranking(app):
    before = _ranked(app)[["sector", "score"]]
    for criterion in settings.PRIORITY_WEIGHTS:
        value = 1.0 if criterion == "exposure" else 0.0
        app.slider(key=f"w_{criterion}").set_value(value)
    app.run()
    assert not app.exception
    after = _ranked(app)[["sector", "score"]]
    assert before["sector"].tolist() != after["sector"].tolist()


STAGES = ("measure_surface", "measure_zones", "measure_sectors", "rank_sectors")


def _stage_runs(at: AppTest, change) -> dict[str, int]:
    """Return how many times each analysis stage computed during ``change(at).run()``."""
    from geo.analysis import STAGE_RUNS

    before = dict(STAGE_RUNS)
    change(at).run()
    assert not at.exception
    return {s: STAGE_RUNS[s] - before.get(s, 0) for s in STAGES}


def test_each_change_reruns_only_the_stages_that_depend_on_it(app):
    # values no other test uses, so that nothing is a cache hit by chance
    weight = _stage_runs(app, lambda at: at.slider(key="w_terrain").set_value(0.65))
    assert weight == {"measure_surface": 0, "measure_zones": 0, "measure_sectors": 0,
                      "rank_sectors": 1}  # fmt: skip
    types = next(m for m in app.multiselect if m.label == "Incident types")
    kinds = _stage_runs(app, lambda at: types.set_value(["seizure", "smuggling"]))
    assert kinds == {"measure_surface": 1, "measure_zones": 0, "measure_sectors": 1,
                     "rank_sectors": 1}  # fmt: skip
    sectors = _stage_runs(app, lambda at: at.slider(key="sector_km").set_value(7.5))
    assert sectors == {"measure_surface": 0, "measure_zones": 1, "measure_sectors": 1,
                       "rank_sectors": 1}  # fmt: skip
    assert _stage_runs(app, lambda at: at) == dict.fromkeys(STAGES, 0)
    # and what the app ranks is what run_analysis ranks with the same options
    from geo.analysis import AnalysisParameters, run_analysis
    from geo.store import open_store
    from layers.reference import ReferenceLayers

    expected = run_analysis(
        open_store().read(),
        AnalysisParameters(
            types=("seizure", "smuggling"),
            sector_km=7.5,
            weights=settings.PRIORITY_WEIGHTS | {"terrain": 0.65},
        ),
        reference=ReferenceLayers.bundled(),
    )
    shown = _ranked(app)  # the table shows scores to 6 decimals
    assert shown["sector"].tolist() == expected.sectors["sector_id"].astype(str).tolist()
    assert shown["score"].tolist() == pytest.approx(expected.sectors["score"].tolist(), abs=1e-6)


def test_valid_upload_shows_the_report_then_commits(app):
    site = _sites()[1]
    data = _collection([_feature(i, "smuggling", site) for i in range(3)])
    app.tabs[1]  # the upload tab exists
    uploader = app.file_uploader[0]
    uploader.set_value(("new.geojson", data, "application/geo+json")).run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics == {"Accepted": "3", "Rejected": "0", "Warnings": "0"}
    commit = app.button(key="commit")
    assert commit.label == "Commit 3 valid incident(s)"
    commit.click().run()
    assert not app.exception
    assert "Stored 3 incident(s)" in app.success[0].value
    assert "39 of 39 stored incidents" in _count_caption(app)
    app.button(key="undo").click().run()
    assert "Removed 3 incident(s)" in app.success[0].value
    assert "36 of 36 stored incidents" in _count_caption(app)


def test_invalid_upload_lists_each_rejected_feature(app):
    site = _sites()[1]
    bad = _feature(1, "picnic", site, description="<img src=x onerror=alert(1)>")
    good = _feature(2, "arrest", site)
    no_geometry = dict(_feature(3, "arrest", site), geometry=None)
    data = _collection([good, bad, no_geometry])
    app.file_uploader[0].set_value(("bad.geojson", data, "application/geo+json")).run()
    assert not app.exception
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Accepted"] == "1"
    assert metrics["Rejected"] == "2"
    assert "2 feature(s) rejected" in app.error[0].value
    problems = next(d.value for d in app.dataframe if "reason" in d.value.columns)
    errors = problems[problems["severity"] == "error"]
    assert sorted(errors["feature"]) == ["1", "2"]
    assert "type" in set(errors["field"])
    assert "geometry" in set(errors["field"])
    assert app.button(key="commit").label == "Commit 1 valid incident(s)"
    # user text is shown escaped in the tables
    preview = next(d.value for d in app.dataframe if "description" in d.value.columns)
    assert not any("<img" in str(v) for v in preview["description"])
    app.button(key="cancel").click().run()
    assert not [m for m in app.metric if m.label == "Accepted"]


def test_unreadable_upload_is_rejected_as_a_whole(app):
    app.file_uploader[0].set_value(("x.geojson", b"{not json", "application/json")).run()
    assert not app.exception
    assert "rejected as a whole" in app.error[0].value
    assert app.button(key="commit").disabled


def test_config_is_local_private_and_matches_the_upload_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert config["server"]["headless"] is True
    assert config["server"]["enableStaticServing"] is True
    assert config["server"]["maxUploadSize"] * 2**20 == settings.MAX_UPLOAD_BYTES
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["showErrorDetails"] in ("none", False)
    # the server watches no source file (the watcher's walk of every module, per session,
    # held the event loop that serves the page's scripts)
    assert config["server"]["fileWatcherType"] == "none"


def test_no_cdn_is_referenced_anywhere_in_the_app():
    for path in [ROOT / "app.py", *sorted((ROOT / "mapview").glob("*.py"))]:
        text = path.read_text()
        for host in ("cdn.", "cdnjs", "unpkg.com", "code.jquery.com", "googleapis"):
            assert host not in text or path.name in {"assets.py", "standalone.py"}, (path, host)


def test_sites_are_real_places_near_the_border():
    line = gpd.GeoSeries([layers.load_border_line()], crs=4326).to_crs(settings.METRIC_CRS)
    for _, x, y in _sites():
        point = gpd.GeoSeries([shapely.Point(x, y)], crs=4326).to_crs(settings.METRIC_CRS)
        assert point.distance(line.iloc[0]).iloc[0] < 4_000


def test_downloads_are_prepared_on_request(app):
    assert not app.get("download_button")
    app.button(key="prepare_downloads").click().run()
    assert not app.exception
    buttons = app.get("download_button")
    labels = [b.proto.label for b in buttons]
    assert labels[:3] == ["Sectors (CSV)", "Sectors (GeoJSON)", "Sectors (GeoPackage)"]
    assert labels[-1] == "Report (PDF)"


def test_the_seeded_sample_cannot_be_undone_from_the_app(tmp_path, monkeypatch):
    # A new store holds only the bundled sample: nothing an analyst uploaded, so no undo.
    monkeypatch.setenv("BORDERMON_STORE", str(tmp_path / "fresh" / "incidents.gpkg"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert not [b for b in at.button if b.key == "undo"]
    assert any("No upload to undo" in c.value for c in at.caption)


def test_incident_downloads_are_offered(app, monkeypatch):
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    sent: dict[str, bytes] = {}  # each download's bytes, by file name, as handed to Streamlit
    load = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        sent[filename] = path_or_data
        return load(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    app.button(key="prepare_downloads").click().run()
    assert not app.exception
    labels = [b.proto.label for b in app.get("download_button")]
    assert {"Incidents (CSV)", "Incidents (ACLED CSV)", "Incidents (GeoJSON)"} <= set(labels)
    # Every field of the selected incidents, though the page analyses them without the
    # free text and provenance (geo.analysis.UNREAD_FIELDS).
    table = pd.read_csv(io.BytesIO(sent["border-incidents.csv"]))
    assert len(table) == 36 and table["sector_id"].notna().any()
    assert sorted(table["description"]) == sorted(
        [f"test incident {i} near {_sites()[0][0]}" for i in range(24)]
        + [f"test incident {i} near {_sites()[2][0]}" for i in range(12)]
    )
    assert set(table["source"]) == {"test fixture"} and table["batch_id"].notna().all()
    features = json.loads(sent["border-incidents.geojson"])["features"]
    assert {f["properties"]["source"] for f in features} == {"test fixture"}


def test_time_panels_emerging_layer_timelines_sector_chart_and_comparison(app):
    # emerging hot spots: a layer on the map (its caption names the method)
    app.checkbox(key="emerging").check().run()
    assert not app.exception
    said = [c.value.replace("\\", "") for c in app.caption if "merging hot spots" in c.value]
    # the app's test store spans too few 30-day slices: the caption says so in one line
    assert said and ("space-time Gi*" in said[0] or "at least 10 slices" in said[0]), said
    # the ranked table carries each sector's monthly incidents
    table = next(d for d in app.dataframe if "monthly incidents" in d.value.columns)
    counts = [list(v) for v in table.value["monthly incidents"]]
    assert len({len(c) for c in counts}) == 1  # every sector over the same months
    assert sum(sum(c) for c in counts) > 0
    # comparing with an earlier period shows what changed
    app.checkbox(key="compare").check().run()
    app.sidebar.date_input(key="compare_dates").set_value(
        (dt.date(2025, 1, 1), dt.date(2025, 3, 31))
    ).run()
    assert not app.exception
    assert any(h.value == "What changed" for h in app.subheader)
    captions = [c.value.replace("\\", "") for c in app.caption]  # markdown-escaped
    assert any("compared with 2025-01-01 to 2025-03-31" in c for c in captions), captions
    app.checkbox(key="compare").uncheck().run()
    app.checkbox(key="emerging").uncheck().run()


def _map_sends(monkeypatch) -> list[dict]:
    """Record the arguments of every map the page sends (streamlit-folium's component)."""
    import streamlit_folium as sf

    sent: list[dict] = []
    original = sf._component_func

    def record(**kwargs):
        sent.append(kwargs)
        return original(**kwargs)

    monkeypatch.setattr(sf, "_component_func", record)
    return sent


def _map_builds(monkeypatch) -> dict[str, int]:
    """Count the map's builds and its incident layer's, during the runs that follow."""
    import mapview.builder as builder
    import webapp.stage_cache as stage_cache

    counts = {"map": 0, "data layers": 0, "incident layer": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)

        return wrapper

    monkeypatch.setattr(
        stage_cache, "build_reference_map", counted("map", stage_cache.build_reference_map)
    )
    monkeypatch.setattr(
        stage_cache, "data_layers_script", counted("data layers", stage_cache.data_layers_script)
    )
    layer = counted("incident layer", builder._add_incidents)
    monkeypatch.setattr(builder, "_add_incidents", layer)
    return counts


def test_a_weight_change_recolours_the_map_without_rebuilding_it(app, monkeypatch):
    sent = _map_sends(monkeypatch)
    builds = _map_builds(monkeypatch)
    app.run()
    before = sent[-1]
    # a weight no other test uses: the ranking is computed anew, the map is not
    app.slider(key="w_exposure").set_value(0.95).run()
    assert not app.exception
    assert builds == {"map": 0, "data layers": 0, "incident layer": 0}
    after = sent[-1]
    assert after["script"] == before["script"] and after["key"] == before["key"]
    assert after["feature_group"] != before["feature_group"]
    # the data layers are sent unchanged (the browser skips them: same key)
    data_part = before["feature_group"][: before["feature_group"].index("})(window.bordermonMap")]
    assert after["feature_group"].startswith(data_part)
    # what recolours the sectors is this run's ranking
    script = after["feature_group"]
    payload = json.loads(script[script.rindex("})(") + 3 : script.rindex(");")])
    table = _ranked(app)
    ranks = {sector: value[0] for sector, value in payload["sectors"].items()}
    assert ranks == dict(zip(table["sector"], table["rank"].astype(int), strict=True))


def test_a_filter_change_sends_new_data_layers_to_the_same_map(app, monkeypatch):
    sent = _map_sends(monkeypatch)
    builds = _map_builds(monkeypatch)
    app.run()
    before = sent[-1]
    types = next(m for m in app.multiselect if m.label == "Incident types")
    types.set_value(["seizure", "clash", "strike"]).run()
    assert not app.exception
    # the map is neither rebuilt nor re-sent: only its data layers, built once
    assert builds == {"map": 0, "data layers": 1, "incident layer": 1}
    after = sent[-1]
    assert after["script"] == before["script"] and after["key"] == before["key"]
    data = after["feature_group"]
    assert data != before["feature_group"]
    shown = _count_caption(app).split(" of ", 1)[0]
    assert f"Incidents ({shown})" in data  # the layer's label counts the filtered incidents
    start = data.index("legend.innerHTML = ") + len("legend.innerHTML = ")
    legend = json.JSONDecoder().raw_decode(data, start)[0]
    assert "seizure" in legend and "clash" in legend and "smuggling" not in legend
    # each incident's popup holds its stored text, though the filter leaves it out
    assert data.count("test fixture") == 36 and f"test incident 23 near {_sites()[0][0]}" in data


def test_the_shared_incidents_and_ranking_are_never_changed_by_the_page(
    seeded_store, tmp_path, monkeypatch
):
    """The cached objects are shared by every run and session: nothing may change them."""
    import shutil

    import pandas as pd
    from geopandas.testing import assert_geodataframe_equal

    from geo.analysis import rank_sectors
    from geo.store import open_store
    from geo.store.geopackage import GeoPackageStore

    for part in seeded_store.parent.glob(seeded_store.name + "*"):  # the file, its WAL
        shutil.copy(part, tmp_path / part.name)
    copy = tmp_path / seeded_store.name
    frames, tables = [], []
    read, rank = GeoPackageStore.read, rank_sectors

    def recorded_read(self, **kwargs):
        frames.append(read(self, **kwargs))
        return frames[-1]

    def recorded_rank(*args, **kwargs):
        result = rank(*args, **kwargs)
        tables.append((result.ranked, result.ranked.copy(deep=True)))
        return result

    monkeypatch.setattr(GeoPackageStore, "read", recorded_read)
    monkeypatch.setattr("geo.analysis.rank_sectors", recorded_rank)
    monkeypatch.setenv(settings.STORE_ENV_VAR, str(copy))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.slider(key="w_exposure").set_value(0.85).run()
    next(m for m in at.multiselect if m.label == "Incident types").set_value(["clash"]).run()
    at.checkbox(key="emerging").check().run()
    at.button(key="prepare_downloads").click().run()
    assert not at.exception
    assert frames and tables
    fresh = read(open_store(copy))
    for frame in frames:  # as read, after every run of the page
        assert_geodataframe_equal(frame, fresh)
    for shared, copied in tables:
        pd.testing.assert_frame_equal(pd.DataFrame(shared), pd.DataFrame(copied))


def test_the_default_page_computed_at_server_start_is_the_page_the_first_visit_needs(
    seeded_store, tmp_path, monkeypatch
):
    """What webapp.warmup computes when the server starts is what the first page asks."""
    import shutil

    from geo.analysis import STAGE_RUNS
    from geo.ingest import store_report, validate_file
    from geo.store import open_store
    from webapp import warmup

    for part in seeded_store.parent.glob(seeded_store.name + "*"):  # the file, its WAL
        shutil.copy(part, tmp_path / part.name)
    copy = tmp_path / seeded_store.name
    store = open_store(copy)  # content no other test has: its analysis is in no cache yet
    data = _collection([_feature(1, "seizure", _sites()[0], id="T-warm-up-1")])
    store_report(store, validate_file(data, filename="warm.geojson", existing=store.read()))
    monkeypatch.setenv(settings.STORE_ENV_VAR, str(copy))
    before = STAGE_RUNS.copy()
    assert warmup.warm_default_page() is True
    ran = STAGE_RUNS - before  # and the sector zones, unless an earlier test made them
    assert {k: ran[k] for k in ("measure_surface", "measure_sectors", "rank_sectors")} == {
        "measure_surface": 1, "measure_sectors": 1, "rank_sectors": 1
    }  # fmt: skip
    computed = STAGE_RUNS.copy()
    builds = _map_builds(monkeypatch)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    assert computed == STAGE_RUNS  # the first page computed no stage again
    assert builds["data layers"] == builds["incident layer"] == 0
    assert builds["map"] <= 1  # the frame's map, once per layout (an earlier test may have)
    assert _count_caption(at).startswith(f"{store.count():,} of {store.count():,}")


def test_serving_app_py_makes_an_st_app_and_leaves_the_map_component_to_the_page():
    """``streamlit run app.py`` finds the st.App; importing it must not import streamlit-folium.

    Streamlit registers a component only when it is declared during a run of the page; a
    module imported at server start that imported streamlit-folium would leave the map's
    frame without its component (a 404, seen before webapp.map_panel imported it late).
    """
    import subprocess
    import sys

    from streamlit.web.server.app_discovery import discover_asgi_app

    found = discover_asgi_app(ROOT / "app.py")
    assert found.is_asgi_app and found.import_string == "app:app"
    code = (
        "import sys, app, webapp.warmup, webapp.stage_cache\n"
        "import streamlit as st\n"
        "assert isinstance(app.app, st.App), type(app.app)\n"
        "print('streamlit_folium' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"


def test_the_controls_floor_page_draws_the_app_s_controls_and_nothing_else(tmp_path, monkeypatch):
    """``bench_app.py --browser`` times this page as the floor of the app's own controls.

    It must draw the very controls of the page (``app.sidebar``: the bench waits for its
    sliders) and read, compute and map nothing, or it would not be a floor.
    """
    store = tmp_path / "never.gpkg"
    monkeypatch.setenv(settings.STORE_ENV_VAR, str(store))
    at = AppTest.from_file(str(ROOT / "benchmarks" / "streamlit_controls_floor.py"))
    at.run(timeout=120)
    assert not at.exception
    assert not store.exists()  # no store opened, let alone read
    assert not at.get("component_instance") and not at.dataframe  # no map, no table
    page = AppTest.from_file(APP, default_timeout=120).run()  # the app's page, to compare
    assert [s.label for s in at.slider] == [s.label for s in page.sidebar.slider]
    assert len(at.slider) == 2 + len(settings.CRITERION_NAMES)
    assert [w.label for w in at.sidebar.multiselect] == ["Incident types"]
    assert at.markdown[-1].value == "The controls are drawn."
