"""The analyst's app: map, filters, upload, ranked sectors and downloads.

Run with ``python -m streamlit run app.py`` (``.streamlit/config.toml`` binds it
to 127.0.0.1). Streamlit finds the ``st.App`` at the end of this file and serves the
page through it: its start-up hook computes the default page in the background
(:mod:`webapp.warmup`), and each visit runs this file as ``__main__``.

Widgets live here; every computation is a ``geo`` call cached with explicit arguments,
so a change recomputes only what depends on it. The incidents, layers and stages are
cached as shared objects (``st.cache_resource``: one copy per store version, never
copied on a hit, never changed by the page); the files made for download as bytes
(``st.cache_data``). The map's reference layers and sectors are rendered once per sector
layout; each run sends its data layers (incidents, density, hot spots) and its ranking
as scripts that the map in the browser applies in place (:mod:`webapp.map_panel`).
Callbacks only set ``st.session_state``. Nothing is fetched from the network: the map's
scripts come from ``static/vendor``.

Who may do what is :mod:`webapp`'s: sign-in (``st.login`` when ``[auth]`` is in
``.streamlit/secrets.toml``, else one local user on loopback), the role read from the
store on every run, and the writes, which check the role again when they write.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import roles, settings
from geo.errors import BorderMonitorError
from geo.parameters import ZONE_OPTIONS
from mapview import escape_frame, escape_markdown
from mapview.builder import zoom_for_bounds
from mapview.sector_layer import sector_restyle_script
from webapp import actions, heap, options, warmup
from webapp.identity import Identity, role_of
from webapp.map_panel import MapParts, draw_map
from webapp.panels import UNDO_CHOICE, batches_panel, users_panel
from webapp.signin import account_box, sign_in
from webapp.stage_cache import (
    analyse,
    comparison_stage,
    content_key,
    data_layers,
    emerging_stage,
    export_bytes,
    filter_store,
    load_layers,
    ranked_sectors,
    read_store,
    reference_map,
    stored_batches,
    timelines,
    validate_upload,
)
from webapp.time_panels import comparison_panel, emerging_caption, sector_chart

if TYPE_CHECKING:
    from geo.store import IncidentStore

logger = logging.getLogger(__name__)

#: Said under the title: what the bundled incidents are (our text, not user input).
RECORD_CAPTION = (
    "The bundled incidents are a record of public reporting, not ground truth: what "
    "outlets reported from 2024 to March 2026, each event with its sources (outlet, date, "
    "link) and located only as precisely as the reporting allows (the circle around each "
    "point). Crossings without a citable position of their own are drawn at a cited place "
    "with the radius that covers them. Sources and method: data/README.md."
)
CRITERIA = settings.CRITERION_NAMES
UPLOAD_TYPES = ["geojson", "json", "csv", "gpkg"]


# --- callbacks: they only set session_state -----------------------------------------------


def _next_upload() -> None:
    """Forget the current upload (Cancel, or after a commit)."""
    st.session_state.upload_round = st.session_state.get("upload_round", 0) + 1


# --- page ---------------------------------------------------------------------------------


def sidebar(all_types: list[str], dates: tuple[dt.date, dt.date] | None) -> dict[str, Any]:
    """Draw the controls and return the filters and analysis parameters."""
    sb = st.sidebar
    sb.header("Filters")
    date_range = None
    if dates:
        date_range = sb.date_input(
            "Date range", value=dates, min_value=dates[0], max_value=dates[1], key="dates"
        )
    types = sb.multiselect("Incident types", all_types, default=all_types, key="types")
    sb.header("Sectors")
    sector_km = sb.slider("Sector length (km)", 1.0, 20.0, settings.SECTOR_KM, 0.5, key="sector_km")
    corridor_km = sb.slider(
        "Corridor half-width (km)", 1.0, 20.0, settings.CORRIDOR_KM, 0.5, key="corridor_km"
    )
    sb.header("Density")
    bandwidth_km = sb.number_input(
        "Kernel bandwidth (km, 0 = automatic)",
        min_value=0.0,
        max_value=settings.DENSITY_BANDWIDTH_MAX_M / 1000,
        value=options.BANDWIDTH_KM,
        step=0.5,
        key="bandwidth_km",
    )
    half_life = sb.number_input(
        "Recency half-life (days, 0 = no decay)",
        min_value=0,
        max_value=3650,
        value=options.HALF_LIFE_DAYS,
        step=30,
        key="half_life_days",
    )
    sb.header("Time")
    emerging = sb.checkbox(
        "Emerging hot spots (30-day slices)", value=False, key="emerging",
        help="Space-time Gi* and the Mann-Kendall trend of each hexagon: new, intensifying, "
        "persistent, diminishing, ... hot and cold spots, as a map layer.",
    )  # fmt: skip
    compare = None
    if dates and sb.checkbox("Compare with an earlier period", value=False, key="compare"):
        compare = sb.date_input(
            "Earlier period", value=dates, min_value=dates[0], max_value=dates[1],
            key="compare_dates",
        )  # fmt: skip
    sb.header("Criterion weights")
    sb.caption("Normalised to sum to 1 before use.")
    weights = {
        c: sb.slider(c.replace("_", " "), 0.0, 1.0, w, 0.05, key=f"w_{c}")
        for c, w in options.WEIGHTS.items()
    }
    params = options.options_from_controls(
        date_range=date_range,
        types=types,
        all_types=all_types,
        sector_km=sector_km,
        corridor_km=corridor_km,
        bandwidth_km=bandwidth_km,
        half_life_days=half_life,
        weights=weights,
    )
    st.session_state["_time_view"] = {
        "emerging": bool(emerging),
        "compare": tuple(compare) if isinstance(compare, tuple | list) and len(compare) == 2
        else None,
    }  # fmt: skip
    return params


def display_table(sectors: gpd.GeoDataFrame) -> pd.DataFrame:
    """Return the ranked-sector table shown to the analyst (an escaped display copy)."""
    table = pd.DataFrame(
        {
            "rank": sectors["rank"].astype(int),
            "sector": sectors["sector_id"].astype(str),
            "chainage (km)": [
                f"{a:.1f}–{b:.1f}"
                for a, b in zip(
                    sectors["chainage_start_km"], sectors["chainage_end_km"], strict=True
                )
            ],
            "nearest town": sectors.get("nearest_town_name"),
            "nearest crossing": sectors.get("nearest_crossing_name"),
            "score": sectors["score"].astype(float),
        }
    )
    for c in [c for c in sectors.columns if c.startswith("contrib_")]:
        table[c.removeprefix("contrib_").replace("_", " ")] = sectors[c].astype(float)
    table["P(top k)"] = sectors["p_top_k"].astype(float)
    table["rank interval"] = [
        f"{int(lo)}–{int(hi)}" if pd.notna(lo) and pd.notna(hi) else ""
        for lo, hi in zip(sectors["rank_low"], sectors["rank_high"], strict=True)
    ]
    table["unstable"] = ["⚠ unstable" if bool(u) else "" for u in sectors["unstable"]]
    return escape_frame(table)


def show_map(
    parts: MapParts | str, update: str | None, view: tuple[list[float], int] | None
) -> None:
    """Draw the map (inside a fragment: map interactions never rerun the page).

    ``parts``: the rendered map, or why it could not be drawn; ``update``: the sector
    colours of this run's weights.
    """

    @st.fragment
    def _draw() -> None:
        if isinstance(parts, str):
            st.error("The map could not be drawn: " + escape_markdown(parts))
            return
        center, zoom = view if view else (None, None)
        draw_map(parts, update=update, height=settings.MAP_HEIGHT_PX, center=center, zoom=zoom)

    _draw()


def upload_section(store: IncidentStore, token: str, identity: Identity, role: str) -> None:
    """Upload, validation report, commit or cancel, the stored batches and their undo.

    Drawn for the role read on this run; the commit and the undo check the role again
    when they write (:mod:`webapp.actions`).
    """
    st.subheader("Add incidents")
    flash = st.session_state.pop("flash", None)
    if flash:
        st.success(flash)
    if not roles.allows(role, "upload"):
        st.info(
            f"You are {role}: uploading incidents needs the analyst role (an admin grants it: "
            "python -m geo users grant EMAIL analyst)."
        )
    else:
        _upload_form(store, token, identity)
    batches_panel(store, identity, role, stored_batches(store, token))


def _upload_form(store: IncidentStore, token: str, identity: Identity) -> None:
    """Draw the uploader, its validation report, and Commit or Cancel."""
    st.caption(
        "GeoJSON, CSV (longitude/latitude columns), ACLED CSV export or GeoPackage, up to "
        f"{settings.MAX_UPLOAD_BYTES // 2**20} MB. Nothing is stored before you commit."
    )
    round_ = st.session_state.get("upload_round", 0)
    uploaded = st.file_uploader("Incident file", type=UPLOAD_TYPES, key=f"upload_{round_}")
    if uploaded is not None:
        report = validate_upload(uploaded.getvalue(), uploaded.name, store, token)
        errors = [p for p in report.problems if p.severity == "error"]
        warnings = [p for p in report.problems if p.severity != "error"]
        c1, c2, c3 = st.columns(3)
        c1.metric("Accepted", report.accepted_count)
        c2.metric("Rejected", report.rejected_count)
        c3.metric("Warnings", len(warnings))
        if report.file_rejected:
            st.error(
                "The file was rejected as a whole: "
                + escape_markdown("; ".join(f"{p.reason} (fix: {p.fix})" for p in errors[:3]))
            )
        elif report.rejected_count:
            st.error(f"{report.rejected_count} feature(s) rejected; the reasons are listed below.")
        if report.problems:
            problems = pd.DataFrame(
                [
                    {
                        "severity": p.severity,
                        "feature": "file" if p.index is None else p.index,
                        "id": p.feature_id,
                        "field": p.field,
                        "value": p.value,
                        "reason": p.reason,
                        "fix": p.fix,
                    }
                    for p in report.problems
                ]
            )
            problems["feature"] = problems["feature"].astype(str)
            st.dataframe(escape_frame(problems), hide_index=True, key="problems")
        if report.accepted_count:
            preview = report.accepted[["id", "date", "type", "description", "source"]].head(200)
            st.dataframe(escape_frame(pd.DataFrame(preview)), hide_index=True, key="preview")
        b1, b2 = st.columns(2)
        commit = b1.button(
            f"Commit {report.accepted_count} valid incident(s)",
            disabled=report.accepted_count == 0,
            type="primary",
            key="commit",
        )
        b2.button("Cancel", on_click=_next_upload, key="cancel")
        if commit:
            try:
                batch = actions.commit_upload(store, report, identity)
            except BorderMonitorError as exc:
                st.error(escape_markdown(exc))
            else:
                st.session_state.flash = (
                    f"Stored {report.accepted_count} incident(s) as batch {escape_markdown(batch)}."
                )
                _next_upload()
                st.session_state.pop(UNDO_CHOICE, None)  # offer the new batch first
                st.rerun()


def _ask_downloads(stamp: str) -> None:
    """Remember that the analyst asked for the files of this analysis."""
    st.session_state.downloads_for = stamp


def downloads_section(
    store: IncidentStore, token: str, params: dict[str, Any], generated_by: str
) -> None:
    """Download buttons for the sectors, the density surface and the report.

    The files are made when the analyst asks (then cached for this analysis), so that
    changing a filter does not rewrite them on every rerun. The PDF names
    ``generated_by``.
    """
    st.subheader("Downloads")
    key = content_key(store, token)
    stamp = f"{key}:{sorted(params.items())!r}"
    if st.session_state.get("downloads_for") != stamp:
        st.button(
            "Prepare the files of this analysis",
            on_click=_ask_downloads,
            args=(stamp,),
            key="prepare_downloads",
        )
        st.caption(
            "Sectors as CSV, GeoJSON and GeoPackage; the selected incidents as CSV (every "
            "field, safe to open in a spreadsheet), in ACLED's layout and as GeoJSON; density "
            "as GeoTIFF; the PDF report."
        )
        return
    result = analyse(store, key, params, token)
    files = [
        ("Sectors (CSV)", "sectors.csv", "text/csv"),
        ("Sectors (GeoJSON)", "sectors.geojson", "application/geo+json"),
        ("Sectors (GeoPackage)", "sectors.gpkg", "application/geopackage+sqlite3"),
        ("Incidents (CSV)", "incidents.csv", "text/csv"),
        ("Incidents (ACLED CSV)", "incidents_acled.csv", "text/csv"),
        ("Incidents (GeoJSON)", "incidents.geojson", "application/geo+json"),
    ]
    if result.density is not None:
        files.append(("Density (GeoTIFF)", "density.tif", "image/tiff"))
    files.append(("Report (PDF)", "report.pdf", "application/pdf"))
    columns = [*st.columns(4), *st.columns(4)]
    for col, (label, name, mime) in zip(columns, files, strict=False):
        col.download_button(
            label,
            data=export_bytes(
                store, key, params, name, token, generated_by if name == "report.pdf" else ""
            ),
            file_name=f"border-{name}",
            mime=mime,
            key=f"dl_{name}",
        )
    if result.density is None:
        st.caption(escape_markdown(result.density_message or "No density surface."))


def main() -> None:
    """Draw the page."""
    st.set_page_config(page_title="Lebanon–Syria border monitor", layout="wide")
    st.title("Lebanon–Syria border monitor")
    identity = sign_in()  # stops the run: sign-in page, or refusal on an exposed address
    st.caption(RECORD_CAPTION)
    _, missing = load_layers()
    for message in missing:
        st.warning(escape_markdown(message))
    try:
        from geo.ingest import open_seeded_store

        store = open_seeded_store()  # created and seeded with the bundled sample on first use
        token = store.content_token()
    except BorderMonitorError as exc:
        st.error(escape_markdown(exc))
        st.stop()
    role = role_of(store, identity)  # read on every run, never kept from sign-in
    account_box(identity, role)
    users_panel(store, identity, role)
    incidents = read_store(store, token)
    all_types = list(settings.INCIDENT_TYPES)
    params = sidebar(all_types, options.date_span(incidents))
    shown = filter_store(store, token, params["since"], params["until"], params["types"])
    st.caption(
        f"{len(shown):,} of {len(incidents):,} stored incidents match the filters · store "
        f"{escape_markdown(store.location)}"
    )
    view_params = options.map_view(params)  # what the map shows
    tab_map, tab_upload, tab_downloads = st.tabs(["Map and ranking", "Upload", "Downloads"])
    with tab_map:
        try:
            key = content_key(store, token)
            result = analyse(store, key, params, token)
            sectors = ranked_sectors(store, key, params, token)
        except BorderMonitorError as exc:
            st.error(escape_markdown(exc))
            result = sectors = None
        if result is not None and not result.evidence_ok:
            st.warning(escape_markdown(result.message))
        elif result is not None:
            st.info(escape_markdown(result.message))
        table = display_table(sectors) if sectors is not None else None
        if table is not None:
            lines = timelines(store, key, view_params, params, token)
            zeros = [0] * (len(lines.iloc[0]) if len(lines) else 0)  # a sector without any
            table.insert(
                3, "monthly incidents", [lines.get(int(s), zeros) for s in sectors["sector_id"]]
            )
        time_view = st.session_state.get("_time_view", {})
        emerging, emerging_reason = (None, None)
        if time_view.get("emerging"):
            emerging, emerging_reason = emerging_stage(
                store, key, params["types"], params["until"], token
            )
        selection = st.session_state.get("sector_table")
        view = None
        rows = getattr(getattr(selection, "selection", None), "rows", None) or []
        chosen_sector = None
        if sectors is not None and rows:
            view = zoom_for_bounds(tuple(sectors.geometry.iloc[rows[0]].bounds))
            chosen_sector = int(sectors["sector_id"].iloc[rows[0]])
        # always two columns: the map keeps its place (a re-mounted map loses its frame)
        map_column, chart_column = st.columns([3, 1])
        with map_column:
            if result is None:
                st.caption("No map without an analysis.")
            else:
                ranked = sectors is not None and bool(sectors["rank"].notna().any())
                layout = {k: params[k] for k in (*ZONE_OPTIONS, "top_k") if k in params}
                emerging_on = bool(time_view.get("emerging"))
                update = data_layers(store, key, view_params, emerging_on, params, token)
                if ranked:
                    update += sector_restyle_script(sectors)
                show_map(
                    reference_map(
                        store, key, layout, ranked, settings.resolve_tile_url(), params, token
                    ),
                    update,
                    view,
                )
        with chart_column:
            if chosen_sector is not None and result is not None:
                sector_chart(result.incidents, chosen_sector)
            else:
                st.caption("Select a sector in the ranked table: its incidents by month and "
                           "type are shown here.")  # fmt: skip
        if time_view.get("emerging"):
            emerging_caption(emerging, emerging_reason)
        if result is not None and result.hotspots is None and result.hotspots_message:
            st.caption(escape_markdown(result.hotspots_message))
        if table is not None:
            st.subheader("Ranked sectors")
            st.caption("Select a row to zoom the map to that sector.")
            contrib = [c for c in table.columns if c in {k.replace("_", " ") for k in CRITERIA}]
            st.dataframe(
                table,
                hide_index=True,
                on_select="rerun",
                selection_mode="single-row",
                key="sector_table",
                column_config={
                    c: st.column_config.ProgressColumn(
                        c, min_value=0.0, max_value=1.0, format="%.3f"
                    )
                    for c in contrib
                }
                | {
                    "score": st.column_config.NumberColumn(format="%.3f"),
                    "monthly incidents": st.column_config.BarChartColumn(
                        "monthly incidents", help="incidents in the sector per month"
                    ),
                },
            )
            for note in result.notes:
                st.caption(escape_markdown(note))
            if time_view.get("compare") and result is not None:
                comparison_panel(comparison_stage(store, key, params, time_view["compare"], token))
    with tab_upload:
        upload_section(store, token, identity, role)
    with tab_downloads:
        if result is not None:
            downloads_section(store, token, params, identity.label)
    heap.freeze_long_lived()  # once per process, after the first whole page


if __name__ == "__main__":  # the page, as Streamlit runs it for each visit
    main()
else:  # imported by `streamlit run app.py` to serve it: the default page is computed at start
    app = st.App(__file__, lifespan=warmup.lifespan)
