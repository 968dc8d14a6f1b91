"""``python -m geo ingest``: exit codes, --accept-partial, --store, --format json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geo.cli import main
from geo.store import open_store

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).parent / "data"
HERMEL = [36.38472, 34.39417]


def _write(path, *features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def _feature(fid, **props):
    return {
        "type": "Feature",
        "properties": {"id": fid, "date": "2025-03-16", "type": "clash", **props},
        "geometry": {"type": "Point", "coordinates": HERMEL},
    }


def test_good_file_is_stored_and_exits_0(tmp_path, capsys):
    store = tmp_path / "s.gpkg"
    path = _write(tmp_path / "good.geojson", _feature("G1"), _feature("G2", type="arrest"))
    assert main(["ingest", str(path), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert "good.geojson: 2 feature(s), 2 accepted, 0 rejected" in out and "stored as batch" in out
    assert sorted(open_store(store).read()["id"]) == ["G1", "G2"]  # created empty: no seed


def test_rejected_feature_stores_nothing_and_exits_2_unless_partial(tmp_path, capsys):
    store = tmp_path / "s.gpkg"
    path = _write(tmp_path / "mixed.geojson", _feature("OK"), _feature("BAD", type="raid"))
    assert main(["ingest", str(path), "--store", str(store)]) == 2
    out = capsys.readouterr().out
    assert "feature 1 (id 'BAD'): type='raid': unknown type" in out
    assert "nothing stored" in out
    assert open_store(store).count() == 0
    assert main(["ingest", str(path), "--store", str(store), "--accept-partial"]) == 0
    assert open_store(store).read()["id"].tolist() == ["OK"]


def test_json_report_has_counts_rejections_warnings_and_batch(tmp_path, capsys):
    store = tmp_path / "s.gpkg"
    path = _write(
        tmp_path / "mixed.geojson",
        _feature("OK"),
        _feature("BAD", date="2999-01-01"),
        _feature("NEAR", date="2025-03-17"),
    )
    code = main(
        ["ingest", str(path), "--store", str(store), "--accept-partial", "--format", "json"]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert report["accepted"] == 2 and report["rejected_count"] == 1 and report["stored"]
    assert report["rejected"][0]["index"] == 1 and report["rejected"][0]["id"] == "BAD"
    assert report["rejected"][0]["problems"][0]["field"] == "date"
    assert "future" in report["rejected"][0]["problems"][0]["reason"]
    assert {w["id"] for w in report["warnings"]} == {"OK", "NEAR"}  # likely duplicates
    batches = open_store(store).batches()
    assert report["batch_id"] == batches["batch_id"].iloc[-1]


def test_several_files_each_become_a_batch(tmp_path, capsys):
    store = tmp_path / "s.gpkg"
    a = _write(tmp_path / "a.geojson", _feature("A"))
    b = _write(tmp_path / "b.geojson", _feature("A"))  # same id as a.geojson
    assert main(["ingest", str(a), str(b), "--store", str(store), "--format", "json"]) == 2
    out = json.loads(capsys.readouterr().out)
    assert [f["stored"] for f in out["files"]] == [True, False]
    assert "already in the store" in out["files"][1]["rejected"][0]["problems"][0]["reason"]
    assert len(open_store(store).batches()) == 1


def test_default_store_is_seeded_and_honours_the_environment(tmp_path, capsys):
    path = _write(tmp_path / "x.geojson", _feature("X1", date="2025-01-05"))
    assert main(["ingest", str(path)]) == 0
    store = open_store()
    assert store.path == Path(os.environ["BORDERMON_STORE"])
    assert "X1" in set(store.read()["id"]) and len(store.batches()) == 2  # seed + upload


def test_unreadable_file_exits_2_with_the_reason(tmp_path, capsys):
    assert (
        main(
            ["ingest", str(DATA / "bad" / "not_json.geojson"), "--store", str(tmp_path / "s.gpkg")]
        )
        == 2
    )
    assert "not JSON" in capsys.readouterr().out


def test_missing_file_exits_2(tmp_path, capsys):
    assert (
        main(["ingest", str(tmp_path / "none.geojson"), "--store", str(tmp_path / "s.gpkg")]) == 2
    )
    assert "cannot be read" in capsys.readouterr().out


def test_acled_file_through_the_module_entry_point(tmp_path):
    store = tmp_path / "s.gpkg"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "geo",
            "ingest",
            str(DATA / "acled_sample.csv"),
            "--store",
            str(store),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["accepted"] == 6
    assert open_store(store).count() == 6


@pytest.mark.parametrize("option", ["--accept-partial", "--store", "--format"])
def test_help_lists_the_options(option, capsys):
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    assert option in capsys.readouterr().out
