"""What changed between two periods: each sector's rank, score and incidents, then and now.

:func:`compare_periods` ranks the sectors twice with the same options and layers, once
on the incidents of the current period and once on those of an earlier one, and puts
the two side by side. A change counts only when it is larger than the ranking's own
uncertainty: every ranking carries, per sector, the 5–95 % rank interval of its
Monte Carlo weight draws (:mod:`geo.sensitivity`). A sector moved **beyond its
interval** when its two intervals do not overlap: it moved further than the weights
alone could move it. It is **flagged** when, besides, its own evidence changed: the
number of incidents counted in it differs between the periods more than chance
would give (a two-sided binomial test of the two counts, the periods' lengths as the
expected split, at 5 %). A sector that moved beyond its interval with its own
incidents unchanged was **displaced** by others (min–max normalisation rescales
every sector when one grows): reported, not flagged. Entering or leaving the top k
is reported beside: a sector pushed from 5th to 6th by another's rise stays within
its interval.

"Why" is the criteria whose contributions to the score changed most, and the new
incidents: those of the current period, counted by type in each sector.

May import: ``geo.analysis``, ``geo.parameters``, ``geo.criteria``, pandas, numpy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo import settings
from geo.analysis import AnalysisResult, run_analysis
from geo.criteria import CRITERIA
from geo.errors import ConfigurationError
from geo.parameters import AnalysisParameters

if TYPE_CHECKING:
    import geopandas as gpd

    from layers.reference import ReferenceLayers

logger = logging.getLogger(__name__)

#: Criteria named as the reasons of a sector's move.
REASONS_SHOWN = 2


def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """Return the days of ``SINCE..UNTIL`` (ISO dates, inclusive).

    Raises
    ------
    ConfigurationError
        When the text is not two ISO dates joined by ``..`` in order.
    """
    since_text, sep, until_text = str(text).partition("..")
    try:
        if not sep:
            raise ValueError
        since, until = dt.date.fromisoformat(since_text), dt.date.fromisoformat(until_text)
    except ValueError:
        raise ConfigurationError(
            f"period {text!r} is not SINCE..UNTIL; fix: give two dates, e.g. 2025-01-01..2025-03-31"
        ) from None
    if since > until:
        raise ConfigurationError(f"period {text!r} ends before it starts; fix: swap the dates")
    return since, until


@dataclass
class PeriodComparison:
    """Two rankings of the same sectors, then and now, and what moved.

    Attributes
    ----------
    now, then
        The analyses of the current and of the earlier period.
    table
        One row per sector, ranked by the current period: ``sector_id, rank_now,
        rank_then, rank_change`` (positive: moved up), ``score_now, score_then,
        interval_now, interval_then`` (5–95 % ranks as ``"lo–hi"``),
        ``entered_top_k, left_top_k, beyond_interval``, ``incidents_now,
        incidents_then, evidence_changed`` (the counts differ beyond chance),
        ``flagged`` (beyond the interval with its own evidence changed),
        ``displaced`` (beyond the interval, evidence unchanged), ``reasons`` (the
        criteria whose contributions changed most, signed), ``new_incidents`` and
        ``new_<type>`` (incidents of the current period in the sector, by type),
        ``nearest_town_name``.
    periods
        ``{"now": (since, until), "then": (since, until)}`` (dates or ``None``).
    top_k
        The k of the top-k flags.
    """

    now: AnalysisResult
    then: AnalysisResult
    table: pd.DataFrame
    periods: dict[str, tuple[dt.date | None, dt.date | None]]
    top_k: int

    @property
    def flagged(self) -> pd.DataFrame:
        """The flagged sectors, ranked by the current period."""
        return self.table[self.table["flagged"]]

    def to_json_dict(self) -> dict[str, Any]:
        """Return the comparison as JSON-ready data."""

        def iso(pair: tuple[dt.date | None, dt.date | None]) -> list[str | None]:
            return [d.isoformat() if d else None for d in pair]

        records = []
        for row in self.table.to_dict(orient="records"):
            records.append({k: _plain(v) for k, v in row.items()})
        return {
            "periods": {k: iso(v) for k, v in self.periods.items()},
            "top_k": self.top_k,
            "flagged": [int(s) for s in self.flagged["sector_id"]],
            "sectors": records,
        }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if value is pd.NA:
        return None
    return value


def compare_periods(
    incidents: gpd.GeoDataFrame,
    params: AnalysisParameters,
    *,
    then: tuple[dt.date, dt.date],
    reference: ReferenceLayers,
) -> PeriodComparison:
    """Rank the sectors on the current period (``params.since..until``) and on ``then``.

    Parameters
    ----------
    incidents
        All incidents (each analysis filters its own period; types as ``params``).
    params
        The options of the current analysis.
    then
        The earlier period, ``(since, until)``.
    reference
        The reference layers of both analyses.
    """
    then_params = dataclasses.replace(params, since=then[0], until=then[1])
    now = run_analysis(incidents, params, reference=reference)
    before = run_analysis(incidents, then_params, reference=reference)
    table = _compare(now, before, top_k=params.top_k)
    periods = {"now": (params.since, params.until), "then": (then[0], then[1])}
    logger.info(
        "compared %s with %s: %d sector(s) flagged",
        periods["now"],
        periods["then"],
        int(table["flagged"].sum()),
    )
    return PeriodComparison(now=now, then=before, table=table, periods=periods, top_k=params.top_k)


def _compare(now: AnalysisResult, then: AnalysisResult, *, top_k: int) -> pd.DataFrame:
    a = now.ranked.set_index("sector_id")
    b = then.ranked.set_index("sector_id").reindex(a.index)
    out = pd.DataFrame(index=a.index)
    out["rank_now"] = a["rank"].astype("Int64")
    out["rank_then"] = b["rank"].astype("Int64")
    out["rank_change"] = (out["rank_then"] - out["rank_now"]).astype("Int64")
    out["score_now"] = a["score"]
    out["score_then"] = b["score"]
    lo_a, hi_a = a["rank_low"].astype(float), a["rank_high"].astype(float)
    lo_b, hi_b = b["rank_low"].astype(float), b["rank_high"].astype(float)
    out["interval_now"] = [_interval(lo, hi) for lo, hi in zip(lo_a, hi_a, strict=True)]
    out["interval_then"] = [_interval(lo, hi) for lo, hi in zip(lo_b, hi_b, strict=True)]
    in_now = out["rank_now"].fillna(np.iinfo(np.int32).max) <= top_k
    in_then = out["rank_then"].fillna(np.iinfo(np.int32).max) <= top_k
    out["entered_top_k"] = (in_now & ~in_then).astype(bool)
    out["left_top_k"] = (~in_now & in_then).astype(bool)
    apart = ((hi_a < lo_b) | (hi_b < lo_a)).fillna(False).astype(bool)
    out["beyond_interval"] = apart
    out["incidents_now"] = a["crit_incidents"].fillna(0).astype(int)
    out["incidents_then"] = b["crit_incidents"].fillna(0).astype(int)
    share = _share_of_now(now, then)
    evidence = np.array(
        [
            _counts_differ(int(k), int(k + j), share)
            for k, j in zip(out["incidents_now"], out["incidents_then"], strict=True)
        ],
        dtype=bool,
    )
    out["evidence_changed"] = evidence
    out["flagged"] = apart & evidence
    out["displaced"] = apart & ~evidence
    deltas = pd.DataFrame(
        {n: a[f"contrib_{n}"].astype(float) - b[f"contrib_{n}"].astype(float) for n in CRITERIA}
    )
    out["reasons"] = [_reasons(row) for _, row in deltas.iterrows()]
    new = _new_by_type(now)
    out["new_incidents"] = new.sum(axis=1).reindex(out.index).fillna(0).astype(int)
    for kind in settings.INCIDENT_TYPES:
        column = new[kind] if kind in new.columns else pd.Series(dtype=int)
        out[f"new_{kind}"] = column.reindex(out.index).fillna(0).astype(int)
    out["nearest_town_name"] = a["nearest_town_name"]
    return out.reset_index()


#: Significance of a change in a sector's incident count.
COUNT_CHANGE_ALPHA = 0.05


def _period_days(result: AnalysisResult) -> float:
    """Length in days of the period a result analysed (its filters, else its incidents)."""
    params = result.parameters
    dates = pd.to_datetime(result.incidents["date"]) if len(result.incidents) else None
    since = (
        pd.Timestamp(params.since) if params.since else (dates.min() if dates is not None else None)
    )
    until = (
        pd.Timestamp(params.until) if params.until else (dates.max() if dates is not None else None)
    )
    if since is None or until is None or pd.isna(since) or pd.isna(until):
        return 1.0
    return float((until - since).days + 1)


def _share_of_now(now: AnalysisResult, then: AnalysisResult) -> float:
    days_now, days_then = _period_days(now), _period_days(then)
    return days_now / (days_now + days_then)


def _counts_differ(k: int, n: int, share: float) -> bool:
    """Whether ``k`` of ``n`` incidents in the current period is unlikely at rate ``share``."""
    from scipy.stats import binomtest

    if n == 0:
        return False
    return bool(binomtest(k, n, share).pvalue <= COUNT_CHANGE_ALPHA)


def _interval(lo: float, hi: float) -> str:
    return "" if np.isnan(lo) or np.isnan(hi) else f"{int(lo)}–{int(hi)}"


def _reasons(deltas: pd.Series) -> str:
    """Return the criteria whose contributions changed most, e.g. ``incident_density +0.21``."""
    moved = deltas[deltas.abs() > 5e-4]
    top = moved.reindex(moved.abs().sort_values(ascending=False).index).head(REASONS_SHOWN)
    return "; ".join(f"{name} {value:+.3f}" for name, value in top.items())


def _new_by_type(result: AnalysisResult) -> pd.DataFrame:
    """Incidents of the analysed period by sector and type."""
    incidents = result.incidents
    if incidents.empty or "sector_id" not in incidents.columns:
        return pd.DataFrame()
    located = incidents[incidents["sector_id"].notna()]
    return pd.crosstab(located["sector_id"].astype(int), located["type"])
