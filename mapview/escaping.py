"""Escaping of untrusted text before it reaches folium's HTML and JavaScript.

Folium writes popup and tooltip text as raw HTML inside JavaScript template
literals (backtick strings), and ``GeoJsonTooltip``/``GeoJsonPopup`` insert
property values and field names raw. ``html.escape`` alone is not enough: a
``${...}`` placeholder still runs inside a template literal, and a backslash or
backtick can end it. :func:`escape_text` also turns backtick, ``$`` and
backslash into HTML character references, which the browser shows as the
original characters once the HTML is parsed, but which mean nothing to
JavaScript.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

__all__ = ["escape_frame", "escape_markdown", "escape_text", "script_json"]

_MARKDOWN_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_JS_REFERENCES = str.maketrans({"`": "&#96;", "$": "&#36;", "\\": "&#92;"})


def escape_text(s: object) -> str:
    """Return ``s`` as text safe inside HTML and inside a JavaScript template literal.

    Parameters
    ----------
    s
        Any value; ``None`` and NaN become an empty string, anything else is
        converted with ``str`` first.

    Returns
    -------
    str
        ``html.escape(text, quote=True)`` with backtick, ``$`` and backslash
        replaced by ``&#96;``, ``&#36;`` and ``&#92;``.

    Examples
    --------
    >>> escape_text("<img src=x onerror=alert(1)>")
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> escape_text("${alert(1)}")
    '&#36;{alert(1)}'
    """
    if s is None or (isinstance(s, float) and math.isnan(s)) or s is pd.NA or s is pd.NaT:
        return ""
    return html.escape(str(s), quote=True).translate(_JS_REFERENCES)


def escape_markdown(s: object) -> str:
    """Return ``s`` as Markdown that shows the text literally.

    Streamlit renders messages (``st.error``, ``st.caption``) as Markdown: user
    text there could make a link, an image fetched from anywhere, or a coloured
    directive. Every ASCII punctuation character is backslash-escaped, which
    CommonMark shows as the character itself; newlines become spaces.

    Parameters
    ----------
    s
        Any value; ``None`` and NaN become an empty string.
    """
    if s is None or (isinstance(s, float) and math.isnan(s)) or s is pd.NA or s is pd.NaT:
        return ""
    text = " ".join(str(s).splitlines())
    return "".join("\\" + c if c in _MARKDOWN_PUNCTUATION else c for c in text)


def escape_frame(frame: pd.DataFrame, *, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Return a display copy of ``frame`` with text columns and column names escaped.

    The input is not modified. Text (object or string) columns are passed
    through :func:`escape_text`; numbers, dates and geometry are kept, so
    the copy can still be drawn and sorted. Column names are escaped too,
    because folium shows field names raw.

    Parameters
    ----------
    frame
        A DataFrame or GeoDataFrame.
    columns
        Only these columns' values are escaped (default: every text column).

    Returns
    -------
    pandas.DataFrame
        A copy of the same class as ``frame``.
    """
    out = frame.copy()
    geometry_name = getattr(frame, "_geometry_column_name", None)
    chosen = set(columns) if columns is not None else None
    for name in out.columns:
        if name == geometry_name:
            continue
        if chosen is not None and name not in chosen:
            continue
        series = out[name]
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            out[name] = series.map(_escape_or_keep_missing).astype(object)
    renames: dict[Any, str] = {
        c: escape_text(c) for c in out.columns if c != geometry_name and escape_text(c) != c
    }
    if renames:
        out = out.rename(columns=renames)
    return out


def _escape_or_keep_missing(value: object) -> object:
    """Escape ``value`` unless it is missing (kept as ``None`` for display)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return escape_text(value)


def script_json(value: Any) -> str:
    r"""Return ``value`` as JSON that is safe inside a ``<script>`` (as Jinja's ``tojson``).

    ``<``, ``>`` and ``&`` are written as ``\u003c``, ``\u003e`` and ``\u0026``, so no
    text in it can close the script element or start an HTML entity; keys are sorted.

    Examples
    --------
    >>> print(script_json({"a": "</script>"}))
    {"a": "\u003c/script\u003e"}
    """
    text = json.dumps(value, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
