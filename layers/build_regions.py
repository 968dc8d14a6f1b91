"""Builders of the polygon layers: ``countries`` (Lebanon, Syria) and ``regions``.

``regions`` holds the Lebanese border districts and governorates (geoBoundaries)
and the Syrian governorates along the border (Natural Earth admin-1).
"""

from __future__ import annotations

import logging

import geopandas as gpd
import shapely

from geo.errors import LayerError
from layers import sources
from layers.build_border import load_border_for_build
from layers.build_common import (
    NE_LICENCE,
    OSM_LICENCE,
    RETRIEVED,
    TZ_SOURCE,
    LayerBuild,
    _metric,
)

logger = logging.getLogger(__name__)

COUNTRY_NAMES = {"LBN": ("Lebanon", "لبنان"), "SYR": ("Syria", "سوريا")}


#: The Lebanese border districts (geoBoundaries names) and their governorates.
BORDER_DISTRICTS = {
    "Akkar": "Akkar",
    "Hermel": "Baalbek-Hermel",
    "Baalbek": "Baalbek-Hermel",
    "Zahle": "Bekaa",
    "West Bekaa": "Bekaa",
    "Rachaya": "Bekaa",
}
#: A region runs along the border where its edge is within this distance of the line (m).
REGION_BORDER_TOLERANCE_M = 1_000.0
#: Syrian governorates along the border (Natural Earth admin-1 names).
SYRIAN_GOVERNORATES = ("Homs", "Rif Dimashq", "Tartus")


def _land_polygons() -> dict[str, shapely.Geometry]:
    """Lebanon and Syria from the time-zone polygons, cut at the coast."""
    beirut, damascus = sources.timezone_polygons()
    sea = sources.load_sea_mask()
    return {
        "LBN": shapely.make_valid(beirut.difference(sea)),
        "SYR": shapely.make_valid(damascus.difference(sea)),
    }


def build_countries() -> LayerBuild:
    """Build ``countries``: Lebanon and Syria, land only, from the time-zone polygons."""
    land = _land_polygons()
    rows = []
    for iso3, geom in sorted(land.items()):
        name, name_ar = COUNTRY_NAMES[iso3]
        rows.append(
            {
                "iso3": iso3,
                "name": name,
                "name_ar": name_ar,
                "source": TZ_SOURCE,
                "licence": OSM_LICENCE,
                "geometry": geom,
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    gdf["area_km2"] = [round(a / 1e6, 1) for a in _metric(gdf).area]
    provenance = {
        "source": TZ_SOURCE,
        "package": "timezonefinder-data",
        "version": sources.package_version("timezonefinder-data"),
        "licence": OSM_LICENCE,
        "retrieved": RETRIEVED,
        "steps": [
            "read the Asia/Beirut and Asia/Damascus time-zone polygons",
            "remove the territorial sea (data/sources/osm2017_sea_mask.geojson) to keep land only",
            "no simplification (the shared edge is the border layer, vertex for vertex)",
        ],
        "precision": "as mapped in OpenStreetMap; the coast is the OSM 2017 coastline",
        "features": len(gdf),
        "areas_km2": dict(zip(gdf["iso3"], gdf["area_km2"], strict=True)),
    }
    return LayerBuild(
        "countries",
        gdf,
        ["iso3", "name", "name_ar", "source", "licence", "area_km2"],
        ["iso3"],
        provenance,
    )


def build_regions() -> LayerBuild:
    """Build ``regions``: Lebanese border districts and governorates, Syrian governorates."""
    districts = sources.geoboundaries_districts()
    districts = districts[districts["shapeName"].isin(list(BORDER_DISTRICTS))].copy()
    missing = sorted(set(BORDER_DISTRICTS) - set(districts["shapeName"]))
    if missing:
        raise LayerError(f"regions: districts {missing} not found in the geoBoundaries file")
    gb_source = "geoBoundaries LBN ADM2 (2021, boundary 6925839)"
    rows = [
        {
            "name": r.shapeName,
            "level": "district",
            "country": "LBN",
            "parent": BORDER_DISTRICTS[r.shapeName],
            "source": gb_source,
            "licence": "public domain (geoBoundaries metadata)",
            "geometry": shapely.make_valid(r.geometry),
        }
        for r in districts.itertuples()
    ]
    for governorate in sorted(set(BORDER_DISTRICTS.values())):
        members = [r for r in rows if r["parent"] == governorate and r["level"] == "district"]
        rows.append(
            {
                "name": governorate,
                "level": "governorate",
                "country": "LBN",
                "parent": "",
                "source": f"{gb_source}, districts dissolved: "
                + ", ".join(sorted(m["name"] for m in members)),
                "licence": "public domain (geoBoundaries metadata)",
                "geometry": shapely.union_all([m["geometry"] for m in members]),
            }
        )
    steps = [
        f"read {len(BORDER_DISTRICTS)} border districts from "
        "../shared/data/sources/geoboundaries_LBN_ADM2.geojson",
        "dissolve them into governorates: Akkar (Akkar), Baalbek-Hermel (Hermel + Baalbek), "
        "Bekaa (Zahle + West Bekaa + Rachaya)",
        "geometries kept as published (not clipped to the OSM border: their edge differs "
        "from it by up to a few hundred metres)",
    ]
    syr_missing = ""
    try:
        syrian = sources.natural_earth_admin1(("SYR",))
        syrian = syrian[syrian["name"].isin(SYRIAN_GOVERNORATES)]
        for r in syrian.itertuples():
            rows.append(
                {
                    "name": r.name,
                    "level": "governorate",
                    "country": "SYR",
                    "parent": "",
                    "source": f"Natural Earth 10m admin-1 ({r.origin})",
                    "licence": NE_LICENCE,
                    "geometry": shapely.make_valid(r.geometry),
                }
            )
        steps.append(
            "Syrian governorates Homs, Rif Dimashq, Tartus from Natural Earth admin-1 "
            "(layer states_provinces of QGIS's world_map.gpkg, Debian qgis-common)"
        )
    except LayerError as exc:
        syr_missing = f"Syrian governorates not built: {exc}"
        logger.warning("regions: %s", syr_missing)
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    metric = _metric(gdf)
    gdf["area_km2"] = [round(a / 1e6, 1) for a in metric.area]
    border_m = _metric(gpd.GeoDataFrame(geometry=[load_border_for_build()], crs=4326))
    line = border_m.geometry.iloc[0]
    gdf["border_length_km"] = [
        round(line.intersection(g.buffer(REGION_BORDER_TOLERANCE_M)).length / 1000.0, 1)
        for g in metric.geometry
    ]
    steps.append(
        "border_length_km: length of the border line within "
        f"{REGION_BORDER_TOLERANCE_M:.0f} m of the region (metric CRS); West Bekaa is 0: in "
        "geoBoundaries it stays about 1.1 km from the OSM line"
    )
    provenance = {
        "source": "; ".join(sorted(set(gdf["source"].str.split(",").str[0]))),
        "package": "../shared/data/sources (geoBoundaries); qgis-common (Natural Earth admin-1)",
        "version": "geoBoundaries 2021 LBN ADM2; Natural Earth admin-1 as shipped in "
        f"qgis-common {sources.debian_version('qgis-common')}",
        "licence": "public domain (geoBoundaries, Natural Earth)",
        "retrieved": RETRIEVED,
        "steps": steps,
        "precision": "district edges as published by geoBoundaries (generalised); Natural Earth "
        "admin-1 is coarse (kilometres)",
        "features": len(gdf),
        "missing": syr_missing,
    }
    return LayerBuild(
        "regions",
        gdf,
        ["name", "level", "country", "parent", "source", "licence", "area_km2", "border_length_km"],
        ["country", "level", "name"],
        provenance,
    )
