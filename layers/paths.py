"""Where the project's files are: defined once, imported by ``layers`` and ``geo``.

``PROJECT_ROOT`` is the repository (the folder holding ``geo/``, ``layers/`` and
``data/``); ``SHARED_DIR`` the shared material beside it (``../shared``).
"""

from __future__ import annotations

from pathlib import Path

#: Root of the repository.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Committed reference data built by ``python -m layers.build``.
DATA_DIR = PROJECT_ROOT / "data"
#: The bundled sample of reported incidents (seeded into a new store).
SAMPLE_INCIDENTS_PATH = DATA_DIR / "sample_incidents.geojson"
#: Source extracts committed with the data (small, derived, with provenance).
SOURCES_DIR = DATA_DIR / "sources"
#: The shared material beside the repository.
SHARED_DIR = PROJECT_ROOT.parent / "shared"
