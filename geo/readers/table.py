"""The CSV reader: a table with latitude/longitude columns (an ACLED export is handed on)."""

from __future__ import annotations

import io

import pandas as pd

from geo.errors import FeatureProblem
from geo.readers.acled import ACLED_MARKER_COLUMNS, read_acled_frame
from geo.readers.common import (
    RawFeatures,
    _check_count,
    _coordinate_columns,
    _coordinates,
    _property_frame,
    file_error,
    shorten,
)


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
