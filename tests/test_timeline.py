"""Sector timelines: counts by month, by hand."""

from __future__ import annotations

import pandas as pd

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
