r"""Folium's rendered text kept as text: no second Jinja pass over it.

branca 0.8 (``Element.__init__``) compiles any text it is given as a Jinja
template, and folium hands it the text it has just rendered: each element's
header, HTML and script (``MacroElement.render``), each popup
(``Popup.render``), each class include. When the page is rendered, that text
is rendered a second time. Text that survived the first pass, such as an
incident description reading ``{{ 7*7 }}``, is then *evaluated* on the server:
it became ``49``, and a Jinja expression can reach Python objects from there.
HTML escaping cannot prevent this, because braces mean nothing to HTML. The
second pass also costs time: it tokenised every GeoJSON of the map again,
0.25 s of each map's 0.4 s render.

:func:`install_literal_elements` makes an ``Element`` given text keep it as a
:class:`LiteralTemplate`, whose ``render`` returns the text unchanged. It
applies only what the second pass did to text without Jinja syntax, so maps
whose text has no braces render byte for byte as before:

- line endings are normalised to ``\n``, and one trailing newline is dropped
  (Jinja's defaults);
- ``{{'name'}}`` is replaced by ``name``. This is the one use folium makes of
  the second pass: ``GeoJsonStyleMapper`` writes such a reference for a style
  whose value is an element. streamlit-folium resolves it with the same
  pattern. User text passed through :func:`mapview.escape_text` cannot match
  it, because its quotes are escaped.

The package installs this when it is imported (``mapview/__init__.py``), so
the app's map, the downloaded ``map.html`` and the report's HTML all go
through it. The pinned branca version is the one checked
(``tests/test_mapview.py``).
"""

from __future__ import annotations

import re
from typing import Any

import branca.element

__all__ = ["LiteralTemplate", "install_literal_elements"]

_ELEMENT_REFERENCE = re.compile(r"\{\{\s*'([A-Za-z_$][A-Za-z0-9_$]*)'\s*\}\}")
_LINE_END = re.compile(r"\r\n|\r")
_INSTALLED = "_bordermon_literal"


class LiteralTemplate:
    """Text that renders as itself, in place of a Jinja template compiled from it.

    Parameters
    ----------
    text
        Text already rendered by folium.
    """

    def __init__(self, text: str) -> None:
        text = _LINE_END.sub("\n", text)
        if text.endswith("\n"):
            text = text[:-1]
        self.text = _ELEMENT_REFERENCE.sub(r"\1", text)

    def render(self, *args: Any, **kwargs: Any) -> str:
        """Return the text; the arguments a Jinja template would take are ignored."""
        return self.text


def _init(
    self: branca.element.Element,
    template: str | None = None,
    template_name: str | None = None,
) -> None:
    _init.original(self, None, template_name)  # type: ignore[attr-defined]
    self._template_str = template
    if template is not None:
        self._template = LiteralTemplate(template)


def _setstate(self: branca.element.Element, state: dict[str, Any]) -> None:
    text = state.get("_template_str")
    _setstate.original(self, {**state, "_template_str": None})  # type: ignore[attr-defined]
    self._template_str = text
    if text is not None:
        self._template = LiteralTemplate(text)


def install_literal_elements() -> None:
    """Make branca's ``Element`` keep given text as text (idempotent).

    Replaces ``Element.__init__`` and ``Element.__setstate__`` (unpickling) by
    versions that build a :class:`LiteralTemplate` where branca compiled a Jinja
    template. Elements whose template is a class attribute (every folium layer,
    control and the figure itself) are not touched.
    """
    element = branca.element.Element
    if getattr(element, _INSTALLED, False):
        return
    _init.original = element.__init__  # type: ignore[attr-defined]
    _setstate.original = element.__setstate__  # type: ignore[attr-defined]
    element.__init__ = _init  # type: ignore[method-assign]
    element.__setstate__ = _setstate  # type: ignore[method-assign]
    setattr(element, _INSTALLED, True)
