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
from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo.criteria import CRITERIA
from geo.errors import ConfigurationError

logger = logging.getLogger(__name__)

#: Normalisation methods.
NORMALISATIONS = ("minmax", "rank")
#: Scores closer than this are treated as equal when ranking.
SCORE_TOLERANCE = 1e-12


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
