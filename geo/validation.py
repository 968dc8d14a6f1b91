"""Validation of incident features: every problem of every feature, all at once.

:func:`validate_features` takes what a reader produced (:class:`geo.readers.RawFeatures`)
and returns the features that pass as a schema-conforming GeoDataFrame, plus one
:class:`geo.errors.FeatureProblem` per problem: ``severity="error"`` rejects the
feature, ``"warning"`` keeps it. The checks are vectorised so that 100,000
features take well under a second.

Checks
------
- ``id``: text or whole number, at most :data:`geo.schema.MAX_ID_LENGTH` characters,
  unique in the file and not already in the store. Missing: generated.
- ``type``: one of :data:`geo.settings.INCIDENT_TYPES` (case-insensitive); an
  unknown type is rejected with the nearest allowed one suggested.
- ``date``: ISO 8601, not in the future, not before 1900.
- Numbers: ``quantity`` >= 0, ``fatalities`` whole >= 0, ``date_precision_days``
  whole in 1..3660, ``location_precision_m`` in (0, 200 km]; missing precisions get
  the documented defaults (:mod:`geo.schema`).
- Text: text (a number is turned into text; an object or list is rejected), at
  most :data:`geo.schema.MAX_TEXT_LENGTH` characters, stored verbatim. (A NUL or a
  lone surrogate, which the store cannot keep, is refused by the JSON readers.)
- Coordinates: finite, in range; values in the thousands with no CRS are taken
  for projected metres and rejected.
- Region: a feature farther than ``region_distance_m`` from the border is
  rejected (``outside_region="reject"``, the default) or kept with a warning
  (``"warn"``). When swapping longitude and latitude would bring it into the
  region a warning says so.
- Likely duplicates (same type, within ``duplicate_distance_m`` and
  ``duplicate_days``, in the file or in the store) are kept with a warning.

The border line and the stored incidents are given by the caller: the border as a
shapely line (the entry points pass ``layers.reference.ReferenceLayers.bundled().line``;
without one the region is not checked and a file-level warning says so), the stored
incidents as :class:`geo.lookup.StoredIncidents` (a store, or a GeoDataFrame wrapped
by :class:`geo.lookup.FrameIncidents`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import logging
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geo import schema, settings
from geo.errors import ConfigurationError, FeatureProblem
from geo.lookup import FrameIncidents, StoredIncidents
from geo.readers import RawFeatures, shorten

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

logger = logging.getLogger(__name__)

__all__ = [
    "FrameIncidents",
    "StoredIncidents",
    "ValidationOptions",
    "suggest_type",
    "to_metric",
    "validate_features",
]

#: Absolute coordinate above which a value is taken for projected metres.
PROJECTED_THRESHOLD = 1_000.0
#: Earliest incident date accepted.
EARLIEST_DATE = pd.Timestamp("1900-01-01")
#: Fields of a reader's problem that mean the feature could not be read as one: its
#: other fields are not checked (their messages would only repeat it).
_UNREAD_FIELDS = frozenset({"properties", "line", "feature"})


@dataclass(frozen=True)
class ValidationOptions:
    """Options of validation (defaults from :mod:`geo.settings`).

    Attributes
    ----------
    region_distance_m
        Largest distance from the border of an incident in the region (metres).
    outside_region
        ``"reject"`` or ``"warn"`` for an incident outside the region.
    check_region
        Check the distance to the border at all.
    duplicate_distance_m, duplicate_days
        Same type within this distance and this many days: a likely duplicate.
    today
        The date after which a date is in the future (default: today, UTC).
    """

    region_distance_m: float = settings.REGION_DISTANCE_M
    outside_region: str = settings.OUTSIDE_REGION_POLICY
    check_region: bool = True
    duplicate_distance_m: float = settings.DUPLICATE_DISTANCE_M
    duplicate_days: int = settings.DUPLICATE_DAYS
    today: dt.date | None = None

    def __post_init__(self) -> None:
        if self.outside_region not in ("reject", "warn"):
            raise ConfigurationError(
                f"outside_region={self.outside_region!r} is not allowed; use 'reject' or 'warn'"
            )
        if not self.region_distance_m > 0:
            raise ConfigurationError(
                f"region_distance_m={self.region_distance_m!r} must be a positive number of metres"
            )


class _Collector:
    """Collects problems and the rejected mask.

    A field the reader already found wrong in a feature is not reported again (one
    message a field), nor is anything else of a feature the reader could not read as
    one (not a Feature, properties not an object, a line that is not JSON).
    """

    def __init__(self, n: int, ids: list[str | None], reader_problems=()) -> None:
        self.rejected = np.zeros(n, dtype=bool)
        self.problems: list[FeatureProblem] = []
        self.ids = ids
        errors = [p for p in reader_problems if p.index is not None and p.severity == "error"]
        self.reported = {(p.index, p.field) for p in errors}
        self.unread = {p.index for p in errors if p.field in _UNREAD_FIELDS}
        self.rejected[[p.index for p in errors]] = True
        self.problems.extend(reader_problems)

    def error(self, i: int, field: str, value: object, reason: str, fix: str) -> None:
        self.rejected[i] = True
        if (i, field) in self.reported or i in self.unread:
            return
        self.problems.append(
            FeatureProblem(int(i), self.ids[i], field, shorten(value), reason, fix)
        )

    def warn(self, i: int, field: str, value: object, reason: str, fix: str) -> None:
        self.problems.append(
            FeatureProblem(int(i), self.ids[i], field, shorten(value), reason, fix, "warning")
        )


def _column(props: pd.DataFrame, name: str) -> pd.Series:
    n = len(props)
    if name in props.columns:
        # pandas 3 infers its Arrow "str" dtype for text here (a conversion, ~0.08 s at
        # 100,000 rows); dtype=object was faster but raised the peak RSS of the store and
        # read-back that follow by 50-80 MB (measured; the cause is not pinned down)
        return pd.Series(props[name].to_numpy(dtype=object), index=pd.RangeIndex(n))
    return pd.Series([None] * n, index=pd.RangeIndex(n), dtype=object)


def _missing(values: pd.Series) -> np.ndarray:
    """Return True where a raw value is absent (None, NaN or blank text)."""
    return np.fromiter(
        (v is None or v != v or (type(v) is str and not v.strip()) for v in values.to_numpy()),
        dtype=bool,
        count=len(values),
    )


def _absent(value: object) -> bool:
    """Return True when one raw value is absent (None, NaN or blank text)."""
    return value is None or value != value or (type(value) is str and not value.strip())


def _per_distinct(values: pd.Series, function) -> pd.Series:
    """Return ``function`` of each value (object dtype), calling it once per distinct value.

    For columns with few distinct values (types). ``function`` must give the same
    result for values that compare equal (``1``, ``1.0`` and ``True`` share a call).
    """
    objects = values.to_numpy(dtype=object)
    try:
        codes, uniques = pd.factorize(objects, use_na_sentinel=False)
    except TypeError:  # an unhashable value (a list or an object): one call per row
        return pd.Series([function(v) for v in objects], index=values.index, dtype=object)
    mapped = np.empty(len(uniques), dtype=object)
    mapped[:] = [function(v) for v in uniques]
    return pd.Series(mapped[codes], index=values.index, dtype=object)


def _kinds(values: pd.Series) -> pd.Series:
    return pd.Series([type(v) for v in values.to_numpy()], index=values.index, dtype=object)


def _only(values: pd.Series, kinds: tuple[type, ...]) -> bool:
    """Return True when every value is of one of ``kinds`` (fast path check)."""
    return set(map(type, values.to_numpy())) <= set(kinds)


def _check_ids(
    raw: RawFeatures, c: _Collector, *, stem: str, sha: str, existing: StoredIncidents | None
) -> list:
    values = _column(raw.properties, "id")
    ids: list = [None] * len(values)
    if _only(values, (str,)):
        stripped = list(map(str.strip, values.to_numpy()))
        longest = max(map(len, stripped), default=0)
        if all(stripped) and longest <= schema.MAX_ID_LENGTH:
            ids = stripped
            c.ids[:] = (
                ids if longest <= 60 else [v if len(v) <= 60 else shorten(v, 60) for v in ids]
            )
            values = values.iloc[:0]  # nothing left to check one by one
    kinds = _kinds(values)
    for i, (value, kind) in enumerate(zip(values, kinds, strict=True)):
        if kind is str:
            text = value.strip()
        elif kind is int or (kind is float and value == value and float(value).is_integer()):
            text = str(int(value))
        elif value is None or (kind is float and value != value):
            text = ""
        else:
            c.error(
                i,
                "id",
                value,
                f"the id is a {kind.__name__}, not text",
                'write the id as text, e.g. "LB-2025-0001"',
            )
            continue
        if len(text) > schema.MAX_ID_LENGTH:
            c.error(
                i,
                "id",
                text,
                f"the id is longer than {schema.MAX_ID_LENGTH} characters",
                "use a shorter id",
            )
            continue
        ids[i] = text or f"{stem}-{sha[:8]}-{i}"
        if c.ids[i] is None:
            c.ids[i] = ids[i]
    series = pd.Series(ids, dtype=object)
    present = series.notna()
    dup = series[present & series.duplicated(keep=False)]
    for value, group in dup.groupby(dup, sort=False):
        positions = list(group.index)
        for i in positions:
            others = ", ".join(str(j) for j in positions if j != i)
            c.error(
                i,
                "id",
                value,
                f"the id is repeated in this file (also features {others})",
                "give every incident its own id",
            )
    taken = existing.stored_ids(series[present].tolist()) if existing is not None else set()
    if taken:
        clash = series.isin(taken).to_numpy() & present.to_numpy()
        for i in np.flatnonzero(clash):
            c.error(
                i,
                "id",
                ids[i],
                "an incident with this id is already in the store",
                "give it a new id, or undo the batch that stored the earlier one",
            )
    return ids


def suggest_type(value: str) -> str:
    """Return the allowed incident type nearest to ``value`` (``other`` when none is near)."""
    match = difflib.get_close_matches(
        value.strip().lower(), settings.INCIDENT_TYPES, n=1, cutoff=0.5
    )
    return match[0] if match else "other"


def _check_types(raw: RawFeatures, c: _Collector) -> pd.Series:
    values = _column(raw.properties, "type")
    text = _per_distinct(values, lambda v: v.strip().lower() if type(v) is str else None)
    allowed = text.isin(settings.INCIDENT_TYPES).to_numpy()
    allowed_list = ", ".join(settings.INCIDENT_TYPES)
    for i in np.flatnonzero(~allowed):
        if _absent(values[i]):
            c.error(i, "type", "", "the type is missing", f"give one of: {allowed_list}")
        elif text[i] is None:
            c.error(i, "type", values[i], "the type is not text", f"give one of: {allowed_list}")
        else:
            c.error(
                i,
                "type",
                values[i],
                f"unknown type (allowed: {allowed_list})",
                f"did you mean '{suggest_type(text[i])}'?",
            )
    return text


_DATE_RE = (
    r"^\s*(?P<y>\d{4})(?:-(?P<m>\d{2})(?:-(?P<d>\d{2}))?)?"
    r"(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\s*$"
)


def _check_dates(raw: RawFeatures, c: _Collector, today: dt.date) -> tuple[pd.Series, np.ndarray]:
    values = _column(raw.properties, "date")
    objects = values.to_numpy(dtype=object)
    if _only(values, (str,)):
        text = pd.Series(objects, dtype=object)
    else:
        text = pd.Series([v if type(v) is str else None for v in objects], dtype=object)
    # fast path: plain YYYY-MM-DD; the others through the full ISO 8601 pattern
    plain = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    parts = pd.DataFrame({"y": ["0"] * len(text), "m": "01", "d": "01"}, dtype=object)
    other = plain.isna().to_numpy()
    if not other.any():
        dates = plain
        default_precision = np.full(len(text), settings.DEFAULT_DATE_PRECISION_DAYS)
        return _date_errors(c, values, dates, today), default_precision
    if other.any():
        extracted = text[other].astype("str").str.extract(_DATE_RE).astype(object)
        parts.loc[other, ["y", "m", "d"]] = extracted[["y", "m", "d"]].to_numpy()
    # the date part only: a time of day (and its zone) does not change the day reported
    iso = (
        parts["y"].astype(object)
        + "-"
        + parts["m"].fillna("01").astype(object)
        + "-"
        + parts["d"].fillna("01").astype(object)
    )
    dates = pd.to_datetime(iso.where(parts["y"].notna()), format="%Y-%m-%d", errors="coerce")
    dates = plain.where(~other, dates)
    default_precision = np.where(
        parts["d"].notna(),
        settings.DEFAULT_DATE_PRECISION_DAYS,
        np.where(parts["m"].notna(), schema.MONTH_PRECISION_DAYS, schema.YEAR_PRECISION_DAYS),
    )
    return _date_errors(c, values, dates, today), default_precision


def _date_errors(c, values, dates, today):
    limit = pd.Timestamp(today)
    bad = dates.isna().to_numpy()
    future = (dates > limit).to_numpy()
    ancient = (dates < EARLIEST_DATE).to_numpy()
    for i in np.flatnonzero(bad | future | ancient):
        if _absent(values[i]):
            c.error(
                i,
                "date",
                "",
                "the date is missing",
                "give the date as YYYY-MM-DD (ISO 8601), e.g. 2025-03-16",
            )
        elif bad[i]:
            c.error(
                i,
                "date",
                values[i],
                "the date is not an ISO 8601 date",
                "write it as YYYY-MM-DD, e.g. 2025-03-16 (YYYY-MM if only the month is known)",
            )
        elif future[i]:
            c.error(
                i,
                "date",
                values[i],
                f"the date is in the future (today is {today})",
                "check the year and month; write YYYY-MM-DD",
            )
        else:
            c.error(
                i, "date", values[i], "the date is before 1900", "check the year; write YYYY-MM-DD"
            )
    return dates


def _check_number(
    raw: RawFeatures,
    c: _Collector,
    name: str,
    *,
    integer: bool,
    minimum: float,
    exclusive: bool = False,
    maximum: float = np.inf,
    fix: str,
) -> np.ndarray:
    values = _column(raw.properties, name)
    if _only(values, (int, float, type(None))):
        plain = [np.nan if v is None else v for v in values.to_numpy()]
        try:
            numbers = np.array(plain, dtype=float)
        except OverflowError:  # an integer too large for a float: infinite, so refused
            numbers = np.array(list(map(_as_float, plain)), dtype=float)
    else:
        objects = values.to_numpy()
        wrong_kind = np.fromiter(
            (type(v) in (bool, dict, list) for v in objects), dtype=bool, count=len(objects)
        )
        cleaned = [
            None
            if bad
            else (v.strip() if type(v) is str else _as_float(v) if type(v) is int else v)
            for v, bad in zip(objects, wrong_kind, strict=True)
        ]
        numbers = pd.to_numeric(pd.Series(cleaned, dtype=object), errors="coerce").to_numpy(
            dtype=float, copy=True
        )
        numbers[wrong_kind] = np.nan
    missing = np.zeros(len(numbers), dtype=bool)  # absent values are not errors
    if name not in raw.properties.columns:
        missing[:] = True
    else:
        unread = np.flatnonzero(np.isnan(numbers))
        missing[unread] = _missing(values.iloc[unread])
    with np.errstate(invalid="ignore"):
        below = numbers <= minimum if exclusive else numbers < minimum
        bad = (
            (np.isnan(numbers) & ~missing)
            | np.isinf(numbers)
            | below
            | (numbers > maximum)
            | (integer & (np.floor(numbers) != numbers) & np.isfinite(numbers))
        )
    bound = f"{'>' if exclusive else '>='} {minimum:g}" + (
        f" and <= {maximum:g}" if np.isfinite(maximum) else ""
    )
    what = f"a {'whole ' if integer else ''}number {bound}"
    for i in np.flatnonzero(bad):
        infinite = " (it is infinite: a number too large, such as 1e400)"
        reason = f"{name} must be {what}" + (infinite if np.isinf(numbers[i]) else "")
        c.error(i, name, values[i], reason, fix)
    numbers[bad] = np.nan
    return numbers


def _as_float(value: object) -> float:
    """Return ``float(value)``; an integer too large for a float is infinite (of its sign)."""
    try:
        return float(value)
    except OverflowError:
        return float("inf") if value > 0 else float("-inf")


def _check_text(raw: RawFeatures, c: _Collector, name: str) -> pd.Series:
    values = _column(raw.properties, name)
    if _only(values, (str, type(None))):
        out = values
    else:
        kinds = _kinds(values)
        out = values.copy()
        for i in np.flatnonzero(~kinds.isin([str, type(None)]).to_numpy()):
            value = values[i]
            if isinstance(value, int | float) and not isinstance(value, bool):
                out[i] = None if value != value else str(value)
            else:
                c.error(
                    i,
                    name,
                    value,
                    f"{name} must be text, not a {type(value).__name__}",
                    f"write {name} as plain text",
                )
                out[i] = None
    if name not in raw.properties.columns:
        return out
    limit = schema.MAX_TEXT_LENGTH
    texts = out.to_numpy()
    only_text = _only(out, (str, type(None)))
    if only_text:
        longest = max(map(len, filter(None, texts)), default=0)
    else:
        longest = max((len(v) for v in texts if type(v) is str), default=0)
    too_long = (
        np.fromiter((type(v) is str and len(v) > limit for v in texts), bool, len(texts))
        if longest > limit
        else np.zeros(0, dtype=int)
    )
    for i in np.flatnonzero(too_long):
        c.error(
            i,
            name,
            out[i],
            f"{name} is longer than the limit of {limit:,} characters "
            f"(geo.schema.MAX_TEXT_LENGTH): it has {len(out[i]):,}",
            "shorten it; keep long reports in the source and cite it",
        )
    if not only_text:
        return pd.Series(
            [v if type(v) is str and v and not v.isspace() else None for v in texts], dtype=object
        )
    # keep non-blank text; empty or blank text is absent (C-level map over the strings)
    present = np.fromiter(map(bool, texts), dtype=bool, count=len(texts))  # not None, not ""
    kept = texts[present]
    blank = np.fromiter(map(str.isspace, kept), dtype=bool, count=len(kept))
    result = np.full(len(texts), None, dtype=object)
    result[np.flatnonzero(present)[~blank]] = kept[~blank]
    return pd.Series(result, dtype=object)


def _check_coordinates(raw: RawFeatures, c: _Collector) -> np.ndarray:
    """Return True where the coordinates are usable."""
    lon, lat = raw.lon, raw.lat
    already = np.zeros(len(lon), dtype=bool)  # the reader already said what is wrong
    already[[p.index for p in raw.problems if p.index is not None]] = True
    finite = np.isfinite(lon) & np.isfinite(lat)
    with np.errstate(invalid="ignore"):
        projected = (
            finite & (np.abs(lon) > PROJECTED_THRESHOLD) & (np.abs(lat) > PROJECTED_THRESHOLD)
        )
        out_of_range = finite & ~projected & ((np.abs(lon) > 180) | (np.abs(lat) > 90))
    for i in np.flatnonzero(~finite & ~already):
        c.error(
            i,
            "geometry",
            [float(lon[i]), float(lat[i])],
            "the coordinates are not finite numbers (NaN or infinite)",
            "give the longitude and latitude in decimal degrees",
        )
    for i in np.flatnonzero(projected & ~already):
        c.error(
            i,
            "geometry",
            [float(lon[i]), float(lat[i])],
            "the coordinates look like projected metres but the file declares no CRS",
            "export the file in WGS 84 longitude/latitude degrees (EPSG:4326)",
        )
    for i in np.flatnonzero(out_of_range & ~already):
        hint = (
            " (are longitude and latitude swapped?)"
            if abs(lat[i]) > 90 and abs(lon[i]) <= 90
            else ""
        )
        c.error(
            i,
            "geometry",
            [float(lon[i]), float(lat[i])],
            "the coordinates are out of range (longitude -180..180, latitude -90..90)" + hint,
            "write coordinates as [longitude, latitude] in decimal degrees",
        )
    return finite & ~projected & ~out_of_range & ~already


_REGION_CACHE: dict[tuple[bytes, float], object] = {}


def _region(border, distance_m: float):
    """Return the border line in metres and its prepared buffer (cached)."""
    import shapely
    from pyproj import Transformer

    key = (shapely.to_wkb(border), float(distance_m))
    if key not in _REGION_CACHE:
        to_metric = Transformer.from_crs(
            settings.GEOGRAPHIC_CRS, settings.METRIC_CRS, always_xy=True
        )
        line = shapely.transform(
            border, lambda xy: np.column_stack(to_metric.transform(xy[:, 0], xy[:, 1]))
        )
        zone = shapely.buffer(line, distance_m, quad_segs=16)
        shapely.prepare(zone)
        _REGION_CACHE.clear()
        _REGION_CACHE[key] = (line, zone)
    return _REGION_CACHE[key]


def to_metric(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Project longitude/latitude to :data:`geo.settings.METRIC_CRS` metres."""
    from pyproj import Transformer

    transformer = Transformer.from_crs(settings.GEOGRAPHIC_CRS, settings.METRIC_CRS, always_xy=True)
    x, y = transformer.transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def _check_region(raw, c, usable, border, options: ValidationOptions, x, y) -> None:
    import shapely

    line, zone = _region(border, options.region_distance_m)
    candidates = np.flatnonzero(usable)
    inside = shapely.contains_xy(zone, x[candidates], y[candidates])
    outside = candidates[~inside]
    if not len(outside):
        return
    distance = shapely.distance(shapely.points(x[outside], y[outside]), line)
    sx, sy = to_metric(raw.lat[outside], raw.lon[outside])
    swap_ok = (np.abs(raw.lat[outside]) <= 180) & (np.abs(raw.lon[outside]) <= 90)
    swapped_in = swap_ok & shapely.contains_xy(zone, np.nan_to_num(sx), np.nan_to_num(sy))
    limit_km = options.region_distance_m / 1000
    for k, i in enumerate(outside):
        value = [float(raw.lon[i]), float(raw.lat[i])]
        if swapped_in[k]:
            c.warn(
                i,
                "geometry",
                value,
                "latitude and longitude look swapped: as given the point is "
                f"{distance[k] / 1000:.0f} km from the border; swapped, "
                f"[{raw.lat[i]}, {raw.lon[i]}] is within {limit_km:g} km",
                f"write [longitude, latitude] = [{raw.lat[i]}, {raw.lon[i]}] "
                "(GeoJSON puts longitude first; in a CSV check the column names)",
            )
        reason = (
            f"outside the monitored region: {distance[k] / 1000:.1f} km from the border "
            f"(limit {limit_km:g} km)"
        )
        fix = (
            "check the coordinates; if the incident really is there, raise the region "
            "distance or set outside_region='warn'"
        )
        if options.outside_region == "reject":
            c.error(i, "geometry", value, reason, fix)
        else:
            c.warn(i, "geometry", value, reason, fix)


def _stored_near(raw, idx, pdays, existing, options):
    """Return the stored incidents that may be likely duplicates of the features ``idx``."""
    if existing is None:
        return None
    days = np.timedelta64(options.duplicate_days, "D")
    first, last = pdays.min().astype("datetime64[D]"), pdays.max().astype("datetime64[D]")
    return existing.incidents_near(
        raw.lon[idx],
        raw.lat[idx],
        distance_m=options.duplicate_distance_m,
        since=(first - days).item(),
        until=(last + days).item(),
    )


def _check_likely_duplicates(c, keep, x, y, types, dates, raw, existing, options) -> None:
    from scipy.spatial import cKDTree

    idx = np.flatnonzero(keep)
    if not len(idx):
        return
    px, py = x[idx], y[idx]
    ptypes = types.to_numpy(dtype=object)[idx]
    pdays = dates.to_numpy(dtype="datetime64[D]")[idx].astype("int64")
    stored_ids: list = []
    n_new = len(idx)
    ex = _stored_near(raw, idx, pdays, existing, options)
    if ex is not None and len(ex):
        ex_x, ex_y = to_metric(ex.geometry.x.to_numpy(), ex.geometry.y.to_numpy())
        px, py = np.concatenate([px, ex_x]), np.concatenate([py, ex_y])
        ptypes = np.concatenate([ptypes, ex["type"].to_numpy(dtype=object)])
        pdays = np.concatenate([pdays, ex["date"].to_numpy(dtype="datetime64[D]").astype("int64")])
        stored_ids = ex["id"].tolist()

    def label(k: int) -> str:
        return c.ids[idx[k]] if k < n_new else f"{stored_ids[k - n_new]} (stored)"

    # one tree, one query: the type is a third coordinate, types set farther apart than
    # the search radius, so pairs of different types are never candidates
    codes, _ = pd.factorize(ptypes, use_na_sentinel=False)
    radius = options.duplicate_distance_m
    tree = cKDTree(np.column_stack([px, py, codes * (2.0 * radius + 1.0)]))
    pairs = tree.query_pairs(radius, output_type="ndarray")
    if not len(pairs):
        return
    a, b = pairs[:, 0], pairs[:, 1]
    close = np.abs(pdays[a] - pdays[b]) <= options.duplicate_days
    # both directions, new features only, in index order (stored ones come last)
    src = np.concatenate([a[close], b[close]])
    dst = np.concatenate([b[close], a[close]])
    new = src < n_new
    src, dst = src[new], dst[new]
    order = np.lexsort((dst, src))
    matches: dict[int, list[str]] = {}
    for p, q in zip(src[order].tolist(), dst[order].tolist(), strict=True):
        matches.setdefault(p, []).append(label(q))
    km = options.duplicate_distance_m / 1000
    for p in sorted(matches):
        others = matches[p]
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        c.warn(
            idx[p],
            "id",
            label(p),
            f"likely duplicate: same type within {km:g} km and {options.duplicate_days} "
            f"day(s) of {shown}",
            "keep it if it is a separate incident; otherwise remove one of them",
        )


def validate_features(
    raw: RawFeatures,
    *,
    filename: str,
    sha256: str | None = None,
    border: BaseGeometry | None = None,
    existing: StoredIncidents | None = None,
    options: ValidationOptions | None = None,
) -> tuple:
    """Validate features read from a file.

    Parameters
    ----------
    raw
        What the reader produced.
    filename
        The file's name (used in generated ids).
    sha256
        The file's SHA-256 (used in generated ids).
    border
        The border line (shapely, EPSG:4326), e.g.
        ``layers.reference.ReferenceLayers.bundled().line``. ``None``: the distance to
        the border is not checked, and a file-level warning says so.
    existing
        The incidents already stored, for repeated ids and likely duplicates (a
        GeoDataFrame: wrap it in :class:`geo.lookup.FrameIncidents`).
    options
        Validation options.

    Returns
    -------
    tuple
        ``(accepted, problems, rejected)``: the accepted GeoDataFrame, every
        problem (errors and warnings, in feature order) and the boolean
        rejected mask over the input features.
    """
    import shapely

    options = options or ValidationOptions()
    today = options.today or dt.datetime.now(dt.UTC).date()
    n = len(raw)
    sha = sha256 or hashlib.sha256(filename.encode()).hexdigest()
    c = _Collector(n, list(raw.ids) if raw.ids else [None] * n, raw.problems)
    file_problems = list(raw.warnings)
    ids = _check_ids(raw, c, stem=PurePath(filename).stem or "incident", sha=sha, existing=existing)
    types = _check_types(raw, c)
    dates, default_precision = _check_dates(raw, c, today)
    fix_days = "give whole days, e.g. 1 for a known day, 7 for a known week"
    precision_days = _check_number(
        raw,
        c,
        "date_precision_days",
        integer=True,
        minimum=1,
        maximum=schema.MAX_DATE_PRECISION_DAYS,
        fix=fix_days,
    )
    precision_m = _check_number(
        raw,
        c,
        "location_precision_m",
        integer=False,
        minimum=0,
        exclusive=True,
        maximum=schema.MAX_LOCATION_PRECISION_M,
        fix="give the radius in metres within which the place is known, e.g. 1000",
    )
    quantity = _check_number(
        raw,
        c,
        "quantity",
        integer=False,
        minimum=0,
        fix="give a number without units or thousands separators",
    )
    fatalities = _check_number(
        raw,
        c,
        "fatalities",
        integer=True,
        minimum=0,
        fix="give a whole number of deaths, or leave it empty",
    )
    texts = {name: _check_text(raw, c, name) for name in schema.TEXT_COLUMNS}
    usable = _check_coordinates(raw, c)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if usable.any():
        x[usable], y[usable] = to_metric(raw.lon[usable], raw.lat[usable])
    if options.check_region:
        if border is None:
            file_problems.append(
                FeatureProblem(
                    None,
                    None,
                    "region",
                    "",
                    "the border line is not available: the distance to the border was not checked",
                    "rebuild the reference layers (python -m layers.build)",
                    "warning",
                )
            )
        else:
            _check_region(raw, c, usable & ~c.rejected, border, options, x, y)
    keep = ~c.rejected
    _check_likely_duplicates(c, keep, x, y, types, dates, raw, existing, options)

    precision_days = np.where(np.isnan(precision_days), default_precision, precision_days)
    precision_m = np.where(
        np.isnan(precision_m), settings.DEFAULT_LOCATION_PRECISION_M, precision_m
    )
    frame = pd.DataFrame(
        {
            "id": ids,
            "date": dates,
            "date_precision_days": np.nan_to_num(precision_days, nan=1),
            "type": types,
            "quantity": quantity,
            "fatalities": fatalities,
            "location_precision_m": precision_m,
            **texts,
        }
    )
    keep_idx = np.flatnonzero(keep)
    accepted = schema.conform_incidents(
        frame.iloc[keep_idx].reset_index(drop=True),
        shapely.points(raw.lon[keep_idx], raw.lat[keep_idx]),
    )
    c.problems.sort(key=lambda p: (p.index, p.severity != "error"))
    return accepted, file_problems + c.problems, c.rejected
