"""Hostile incidents for the escaping tests: every text field and the file name a payload.

Each shown field holds the four payloads of issue 11, named after the field, so that a
dialog (or a text found raw) says which field it came from, and a Jinja expression
(branca evaluated it on the server until ``mapview.rendering``; evaluated, it reads
``description49``)::

    <img src=x onerror=alert('description')> ${alert('description')}
    </script><script>alert('description')</script> javascript:alert('description')
    {{ 'description' ~ 7*7 }}

The file name is HTML too (a file name cannot hold ``/``, so not ``</script>``); the
first incident has no id, so its generated id starts with the file name's stem.
:func:`build_hostile_report` stores them through ``python -m geo ingest`` and writes
``python -m geo report --format html,pdf`` from that store.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

#: Text fields of an incident that a person may see somewhere.
TEXT_FIELDS = ("description", "source", "location_note", "actor1", "actor2", "commodity", "unit")
#: The uploaded file's name.
FILE_NAME = "<img src=x onerror=alert('filename')>${alert('filename')}.geojson"


def payload(field: str) -> str:
    """Return the four payloads of issue 11 and the Jinja one, each naming ``field``."""
    return (
        f"{field.upper()}: <img src=x onerror=alert('{field}')> ${{alert('{field}')}} "
        f"</script><script>alert('{field}')</script> javascript:alert('{field}') "
        f"{{{{ '{field}' ~ 7*7 }}}}"
    )


def hostile_features(n: int = 12, *, fraction: float = 0.5) -> list[dict]:
    """Return ``n`` incidents near the border's point at ``fraction`` of its length.

    At least 10 (the evidence the ranking needs), so that their sector ranks first and
    the report lists them.
    """
    import layers

    line = layers.load_border_line()
    features = []
    for i in range(n):
        point = line.interpolate(fraction + 0.002 * (i % 3), normalized=True)
        props = {
            "date": f"2025-06-{1 + i:02d}",
            "type": ("smuggling", "seizure", "clash")[i % 3],
            "location_precision_m": 1000,
            "quantity": 5,
            **{field: payload(field) for field in TEXT_FIELDS},
        }
        if i:  # the first has no id: it is generated from the file name
            props["id"] = f"H-{i}<b>${{x}}</b>"
        features.append(
            {
                "type": "Feature",
                "properties": props,
                "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
            }
        )
    return features


def hostile_file(folder: Path, n: int = 12, *, fraction: float = 0.5) -> Path:
    """Write the hostile incidents as a GeoJSON file named :data:`FILE_NAME` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FILE_NAME
    document = {"type": "FeatureCollection", "features": hostile_features(n, fraction=fraction)}
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def build_hostile_report(folder: Path) -> dict[str, Path]:
    """Store the hostile file through the CLI and write its HTML map and PDF report.

    Returns
    -------
    dict
        ``store``, ``upload``, ``html`` (``map.html``) and ``pdf`` (``report.pdf``).
    """
    from geo.cli import main

    upload = hostile_file(folder / "upload")
    store = folder / "store.gpkg"
    out = folder / "out"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        assert main(["ingest", str(upload), "--store", str(store)]) == 0
        code = main(["report", "--store", str(store), "--out", str(out), "--format", "html,pdf"])
    assert code == 0
    return {"store": store, "upload": upload, "html": out / "map.html", "pdf": out / "report.pdf"}
