"""Readers of incident files: GeoJSON, newline-delimited GeoJSON, CSV, ACLED CSV, GeoPackage.

A reader turns the bytes of a file into :class:`RawFeatures`: the features'
properties as read (one row per feature, renamed to the schema's names but not yet
checked), their longitude and latitude in EPSG:4326, and the problems found
while reading. Checking the values is :mod:`geo.validation`'s job.

A problem with the whole file (not UTF-8, not JSON, too deep, too many
features, an unknown ``crs``, an image or an archive under an incident file's
name, a damaged GeoPackage, an ACLED export without its required columns, ...)
raises :class:`geo.errors.ValidationError`; a problem with one feature (a Polygon
instead of a Point, a missing coordinate, ...) is recorded in
:attr:`RawFeatures.problems` and the other features are still read. Whatever the
bytes, a reader returns or raises :class:`~geo.errors.ValidationError`, never another
exception.

The package holds one module a format, and :func:`read_incident_file`, which
chooses among them:

- :mod:`geo.readers.common`: :class:`RawFeatures`, :func:`shorten`,
  :func:`file_error`, :func:`detect_format`, :func:`decode_text`, the count and
  depth limits and the helpers the readers share;
- :mod:`geo.readers.features`: GeoJSON Feature objects to :class:`RawFeatures`
  (for the two GeoJSON readers);
- :mod:`geo.readers.geojson`, :mod:`geo.readers.ndjson`, :mod:`geo.readers.table`
  (CSV), :mod:`geo.readers.acled`, :mod:`geo.readers.geopackage`: the readers.

Its modules may import numpy, pandas, pyproj, pyogrio, shapely, :mod:`geo.schema`,
:mod:`geo.settings` and :mod:`geo.errors`, and each other (``common`` imports no
reader); never :mod:`geo.store`, :mod:`geo.validation` or streamlit. Every name
other modules import is importable from ``geo.readers`` itself.
"""

from __future__ import annotations

import logging

from geo import settings
from geo.readers.acled import ACLED_MARKER_COLUMNS, read_acled_frame
from geo.readers.common import (
    CSV_COORDINATE_COLUMNS,
    FORMATS,
    RawFeatures,
    decode_text,
    detect_format,
    file_error,
    printable,
    shorten,
    sniff_binary,
)
from geo.readers.geojson import read_geojson
from geo.readers.geopackage import read_geopackage
from geo.readers.ndjson import read_ndjson
from geo.readers.table import read_csv

logger = logging.getLogger(__name__)


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
    sniff_binary(data, filename, fmt)
    if fmt == "gpkg":
        return read_geopackage(data, max_features=max_features)
    text = decode_text(data)
    if fmt == "csv":
        return read_csv(text, max_features=max_features)
    if fmt == "ndjson":
        return read_ndjson(text, max_features=max_features, max_depth=max_depth)
    return read_geojson(text, max_features=max_features, max_depth=max_depth, data=data)


__all__ = [
    "ACLED_MARKER_COLUMNS",
    "CSV_COORDINATE_COLUMNS",
    "FORMATS",
    "RawFeatures",
    "decode_text",
    "detect_format",
    "file_error",
    "printable",
    "read_acled_frame",
    "read_csv",
    "read_geojson",
    "read_geopackage",
    "read_incident_file",
    "read_ndjson",
    "shorten",
    "sniff_binary",
]
