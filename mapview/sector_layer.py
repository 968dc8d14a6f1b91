"""The ranked sectors layer: sectors coloured by priority class, dashed when unstable."""

from __future__ import annotations

import json
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


#: The look every sector shares; :func:`sector_styles` adds its class's fill and outline.
SECTOR_BASE_STYLE = {"color": "#67000d", "fillOpacity": 0.45}
#: Registers each drawn sector by id in the map's page (``window.bordermonSectors``), so
#: :func:`sector_restyle_script` can recolour it in place.
_REGISTER_SECTOR = (
    "function (feature, layer) {"
    " var s = window.bordermonSectors = window.bordermonSectors || {};"
    " s[String(feature.properties.sector_id)] = layer; }"
)


def sector_styles(
    sectors: gpd.GeoDataFrame, *, top_k: int = settings.TOP_K
) -> tuple[list[int], list[dict[str, object]]]:
    """Return each sector's class index and the distinct class styles (fill, dash, weight).

    The fill is the rank's priority class; an unstable rank is drawn dashed and thicker.
    """
    return _classify(
        [
            {
                "fillColor": priority_class(int(r), top_k=top_k)[0],
                "dashArray": "4 3" if bool(u) else None,
                "weight": 2.5 if bool(u) else 1,
            }
            for r, u in zip(
                sectors["rank"],
                sectors.get("unstable", pd.Series(False, index=sectors.index)),
                strict=True,
            )
        ]
    )


def sector_restyle_script(sectors: gpd.GeoDataFrame, *, top_k: int = settings.TOP_K) -> str:
    """Return the JavaScript that gives the drawn sectors these ranks, scores and colours.

    For a map whose sectors were drawn by :func:`build_map` (each registered by id), with
    the same sectors ranked under other weights: the app sends this instead of a new map,
    so a weight change recolours the sectors in place. Only numbers and the palette's
    colours are written (as JSON); nothing of the user's reaches it.
    """
    index, classes = sector_styles(sectors, top_k=top_k)
    styles = [SECTOR_BASE_STYLE | c for c in classes]
    data = {
        str(int(sid)): [int(rank), round(float(score), 3), k]
        for sid, rank, score, k in zip(
            sectors["sector_id"], sectors["rank"], sectors["score"], index, strict=True
        )
    }
    payload = json.dumps({"styles": styles, "sectors": data}, sort_keys=True)
    return (
        "(function (d) {"
        " var drawn = window.bordermonSectors || {};"
        " Object.keys(d.sectors).forEach(function (id) {"
        "  var layer = drawn[id]; if (!layer) { return; }"
        "  var v = d.sectors[id];"
        "  layer.feature.properties.rank = v[0]; layer.feature.properties.score = v[1];"
        "  layer.setStyle(d.styles[v[2]]); });"
        f"}})({payload});\n"
    )


def _add_sectors(
    sectors: gpd.GeoDataFrame,
    *,
    top_k: int,
    group: Callable[..., folium.FeatureGroup],
    legend: list[str],
) -> None:
    """Draw the ranked sectors by priority class and add the classes to the legend.

    Each drawn sector registers itself by id in the page, for
    :func:`sector_restyle_script`.

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
    shown["_class"], classes = sector_styles(shown, top_k=top_k)
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
        style=SECTOR_BASE_STYLE,
        classes=classes,
        tooltip={
            "rank": "Rank",
            "sector_id": "Sector",
            "chainage": "Chainage",
            "score": "Score",
        },
        name="sectors",
        on_each_feature=_REGISTER_SECTOR,
    )
    legend.append("<b>Sector priority</b>")
    seen: list[tuple[str, str]] = []
    for rank in sorted(shown["rank"].astype(int)):
        entry = priority_class(rank, top_k=top_k)
        if entry not in seen:
            seen.append(entry)
    legend += [_swatch(c, label) for c, label in seen]
    legend.append("<div>dashed outline: rank unstable under the weights</div>")
