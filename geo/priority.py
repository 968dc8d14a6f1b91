"""The transparent priority score of the border sectors.

Each criterion (:data:`geo.criteria.CRITERIA`) is first normalised to 0–1
across the sectors, oriented so that 1 is the most urgent:

``minmax`` (default)
    ``(x - min) / (max - min)``; ``1 - that`` for a criterion where lower is
    more urgent (distance to a crossing). A criterion equal in every sector
    gives 0 everywhere: it cannot tell sectors apart. A missing value (a zone
    without DEM cells, no crossing at all) gives 0; where no candidate line
    reaches a sector, its line uncertainty counts as 0 m
    (:attr:`geo.criteria.Criterion.missing_value`).
``rank``
    The sector's percentile rank ``(r - 1) / (n - 1)`` with ties sharing
    their lowest rank; robust to one extreme sector, blind to how far apart
    the values are.

The score of a sector is the weighted sum of its normalised criteria with
weights that sum to 1, so it lies in 0–1, and the *contribution* of a
criterion is its weight times its normalised value: the contributions of a
sector sum exactly to its score. Rank 1 is the highest score; tied scores
share the lowest rank (1, 1, 3, ...).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo import settings
from geo.criteria import CRITERIA
from geo.errors import ConfigurationError

logger = logging.getLogger(__name__)

#: Normalisation methods.
NORMALISATIONS = ("minmax", "rank")
#: Scores closer than this are treated as equal when ranking.
SCORE_TOLERANCE = 1e-12
#: The criteria, in order (``geo.settings.CRITERION_NAMES``).
CRITERION_NAMES = settings.CRITERION_NAMES


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Return the weights normalised to sum to 1, in :data:`CRITERION_NAMES` order.

    Parameters
    ----------
    weights
        A weight for some or all criteria; missing ones take
        :data:`geo.settings.PRIORITY_WEIGHTS`.

    Raises
    ------
    ConfigurationError
        If a name is unknown, a weight negative or not finite, or all are zero.
    """
    merged = dict(settings.PRIORITY_WEIGHTS)
    for name, value in weights.items():
        if name not in CRITERION_NAMES:
            raise ConfigurationError(
                f"weights: criterion {name!r} is unknown; allowed: {', '.join(CRITERION_NAMES)}"
            )
        try:
            value = float(value)
        except (TypeError, ValueError):
            value = math.nan
        if not (math.isfinite(value) and value >= 0):
            raise ConfigurationError(
                f"weights: {name}={weights[name]!r} is not a finite number ≥ 0; fix: give "
                "zero or a positive number"
            )
        merged[name] = value
    total = sum(merged.get(name, 0.0) for name in CRITERION_NAMES)
    if not total > 0:
        raise ConfigurationError(
            "weights: every criterion has weight 0; fix: give at least one a positive weight"
        )
    return {name: merged.get(name, 0.0) / total for name in CRITERION_NAMES}


@dataclass(frozen=True)
class WeightPlan:
    """The weights a ranking uses, and why they differ from those asked for.

    Attributes
    ----------
    requested
        The weights asked for, normalised to sum to 1.
    used
        The weights in the score: a criterion that could not be measured, or an
        incident-based one without enough evidence, gets 0 and the others are
        renormalised; all 0 when nothing is left to rank on.
    excluded
        Criteria kept out of the one-at-a-time sweep too (unmeasured, or
        incident-based without evidence).
    notes
        One line per measured-but-missing criterion left out of the score.
    """

    requested: dict[str, float]
    used: dict[str, float]
    excluded: frozenset[str] = frozenset()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ranked(self) -> bool:
        """Whether any criterion keeps a positive weight (else no ranking is made)."""
        return any(v > 0 for v in self.used.values())


def resolve_weights(
    requested: Mapping[str, float] | None,
    *,
    unmeasured: Mapping[str, str | None] | None = None,
    evidence_ok: bool = True,
) -> WeightPlan:
    """Return the weights a ranking uses, given what could be measured.

    The one place where weights are checked, defaulted, dropped and normalised.

    Parameters
    ----------
    requested
        Weights for some or all criteria (others take the defaults,
        :data:`geo.settings.PRIORITY_WEIGHTS`); ``None`` for the defaults.
    unmeasured
        Criterion name -> reason, for each criterion that could not be measured
        (no hot spots, no DEM, ...); ``None`` values are ignored.
    evidence_ok
        Whether enough incidents lie in the corridor for the incident-based
        criteria (:data:`geo.settings.MIN_INCIDENTS_FOR_RANKING`).

    Raises
    ------
    ConfigurationError
        As :func:`check_weights`.
    """
    wanted = check_weights(requested or {})
    used = dict(wanted)
    missing = {n: r for n, r in (unmeasured or {}).items() if r is not None}
    notes = []
    for name, reason in missing.items():
        if used[name] > 0:
            notes.append(f"criterion {name} left out of the score ({reason})")
            used[name] = 0.0
    excluded = set(missing)
    if not evidence_ok:
        incident_based = {n for n, c in CRITERIA.items() if c.incident_based}
        used.update(dict.fromkeys(incident_based, 0.0))
        excluded |= incident_based
    total = sum(used.values())
    used = {k: (v / total if total > 0 else 0.0) for k, v in used.items()}
    return WeightPlan(requested=wanted, used=used, excluded=frozenset(excluded), notes=tuple(notes))


def normalise_criteria(
    raw: pd.DataFrame, *, method: str = "minmax", criteria: list[str] | None = None
) -> pd.DataFrame:
    """Return the criteria normalised to 0–1, 1 being the most urgent.

    Parameters
    ----------
    raw
        One row per sector with the column of each criterion
        (:attr:`geo.criteria.Criterion.column`).
    method
        ``"minmax"`` or ``"rank"``.
    criteria
        Names of the criteria to normalise (default all).

    Returns
    -------
    pandas.DataFrame
        Same index as ``raw``, one column per criterion name.
    """
    if method not in NORMALISATIONS:
        raise ConfigurationError(
            f"normalisation {method!r} is unknown; allowed: {', '.join(NORMALISATIONS)}"
        )
    names = list(CRITERIA) if criteria is None else criteria
    out = pd.DataFrame(index=raw.index)
    for name in names:
        crit = CRITERIA[name]
        values = pd.to_numeric(raw[crit.column], errors="coerce").to_numpy(dtype=float)
        if crit.missing_value is not None:
            values = np.where(np.isnan(values), crit.missing_value, values)
        if crit.floor is not None:
            values = np.where(np.isnan(values), values, np.maximum(values, crit.floor))
        if not crit.higher_is_priority:
            values = -values
        finite = np.isfinite(values)
        norm = np.zeros(len(values))
        if finite.sum() >= 2:
            if method == "minmax":
                lo, hi = values[finite].min(), values[finite].max()
                if hi > lo:
                    norm[finite] = (values[finite] - lo) / (hi - lo)
            else:
                ranks = pd.Series(values[finite]).rank(method="min").to_numpy()
                if ranks.max() > 1:
                    norm[finite] = (ranks - 1.0) / (finite.sum() - 1.0)
        out[name] = norm
    return out


def score_sectors(
    normalised: pd.DataFrame, weights: Mapping[str, float]
) -> tuple[pd.Series, pd.DataFrame]:
    """Return each sector's score and each criterion's contribution.

    Parameters
    ----------
    normalised
        Normalised criteria (:func:`normalise_criteria`).
    weights
        A weight per column of ``normalised``, summing to 1.

    Returns
    -------
    score : pandas.Series
        Weighted sum, 0–1.
    contributions : pandas.DataFrame
        ``weight × normalised value`` per criterion; rows sum to ``score``.
    """
    w = np.array([float(weights.get(name, 0.0)) for name in normalised.columns])
    contributions = normalised * w
    score = contributions.sum(axis=1)
    return score, contributions


def rank_scores(score: np.ndarray | pd.Series) -> np.ndarray:
    """Return competition ranks (1 = highest; ties share the lowest number)."""
    values = np.round(np.asarray(score, dtype=float), 12)
    return pd.Series(-values).rank(method="min").to_numpy(dtype=np.int64)
