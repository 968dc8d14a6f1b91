"""Folium maps of the border monitor and the escaping of user text for HTML/JS.

Used by ``app.py`` (through streamlit-folium) and by the HTML export of
``geo report``. Every string that comes from a user (incident descriptions,
sources, uploaded field names) passes through :func:`escape_text` on a display
copy before it reaches a popup, tooltip or table; every script and stylesheet
is served from ``static/vendor`` (:mod:`mapview.assets`). Importing the package
makes folium keep its rendered text as text (:mod:`mapview.rendering`): branca
would otherwise evaluate ``{{ ... }}`` in that text as Jinja on the server.
"""

from __future__ import annotations

from mapview.builder import build_map
from mapview.escaping import escape_frame, escape_markdown, escape_text
from mapview.rendering import install_literal_elements
from mapview.standalone import write_standalone_html

install_literal_elements()  # before any map is built: see mapview.rendering

__all__ = ["build_map", "escape_frame", "escape_markdown", "escape_text", "write_standalone_html"]
