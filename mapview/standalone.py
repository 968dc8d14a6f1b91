"""Write a folium map as one HTML file that works without a network.

Folium's page loads Leaflet, jQuery and its plugins from CDNs. Here every
``<script src>`` and stylesheet ``<link>`` is replaced by the content of the
vendored copy in ``static/vendor`` (images referenced by the CSS become
``data:`` URIs), so the file opens from a USB stick on an air-gapped machine.
Assets folium lists but the border monitor's maps never use (Bootstrap, Font
Awesome, awesome-markers) are dropped; any other asset without a local copy is
an error, never a silent CDN reference.

A Content-Security-Policy in the page lets it load nothing from anywhere but
itself (``data:`` images, and the origins of tile layers the analyst
configured), so even a string that slipped through escaping could not fetch
or send anything.
"""

from __future__ import annotations

import base64
import html
import logging
import mimetypes
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from geo import settings
from geo.errors import ConfigurationError

logger = logging.getLogger(__name__)

#: Folder of the vendored browser libraries.
VENDOR_DIR = settings.PROJECT_ROOT / "static" / "vendor"
#: Assets folium declares that our maps do not need offline (icons, Bootstrap UI).
OPTIONAL_ASSETS = re.compile(
    r"bootstrap|glyphicons|fontawesome|font-awesome|awesome-markers|awesome\.rotate",
    re.IGNORECASE,
)
_SCRIPT = re.compile(r"<script\b[^>]*\bsrc\s*=\s*\"([^\"]+)\"[^>]*>\s*</script>", re.IGNORECASE)
_STYLESHEET = re.compile(
    r"<link\b[^>]*\brel\s*=\s*\"stylesheet\"[^>]*\bhref\s*=\s*\"([^\"]+)\"[^>]*/?>", re.IGNORECASE
)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)([^'\")]+)\1\s*\)")
_VERSION = re.compile(r"-\d+(\.\d+)+")


def _vendor_files(vendor_dir: Path) -> dict[str, list[Path]]:
    """Index the vendored files by lower-case file name."""
    index: dict[str, list[Path]] = {}
    for path in sorted(vendor_dir.rglob("*")):
        if path.is_file():
            index.setdefault(path.name.lower(), []).append(path)
    return index


def resolve_asset(url: str, *, vendor_dir: Path = VENDOR_DIR) -> Path | None:
    """Return the vendored file for an asset URL, or ``None`` if there is none.

    Parameters
    ----------
    url
        A CDN URL (``https://cdn.../leaflet.js``), an app path
        (``/app/static/vendor/leaflet/leaflet.js``) or a relative path.
    vendor_dir
        Folder of the vendored files.

    Returns
    -------
    pathlib.Path or None
        The file, found by its path under ``static/vendor/``, else by its file
        name (version suffixes such as ``jquery-3.7.1.min.js`` ignored) when
        exactly one vendored file has it.
    """
    path = urlsplit(url).path
    marker = "static/vendor/"
    if marker in path:
        candidate = (vendor_dir / path.split(marker, 1)[1]).resolve()
        if candidate.is_file() and candidate.is_relative_to(vendor_dir.resolve()):
            return candidate
    index = _vendor_files(vendor_dir)
    name = Path(path).name.lower()
    for key in (name, _VERSION.sub("", name)):
        if len(index.get(key, [])) == 1:
            return index[key][0]
    return None


def _inline_css(css: str, base: Path) -> str:
    """Replace relative ``url(...)`` references in CSS by ``data:`` URIs."""

    def replace(match: re.Match[str]) -> str:
        target = match.group(2)
        if target.startswith(("data:", "#")):
            return match.group(0)
        file = (base.parent / urlsplit(target).path).resolve()
        if not file.is_file():
            logger.info("stylesheet %s refers to missing %s; dropped", base.name, target)
            return "none"
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        encoded = base64.b64encode(file.read_bytes()).decode("ascii")
        return f'url("data:{mime};base64,{encoded}")'

    return _CSS_URL.sub(replace, css)


def _tile_origins(folium_map: Any) -> list[str]:
    """Return the ``scheme://host`` of every tile layer of the map."""
    origins = set()
    for child in getattr(folium_map, "_children", {}).values():
        tiles = getattr(child, "tiles", None)
        if isinstance(tiles, str) and "://" in tiles:
            parts = urlsplit(tiles.replace("{s}", "a"))
            origins.add(f"{parts.scheme}://{parts.netloc}")
            logger.warning(
                "the standalone map loads tiles from %s: it shows them only where that "
                "server is reachable",
                parts.netloc,
            )
    return sorted(origins)


def inline_assets(document: str, *, vendor_dir: Path = VENDOR_DIR) -> str:
    """Replace the page's script and stylesheet references by their vendored content.

    Parameters
    ----------
    document
        A rendered folium page.
    vendor_dir
        Folder of the vendored files.

    Returns
    -------
    str
        The page with no external script or stylesheet left.

    Raises
    ------
    ConfigurationError
        An asset the map needs has no copy in ``vendor_dir``.
    """

    def script(match: re.Match[str]) -> str:
        url = html.unescape(match.group(1))
        file = resolve_asset(url, vendor_dir=vendor_dir)
        if file is None:
            return _missing(url)
        code = file.read_text(encoding="utf-8").replace("</script", "<\\/script")
        return f"<script>/* {file.relative_to(vendor_dir).as_posix()} */\n{code}\n</script>"

    def stylesheet(match: re.Match[str]) -> str:
        url = html.unescape(match.group(1))
        file = resolve_asset(url, vendor_dir=vendor_dir)
        if file is None:
            return _missing(url)
        css = _inline_css(file.read_text(encoding="utf-8"), file).replace("</style", "<\\/style")
        return f"<style>/* {file.relative_to(vendor_dir).as_posix()} */\n{css}\n</style>"

    return _STYLESHEET.sub(stylesheet, _SCRIPT.sub(script, document))


def _missing(url: str) -> str:
    """Drop an optional asset; refuse a needed one."""
    if OPTIONAL_ASSETS.search(url):
        logger.info("standalone map: %s is not needed offline; dropped", url)
        return ""
    raise ConfigurationError(
        f"standalone map: asset {url!r} has no copy in static/vendor; "
        "fix: vendor it there (see static/vendor/README.md) or do not use the plugin"
    )


def _csp(tile_origins: list[str]) -> str:
    """Return the Content-Security-Policy of the standalone page."""
    images = " ".join(["data:", "blob:", *tile_origins])
    return (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        f"img-src {images}; font-src data:; connect-src 'none'; form-action 'none'; "
        "base-uri 'none'"
    )


def render_standalone_html(folium_map: Any, *, vendor_dir: Path = VENDOR_DIR) -> str:
    """Return the map as one self-contained HTML page.

    Parameters
    ----------
    folium_map
        A :class:`folium.Map` (its user text already escaped by
        :func:`mapview.escape_text`).
    vendor_dir
        Folder of the vendored files.
    """
    document = inline_assets(folium_map.get_root().render(), vendor_dir=vendor_dir)
    policy = (
        f'<meta http-equiv="Content-Security-Policy" '
        f'content="{html.escape(_csp(_tile_origins(folium_map)), quote=False)}">'
    )
    document, count = re.subn(r"<head>", "<head>\n    " + policy, document, count=1)
    if not count:
        document = policy + document
    remaining = [
        url
        for url in re.findall(
            r"<(?:script|link|img)\b[^>]*\b(?:src|href)\s*=\s*\"([^\"]+)\"", document
        )
        if not url.startswith(("data:", "#"))
    ]
    if remaining:
        raise ConfigurationError(
            f"standalone map: external reference {remaining[0]!r} left in the page; "
            "fix: vendor it in static/vendor"
        )
    return document


def write_standalone_html(
    folium_map: Any, path: str | os.PathLike[str], *, vendor_dir: Path = VENDOR_DIR
) -> Path:
    """Write the map as one HTML file that works offline.

    Parameters
    ----------
    folium_map
        A :class:`folium.Map`.
    path
        Output ``.html`` file (replaced).
    vendor_dir
        Folder of the vendored files.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = render_standalone_html(folium_map, vendor_dir=vendor_dir)
    partial = path.with_name(path.name + ".part")
    partial.write_text(document, encoding="utf-8")
    os.replace(partial, path)
    logger.info("wrote the standalone map to %s (%d bytes)", path, len(document.encode()))
    return path
