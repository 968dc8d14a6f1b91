"""Validated ingest: a file's bytes in, a report of what can be stored out.

:func:`validate_file` reads a file in any supported format (:mod:`geo.readers`),
checks every feature (:mod:`geo.validation`) and returns an :class:`IngestReport`:
the accepted features, every problem (errors reject a feature, warnings do not),
the counts and the file's SHA-256. It never stores anything: the caller shows
the report, then stores the accepted features with :func:`store_report` or drops
them::

    store = open_seeded_store()  # the default store, seeded on first use
    border = ReferenceLayers.bundled().line
    report = validate_file(data, filename="upload.geojson", existing=store, border=border)
    if report.ok or user_accepts_partial:
        batch_id = store_report(store, report, accept_partial=True)

The rules between validation and the store live here: a report with rejections is
stored only when the caller accepts a partial upload (:func:`store_report`); a
GeoDataFrame is checked against the schema before it is stored
(:func:`store_frame`); a new default store is seeded with the bundled sample
(:func:`seed_store`, :func:`open_seeded_store`). The store (:mod:`geo.store`) only
stores, and enforces unique ids.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np

from geo import schema, settings
from geo.errors import FeatureProblem, StoreError, ValidationError
from geo.lookup import StoredIncidents, as_stored_incidents
from geo.readers import file_error, printable, read_incident_file
from geo.store import BatchInfo, IncidentStore, open_store
from geo.validation import ValidationOptions, validate_features

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

logger = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What validation found in one file.

    Attributes
    ----------
    filename
        The file's name as uploaded.
    sha256
        SHA-256 of the file's bytes (hex).
    size_bytes
        Size of the file.
    format
        Format it was read as (``geojson``, ``ndjson``, ``csv``, ``acled``, ``gpkg``),
        ``None`` when the file could not be read at all.
    feature_count
        Features found in the file.
    accepted
        The features that passed (schema of :mod:`geo.schema`, EPSG:4326).
    problems
        Every problem: file-level ones (``index`` None) first, then by feature.
    rejected_indices
        Positions of the rejected features in the file.
    batch_id
        Set by :func:`store_report` once stored.
    seconds
        Time taken to read and validate.
    """

    filename: str
    sha256: str
    size_bytes: int
    format: str | None
    feature_count: int
    accepted: gpd.GeoDataFrame
    problems: list[FeatureProblem] = field(default_factory=list)
    rejected_indices: list[int] = field(default_factory=list)
    batch_id: str | None = None
    seconds: float = 0.0

    @property
    def errors(self) -> list[FeatureProblem]:
        """Problems that reject a feature or the file."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[FeatureProblem]:
        """Problems that keep the feature."""
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def accepted_count(self) -> int:
        """Number of accepted features."""
        return len(self.accepted)

    @property
    def rejected_count(self) -> int:
        """Number of rejected features (all of them when the file itself is rejected)."""
        return len(self.rejected_indices)

    @property
    def file_rejected(self) -> bool:
        """True when the whole file was rejected (not readable, too large, ...)."""
        return any(p.index is None and p.severity == "error" for p in self.problems)

    @property
    def ok(self) -> bool:
        """True when there is something to store and nothing was rejected."""
        return not self.errors and self.accepted_count > 0

    def raise_for_errors(self) -> None:
        """Raise :class:`ValidationError` listing every error, if there is any."""
        if self.errors:
            raise ValidationError(
                self.errors,
                summary=f"{self.filename}: {self.rejected_count} of {self.feature_count} "
                "feature(s) rejected"
                if not self.file_rejected
                else f"{self.filename} rejected",
            )

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-serialisable data."""

        def item(p: FeatureProblem) -> dict[str, Any]:
            return {
                "index": p.index,
                "id": p.feature_id,
                "field": p.field,
                "value": p.value,
                "reason": p.reason,
                "fix": p.fix,
            }

        rejected: dict[int | None, dict[str, Any]] = {}
        for p in self.errors:
            entry = rejected.setdefault(
                p.index, {"index": p.index, "id": p.feature_id, "problems": []}
            )
            entry["problems"].append(item(p))
        return {
            "file": self.filename,
            "sha256": self.sha256,
            "size_bytes": self.size_bytes,
            "format": self.format,
            "features": self.feature_count,
            "accepted": self.accepted_count,
            "rejected_count": self.rejected_count,
            "rejected": list(rejected.values()),
            "warnings": [item(p) for p in self.warnings],
            "batch_id": self.batch_id,
        }

    def to_text(self, *, limit: int = 200) -> str:
        """Return the report as text for a terminal (at most ``limit`` problem lines)."""
        lines = [
            f"{self.filename}: {self.feature_count} feature(s), {self.accepted_count} accepted, "
            f"{self.rejected_count} rejected, {len(self.warnings)} warning(s) "
            f"[{self.format or 'unreadable'}, sha256 {self.sha256[:12]}]"
        ]
        for p in self.problems[:limit]:
            lines.append(f"  {p.severity}: {p}")
        if len(self.problems) > limit:
            lines.append(f"  ... and {len(self.problems) - limit} more")
        if self.batch_id:
            lines.append(f"  stored as batch {self.batch_id}")
        return "\n".join(lines)


def _read_source(source: bytes | str | os.PathLike[str], max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise file_error(
                "file", str(path), f"the file cannot be read: {exc.strerror}", "check the path"
            ) from None
        if size > max_bytes:  # refused before reading it into memory
            raise _too_large(size, max_bytes)
        data = path.read_bytes()
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    return data


def _too_large(size: int, max_bytes: int) -> ValidationError:
    return file_error(
        "file",
        f"{size} bytes",
        f"the file is larger than the limit of {max_bytes / 1e6:g} MB",
        "split it into smaller files, or raise the limit (max_bytes)",
    )


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (restored on exit, if it was running).

    Parsing a large file creates millions of dicts and lists that the collector
    would traverse again and again (a third of the time of ``json.loads``);
    none of them forms a cycle, so reference counting frees them all.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def validate_file(
    source: bytes | str | os.PathLike[str],
    *,
    filename: str | None = None,
    existing: StoredIncidents | gpd.GeoDataFrame | None = None,
    options: ValidationOptions | None = None,
    border: BaseGeometry | None = None,
    max_bytes: int = settings.MAX_UPLOAD_BYTES,
    max_features: int = settings.MAX_FEATURES,
    max_depth: int = settings.MAX_JSON_DEPTH,
) -> IngestReport:
    """Read and validate an incident file; store nothing.

    Parameters
    ----------
    source
        The file's bytes (an upload) or its path.
    filename
        Its name as the analyst knows it (the extension chooses the reader);
        by default the path's name.
    existing
        Incidents already stored, to catch repeated ids, a file stored before and
        likely duplicates: an :class:`geo.store.IncidentStore` (any
        :class:`geo.lookup.StoredIncidents`) or a GeoDataFrame of the schema.
    options
        Region, duplicate and date options (:class:`geo.validation.ValidationOptions`).
    border
        The border line (EPSG:4326), e.g. ``ReferenceLayers.bundled().line`` (see
        :mod:`layers.reference`). ``None``: the distance to the border is not checked,
        and a file-level warning says so.
    max_bytes, max_features, max_depth
        Limits of size, feature count and JSON nesting.

    Returns
    -------
    IngestReport
        Never raises for bad content: a file that cannot be read at all gives a
        report with a file-level error and nothing accepted.
    """
    start = time.perf_counter()
    if filename is None:
        filename = "upload" if isinstance(source, bytes | bytearray) else Path(source).name
    # the name is printed, stored and put into generated ids: control characters and lone
    # surrogates (a name from a file system that is not UTF-8) are written as escapes
    filename = printable(PurePath(str(filename)).name, controls=True) or "upload"
    try:
        data = _read_source(source, max_bytes)
    except ValidationError as exc:
        return IngestReport(
            filename,
            "",
            0,
            None,
            0,
            schema.empty_incidents(),
            exc.problems,
            [],
            seconds=time.perf_counter() - start,
        )
    sha = hashlib.sha256(data).hexdigest()
    stored = as_stored_incidents(existing)
    file_warnings: list[FeatureProblem] = []
    if stored is not None:
        previous = stored.find_sha256(sha)
        if previous:
            file_warnings.append(
                FeatureProblem(
                    None,
                    None,
                    "file",
                    sha[:12],
                    f"this file was already stored as batch {previous}",
                    "undo that batch first if you mean to replace it",
                    "warning",
                )
            )
    try:
        with gc_paused():  # only while parsing: validation's pandas garbage has cycles
            raw = read_incident_file(
                data, filename=filename, max_features=max_features, max_depth=max_depth
            )
        accepted, problems, rejected = validate_features(
            raw, filename=filename, sha256=sha, border=border, existing=stored, options=options
        )
    except ValidationError as exc:
        return IngestReport(
            filename,
            sha,
            len(data),
            None,
            0,
            schema.empty_incidents(),
            file_warnings + exc.problems,
            [],
            seconds=time.perf_counter() - start,
        )
    report = IngestReport(
        filename=filename,
        sha256=sha,
        size_bytes=len(data),
        format=raw.format,
        feature_count=len(raw),
        accepted=accepted,
        problems=file_warnings + problems,
        rejected_indices=np.flatnonzero(rejected).tolist(),
        seconds=time.perf_counter() - start,
    )
    logger.info(
        "%s: %d accepted, %d rejected in %.2f s",
        filename,
        report.accepted_count,
        report.rejected_count,
        report.seconds,
    )
    return report


def store_report(
    store: IncidentStore,
    report: IngestReport,
    *,
    accept_partial: bool = False,
    user: str | None = None,
) -> str:
    """Store the accepted features of a report as one batch; set ``report.batch_id``.

    Parameters
    ----------
    store
        The store to write to.
    report
        What :func:`validate_file` found (its ``accepted`` features are stored, its
        counts audited).
    accept_partial
        Store the valid features even though others were rejected.
    user
        Who uploads (audited as ``ingested_by``); default the operating-system user.
        Whether they may is the caller's check (:func:`geo.roles.require`).

    Returns
    -------
    str
        The batch id.

    Raises
    ------
    ValidationError
        The report has rejected features (without ``accept_partial``), nothing to
        store, or ids already in the store (the store refuses them). Nothing is
        stored then.
    """
    if report.file_rejected or (report.errors and not accept_partial):
        raise ValidationError(
            report.errors,
            summary=f"nothing stored from {report.filename}: {report.rejected_count} "
            "feature(s) rejected (fix them, or accept a partial upload)",
        )
    if not report.accepted_count:
        raise ValidationError([], summary=f"nothing to store from {report.filename}")
    report.batch_id = store.add_batch(report.accepted, _batch_of(report, user=user))
    return report.batch_id


def _batch_of(report: IngestReport, *, action: str = "add", user: str | None = None) -> BatchInfo:
    """Return what the store records of a report's file with its batch."""
    return BatchInfo(
        source_file=report.filename,
        sha256=report.sha256,
        format=report.format,
        features=report.feature_count,
        rejected=report.rejected_count,
        warnings=len(report.warnings),
        action=action,
        user=user,
    )


def store_frame(
    store: IncidentStore,
    incidents: gpd.GeoDataFrame,
    *,
    source_file: str | None = None,
    sha256: str | None = None,
) -> str:
    """Store a GeoDataFrame of the incident schema as one batch, once it is checked.

    Parameters
    ----------
    store
        The store to write to.
    incidents
        Point incidents with a CRS (reprojected to EPSG:4326) and ``id``, ``date``
        and ``type`` in every row.
    source_file, sha256
        File name and hash recorded with the batch.

    Returns
    -------
    str
        The batch id.

    Raises
    ------
    ValidationError
        Not a GeoDataFrame, no CRS, a row that is not a Point or lacks ``id``,
        ``date`` or ``type`` (every such row listed), or ids already stored.
        Nothing is stored then.
    """
    gdf = _checked_frame(incidents)
    batch = BatchInfo(
        source_file=source_file or "(data frame)",
        sha256=sha256 or "",
        format="dataframe",
        features=len(gdf),
    )
    return store.add_batch(gdf, batch)


def _checked_frame(gdf: object) -> gpd.GeoDataFrame:
    """Return ``gdf`` in EPSG:4326, or raise ValidationError listing each row that does not fit."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ValidationError(
            [],
            summary=f"cannot store a {type(gdf).__name__}: give a GeoDataFrame of the "
            "incident schema (a validation report is stored with store_report)",
        )
    if gdf.crs is None:
        raise ValidationError([], summary="the GeoDataFrame has no CRS; set EPSG:4326")
    gdf = gdf.to_crs(settings.GEOGRAPHIC_CRS)
    problems = schema.find_schema_problems(gdf)
    if problems:
        raise ValidationError(
            problems,
            summary="nothing stored: the GeoDataFrame does not fit the incident schema",
        )
    return gdf


def seed_store(store: IncidentStore) -> str:
    """Store the bundled sample (:data:`geo.settings.SAMPLE_INCIDENTS_PATH`) as a seed batch.

    The sample is validated like any file, but without the distance to the border:
    it is ours, and a new store is seeded wherever it is first used, the border layer
    present or not.

    Returns
    -------
    str
        The seed batch's id.

    Raises
    ------
    StoreError
        The bundled sample failed validation.
    """
    path = settings.SAMPLE_INCIDENTS_PATH
    report = validate_file(path, options=ValidationOptions(check_region=False))
    if report.errors:
        raise StoreError(f"the bundled sample {path} failed validation: {report.errors[0]}")
    return store.add_batch(report.accepted, _batch_of(report, action="seed"))


def open_seeded_store(
    location: str | os.PathLike[str] | None = None, *, create: bool | None = None
) -> IncidentStore:
    """Open the store an entry point works on; seed the default store on first use.

    Parameters
    ----------
    location
        The ``--store`` option: an explicit store, neither created (unless
        ``create``) nor seeded. ``None`` or empty: ``$BORDERMON_STORE``, else the
        default path, created and seeded with the bundled sample on first use.
    create
        Create a missing store. Default: only the default store (``geo ingest
        --store NEW`` passes ``True`` and gets an empty store).
    """
    default = location is None or str(location) == ""
    create = default if create is None else create
    return open_store(location, create=create, populate=seed_store if default else None)
