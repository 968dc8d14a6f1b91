"""What every reader shares: the result, the messages, the limits, the property columns.

:class:`RawFeatures` (what a reader returns), :func:`shorten` and
:func:`file_error` (the text and error of a problem with the whole file),
:func:`detect_format` and :func:`decode_text` (the first steps on a file's
bytes), the feature-count and JSON-depth limits, the renaming of properties
to the schema's columns, and the latitude/longitude columns of a table (CSV
and ACLED).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import PurePath

import numpy as np
import pandas as pd

from geo import schema
from geo.errors import FeatureProblem, ValidationError

#: Formats a file can be read as.
FORMATS = ("geojson", "ndjson", "csv", "acled", "gpkg")

#: Latitude/longitude column pairs recognised in a CSV, in order of preference.
CSV_COORDINATE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("latitude", "longitude"),
    ("lat", "lon"),
    ("lat", "lng"),
    ("lat", "long"),
    ("y", "x"),
)

#: Text shown for a value in a message (longer values are shortened).
_MAX_SHOWN = 80

#: Characters no stored text may hold: NUL (programs that read C strings, GDAL among
#: them, stop there) and lone UTF-16 surrogates (``\\ud800`` as a JSON escape: half of a
#: pair, not a character; UTF-8 cannot encode one, so the store, the app and a terminal
#: fail on it).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: The same, and the other control characters: escaped wherever a file name is printed.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: A ``\\u0000`` or surrogate escape in JSON text (a cheap test before looking closer).
_ODD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")

_ITSELF = "upload the incident file itself (GeoJSON, CSV or GeoPackage)"
#: First bytes of files that are often renamed or mistaken for an incident file.
MAGIC_NUMBERS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image", _ITSELF),
    (b"\xff\xd8\xff", "a JPEG image", _ITSELF),
    (b"GIF8", "a GIF image", _ITSELF),
    (b"II*\x00", "a TIFF image", _ITSELF),
    (b"MM\x00*", "a TIFF image", _ITSELF),
    (b"%PDF-", "a PDF document", _ITSELF),
    (
        b"PK\x03\x04",
        "a ZIP archive (a .xlsx, .docx, .kmz or zipped shapefile is one too)",
        "unzip it and upload the GeoJSON, CSV or GeoPackage inside; save a spreadsheet as CSV",
    ),
    (b"PK\x05\x06", "an empty ZIP archive", _ITSELF),
    (b"\x1f\x8b", "a gzip-compressed file", "decompress it and upload the file inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "extract it and upload the file inside"),
    (b"Rar!\x1a\x07", "a RAR archive", "extract it and upload the file inside"),
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Microsoft Office file (.xls or .doc)",
        "save the sheet as CSV (UTF-8) and upload that",
    ),
)


def _escape_match(match: re.Match) -> str:
    return ascii(match.group())[1:-1]  # '\\x00', '\\ud800'


def printable(text: str, *, controls: bool = False) -> str:
    r"""Return ``text`` with NUL and lone surrogates written as escapes (``\x00``, ``\ud800``).

    What a message, a report or a terminal can show without failing. With ``controls``
    every other control character (tab, newline, escape...) is escaped too, for a file
    name printed on a terminal (an escape sequence there would steer the terminal).
    """
    pattern = _UNPRINTABLE if controls else UNSTORABLE
    return pattern.sub(_escape_match, text) if pattern.search(text) else text


@dataclass
class RawFeatures:
    """Features as read from a file, before validation.

    Attributes
    ----------
    format
        One of :data:`FORMATS`.
    properties
        One row per feature (object dtype), columns named as in the schema
        where recognised.
    lon, lat
        Coordinates in EPSG:4326 (NaN where the feature has none usable).
    problems
        Feature-level errors found while reading (the feature is rejected).
    warnings
        File-level warnings (an ignored property, a reprojection, ...).
    ids
        The id given by the file for each feature (``None`` when absent).
    """

    format: str
    properties: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    problems: list[FeatureProblem] = field(default_factory=list)
    warnings: list[FeatureProblem] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.lon)


def shorten(value: object, limit: int = _MAX_SHOWN) -> str:
    """Return ``value`` as text of at most ``limit`` characters, for messages.

    NUL and lone surrogates are written as escapes (:func:`printable`).
    """
    text = printable(value) if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_error(field_name: str, value: object, reason: str, fix: str) -> ValidationError:
    """Return the :class:`ValidationError` of one problem with the whole file."""
    problem = FeatureProblem(None, None, field_name, shorten(value), reason, fix)
    return ValidationError([problem], summary=f"file rejected: {reason}")


def detect_format(data: bytes, filename: str) -> str:
    """Return the format of a file from its name, else from its first bytes.

    Parameters
    ----------
    data
        The file's bytes.
    filename
        Its name (only the extension is used).
    """
    suffix = PurePath(filename or "").suffix.lower()
    if data.startswith(b"SQLite format 3\x00") or suffix == ".gpkg":
        return "gpkg"
    if suffix in {".ndjson", ".geojsonl", ".geojsons", ".jsonl", ".geojsonseq"}:
        return "ndjson"
    if suffix in {".csv", ".tsv", ".txt"}:
        return "csv"
    if suffix in {".geojson", ".json"}:
        return "geojson"
    head = data.lstrip()[:1]
    return "geojson" if head in (b"{", b"[", b"\x1e") else "csv"


def sniff_binary(data: bytes, filename: str, fmt: str) -> None:
    """Raise ValidationError when the bytes are a known binary kind (an image, an archive...).

    A PNG or a ZIP renamed ``.geojson`` (or ``.gpkg``) is named for what it is, instead
    of failing later as "not UTF-8" or "not a readable GeoPackage".

    Parameters
    ----------
    data
        The file's bytes.
    filename
        Its name (for the message).
    fmt
        The format its name or content suggested (:data:`FORMATS`).
    """
    for magic, what, fix in MAGIC_NUMBERS:
        if data.startswith(magic):
            suffix = PurePath(filename or "").suffix
            named = f"its name ends {suffix!r} but " if suffix else ""
            expected = "a GeoPackage" if fmt == "gpkg" else "an incident file"
            raise file_error(
                "file",
                data[:8],
                f"the file is {what}, not {expected}: {named}its content is not "
                "GeoJSON, CSV or GeoPackage",
                fix,
            )


def decode_text(data: bytes) -> str:
    """Decode UTF-8 bytes (a byte-order mark is allowed) or raise ValidationError."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise file_error(
            "file",
            data[:2],
            "the file is UTF-16, not UTF-8",
            "save it as UTF-8 (in most editors: Save as… > Encoding > UTF-8)",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise file_error(
            "file",
            data[max(0, exc.start - 10) : exc.start + 10],
            f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start} (line {line})",
            "save the file as UTF-8",
        ) from None
    if "\x00" in text:
        raise file_error(
            "file",
            "\\x00",
            "the file contains NUL bytes: it is binary, not text",
            "upload a GeoJSON, CSV or GeoPackage file",
        )
    if not text.strip():
        raise file_error("file", "", "the file is empty", "upload a file with at least one feature")
    return text


def _check_count(n: int, max_features: int) -> None:
    if n > max_features:
        raise file_error(
            "features",
            n,
            f"{n} features, more than the limit of {max_features}",
            "split the file into smaller files, or raise the limit (max_features)",
        )


def _structural_depth(text: str | bytes) -> int:
    """Return an upper estimate of the nesting depth (brackets in strings count too)."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    brackets = np.frombuffer(data.translate(None, _NOT_BRACKETS), dtype=np.uint8)
    step = np.where((brackets == ord("{")) | (brackets == ord("[")), 1, -1)
    return int(np.cumsum(step).max(initial=0))


_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"{}[]")


def _exact_depth(value: object) -> int:
    depth = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            depth = max(depth, level)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            depth = max(depth, level)
            stack.extend((v, level + 1) for v in item)
    return depth


def _too_deep(max_depth: int, depth: int | str) -> ValidationError:
    return file_error(
        "file",
        f"depth {depth}",
        f"JSON nested deeper than the limit of {max_depth} levels",
        "incidents need only FeatureCollection > Feature > properties: flatten nested values",
    )


@dataclass
class JsonOddities:
    r"""What a JSON parse met that Python's parser would otherwise hide.

    ``json.loads`` keeps the last of a key given twice, turns ``NaN`` and ``Infinity``
    (not JSON, RFC 8259) into floats, and ``\u0000`` or a lone ``\ud800`` into text
    the store cannot keep. :func:`json_decoder` records each, so that the reader can
    reject the feature and name the field; when nothing odd was met (the usual case)
    nothing needs a second look.

    Attributes
    ----------
    duplicates
        ``id()`` of each object that gave a key twice -> those keys.
    constants
        ``id()`` of each float read from ``NaN``, ``Infinity`` or ``-Infinity`` -> the literal.
    odd_text
        The text holds a ``\u0000`` or a surrogate escape (strings need a look).
    """

    duplicates: dict[int, list[str]] = field(default_factory=dict)
    constants: dict[int, str] = field(default_factory=dict)
    odd_text: bool = False
    _alive: list = field(default_factory=list, repr=False)  # keeps the ids above unique

    def __bool__(self) -> bool:
        return bool(self.duplicates or self.constants or self.odd_text)

    def look_at(self, text: str) -> None:
        """Note whether ``text`` holds escapes that may decode to unstorable text."""
        self.odd_text = self.odd_text or bool(_ODD_ESCAPE.search(text))


def json_decoder(oddities: JsonOddities) -> json.JSONDecoder:
    """Return a JSON decoder that records duplicated keys and NaN/Infinity in ``oddities``."""

    def pairs_hook(pairs: list[tuple[str, object]]) -> dict:
        value = dict(pairs)
        if len(value) != len(pairs):
            seen: set[str] = set()
            repeated = []
            for key, _ in pairs:
                if key in seen and key not in repeated:
                    repeated.append(key)
                seen.add(key)
            oddities.duplicates[id(value)] = repeated
            oddities._alive.append(value)
        return value

    def constant(literal: str) -> float:
        value = float(literal)  # a new object each time: its id names this occurrence
        oddities.constants[id(value)] = literal
        oddities._alive.append(value)
        return value

    return json.JSONDecoder(object_pairs_hook=pairs_hook, parse_constant=constant)


def _loads(text: str, *, max_depth: int, data: bytes | None = None) -> tuple[object, JsonOddities]:
    """Parse JSON text (``data``: the same as bytes), refusing nesting deeper than ``max_depth``.

    Returns the value and what the parse met that needs a second look (:class:`JsonOddities`).
    """
    estimate = _structural_depth(data if data is not None else text)
    oddities = JsonOddities()
    oddities.look_at(text)
    try:
        value = json_decoder(oddities).decode(text)
    except RecursionError:
        raise _too_deep(max_depth, f"over {max_depth}") from None
    if estimate > max_depth:
        depth = _exact_depth(value)
        if depth > max_depth:
            raise _too_deep(max_depth, depth)
    return value, oddities


def _property_frame(rows: list[dict], warnings: list[FeatureProblem]) -> pd.DataFrame:
    """Return the properties as a frame with schema names; warn about others."""
    keys: set = set().union(*rows)
    known = set(schema.INCIDENT_COLUMNS)
    columns: dict[str, object] = {}
    ignored = []
    for key in sorted(keys, key=lambda k: (k not in known, str(k))):
        name = str(key).strip().lower()
        if key in known:
            columns[key] = key
        elif name in known and name not in keys and name not in columns:
            columns[name] = key
        else:
            ignored.append(str(key))
    index = pd.RangeIndex(len(rows))
    frame = pd.DataFrame(
        {
            name: pd.Series(list(map(dict.get, rows, repeat(key))), index=index, dtype=object)
            for name, key in columns.items()
        },
        index=index,
    )
    if ignored:
        warnings.append(
            FeatureProblem(
                None,
                None,
                "properties",
                shorten(", ".join(sorted(ignored))),
                "properties not in the incident schema are not stored",
                "rename them to schema fields (" + ", ".join(schema.INCIDENT_COLUMNS) + ") "
                "or put their content in description",
                "warning",
            )
        )
    return frame


def _coordinate_columns(frame: pd.DataFrame) -> tuple[str, str]:
    for lat_name, lon_name in CSV_COORDINATE_COLUMNS:
        if lat_name in frame.columns and lon_name in frame.columns:
            return lat_name, lon_name
    raise file_error(
        "header",
        ", ".join(map(str, frame.columns[:20])),
        "no latitude/longitude columns found",
        "name the coordinate columns latitude and longitude (or lat/lon, y/x), in decimal degrees",
    )


def _coordinates(
    frame: pd.DataFrame, lat_name: str, lon_name: str, ids: list, problems: list
) -> tuple[np.ndarray, np.ndarray]:
    lat = pd.to_numeric(frame[lat_name], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(frame[lon_name], errors="coerce").to_numpy(dtype=float)
    for name, values in ((lat_name, lat), (lon_name, lon)):
        raw = frame[name]
        bad = np.flatnonzero(np.isnan(values) & raw.notna().to_numpy())
        missing = np.flatnonzero(raw.isna().to_numpy())
        for i in bad:
            problems.append(
                FeatureProblem(
                    int(i),
                    ids[i],
                    name,
                    shorten(raw.iat[i]),
                    "the coordinate is not a number",
                    "write decimal degrees with a point, e.g. 34.3941 (not 34°23'39\" or 34,39)",
                )
            )
        for i in missing:
            problems.append(
                FeatureProblem(
                    int(i),
                    ids[i],
                    name,
                    "",
                    "the coordinate is missing",
                    "fill in latitude and longitude in decimal degrees",
                )
            )
    return lon, lat
