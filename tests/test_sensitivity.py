"""Sensitivity of the ranking: dominant and tied sectors, the draws, the one-at-a-time sweep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from geo.errors import ConfigurationError
from geo.sensitivity import analyse_sensitivity, draw_weights


def _norm(rows, ids=None):
    frame = pd.DataFrame(rows, columns=["a", "b", "c"])
    frame.index = pd.Index(ids or range(1, len(rows) + 1), name="sector_id")
    return frame


WEIGHTS = {"a": 0.5, "b": 0.3, "c": 0.2}


def test_a_dominant_sector_is_always_first():
    norm = _norm([[1, 1, 1], [0.2, 0.1, 0.3], [0.1, 0.3, 0.2], [0, 0, 0]])
    s = analyse_sensitivity(norm, WEIGHTS, top_k=1, draws=1000, seed=1)
    assert_allclose(s.p_top_k, [1.0, 0.0, 0.0, 0.0])
    assert (s.rank_low[0], s.rank_high[0]) == (1, 1)
    assert s.rank_low[3] == s.rank_high[3] == 4  # dominated by every other sector
    assert not s.unstable[0] and not s.unstable[3]


def test_two_equal_sectors_share_the_top_place():
    norm = _norm([[0.9, 0.8, 0.7], [0.9, 0.8, 0.7], [0.1, 0.0, 0.2]])
    s = analyse_sensitivity(norm, WEIGHTS, top_k=1, draws=1000, seed=2)
    assert_allclose(s.p_top_k, [0.5, 0.5, 0.0])
    assert_allclose(s.p_top_k.sum(), 1.0)
    assert s.unstable[0] and s.unstable[1]  # neither is sure to be the first
    s2 = analyse_sensitivity(norm, WEIGHTS, top_k=2, draws=1000, seed=2)
    assert_allclose(s2.p_top_k, [1.0, 1.0, 0.0])


def test_p_top_k_sums_to_k_and_intervals_hold_the_median():
    rng = np.random.default_rng(5)
    norm = _norm(rng.uniform(size=(30, 3)).tolist())
    s = analyse_sensitivity(norm, WEIGHTS, top_k=5, draws=1000, seed=3)
    assert_allclose(s.p_top_k.sum(), 5.0)
    assert (s.rank_low <= s.rank_median).all() and (s.rank_median <= s.rank_high).all()
    assert s.rank_low.min() == 1 and s.rank_high.max() <= 30
    # Reproducible with the same seed.
    again = analyse_sensitivity(norm, WEIGHTS, top_k=5, draws=1000, seed=3)
    assert_allclose(again.p_top_k, s.p_top_k)


def test_close_competitors_are_marked_unstable():
    # Sector 1 leads on a, sector 2 on b with nearly equal weights: either can win.
    norm = _norm([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    s = analyse_sensitivity(norm, {"a": 0.5, "b": 0.5, "c": 0.0}, top_k=1, draws=2000, seed=4)
    assert 0.4 < s.p_top_k[0] < 0.6 and 0.4 < s.p_top_k[1] < 0.6
    assert s.unstable[:2].all() and not s.unstable[2]


def test_draws_are_centred_on_the_weights_and_keep_zeros():
    w = np.array([0.6, 0.0, 0.3, 0.1])
    d = draw_weights(w, draws=20_000, concentration=50, rng=0)
    assert d.shape == (20_000, 4)
    assert_allclose(d.sum(axis=1), 1.0)
    assert (d[:, 1] == 0).all()
    assert_allclose(d.mean(axis=0), w, atol=0.005)
    # Dirichlet(50 w): variance w (1 - w) / 51.
    assert_allclose(d[:, 0].var(), 0.6 * 0.4 / 51, rtol=0.05)
    assert_allclose(draw_weights(np.array([0, 1.0, 0]), draws=3), [[0, 1, 0]] * 3)
    with pytest.raises(ConfigurationError, match=r"draws=0 must be ≥ 1"):
        draw_weights(w, draws=0)


def test_one_at_a_time_sweep():
    # Sector 1 wins on a, sector 2 on b; a is weighted more.
    norm = _norm([[1.0, 0.0, 0.5], [0.0, 0.9, 0.5], [0.2, 0.2, 0.0]])
    s = analyse_sensitivity(
        norm, {"a": 0.6, "b": 0.3, "c": 0.1}, top_k=1, draws=100, oat_factors=(0.0, 2.0)
    )
    oat = s.oat.set_index(["criterion", "factor"])
    assert oat.loc[("a", 0.0), "top_k"] == (2,)  # without a, sector 2 leads
    assert oat.loc[("a", 0.0), "top_k_changed"]
    assert not oat.loc[("a", 2.0), "top_k_changed"]
    assert oat.loc[("b", 2.0), "weight"] == pytest.approx(0.6 / 1.3)
    assert s.oat_rank_min.tolist() == [1, 1, 2]  # without a: 0.125, 0.8, 0.15
    # Without b sector 2 scores 0.05/0.7 < sector 3's 0.12/0.7; without a, sector 1 is last.
    assert s.oat_rank_max.tolist()[:2] == [3, 3]
    only_c = analyse_sensitivity(norm, WEIGHTS, top_k=1, draws=10, oat_criteria=["c"])
    assert set(only_c.oat["criterion"]) == {"c"}
    d = s.to_dict()
    assert d["draws"] == 100 and len(d["one_at_a_time"]) == 6
    with pytest.raises(ConfigurationError, match=r"top_k=0"):
        analyse_sensitivity(norm, WEIGHTS, top_k=0)


@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    factors=st.lists(st.sampled_from([0.0, 0.5, 1.5, 2.0]), min_size=1, max_size=3, unique=True),
)
@hsettings(max_examples=40, deadline=None)
def test_each_one_at_a_time_variant_is_ranked_as_on_its_own(seed, n, factors):
    """The sweep ranks all its variants at once; each equals ranking its scores alone."""
    from scipy.stats import rankdata

    rng = np.random.default_rng(seed)
    values = rng.integers(0, 4, (n, 3)) / 3.0  # few levels: ties are common
    weights = dict(zip("abc", rng.dirichlet([1.0, 1.0, 1.0]), strict=True))
    s = analyse_sensitivity(_norm(values.tolist()), weights, top_k=2, draws=5, oat_factors=factors)
    w = np.array([weights[c] for c in "abc"])
    assert len(s.oat) == len(s.oat_ranks) == 3 * len(factors)
    for k, row in enumerate(s.oat.itertuples(index=False)):
        j = "abc".index(row.criterion)
        v = w.copy()
        v[j] = w[j] * row.factor
        v = v / v.sum()
        expected = rankdata(-np.round(values @ v, 12), method="min")
        assert s.oat_ranks.iloc[k].tolist() == expected.tolist()
        assert row.weight == pytest.approx(v[j])
    none = analyse_sensitivity(_norm(values.tolist()), weights, draws=5, oat_criteria=[])
    assert none.oat.empty and none.oat_ranks.shape == (0, n)
    assert none.oat_rank_min.tolist() == [1] * n
