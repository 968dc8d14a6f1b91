"""The newline-delimited GeoJSON reader (one Feature a line; RFC 8142 separators allowed)."""

from __future__ import annotations

import json

from geo.errors import FeatureProblem
from geo.readers.common import (
    JsonOddities,
    RawFeatures,
    _check_count,
    _exact_depth,
    _structural_depth,
    _too_deep,
    file_error,
    json_decoder,
    shorten,
)
from geo.readers.features import _UNPARSABLE, _features_to_raw


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
    oddities = JsonOddities()
    oddities.look_at(text)
    decode = json_decoder(oddities).decode
    for i, line in enumerate(lines):
        try:
            features.append(decode(line))
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
    return _features_to_raw(features, "ndjson", None, problems=problems, oddities=oddities)
