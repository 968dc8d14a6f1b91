"""The app's time panels: emerging hot spots, a sector's months, and what changed.

Drawing only; the numbers come from :mod:`geo.emerging`, :mod:`geo.timeline` and
:mod:`geo.change`, computed by the app's cached wrappers. User text is escaped
(:func:`mapview.escape_markdown`, :func:`mapview.escape_frame`).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geo.timeline import sector_months
from mapview import escape_frame, escape_markdown


def sector_chart(incidents: pd.DataFrame, sector_id: int) -> None:
    """Draw one sector's incidents by month and type (a stacked bar chart)."""
    table = sector_months(incidents, sector_id)
    st.markdown(f"**Sector {int(sector_id)}: incidents by month and type**")
    if table.empty or int(table.to_numpy().sum()) == 0:
        st.caption("No incident of the selected period lies in this sector.")
        return
    st.bar_chart(table, stack=True, height=320)
    st.caption(f"{int(table.to_numpy().sum())} incident(s) in the sector, by month.")


def comparison_panel(comparison: Any) -> None:
    """Draw the side-by-side ranks of two periods, flagged sectors first."""
    now, then = comparison.periods["now"], comparison.periods["then"]

    def span(pair: tuple) -> str:
        return f"{pair[0] or 'first incident'} to {pair[1] or 'last incident'}"

    table = comparison.table
    flagged = int(table["flagged"].sum())
    st.subheader("What changed")
    st.caption(
        escape_markdown(
            f"Now {span(now)}, compared with {span(then)}: {flagged} sector(s) moved beyond "
            "their 5–95 % rank interval with their own incidents changed beyond chance "
            "(MOVED); 'displaced' sectors moved only because others changed."
        )
    )
    shown = pd.DataFrame(
        {
            "sector": table["sector_id"].astype(str),
            "rank now": table["rank_now"],
            "rank then": table["rank_then"],
            "change": table["rank_change"],
            "interval now": table["interval_now"],
            "interval then": table["interval_then"],
            "incidents then→now": [
                f"{j}→{k}"
                for j, k in zip(table["incidents_then"], table["incidents_now"], strict=True)
            ],
            "flag": [
                "MOVED"
                if f
                else "displaced"
                if d
                else "entered top k"
                if e
                else "left top k"
                if lft
                else ""
                for f, d, e, lft in zip(
                    table["flagged"],
                    table["displaced"],
                    table["entered_top_k"],
                    table["left_top_k"],
                    strict=True,
                )
            ],
            "why": table["reasons"],
        }
    )
    order = (~table["flagged"]).astype(int) * 2 + (~table["displaced"]).astype(int)
    shown = shown.iloc[order.argsort(kind="stable")]
    st.dataframe(escape_frame(shown), hide_index=True, key="comparison_table")


def emerging_caption(emerging: Any, reason: str | None) -> None:
    """Say what the emerging layer shows, or why it is missing."""
    if emerging is None:
        st.caption(escape_markdown(reason or "Emerging hot spots not computed."))
        return
    counts = ", ".join(f"{n} {c}" for c, n in emerging.summary().items() if "no pattern" not in c)
    st.caption(escape_markdown(f"{emerging.describe()}. {counts or 'No pattern.'}"))
