"""Hostile text in the files a person opens: the standalone map.html and the PDF report.

The incidents of ``tests/hostile_fixtures.py`` (every text field, and the file name, a
payload) are stored with ``python -m geo ingest`` and reported with ``python -m geo
report --format html,pdf`` (the session fixture ``hostile_report``). The PDF must show
the payloads as literal text and carry no link, action, JavaScript or attachment made of
them; the map page must hold none of them raw. That the map runs nothing when its popups
and tooltips open is proven in a browser: ``tests/test_browser.py``.
"""

from __future__ import annotations

import re

from hostile_fixtures import FILE_NAME, TEXT_FIELDS, payload
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

#: Keys of a PDF that make it act: run script, open a link or a file, submit a form.
ACTIVE_KEYS = {
    "/JS", "/JavaScript", "/URI", "/Launch", "/OpenAction", "/AA", "/EmbeddedFiles",
    "/EmbeddedFile", "/SubmitForm", "/ImportData", "/GoToR", "/GoToE", "/RichMedia",
    "/AcroForm", "/XFA",
}  # fmt: skip
ACTIVE_SUBTYPES = {"/Link", "/FileAttachment", "/Widget", "/Screen", "/Movie", "/Sound"}
#: The payloads as they would read if any went into the page raw.
RAW = ("<img src=x", "<script>alert", "${alert(")


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _walk(reader: PdfReader) -> tuple[set[str], set[str]]:
    """Return every dictionary key and every /Subtype reachable from the PDF's trailer."""
    keys: set[str] = set()
    subtypes: set[str] = set()
    seen: set[int] = set()
    stack: list = [reader.trailer]
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            if item.idnum in seen:
                continue
            seen.add(item.idnum)
            item = item.get_object()
        if isinstance(item, DictionaryObject):  # streams are dictionaries too
            for key, value in item.items():
                keys.add(str(key))
                if key == "/Subtype":
                    subtypes.add(str(value))
                if key not in ("/Parent", "/Prev", "/Last", "/P"):  # links back up
                    stack.append(value)
        elif isinstance(item, ArrayObject):
            stack.extend(item)
    return keys, subtypes


def test_pdf_shows_the_hostile_text_and_file_name_literally(hostile_report):
    reader = PdfReader(hostile_report["pdf"])
    text = _flat("".join(page.extract_text() for page in reader.pages))
    for field in ("description", "source"):  # the fields the report shows
        assert _flat(payload(field)) in text, field
    assert _flat(FILE_NAME) in text  # the incident source, in the inputs


def test_pdf_carries_no_link_action_script_or_attachment(hostile_report):
    reader = PdfReader(hostile_report["pdf"])
    keys, subtypes = _walk(reader)
    assert keys & ACTIVE_KEYS == set()
    assert subtypes & ACTIVE_SUBTYPES == set()
    assert not reader.attachments
    assert all(not page.get("/Annots") for page in reader.pages)


def test_standalone_map_holds_no_payload_raw(hostile_report):
    page = hostile_report["html"].read_text(encoding="utf-8")
    assert 'http-equiv="Content-Security-Policy"' in page
    for raw in RAW:
        assert raw not in page, raw
    for field in ("description", "source", "location_note", "commodity", "unit"):
        assert f"{field.upper()}: " in page, field  # shown (escaped) in the popups
        shown = page.replace("\\u0026", "&")  # the marker array is written with tojson
        assert f"{{{{ &#x27;{field}&#x27; ~ 7*7 }}}}" in shown, field  # Jinja left as text
        assert f"{field}49" not in page, field  # and never evaluated
    # not shown in the map: ACLED's actors are kept in the exports, not in popups
    assert "ACTOR1: " not in page and "ACTOR2: " not in page
    assert set(TEXT_FIELDS) >= {"actor1", "actor2"}
