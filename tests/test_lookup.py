"""What validation asks of stored incidents: the frame adapter and the box around points."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from geo import schema
from geo.errors import ConfigurationError
from geo.lookup import FrameIncidents, StoredIncidents, as_stored_incidents, select_near
from geo.validation import to_metric

HERMEL = (36.38472, 34.39417)


def incidents(points, dates=None):
    n = len(points)
    frame = pd.DataFrame(
        {
            "id": [f"I{i}" for i in range(n)],
            "date": dates if dates is not None else ["2025-01-01"] * n,
            "type": ["clash"] * n,
        }
    )
    return schema.conform_incidents(frame, shapely.points(points) if n else [])


coordinate = st.tuples(st.floats(35.0, 37.5), st.floats(32.5, 35.0))


@hsettings(max_examples=60, deadline=None)
@given(
    stored=st.lists(coordinate, min_size=1, max_size=40),
    asked=st.lists(coordinate, min_size=1, max_size=5),
    distance_m=st.floats(1.0, 50_000.0),
)
def test_the_box_keeps_every_incident_within_the_distance(stored, asked, distance_m):
    frame = incidents(stored)
    lon, lat = np.array(asked).T
    kept = set(select_near(frame, lon, lat, distance_m=distance_m)["id"])
    sx, sy = to_metric(*np.array(stored).T)
    ax, ay = to_metric(lon, lat)
    within = np.hypot(sx[:, None] - ax[None, :], sy[:, None] - ay[None, :]).min(axis=1)
    must = {f"I{i}" for i in np.flatnonzero(within <= distance_m)}
    assert must <= kept


def test_the_box_leaves_out_far_incidents_and_other_dates_and_keeps_the_order():
    near = (HERMEL[0] + 0.001, HERMEL[1])
    far = (HERMEL[0] + 1.0, HERMEL[1])
    frame = incidents(
        [near, far, HERMEL, near], ["2025-01-01", "2025-01-01", "2025-01-01", "2025-02-01"]
    )
    got = select_near(
        frame, [HERMEL[0]], [HERMEL[1]], distance_m=1000, since="2024-12-31", until="2025-01-02"
    )
    assert got["id"].tolist() == ["I0", "I2"]
    assert select_near(frame, [], [], distance_m=1000).empty


def test_a_frame_is_wrapped_and_answers_like_a_store():
    frame = incidents([HERMEL, HERMEL])
    wrapped = as_stored_incidents(frame)
    assert isinstance(wrapped, FrameIncidents) and isinstance(wrapped, StoredIncidents)
    assert wrapped.stored_ids(["I1", "X"]) == {"I1"}
    assert wrapped.find_sha256("ab" * 32) is None
    assert as_stored_incidents(None) is None
    assert as_stored_incidents(wrapped) is wrapped
    with pytest.raises(ConfigurationError, match="existing=list cannot be checked against"):
        as_stored_incidents([1, 2])
