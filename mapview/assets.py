"""The browser libraries of the map, served from the app's own static folder.

Folium points every map at CDNs (jsDelivr, cdnjs, code.jquery.com, ...). On a
network without internet the map would be blank, and on one with internet each
view would tell third parties that the map was opened. :func:`localize_assets`
replaces every script and stylesheet of a map by the copies vendored in
``static/vendor`` (see ``static/vendor/README.md``) and refuses any asset it
does not know, so a new plugin cannot silently reach a CDN.
"""

from __future__ import annotations

import logging
from pathlib import Path

import folium

from geo.errors import ConfigurationError
from geo.settings import PROJECT_ROOT

__all__ = [
    "CSS_FILES",
    "JS_FILES",
    "STATIC_URL",
    "VENDOR_DIR",
    "localize_assets",
    "vendor_path",
]

logger = logging.getLogger(__name__)

#: Folder of the vendored files (served by Streamlit as ``/app/static/vendor``).
VENDOR_DIR = PROJECT_ROOT / "static" / "vendor"
#: URL prefix under which Streamlit serves ``static/`` (``server.enableStaticServing``).
STATIC_URL = "/app/static/vendor"

#: Folium's script names -> vendored file (relative to :data:`VENDOR_DIR`); ``None``: not needed.
JS_FILES: dict[str, str | None] = {
    "leaflet": "leaflet/leaflet.js",
    "jquery": "jquery/jquery.min.js",
    "markerclusterjs": "leaflet.markercluster/leaflet.markercluster.js",
    # Bootstrap and awesome-markers only serve folium.Icon, which the project never uses.
    "bootstrap": None,
    "awesome_markers": None,
}
#: Folium's stylesheet names -> vendored file; ``None``: not needed.
CSS_FILES: dict[str, str | None] = {
    "leaflet_css": "leaflet/leaflet.css",
    "markerclustercss": "leaflet.markercluster/MarkerCluster.css",
    "markerclusterdefaultcss": "leaflet.markercluster/MarkerCluster.Default.css",
    "bootstrap_css": None,
    "glyphicons_css": None,
    "awesome_markers_font_css": None,
    "awesome_markers_css": None,
    "awesome_rotate_css": None,
}


def vendor_path(relative: str) -> Path:
    """Return the absolute path of a vendored file.

    Parameters
    ----------
    relative
        Path below ``static/vendor`` (a value of :data:`JS_FILES` or :data:`CSS_FILES`).
    """
    return VENDOR_DIR / relative


def localize_assets(m: folium.Map, *, base_url: str = STATIC_URL) -> folium.Map:
    """Point every script and stylesheet of ``m`` and its children at vendored copies.

    Only the instances in ``m`` are changed (folium's class attributes are
    left alone).

    Parameters
    ----------
    m
        A folium map, fully built (children added).
    base_url
        URL prefix of ``static/vendor``.

    Returns
    -------
    folium.Map
        ``m`` itself.

    Raises
    ------
    ConfigurationError
        If an element asks for a script or stylesheet that is not vendored.
    """
    for element in _walk(m):
        if hasattr(element, "default_js"):
            element.default_js = _localize(element, element.default_js, JS_FILES, base_url)
        if hasattr(element, "default_css"):
            element.default_css = _localize(element, element.default_css, CSS_FILES, base_url)
    return m


def _localize(
    element: object,
    assets: list[tuple[str, str]],
    table: dict[str, str | None],
    base_url: str,
) -> list[tuple[str, str]]:
    """Return ``assets`` with every URL replaced by its vendored copy."""
    out = []
    for name, url in assets:
        if name not in table:
            raise ConfigurationError(
                f"map element {type(element).__name__} needs {name!r} from {url}, which is not "
                "vendored: add it to static/vendor and to mapview/assets.py, or do not use "
                "that element"
            )
        relative = table[name]
        if relative is None:
            logger.debug("dropping %s (%s): not needed offline", name, url)
            continue
        out.append((name, f"{base_url}/{relative}"))
    return out


def _walk(element: object):
    """Yield ``element`` and all its descendants."""
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)
