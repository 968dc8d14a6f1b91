"""The command line: help for every option, one-line errors, exit codes, report end to end."""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
from pypdf import PdfReader

from geo import settings
from geo.cli import COMMANDS, EXIT_ERROR, EXIT_USAGE, build_parser, main
from geo.cli.layers_command import format_table

ROOT = Path(__file__).resolve().parent.parent
#: Commands that read the store, with the options each requires (``{tmp}``: a tmp folder).
READERS = {
    "analyze": [],
    "density": ["--out", "{tmp}/d.tif"],
    "hotspots": ["--out", "{tmp}/h.gpkg"],
    "report": ["--out", "{tmp}/report"],
}


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_every_command_is_available_and_every_option_explained():
    parsers = _subparsers()
    assert sorted(parsers) == sorted(COMMANDS)
    for name, parser in parsers.items():
        assert parser.description, name
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_exits_zero(command, capsys):
    code, out, _ = _run([command, "--help"] if command else ["--help"], capsys)
    assert code == 0
    assert out.startswith("usage: python -m geo")
    if command is None:
        for name in COMMANDS:
            assert name in out


BAD_OPTIONS = [
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["report"], "the following arguments are required: --out"),
    (["report", "--out", "x", "--format", "pdf,docx"], "unknown format(s) docx"),
    (["report", "--out", "x", "--format", ","], "unknown format(s) (none given)"),
    (["report", "--out", "x", "--top-n", "0"], "'0' must be at least 1"),
    (["layers", "--format", "xml"], "invalid choice: 'xml'"),
    (["ingest"], "the following arguments are required: FILE"),
    (["hotspots"], "the following arguments are required: --out"),
    (["density"], "the following arguments are required: --out"),
    (["analyze", "--format", "pdf"], "invalid choice: 'pdf'"),
]
for _command, _extra in READERS.items():
    _base = [_command, *(a.replace("{tmp}", "/tmp") for a in _extra)]
    BAD_OPTIONS += [
        ([*_base, "--since", "2025-02-30"], "'2025-02-30' is not a date"),
        ([*_base, "--until", "yesterday"], "'yesterday' is not a date"),
        ([*_base, "--types", "seizure,bribery"], "unknown incident type(s) bribery"),
    ]
    if _command != "hotspots":
        BAD_OPTIONS += [([*_base, "--bandwidth-m", "-5"], "must be a positive finite number")]
    if _command in ("analyze", "report"):
        BAD_OPTIONS += [
            ([*_base, "--weights", "beauty=1"], "is not name=value with a known criterion"),
            ([*_base, "--weights", "trend=-1"], "weight of trend must be zero or positive"),
            ([*_base, "--sector-km", "0"], "'0' must be a positive finite number"),
            ([*_base, "--top-k", "two"], "'two' is not a whole number"),
        ]


@pytest.mark.parametrize(("argv", "message"), BAD_OPTIONS, ids=lambda v: " ".join(v))
def test_bad_options_are_one_line_and_exit_2(argv, message, capsys):
    code, out, err = _run(argv, capsys)
    assert code == EXIT_USAGE
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m geo")
    assert message in lines[0]
    assert "--help" in lines[0]


@pytest.mark.parametrize("command", sorted(READERS))
def test_an_explicit_missing_store_is_one_line_and_exit_1(command, tmp_path, capsys):
    missing = tmp_path / "nowhere" / "incidents.gpkg"
    extra = [a.replace("{tmp}", str(tmp_path)) for a in READERS[command]]
    code, out, err = _run([command, *extra, "--store", str(missing)], capsys)
    assert code == EXIT_ERROR
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert str(missing) in err and "does not exist" in err
    assert not missing.exists()
    assert not (tmp_path / "report").exists()  # nothing written


@pytest.mark.parametrize("command", ["ingest", *sorted(READERS)])
def test_a_store_url_is_one_line_exit_1_and_creates_nothing(command, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    url = "mysql://u@127.0.0.1:1/db"  # postgresql:// is a PostGIS store (the test below)
    extra = [a.replace("{tmp}", str(tmp_path)) for a in READERS.get(command, [])]
    if command == "ingest":
        extra = [str(ROOT / "data" / "sample_incidents.geojson")]
    code, out, err = _run([command, *extra, "--store", url], capsys)
    assert code == EXIT_ERROR
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert url in err and "only a GeoPackage file is supported" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["ingest", *sorted(READERS)])
def test_an_unreachable_database_is_one_line_exit_1_and_creates_nothing(
    command, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    url = "postgresql://u:hunter2@127.0.0.1:1/db"
    extra = [a.replace("{tmp}", str(tmp_path)) for a in READERS.get(command, [])]
    if command == "ingest":
        extra = [str(ROOT / "data" / "sample_incidents.geojson")]
    code, out, err = _run([command, *extra, "--store", url], capsys)
    assert code == EXIT_ERROR
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("error: incident store postgresql://u@127")
    assert "cannot connect to 127.0.0.1 port 1" in err and "hunter2" not in err
    assert list(tmp_path.iterdir()) == []


def test_ingest_creates_an_explicit_new_store(tmp_path, capsys):
    store = tmp_path / "new" / "incidents.gpkg"
    code, _, _ = _run(
        ["ingest", str(ROOT / "data" / "sample_incidents.geojson"), "--store", str(store)],
        capsys,
    )
    assert code == 0 and store.is_file()


def test_report_out_that_is_a_file_is_refused(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("x")
    code, _, err = _run(["report", "--out", str(target)], capsys)
    assert code == EXIT_ERROR
    assert (
        err == f"error: --out {str(target)!r} is a file, not a folder; fix: give a folder "
        "(it is created if missing)\n"
    )


def test_a_real_process_prints_no_traceback(tmp_path):
    missing = tmp_path / "missing.gpkg"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "geo",
            "report",
            "--out",
            str(tmp_path / "r"),
            "--store",
            str(missing),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == EXIT_ERROR
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("error: incident store")
    assert completed.stderr.count("\n") == 1


def test_layers_lists_every_layer_with_its_licence(capsys):
    import layers

    code, out, _ = _run(["layers"], capsys)
    assert code == 0
    for name in layers.LAYER_NAMES:
        assert f"\n{name} " in out
    assert "OpenStreetMap contributors" in out and "ODbL" in out
    code, out, _ = _run(["layers", "--format", "json"], capsys)
    records = json.loads(out)
    assert {r["name"] for r in records} >= set(layers.LAYER_NAMES)
    assert all(r.get("licence") for r in records)


def test_layer_table_wraps_long_text_into_its_columns():
    table = format_table([{"name": "border", "licence": "x " * 40, "source": "y" * 120}])
    lines = table.splitlines()
    assert len(lines) > 3
    width = len(lines[1])
    assert all(len(line) <= width for line in lines)
    assert "—" in lines[2]  # a missing field is shown as missing, not invented


def test_report_end_to_end_on_the_bundled_sample(tmp_path, capsys):
    out_dir = tmp_path / "out"
    code, out, err = _run(
        ["report", "--out", str(out_dir), "--cell-m", "2000", "--draws", "200", "--top-n", "5"],
        capsys,
    )
    assert code == 0, err
    written = [Path(line) for line in out.splitlines()]
    assert [p.name for p in written] == [
        "report.pdf",
        "report.gpkg",
        "sectors.geojson",
        "sectors.csv",
        "density.tif",
        "map.html",
        "incidents.csv",  # issue 11: the incidents beside the sectors
        "incidents_acled.csv",
        "incidents.geojson",
        "manifest.json",
    ]
    # The bundled record (issue 15) is enough for an incident-based ranking: no warning.
    assert err == ""
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    for record in manifest["outputs"]:
        digest = hashlib.sha256((out_dir / record["file"]).read_bytes()).hexdigest()
        assert record["sha256"] == digest
    assert manifest["parameters"]["cell_m"] == 2000.0 and manifest["parameters"]["draws"] == 200
    assert "--cell-m 2000" in manifest["command"] and "--store" in manifest["command"]
    assert any(i["name"] == "sample_incidents.geojson" for i in manifest["inputs"])
    layers_in_gpkg = sorted(pyogrio.list_layers(out_dir / "report.gpkg")[:, 0])
    assert layers_in_gpkg == ["hotspots", "incidents", "sectors"]  # 30 incidents or more
    sectors = pyogrio.read_dataframe(out_dir / "sectors.geojson")
    assert len(pd.read_csv(out_dir / "sectors.csv")) == len(sectors) > 50
    top = sectors.sort_values("rank").iloc[0]
    text = "".join(page.extract_text() for page in PdfReader(out_dir / "report.pdf").pages)
    assert f"Top sector: {int(top['sector_id'])}," in text
    page = (out_dir / "map.html").read_text(encoding="utf-8")
    assert "<script src=" not in page and "Content-Security-Policy" in page
    assert settings.REPORT_FORMATS == ("pdf", "gpkg", "geojson", "csv", "tif", "html")


def test_report_without_incidents_skips_the_density_and_says_why(tmp_path, capsys):
    out_dir = tmp_path / "out"
    (out_dir).mkdir()
    (out_dir / "density.tif").write_bytes(b"an older surface")
    argv = ["report", "--out", str(out_dir), "--since", "2030-01-01", "--format", "tif,csv"]
    code, out, err = _run([*argv, "--cell-m", "4000", "--draws", "50"], capsys)
    assert code == 0, err
    assert [Path(p).name for p in out.splitlines()] == [
        "sectors.csv",
        "incidents.csv",
        "incidents_acled.csv",
        "manifest.json",
    ]
    assert err.splitlines()[0].startswith("warning: density.tif not written: density not computed")
    assert not (out_dir / "density.tif").exists()  # no stale surface left beside the new files
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["skipped"][0]["format"] == "tif" and manifest["incidents"] == 0


def test_report_manifest_names_who_generated_it(tmp_path, capsys):
    from geo.store.base import current_user

    out_dir = tmp_path / "out"
    argv = ["report", "--out", str(out_dir), "--since", "2030-01-01", "--format", "csv"]
    code, _, err = _run([*argv, "--cell-m", "4000", "--draws", "50"], capsys)
    assert code == 0, err
    manifest = json.loads((out_dir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generated_by"] == current_user()
