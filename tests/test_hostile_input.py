"""Hostile and odd input through ``python -m geo ingest``: one clear message, the store untouched.

Every case of the bad-input corpus (``tests/data/bad``) is ingested through the CLI into
a store holding data (the bundled sample); the store file is compared byte for byte, with
its count and audit, before and after. Two cases are made here rather than kept in the
corpus: a 10 MB description (too big to commit) and a file whose name is HTML (not a
valid file name on every system). The odd files that must be accepted
(``tests/data/accepted``: byte-order mark, CRLF, a MultiPoint of one point, a layer named
like SQL) are stored, and give the same incidents as the plain file.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import geo.ingest
from geo.cli import main
from geo.ingest import seed_store, store_report, validate_file
from geo.store import open_store

DATA = Path(__file__).parent / "data"
BAD = DATA / "bad"
ACCEPTED = DATA / "accepted"
CASES = json.loads((BAD / "cases.json").read_text(encoding="utf-8"))
ACCEPTED_CASES = json.loads((ACCEPTED / "accepted.json").read_text(encoding="utf-8"))
HERMEL = [36.38472, 34.39417]
HTML_NAME = "<img src=x onerror=alert(1)>.geojson"


def _by_file(cases):
    grouped: dict[str, list[dict]] = {}
    for case in cases:
        grouped.setdefault(case["file"], []).append(case)
    return grouped


#: Files the CLI refuses (its default policy; a case's validation options are applied).
REFUSED = {
    file: group
    for file, group in _by_file(CASES).items()
    if any(c["severity"] == "error" and "outside_region" not in c.get("options", {}) for c in group)
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A store holding the bundled sample (a seed batch in its audit)."""
    path = tmp_path_factory.mktemp("seeded") / "incidents.gpkg"
    seed_store(open_store(path, create=True))
    return path


def _state(path: Path) -> tuple[str, int, pd.DataFrame]:
    store = open_store(path)
    return hashlib.sha256(path.read_bytes()).hexdigest(), store.count(), store.audit()


def _ingest(path: Path, store: Path, capsys, **options) -> tuple[int, str]:
    """Run ``python -m geo ingest`` in-process, with validation options if a case has any."""
    original = geo.ingest.validate_file
    if options:
        geo.ingest.validate_file = lambda *a, **k: original(*a, **k, **options)
    try:
        code = main(["ingest", str(path), "--store", str(store)])
    finally:
        geo.ingest.validate_file = original
    out = capsys.readouterr().out
    out.encode("utf-8")  # what a terminal gets: no lone surrogate
    return code, out


def _assert_refused_and_untouched(path, store, capsys, **options) -> str:
    before = _state(store)
    code, out = _ingest(path, store, capsys, **options)
    after = _state(store)
    assert code == 2, out
    assert "nothing stored" in out
    assert after[0] == before[0]  # the file, byte for byte
    assert after[1] == before[1]
    pd.testing.assert_frame_equal(after[2], before[2])
    return out


@pytest.mark.parametrize("file", sorted(REFUSED))
def test_every_refused_case_gives_its_message_and_leaves_the_store_unchanged(
    file, seeded, tmp_path, capsys
):
    group = REFUSED[file]
    options = {}
    for case in group:  # the limits of the size cases (the CLI uses the defaults)
        options.update(
            {k: v for k, v in case.get("options", {}).items() if k in ("max_bytes", "max_features")}
        )
    store = tmp_path / "store.gpkg"
    shutil.copyfile(seeded, store)
    out = _assert_refused_and_untouched(BAD / file, store, capsys, **options)
    for case in group:
        if "outside_region" in case.get("options", {}):
            continue
        lines = [line for line in out.splitlines() if line.startswith(f"  {case['severity']}: ")]
        assert any(re.search(case["match"], line) for line in lines), (case, out)
    # one clear message: as many errors as the corpus expects, no cascade of others
    errors = [line for line in out.splitlines() if line.startswith("  error: ")]
    expected = [
        c
        for c in group
        if c["severity"] == "error" and "outside_region" not in c.get("options", {})
    ]
    assert len(errors) == len({(c["index"], c["field"]) for c in expected}), out


def test_every_case_is_in_the_table_with_its_store_unchanged():
    table = (DATA / "bad_corpus.md").read_text(encoding="utf-8")
    for file in _by_file(CASES):
        row = next((line for line in table.splitlines() if line.startswith(f"| `{file}` |")), None)
        assert row, f"{file} is not in tests/data/bad_corpus.md"
        expected = "| yes |" if file in REFUSED else "| stored (warnings only) |"
        assert row.endswith(expected), row


def test_a_ten_megabyte_description_is_refused_through_the_cli(seeded, tmp_path, capsys):
    # its speed and memory: tests/test_readers.py
    feature = {
        "type": "Feature",
        "properties": {"id": "BIG-1", "date": "2025-03-16", "type": "clash"},
        "geometry": {"type": "Point", "coordinates": HERMEL},
    }
    feature["properties"]["description"] = "x" * (10 * 2**20)
    path = tmp_path / "big.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    store = tmp_path / "store.gpkg"
    shutil.copyfile(seeded, store)
    out = _assert_refused_and_untouched(path, store, capsys)
    assert "(geo.schema.MAX_TEXT_LENGTH): it has 10,485,760" in out
    assert len(out) < 2_000  # the value shortened, never echoed whole


def test_a_file_named_as_html_is_refused_by_its_content_and_named_literally(
    seeded, tmp_path, capsys
):
    path = tmp_path / HTML_NAME
    path.write_text((BAD / "unknown_type.geojson").read_text(encoding="utf-8"), encoding="utf-8")
    store = tmp_path / "store.gpkg"
    shutil.copyfile(seeded, store)
    out = _assert_refused_and_untouched(path, store, capsys)
    assert out.startswith(f"{HTML_NAME}: 1 feature(s), 0 accepted, 1 rejected")
    assert "unknown type" in out


def test_a_file_named_as_html_is_stored_under_that_name_as_text(tmp_path, capsys):
    path = tmp_path / HTML_NAME
    feature = {
        "type": "Feature",
        "properties": {"date": "2025-03-16", "type": "clash"},  # no id: one is generated
        "geometry": {"type": "Point", "coordinates": HERMEL},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    store = tmp_path / "store.gpkg"
    code, _ = _ingest(path, store, capsys)
    assert code == 0
    stored = open_store(store)
    assert stored.audit()["source_file"].tolist() == [HTML_NAME]
    assert stored.read()["id"].iloc[0].startswith("<img src=x onerror=alert(1)>-")


@pytest.mark.parametrize("case", ACCEPTED_CASES, ids=lambda c: c["file"])
def test_odd_but_valid_files_are_accepted_and_stored(case, tmp_path, capsys):
    path = ACCEPTED / case["file"]
    report = validate_file(path)
    assert report.ok, report.to_text()
    if case["ids"] is not None:
        assert report.accepted["id"].tolist() == case["ids"]
    if case["warning"]:
        assert case["warning"] in [p.reason for p in report.warnings if p.index is None]
    if case["same_as"]:
        plain = validate_file((ACCEPTED / case["same_as"]).resolve())
        pd.testing.assert_frame_equal(
            pd.DataFrame(report.accepted.drop(columns="geometry")),
            pd.DataFrame(plain.accepted.drop(columns="geometry")),
        )
        assert report.accepted.geometry.equals(plain.accepted.geometry)
    store = tmp_path / "store.gpkg"
    code, out = _ingest(path, store, capsys)
    assert code == 0, out
    assert open_store(store).count() == report.accepted_count


def test_a_layer_named_like_sql_drops_nothing(tmp_path):
    import sqlite3

    source = ACCEPTED / "sql_layer_name.gpkg"
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    store_path = tmp_path / "store.gpkg"
    store = open_store(store_path, create=True)
    report = validate_file(source)
    store_report(store, report)
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before  # read from a copy
    with sqlite3.connect(store_path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert {"incidents", "gpkg_contents"} <= tables
    assert store.read()["id"].tolist() == ["A-1"]
