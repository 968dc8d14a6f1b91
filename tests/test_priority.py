"""Normalisation, score, contributions and ranks: known answers and invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from geo.criteria import CRITERIA
from geo.errors import ConfigurationError
from geo.priority import check_weights, normalise_criteria, rank_scores, score_sectors

ZERO = dict.fromkeys(CRITERIA, 0.0)
COLUMNS = {name: crit.column for name, crit in CRITERIA.items()}


def _raw(**values):
    """A criteria table of 4 sectors; unspecified criteria are 0 everywhere."""
    data = {col: [0.0, 0.0, 0.0, 0.0] for col in COLUMNS.values()}
    data.update({COLUMNS[k]: v for k, v in values.items()})
    return pd.DataFrame(data, index=pd.Index([1, 2, 3, 4], name="sector_id"))


def test_minmax_by_hand_with_direction_constant_and_missing():
    raw = _raw(
        incident_density=[0.0, 1.0, 3.0, 4.0],
        crossings=[10.0, 0.0, 5.0, np.nan],  # km: nearer is more urgent
        terrain=[7.0, 7.0, 7.0, 7.0],
    )
    norm = normalise_criteria(raw)
    assert_allclose(norm["incident_density"], [0.0, 0.25, 0.75, 1.0])
    assert_allclose(norm["crossings"], [0.0, 1.0, 0.5, 0.0])  # missing counts 0
    assert_allclose(norm["terrain"], 0.0)  # cannot tell sectors apart
    # No candidate line reaching a sector counts as 0 m of disagreement.
    norm = normalise_criteria(_raw(line_uncertainty=[np.nan, 900.0, np.nan, 300.0]))
    assert_allclose(norm["line_uncertainty"], [0.0, 1.0, 0.0, 1 / 3])


def test_rank_normalisation_by_hand():
    raw = _raw(incident_density=[0.0, 100.0, 3.0, 3.0], crossings=[1.0, 2.0, 3.0, 4.0])
    norm = normalise_criteria(raw, method="rank")
    assert_allclose(norm["incident_density"], [0.0, 1.0, 1 / 3, 1 / 3])
    assert_allclose(norm["crossings"], [1.0, 2 / 3, 1 / 3, 0.0])
    with pytest.raises(ConfigurationError, match=r"normalisation 'zscore' is unknown"):
        normalise_criteria(raw, method="zscore")


def test_score_contributions_and_ranks_by_hand():
    raw = _raw(incident_density=[0.0, 1.0, 2.0, 4.0], line_uncertainty=[800.0, 0.0, 400.0, 0.0])
    norm = normalise_criteria(raw)
    weights = check_weights(
        dict.fromkeys(CRITERIA, 0.0) | {"incident_density": 3, "line_uncertainty": 1}
    )
    score, contrib = score_sectors(norm, weights)
    assert_allclose(contrib["incident_density"], [0.0, 0.1875, 0.375, 0.75])
    assert_allclose(contrib["line_uncertainty"], [0.25, 0.0, 0.125, 0.0])
    assert_allclose(score, [0.25, 0.1875, 0.5, 0.75])
    assert rank_scores(score).tolist() == [3, 4, 2, 1]
    # Weights that favour line uncertainty move sector 1 to the top.
    weights = check_weights(
        dict.fromkeys(CRITERIA, 0.0) | {"incident_density": 1, "line_uncertainty": 3}
    )
    score, _ = score_sectors(norm, weights)
    assert rank_scores(score).tolist() == [1, 4, 2, 3]


def test_ties_share_the_lowest_rank():
    assert rank_scores([0.5, 0.9, 0.5, 0.1, 0.9]).tolist() == [3, 1, 3, 5, 1]
    # Rounding noise does not break a tie.
    assert rank_scores([0.3, 0.1 + 0.2]).tolist() == [1, 1]


@hsettings(max_examples=60, deadline=None)
@given(
    arrays(np.float64, (9, len(CRITERIA)), elements=st.floats(0, 1e6)),
    arrays(np.float64, len(CRITERIA), elements=st.floats(0, 10)).filter(lambda w: w.sum() > 0),
    st.sampled_from(["minmax", "rank"]),
)
def test_contributions_sum_to_the_score_and_scores_lie_in_0_1(values, w, method):
    raw = pd.DataFrame(values, columns=list(COLUMNS.values()))
    norm = normalise_criteria(raw, method=method)
    weights = check_weights(dict(zip(CRITERIA, w, strict=True)))
    score, contrib = score_sectors(norm, weights)
    assert_allclose(contrib.sum(axis=1), score, atol=1e-12)
    assert ((norm >= 0) & (norm <= 1)).all().all()
    assert (score >= -1e-12).all() and (score <= 1 + 1e-12).all()
    ranks = rank_scores(score)
    order = np.argsort(ranks, kind="stable")
    assert (np.diff(score.to_numpy()[order]) <= 1e-12).all()  # rank 1 has the top score


def test_a_falling_trend_counts_as_steady_in_the_score():
    # a sector whose reporting fell (-2) must not score below one with no incidents (0):
    # both get 0, the rising sector (+1) gets 1
    raw = pd.DataFrame({col: [1.0, 1.0, 1.0] for col in COLUMNS.values()})
    raw[COLUMNS["trend"]] = [-2.0, 0.0, 1.0]
    norm = normalise_criteria(raw)
    assert norm["trend"].tolist() == [0.0, 0.0, 1.0]
    assert normalise_criteria(raw, method="rank")["trend"].tolist() == [0.0, 0.0, 1.0]


@given(
    values=st.one_of(
        arrays(
            np.float64, st.integers(0, 30), elements=st.floats(allow_nan=True, allow_infinity=True)
        ),
        arrays(np.int64, st.integers(0, 30), elements=st.integers(-(2**40), 2**40)),
        arrays(np.bool_, st.integers(0, 30)),
    ),
    digits=st.integers(0, 6),
)
@hsettings(max_examples=80, deadline=None)
def test_a_numeric_column_is_published_as_each_value_would_be(values, digits):
    """The ranked table's quick path for numbers gives what the value-by-value path gives."""
    from pandas.testing import assert_series_equal

    from geo.ranking import _published, json_value

    column = pd.Series(values)
    # The value-by-value path (the only one before): each value as JSON, then one dtype.
    cells = [json_value(v, digits) for v in column]
    present = [v for v in cells if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        expected = pd.Series(cells, dtype="boolean" if len(present) < len(cells) else bool)
    elif present and all(isinstance(v, int) for v in present):
        expected = pd.Series(cells, dtype="Int64" if len(present) < len(cells) else "int64")
    else:
        expected = pd.Series([np.nan if v is None else v for v in cells], dtype="float64")
    assert_series_equal(_published(column, digits), expected)


def test_the_sector_zones_are_published_once_and_anew_when_they_change():
    """Each zone is projected and rounded once; a moved zone is made again."""
    import geopandas as gpd
    import shapely
    from shapely.geometry import box

    from geo import ranking, settings

    zones = gpd.GeoSeries(
        [box(300_000 + 5_000 * i, 3_700_000, 305_000 + 5_000 * i, 3_710_000).segmentize(500)
         for i in range(6)],
        crs=settings.METRIC_CRS,
    )  # fmt: skip
    expected = shapely.set_precision(
        zones.to_crs(4326).to_numpy(), 10.0**-ranking.COORDINATE_DECIMALS
    )
    first = ranking._published_geometry(zones)
    assert shapely.equals_exact(first, expected, tolerance=0).all()
    reordered = zones.iloc[::-1]
    again = ranking._published_geometry(reordered)
    assert all(a is b for a, b in zip(again, first[::-1], strict=True))  # made once
    moved = zones.translate(xoff=1.0)
    changed = ranking._published_geometry(moved)
    assert not shapely.equals_exact(changed, first, tolerance=0).any()
    assert shapely.equals_exact(
        changed,
        shapely.set_precision(moved.to_crs(4326).to_numpy(), 10.0**-ranking.COORDINATE_DECIMALS),
        tolerance=0,
    ).all()
