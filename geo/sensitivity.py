"""How much the priority ranking depends on the weights.

Two analyses over the normalised criteria (:func:`geo.priority.normalise_criteria`):

Monte Carlo
    ``draws`` weight vectors from a Dirichlet distribution centred on the
    chosen weights, ``Dirichlet(concentration × w)`` (mean ``w``; a larger
    concentration keeps the draws closer; criteria of weight 0 stay at 0).
    For each sector: the probability of being in the top ``k`` (a tie that
    straddles the cut shares the free places equally, so two identical
    sectors competing for one place get 0.5 each), and the interval of its
    rank between two quantiles of the draws (5 % and 95 % by default; ranks
    are competition ranks, 1 the highest).
One at a time
    Each criterion's weight multiplied by each factor of
    :data:`geo.settings.SENSITIVITY_OAT_FACTORS` (0 removes it), the other
    weights keeping their proportions, all renormalised to sum to 1; a
    criterion of weight 0 is swept from ``1 / number of criteria``. The ranks
    of every sector under every variant, and whether the top ``k`` changes.

A sector is *unstable* when its top-k probability lies strictly between
:data:`geo.settings.UNSTABLE_P_TOP_K` or its rank interval spans more than
:data:`geo.settings.UNSTABLE_RANK_SPAN` ranks.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from geo import settings
from geo.errors import ConfigurationError

logger = logging.getLogger(__name__)


@dataclass
class SensitivityResult:
    """Stability of the ranking under perturbed weights.

    Attributes
    ----------
    p_top_k
        Per sector, the share of draws placing it in the top ``top_k``.
    rank_low, rank_high
        Per sector, the lower and upper quantiles of its rank over the draws.
    rank_median
        Per sector, its median rank over the draws.
    unstable
        Per sector, whether its place is uncertain (see the module text).
    oat
        One-at-a-time sweep, one row per (criterion, factor): ``criterion``,
        ``factor``, ``weight`` (of that criterion after renormalising),
        ``top_k`` (sector ids, best first), ``top_k_changed``.
    oat_ranks
        Ranks of every sector (columns, in input order) under every row of
        ``oat``.
    oat_rank_min, oat_rank_max
        Per sector, its best and worst rank over the sweep.
    draws, concentration, top_k, seed, interval_percent
        The settings used.
    """

    p_top_k: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    rank_median: np.ndarray
    unstable: np.ndarray
    oat: pd.DataFrame
    oat_ranks: pd.DataFrame
    oat_rank_min: np.ndarray
    oat_rank_max: np.ndarray
    draws: int
    concentration: float
    top_k: int
    seed: int | None
    interval_percent: tuple[float, float]

    def to_dict(self) -> dict:
        """Return the settings and the one-at-a-time sweep as JSON-ready data."""
        return {
            "method": "Dirichlet perturbation of the weights centred on the chosen ones",
            "draws": self.draws,
            "concentration": self.concentration,
            "seed": self.seed,
            "top_k": self.top_k,
            "rank_interval_percent": list(self.interval_percent),
            "one_at_a_time": [
                {
                    "criterion": row.criterion,
                    "factor": float(row.factor),
                    "weight": round(float(row.weight), 6),
                    "top_k": [int(s) for s in row.top_k],
                    "top_k_changed": bool(row.top_k_changed),
                }
                for row in self.oat.itertuples(index=False)
            ],
        }


def draw_weights(
    weights: np.ndarray,
    *,
    draws: int = settings.SENSITIVITY_DRAWS,
    concentration: float = settings.SENSITIVITY_CONCENTRATION,
    rng: np.random.Generator | int | None = settings.SENSITIVITY_SEED,
) -> np.ndarray:
    """Return ``draws`` weight vectors from ``Dirichlet(concentration × weights)``.

    Parameters
    ----------
    weights
        Non-negative weights summing to 1; zeros stay zero.
    draws
        Number of vectors.
    concentration
        Larger values keep the draws nearer the weights.
    rng
        A generator or a seed.

    Returns
    -------
    numpy.ndarray
        Shape ``(draws, len(weights))``, rows summing to 1.
    """
    w = np.asarray(weights, dtype=float)
    if draws < 1 or not concentration > 0:
        raise ConfigurationError(
            f"sensitivity: draws={draws!r} must be ≥ 1 and concentration={concentration!r} > 0"
        )
    rng = np.random.default_rng(rng)
    out = np.zeros((draws, len(w)))
    positive = w > 0
    if positive.sum() == 1:
        out[:, positive] = 1.0
    elif positive.any():
        out[:, positive] = rng.dirichlet(concentration * w[positive], size=draws)
    return out


def _ranks_and_shares(scores: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """Return competition ranks and top-k shares, per column of ``scores``."""
    s = np.round(scores, 12)
    best = rankdata(-s, axis=0, method="min")  # 1 + number strictly higher
    worst = rankdata(-s, axis=0, method="max")  # best + number tied - 1
    higher = best - 1
    tied = worst - best + 1
    share = np.clip((top_k - higher) / tied, 0.0, 1.0)
    return best.astype(np.int64), share


def analyse_sensitivity(
    normalised: pd.DataFrame,
    weights: Mapping[str, float],
    *,
    top_k: int = settings.TOP_K,
    draws: int = settings.SENSITIVITY_DRAWS,
    concentration: float = settings.SENSITIVITY_CONCENTRATION,
    seed: int | None = settings.SENSITIVITY_SEED,
    interval_percent: Sequence[float] = settings.RANK_INTERVAL_PERCENT,
    oat_factors: Sequence[float] = settings.SENSITIVITY_OAT_FACTORS,
    oat_criteria: Sequence[str] | None = None,
) -> SensitivityResult:
    """Perturb the weights and measure how the ranking moves.

    Parameters
    ----------
    normalised
        Normalised criteria, one row per sector, one column per criterion.
    weights
        Weights of the columns, summing to 1.
    top_k
        ``k`` of the top-k probability.
    draws, concentration, seed
        Monte Carlo settings (see :func:`draw_weights`).
    interval_percent
        Lower and upper quantiles (per cent) of the rank interval.
    oat_factors
        Multipliers of the one-at-a-time sweep.
    oat_criteria
        Criteria to sweep (default all); leave out those that must stay at 0
        (not measured, or too few incidents).
    """
    if top_k < 1:
        raise ConfigurationError(f"top_k={top_k!r} must be at least 1")
    names = list(normalised.columns)
    x = normalised.to_numpy(dtype=float)
    w = np.array([float(weights.get(n, 0.0)) for n in names])
    sampled = draw_weights(w, draws=draws, concentration=concentration, rng=seed)
    ranks, share = _ranks_and_shares(x @ sampled.T, top_k)
    lo_q, hi_q = (float(q) / 100.0 for q in interval_percent)
    rank_low = np.quantile(ranks, lo_q, axis=1, method="inverted_cdf").astype(np.int64)
    rank_high = np.quantile(ranks, hi_q, axis=1, method="inverted_cdf").astype(np.int64)
    rank_median = np.quantile(ranks, 0.5, axis=1, method="inverted_cdf").astype(np.int64)
    p_top_k = share.mean(axis=1)
    p_lo, p_hi = settings.UNSTABLE_P_TOP_K
    unstable = ((p_top_k > p_lo) & (p_top_k < p_hi)) | (
        rank_high - rank_low > settings.UNSTABLE_RANK_SPAN
    )
    swept = names if oat_criteria is None else [n for n in names if n in set(oat_criteria)]
    oat, oat_ranks = _one_at_a_time(x, w, names, swept, normalised.index, top_k, oat_factors)
    return SensitivityResult(
        p_top_k=p_top_k,
        rank_low=rank_low,
        rank_high=rank_high,
        rank_median=rank_median,
        unstable=unstable,
        oat=oat,
        oat_ranks=oat_ranks,
        oat_rank_min=oat_ranks.min(axis=0).to_numpy(dtype=np.int64)
        if len(oat_ranks)
        else np.ones(len(x), dtype=np.int64),
        oat_rank_max=oat_ranks.max(axis=0).to_numpy(dtype=np.int64)
        if len(oat_ranks)
        else np.ones(len(x), dtype=np.int64),
        draws=int(draws),
        concentration=float(concentration),
        top_k=int(top_k),
        seed=seed,
        interval_percent=(float(interval_percent[0]), float(interval_percent[1])),
    )


def _top(ranks: np.ndarray, scores: np.ndarray, ids: pd.Index, top_k: int) -> tuple:
    order = np.lexsort((np.arange(len(ranks)), -np.round(scores, 12)))
    return tuple(ids[order[:top_k]].tolist())


def _one_at_a_time(
    x: np.ndarray,
    w: np.ndarray,
    names: list[str],
    swept: list[str],
    ids: pd.Index,
    top_k: int,
    factors: Sequence[float],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    base_scores = x @ w
    base_top = _top(np.zeros(len(x)), base_scores, ids, top_k)
    variants, all_scores = [], []
    for j, name in enumerate(names):
        if name not in swept:
            continue
        base = w[j] if w[j] > 0 else 1.0 / len(names)
        for factor in factors:
            v = w.copy()
            v[j] = base * float(factor)
            total = v.sum()
            if not total > 0:
                continue
            v = v / total
            variants.append((name, float(factor), v[j]))
            all_scores.append(x @ v)  # one product per variant, as each is published
    # One ranking of every variant's column (rankdata ranks each column alone).
    scores = np.array(all_scores).reshape(len(all_scores), len(x)).T
    ranks = _ranks_and_shares(scores, top_k)[0] if len(all_scores) else scores.astype(np.int64)
    rows = []
    for k, (name, factor, weight) in enumerate(variants):
        top = _top(ranks[:, k], scores[:, k], ids, top_k)
        rows.append((name, factor, weight, top, set(top) != set(base_top)))
    oat = pd.DataFrame(rows, columns=["criterion", "factor", "weight", "top_k", "top_k_changed"])
    oat_ranks = pd.DataFrame(ranks.T, columns=ids, index=oat.index)
    return oat, oat_ranks
