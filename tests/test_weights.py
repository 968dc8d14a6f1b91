"""Incident weights: type × damped magnitude × recency (issue 4)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from geo import settings
from geo.errors import ConfigurationError, ValidationError
from geo.weights import incident_weights, magnitude_factors, recency_factors


def frame(**columns) -> pd.DataFrame:
    n = len(next(iter(columns.values())))
    base = {"id": [f"i{k}" for k in range(n)], "type": ["seizure"] * n}
    base.update(columns)
    return pd.DataFrame(base)


def test_type_weights_default_and_override():
    df = frame(type=["clash", "seizure", "crossing", "Arrest"])
    assert_allclose(incident_weights(df), [1.5, 1.0, 0.5, 0.75])
    assert_allclose(incident_weights(df, type_weights={"clash": 4}), [4.0, 1.0, 0.5, 0.75])


def test_magnitude_is_log_damped_larger_of_the_two_and_capped():
    df = frame(
        quantity=[None, 9_999, None, 9_999, None, 11_000_000],
        fatalities=[None, None, 9, 9, 10**6, None],
    )
    expected = [
        1.0,  # nothing given
        1 + 0.25 * 4,  # log10(10 000) = 4
        1 + 1.0 * 1,  # log10(10) = 1
        2.0,  # both 2: the larger, not the product
        settings.MAX_MAGNITUDE_FACTOR,  # 1 + 6 capped at 3
        1 + 0.25 * math.log10(11_000_001),
    ]
    assert_allclose(magnitude_factors(df), expected)
    assert_allclose(incident_weights(df, magnitude=False), np.ones(6))


def test_recency_halves_every_half_life_from_the_latest_date():
    df = frame(date=pd.to_datetime(["2025-03-31", "2025-03-01", "2025-01-30"]))
    assert_allclose(recency_factors(df, half_life_days=30), [1.0, 0.5, 0.25])
    # an explicit reference date; incidents after it count fully
    assert_allclose(
        recency_factors(df, half_life_days=30, reference_date="2025-03-01"), [1.0, 1.0, 0.5]
    )
    assert_allclose(incident_weights(df, half_life_days=30), [1.0, 0.5, 0.25])
    assert_allclose(incident_weights(df), [1.0, 1.0, 1.0])  # no decay unless asked


def test_errors_name_the_feature_field_value_and_fix():
    with pytest.raises(ValidationError, match=r"feature 1 \(id 'i1'\): type='looting'.*fix"):
        incident_weights(frame(type=["clash", "looting"]))
    with pytest.raises(ValidationError, match=r"feature 0 .*quantity='-5.0'.*zero or more"):
        incident_weights(frame(quantity=[-5.0]))
    with pytest.raises(ValidationError, match=r"feature 0 \(id 'i0'\): date=.*half-life"):
        incident_weights(frame(date=[pd.NaT]), half_life_days=10)
    with pytest.raises(ConfigurationError, match="half_life_days=0"):
        incident_weights(frame(date=pd.to_datetime(["2025-01-01"])), half_life_days=0)
    with pytest.raises(ConfigurationError, match="type weight of 'clash' is -1"):
        incident_weights(frame(type=["clash"]), type_weights={"clash": -1})


def test_empty_incidents_weigh_nothing():
    assert incident_weights(frame(type=[])).shape == (0,)


@hsettings(max_examples=40)
@given(
    types=st.lists(st.sampled_from(settings.INCIDENT_TYPES), min_size=1, max_size=20),
    data=st.data(),
)
def test_weights_stay_within_their_bounds(types, data):
    n = len(types)
    quantity = data.draw(st.lists(st.none() | st.floats(0, 1e12), min_size=n, max_size=n))
    fatalities = data.draw(st.lists(st.none() | st.integers(0, 10**5), min_size=n, max_size=n))
    ages = data.draw(st.lists(st.integers(0, 3650), min_size=n, max_size=n))
    df = pd.DataFrame(
        {
            "type": types,
            "quantity": pd.array(quantity, dtype="Float64"),
            "fatalities": pd.array(fatalities, dtype="Int64"),
            "date": pd.Timestamp("2025-12-31") - pd.to_timedelta(ages, unit="D"),
        }
    )
    w = incident_weights(df, half_life_days=90, reference_date="2025-12-31")
    type_w = np.array([settings.TYPE_WEIGHTS[t] for t in types])
    decay = 0.5 ** (np.array(ages) / 90)
    assert np.all(w >= type_w * decay * (1 - 1e-12))
    assert np.all(w <= type_w * decay * settings.MAX_MAGNITUDE_FACTOR * (1 + 1e-12))
