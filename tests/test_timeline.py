"""Sector timelines: counts by month, by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from geo.timeline import sector_months, sector_sparklines


def _incidents() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "date": pd.to_datetime(
                ["2025-01-03", "2025-01-20", "2025-03-01", "2025-03-31", "2025-02-10", "2025-04-01"]
            ),
            "type": ["seizure", "clash", "seizure", "seizure", "arrest", "clash"],
            "sector_id": pd.array([4, 4, 4, 7, pd.NA, 7], dtype="Int64"),
        }
    )


def test_sparklines_have_every_month_with_zeros():
    lines = sector_sparklines(_incidents())
    assert lines.to_dict() == {4: [2, 0, 1, 0], 7: [0, 0, 1, 1]}  # Jan..Apr; outside left out


def test_months_by_type_of_one_sector():
    table = sector_months(_incidents(), 4)
    assert table.index.tolist() == ["2025-01", "2025-02", "2025-03", "2025-04"]
    assert table.columns.tolist() == ["seizure", "clash"]  # settings' order
    assert table.loc["2025-01"].tolist() == [1, 1]
    assert table.loc["2025-03"].tolist() == [1, 0]
    assert int(table.to_numpy().sum()) == 3
    assert sector_months(_incidents(), 99).to_numpy().sum() == 0


def _sparklines_by_crosstab(incidents, *, first=None, last=None):
    """The former count: pd.crosstab of sector and month, widened to the months shown."""
    located = incidents[incidents["sector_id"].notna()]
    periods = pd.to_datetime(located["date"]).dt.to_period("M")
    first = first if first is not None else periods.min()
    last = last if last is not None else periods.max()
    months = pd.period_range(first, last, freq="M")
    table = pd.crosstab(located["sector_id"].astype(int), periods).reindex(
        columns=months, fill_value=0
    )
    return pd.Series([row.tolist() for row in table.to_numpy()], index=table.index)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 200),
    undated=st.floats(0.0, 0.3),
    window=st.one_of(st.none(), st.tuples(st.integers(0, 30), st.integers(0, 30))),
)
@hsettings(max_examples=60, deadline=None)
def test_sparklines_count_what_a_crosstab_counts(seed, n, undated, window):
    from pandas.testing import assert_series_equal

    rng = np.random.default_rng(seed)
    dates = pd.Series(pd.Timestamp("2023-11-15") + pd.to_timedelta(rng.integers(0, 900, n), "D"))
    dates[rng.random(n) < undated] = pd.NaT
    sector = pd.array(rng.integers(1, 9, n), dtype="Int64")
    sector[rng.random(n) < 0.2] = pd.NA
    incidents = pd.DataFrame({"date": dates, "sector_id": sector})
    if not incidents["date"][incidents["sector_id"].notna()].notna().any():
        return  # no dated incident in a sector: nothing to compare
    kw = {}
    if window is not None:
        start = pd.Period("2023-10", freq="M") + window[0]
        kw = {"first": start, "last": start + window[1]}
    assert_series_equal(
        sector_sparklines(incidents, **kw), _sparklines_by_crosstab(incidents, **kw)
    )
