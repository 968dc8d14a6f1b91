"""The interface of an incident store, whatever keeps the incidents.

:class:`IncidentStore` is all the rest of the project knows of a store: read the
incidents (filtered by date and type), add a batch that validation has already
accepted, undo a batch, list the batches and the audit, find a file stored before,
tell whether the content changed, and answer validation's questions
(:class:`geo.lookup.StoredIncidents`). A backend subclasses it:
:class:`geo.store.geopackage.GeoPackageStore` (a GeoPackage file) and
:class:`geo.store.postgis.PostgisStore` (PostgreSQL + PostGIS).

Contract of every backend
-------------------------
- A batch is all-or-nothing: its rows and its audit row are written in one
  transaction; a writer that dies half-way leaves the store as it was.
- Ids are unique, enforced by the database: a batch with an id already stored, or
  repeated within it, is refused whole (:class:`geo.errors.ValidationError`, built
  by :meth:`IncidentStore._id_clash`).
- Every add, seed and undo is a row of the audit. An undo removes every incident of
  a batch; an undone batch stays undone.
- :meth:`IncidentStore.content_token` changes whenever a batch is added or undone;
  :meth:`IncidentStore.content_hash` depends on the stored incidents only (the same
  after an undo as before the upload that it undid).

A store never validates: the rules that turn a validation report into a batch, and
the seeding of a new store, live in :mod:`geo.ingest`.
"""

from __future__ import annotations

import abc
import datetime as dt
import getpass
import os
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.errors import ConfigurationError, FeatureProblem, StoreError, ValidationError

#: Actions of the audit that store a batch.
BATCH_ACTIONS = ("add", "seed")
#: Columns of :meth:`IncidentStore.audit`, in order.
AUDIT_COLUMNS = (
    "event_id",
    "at",
    "action",
    "batch_id",
    "source_file",
    "source_sha256",
    "format",
    "features",
    "accepted_count",
    "rejected_count",
    "warning_count",
    "user",
    "note",
)


@dataclass(frozen=True)
class BatchInfo:
    """Where a batch came from: what its audit row records besides id, time and user.

    Attributes
    ----------
    source_file
        Name of the file the incidents came from.
    sha256
        SHA-256 of the file's bytes (empty when unknown).
    format
        Format the file was read as (``geojson``, ``csv``, ..., ``dataframe``).
    features
        Features in the file.
    rejected
        Features that validation rejected (not in the batch).
    warnings
        Warnings that validation gave.
    action
        ``"add"`` (an upload) or ``"seed"`` (the bundled sample of a new store).
    user
        Who stores it (the signed-in user's e-mail in the app); ``None``: the
        operating-system user running the command (:func:`current_user`).
    """

    source_file: str
    sha256: str
    format: str | None
    features: int
    rejected: int = 0
    warnings: int = 0
    action: str = "add"
    user: str | None = None

    def __post_init__(self) -> None:
        if self.action not in BATCH_ACTIONS:
            raise ConfigurationError(
                f"batch action {self.action!r} is not allowed; use one of {BATCH_ACTIONS}"
            )


def audit_values(
    at: object,
    action: str,
    batch_id: str | None,
    *,
    batch: BatchInfo | None = None,
    accepted: int | None = None,
    note: str | None = None,
    user: str | None = None,
) -> tuple:
    """Return an audit row's values in :data:`AUDIT_COLUMNS` order (``event_id`` left out).

    ``batch``: where an added batch came from; ``user`` defaults to the batch's, then to
    :func:`current_user`. Every backend writes its audit rows from this.
    """
    b = batch
    source = (
        (b.source_file, b.sha256, b.format, b.features, accepted, b.rejected, b.warnings)
        if b is not None
        else (None,) * 7
    )
    who = user or (b.user if b is not None else None) or current_user()
    return (at, action, batch_id, *source, who, note)


def now_utc() -> pd.Timestamp:
    """Return the time of a write: now, UTC, to the millisecond."""
    return pd.Timestamp.now(tz="UTC").floor("ms")


def new_batch_id(now: pd.Timestamp) -> str:
    """Return a new batch id: the UTC time, then 8 random hex digits."""
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:8]


def current_user() -> str:
    """Return the name of the user writing (audited with every write)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a container
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


class IncidentStore(abc.ABC):
    """Where the incidents are kept: the interface every backend implements.

    Open one with :func:`geo.store.open_store` (or, at an entry point, with
    :func:`geo.ingest.open_seeded_store`, which seeds a new default store).

    Attributes
    ----------
    location
        Where the store is, as the user named it: a file path, or a database URL
        without its password (it may be printed and written into reports).
    """

    location: str

    # --- reading ---------------------------------------------------------------------

    @abc.abstractmethod
    def read(
        self,
        *,
        since: dt.date | str | None = None,
        until: dt.date | str | None = None,
        types: Iterable[str] | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the stored incidents (with the store's columns), in the order stored.

        Parameters
        ----------
        since, until
            Keep incidents on or after / on or before these dates.
        types
            Keep these incident types.
        """

    @abc.abstractmethod
    def count(self) -> int:
        """Return the number of stored incidents."""

    # --- writing ---------------------------------------------------------------------

    @abc.abstractmethod
    def add_batch(self, incidents: gpd.GeoDataFrame, batch: BatchInfo) -> str:
        """Store validated incidents as one batch, all or nothing, and audit it.

        Parameters
        ----------
        incidents
            Incidents of the schema (:mod:`geo.schema`), already validated: Point
            geometry in EPSG:4326, ``id``, ``date`` and ``type`` present.
        batch
            Where they came from.

        Returns
        -------
        str
            The new batch's id.

        Raises
        ------
        ValidationError
            An id is already stored or repeated in ``incidents``; nothing is stored.
        """

    @abc.abstractmethod
    def undo(self, batch_id: str | None = None, *, user: str | None = None) -> int:
        """Remove every incident of a batch (by default the last one still stored).

        ``user`` is who undoes it (audited; default :func:`current_user`). Whether they
        may is the caller's check (:func:`geo.roles.require`), made before this call.

        Returns
        -------
        int
            Number of incidents removed.

        Raises
        ------
        StoreError
            No such batch, the batch was already undone, or nothing is stored.
        """

    # --- history ---------------------------------------------------------------------

    @abc.abstractmethod
    def audit(self) -> pd.DataFrame:
        """Return the audit: one row per upload, seed and undo, oldest first.

        Columns: :data:`AUDIT_COLUMNS` (``at`` in UTC).
        """

    @abc.abstractmethod
    def _rows_by_batch(self) -> dict[str, int]:
        """Return the number of incidents stored of each batch that has any."""

    def batches(self) -> pd.DataFrame:
        """Return the batches: id, time, file, SHA-256, counts, rows still stored, undone flag.

        Also who stored each (``ingested_by``, the audit's ``user``) and, for an undone
        batch, who undid it and when (``undone_by``, ``undone_at``).
        """
        audit = self.audit()
        adds = audit[audit["action"].isin(BATCH_ACTIONS)]
        undos = audit[audit["action"] == "undo"].drop_duplicates("batch_id", keep="first")
        undone = set(undos["batch_id"])
        rows = self._rows_by_batch()
        out = adds[
            [
                "batch_id",
                "at",
                "action",
                "source_file",
                "source_sha256",
                "accepted_count",
                "rejected_count",
                "warning_count",
                "user",
            ]
        ].copy()
        out = out.rename(columns={"at": "ingested_at"})
        out["rows"] = out["batch_id"].map(rows).fillna(0).astype("int64")
        out["undone"] = out["batch_id"].isin(undone)
        out["ingested_by"] = out["user"]
        undone_by = dict(zip(undos["batch_id"], undos["user"], strict=True))
        undone_at = dict(zip(undos["batch_id"], undos["at"], strict=True))
        out["undone_by"] = [undone_by.get(b) for b in out["batch_id"]]
        out["undone_at"] = pd.to_datetime([undone_at.get(b) for b in out["batch_id"]], utc=True)
        return out.reset_index(drop=True)

    def find_sha256(self, sha256: str) -> str | None:
        """Return the id of a stored (not undone) batch of the file with this hash, if any."""
        batches = self.batches()
        match = batches[(batches["source_sha256"] == sha256) & ~batches["undone"]]
        return None if match.empty else str(match["batch_id"].iloc[-1])

    # --- users and roles (geo.roles) ------------------------------------------------------

    @abc.abstractmethod
    def users(self) -> pd.DataFrame:
        """Return the users granted a role: ``email, role, granted_by, granted_at``."""

    @abc.abstractmethod
    def role_of(self, email: str) -> str | None:
        """Return the role granted to ``email`` (lower-cased), or ``None`` if none was."""

    @abc.abstractmethod
    def grant(self, email: str, role: str, *, by: str | None = None) -> None:
        """Give ``email`` the ``role`` (replacing any other), audited as ``grant``.

        Raises
        ------
        ConfigurationError
            An e-mail or role that is not valid (:func:`geo.roles.check_email`,
            :func:`geo.roles.check_role`).
        """

    @abc.abstractmethod
    def revoke(self, email: str, *, by: str | None = None) -> bool:
        """Remove the role of ``email`` (a viewer again), audited; return whether it had one."""

    # --- change detection --------------------------------------------------------------

    @abc.abstractmethod
    def content_token(self) -> str:
        """Return a cheap token of the store's state: it changes with every add and undo.

        Equal tokens mean nothing was written in between (a cache key, e.g. the app's).
        """

    @abc.abstractmethod
    def content_hash(self) -> str:
        """Return a hash (hex) of the stored incidents' content, in their stored order.

        It depends on the incidents only, not on batches, times or the audit: after an
        upload and its undo it is what it was before the upload.
        """

    # --- what validation asks (geo.lookup.StoredIncidents) --------------------------------

    @abc.abstractmethod
    def stored_ids(self, ids: Collection[str]) -> set[str]:
        """Return those of ``ids`` that are already stored."""

    @abc.abstractmethod
    def incidents_near(
        self,
        lon: np.ndarray,
        lat: np.ndarray,
        *,
        distance_m: float,
        since: dt.date | None = None,
        until: dt.date | None = None,
    ) -> gpd.GeoDataFrame:
        """Return the stored incidents within ``distance_m`` of any point, dated in range.

        Every such incident is returned (more may be), in the order stored, with
        columns ``id``, ``type``, ``date`` and Point geometry (EPSG:4326).
        """

    # --- publishing for GIS tools --------------------------------------------------------

    def publish_ranking(
        self, sectors: gpd.GeoDataFrame, *, parameters: Mapping[str, Any]
    ) -> str | None:
        """Publish the latest ranked sectors where GIS tools read the store; return where.

        A store that GIS tools read directly (PostGIS: the table ``ranked_sectors``)
        replaces its ranking; a file store publishes nothing (``None``): its ranked
        sectors travel as the report's ``report.gpkg`` and ``sectors.geojson``.

        Parameters
        ----------
        sectors
            The ranked table with each sector's zone (:func:`geo.exports.sectors_frame`).
        parameters
            The analysis parameters (:meth:`geo.parameters.AnalysisParameters.to_dict`).
        """
        return None

    # --- shared by the backends ----------------------------------------------------------

    def _id_clash(self, ids: list[str]) -> ValidationError:
        """Return the error of a batch refused for its ids (stored already, or repeated)."""
        stored = self.stored_ids(ids)
        clash = [i for i in ids if i in stored]
        dup = pd.Series(ids)[pd.Series(ids).duplicated()].tolist()
        problems = [
            FeatureProblem(
                k,
                i,
                "id",
                i,
                "an incident with this id is already in the store",
                "give it a new id, or undo the batch that stored the earlier one",
            )
            for k, i in enumerate(ids)
            if i in stored
        ] + [
            FeatureProblem(
                None,
                i,
                "id",
                i,
                "the id is repeated in the upload",
                "give every incident its own id",
            )
            for i in dup
        ]
        return ValidationError(
            problems,
            summary=f"nothing stored: {len(clash) + len(dup)} "
            "id(s) clash with stored incidents or repeat in the upload",
        )

    def _batch_to_undo(self, batch_id: str | None, live: list[str], known: bool) -> str:
        """Return the batch an undo removes, or raise the StoreError that says why none.

        Parameters
        ----------
        batch_id
            The batch asked for (``None``: the last one still stored).
        live
            The batches still stored, oldest first.
        known
            Whether ``batch_id`` was ever stored.
        """
        if batch_id is None:
            if not live:
                raise StoreError(f"nothing to undo in {self.location}: no batch is stored")
            return live[-1]
        if batch_id not in live:
            raise StoreError(
                f"batch {batch_id!r} was already undone"
                if known
                else f"no batch {batch_id!r} in {self.location}; stored batches: "
                f"{', '.join(live[-5:]) or 'none'}"
            )
        return batch_id
