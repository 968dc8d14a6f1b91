"""Shared fixtures. Add yours with small edits; keep them in-memory and explicit about CRS."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _isolated_store(tmp_path, monkeypatch):
    """Point every test at its own incident store, never at the developer's.

    Tests that need another store set ``BORDERMON_STORE`` themselves or pass a path.
    """
    monkeypatch.setenv("BORDERMON_STORE", str(tmp_path / "store" / "incidents.gpkg"))
