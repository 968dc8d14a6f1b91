"""The app's cached calls: the incidents, the analysis stages, the map and the files.

Every computation the page asks for is a ``geo`` (or ``mapview``) call here, cached
with explicit arguments so that a change recomputes only what depends on it. Defined
once per process (not on every run of the page, which would rebuild every wrapper).

Two kinds of cache:

- ``st.cache_resource`` for the incidents, layers, stages and the rendered map: the
  object itself is shared by every run and session. A hit costs nothing, where
  ``st.cache_data`` unpickles a copy (0.7 s a run for 100,000 incidents), and the
  incidents are held once per store version (``read_store``: two versions at most),
  not once per stage. Nothing changes what these return (pandas copies on write; the
  page makes display copies).
- ``st.cache_data`` for what is made per request and is small or bytes: the content
  hash, an upload's validation, the files to download.

May import: ``geo``, ``layers``, ``mapview``, :mod:`webapp.map_panel` and streamlit.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import streamlit as st

import layers
from geo import settings
from geo.errors import BorderMonitorError
from layers.reference import ReferenceLayers
from mapview.builder import build_reference_map, data_layers_script, density_image
from webapp.map_panel import MapParts, serialise_map

if TYPE_CHECKING:
    from geo.store import IncidentStore

logger = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def load_layers() -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Return the bundled map layers that exist, and messages for those missing."""
    return layers.load_map_layers()


@st.cache_resource(show_spinner="Reading the incident store…", max_entries=2)
def read_store(_store: IncidentStore, token: str) -> gpd.GeoDataFrame:
    """Return every stored incident (keyed by ``token``, the store's content token)."""
    return _store.read()


@st.cache_resource(show_spinner=False, max_entries=2)
def analysed_fields(_store: IncidentStore, token: str) -> gpd.GeoDataFrame:
    """Return every stored incident without the fields no analysis reads.

    :data:`geo.analysis.UNREAD_FIELDS` (free text, provenance): a filter then copies
    only what the analysis and the map's hexagons use; the data are shared with
    :func:`read_store`'s frame, not copied.
    """
    from geo.analysis import UNREAD_FIELDS

    incidents = read_store(_store, token)
    return incidents.drop(columns=[c for c in UNREAD_FIELDS if c in incidents.columns])


@st.cache_resource(show_spinner=False, max_entries=8)
def filter_store(
    _store: IncidentStore,
    token: str,
    since: dt.date | None,
    until: dt.date | None,
    types: tuple[str, ...] | None,
) -> gpd.GeoDataFrame:
    """Return the stored incidents that pass the filters, without the unread fields.

    See :func:`analysed_fields`; :func:`whole_rows` gives the rows back with every field.
    """
    from geo.selection import filter_incidents

    return filter_incidents(analysed_fields(_store, token), since=since, until=until, types=types)


def whole_rows(_store: IncidentStore, _token: str, incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the stored rows of ``incidents`` (of :func:`filter_store`) with every field."""
    from geo.selection import select_rows

    return select_rows(read_store(_store, _token), incidents, what="stored incidents")


@st.cache_data(show_spinner=False)
def content_key(_store: IncidentStore, token: str) -> str:
    """Return the store's content hash (the same after an undo as before the upload)."""
    return _store.content_hash()


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the options of stage A (incident surface) and of stage B (sector zones).

    The sidebar's other options (the weights) matter only to stage D (the ranking).
    """
    from geo.analysis import SURFACE_OPTIONS, ZONE_OPTIONS

    surface = {k: v for k, v in params.items() if k in SURFACE_OPTIONS}
    zone = {k: v for k, v in params.items() if k in ZONE_OPTIONS}
    return surface, zone


@st.cache_resource(show_spinner=False)
def reference_layers() -> ReferenceLayers:
    """Return the bundled reference layers, loaded once per process and passed to ``geo``."""
    return ReferenceLayers.bundled()


@st.cache_resource(show_spinner="Mapping incident density and hot spots…", max_entries=8)
def surface_stage(_store: IncidentStore, key: str, surface: dict[str, Any], _token: str) -> Any:
    """Return stage A, :func:`geo.analysis.measure_surface` (density and hot spots).

    Keyed by the store's content and the filters and density options only. Given the
    incidents :func:`filter_store` selected for the map (the same filters), which
    ``measure_surface`` filters again without copying them.
    """
    from geo.analysis import AnalysisParameters, measure_surface

    selected = filter_store(  # the key the page uses for the map's incidents
        _store, _token, surface.get("since"), surface.get("until"), surface.get("types")
    )
    return measure_surface(
        selected,
        AnalysisParameters(**surface),
        line=reference_layers().line,
        xy=incident_xy(_store, _token),
    )


@st.cache_resource(show_spinner=False, max_entries=2)
def incident_xy(_store: IncidentStore, token: str) -> pd.DataFrame:
    """Return every stored incident's metric coordinates (:func:`geo.grid.project_frame`).

    Once per store version: the density and the hot spots of each filter select rows.
    """
    from geo.grid import project_frame

    return project_frame(read_store(_store, token))


@st.cache_resource(show_spinner="Cutting the border into sectors…", max_entries=8)
def zone_stage(zone: dict[str, Any]) -> Any:
    """Return stage B, :func:`geo.analysis.measure_zones` (zones, reference-layer criteria).

    Keyed by sector length and corridor width only (the layers are the bundled ones).
    """
    from geo.analysis import AnalysisParameters, measure_zones

    return measure_zones(AnalysisParameters(**zone), reference=reference_layers())


@st.cache_resource(show_spinner="Locating the incidents along the border…", max_entries=4)
def incident_places(
    _store: IncidentStore, key: str, sector_km: float, corridor_km: float, _token: str
) -> pd.DataFrame:
    """Return where every stored incident lies along the border (``locate_incidents``).

    Once per store version and sector layout: a filter change then selects rows
    (:func:`geo.analysis.measure_sectors`' ``located``) instead of locating again.
    """
    from geo.sectors import locate_incidents

    return locate_incidents(
        read_store(_store, _token),
        reference_layers().line,
        sector_km=sector_km,
        corridor_km=corridor_km,
        countries=reference_layers().countries,
    )


@st.cache_resource(show_spinner="Measuring the sectors…", max_entries=8)
def criteria_stage(
    _store: IncidentStore, key: str, surface: dict[str, Any], zone: dict[str, Any], _token: str
) -> Any:
    """Return stage C, :func:`geo.analysis.measure_sectors` (every criterion per sector).

    Keyed by what stages A and B depend on (the trend windows are the defaults).
    """
    from geo.analysis import AnalysisParameters, measure_sectors

    params = AnalysisParameters(**surface, **zone)
    return measure_sectors(
        surface_stage(_store, key, surface, _token),
        zone_stage(zone),
        params,
        line=reference_layers().line,
        countries=reference_layers().countries,
        located=incident_places(_store, key, params.sector_km, params.corridor_km, _token),
    )


@st.cache_resource(show_spinner="Ranking the border sectors…", max_entries=16)
def analyse(_store: IncidentStore, key: str, params: dict[str, Any], _token: str) -> Any:
    """Return stage D, :func:`geo.analysis.rank_sectors`, on the cached stage C.

    The same result as :func:`geo.analysis.run_analysis` on the stored incidents (cached
    by content and every option), but a weight change reruns only the ranking.
    """
    from geo.analysis import AnalysisParameters, rank_sectors

    surface, zone = split_params(params)
    criteria = criteria_stage(_store, key, surface, zone, _token)
    return rank_sectors(criteria, AnalysisParameters(**params))


@st.cache_resource(show_spinner=False, max_entries=16)
def ranked_sectors(
    _store: IncidentStore, key: str, params: dict[str, Any], _token: str
) -> gpd.GeoDataFrame:
    """Return the ranked table with the sectors' zones (``AnalysisResult.ranked``)."""
    return analyse(_store, key, params, _token).ranked


@st.cache_resource(show_spinner=False, max_entries=8)
def density_overlay(
    _store: IncidentStore, key: str, surface: dict[str, Any], _token: str
) -> tuple[str, list[list[float]], float] | None:
    """Return the density surface as a map image (``mapview.builder.density_image``).

    Keyed by stage A's options only: a weight or sector change reuses the image.
    """
    density = surface_stage(_store, key, surface, _token).density
    return density_image(density) if density is not None else None


@st.cache_resource(show_spinner="Finding emerging hot spots…", max_entries=4)
def emerging_stage(
    _store: IncidentStore, key: str, types: tuple[str, ...] | None, until: Any, _token: str
) -> tuple[Any, str | None]:
    """Return the emerging hot spots up to ``until`` (30-day slices), or why there are none."""
    from geo.emerging import compute_emerging_hotspots
    from geo.errors import InsufficientDataError
    from geo.selection import filter_incidents

    incidents = filter_incidents(read_store(_store, _token), until=until, types=types)
    try:
        return compute_emerging_hotspots(incidents, line=reference_layers().line), None
    except InsufficientDataError as exc:
        return None, f"Emerging hot spots not computed: {exc}"


@st.cache_resource(show_spinner="Ranking the earlier period…", max_entries=4)
def comparison_stage(
    _store: IncidentStore, key: str, params: dict[str, Any], then: tuple, _token: str
) -> Any:
    """Return :func:`geo.change.compare_periods` of the current options and ``then``."""
    from geo.analysis import AnalysisParameters
    from geo.change import compare_periods

    incidents = read_store(_store, _token)
    return compare_periods(
        incidents, AnalysisParameters(**params), then=then, reference=reference_layers()
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def timelines(
    _store: IncidentStore, key: str, view: dict[str, Any], _params: dict[str, Any], _token: str
) -> pd.Series:
    """Return each sector's incidents per month (:func:`geo.timeline.sector_sparklines`).

    Keyed by ``view`` (the options but the weights, which do not move incidents);
    ``_params`` are the options with the weights, to reach the cached analysis.
    """
    from geo.timeline import sector_sparklines

    return sector_sparklines(analyse(_store, key, _params, _token).incidents)


@st.cache_resource(show_spinner=False, max_entries=2)
def stored_batches(_store: IncidentStore, token: str) -> pd.DataFrame:
    """Return the store's batches (:meth:`IncidentStore.batches`) for this content."""
    return _store.batches()


@st.cache_resource(show_spinner="Drawing the map…", max_entries=4)
def reference_map(
    _store: IncidentStore,
    _key: str,
    layout: dict[str, Any],
    ranked: bool,
    tile_url: str | None,
    _params: dict[str, Any],
    _token: str,
) -> MapParts | str:
    """Return the map without its data layers, rendered once per sector layout.

    ``layout``: the sector options (``sector_km``, ``corridor_km``, ``terrain``) and
    ``top_k``; ``ranked``: whether the sectors are ranked (drawn) at all. Neither the
    filters nor the weights nor the stored incidents enter the key: the sectors are
    drawn ranked under ``_params``, whichever came first, and every run sends its own
    ranking (:func:`mapview.sector_layer.sector_restyle_script`) and data layers
    (:func:`data_layers`) to the map the browser keeps.
    """
    found, _ = load_layers()
    try:
        sectors = ranked_sectors(_store, _key, _params, _token) if ranked else None
        m = build_reference_map(
            border=found.get("border"),
            layers={k: v for k, v in found.items() if k != "border"},
            sectors=sectors,
            top_k=int(layout.get("top_k", settings.TOP_K)),
            tile_url=tile_url,
        )
    except BorderMonitorError as exc:
        return str(exc)
    return serialise_map(m)


@st.cache_resource(show_spinner="Drawing the incidents…", max_entries=8)
def data_layers(
    _store: IncidentStore,
    key: str,
    view: dict[str, Any],
    emerging: bool,
    _params: dict[str, Any],
    _token: str,
) -> str:
    """Return the script that puts this view's data layers on the map (see :func:`reference_map`).

    ``view``: the options except the weights; ``emerging``: whether the emerging hot
    spots are drawn. The incidents, density and hot spots are those of the filters.
    """
    surface, _ = split_params(_params)
    stage = surface_stage(_store, key, surface, _token)
    emerging_cells = None
    if emerging:
        emerging_cells = getattr(
            emerging_stage(_store, key, view["types"], view["until"], _token)[0], "cells", None
        )
    incidents = filter_store(_store, _token, view["since"], view["until"], view["types"])
    if len(incidents) <= settings.MAP_MAX_INCIDENT_MARKERS:  # drawn one by one: popups
        incidents = whole_rows(_store, _token, incidents)
    return data_layers_script(
        incidents=incidents,
        density=stage.density,
        density_overlay=density_overlay(_store, key, surface, _token),
        hotspots=getattr(stage.hotspots, "cells", None),
        emerging=emerging_cells,
        incident_xy=incident_xy(_store, _token),
    )


@st.cache_data(show_spinner="Validating the file…", max_entries=4)
def validate_upload(data: bytes, filename: str, _store: IncidentStore, token: str) -> Any:
    """Return the validation report of an upload against the stored incidents."""
    from geo.ingest import validate_file

    return validate_file(
        data,
        filename=filename,
        existing=read_store(_store, token),
        border=reference_layers().line,
    )


@st.cache_data(show_spinner="Preparing the file…", max_entries=16)
def export_bytes(
    _store: IncidentStore,
    key: str,
    params: dict[str, Any],
    what: str,
    _token: str,
    generated_by: str = "",
) -> bytes:
    """Return the bytes of one download of this analysis (``what`` is its file name).

    ``sectors.csv|geojson|gpkg``, ``incidents.csv|geojson``, ``incidents_acled.csv``,
    ``density.tif`` or ``report.pdf``. The incident files hold the incidents this analysis
    selected (the filters applied). The PDF names ``generated_by`` (part of the key).
    """
    from geo import exports
    from geo.analysis import with_every_field as whole

    # The files and the report hold every field of the selected incidents.
    result = whole(analyse(_store, key, params, _token), read_store(_store, _token))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / what
        if what.startswith("sectors."):
            exports.export_sectors(result, out)
        elif what == "incidents.csv":
            exports.export_incidents_csv(result.incidents, out)
        elif what == "incidents_acled.csv":
            exports.export_incidents_acled(result.incidents, out)
        elif what == "incidents.geojson":
            exports.export_incidents(result.incidents, out, "geojson")
        elif what == "density.tif":
            exports.export_density(result, out)
        elif what == "report.pdf":
            from geo.report import collect_inputs, write_pdf

            incidents = read_store(_store, _token)
            from geo.store import is_database_url

            database = is_database_url(_store.location)
            inputs = collect_inputs(
                incidents,
                store_path=_store.location,
                store_hash=_store.content_hash() if database else None,
            )
            reference = reference_layers()
            write_pdf(
                result,
                incidents,
                out,
                inputs=inputs,
                command="streamlit app",
                border=reference.line,
                crossings=reference.crossings,
                layer_records=layers.list_layers(),
                generated_by=generated_by or None,
            )
        else:  # pragma: no cover - the app only asks for the above
            raise ValueError(what)
        return out.read_bytes()
