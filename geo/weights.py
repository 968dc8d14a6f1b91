"""How much each incident counts: type × damped magnitude × recency.

An incident's weight is the product of three dimensionless factors:

type
    :data:`~geo.settings.TYPE_WEIGHTS` (a clash or shelling 1.5, a seizure 1,
    a crossing 0.5, ...); a caller's ``type_weights`` override single entries.
magnitude
    ``1 + FATALITY_WEIGHT_PER_DECADE · log10(1 + fatalities)`` or
    ``1 + QUANTITY_WEIGHT_PER_DECADE · log10(1 + quantity)``, whichever is the
    larger, capped at :data:`~geo.settings.MAX_MAGNITUDE_FACTOR`; 1 when neither
    is given. The logarithm damps: a seizure of 11 million pills does not
    outweigh a hundred ordinary incidents. Taking the larger rather than the
    product avoids counting the same event twice.
recency
    ``0.5 ** (age_days / half_life_days)`` when a half-life is given, with the
    age counted back from ``reference_date`` (default: the latest incident's
    date, so a result does not change with the day it is computed). Incidents
    dated after the reference date count fully (age 0).

The density surface, the hot spots and the sector ranking all use this one
function.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from geo import settings
from geo.errors import ConfigurationError, FeatureProblem, ValidationError

logger = logging.getLogger(__name__)

__all__ = [
    "incident_weights",
    "location_precisions",
    "magnitude_factors",
    "recency_factors",
    "type_factors",
]


def _ids(incidents: pd.DataFrame) -> list[str | None]:
    if "id" in incidents.columns:
        return [None if pd.isna(v) else str(v) for v in incidents["id"]]
    return [None] * len(incidents)


def location_precisions(incidents: pd.DataFrame) -> np.ndarray | None:
    """Return each incident's location precision in metres, or ``None`` without the column.

    A missing, negative or non-numeric precision counts as
    :data:`~geo.settings.DEFAULT_LOCATION_PRECISION_M` (ingest fills it in; this
    guards frames built elsewhere).

    Parameters
    ----------
    incidents
        Incidents, optionally with a ``location_precision_m`` column.
    """
    if "location_precision_m" not in getattr(incidents, "columns", ()):
        return None
    precision = np.array(
        pd.to_numeric(incidents["location_precision_m"], errors="coerce"), dtype=float
    )
    precision[~np.isfinite(precision) | (precision < 0)] = settings.DEFAULT_LOCATION_PRECISION_M
    return precision


def type_factors(
    incidents: pd.DataFrame, *, type_weights: Mapping[str, float] | None = None
) -> np.ndarray:
    """Return the type factor of each incident.

    Parameters
    ----------
    incidents
        Incidents with a ``type`` column.
    type_weights
        Weights overriding :data:`~geo.settings.TYPE_WEIGHTS` for the types they name.

    Raises
    ------
    ConfigurationError
        If an override is negative or not finite.
    ValidationError
        If an incident's type has no weight.
    """
    table = dict(settings.TYPE_WEIGHTS)
    for name, value in (type_weights or {}).items():
        value = float(value)
        if not (math.isfinite(value) and value >= 0):
            raise ConfigurationError(
                f"type weight of {name!r} is {value!r}; give zero or a positive number"
            )
        table[str(name)] = value
    # Map each distinct type once (a handful) and spread by the factorize codes,
    # instead of lower-casing and looking up a million strings.
    codes, distinct = pd.factorize(incidents["type"], use_na_sentinel=True)
    distinct_types = pd.Series(distinct, dtype=object).astype("string").str.lower()
    lookup = np.append(distinct_types.map(table).astype(float).to_numpy(), np.nan)
    factors = lookup[codes]  # code -1 (a missing type) takes the final NaN
    bad = np.flatnonzero(np.isnan(factors))
    if bad.size:
        types = incidents["type"].astype("string").str.lower()
        ids = _ids(incidents)
        raise ValidationError(
            [
                FeatureProblem(
                    index=int(i),
                    feature_id=ids[i],
                    field="type",
                    value=str(types.iloc[i]),
                    reason=f"no weight for this type; known: {', '.join(sorted(table))}",
                    fix="correct the type or give its weight in type_weights",
                )
                for i in bad
            ],
            summary="incidents of a type without a weight",
        )
    return factors


def _nonnegative(incidents: pd.DataFrame, column: str, problems: list[FeatureProblem]):
    if column not in incidents.columns:
        return np.zeros(len(incidents))
    values = pd.to_numeric(incidents[column], errors="coerce").astype(float).to_numpy()
    given = incidents[column].notna().to_numpy()
    bad = np.flatnonzero(given & ~(np.isfinite(values) & (values >= 0)))
    ids = _ids(incidents) if bad.size else []  # a million ids only when one is named
    problems.extend(
        FeatureProblem(
            index=int(i),
            feature_id=ids[i],
            field=column,
            value=str(incidents[column].iloc[i]),
            reason="must be a finite number, zero or more",
            fix=f"correct {column} or leave it empty",
        )
        for i in bad
    )
    return np.where(given & np.isfinite(values) & (values >= 0), values, 0.0)


def magnitude_factors(incidents: pd.DataFrame) -> np.ndarray:
    """Return each incident's damped magnitude factor (1 when no magnitude is given).

    Parameters
    ----------
    incidents
        Incidents, optionally with ``quantity`` and ``fatalities`` columns.

    Raises
    ------
    ValidationError
        If a quantity or a fatality count is negative or not a number.
    """
    if "quantity" not in incidents.columns and "fatalities" not in incidents.columns:
        return np.ones(len(incidents))  # 1 + c · log10(1 + 0), without the arithmetic
    problems: list[FeatureProblem] = []
    quantity = _nonnegative(incidents, "quantity", problems)
    fatalities = _nonnegative(incidents, "fatalities", problems)
    if problems:
        raise ValidationError(problems, summary="incidents with an unusable magnitude")
    by_quantity = 1.0 + settings.QUANTITY_WEIGHT_PER_DECADE * np.log10(1.0 + quantity)
    by_fatalities = 1.0 + settings.FATALITY_WEIGHT_PER_DECADE * np.log10(1.0 + fatalities)
    return np.minimum(np.maximum(by_quantity, by_fatalities), settings.MAX_MAGNITUDE_FACTOR)


def recency_factors(
    incidents: pd.DataFrame,
    *,
    half_life_days: float,
    reference_date: dt.date | str | pd.Timestamp | None = None,
) -> np.ndarray:
    """Return ``0.5 ** (age_days / half_life_days)`` for each incident.

    Parameters
    ----------
    incidents
        Incidents with a ``date`` column.
    half_life_days
        Age in days at which an incident counts half.
    reference_date
        Day from which ages are counted; default the latest incident's date.

    Raises
    ------
    ConfigurationError
        If the half-life is not a positive number.
    ValidationError
        If an incident has no date.
    """
    if not (isinstance(half_life_days, int | float) and math.isfinite(half_life_days)):
        raise ConfigurationError(
            f"half_life_days={half_life_days!r} must be a positive number of days"
        )
    if half_life_days <= 0:
        raise ConfigurationError(
            f"half_life_days={half_life_days!r} must be a positive number of days"
        )
    dates = pd.to_datetime(incidents["date"], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        ids = _ids(incidents)
        raise ValidationError(
            [
                FeatureProblem(
                    index=int(i),
                    feature_id=ids[i],
                    field="date",
                    value=str(incidents["date"].iloc[i]),
                    reason="a recency half-life needs every incident's date",
                    fix="give the date as YYYY-MM-DD, or drop the half-life",
                )
                for i in bad
            ],
            summary="incidents without a date",
        )
    if len(dates) == 0:
        return np.ones(0)
    reference = dates.max() if reference_date is None else pd.Timestamp(reference_date)
    age_days = ((reference - dates).dt.total_seconds() / 86_400.0).to_numpy()
    return 0.5 ** (np.clip(age_days, 0.0, None) / float(half_life_days))


def incident_weights(
    incidents: pd.DataFrame,
    *,
    type_weights: Mapping[str, float] | None = None,
    half_life_days: float | None = None,
    reference_date: dt.date | str | pd.Timestamp | None = None,
    magnitude: bool = True,
) -> np.ndarray:
    """Return the weight of each incident: type × damped magnitude × recency.

    Parameters
    ----------
    incidents
        Incidents with at least a ``type`` column (``date`` when a half-life is
        given; ``quantity`` and ``fatalities`` are used when present).
    type_weights
        Weights overriding :data:`~geo.settings.TYPE_WEIGHTS` for the types they name.
    half_life_days
        Recency half-life in days; ``None`` (default) for no decay.
    reference_date
        Day from which ages are counted; default the latest incident's date.
    magnitude
        Whether quantity and fatalities raise the weight (default ``True``).

    Returns
    -------
    numpy.ndarray
        One non-negative float per incident, in the incidents' order.
    """
    if len(incidents) == 0:
        return np.zeros(0)
    weights = type_factors(incidents, type_weights=type_weights)
    if magnitude:
        weights = weights * magnitude_factors(incidents)
    if half_life_days is not None:
        weights = weights * recency_factors(
            incidents, half_life_days=half_life_days, reference_date=reference_date
        )
    return weights
