"""One call from incidents to a ranked, explained and stress-tested list of sectors.

:func:`run_analysis` filters the incidents, cuts the border into sectors
(:mod:`geo.sectors`), measures the criteria (:mod:`geo.criteria`), scores
and ranks the sectors (:mod:`geo.priority`), perturbs the weights
(:mod:`geo.sensitivity`), and returns an :class:`AnalysisResult` that the
command line, the app and the report all use.

Minimum evidence
----------------
With fewer than :data:`geo.settings.MIN_INCIDENTS_FOR_RANKING` incidents in
the corridor, the incident-based criteria (density, hot-spot share, trend)
would rank noise: they are left out of the score (their weight set to 0, the
others renormalised), ``evidence_ok`` is ``False`` and ``message`` says so.
The ranking then rests only on the reference layers (line uncertainty,
crossings, exposure, terrain) and says it. If every remaining weight is 0 no
ranking is made at all (``rank`` is missing).

Likewise a criterion that could not be measured (no hot spots below
:data:`geo.settings.HOTSPOT_MIN_INCIDENTS` incidents, no DEM, no candidate
lines) gets weight 0 and a note naming it, rather than a silent zero
(:func:`geo.priority.resolve_weights` holds these rules).

Layout
------
The options are :class:`geo.parameters.AnalysisParameters`; the published
ranked table is :mod:`geo.ranking`'s; the reference layers are given by the
caller (``reference=``, a :class:`layers.reference.ReferenceLayers`), never
loaded here. May import the scientific stack and ``geo`` modules, never
``layers`` at run time, streamlit or folium.
"""

from __future__ import annotations

import collections
import functools
import logging
import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo import schema, settings
from geo.criteria import (
    CRITERIA,
    UNOFFICIAL_CROSSINGS_COUNTED_NOTE,
    UNOFFICIAL_CROSSINGS_NOTE,
    crossing_criteria,
    exposure_criteria,
    hotspot_share,
    incident_criteria,
    line_uncertainty,
    terrain_criteria,
    zone_areas,
)
from geo.errors import BorderMonitorError, ConfigurationError, InsufficientDataError
from geo.parameters import (
    CRITERIA_OPTIONS,
    RANKING_OPTIONS,
    SURFACE_OPTIONS,
    ZONE_OPTIONS,
    AnalysisParameters,
)
from geo.priority import (
    normalise_criteria,
    rank_scores,
    resolve_weights,
    score_sectors,
)
from geo.ranking import CRITERIA_COLUMNS, build_ranked_table, sector_records
from geo.sectors import border_reference, locate_incidents, make_sectors, sector_bounds_m
from geo.selection import filter_incidents, select_rows
from geo.sensitivity import SensitivityResult, analyse_sensitivity

if TYPE_CHECKING:
    from layers.reference import ReferenceLayers

logger = logging.getLogger(__name__)

__all__ = [
    "CRITERIA_COLUMNS",
    "CRITERIA_OPTIONS",
    "RANKING_OPTIONS",
    "STAGE_RUNS",
    "SURFACE_OPTIONS",
    "UNREAD_FIELDS",
    "ZONE_OPTIONS",
    "AnalysisParameters",
    "AnalysisResult",
    "IncidentSurface",
    "SectorCriteria",
    "SectorZones",
    "measure_sectors",
    "measure_surface",
    "measure_zones",
    "rank_sectors",
    "resolve_layers",
    "run_analysis",
    "sector_table",
    "with_every_field",
]

#: Incident fields no stage of the analysis reads: free text and provenance (every text
#: field of the schema but the seizures' unit and commodity, and the store's own). The app
#: analyses the incidents without them (a filter change then copies a third of the data)
#: and joins them back for the files and the report (:func:`with_every_field`).
UNREAD_FIELDS: tuple[str, ...] = (
    *(c for c in schema.TEXT_COLUMNS if c not in ("unit", "commodity")),
    *schema.STORE_COLUMNS,
)


@dataclass
class AnalysisResult:
    """The ranked sectors and everything needed to explain them.

    Attributes
    ----------
    sectors
        One row per sector (EPSG:4326, geometry the whole zone), ranked best
        first: ``sector_id, rank, score, chainage_start_km, chainage_end_km``,
        every column of :data:`CRITERIA_COLUMNS`, ``norm_<criterion>`` and
        ``contrib_<criterion>`` per scored criterion, ``p_top_k``,
        ``rank_low``, ``rank_high``, ``rank_median``, ``unstable``,
        ``oat_rank_min``, ``oat_rank_max``, ``nearest_town``,
        ``nearest_town_km``, ``nearest_crossing``, ``crossing_distance_km``.
    zones
        The zones of :func:`geo.sectors.make_sectors` (``all``, ``LB``, ``SY``).
    incidents
        The filtered incidents with ``chainage_km``, ``offset_m``, ``sector_id``.
    weights
        The weights used in the score (after the evidence guard and the
        removal of criteria that could not be measured), summing to 1.
    requested_weights
        The weights asked for, normalised.
    density
        The density surface, or ``None`` (see ``density_message``).
    hotspots
        The Gi* result, or ``None`` (see ``hotspots_message``).
    sensitivity
        Monte Carlo and one-at-a-time results, or ``None`` without a ranking.
    evidence_ok
        Whether enough incidents lie in the corridor for the incident criteria.
    message
        One paragraph on what the ranking rests on.
    notes
        Further caveats (criteria left out, unofficial crossings, ...).
    parameters
        The parameters of the analysis.
    ranked
        The ranked table (:func:`geo.ranking.build_ranked_table`): the published
        columns, names and rounding that every output reads (JSON, CSV, GeoJSON,
        GeoPackage, PDF, the app's table and the maps). ``sectors`` keeps the
        full-precision working values.
    """

    sectors: gpd.GeoDataFrame
    zones: gpd.GeoDataFrame
    incidents: gpd.GeoDataFrame
    weights: dict[str, float]
    requested_weights: dict[str, float]
    density: Any
    density_message: str | None
    hotspots: Any
    hotspots_message: str | None
    sensitivity: SensitivityResult | None
    evidence_ok: bool
    message: str
    notes: list[str] = field(default_factory=list)
    parameters: AnalysisParameters = field(default_factory=AnalysisParameters)
    ranked: gpd.GeoDataFrame | None = None

    def __post_init__(self) -> None:
        if self.ranked is None:
            self.ranked = build_ranked_table(self.sectors)

    @property
    def incidents_in_corridor(self) -> int:
        """Number of incidents counted in some sector."""
        return int(self.incidents["sector_id"].notna().sum()) if len(self.incidents) else 0

    def to_json_dict(self) -> dict[str, Any]:
        """Return the result in the shape of ``python -m geo analyze --format json``.

        An object with ``parameters`` and ``sectors`` (ranked best first; each
        with ``sector_id, rank, score, chainage_start_km, chainage_end_km,
        criteria, contributions, p_top_k, rank_interval, nearest_town,
        nearest_crossing`` and also ``unstable``, ``rank_median``), plus
        ``evidence_ok``, ``message``, ``notes``, ``weights_used``,
        ``criteria_units``, ``incidents`` (counts), ``hotspots``, ``density``
        and ``sensitivity``.
        """
        total = len(self.incidents)
        return {
            "parameters": self.parameters.to_dict(),
            "evidence_ok": self.evidence_ok,
            "message": self.message,
            "notes": list(self.notes),
            "weights_used": {k: round(v, 6) for k, v in self.weights.items()},
            "criteria_units": {
                n: {"column": c.column, "unit": c.unit, "higher_is_priority": c.higher_is_priority}
                for n, c in CRITERIA.items()
            },
            "incidents": {"selected": total, "in_corridor": self.incidents_in_corridor},
            "hotspots": {
                "computed": self.hotspots is not None,
                "reason": self.hotspots_message,
            },
            "density": {
                "computed": self.density is not None,
                "reason": self.density_message,
            },
            "sensitivity": None if self.sensitivity is None else self.sensitivity.to_dict(),
            "sectors": sector_records(self.ranked),
        }


def with_every_field(result: AnalysisResult, stored: gpd.GeoDataFrame) -> AnalysisResult:
    """Return ``result`` with every field of its incidents, taken from ``stored``.

    For a result analysed without :data:`UNREAD_FIELDS`: its incidents become the rows
    of ``stored`` they came from, with the columns the analysis added
    (``chainage_km, offset_m, sector_id``), as a whole-field analysis would give them.

    Parameters
    ----------
    result
        An analysis of incidents selected from ``stored``.
    stored
        The incidents with every field, indexed as those the analysis was given.

    Raises
    ------
    ConfigurationError
        When some analysed incident is not in ``stored``.
    """
    analysed = result.incidents
    rows = select_rows(stored, analysed, what="stored incidents")
    added = {c: analysed[c] for c in analysed.columns if c not in rows.columns}
    return replace(result, incidents=rows.assign(**added))


def _incident_weights(incidents: gpd.GeoDataFrame, params: AnalysisParameters, reference):
    from geo.weights import incident_weights

    return incident_weights(
        incidents, half_life_days=params.half_life_days, reference_date=reference
    )


def _density(incidents: gpd.GeoDataFrame, params: AnalysisParameters, line, weights, xy=None):
    from geo.density import compute_density
    from geo.grid import region_grid

    try:
        grid = region_grid(cell_m=params.cell_m, line=line)
        surface = compute_density(
            incidents,
            grid=grid,
            bandwidth_m=params.bandwidth_m,
            kernel=params.kernel,
            half_life_days=params.half_life_days,
            weights=weights,
            xy=xy,
        )
    except BorderMonitorError as exc:
        return None, f"density not computed: {exc}"
    return surface, None


def _hotspots(incidents: gpd.GeoDataFrame, params: AnalysisParameters, line, weights, xy=None):
    from geo.grid import region_polygon
    from geo.hotspots import compute_hotspots

    try:
        result = compute_hotspots(
            incidents, region=region_polygon(line=line), weights=weights, xy=xy
        )
    except InsufficientDataError as exc:
        return None, f"hot spots not computed: {exc}"
    return result, None


#: How many times each stage has computed in this process (read by the app's cache test).
STAGE_RUNS: collections.Counter[str] = collections.Counter()


@dataclass
class IncidentSurface:
    """Stage A: the selected incidents, their weights, the density surface and the hot spots.

    Depends on the incidents and :data:`SURFACE_OPTIONS` only.

    Attributes
    ----------
    incidents
        The incidents that pass the filters.
    incident_weights
        Each selected incident's weight (type weight, recency decay).
    density, density_message, hotspots, hotspots_message
        As in :class:`AnalysisResult`.
    options
        The values of :data:`SURFACE_OPTIONS` it was computed with.
    """

    incidents: gpd.GeoDataFrame
    incident_weights: np.ndarray
    density: Any
    density_message: str | None
    hotspots: Any
    hotspots_message: str | None
    options: dict[str, Any]


@dataclass
class SectorZones:
    """Stage B: the sector zones and the criteria that come from reference layers only.

    Depends on :data:`ZONE_OPTIONS` and the layers (line, towns, crossings,
    candidate lines, countries, terrain).

    Attributes
    ----------
    zones
        :func:`geo.sectors.make_sectors` (``all``, ``LB``, ``SY`` rows).
    structural
        Per sector (index ``sector_id``): crossings, exposure, line
        uncertainty, terrain and zone areas.
    length_m
        Length of the border line (metres).
    towns_empty
        Whether the towns layer is missing or empty.
    options
        The values of :data:`ZONE_OPTIONS` it was computed with (``terrain``
        the file actually used, or ``None``).
    """

    zones: gpd.GeoDataFrame
    structural: pd.DataFrame
    length_m: float
    towns_empty: bool
    options: dict[str, Any]

    @functools.cached_property
    def whole(self) -> gpd.GeoDataFrame:
        """The whole zone of each sector (``side == "all"``), selected once; never change it."""
        return self.zones.loc[self.zones["side"] == "all"].reset_index(drop=True)

    @functools.cached_property
    def whole_metric(self) -> gpd.GeoDataFrame:
        """:attr:`whole` in :data:`geo.settings.METRIC_CRS`, projected once; never change it."""
        return self.whole.to_crs(settings.METRIC_CRS)


@dataclass
class SectorCriteria:
    """Stage C: every raw criterion per sector, from stages A and B and the trend windows.

    Attributes
    ----------
    raw
        One row per sector (index ``sector_id``), the columns of
        :data:`CRITERIA_COLUMNS` and a few more.
    incidents
        The selected incidents with ``chainage_km``, ``offset_m``, ``sector_id``.
    in_corridor
        Number of selected incidents counted in some sector.
    surface, zones
        The stages it was measured from.
    parameters
        The parameters it was measured with (its :data:`CRITERIA_OPTIONS` hold).
    """

    raw: pd.DataFrame
    incidents: gpd.GeoDataFrame
    in_corridor: int
    surface: IncidentSurface
    zones: SectorZones
    parameters: AnalysisParameters


def _options(params: AnalysisParameters, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(params, name) for name in names}


def _border_line(line: Any) -> Any:
    if line is None:
        raise ConfigurationError(
            "no border line given; fix: pass reference= (layers.reference.ReferenceLayers, "
            "e.g. ReferenceLayers.bundled()) or line="
        )
    return line


def _empty_layer() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=gpd.GeoSeries([], crs=4326), crs=4326)


def resolve_layers(
    reference: ReferenceLayers | None = None,
    *,
    line: Any = None,
    towns: gpd.GeoDataFrame | None = None,
    crossings: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    countries: gpd.GeoDataFrame | None = None,
    unofficial_crossings: gpd.GeoDataFrame | None = None,
) -> dict[str, Any]:
    """Return the layers of an analysis: ``reference``'s, each replaced where given.

    A layer given neither way is empty (``countries``: ``None``, the side of
    Syria then follows the line's direction). The line is required.

    Raises
    ------
    ConfigurationError
        When no border line is given.
    """
    given = {
        "towns": towns,
        "crossings": crossings,
        "candidates": candidates,
        "unofficial_crossings": unofficial_crossings,
    }
    out: dict[str, Any] = {}
    for name, layer in given.items():
        if layer is None:
            layer = getattr(reference, name, None) if reference is not None else None
            layer = _empty_layer() if layer is None else layer
        out[name] = layer
    if countries is None and reference is not None and not reference.countries.empty:
        countries = reference.countries
    out["countries"] = countries
    out["line"] = _border_line(line if line is not None else getattr(reference, "line", None))
    return out


def measure_surface(
    incidents: gpd.GeoDataFrame,
    params: AnalysisParameters | None = None,
    *,
    line: Any = None,
    with_density: bool = True,
    with_hotspots: bool = True,
    xy: pd.DataFrame | None = None,
) -> IncidentSurface:
    """Stage A: filter the incidents, weight them, compute the density and the Gi* hot spots.

    Parameters
    ----------
    incidents
        Incidents (EPSG:4326 points); filtered by ``params.since``, ``until``, ``types``.
    params
        The options; only :data:`SURFACE_OPTIONS` are read.
    line
        The border line, EPSG:4326 (the density grid and hot-spot region follow it).
    with_density, with_hotspots
        Whether to compute the density surface and the hot spots.
    xy
        :func:`geo.grid.project_frame` of these incidents, or of incidents among which
        they are (a unique index): the app projects every stored incident once per
        store version. Default: project them here.

    Raises
    ------
    ConfigurationError
        When ``xy`` lacks some of the selected incidents.
    """
    params = params or AnalysisParameters()
    STAGE_RUNS["measure_surface"] += 1
    line = _border_line(line)
    selected = filter_incidents(
        incidents, since=params.since, until=params.until, types=params.types
    )
    reference = pd.Timestamp(params.until) if params.until else None
    weights = _incident_weights(selected, params, reference)
    if xy is not None:
        rows = select_rows(xy, selected, what="table of metric coordinates")
        xy = (rows["x_m"].to_numpy(), rows["y_m"].to_numpy())
    density, density_message = (None, "density not requested")
    if with_density:
        density, density_message = _density(selected, params, line, weights, xy)
    hotspots, hotspots_message = (None, "hot spots not requested")
    if with_hotspots:
        hotspots, hotspots_message = _hotspots(selected, params, line, weights, xy)
    return IncidentSurface(
        incidents=selected,
        incident_weights=weights,
        density=density,
        density_message=density_message,
        hotspots=hotspots,
        hotspots_message=hotspots_message,
        options=_options(params, SURFACE_OPTIONS),
    )


def measure_zones(
    params: AnalysisParameters | None = None,
    *,
    reference: ReferenceLayers | None = None,
    line: Any = None,
    towns: gpd.GeoDataFrame | None = None,
    crossings: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    countries: gpd.GeoDataFrame | None = None,
    terrain: str | os.PathLike[str] | bool | None = None,
    unofficial_crossings: gpd.GeoDataFrame | None = None,
) -> SectorZones:
    """Stage B: cut the sectors and measure what the reference layers say about each.

    Parameters
    ----------
    params
        The options; only :data:`ZONE_OPTIONS` are read.
    reference, line, towns, crossings, candidates, countries, terrain, unofficial_crossings
        As in :func:`run_analysis`.
    """
    params = params or AnalysisParameters()
    STAGE_RUNS["measure_zones"] += 1
    given = resolve_layers(
        reference,
        line=line,
        towns=towns,
        crossings=crossings,
        candidates=candidates,
        countries=countries,
        unofficial_crossings=unofficial_crossings,
    )
    line, countries = given["line"], given["countries"]
    towns, crossings, candidates = given["towns"], given["crossings"], given["candidates"]
    terrain_path = params.terrain or terrain
    if terrain_path is None or terrain_path is True:
        terrain_path = getattr(reference, "terrain", None)
    elif terrain_path is False:
        terrain_path = None
    ref = border_reference(line, countries=countries)
    zones = make_sectors(
        line, sector_km=params.sector_km, corridor_km=params.corridor_km, countries=countries
    )
    whole = zones.loc[zones["side"] == "all"].reset_index(drop=True)
    structural = crossing_criteria(
        ref,
        whole,
        crossings,
        unofficial=given["unofficial_crossings"],
        sector_km=params.sector_km,
    )
    structural = structural.join(exposure_criteria(ref, whole, towns, sector_km=params.sector_km))
    structural = structural.join(line_uncertainty(ref, candidates, sector_km=params.sector_km))
    structural = structural.join(terrain_criteria(whole, terrain_path))
    structural["area_km2"] = zone_areas(zones)
    for side in ("LB", "SY"):
        part = zones.loc[zones["side"] == side]
        structural[f"area_{side.lower()}_km2"] = pd.Series(
            part["area_km2"].to_numpy(), index=part["sector_id"].to_numpy()
        )
    options = _options(params, ZONE_OPTIONS)
    options["terrain"] = None if terrain_path is None else str(terrain_path)
    return SectorZones(
        zones=zones,
        structural=structural,
        length_m=float(ref.length_m),
        towns_empty=towns is None or towns.empty,
        options=options,
    )


def _check_stage(params: AnalysisParameters, given: dict[str, Any], stage: str) -> None:
    """Refuse to combine a stage computed with other options than ``params``."""
    for name, value in given.items():
        wanted = getattr(params, name)
        if name == "terrain" and wanted is None:
            continue  # the stage resolved the default DEM
        if wanted != value:
            raise ConfigurationError(
                f"the {stage} was computed with {name}={value!r} but the parameters say "
                f"{name}={wanted!r}; fix: recompute the {stage} with these parameters"
            )


def measure_sectors(
    surface: IncidentSurface,
    zones: SectorZones,
    params: AnalysisParameters | None = None,
    *,
    line: Any = None,
    countries: gpd.GeoDataFrame | None = None,
    located: pd.DataFrame | None = None,
) -> SectorCriteria:
    """Stage C: locate the incidents along the line and measure every criterion per sector.

    Parameters
    ----------
    surface, zones
        Stages A (:func:`measure_surface`) and B (:func:`measure_zones`), computed
        with the same ``params``.
    params
        The options; :data:`CRITERIA_OPTIONS` are read.
    line, countries
        The layers stage B used (the line is required; ``countries`` may be ``None``).
    located
        :func:`geo.sectors.locate_incidents` of these incidents, or of any incidents
        among which they are (a unique index; the same line and countries, and
        ``sector_km`` and ``corridor_km`` as ``params``). The app locates every stored
        incident once per store version and sector layout, so that a filter only
        selects rows (0.13 s for 100,000 incidents). Default: locate them here.

    Raises
    ------
    ConfigurationError
        When a stage, or ``located``, was computed with other options than ``params``,
        or ``located`` lacks some of the incidents.
    """
    params = params or AnalysisParameters()
    _check_stage(params, surface.options, "incident surface (stage A)")
    _check_stage(params, zones.options, "sector zones (stage B)")
    STAGE_RUNS["measure_sectors"] += 1
    line = _border_line(line)
    selected = surface.incidents
    if located is None:
        located = locate_incidents(
            selected,
            line,
            sector_km=params.sector_km,
            corridor_km=params.corridor_km,
            countries=countries,
        )
    else:
        located = _select_located(located, selected, params)
    selected = selected.assign(
        chainage_km=located["chainage_km"],
        offset_m=located["offset_m"],
        sector_id=located["sector_id"],
    )
    sector = located["sector_id"].fillna(0).to_numpy(dtype=np.int64)
    reference = pd.Timestamp(params.until) if params.until else None
    areas = zones.structural["area_km2"]
    raw = incident_criteria(
        selected,
        sector,
        surface.incident_weights,
        areas,
        sector_km=params.sector_km,
        reference_date=reference,
        recent_days=params.trend_recent_days,
        baseline_days=params.trend_baseline_days,
    )
    offset = located["offset_m"].to_numpy(dtype=float)
    for side, on_side in (("lb", offset < 0), ("sy", offset >= 0)):
        keep = (sector > 0) & on_side
        raw[f"incidents_{side}"] = np.bincount(sector[keep] - 1, minlength=len(raw))[: len(raw)]
    hotspots = surface.hotspots
    raw["hotspot_share"] = (
        hotspot_share(zones.whole_metric, hotspots.cells).to_numpy()
        if hotspots is not None
        else np.nan
    )
    raw = raw.join(zones.structural)
    raw["unofficial_crossings"] = raw["unofficial_crossings"].astype("Int64")
    return SectorCriteria(
        raw=raw,
        incidents=selected,
        in_corridor=int((sector > 0).sum()),
        surface=surface,
        zones=zones,
        parameters=params,
    )


def _select_located(
    located: pd.DataFrame, selected: gpd.GeoDataFrame, params: AnalysisParameters
) -> pd.DataFrame:
    """Return the rows of ``located`` (see :func:`measure_sectors`) of the selected incidents."""
    options = located.attrs.get("options")
    if options is None:
        raise ConfigurationError(
            "the incident locations carry no options; fix: make them with "
            "geo.sectors.locate_incidents"
        )
    _check_stage(params, options, "table of incident locations")
    return select_rows(located, selected, what="table of incident locations")


def rank_sectors(
    criteria: SectorCriteria, params: AnalysisParameters | None = None
) -> AnalysisResult:
    """Stage D: score, rank, explain and stress-test the sectors; apply the evidence guard.

    Parameters
    ----------
    criteria
        Stage C (:func:`measure_sectors`).
    params
        The options; :data:`RANKING_OPTIONS` are read, the others must equal
        those ``criteria`` was measured with. Default ``criteria.parameters``.

    Raises
    ------
    ConfigurationError
        When ``params`` differ from ``criteria.parameters`` outside :data:`RANKING_OPTIONS`.
    """
    params = params or criteria.parameters
    _check_stage(params, _options(criteria.parameters, CRITERIA_OPTIONS), "criteria (stage C)")
    STAGE_RUNS["rank_sectors"] += 1
    surface, zones, raw = criteria.surface, criteria.zones, criteria.raw
    hotspots, hotspots_message = surface.hotspots, surface.hotspots_message
    whole = zones.whole
    notes: list[str] = []

    # Which criteria can enter the score (geo.priority.resolve_weights holds the rules).
    n_corridor = criteria.in_corridor
    evidence_ok = n_corridor >= settings.MIN_INCIDENTS_FOR_RANKING
    unmeasured = {
        "hotspot_share": (hotspots_message or "no hot spots") if hotspots is None else None,
        "crossings": "no official crossing in the crossings layer"
        if raw["crossing_distance_km"].isna().all()
        else None,
        "line_uncertainty": "no candidate border line reaches any sector"
        if raw["line_uncertainty_mean_m"].isna().all()
        else None,
        "terrain": "no elevation data covers the sectors" if raw["relief_m"].isna().all() else None,
        "exposure": "the towns layer is empty" if zones.towns_empty else None,
    }
    plan = resolve_weights(params.weights, unmeasured=unmeasured, evidence_ok=evidence_ok)
    requested, used, excluded, ranked = plan.requested, plan.used, plan.excluded, plan.ranked
    notes.extend(plan.notes)
    if not raw["unofficial_crossings"].notna().any():
        notes.append(UNOFFICIAL_CROSSINGS_NOTE)
    else:
        notes.append(UNOFFICIAL_CROSSINGS_COUNTED_NOTE)

    normalised = normalise_criteria(raw, method=params.normalisation)
    score, contributions = score_sectors(normalised, used)
    structural = ", ".join(n for n, c in CRITERIA.items() if not c.incident_based and used[n] > 0)
    if evidence_ok:
        message = (
            f"{n_corridor} incidents lie in the {params.corridor_km:g} km corridor "
            f"(at least {settings.MIN_INCIDENTS_FOR_RANKING} needed): the ranking uses every "
            "criterion with a positive weight."
        )
    elif ranked:
        message = (
            f"Only {n_corridor} incident(s) lie in the {params.corridor_km:g} km corridor; at "
            f"least {settings.MIN_INCIDENTS_FOR_RANKING} are needed before incident density, "
            "hot spots and trend can rank sectors, so they are left out: this ranking rests "
            f"only on the reference layers ({structural}) and is not evidence of where "
            "incidents concentrate."
        )
    else:
        message = (
            f"Only {n_corridor} incident(s) lie in the {params.corridor_km:g} km corridor; at "
            f"least {settings.MIN_INCIDENTS_FOR_RANKING} are needed, and the chosen weights "
            "give nothing to the reference-layer criteria: no ranking is made."
        )

    sens = None
    table = raw.copy()
    table.insert(0, "score", score)
    n_sectors = len(table)
    # The columns are gathered and joined once: added one by one, they took 0.02 s.
    added: dict[str, Any] = {}
    for name in CRITERIA:
        added[f"norm_{name}"] = normalised[name]
        added[f"contrib_{name}"] = contributions[name]
    if ranked:
        added["rank"] = pd.array(rank_scores(score), dtype="Int64")
        sens = analyse_sensitivity(
            normalised,
            used,
            top_k=min(params.top_k, n_sectors),
            draws=params.draws,
            concentration=params.concentration,
            seed=params.seed,
            oat_criteria=[n for n in CRITERIA if n not in excluded],
        )
        added["p_top_k"] = sens.p_top_k
        added["rank_low"] = sens.rank_low
        added["rank_high"] = sens.rank_high
        added["rank_median"] = sens.rank_median
        added["unstable"] = sens.unstable
        added["oat_rank_min"] = sens.oat_rank_min
        added["oat_rank_max"] = sens.oat_rank_max
    else:
        added["rank"] = pd.array([pd.NA] * n_sectors, dtype="Int64")
        for col in ("p_top_k", "rank_low", "rank_high", "rank_median", "oat_rank_min",
                    "oat_rank_max"):  # fmt: skip
            added[col] = np.full(n_sectors, np.nan)
        added["unstable"] = np.full(n_sectors, pd.NA, dtype=object)
    bounds = sector_bounds_m(zones.length_m, params.sector_km) / 1_000.0
    added["chainage_start_km"] = bounds[:-1]
    added["chainage_end_km"] = bounds[1:]
    table = pd.concat([table, pd.DataFrame(added, index=table.index)], axis=1)
    table = table.reset_index()
    order = np.lexsort((table["sector_id"].to_numpy(), -np.round(score.to_numpy(), 12)))
    table = table.iloc[order].reset_index(drop=True)
    leading = ["sector_id", "rank", "score", "chainage_start_km", "chainage_end_km"]
    table = table[leading + [c for c in table.columns if c not in leading]]
    geometry = whole.set_index("sector_id").geometry.reindex(table["sector_id"]).to_numpy()
    sectors = gpd.GeoDataFrame(table, geometry=geometry, crs=whole.crs)
    logger.info(
        "ranked %d sectors on %d incidents in the corridor (evidence_ok=%s)",
        len(sectors),
        n_corridor,
        evidence_ok,
    )
    return AnalysisResult(
        sectors=sectors,
        zones=zones.zones,
        incidents=criteria.incidents,
        weights=used,
        requested_weights=requested,
        density=surface.density,
        density_message=surface.density_message,
        hotspots=hotspots,
        hotspots_message=hotspots_message,
        sensitivity=sens,
        evidence_ok=evidence_ok,
        message=message,
        notes=notes,
        parameters=params,
    )


def run_analysis(
    incidents: gpd.GeoDataFrame,
    params: AnalysisParameters | None = None,
    *,
    reference: ReferenceLayers | None = None,
    line: Any = None,
    towns: gpd.GeoDataFrame | None = None,
    crossings: gpd.GeoDataFrame | None = None,
    candidates: gpd.GeoDataFrame | None = None,
    countries: gpd.GeoDataFrame | None = None,
    terrain: str | os.PathLike[str] | bool | None = None,
    with_density: bool = True,
    with_hotspots: bool = True,
    unofficial_crossings: gpd.GeoDataFrame | None = None,
) -> AnalysisResult:
    """Rank the border sectors for demarcation, explain and stress-test the ranking.

    The four stages in one call: :func:`measure_surface` (A),
    :func:`measure_zones` (B), :func:`measure_sectors` (C) and
    :func:`rank_sectors` (D). Callers that change one option at a time (the
    app) call and cache the stages themselves.

    Parameters
    ----------
    incidents
        Incidents (EPSG:4326 points with the schema's columns); filtered
        here by ``params.since``, ``until`` and ``types``.
    params
        The options; defaults from :mod:`geo.settings`.
    reference
        The reference layers (:class:`layers.reference.ReferenceLayers`; the
        entry points pass ``ReferenceLayers.bundled()``).
    line
        The border line (EPSG:4326, ordered from the coast) instead of
        ``reference.line``; one of the two is required.
    towns, crossings, candidates, countries, unofficial_crossings
        Layers instead of ``reference``'s; a layer given neither way is empty
        (``countries``: the side of Syria then follows the line's direction).
    terrain
        Elevation GeoTIFF; default ``params.terrain``, else ``reference.terrain``;
        ``False`` for no terrain criterion.
    with_density, with_hotspots
        Whether to compute the density surface and the Gi* hot spots.
    """
    params = params or AnalysisParameters()
    given = resolve_layers(
        reference,
        line=line,
        towns=towns,
        crossings=crossings,
        candidates=candidates,
        countries=countries,
        unofficial_crossings=unofficial_crossings,
    )
    line, countries = given["line"], given["countries"]
    surface = measure_surface(
        incidents, params, line=line, with_density=with_density, with_hotspots=with_hotspots
    )
    zones = measure_zones(params, reference=reference, terrain=terrain, **given)
    criteria = measure_sectors(surface, zones, params, line=line, countries=countries)
    return rank_sectors(criteria, params)


def sector_table(result: AnalysisResult, *, limit: int | None = None) -> pd.DataFrame:
    """Return a compact human table of the ranked sectors (for ``--format table``).

    Parameters
    ----------
    result
        The analysis.
    limit
        Show only the first ``limit`` sectors.
    """
    from geo.ranking import sector_table as table_of

    return table_of(result.ranked, limit=limit)
