"""The incident schema: columns, dtypes, defaults and the ACLED tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geo import schema
from geo import settings as bm_settings


def test_columns_are_those_of_the_contract():
    assert schema.INCIDENT_COLUMNS == (
        "id",
        "date",
        "date_precision_days",
        "type",
        "description",
        "quantity",
        "unit",
        "commodity",
        "fatalities",
        "actor1",
        "actor2",
        "location_precision_m",
        "location_note",
        "source",
        "source_event_type",
        "source_sub_event_type",
    )
    assert schema.STORE_COLUMNS == ("batch_id", "ingested_at", "source_file", "source_sha256")
    assert set(schema.INCIDENT_DTYPES) == set(schema.INCIDENT_COLUMNS + schema.STORE_COLUMNS)


def test_empty_incidents_has_the_schema():
    empty = schema.empty_incidents()
    assert list(empty.columns) == [*schema.INCIDENT_COLUMNS, "geometry"]
    assert empty.crs.to_epsg() == 4326 and len(empty) == 0
    assert {c: str(t) for c, t in empty.dtypes.items() if c != "geometry"} == {
        c: schema.INCIDENT_DTYPES[c] for c in schema.INCIDENT_COLUMNS
    }
    full = schema.empty_incidents(with_store_columns=True)
    assert list(full.columns)[-5:-1] == list(schema.STORE_COLUMNS)


def test_conform_fills_documented_defaults_and_drops_extras():
    frame = pd.DataFrame({"id": ["a"], "date": ["2025-03-16"], "type": ["clash"], "x": [1]})
    out = schema.conform_incidents(frame, shapely.points([(36.38472, 34.39417)]))
    assert "x" not in out.columns
    assert out.loc[0, "date_precision_days"] == bm_settings.DEFAULT_DATE_PRECISION_DAYS == 1
    assert out.loc[0, "location_precision_m"] == bm_settings.DEFAULT_LOCATION_PRECISION_M == 5000
    assert out.loc[0, "date"] == pd.Timestamp("2025-03-16")
    assert pd.isna(out.loc[0, "description"]) and np.isnan(out.loc[0, "quantity"])


def test_acled_tables_map_onto_our_types_and_sensible_units():
    ours = set(bm_settings.INCIDENT_TYPES)
    assert set(schema.ACLED_SUB_EVENT_TYPES.values()) <= ours
    assert set(schema.ACLED_EVENT_TYPES.values()) <= ours
    precisions = [schema.ACLED_GEO_PRECISION_M[k] for k in (1, 2, 3)]
    assert precisions == sorted(precisions)  # a larger code is a coarser location
    days = [schema.ACLED_TIME_PRECISION_DAYS[k] for k in (1, 2, 3)]
    assert days == [1, 7, 31]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(min_size=1, max_size=8),
            st.dates(
                min_value=pd.Timestamp("1990-01-01").date(),
                max_value=pd.Timestamp("2030-01-01").date(),
            ),
            st.sampled_from(bm_settings.INCIDENT_TYPES),
            st.one_of(st.none(), st.floats(min_value=1, max_value=1e5)),
        ),
        max_size=6,
    )
)
def test_conform_is_idempotent(rows):
    frame = pd.DataFrame(rows, columns=["id", "date", "type", "location_precision_m"])
    points = shapely.points(np.tile([36.38472, 34.39417], (len(rows), 1)))
    once = schema.conform_incidents(frame, points)
    twice = schema.conform_incidents(once, once.geometry.to_numpy())
    pd.testing.assert_frame_equal(once, twice)
    assert len(once) == len(rows)
