"""The PDF report: its content, its escaping, and a renderer that reads nothing local."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pypdf import PdfReader
from report_fixtures import HOSTILE, LINE, analyse, make_incidents, make_layers

from geo import __version__, settings
from geo.exports import ranked_table, sectors_frame
from geo.report import (
    InputFile,
    build_report_html,
    collect_inputs,
    render_pdf,
    summarise_incidents,
    write_pdf,
)
from geo.staticmap import draw_static_map

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _text(reader: PdfReader) -> str:
    """All the PDF's text with whitespace removed (table cells wrap anywhere)."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def _embedded_things(reader: PdfReader) -> dict[str, int]:
    """Count attachments, file/URI links and images in a PDF."""
    counts = {"attachments": len(reader.attachments), "links": 0}
    images: set[int] = set()
    names = reader.trailer["/Root"].get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        counts["attachments"] += 1
    for page in reader.pages:
        for annot in page.get("/Annots") or []:
            annot = annot.get_object()
            if annot.get("/Subtype") in ("/FileAttachment", "/Link"):
                counts["links"] += 1
        xobjects = (page.get("/Resources") or {}).get("/XObject") or {}
        for ref in xobjects.get_object().values() if xobjects else []:
            if ref.get_object().get("/Subtype") == "/Image":
                images.add(ref.idnum)
    counts["images"] = len(images)  # distinct images (pages may share resources)
    return counts


@pytest.fixture(scope="module")
def incidents():
    return make_incidents()


@pytest.fixture(scope="module")
def result(incidents):
    return analyse(incidents)


@pytest.fixture(scope="module")
def pdf_text(pdf):
    return _text(pdf)


@pytest.fixture(scope="module")
def pdf(result, incidents, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.pdf"
    inputs = collect_inputs(incidents)
    write_pdf(
        result,
        incidents,
        path,
        inputs=inputs,
        generated_at=dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        title="Weekly <b>${review}</b>",
        command="python -m geo report --out 'x y'",
        border=LINE,
        crossings=make_layers()["crossings"],
        layer_records=[
            {
                "name": "border",
                "source": "OpenStreetMap <script>",
                "licence": "ODbL-1.0",
                "retrieved": "2026-01-01",
                "steps": ["clip", "simplify"],
            }
        ],
    )
    return PdfReader(path)


def test_pdf_holds_top_sector_weights_hashes_and_parameters(pdf, pdf_text, result):
    text = pdf_text
    top = result.to_json_dict()["sectors"][0]
    assert f"Topsector:{top['sector_id']}," in text
    for name, weight in result.weights.items():
        assert f"{name}={weight:.3f}" in text, name
    assert "a" * 64 in text and "b" * 64 in text  # SHA-256 of both incident sources
    assert "30incident(s)used" in text and "10incident(s)used" in text
    assert f"bordermonitor(geo){__version__}" in text
    assert "Generated2026-01-0203:04:05UTC" in text
    assert "pythonmgeoreport--out'xy'" in text.replace("-m", "m", 1)
    assert "ODbL-1.0" in text and "©OpenStreetMapcontributors" in text
    assert "sector_km5" in text and "seed" in text  # every parameter is listed
    assert "ranked_table" not in text
    assert len(pdf.pages) >= 4


def test_pdf_shows_user_text_as_plain_text_and_embeds_nothing(pdf, pdf_text):
    text = pdf_text
    assert "Weekly<b>${review}</b>" in text  # the title, literally
    assert re.sub(r"\s+", "", HOSTILE) in text  # the incident description, literally
    assert "OpenStreetMap<script>" in text
    things = _embedded_things(pdf)
    assert things["attachments"] == 0
    assert things["links"] == 0
    assert things["images"] == 2  # the map and the monthly chart, nothing else


def test_renderer_reads_no_local_file_and_no_network(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER", encoding="utf-8")
    picture = tmp_path / "local.png"
    picture.write_bytes(PNG_1PX)
    style = tmp_path / "style.css"
    style.write_text("body { background: url('local.png') }", encoding="utf-8")
    document = f"""<html><head><link rel="stylesheet" href="{style.as_uri()}"></head><body>
      <a rel="attachment" href="{secret.as_uri()}">attached?</a>
      <img src="{picture.as_uri()}"> <img src="http://127.0.0.1:9/remote.png">
      <img src="data:image/png;base64,{base64.b64encode(PNG_1PX).decode()}">
    </body></html>"""
    path = render_pdf(document, tmp_path / "raw.pdf")
    raw = path.read_bytes()
    reader = PdfReader(io.BytesIO(raw))
    things = _embedded_things(reader)
    assert things["attachments"] == 0
    assert things["images"] == 1  # only the data: image: the checks can see an image
    assert b"TOP-SECRET-MARKER" not in raw


def test_report_html_escapes_every_user_string(result, incidents):
    document = build_report_html(
        result,
        incidents,
        inputs=[InputFile("incident source", "<img src=x onerror=alert(1)>.csv", "0" * 64)],
        title="<script>alert(1)</script>",
        command="python -m geo report --title '<b>'",
        layer_records=[{"name": "<i>towns</i>", "source": "<u>x</u>"}],
    )
    assert "<script>" not in document and "<img src=x" not in document
    assert "<i>towns</i>" not in document and "<u>x</u>" not in document
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in document
    assert "Town &lt;i&gt;A&lt;/i&gt;" in document  # a nearest town's name
    assert "synthetic &lt;b&gt;source&lt;/b&gt;" in document  # an incident's source
    assert set(re.findall(r'src="([^":]*):', document)) == {"data"}  # the chart, inlined
    assert not re.search(r"<(a|link|iframe|object|embed)\b", document)  # no tag that links out
    assert "url(" not in document


def test_summary_counts_by_type_month_and_precision():
    frame = pd.DataFrame(
        {
            "type": ["seizure", "clash", "seizure", "arrest", "seizure"],
            "date": pd.to_datetime(
                ["2025-01-03", "2025-01-30", "2025-03-01", "2025-03-02", "2025-03-31"]
            ),
            "date_precision_days": [1, 7, 1, 30, 1],
            "location_precision_m": [100.0, 2500.0, 2500.1, np.nan, 30_000.0],
            "fatalities": [np.nan, 2, 0, np.nan, 1],
        }
    )
    summary = summarise_incidents(frame)
    assert summary.total == 5
    assert summary.by_type.index.tolist() == ["seizure", "clash", "arrest"]  # settings order
    assert summary.by_type["incidents"].tolist() == [3, 1, 1]
    assert summary.by_type["fatalities"].tolist() == [1, 2, 0]
    # 2500.1 m, the 5000 m default for a missing precision and 30 km are coarse; 2500 m is not.
    assert summary.coarse_location == 3
    assert summary.by_type["coarse_location"].tolist() == [2, 0, 1]
    assert summary.coarse_date == 2
    assert summary.by_month.index.tolist() == ["2025-01", "2025-03"]
    assert summary.by_month["total"].tolist() == [2, 3]
    assert summary.by_month.loc["2025-03", "seizure"] == 2
    assert summary.first_date == dt.date(2025, 1, 3)
    assert summary.last_date == dt.date(2025, 3, 31)
    assert settings.COARSE_LOCATION_M == 2500.0


def test_inputs_are_hashed_and_counted(tmp_path):
    data = tmp_path / "data"
    (data / "layers").mkdir(parents=True)
    (data / "layers" / "border.geojson").write_bytes(b'{"type": "FeatureCollection"}')
    (data / "terrain.tif").write_bytes(b"\x00\x01\x02")
    store = tmp_path / "store.gpkg"
    store.write_bytes(b"store bytes")
    records = collect_inputs(make_incidents(40), store_path=store, data_dir=data)
    by_name = {r.name: r for r in records}
    assert by_name["first.geojson"].sha256 == "a" * 64
    assert by_name["first.geojson"].detail == "30 incident(s) used"
    assert by_name["second.csv"].detail == "10 incident(s) used"
    assert by_name["store.gpkg"].sha256 == hashlib.sha256(b"store bytes").hexdigest()
    assert (
        by_name["layers/border.geojson"].sha256
        == hashlib.sha256(b'{"type": "FeatureCollection"}').hexdigest()
    )
    assert by_name["terrain.tif"].sha256 == hashlib.sha256(b"\x00\x01\x02").hexdigest()
    assert "provenance.json" not in by_name  # a missing file is not invented


def test_same_inputs_give_the_same_ranked_table_and_map(incidents, result):
    again = analyse(incidents)
    pd.testing.assert_frame_equal(ranked_table(result), ranked_table(again))
    maps = [
        draw_static_map(border=LINE, sectors=sectors_frame(r), incidents=incidents, density=None)
        for r in (result, again)
    ]
    assert maps[0] == maps[1] and maps[0].startswith(b"\x89PNG")
    moved = analyse(incidents, weights={"crossings": 10.0})
    assert ranked_table(moved)["sector_id"].tolist() != ranked_table(result)["sector_id"].tolist()


def test_too_little_evidence_is_said_first():
    few = make_incidents(4)
    document = build_report_html(analyse(few), few, inputs=None)
    assert "Too little incident evidence." in document
    assert "Only 4 incident(s) lie in the 5 km corridor" in document
    assert "No input files were recorded." in document


@hsettings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from([*settings.INCIDENT_TYPES, "unknown-type"]),
            st.one_of(st.none(), st.dates(dt.date(2020, 1, 1), dt.date(2026, 12, 31))),
            st.one_of(st.none(), st.floats(0, 100_000, allow_nan=False)),
            st.one_of(st.none(), st.integers(0, 50)),
        ),
        max_size=30,
    )
)
def test_summary_counts_add_up(rows):
    frame = pd.DataFrame(
        {
            "type": [r[0] for r in rows],
            "date": pd.to_datetime([r[1] for r in rows]),
            "location_precision_m": pd.array([r[2] for r in rows], dtype="Float64"),
            "fatalities": pd.array([r[3] for r in rows], dtype="Int64"),
        }
    )
    summary = summarise_incidents(frame)
    assert summary.total == len(rows)
    assert summary.by_type["incidents"].sum() == len(rows)
    assert summary.by_type["coarse_location"].sum() == summary.coarse_location
    assert summary.by_type["fatalities"].sum() == sum(r[3] or 0 for r in rows)
    dated = [r[1] for r in rows if r[1] is not None]
    assert (summary.by_month["total"].sum() if len(summary.by_month) else 0) == len(dated)
    expected_coarse = sum(
        (settings.DEFAULT_LOCATION_PRECISION_M if r[2] is None else r[2])
        > settings.COARSE_LOCATION_M
        for r in rows
    )
    assert summary.coarse_location == expected_coarse
    assert summary.first_date == (min(dated) if dated else None)


def test_report_names_who_generated_it_as_plain_text(result, incidents, tmp_path):
    who = "<b>ana</b>@example.org ${x}"
    path = write_pdf(
        result, incidents, tmp_path / "r.pdf", inputs=None, draw_map=False, generated_by=who
    )
    assert "Generatedby<b>ana</b>@example.org${x}" in _text(PdfReader(path))
    html_with = build_report_html(result, incidents, inputs=None, generated_by=who)
    assert "&lt;b&gt;ana&lt;/b&gt;@example.org" in html_with and "<b>ana" not in html_with
    assert "Generated by" not in build_report_html(result, incidents, inputs=None)
