"""The map's controls: legend, attribution, legend swatches, the initial view.

:class:`_Legend` and :class:`_Attribution` are Leaflet controls whose text must
already be escaped (:func:`_swatch` escapes its label); :func:`zoom_for_bounds`
gives the centre and zoom that fit the border in the frame.
"""

from __future__ import annotations

import math

from branca.element import MacroElement
from folium.template import Template

from mapview.escaping import escape_text

#: Fixed CSS of the map's controls (no user text).
_CONTROL_CSS = "<style>.leaflet-control-attribution{max-width:66%;}</style>"

#: Zoom step of the map (Leaflet's ``zoomSnap``): quarter steps let the whole
#: border fill the frame instead of jumping between too close and too far.
ZOOM_SNAP = 0.25


def zoom_for_bounds(
    bounds: tuple[float, float, float, float],
    *,
    width_px: int = 700,
    height_px: int = 600,
    padding: float = 0.12,
    snap: float = ZOOM_SNAP,
) -> tuple[list[float], float]:
    """Return the centre ``[lat, lon]`` and Web Mercator zoom that fit ``bounds``.

    The zoom is the largest multiple of ``snap`` at which ``bounds`` fit in the
    map with ``padding`` of its width and height left free, so that corridors
    drawn around a line and the attribution bar do not hide its ends.

    Parameters
    ----------
    bounds
        ``(west, south, east, north)`` in degrees.
    width_px, height_px
        Size of the map.
    padding
        Fraction of the map's width and height kept free around ``bounds``.
    snap
        Zoom step (Leaflet's ``zoomSnap``).
    """
    west, south, east, north = bounds

    def merc_y(lat: float) -> float:
        s = math.sin(math.radians(lat))
        return math.log((1 + s) / (1 - s)) / 2.0

    dx = max(east - west, 1e-6) / 360.0
    dy = max(merc_y(north) - merc_y(south), 1e-6) / (2.0 * math.pi)
    usable = 1.0 - padding
    fit = min(math.log2(usable * width_px / 256.0 / dx), math.log2(usable * height_px / 256.0 / dy))
    zoom = math.floor(fit / snap + 1e-9) * snap
    return [(south + north) / 2.0, (west + east) / 2.0], float(max(1.0, min(zoom, 17.0)))


class _Legend(MacroElement):
    """A static legend in a Leaflet control; ``html`` must already be escaped."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: {{ this.position|tojson }}});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "bordermon-legend");
                div.style.cssText = "background:rgba(255,255,255,0.9);padding:6px 8px;" +
                    "font:11px/1.35 sans-serif;border-radius:4px;box-shadow:0 0 4px #888;" +
                    "max-width:240px";
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str, *, position: str = "bottomright") -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html
        self.position = position


class _Attribution(MacroElement):
    """Adds escaped attribution text to the map's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = text


def _swatch(colour: str, label: str, *, shape: str = "square") -> str:
    """Return one legend row (``label`` escaped here)."""
    radius = "50%" if shape == "circle" else "2px"
    return (
        f'<div><span style="display:inline-block;width:12px;height:12px;background:{colour};'
        f'border:1px solid #555;border-radius:{radius};margin-right:5px"></span>'
        f"{escape_text(label)}</div>"
    )
