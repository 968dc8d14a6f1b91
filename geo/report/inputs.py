"""The report's inputs: the files it was made from, the incidents it counts, the software.

:func:`collect_inputs` lists every input of an analysis with its SHA-256
(:class:`InputFile`, hashed by :func:`hash_file`); :func:`summarise_incidents`
counts the incidents analysed by type and by month (:class:`IncidentSummary`);
:func:`_software_versions` lists the software that made the report, with the git
revision read from ``.git``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from geo import __version__, settings
from geo.errors import ConfigurationError
from geo.store.pg_format import is_database_url, redact_url

#: Packages whose versions the report lists (with GDAL and PROJ).
REPORTED_PACKAGES = (
    "numpy",
    "scipy",
    "pandas",
    "geopandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "rasterio",
    "esda",
    "libpysal",
    "matplotlib",
    "weasyprint",
)

#: Chunk size when hashing files.
_HASH_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One input of the analysis, identified by its SHA-256.

    Attributes
    ----------
    role
        What the file is to the analysis (``"incident source"``,
        ``"reference layer"``, ``"incident store"``, ...).
    name
        The file's name (or path relative to the project).
    sha256
        Hex SHA-256 of the file's bytes.
    detail
        A short note (e.g. how many of its incidents were used).
    """

    role: str
    name: str
    sha256: str
    detail: str = ""


def hash_file(path: str | os.PathLike[str]) -> str:
    """Return the hex SHA-256 of the file at ``path``.

    Parameters
    ----------
    path
        File to hash, read in 1 MiB chunks.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def collect_inputs(
    incidents: pd.DataFrame | None = None,
    *,
    store_path: str | os.PathLike[str] | None = None,
    store_hash: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> list[InputFile]:
    """List every input of an analysis with its SHA-256.

    Parameters
    ----------
    incidents
        The incidents analysed; their ``source_file`` and ``source_sha256``
        columns (written by the store on ingest) name the files they came from.
    store_path
        The incident store: a file, hashed as it is now, or a database URL (listed
        without any password).
    store_hash
        The content hash of a database store (:meth:`geo.store.IncidentStore.content_hash`):
        a database is not a file to hash.
    data_dir
        Folder of the bundled reference data (default :data:`settings.DATA_DIR`):
        ``layers/*.geojson``, ``terrain.tif`` and ``provenance.json`` are hashed.

    Returns
    -------
    list of InputFile
        Incident sources (with the number of incidents used from each), the
        store, then the reference data, each group sorted by name.
    """
    records: list[InputFile] = []
    if incidents is not None and {"source_file", "source_sha256"} <= set(incidents.columns):
        sources = (
            pd.DataFrame(
                {
                    "name": incidents["source_file"].astype("string").fillna("(unnamed)"),
                    "sha": incidents["source_sha256"].astype("string").fillna(""),
                }
            )
            .value_counts()
            .sort_index()
        )
        for (name, sha), count in sources.items():
            records.append(
                InputFile("incident source", str(name), str(sha), f"{count} incident(s) used")
            )
    if store_path is not None and is_database_url(store_path):
        records.append(
            InputFile(
                "incident store",
                redact_url(str(store_path)),
                store_hash or "",
                "the store's incidents as read for this report (a database: the SHA-256 "
                "of its incidents, as python -m geo and the app compute it)"
                if store_hash
                else "a database (its content was not hashed)",
            )
        )
    elif store_path is not None and Path(store_path).is_file():
        records.append(
            InputFile(
                "incident store",
                Path(store_path).name,
                hash_file(store_path),
                "the store as read for this report",
            )
        )
    root = Path(data_dir) if data_dir is not None else settings.DATA_DIR
    candidates = [
        *sorted((root / "layers").glob("*.geojson")),
        root / "terrain.tif",
        root / "provenance.json",
    ]
    for path in candidates:
        if path.is_file():
            records.append(
                InputFile("reference data", path.relative_to(root).as_posix(), hash_file(path))
            )
    return records


def _normalise_inputs(inputs: Iterable[InputFile] | Mapping[str, str] | None) -> list[InputFile]:
    """Accept ``InputFile`` records or a ``{name: sha256}`` mapping."""
    if inputs is None:
        return []
    if isinstance(inputs, Mapping):
        return [InputFile("input", str(k), str(v)) for k, v in sorted(inputs.items())]
    records = list(inputs)
    for record in records:
        if not isinstance(record, InputFile):
            raise ConfigurationError(
                f"report inputs: {record!r} is not an InputFile; "
                "fix: build them with geo.report.collect_inputs"
            )
    return records


def _software_versions() -> list[tuple[str, str]]:
    """Return ``(name, version)`` of the software that made the report."""
    rows = [("border monitor (geo)", __version__), ("Python", platform.python_version())]
    revision = _git_revision()
    if revision:
        rows.append(("git revision", revision))
    for name in REPORTED_PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    try:
        import pyogrio
        import pyproj

        rows.append(("GDAL", pyogrio.__gdal_version_string__))
        rows.append(("PROJ", pyproj.proj_version_str))
    except (ImportError, AttributeError):  # pragma: no cover - both are requirements
        pass
    return rows


def _git_revision() -> str | None:
    """Return the commit of the working tree, read from ``.git`` (no subprocess)."""
    git = settings.PROJECT_ROOT / ".git"
    try:
        head = (git / "HEAD").read_text(encoding="ascii").strip()
        if not head.startswith("ref: "):
            return head[:40]
        ref = head[5:]
        ref_path = git / ref
        if ref_path.is_file():
            return ref_path.read_text(encoding="ascii").strip()[:40]
        for line in (git / "packed-refs").read_text(encoding="ascii").splitlines():
            if line.endswith(" " + ref):
                return line.split()[0][:40]
    except OSError:
        return None
    return None


@dataclass
class IncidentSummary:
    """Counts of the incidents analysed.

    Attributes
    ----------
    total
        Number of incidents.
    by_type
        Table indexed by type: ``incidents``, ``fatalities``, ``coarse_location``.
    by_month
        Table indexed by month (``YYYY-MM``), one column a type, and ``total``.
    coarse_location
        Incidents located more coarsely than :data:`settings.COARSE_LOCATION_M`.
    coarse_date
        Incidents dated to more than a day.
    first_date, last_date
        Earliest and latest incident dates (``None`` without incidents).
    """

    total: int
    by_type: pd.DataFrame
    by_month: pd.DataFrame
    coarse_location: int
    coarse_date: int
    first_date: dt.date | None
    last_date: dt.date | None


def summarise_incidents(incidents: pd.DataFrame) -> IncidentSummary:
    """Count incidents by type and by month, and those with coarse locations.

    Parameters
    ----------
    incidents
        Incidents with ``type``, ``date`` and ``location_precision_m``.
    """
    frame = pd.DataFrame(incidents).drop(columns="geometry", errors="ignore")
    total = len(frame)
    types = frame.get("type", pd.Series("other", index=frame.index)).astype("string")
    types = types.fillna("other")
    precision = pd.to_numeric(
        frame.get("location_precision_m", pd.Series(np.nan, index=frame.index)), errors="coerce"
    ).fillna(settings.DEFAULT_LOCATION_PRECISION_M)
    coarse = precision > settings.COARSE_LOCATION_M
    fatalities = pd.to_numeric(
        frame.get("fatalities", pd.Series(np.nan, index=frame.index)), errors="coerce"
    )
    order = {t: i for i, t in enumerate(settings.INCIDENT_TYPES)}
    by_type = (
        pd.DataFrame({"type": types, "fatalities": fatalities, "coarse": coarse})
        .groupby("type", sort=False)
        .agg(
            incidents=("type", "size"),
            fatalities=("fatalities", "sum"),
            coarse_location=("coarse", "sum"),
        )
    )
    by_type = by_type.iloc[np.argsort([order.get(t, len(order)) for t in by_type.index])]
    dates = pd.to_datetime(frame.get("date", pd.Series(pd.NaT, index=frame.index)), errors="coerce")
    months = dates.dt.strftime("%Y-%m")
    by_month = pd.crosstab(months, types).sort_index() if total else pd.DataFrame()
    if not by_month.empty:
        by_month = by_month[[t for t in by_type.index if t in by_month.columns]]
        by_month["total"] = by_month.sum(axis=1)
    date_precision = pd.to_numeric(
        frame.get("date_precision_days", pd.Series(1, index=frame.index)), errors="coerce"
    ).fillna(settings.DEFAULT_DATE_PRECISION_DAYS)
    valid = dates.dropna()
    return IncidentSummary(
        total=total,
        by_type=by_type,
        by_month=by_month,
        coarse_location=int(coarse.sum()),
        coarse_date=int((date_precision > 1).sum()),
        first_date=valid.min().date() if len(valid) else None,
        last_date=valid.max().date() if len(valid) else None,
    )
