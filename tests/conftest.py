"""Shared fixtures. Add yours with small edits; keep them in-memory and explicit about CRS."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    """Point every test at its own incident store, never at the developer's.

    Tests that need another store set ``BORDERMON_STORE`` themselves or pass a path.
    """
    monkeypatch.setenv("BORDERMON_STORE", str(tmp_path / "store" / "incidents.gpkg"))


# --- Synthetic border (issue 5): a straight east-west line in the metric CRS --------------
#: Western end of the synthetic border, in METRIC_CRS metres (near 36.2°E, 34.3°N).
SYNTHETIC_ORIGIN = (500_000.0, 33_000.0)


def metric_to_geographic(geometry):
    """Return a shapely geometry given in METRIC_CRS as EPSG:4326 (lon, lat)."""
    import numpy as np
    import shapely
    from pyproj import Transformer

    from geo import settings

    transformer = Transformer.from_crs(settings.METRIC_CRS, 4326, always_xy=True)
    return shapely.transform(
        geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


@pytest.fixture
def straight_border():
    """A 50 km straight border running east from SYNTHETIC_ORIGIN, in EPSG:4326.

    Its vertices are transformed exactly, so in METRIC_CRS it is a straight 50 km
    segment: chainage is x - x0 and the offset is y - y0 (Syria to the north, on
    the left of the line's direction).
    """
    from shapely.geometry import LineString

    x0, y0 = SYNTHETIC_ORIGIN
    return metric_to_geographic(LineString([(x0, y0), (x0 + 50_000.0, y0)]))


# --- PostgreSQL + PostGIS (issue 12) ---------------------------------------------------------
@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL + PostGIS server (tests/pgcluster.py), PostGIS in ``public``.

    ``BORDERMON_TEST_PG_CLUSTER`` (a folder) uses the one ``.ci/run`` started (it removes
    it); ``BORDERMON_TEST_PG`` (a URL) a server of your own (no restart test then).
    Without the binaries the PostGIS tests are skipped, saying why, except on CI
    (``CI=true``), where they fail: CI must run them.
    """
    import os

    import pgcluster

    started = os.environ.get("BORDERMON_TEST_PG_CLUSTER")
    if started:
        yield pgcluster.PgCluster(started)
        return
    own = os.environ.get("BORDERMON_TEST_PG")
    reason = None if own else pgcluster.available()
    try:
        import psycopg  # noqa: F401
    except ImportError:
        reason = "psycopg is not installed (pip install -r requirements.txt)"
    if reason:
        outcome, message = pgcluster.when_unavailable(reason)
        getattr(pytest, outcome)(message)
    if own:
        yield pgcluster.OwnServer(own)
        return
    cluster = pgcluster.PgCluster()
    try:
        cluster.start()
        cluster.sql("CREATE EXTENSION IF NOT EXISTS postgis")
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def pg_url(pg_server):
    """A ``postgresql://`` URL of a new, empty schema of the test database (its search_path)."""
    import uuid

    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.sql(f"CREATE SCHEMA {schema}")
    joint = "&" if "?" in pg_server.url else "?"
    yield f"{pg_server.url}{joint}options=-csearch_path%3D{schema},public"
    pg_server.sql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(scope="session")
def hostile_report(tmp_path_factory):
    """A store of hostile incidents (tests/hostile_fixtures.py) and its map.html and report.pdf.

    Made once a session through ``python -m geo ingest`` and ``python -m geo report``:
    the static checks (tests/test_escaping.py) and the browser (tests/test_browser.py)
    share it.
    """
    from hostile_fixtures import build_hostile_report

    return build_hostile_report(tmp_path_factory.mktemp("hostile"))
