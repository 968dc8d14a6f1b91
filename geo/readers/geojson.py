"""The GeoJSON reader: a FeatureCollection or a single Feature (RFC 7946, legacy ``crs``)."""

from __future__ import annotations

import json

from geo import settings
from geo.errors import ValidationError
from geo.readers.common import RawFeatures, _check_count, _loads, file_error
from geo.readers.features import _features_to_raw
from geo.readers.ndjson import read_ndjson

#: Members of the top-level object whose repetition makes the whole file ambiguous.
_TOP_MEMBERS = ("type", "features", "crs")

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
        value, oddities = _loads(text, max_depth=max_depth, data=data)
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
    except ValidationError:  # too deep: a ValueError too, but already ours
        raise
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
    repeated = [k for k in oddities.duplicates.get(id(value), ()) if k in _TOP_MEMBERS]
    if repeated:
        raise file_error(
            repeated[0],
            repeated[0],
            f"the member {repeated[0]!r} is given twice at the top of the file: which one "
            "is meant is ambiguous (JSON readers disagree)",
            f"keep one {repeated[0]!r}",
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
    return _features_to_raw(features, "geojson", transformer, oddities=oddities)
