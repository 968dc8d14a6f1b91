"""The options of an analysis, and which of them each stage depends on.

:class:`AnalysisParameters` holds every option of ``python -m geo analyze`` (and
of the app's sidebar) with its default from :mod:`geo.settings`, checked once.
:data:`SURFACE_OPTIONS`, :data:`ZONE_OPTIONS`, :data:`CRITERIA_OPTIONS` and
:data:`RANKING_OPTIONS` name the options each stage of :mod:`geo.analysis` reads,
so a caller (the app) can cache a stage on those alone.

May import: ``geo.settings``, ``geo.errors``, ``geo.priority`` (weights and
normalisations).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo import settings
from geo.errors import ConfigurationError
from geo.priority import NORMALISATIONS, check_weights

#: Options each stage depends on (the app keys its caches on them; ``store`` is none's).
SURFACE_OPTIONS: tuple[str, ...] = (
    "since",
    "until",
    "types",
    "bandwidth_m",
    "cell_m",
    "kernel",
    "half_life_days",
)
ZONE_OPTIONS: tuple[str, ...] = ("sector_km", "corridor_km", "terrain")
CRITERIA_OPTIONS: tuple[str, ...] = (
    *SURFACE_OPTIONS,
    *ZONE_OPTIONS,
    "trend_recent_days",
    "trend_baseline_days",
)
RANKING_OPTIONS: tuple[str, ...] = (
    "weights",
    "normalisation",
    "top_k",
    "draws",
    "concentration",
    "seed",
)


@dataclass
class AnalysisParameters:
    """Every option of an analysis (the options of ``python -m geo analyze``).

    Attributes
    ----------
    store
        Incident store (used by the callers that load incidents): a path, or a
        database URL, kept without any password (the parameters are printed and
        written into reports).
    since, until
        Keep incidents dated within these days (inclusive).
    types
        Keep these incident types (all when ``None``).
    sector_km, corridor_km
        Sector length along the border and corridor half-width (km).
    weights
        Criterion weights overriding :data:`geo.settings.PRIORITY_WEIGHTS`
        for the criteria they name (renormalised to sum to 1).
    top_k
        ``k`` of the top-k probability.
    bandwidth_m, cell_m, kernel, half_life_days
        Density options (see :func:`geo.density.compute_density`); the
        half-life also weights the incidents of the density criterion.
    terrain
        An elevation GeoTIFF to use instead of the bundled coarse DEM.
    normalisation
        ``"minmax"`` or ``"rank"`` (:func:`geo.priority.normalise_criteria`).
    draws, concentration, seed
        Monte Carlo sensitivity settings.
    trend_recent_days, trend_baseline_days
        Trend windows.
    """

    store: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    types: tuple[str, ...] | None = None
    sector_km: float = settings.SECTOR_KM
    corridor_km: float = settings.CORRIDOR_KM
    weights: dict[str, float] | None = None
    top_k: int = settings.TOP_K
    bandwidth_m: float | None = None
    cell_m: float = settings.DENSITY_CELL_M
    kernel: str = settings.DENSITY_KERNEL
    half_life_days: float | None = settings.HALF_LIFE_DAYS
    terrain: str | None = None
    normalisation: str = settings.PRIORITY_NORMALISATION
    draws: int = settings.SENSITIVITY_DRAWS
    concentration: float = settings.SENSITIVITY_CONCENTRATION
    seed: int | None = settings.SENSITIVITY_SEED
    trend_recent_days: int = settings.TREND_RECENT_DAYS
    trend_baseline_days: int = settings.TREND_BASELINE_DAYS

    def __post_init__(self) -> None:
        for name in ("sector_km", "corridor_km", "cell_m", "concentration"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ConfigurationError(f"{name}={value!r} must be a positive number")
        for name in ("top_k", "draws", "trend_recent_days", "trend_baseline_days"):
            value = getattr(self, name)
            if not (isinstance(value, int | np.integer) and value >= 1):
                raise ConfigurationError(f"{name}={value!r} must be a whole number ≥ 1")
        if self.normalisation not in NORMALISATIONS:
            raise ConfigurationError(
                f"normalisation={self.normalisation!r} is unknown; "
                f"allowed: {', '.join(NORMALISATIONS)}"
            )
        if self.kernel not in ("gaussian", "quartic"):
            raise ConfigurationError(f"kernel={self.kernel!r} is unknown; use gaussian or quartic")
        if self.since and self.until and self.since > self.until:
            raise ConfigurationError(
                f"since={self.since} is after until={self.until}; fix: swap them"
            )
        if self.types is not None:
            self.types = tuple(self.types)
        if self.store is not None:
            from geo.store.pg_format import is_database_url, redact_url

            if is_database_url(self.store):
                self.store = redact_url(str(self.store))
        check_weights(self.weights or {})

    @property
    def effective_weights(self) -> dict[str, float]:
        """The weights of every criterion, normalised to sum to 1."""
        return check_weights(self.weights or {})

    @classmethod
    def from_args(cls, args: Any) -> AnalysisParameters:
        """Build the parameters from parsed command-line options (missing ones default)."""
        names = {f.name for f in dataclasses.fields(cls)}
        given = {k: v for k, v in vars(args).items() if k in names and v is not None}
        return cls(**given)

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON-ready data (weights normalised)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dt.date):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        out["weights"] = {k: round(v, 6) for k, v in self.effective_weights.items()}
        out["min_incidents_for_ranking"] = settings.MIN_INCIDENTS_FOR_RANKING
        return out
