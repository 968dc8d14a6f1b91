"""Readers of incident files: GeoJSON, newline-delimited GeoJSON, CSV, ACLED CSV, GeoPackage.

A reader turns the bytes of a file into :class:`RawFeatures`: the features'
properties as read (one row per feature, renamed to the schema's names but not yet
checked), their longitude and latitude in EPSG:4326, and the problems found
while reading. Checking the values is :mod:`geo.validation`'s job.

A problem with the whole file (not UTF-8, not JSON, too deep, too many
features, an unknown ``crs``, ...) raises :class:`geo.errors.ValidationError`;
a problem with one feature (a Polygon instead of a Point, a missing
coordinate, ...) is recorded in :attr:`RawFeatures.problems` and the other
features are still read. Whatever the bytes, a reader returns or raises
:class:`~geo.errors.ValidationError`, never another exception.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from pathlib import PurePath

import numpy as np
import pandas as pd

from geo import schema, settings
from geo.errors import FeatureProblem, ValidationError

logger = logging.getLogger(__name__)

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

#: Columns that mark a CSV as an ACLED export.
ACLED_MARKER_COLUMNS = ("event_id_cnty", "event_type")

#: Text shown for a value in a message (longer values are shortened).
_MAX_SHOWN = 80

_WGS84_NAMES = {
    "urn:ogc:def:crs:ogc:1.3:crs84",
    "urn:ogc:def:crs:ogc::crs84",
    "urn:ogc:def:crs:epsg::4326",
    "urn:ogc:def:crs:epsg:6.6:4326",
    "epsg:4326",
    "crs84",
    "ogc:crs84",
    "wgs84",
}


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
    """Return ``value`` as text of at most ``limit`` characters, for messages."""
    text = value if isinstance(value, str) else repr(value)
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


# --- GeoJSON -------------------------------------------------------------------


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


def _loads(text: str, *, max_depth: int, data: bytes | None = None) -> object:
    """Parse JSON text (``data``: the same as bytes), refusing nesting deeper than ``max_depth``."""
    estimate = _structural_depth(data if data is not None else text)
    try:
        value = json.loads(text)
    except RecursionError:
        raise _too_deep(max_depth, f"over {max_depth}") from None
    if estimate > max_depth:
        depth = _exact_depth(value)
        if depth > max_depth:
            raise _too_deep(max_depth, depth)
    return value


def _crs_transformer(crs_member: object):
    """Return ``None`` for WGS 84, a transformer for a recognised CRS, else raise."""
    name = None
    if isinstance(crs_member, dict):
        props = crs_member.get("properties")
        if crs_member.get("type") == "name" and isinstance(props, dict):
            name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        raise file_error(
            "crs",
            crs_member,
            "the legacy 'crs' member is not a named CRS (linked CRSs are not supported)",
            "reproject the file to WGS 84 longitude/latitude (RFC 7946) and drop the 'crs' member",
        )
    if name.strip().lower() in _WGS84_NAMES:
        return None
    from pyproj import CRS, Transformer
    from pyproj.exceptions import CRSError

    try:
        crs = CRS.from_user_input(name.strip())
    except (CRSError, ValueError, TypeError):
        raise file_error(
            "crs",
            name,
            "the legacy 'crs' member names a CRS that is not recognised",
            "reproject the file to WGS 84 longitude/latitude (RFC 7946) and drop the 'crs' member",
        ) from None
    if crs.equals(settings.GEOGRAPHIC_CRS, ignore_axis_order=True):
        return None
    return crs, Transformer.from_crs(crs, settings.GEOGRAPHIC_CRS, always_xy=True)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _geometry_problem(index: int, fid: str | None, geometry: object) -> FeatureProblem | None:
    """Return the problem of a GeoJSON geometry that is not a usable Point, else None."""

    def problem(value: object, reason: str, fix: str) -> FeatureProblem:
        return FeatureProblem(index, fid, "geometry", shorten(value), reason, fix)

    if geometry is None:
        return problem(
            None,
            "the geometry is missing (null)",
            "give the incident a Point at the reported place, with location_precision_m",
        )
    if not isinstance(geometry, dict):
        return problem(
            geometry,
            "the geometry is not a GeoJSON object",
            'write {"type": "Point", "coordinates": [longitude, latitude]}',
        )
    gtype = geometry.get("type")
    if gtype != "Point":
        return problem(
            gtype,
            f"the geometry is a {gtype}, not a Point (it is not turned into a point: that "
            "would invent a location)",
            "give a Point at the reported place and set location_precision_m to the area's size",
        )
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) < 2:
        return problem(
            coords,
            "the Point has no [longitude, latitude] coordinates",
            "write coordinates as [longitude, latitude] in decimal degrees",
        )
    if not (_is_number(coords[0]) and _is_number(coords[1])):
        return problem(
            coords,
            "the coordinates are not numbers",
            "write coordinates as numbers [longitude, latitude], without quotes",
        )
    return None


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


def _well_formed_points(features: list) -> tuple[list[dict], list, np.ndarray, np.ndarray] | None:
    """Return ``(properties, ids, lon, lat)`` when every feature is a well-formed Point Feature.

    The common case, checked a column at a time (C-level ``map`` over the features
    instead of a Python loop); ``None`` when any feature is not a Feature with an
    object of properties and a Point of two numbers: :func:`_features_to_raw` then
    diagnoses each feature.
    """
    try:
        if set(map(type, features)) != {dict}:
            return None
        if set(map(itemgetter("type"), features)) != {"Feature"}:
            return None
        rows = list(map(itemgetter("properties"), features))
        geometries = list(map(itemgetter("geometry"), features))
        if set(map(type, rows)) != {dict} or set(map(type, geometries)) != {dict}:
            return None
        if set(map(itemgetter("type"), geometries)) != {"Point"}:
            return None
        coords = list(map(itemgetter("coordinates"), geometries))
        if set(map(type, coords)) != {list}:
            return None
        xs = list(map(itemgetter(0), coords))
        ys = list(map(itemgetter(1), coords))
        if not set(map(type, xs)) | set(map(type, ys)) <= {int, float}:
            return None
        lon = np.array(xs, dtype=float)
        lat = np.array(ys, dtype=float)
    except (KeyError, IndexError, TypeError, OverflowError):  # not the common case
        return None
    pids = list(map(dict.get, rows, repeat("id")))
    if None in pids:  # the Feature's own id stands in for a missing properties.id
        for i in [i for i, v in enumerate(pids) if v is None]:
            fid = features[i].get("id")
            if fid is not None:
                rows[i] = {**rows[i], "id": fid}
                pids[i] = fid
    ids = [
        v if type(v) is str and len(v) <= 60 else (None if v is None else shorten(v, 60))
        for v in pids
    ]
    return rows, ids, lon, lat


def _features_to_raw(
    features: list, fmt: str, transformer, *, problems: list[FeatureProblem] | None = None
) -> RawFeatures:
    fast = None if problems else _well_formed_points(features)
    if fast is not None:
        rows, ids, lon, lat = fast
        warnings: list[FeatureProblem] = []
        if transformer is not None:
            _reproject(lon, lat, transformer, warnings)
        return RawFeatures(fmt, _property_frame(rows, warnings), lon, lat, [], warnings, ids)
    n = len(features)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    problems = list(problems or [])
    warnings: list[FeatureProblem] = []
    rows: list[dict] = []
    ids: list[str | None] = []
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            kind = feature.get("type") if isinstance(feature, dict) else type(feature).__name__
            if feature is not _UNPARSABLE:
                problems.append(
                    FeatureProblem(
                        i,
                        None,
                        "type",
                        shorten(kind),
                        "not a GeoJSON Feature",
                        'wrap it as {"type": "Feature", "geometry": {...}, "properties": {...}}',
                    )
                )
            rows.append({})
            ids.append(None)
            continue
        props = feature.get("properties")
        fid = feature.get("id")
        if props is None:
            props = {}
        if not isinstance(props, dict):
            problems.append(
                FeatureProblem(
                    i,
                    None,
                    "properties",
                    shorten(props),
                    "properties is not an object",
                    'write properties as {"date": ..., "type": ..., ...}',
                )
            )
            props = {}
        if props.get("id") is None and fid is not None:
            props = {**props, "id": fid}
        rows.append(props)
        pid = props.get("id")
        ids.append(None if pid is None else shorten(pid, 60))
        geometry = feature.get("geometry")
        coords = geometry.get("coordinates") if type(geometry) is dict else None
        if (  # the common case, checked inline; anything else gets the full diagnosis
            type(coords) is list
            and len(coords) >= 2
            and type(coords[0]) in _NUMBER_TYPES
            and type(coords[1]) in _NUMBER_TYPES
            and geometry.get("type") == "Point"
        ):
            lon[i], lat[i] = coords[0], coords[1]
            continue
        problem = _geometry_problem(i, ids[-1], geometry)
        if problem is None:
            lon[i], lat[i] = float(coords[0]), float(coords[1])
        else:
            problems.append(problem)
    if transformer is not None:
        _reproject(lon, lat, transformer, warnings)
    frame = _property_frame(rows, warnings)
    return RawFeatures(fmt, frame, lon, lat, problems, warnings, ids)


def _reproject(lon: np.ndarray, lat: np.ndarray, transformer, warnings: list) -> None:
    """Reproject the finite coordinates in place to WGS 84; say so in ``warnings``."""
    crs, transform = transformer
    finite = np.isfinite(lon) & np.isfinite(lat)
    with np.errstate(all="ignore"):
        x, y = transform.transform(lon[finite], lat[finite], errcheck=False)
    lon[finite], lat[finite] = x, y
    warnings.append(
        FeatureProblem(
            None,
            None,
            "crs",
            shorten(crs.to_string()),
            f"coordinates were reprojected from {crs.name} to WGS 84",
            "none needed; RFC 7946 files are in WGS 84 and carry no 'crs' member",
            "warning",
        )
    )


_UNPARSABLE = object()
_NUMBER_TYPES = (int, float)


def read_geojson(
    text: str, *, max_features: int, max_depth: int, data: bytes | None = None
) -> RawFeatures:
    """Read a GeoJSON FeatureCollection, a single Feature, or newline-delimited Features.

    Parameters
    ----------
    text
        The decoded file.
    max_features
        Most features accepted.
    max_depth
        Deepest JSON nesting accepted.
    data
        The file's bytes, when at hand (spares re-encoding for the depth check).
    """
    try:
        value = _loads(text, max_depth=max_depth, data=data)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" or text.lstrip().startswith("\x1e"):
            return read_ndjson(text, max_features=max_features, max_depth=max_depth)
        raise file_error(
            "file",
            text[max(0, exc.pos - 20) : exc.pos + 20],
            f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
            "fix the JSON syntax there (a validator such as jsonlint shows it), or export "
            "the file again",
        ) from None
    except ValueError as exc:  # e.g. an integer with more than 4300 digits
        raise file_error("file", str(exc), "not valid JSON", "export the file again") from None
    if not isinstance(value, dict):
        raise file_error(
            "file",
            type(value).__name__,
            f"the JSON is a {type(value).__name__}, not a GeoJSON object",
            "write a FeatureCollection: "
            '{"type": "FeatureCollection", "features": [{"type": "Feature", ...}]}',
        )
    gtype = value.get("type")
    transformer = _crs_transformer(value["crs"]) if "crs" in value else None
    if gtype == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list):
            raise file_error(
                "features",
                features,
                "the FeatureCollection has no 'features' list",
                'add "features": [ ... ] with one Feature per incident',
            )
    elif gtype == "Feature":
        features = [value]
    elif gtype in {
        "Point",
        "MultiPoint",
        "LineString",
        "Polygon",
        "MultiPolygon",
        "MultiLineString",
        "GeometryCollection",
    }:
        raise file_error(
            "type",
            gtype,
            f"the file is a bare {gtype} geometry, with no incident properties",
            "wrap it in a Feature with properties (date, type, ...) or a FeatureCollection",
        )
    else:
        raise file_error(
            "type",
            gtype,
            "not GeoJSON: the top-level 'type' is not FeatureCollection or Feature",
            "export the file as GeoJSON (RFC 7946)",
        )
    if not features:
        raise file_error("features", "[]", "the file holds no features", "add at least one Feature")
    _check_count(len(features), max_features)
    return _features_to_raw(features, "geojson", transformer)


def read_ndjson(text: str, *, max_features: int, max_depth: int) -> RawFeatures:
    """Read newline-delimited GeoJSON Features (one per line; RFC 8142 separators allowed).

    A line that is not JSON rejects that feature only.
    """
    lines = [line.strip().lstrip("\x1e") for line in text.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise file_error("file", "", "the file is empty", "upload a file with at least one feature")
    _check_count(len(lines), max_features)
    if _structural_depth(text) > max_depth:
        for line in lines:
            try:
                depth = _exact_depth(json.loads(line))
            except (ValueError, RecursionError):
                continue
            if depth > max_depth:
                raise _too_deep(max_depth, depth)
    features: list = []
    problems: list[FeatureProblem] = []
    for i, line in enumerate(lines):
        try:
            features.append(json.loads(line))
        except (ValueError, RecursionError) as exc:
            features.append(_UNPARSABLE)
            problems.append(
                FeatureProblem(
                    i,
                    None,
                    "line",
                    shorten(line),
                    f"not JSON ({exc})",
                    "write one complete Feature object per line",
                )
            )
    return _features_to_raw(features, "ndjson", None, problems=problems)


# --- CSV -----------------------------------------------------------------------


def _read_table(text: str) -> pd.DataFrame:
    first = text.lstrip().split("\n", 1)[0]
    sep = ","
    if "," not in first:
        if ";" in first:
            sep = ";"
        elif "\t" in first:
            sep = "\t"
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            dtype=object,  # the text as written (pandas' "str" would convert to Arrow and back)
            keep_default_na=False,
            na_values=[""],
            skipinitialspace=True,
            engine="c",
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OverflowError) as exc:
        raise file_error(
            "file",
            str(exc).strip().splitlines()[-1] if str(exc).strip() else "",
            f"not a readable CSV table: {' '.join(str(exc).split())}",
            "export the table again as CSV (comma-separated, UTF-8, one header row)",
        ) from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if frame.columns.duplicated().any():
        dup = sorted(set(frame.columns[frame.columns.duplicated()]))
        raise file_error(
            "header",
            ", ".join(dup),
            "the CSV header repeats column names",
            "give every column a distinct name",
        )
    return frame.astype(object).where(frame.notna(), None)


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


def read_csv(text: str, *, max_features: int) -> RawFeatures:
    """Read a CSV table with latitude/longitude columns (an ACLED export is detected).

    Parameters
    ----------
    text
        The decoded file.
    max_features
        Most rows accepted.
    """
    frame = _read_table(text)
    if all(c in frame.columns for c in ACLED_MARKER_COLUMNS):
        return read_acled_frame(frame, max_features=max_features)
    if frame.empty:
        raise file_error("file", "", "the CSV has a header but no rows", "add one row per incident")
    _check_count(len(frame), max_features)
    lat_name, lon_name = _coordinate_columns(frame)
    ids = [None if v is None else shorten(v, 60) for v in frame.get("id", [None] * len(frame))]
    problems: list[FeatureProblem] = []
    lon, lat = _coordinates(frame, lat_name, lon_name, ids, problems)
    warnings: list[FeatureProblem] = []
    properties = _property_frame(
        frame.drop(columns=[lat_name, lon_name]).to_dict("records"), warnings
    )
    return RawFeatures("csv", properties, lon, lat, problems, warnings, ids)


_ACLED_DATE = re.compile(r"^\s*(\d{1,2}) ([A-Za-z]+) (\d{4})\s*$")


def _map_distinct(function, *columns) -> list:
    """Return ``function(*row)`` for each row of ``columns``, calling it once per distinct row.

    The columns of an export repeat a few values (event types, places, precision codes,
    dates): computing each once and looking the rest up keeps 100,000 rows fast.
    """
    keys = list(zip(*columns, strict=True))
    results = {key: function(*key) for key in set(keys)}
    return list(map(results.__getitem__, keys))


def _acled_dates(values: pd.Series) -> pd.Series:
    """Return ACLED dates as ISO text: ``YYYY-MM-DD`` kept, ``16 March 2025`` converted."""
    text = values.astype(object)
    spelled = _map_distinct(lambda v: isinstance(v, str) and bool(_ACLED_DATE.match(v)), text)
    parsed = pd.to_datetime(
        text.where(pd.Series(spelled, index=text.index, dtype=bool)),
        format="%d %B %Y",
        errors="coerce",
    )
    iso = parsed.dt.strftime("%Y-%m-%d")
    return text.where(parsed.isna(), iso)


def _acled_code(
    frame: pd.DataFrame, column: str, mapping: dict, ids: list, problems: list
) -> pd.Series:
    out = pd.Series([None] * len(frame), dtype=object)
    if column not in frame.columns:
        return out
    raw = frame[column]
    codes = pd.to_numeric(raw, errors="coerce")
    mapped = pd.Series(
        _map_distinct(
            lambda c: mapping.get(int(c)) if np.isfinite(c) and c == int(c) else None,
            codes.tolist(),
        ),
        index=codes.index,
    )
    bad = np.flatnonzero(mapped.isna().to_numpy() & raw.notna().to_numpy())
    for i in bad:
        problems.append(
            FeatureProblem(
                int(i),
                ids[i],
                column,
                shorten(raw.iat[i]),
                f"not an ACLED {column} code (allowed: {', '.join(map(str, mapping))})",
                "use ACLED's code as exported, or leave it empty for the default precision",
            )
        )
    return mapped.astype(object).where(mapped.notna(), None)


def _acled_type(event_type: object, sub_event_type: object) -> str | None:
    sub = str(sub_event_type).strip().lower() if sub_event_type is not None else ""
    event = str(event_type).strip().lower() if event_type is not None else ""
    return schema.ACLED_SUB_EVENT_TYPES.get(sub) or schema.ACLED_EVENT_TYPES.get(event)


def read_acled_frame(frame: pd.DataFrame, *, max_features: int) -> RawFeatures:
    """Map an ACLED export (already read as text columns) to the incident schema.

    ``event_id_cnty`` -> id; ``event_date`` -> date; ``time_precision`` -> date
    precision (:data:`geo.schema.ACLED_TIME_PRECISION_DAYS`); ``event_type`` and
    ``sub_event_type`` -> type (:data:`geo.schema.ACLED_SUB_EVENT_TYPES`, then
    :data:`geo.schema.ACLED_EVENT_TYPES`), both kept in ``source_event_type`` and
    ``source_sub_event_type``; ``geo_precision`` -> location precision
    (:data:`geo.schema.ACLED_GEO_PRECISION_M`); ``notes`` -> description;
    ``source`` -> source (prefixed ``ACLED: ``); ``actor1``, ``actor2``,
    ``fatalities`` kept; ``location``/``admin2``/``admin1`` and the precision
    code go into ``location_note``.
    """
    if frame.empty:
        raise file_error("file", "", "the ACLED export has no rows", "export at least one event")
    _check_count(len(frame), max_features)
    n = len(frame)

    def column(name: str) -> pd.Series:
        return frame[name] if name in frame.columns else pd.Series([None] * n, dtype=object)

    ids = [
        v if type(v) is str and len(v) <= 60 else (None if v is None else shorten(v, 60))
        for v in column("event_id_cnty")
    ]
    problems: list[FeatureProblem] = []
    lat_name, lon_name = _coordinate_columns(frame)
    lon, lat = _coordinates(frame, lat_name, lon_name, ids, problems)
    event_type, sub_type = column("event_type"), column("sub_event_type")
    pairs = set(zip(event_type.tolist(), sub_type.tolist(), strict=True))
    unmapped = sorted({str(e) for e, sub in pairs if e and _acled_type(e, sub) is None})
    types = _map_distinct(
        lambda e, sub: _acled_type(e, sub) or ("other" if e else None),
        event_type.tolist(),
        sub_type.tolist(),
    )
    warnings: list[FeatureProblem] = []
    if unmapped:
        warnings.append(
            FeatureProblem(
                None,
                None,
                "event_type",
                shorten(", ".join(unmapped)),
                "ACLED event types without a match in our types were stored as 'other' "
                "(the original is kept in source_event_type)",
                "none needed; edit the type later if another fits better",
                "warning",
            )
        )

    def location_note(location, admin2, admin1, geo_code) -> str | None:
        place = ", ".join(str(p) for p in (location, admin2, admin1) if p)
        parts = (
            f"ACLED location: {place}" if place else "",
            f"ACLED geo_precision {geo_code}" if geo_code is not None else "",
        )
        return "; ".join(part for part in parts if part) or None

    note = _map_distinct(
        location_note,
        column("location").tolist(),
        column("admin2").tolist(),
        column("admin1").tolist(),
        column("geo_precision").tolist(),
    )
    source = _map_distinct(
        lambda s: None if s is None else f"ACLED: {s}", column("source").tolist()
    )
    properties = pd.DataFrame(
        {
            "id": column("event_id_cnty").to_numpy(),
            "date": _acled_dates(column("event_date")).to_numpy(),
            "date_precision_days": _acled_code(
                frame, "time_precision", schema.ACLED_TIME_PRECISION_DAYS, ids, problems
            ).to_numpy(),
            "type": types,
            "description": column("notes").to_numpy(),
            "fatalities": column("fatalities").to_numpy(),
            "actor1": column("actor1").to_numpy(),
            "actor2": column("actor2").to_numpy(),
            "location_precision_m": _acled_code(
                frame, "geo_precision", schema.ACLED_GEO_PRECISION_M, ids, problems
            ).to_numpy(),
            "location_note": note,
            "source": source,
            "source_event_type": event_type.to_numpy(),
            "source_sub_event_type": sub_type.to_numpy(),
        },
        dtype=object,
    )
    return RawFeatures("acled", properties, lon, lat, problems, warnings, ids)


# --- GeoPackage ----------------------------------------------------------------


def read_geopackage(data: bytes, *, max_features: int, layer: str | None = None) -> RawFeatures:
    """Read the incident layer of a GeoPackage (the only layer, or the one named ``incidents``).

    Parameters
    ----------
    data
        The file's bytes.
    max_features
        Most features accepted.
    layer
        The layer to read; by default the only one, else ``incidents``.
    """
    fd, tmp = tempfile.mkstemp(suffix=".gpkg")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # GDAL's notes on odd files: our error says it
            return _read_geopackage_file(tmp, max_features=max_features, layer=layer)
    finally:
        os.unlink(tmp)


def _read_geopackage_file(tmp: str, *, max_features: int, layer: str | None) -> RawFeatures:
    import pyogrio
    import shapely

    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(tmp)]
    except Exception as exc:  # GDAL raises several error types on a corrupt file
        raise file_error(
            "file",
            shorten(str(exc)),
            "not a readable GeoPackage",
            "export the layer again as GeoPackage, or as GeoJSON",
        ) from None
    if layer is None:
        if len(layers) == 1:
            layer = layers[0]
        elif "incidents" in layers:
            layer = "incidents"
        else:
            raise file_error(
                "layer",
                ", ".join(layers) or "(none)",
                "the GeoPackage has no single incident layer",
                "keep one layer in the file, or name the incident layer 'incidents'",
            )
    try:
        info = pyogrio.read_info(tmp, layer=layer)
        _check_count(int(info.get("features") or 0), max_features)
        gdf = pyogrio.read_dataframe(tmp, layer=layer)
    except ValidationError:
        raise
    except Exception as exc:
        raise file_error(
            "layer",
            layer,
            f"the layer cannot be read: {shorten(str(exc))}",
            "export the layer again as GeoPackage, or as GeoJSON",
        ) from None
    _check_count(len(gdf), max_features)
    warnings: list[FeatureProblem] = []
    if gdf.crs is not None and not gdf.crs.equals(settings.GEOGRAPHIC_CRS, ignore_axis_order=True):
        warnings.append(
            FeatureProblem(
                None,
                None,
                "crs",
                shorten(gdf.crs.to_string()),
                f"coordinates were reprojected from {gdf.crs.name} to WGS 84",
                "none needed",
                "warning",
            )
        )
        gdf = gdf.to_crs(settings.GEOGRAPHIC_CRS)
    geoms = gdf.geometry.to_numpy() if gdf.geometry is not None else np.array([None] * len(gdf))
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name)).astype(object)
    for name in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(gdf[name]):
            frame[name] = gdf[name].dt.strftime("%Y-%m-%d").astype(object)
    frame = frame.where(frame.notna(), None)
    ids = [None if v is None else shorten(v, 60) for v in frame.get("id", [None] * len(frame))]
    types = shapely.get_type_id(geoms)
    n = len(frame)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    point = types == 0
    pts = geoms[point]
    lon[point], lat[point] = shapely.get_x(pts), shapely.get_y(pts)
    empty = shapely.is_empty(geoms)
    problems = []
    for i in np.flatnonzero(~point | empty):
        gtype = None if geoms[i] is None else geoms[i].geom_type
        problems.append(
            _geometry_problem(int(i), ids[i], None if gtype is None else {"type": gtype})
            if gtype != "Point"
            else FeatureProblem(
                int(i),
                ids[i],
                "geometry",
                "POINT EMPTY",
                "the Point is empty",
                "give the Point its coordinates",
            )
        )
    properties = _property_frame(frame.to_dict("records"), warnings)
    return RawFeatures("gpkg", properties, lon, lat, problems, warnings, ids)


def read_incident_file(
    data: bytes,
    *,
    filename: str,
    max_features: int = settings.MAX_FEATURES,
    max_depth: int = settings.MAX_JSON_DEPTH,
) -> RawFeatures:
    """Read incident features from a file's bytes in any supported format.

    Parameters
    ----------
    data
        The file's bytes.
    filename
        The file's name (its extension chooses the format; the content decides
        when the extension is unknown).
    max_features
        Most features accepted.
    max_depth
        Deepest JSON nesting accepted.

    Raises
    ------
    ValidationError
        For a problem with the whole file.
    """
    if not data:
        raise file_error("file", "", "the file is empty", "upload a file with at least one feature")
    fmt = detect_format(data, filename)
    if fmt == "gpkg":
        return read_geopackage(data, max_features=max_features)
    text = decode_text(data)
    if fmt == "csv":
        return read_csv(text, max_features=max_features)
    if fmt == "ndjson":
        return read_ndjson(text, max_features=max_features, max_depth=max_depth)
    return read_geojson(text, max_features=max_features, max_depth=max_depth, data=data)


__all__ = [
    "FORMATS",
    "RawFeatures",
    "decode_text",
    "detect_format",
    "read_acled_frame",
    "read_csv",
    "read_geojson",
    "read_geopackage",
    "read_incident_file",
    "read_ndjson",
]
