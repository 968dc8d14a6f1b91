"""The app's map: the reference map rendered once, its data and ranking sent as updates.

streamlit-folium's ``st_folium`` renders the whole folium map to HTML and JavaScript on
every run (0.9 s on a 100,000-incident store, after 0.7 s of building it), and when its
script changes the browser mounts a new map. Here the map is split by what it depends on:

- :func:`serialise_map` renders a built map once into :class:`MapParts`, the very
  arguments ``st_folium`` would send. The app renders the reference map
  (:func:`mapview.builder.build_reference_map`: reference layers and sectors) once per
  sector layout;
- the data layers of the current filters (incidents, density, hot spots) travel as
  :func:`mapview.builder.data_layers_script`, and the ranking under the current weights
  as :func:`mapview.sector_layer.sector_restyle_script`. streamlit-folium's frontend runs
  them on the mounted map (its ``feature_group`` argument) whenever they change;
- :func:`draw_map` sends both. The script is the same from run to run, so the browser
  keeps its map (zoom, layers switched off) and only the data layers and colours change.

``tests/test_map_panel.py`` checks that :func:`serialise_map` gives what ``st_folium``
sends for the same map, so an upgrade of streamlit-folium that changes it fails a test
(the version is pinned in ``requirements.txt``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import branca
import folium

logger = logging.getLogger(__name__)

#: The component's key prefix (as ``st_folium(key=...)``).
MAP_KEY = "map"


@dataclass(frozen=True)
class MapParts:
    """What streamlit-folium's component needs to draw a map, rendered once.

    Attributes
    ----------
    script, header, html
        The map's JavaScript, head and body, as ``st_folium`` renders them.
    map_id
        The map's element id.
    css_links, js_links
        Stylesheets and scripts (our vendored copies).
    component_key
        ``st_folium``'s key for this script: the same script keeps the same map.
    """

    script: str
    header: str
    html: str
    map_id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    component_key: str

    @property
    def size(self) -> int:
        """Return the bytes of the rendered text (what each run sends)."""
        return len(self.script.encode()) + len(self.header.encode()) + len(self.html.encode())


def _links(m: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return the stylesheets and scripts of ``m``'s elements, as ``st_folium`` collects them."""

    def walk(element: Any):
        if isinstance(element, branca.colormap.ColorMap | folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    css: list[str] = []
    js: list[str] = []
    for element in walk(m):
        if isinstance(element, branca.colormap.ColorMap):  # pragma: no cover - never drawn
            raise ValueError("a colour map would make streamlit-folium load d3 from a CDN")
        css += [href for _, href in getattr(element, "default_css", [])]
        js += [src for _, src in getattr(element, "default_js", [])]
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


def serialise_map(m: folium.Map) -> MapParts:
    """Render ``m`` once into the arguments ``st_folium`` would send for it.

    The steps and their order are ``st_folium``'s (streamlit-folium 0.27): the root, the
    map, its HTML and header, then its script (which renames the map's elements).
    ``m`` is changed by this and must not be drawn again.
    """
    sf = _streamlit_folium()
    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    map_id = sf.get_full_id(m)
    css, js = _links(m)
    return MapParts(
        script=script,
        header=header,
        html=html,
        map_id=map_id,
        css_links=css,
        js_links=js,
        component_key=sf.generate_js_hash(script, MAP_KEY, False),
    )


def component_arguments(
    parts: MapParts,
    *,
    update: str | None,
    height: int,
    center: list[float] | None = None,
    zoom: int | None = None,
) -> dict[str, Any]:
    """Return the keyword arguments of streamlit-folium's component for ``parts``.

    ``update``: JavaScript run on the mounted map whenever it changes (the data layers
    and the sector colours); nothing is returned from the map (``returned_objects=[]``).
    """
    return {
        "script": parts.script,
        "header": parts.header,
        "html": parts.html,
        "id": parts.map_id,
        "key": parts.component_key,
        "height": height,
        "width": None,  # the column's width
        "returned_objects": [],
        "default": {},
        "zoom": zoom,
        "center": center,
        "feature_group": update,
        "return_on_hover": False,
        "layer_control": None,
        "pixelated": False,
        "css_links": list(parts.css_links),
        "js_links": list(parts.js_links),
        "wrap_longitude": False,
    }


def draw_map(parts: MapParts, **options: Any) -> None:
    """Draw the map of ``parts`` (see the module docstring).

    ``options``: those of :func:`component_arguments` (``update``, ``height``,
    ``center``, ``zoom``).
    """
    _streamlit_folium()._component_func(**component_arguments(parts, **options))


def _streamlit_folium() -> Any:
    """Return the ``streamlit_folium`` module, imported in the page's run.

    streamlit-folium declares its component when first imported, and Streamlit registers
    a component only when it is declared during a run of the page: imported when the
    server starts (:mod:`webapp.warmup`, or uvicorn importing ``app.py``), the map's
    frame would get a 404. So it is imported here, never at a module's top.
    """
    import streamlit_folium

    return streamlit_folium
