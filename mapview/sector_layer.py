"""The ranked sectors layer: sectors coloured by priority class, dashed when unstable."""

from __future__ import annotations

from collections.abc import Callable

import folium
import geopandas as gpd
import pandas as pd

from geo import settings
from mapview.controls import _swatch
from mapview.features import _add_geojson, _classify, prepare_layer

#: Priority classes by rank: (upper rank as a multiple of top-k, colour, label template).
PRIORITY_CLASSES = (
    (1, "#a50f15", "rank 1–{k}"),
    (2, "#ef3b2c", "rank {lo}–{hi}"),
    (4, "#fc9272", "rank {lo}–{hi}"),
    (None, "#fee0d2", "rank {lo} and below"),
)


def priority_class(rank: int, *, top_k: int = settings.TOP_K) -> tuple[str, str]:
    """Return the (colour, label) of a sector's rank class.

    Parameters
    ----------
    rank
        1 is the highest priority.
    top_k
        Size of the first class.
    """
    lo = 1
    for multiple, colour, label in PRIORITY_CLASSES:
        if multiple is None or rank <= multiple * top_k:
            hi = multiple * top_k if multiple else None
            return colour, label.format(k=top_k, lo=lo, hi=hi)
        lo = multiple * top_k + 1
    raise AssertionError("unreachable")  # pragma: no cover


def _add_sectors(
    sectors: gpd.GeoDataFrame,
    *,
    top_k: int,
    group: Callable[..., folium.FeatureGroup],
    legend: list[str],
) -> None:
    """Draw the ranked sectors by priority class and add the classes to the legend.

    Parameters
    ----------
    sectors
        Ranked sectors (``sector_id, rank, score, chainage_start_km,
        chainage_end_km, unstable``).
    top_k
        Size of the first priority class.
    group
        Makes the layer's feature group: ``group(name, *, show=True)`` (from :func:`build_map`).
    legend
        Rows of the map's legend (escaped HTML), appended to.
    """
    shown = sectors.copy()
    shown["_class"], classes = _classify(
        [
            {
                "fillColor": priority_class(int(r), top_k=top_k)[0],
                "dashArray": "4 3" if bool(u) else None,
                "weight": 2.5 if bool(u) else 1,
            }
            for r, u in zip(
                shown["rank"],
                shown.get("unstable", pd.Series(False, index=shown.index)),
                strict=True,
            )
        ]
    )
    shown["chainage"] = [
        f"{a:.1f}–{b:.1f} km"
        for a, b in zip(shown["chainage_start_km"], shown["chainage_end_km"], strict=True)
    ]
    shown["score"] = shown["score"].astype(float).round(3)
    g = group("Priority sectors")
    _add_geojson(
        g,
        prepare_layer(
            shown, columns=["rank", "sector_id", "chainage", "score", "_class"], simplify_m=20.0
        ),
        style={"color": "#67000d", "fillOpacity": 0.45},
        classes=classes,
        tooltip={
            "rank": "Rank",
            "sector_id": "Sector",
            "chainage": "Chainage",
            "score": "Score",
        },
        name="sectors",
    )
    legend.append("<b>Sector priority</b>")
    seen: list[tuple[str, str]] = []
    for rank in sorted(shown["rank"].astype(int)):
        entry = priority_class(rank, top_k=top_k)
        if entry not in seen:
            seen.append(entry)
    legend += [_swatch(c, label) for c, label in seen]
    legend.append("<div>dashed outline: rank unstable under the weights</div>")
