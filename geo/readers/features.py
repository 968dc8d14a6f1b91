r"""GeoJSON Feature objects to :class:`~geo.readers.common.RawFeatures`.

Shared by the GeoJSON and newline-delimited GeoJSON readers (and, for the
diagnosis of a geometry that is not a Point, by the GeoPackage reader).

Geometries
----------
An incident is one place: a Point. A MultiPoint of exactly one point (what many GIS
exports write for points, e.g. a GeoPackage layer typed MultiPoint) is read as that
point, with a file-level warning. A MultiPoint of several points and a
GeometryCollection are rejected with a message saying to split them into one Feature
per point (never turned into one point: that would invent a location); so is any
other geometry (a polygon, a line).

What the JSON parser hides
--------------------------
A key given twice in a Feature, its properties or its geometry (which one is meant is
ambiguous: JSON readers disagree), a ``NaN`` or ``Infinity`` literal (not JSON) in a
property, and a NUL or a lone surrogate in the text of a schema field
(:data:`geo.readers.common.UNSTORABLE`) reject the feature, naming the field. A key
repeated among the properties the schema does not know is not a problem: they are
not stored.
"""

from __future__ import annotations

from itertools import repeat
from operator import itemgetter

import numpy as np

from geo import schema
from geo.errors import FeatureProblem
from geo.readers.common import (
    UNSTORABLE,
    JsonOddities,
    RawFeatures,
    _property_frame,
    printable,
    shorten,
)

#: Members of a Feature and of a geometry whose repetition makes the feature ambiguous.
_FEATURE_MEMBERS = ("type", "id", "geometry", "properties")
_GEOMETRY_MEMBERS = ("type", "coordinates", "geometries")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def geometry_type_problem(
    index: int, fid: str | None, gtype: object, parts: int | None = None
) -> FeatureProblem:
    """Return the problem of a geometry of type ``gtype`` that cannot be an incident's place.

    Parameters
    ----------
    index, fid
        The feature's position and id.
    gtype
        The geometry's type (as the file gives it).
    parts
        Points of a MultiPoint, members of a GeometryCollection (when known).
    """
    shown = shorten(gtype, 40)
    if gtype in ("MultiPoint", "GeometryCollection"):
        noun = "point" if gtype == "MultiPoint" else "geometr" + ("y" if parts == 1 else "ie")
        of = f" of {parts} {noun}{'s' if parts != 1 else ''}" if parts else ""
        if parts == 0:
            reason = f"the {gtype} is empty: it has no point"
            fix = "give the incident a Point at the reported place"
        else:
            reason = (
                f"the geometry is a {gtype}{of}, not a Point: an incident is one place "
                "(it is not turned into one point: that would invent a location)"
            )
            fix = (
                "split it into one Feature per Point, each with its own id"
                if gtype == "MultiPoint"
                else "split it into one Feature per Point, each with its own id (lines and "
                "polygons cannot be incidents: give a Point and set location_precision_m)"
            )
        return FeatureProblem(index, fid, "geometry", shown, reason, fix)
    return FeatureProblem(
        index,
        fid,
        "geometry",
        shown,
        f"the geometry is a {shown}, not a Point (it is not turned into a point: that "
        "would invent a location)",
        "give a Point at the reported place and set location_precision_m to the area's size",
    )


def _point_of(
    index: int, fid: str | None, geometry: object
) -> tuple[tuple[float, float] | None, FeatureProblem | None, bool]:
    """Return ``(lon_lat, problem, from_multipoint)`` for a GeoJSON geometry.

    ``lon_lat`` is set when the geometry is a usable Point (or a MultiPoint of one
    point, then ``from_multipoint`` is true); ``problem`` says why it is not.
    """

    def problem(value: object, reason: str, fix: str) -> FeatureProblem:
        return FeatureProblem(index, fid, "geometry", shorten(value), reason, fix)

    if geometry is None:
        return (
            None,
            problem(
                None,
                "the geometry is missing (null)",
                "give the incident a Point at the reported place, with location_precision_m",
            ),
            False,
        )
    if not isinstance(geometry, dict):
        return (
            None,
            problem(
                geometry,
                "the geometry is not a GeoJSON object",
                'write {"type": "Point", "coordinates": [longitude, latitude]}',
            ),
            False,
        )
    gtype = geometry.get("type")
    coords = geometry.get("coordinates")
    single = False
    if gtype == "MultiPoint" and isinstance(coords, list):
        if len(coords) != 1:
            return None, geometry_type_problem(index, fid, gtype, len(coords)), False
        coords, single = coords[0], True
    elif gtype == "GeometryCollection":
        members = geometry.get("geometries")
        parts = len(members) if isinstance(members, list) else None
        return None, geometry_type_problem(index, fid, gtype, parts), False
    elif gtype != "Point":
        return None, geometry_type_problem(index, fid, gtype), False
    if not isinstance(coords, list) or len(coords) < 2:
        return (
            None,
            problem(
                coords,
                f"the {'MultiPoint' if single else 'Point'} has no [longitude, latitude] "
                "coordinates",
                "write coordinates as [longitude, latitude] in decimal degrees",
            ),
            False,
        )
    if not (_is_number(coords[0]) and _is_number(coords[1])):
        return (
            None,
            problem(
                coords,
                "the coordinates are not numbers",
                "write coordinates as numbers [longitude, latitude], without quotes",
            ),
            False,
        )
    try:
        return (float(coords[0]), float(coords[1])), None, single
    except OverflowError:  # an integer with hundreds of digits
        return (
            None,
            problem(
                coords,
                "the coordinates are not finite numbers (too large for a number)",
                "give the longitude and latitude in decimal degrees",
            ),
            False,
        )


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
    features: list,
    fmt: str,
    transformer,
    *,
    problems: list[FeatureProblem] | None = None,
    oddities: JsonOddities | None = None,
) -> RawFeatures:
    problems = list(problems or [])
    if oddities:
        problems += _inspect_oddities(features, oddities)
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
    warnings = []
    rows: list[dict] = []
    ids: list[str | None] = []
    multipoints = 0
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
                    None if fid is None else shorten(fid, 60),
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
            and type(coords[0]) is float
            and type(coords[1]) is float
            and geometry.get("type") == "Point"
        ):
            lon[i], lat[i] = coords[0], coords[1]
            continue
        point, problem, from_multipoint = _point_of(i, ids[-1], geometry)
        if problem is not None:
            problems.append(problem)
        else:
            lon[i], lat[i] = point
            multipoints += from_multipoint
    if multipoints:
        warnings.append(
            FeatureProblem(
                None,
                None,
                "geometry",
                f"{multipoints} feature(s)",
                "a MultiPoint of one point was read as that Point",
                "none needed; write a Point when there is one place",
                "warning",
            )
        )
    if transformer is not None:
        _reproject(lon, lat, transformer, warnings)
    frame = _property_frame(rows, warnings)
    return RawFeatures(fmt, frame, lon, lat, _first_a_field(problems), warnings, ids)


def _first_a_field(problems: list[FeatureProblem]) -> list[FeatureProblem]:
    """Return the problems without a second one for the same feature and field.

    What :func:`_inspect_oddities` found comes first and says more (a geometry given
    twice is also, read one way, a missing geometry).
    """
    seen: set[tuple[int, str]] = set()
    kept = []
    for problem in problems:
        key = (problem.index, problem.field)
        if problem.index is None or key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def _schema_name(key: object) -> str | None:
    """Return the schema column a property name stands for (as :func:`_property_frame` reads it)."""
    if key in _KNOWN:
        return key
    name = key.strip().lower() if isinstance(key, str) else None
    return name if name in _KNOWN else None


def _unstorable_reason(text: str) -> str:
    char = UNSTORABLE.search(text).group()
    if char == "\x00":
        return (
            "the text holds a NUL character (\\u0000): the store and most programs cut the "
            "text there"
        )
    return (
        f"the text holds a lone surrogate ({printable(char)}): half of a UTF-16 pair, not a "
        "character (an encoding error of the program that wrote the file)"
    )


def _inspect_oddities(features: list, oddities: JsonOddities) -> list[FeatureProblem]:
    """Return one problem per feature and field for what the JSON parser hid.

    Keys given twice, ``NaN``/``Infinity`` literals and unstorable text
    (:data:`~geo.readers.common.UNSTORABLE`) in a Feature, its properties or its
    geometry. Unstorable text and property names are replaced by printable escapes
    (:func:`~geo.readers.common.printable`) in place, so that nothing later fails on
    them; the feature is rejected anyway.
    """
    problems = []
    fix_text = "remove it, or export the file again as UTF-8"
    for i, feature in enumerate(features):
        if type(feature) is not dict:
            continue
        props = feature.get("properties")
        props_id = id(props)  # the duplicates are recorded by the parsed object
        props = props if type(props) is dict else {}
        found: list[tuple[str, object, str, str]] = []  # field, value, reason, fix
        add = found.append
        if oddities.odd_text:
            own = feature.get("id")
            if type(own) is str and UNSTORABLE.search(own):
                if props.get("id") is None:  # the Feature's id stands for a missing one
                    add(("id", own, _unstorable_reason(own), fix_text))
                feature["id"] = printable(own)
            if any(type(k) is str and UNSTORABLE.search(k) for k in props):
                props = {printable(k): v for k, v in props.items()}
                feature["properties"] = props
        for key in oddities.duplicates.get(id(feature), ()):
            if key in _FEATURE_MEMBERS:
                add(
                    (
                        key,
                        key,
                        f"the member {key!r} is given twice in this Feature: which one is meant "
                        "is ambiguous (JSON readers disagree)",
                        f"keep one {key!r}",
                    )
                )
        for key in oddities.duplicates.get(props_id, ()):
            name = _schema_name(key)
            if name:
                add(
                    (
                        name,
                        key,
                        f"the property {key!r} is given twice: which value is meant is ambiguous "
                        "(JSON readers disagree)",
                        f"keep one {key!r}",
                    )
                )
        for key in oddities.duplicates.get(id(feature.get("geometry")), ()):
            if key in _GEOMETRY_MEMBERS:
                add(
                    (
                        "geometry",
                        key,
                        f"the geometry gives {key!r} twice: which one is meant is ambiguous "
                        "(JSON readers disagree)",
                        f"keep one {key!r}",
                    )
                )
        if oddities.constants:
            candidates = list(props.items())
            if props.get("id") is None:
                candidates.append(("id", feature.get("id")))
            for key, value in candidates:
                literal = oddities.constants.get(id(value)) if type(value) is float else None
                name = _schema_name(key)
                if literal and name:
                    add(
                        (
                            name,
                            literal,
                            f"{literal} is not a JSON number (RFC 8259 has no NaN or Infinity)",
                            "write null, or leave the field out, when the value is unknown",
                        )
                    )
        if oddities.odd_text:
            for key, value in list(props.items()):
                if type(value) is str and UNSTORABLE.search(value):
                    name = _schema_name(key)
                    if name:  # the others are not stored
                        add((name, value, _unstorable_reason(value), fix_text))
                    props[key] = printable(value)
        if found:
            own_id = props.get("id") if props.get("id") is not None else feature.get("id")
            fid = None if own_id is None or type(own_id) is float else shorten(own_id, 60)
            fields: set[str] = set()
            for field, value, reason, fix in found:
                if field not in fields:  # one problem a field
                    fields.add(field)
                    problems.append(FeatureProblem(i, fid, field, shorten(value), reason, fix))
    return problems


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
_KNOWN = frozenset(schema.INCIDENT_COLUMNS)
