"""The default page computed when the server starts, before anyone opens it.

``streamlit run app.py`` serves ``app.py`` through its ``st.App`` (see the end of
``app.py``), whose start-up hook, :func:`lifespan`, starts :func:`warm_default_page` in
a background thread and lets the server answer at once. That function asks the page's
cached calls (:mod:`webapp.stage_cache`) for what the first page shows with the
sidebar's defaults: the stored incidents, the analysis and ranking, the sector
timelines and the map's data layers (not the reference map: see
:func:`warm_default_page`). The first analyst to open the page
then finds them computed (measured: the first page after a restart drawn in about the
time of any later page, instead of 5–6 s more); one who comes sooner waits on the same
computations (the caches compute each value once), never on a second copy.

What it asks must equal what the page asks, or it warms nothing:
``tests/test_app.py`` runs this, then the page, and counts no stage computed twice.

May import: ``geo``, ``layers``, ``mapview``, :mod:`webapp` and streamlit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from geo import settings

logger = logging.getLogger(__name__)


def warm_default_page() -> bool:
    """Compute what the default page shows, through the page's caches.

    Returns
    -------
    bool
        Whether everything was computed; a failure is logged, never raised (the page
        then computes, and reports, on its first run).
    """
    from geo.ingest import open_seeded_store
    from webapp import stage_cache as cache
    from webapp.options import default_options, map_view

    try:
        cache.load_layers()
        store = open_seeded_store()
        token = store.content_token()
        incidents = cache.read_store(store, token)
        params = default_options(incidents, settings.INCIDENT_TYPES)
        view = map_view(params)
        cache.filter_store(store, token, params["since"], params["until"], params["types"])
        key = cache.content_key(store, token)
        cache.ranked_sectors(store, key, params, token)
        cache.timelines(store, key, view, params, token)
        cache.data_layers(store, key, view, False, params, token)
        # Not the reference map (0.3 s): serialising it imports streamlit-folium, which
        # must first be imported during a run of the page (webapp.map_panel says why).
    except Exception:  # any failure: the page's own run will meet it and say so
        logger.exception("the default page was not computed at start")
        return False
    logger.info("default page computed at start")
    return True


@contextlib.asynccontextmanager
async def lifespan(_app: Any) -> AsyncIterator[None]:
    """Start :func:`warm_default_page` in the background when the server starts."""
    threading.Thread(target=warm_default_page, name="bordermon-warm-up", daemon=True).start()
    yield
