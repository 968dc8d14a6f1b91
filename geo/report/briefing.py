"""The briefing page: what changed since the last period, first in the report.

Built when the report is asked for a comparison (``python -m geo report --compare-to
SINCE..UNTIL``): a page titled by the two periods with the top sectors now, the
sectors that moved and why (the criteria whose contributions changed most), emerging
hot spots near the border, and the incidents new since the earlier period. Every user
text is escaped (:func:`geo.report.sections._e`).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from geo import settings
from geo.report.sections import _e, _num, _table

if TYPE_CHECKING:
    from geo.change import PeriodComparison
    from geo.emerging import EmergingResult

#: Rows of each briefing table.
BRIEFING_ROWS = 8
#: Emerging categories shown on the briefing (the hot ones that say "act now").
BRIEFING_CATEGORIES = (
    "new hot spot",
    "consecutive hot spot",
    "intensifying hot spot",
    "persistent hot spot",
    "sporadic hot spot",
    "oscillating hot spot",
)


def _span(pair: tuple[dt.date | None, dt.date | None]) -> str:
    since, until = pair
    return f"{since.isoformat() if since else 'first incident'} to " + (
        until.isoformat() if until else "last incident"
    )


def briefing_title(comparison: PeriodComparison) -> str:
    """Return the briefing's title: the two periods."""
    return (
        f"Briefing: {_span(comparison.periods['now'])}, "
        f"compared with {_span(comparison.periods['then'])}"
    )


def build_briefing_html(
    comparison: PeriodComparison,
    *,
    emerging: EmergingResult | None = None,
    emerging_reason: str | None = None,
    top_n: int = BRIEFING_ROWS,
) -> str:
    """Return the briefing page as an HTML fragment (it ends with a page break).

    Parameters
    ----------
    comparison
        :func:`geo.change.compare_periods`.
    emerging
        Emerging hot spots of the current period, or ``None`` (then ``emerging_reason``).
    top_n
        Rows of each table.
    """
    table = comparison.table
    parts = [f'<section class="briefing"><h1>{_e(briefing_title(comparison))}</h1>']
    flagged = table[table["flagged"]]
    parts.append(
        "<p>"
        + _e(
            f"{len(flagged)} sector(s) moved beyond their 5–95 % rank interval with their own "
            "incidents changed beyond chance; sectors pushed by others' change are marked "
            "'displaced'. Ranks are recomputed on each period with the same options."
        )
        + "</p>"
    )
    parts.append("<h2>Top sectors now</h2>")
    top = table.sort_values("rank_now").head(top_n)
    parts.append(
        _table(
            ["rank", "sector", "nearest town", "score", "rank then", "change", "flag"],
            (
                [
                    _num(r.rank_now, 0),
                    _num(r.sector_id, 0),
                    _e(r.nearest_town_name),
                    _num(r.score_now, 3),
                    _num(r.rank_then, 0),
                    _change(r.rank_change),
                    _flag(r),
                ]
                for r in top.itertuples(index=False)
            ),
            numeric={0, 1, 3, 4, 5},
        )
    )
    parts.append("<h2>What moved, and why</h2>")
    moved = table[table["flagged"] | table["displaced"] | table["entered_top_k"]
                  | table["left_top_k"]]  # fmt: skip
    moved = moved.assign(_size=moved["rank_change"].abs().fillna(0))
    moved = moved.sort_values(["flagged", "_size"], ascending=[False, False])
    if moved.empty:
        parts.append("<p>No sector moved beyond its rank interval or across the top k.</p>")
    else:
        parts.append(
            _table(
                ["sector", "rank then → now", "incidents then → now", "flag", "why"],
                (
                    [
                        _num(r.sector_id, 0),
                        f"{_num(r.rank_then, 0)} → {_num(r.rank_now, 0)}",
                        f"{_num(r.incidents_then, 0)} → {_num(r.incidents_now, 0)}",
                        _flag(r),
                        _e(r.reasons or "—"),
                    ]
                    for r in moved.head(top_n).itertuples(index=False)
                ),
                numeric={0},
            )
        )
    parts.append("<h2>Emerging hot spots near the border</h2>")
    parts.append(_emerging_html(emerging, emerging_reason, top_n))
    parts.append("<h2>Incidents new since the earlier period</h2>")
    parts.append(_new_incidents_html(comparison, top_n))
    parts.append("</section>")
    return "".join(parts)


def _change(value: Any) -> str:
    return "—" if pd.isna(value) else f"{int(value):+d}"


def _flag(row: Any) -> str:
    if row.flagged:
        return "<b>MOVED</b>"
    if row.displaced:
        return "displaced"
    if row.entered_top_k:
        return "entered top k"
    if row.left_top_k:
        return "left top k"
    return ""


def _emerging_html(emerging: EmergingResult | None, reason: str | None, top_n: int) -> str:
    if emerging is None:
        return f"<p>{_e(reason or 'not computed')}</p>"
    cells = emerging.cells[emerging.cells["category"].isin(BRIEFING_CATEGORIES)]
    counts = cells["category"].value_counts()
    summary = ", ".join(f"{counts[c]} {c}(s)" for c in BRIEFING_CATEGORIES if c in counts.index)
    text = f"<p>{_e(emerging.describe())}. {_e(summary or 'No hot spot is emerging.')}</p>"
    order = {c: i for i, c in enumerate(BRIEFING_CATEGORIES)}
    cells = cells.assign(_o=cells["category"].map(order))
    cells = cells.sort_values(["_o", "z_last"], ascending=[True, False])
    if cells.empty:
        return text
    centroids = cells.geometry.to_crs(settings.METRIC_CRS).centroid.to_crs(4326)
    rows = (
        [
            _e(r.category),
            _e(r.cell_id),
            f"{centroids.iloc[i].y:.3f}° N, {centroids.iloc[i].x:.3f}° E",
            _num(r.count, 0),
            _num(r.hot_slices, 0),
            _num(r.trend_z, 2),
        ]
        for i, r in enumerate(cells.head(top_n).itertuples(index=False))
    )
    return text + _table(
        ["category", "cell", "centre", "incidents", "hot slices", "trend z"],
        rows,
        numeric={3, 4, 5},
    )


def _new_incidents_html(comparison: PeriodComparison, top_n: int) -> str:
    incidents = comparison.now.incidents
    then_until = comparison.periods["then"][1]
    if incidents.empty:
        return "<p>No incident in the current period.</p>"
    new = incidents
    if then_until is not None:
        new = incidents[pd.to_datetime(incidents["date"]) > pd.Timestamp(then_until)]
    by_type = new["type"].value_counts()
    text = (
        f"<p>{_num(len(new), 0)} incident(s): "
        + _e(", ".join(f"{n} {t}" for t, n in by_type.items()))
        + "</p>"
    )
    located = new[new["sector_id"].notna()] if "sector_id" in new.columns else new.iloc[:0]
    if located.empty:
        return text
    shown = located.sort_values("date", ascending=False).head(top_n)
    rows = (
        [
            _e(pd.Timestamp(r.date).strftime("%Y-%m-%d")),
            _num(r.sector_id, 0),
            _e(r.type),
            _e(r.description),
            _e(r.source),
        ]
        for r in shown.itertuples(index=False)
    )
    return text + _table(["date", "sector", "type", "what", "source"], rows, numeric={1})
