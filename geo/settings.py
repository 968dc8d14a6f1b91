"""Every default of the border monitor, documented in one place.

The command line, the app and the report take their defaults from here; each
may be overridden by the caller. Units are in the names (``_M`` metres,
``_KM`` kilometres, ``_DAYS`` days).
"""

from __future__ import annotations

import os
from pathlib import Path

from layers.crs import GEOGRAPHIC_CRS, METRIC_CRS
from layers.paths import DATA_DIR, PROJECT_ROOT, SAMPLE_INCIDENTS_PATH

__all__ = ["DATA_DIR", "GEOGRAPHIC_CRS", "METRIC_CRS", "PROJECT_ROOT", "SAMPLE_INCIDENTS_PATH"]

# --- Paths ------------------------------------------------------------------
# PROJECT_ROOT, DATA_DIR and SAMPLE_INCIDENTS_PATH are defined once, in layers.paths.
#: Environment variable naming the incident store (a GeoPackage file).
STORE_ENV_VAR = "BORDERMON_STORE"
#: Default incident store: outside the committed ``data/``, git-ignored.
DEFAULT_STORE_PATH = PROJECT_ROOT / "store" / "incidents.gpkg"


def resolve_store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the store path: ``path``, else ``$BORDERMON_STORE``, else the default.

    Parameters
    ----------
    path
        An explicit path (the ``--store`` option), or ``None``.
    """
    if path:
        return Path(path)
    env = os.environ.get(STORE_ENV_VAR)
    return Path(env) if env else DEFAULT_STORE_PATH


# --- Incidents --------------------------------------------------------------
#: The incident types, in the order shown to analysts.
INCIDENT_TYPES = (
    "seizure",
    "clash",
    "smuggling",
    "shelling",
    "strike",
    "arrest",
    "crossing",
    "other",
)
#: Location precision (metres) assumed when a feature gives none.
DEFAULT_LOCATION_PRECISION_M = 5_000.0
#: Date precision (days) assumed when a feature gives none.
DEFAULT_DATE_PRECISION_DAYS = 1
#: Largest upload accepted, in bytes (50 MB).
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Largest number of features in one upload.
MAX_FEATURES = 500_000
#: Deepest JSON nesting accepted in an upload.
MAX_JSON_DEPTH = 32
#: Incidents farther than this from the border are outside the monitored region.
REGION_DISTANCE_M = 50_000.0
#: What to do with an incident outside the region: ``"warn"`` or ``"reject"``.
OUTSIDE_REGION_POLICY = "reject"
#: Likely duplicates: same type within this distance ...
DUPLICATE_DISTANCE_M = 1_000.0
#: ... and within this many days.
DUPLICATE_DAYS = 1

# --- Density ----------------------------------------------------------------
#: Grid cell size of the density surface (metres).
DENSITY_CELL_M = 250.0
#: Kernel of the density surface: ``"gaussian"`` or ``"quartic"``.
DENSITY_KERNEL = "gaussian"
#: Margin around the border corridor covered by the density grid (metres).
REGION_MARGIN_M = 60_000.0
#: Density units: incidents (weighted) per square kilometre.
DENSITY_UNITS = "weighted incidents per km²"
#: Weight of one incident by type (dimensionless; 1 is an ordinary incident).
TYPE_WEIGHTS = {
    "seizure": 1.0,
    "clash": 1.5,
    "smuggling": 1.0,
    "shelling": 1.5,
    "strike": 1.5,
    "arrest": 0.75,
    "crossing": 0.5,
    "other": 0.5,
}
#: Recency half-life in days; ``None`` means no decay.
HALF_LIFE_DAYS: float | None = None
#: Magnitude damping (``geo/weights.py``): an incident's weight is multiplied by
#: ``1 + FATALITY_WEIGHT_PER_DECADE * log10(1 + fatalities)`` or by
#: ``1 + QUANTITY_WEIGHT_PER_DECADE * log10(1 + quantity)``, whichever is larger,
#: capped at ``MAX_MAGNITUDE_FACTOR``. Quantities come in mixed units (pills, kg,
#: litres, vehicles), hence the gentle slope: 11 million pills weigh 2.76, 1 t 1.75.
FATALITY_WEIGHT_PER_DECADE = 1.0
QUANTITY_WEIGHT_PER_DECADE = 0.25
MAX_MAGNITUDE_FACTOR = 3.0
#: Default bandwidth rule (``geo/density.py``): Silverman/Scott for two
#: dimensions, ``h = sigma * n_eff ** (-1/6)``, with ``sigma`` the robust spread
#: of the projected incidents and ``n_eff`` the effective (Kish) sample size,
#: then clamped to these bounds (metres). Below 1 km a peak claims more than
#: the positions support; above 10 km (two sectors) the surface stops telling
#: one stretch of the 360 km border from the next.
DENSITY_BANDWIDTH_MIN_M = 1_000.0
DENSITY_BANDWIDTH_MAX_M = 10_000.0

# --- Hot spots --------------------------------------------------------------
#: Hexagon size for Getis-Ord Gi* (distance between opposite edges, km).
HOTSPOT_CELL_KM = 3.0
#: Fewest incidents for which Gi* significance is reported (ArcGIS uses 30).
HOTSPOT_MIN_INCIDENTS = 30
#: Benjamini–Hochberg false-discovery-rate levels of the bins 1, 2 and 3
#: (90, 95 and 99 % confidence; hot positive, cold negative).
HOTSPOT_BIN_ALPHAS = (0.10, 0.05, 0.01)
#: False-discovery-rate level of the weakest bin: a cell is a hot (cold) spot
#: when its FDR-adjusted p-value is at most this.
HOTSPOT_FDR_ALPHA = HOTSPOT_BIN_ALPHAS[0]
#: Distance band of the Gi* weights, in hexagon sizes (centre to centre):
#: 2.0 takes the cell itself and its two rings of neighbours (19 cells).
HOTSPOT_BAND_CELLS = 2.0
#: Value analysed by Gi*: ``"weight"`` (type × magnitude × recency, spread over
#: each incident's location precision) or ``"count"`` (incidents per cell).
HOTSPOT_VALUE = "weight"

# --- Map (app and HTML export) ---------------------------------------------
#: Background tiles: ``None`` (default) draws no tiles, so nothing leaves the machine. On a
#: network with its own tile server, an XYZ template such as
#: ``"http://tiles.example.internal/{z}/{x}/{y}.png"``; also read from ``$BORDERMON_TILE_URL``.
MAP_TILE_URL: str | None = None
#: Environment variable that sets :data:`MAP_TILE_URL`.
TILE_URL_ENV_VAR = "BORDERMON_TILE_URL"
#: Attribution shown with those tiles.
MAP_TILE_ATTRIBUTION = "© OpenStreetMap contributors"
#: Incidents are clustered when there are more than this many on the map.
MAP_CLUSTER_MIN_INCIDENTS = 50
#: Above this many incidents, they are aggregated into hexagons instead of sent one by one.
MAP_MAX_INCIDENT_MARKERS = 2_000
#: Size of the aggregation hexagons (distance between opposite edges, km).
MAP_HEX_KM = 5.0
#: Reference layers are simplified for display with this tolerance (metres, metric CRS).
MAP_SIMPLIFY_M = 50.0
#: Decimals of the coordinates sent to the browser (5 decimals: about 1 m).
MAP_COORDINATE_DECIMALS = 5
#: Largest side of the density image sent to the browser (pixels).
MAP_DENSITY_MAX_PIXELS = 800
#: Height of the map in the app (pixels).
MAP_HEIGHT_PX = 620


def resolve_tile_url() -> str | None:
    """Return the tile URL: ``$BORDERMON_TILE_URL`` if set, else :data:`MAP_TILE_URL`."""
    return os.environ.get(TILE_URL_ENV_VAR) or MAP_TILE_URL


# --- Sectors and priority ---------------------------------------------------
#: Sector length along the border (km).
SECTOR_KM = 5.0
#: Corridor half-width on each side of the border (km).
CORRIDOR_KM = 5.0
#: Number of sectors whose top-k membership is estimated.
TOP_K = 5
#: Monte Carlo draws of the weights for the sensitivity analysis.
SENSITIVITY_DRAWS = 1_000
#: Dirichlet concentration: larger values keep the draws closer to the weights.
SENSITIVITY_CONCENTRATION = 50.0
#: Fewest incidents in the corridor for a ranking to be presented as evidence.
MIN_INCIDENTS_FOR_RANKING = 10
#: Trend windows: recent window and the baseline window before it (days).
TREND_RECENT_DAYS = 90
TREND_BASELINE_DAYS = 365
#: Spacing (metres) of the points of the densified border line used to locate
#: incidents along it (nearest point, then exact projection on the two
#: neighbouring segments) and to draw the sector zones.
SECTOR_DENSIFY_M = 50.0
#: People counted for a town of unknown population in the exposure criterion: the
#: GeoNames cities500 inclusion threshold (every listed place has at least 500).
EXPOSURE_UNKNOWN_TOWN_POPULATION = 500.0
#: Normalisation of the criteria before weighting: ``"minmax"`` or ``"rank"``.
PRIORITY_NORMALISATION = "minmax"
#: Seed of the Monte Carlo draws, so that a ranking can be reproduced.
SENSITIVITY_SEED = 20251123
#: Lower and upper quantiles (per cent) of the rank interval.
RANK_INTERVAL_PERCENT = (5.0, 95.0)
#: A sector is unstable if its top-k probability lies strictly between these ...
UNSTABLE_P_TOP_K = (0.05, 0.95)
#: ... or if its rank interval spans more than this many ranks.
UNSTABLE_RANK_SPAN = 5
#: Multipliers of one weight in the one-at-a-time sweep (the others keep their
#: proportions; all are renormalised to sum to 1).
SENSITIVITY_OAT_FACTORS = (0.0, 0.5, 2.0, 4.0)
#: Gi* bins counted as hot in the hot-spot share (2: hot at 95 %, 3: at 99 %).
HOTSPOT_SHARE_MIN_BIN = 2
#: The priority criteria, in the order every table, option and export lists them
#: (the one list of their names; ``geo.criteria.CRITERIA`` defines each).
CRITERION_NAMES: tuple[str, ...] = (
    "incident_density",
    "hotspot_share",
    "trend",
    "crossings",
    "exposure",
    "line_uncertainty",
    "terrain",
)
#: Default weight of each priority criterion (normalised to sum to 1 before use;
#: the rules are :func:`geo.priority.resolve_weights`). Units: ``geo/criteria.py``.
PRIORITY_WEIGHTS = dict(
    zip(CRITERION_NAMES, (0.25, 0.10, 0.10, 0.10, 0.10, 0.25, 0.10), strict=True)
)

# --- Report and exports -----------------------------------------------------
#: Sectors listed in the report's ranked table.
REPORT_TOP_N = 15
#: An incident located more coarsely than this (metres) is counted as "coarse"
#: in the report: half the default sector length, so it may belong to the
#: neighbouring sector.
COARSE_LOCATION_M = 2_500.0
#: Formats written by ``python -m geo report`` (``--format``), in this order.
REPORT_FORMATS = ("pdf", "gpkg", "geojson", "csv", "tif", "html")
