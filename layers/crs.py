"""The project's one metric coordinate reference system.

Every distance and area in the project is measured in :data:`METRIC_CRS`, a
transverse Mercator projection on the WGS 84 ellipsoid centred on the
Lebanon–Syria border (central meridian 36.2°E, latitude of origin 34.0°N,
scale factor 1, false easting 500 km).

Why not UTM? The border lies between 35.6°E and 36.7°E. UTM zone 37N is
centred on 39°E, about 250 km east of the border, where its scale error
reaches about +370 ppm (37 cm per km); zone 36N (33°E) is worse. A transverse
Mercator centred on the border keeps the point scale factor at about
1 + x²/(2R²), where x is the distance from 36.2°E: under 3e-5 (3 cm per km)
along the border itself (35.8–36.7°E) and under 1.2e-4 (12 cm per km)
anywhere in the monitored region (the border ±50 km, 35.2–37.2°E). Areas are
distorted by at most twice that. ``tests/test_crs.py`` checks these bounds
with :meth:`pyproj.Proj.get_factors`.
"""

from __future__ import annotations

from pyproj import CRS
from pyproj.crs import ProjectedCRS
from pyproj.crs.coordinate_operation import TransverseMercatorConversion

#: PROJ definition of the metric CRS (metres, WGS 84 datum).
METRIC_PROJ = (
    "+proj=tmerc +lat_0=34 +lon_0=36.2 +k=1 +x_0=500000 +y_0=0 "
    "+ellps=WGS84 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs +type=crs"
)
#: Name of the metric CRS in its WKT: GeoTIFF and GeoPackage files written in it
#: carry this name, so gdalinfo, ogrinfo and QGIS show it instead of "unknown".
METRIC_CRS_NAME = "WGS 84 / Lebanon-Syria border TM 36.2E"

#: The project's metric CRS, used for every measurement: :data:`METRIC_PROJ` as a
#: named projected CRS on EPSG:4326 (the same coordinates to the last bit).
METRIC_CRS: CRS = ProjectedCRS(
    conversion=TransverseMercatorConversion(
        latitude_natural_origin=34.0,
        longitude_natural_origin=36.2,
        false_easting=500_000.0,
        false_northing=0.0,
        scale_factor_natural_origin=1.0,
    ),
    geodetic_crs=CRS.from_epsg(4326),
    name=METRIC_CRS_NAME,
)

#: Geographic CRS of every stored layer and of every input.
GEOGRAPHIC_CRS: CRS = CRS.from_epsg(4326)

#: Bound on the point scale error over the monitored region (dimensionless).
MAX_SCALE_ERROR = 1.2e-4
