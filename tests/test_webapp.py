"""Who may do what in the app, checked without a script run (webapp.identity, webapp.actions).

The writes read the role from the store at the moment they write: a role revoked after
the page was drawn, a batch id the page never offered, or another analyst's batch is
refused there, whatever the page showed.
"""

from __future__ import annotations

import json

import pytest

import layers
from geo.errors import PermissionDeniedError, StoreError
from geo.store.base import current_user
from webapp import actions
from webapp.identity import (
    Identity,
    exposure_problem,
    identity_from_claims,
    is_loopback,
    local_identity,
    role_of,
)

ANA = Identity(email="ana@example.org", name="Ana")
BO = Identity(email="bo@example.org", name="Bo")
ADA = Identity(email="ada@example.org", name="Ada")
VIC = Identity(email="vic@example.org", name="Vic")


@pytest.fixture
def store():
    from geo.ingest import open_seeded_store

    store = open_seeded_store()  # the test's own store (conftest), seeded with the sample
    store.grant(ANA.email, "analyst")
    store.grant(BO.email, "analyst")
    store.grant(ADA.email, "admin")
    return store


def _report(store, prefix: str, n: int = 2):
    """A validated upload of ``n`` incidents on the border, ids ``prefix-0..``."""
    from geo.ingest import validate_file

    line = layers.load_border_line()
    point = line.interpolate(0.4, normalized=True)
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": f"{prefix}-{i}",
                "date": f"2025-05-0{i + 1}",
                "type": "seizure",
                "source": "test",
            },
            "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
        }
        for i in range(n)
    ]
    data = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    report = validate_file(data, filename=f"{prefix}.geojson", existing=store, border=line)
    assert report.accepted_count == n, report.to_text()
    return report


def _batch(store, batch_id: str):
    batches = store.batches()
    return batches[batches["batch_id"] == batch_id].iloc[0]


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("127.4.5.6", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("0.0.0.0", False), ("::", False), ("", False), (None, False),
     ("192.168.1.20", False), ("10.0.0.1", False), ("monitor.example.org", False)],
)  # fmt: skip
def test_only_loopback_addresses_are_local(address, loopback):
    assert is_loopback(address) is loopback


def test_every_source_of_the_address_is_checked():
    assert exposure_problem("127.0.0.1", ["streamlit", "run", "app.py"], {}) is None
    assert "'0.0.0.0' (server.address)" in exposure_problem("0.0.0.0", [], {})
    assert "every network interface" in exposure_problem(None, [], {})
    assert "every network interface" in exposure_problem("", [], {})
    flag = exposure_problem("127.0.0.1", ["run", "app.py", "--server.address", "0.0.0.0"], {})
    assert "(--server.address)" in flag
    assert "(--server.address)" in exposure_problem("127.0.0.1", ["--server.address="], {})
    env = exposure_problem("127.0.0.1", [], {"STREAMLIT_SERVER_ADDRESS": "10.1.2.3"})
    assert "'10.1.2.3' ($STREAMLIT_SERVER_ADDRESS)" in env
    assert "[auth]" in env and "127.0.0.1" in env  # the two fixes
    assert exposure_problem("127.0.0.1", ["--server.address", "localhost"], {}) is None


def test_claims_name_the_user_by_a_verified_email():
    ana = identity_from_claims({"email": " Ana@Example.ORG ", "name": "Ana", "sub": "1"})
    assert (ana.email, ana.name, ana.local) == ("ana@example.org", "Ana", False)
    assert ana.audit_name == ana.label == "ana@example.org"
    unverified = identity_from_claims({"email": "ada@example.org", "email_verified": False})
    assert unverified.email is None and "not verified" in unverified.note
    assert identity_from_claims({"email": "ada@example.org", "email_verified": "false"}).note
    assert identity_from_claims({"email": "ada@example.org", "email_verified": True}).email
    assert identity_from_claims({"sub": "x"}).email is None
    assert identity_from_claims({"email": "not an address"}).email is None


def test_roles_are_read_from_the_store(store):
    assert role_of(store, local_identity()) == "admin"
    assert role_of(store, ANA) == "analyst"
    assert role_of(store, VIC) == "viewer"  # signed in, never granted
    assert role_of(store, Identity(email=None, name="no address")) == "viewer"
    store.revoke(ANA.email)
    assert role_of(store, ANA) == "viewer"  # at once, no cache


def test_a_viewer_cannot_commit_and_nothing_is_stored(store):
    before = store.count()
    with pytest.raises(PermissionDeniedError, match=r"vic@example\.org is viewer and may not"):
        actions.commit_upload(store, _report(store, "V"), VIC)
    assert store.count() == before
    assert not (store.batches()["action"] == "add").any()


def test_an_analyst_commit_is_attributed_to_their_email(store):
    batch = actions.commit_upload(store, _report(store, "A"), ANA)
    assert _batch(store, batch)["ingested_by"] == "ana@example.org"


def test_the_role_is_read_when_writing_not_when_the_page_was_drawn(store):
    report = _report(store, "A")
    store.revoke(ANA.email)  # after the page offered Commit to an analyst
    with pytest.raises(PermissionDeniedError):
        actions.commit_upload(store, report, ANA)
    store.grant(ANA.email, "analyst")
    batch = actions.commit_upload(store, report, ANA)
    store.grant(ANA.email, "viewer")
    with pytest.raises(PermissionDeniedError, match="may not undo own"):
        actions.undo_batch(store, batch, ANA)
    assert not _batch(store, batch)["undone"]


def test_analysts_undo_their_own_batches_only_and_admins_any(store):
    ana = actions.commit_upload(store, _report(store, "A"), ANA)
    bo = actions.commit_upload(store, _report(store, "B"), BO)
    with pytest.raises(PermissionDeniedError, match="may not undo any"):
        actions.undo_batch(store, bo, ANA)
    assert not _batch(store, bo)["undone"]
    assert actions.undo_batch(store, ana, ANA) == 2
    assert _batch(store, ana)["undone_by"] == "ana@example.org"
    assert actions.undo_batch(store, bo, ADA) == 2
    assert _batch(store, bo)["undone_by"] == "ada@example.org"


def test_crafted_batch_ids_undo_nothing(store):
    seed = str(store.batches()["batch_id"].iloc[0])
    count = store.count()
    for wanted in (seed, "no-such-batch", None, ["a list"]):
        with pytest.raises(StoreError):
            actions.undo_batch(store, wanted, ADA)  # even an admin: the sample is not an upload
    assert store.count() == count


def test_the_local_user_is_admin_and_audited_by_their_system_name(store):
    me = local_identity()
    batch = actions.commit_upload(store, _report(store, "L"), me)
    assert _batch(store, batch)["ingested_by"] == current_user()
    assert actions.undo_batch(store, batch, me) == 2
    assert _batch(store, batch)["undone_by"] == current_user()


def test_only_admins_manage_users_and_never_their_own_role(store):
    with pytest.raises(PermissionDeniedError, match="may not manage users"):
        actions.grant_role(store, ANA, "vic@example.org", "admin")
    assert store.role_of("vic@example.org") is None
    assert actions.grant_role(store, ADA, " Vic@Example.org", "analyst") == "vic@example.org"
    users = store.users().set_index("email")
    assert users.loc["vic@example.org", "granted_by"] == "ada@example.org"
    with pytest.raises(PermissionDeniedError, match="their own role"):
        actions.revoke_role(store, ADA, "ada@example.org")
    assert actions.revoke_role(store, ADA, "vic@example.org") is True
    assert store.role_of("vic@example.org") is None


def test_the_checks_need_no_streamlit_and_geo_never_imports_the_app():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    code = "import sys, webapp.actions, webapp.identity; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
    for path in [*root.glob("geo/**/*.py"), *root.glob("layers/**/*.py")]:
        text = path.read_text(encoding="utf-8")
        assert "import streamlit" not in text and "webapp" not in text, path


def test_the_heap_is_frozen_once_and_what_was_garbage_is_collected_first(monkeypatch):
    import gc
    import weakref

    from webapp import heap

    monkeypatch.setattr(heap, "_frozen", False)
    gc.unfreeze()
    try:

        class Node:
            pass

        cycle = Node()
        cycle.self = cycle  # garbage only a collection frees
        alive = weakref.ref(cycle)
        del cycle
        assert alive() is not None
        assert heap.freeze_long_lived() is True
        assert gc.get_freeze_count() > 1000  # the modules and what they hold
        assert alive() is None  # collected first, not frozen
        count = gc.get_freeze_count()
        assert heap.freeze_long_lived() is False  # once per process
        assert gc.get_freeze_count() == count
    finally:
        gc.unfreeze()


def test_the_controls_values_become_the_analysis_options():
    import datetime as dt

    import pandas as pd

    from geo import settings
    from webapp.options import default_options, options_from_controls

    kinds = list(settings.INCIDENT_TYPES)
    day = dt.date(2025, 1, 1)
    chosen = options_from_controls(
        date_range=(day,),  # the analyst has picked only the first day so far
        types=["clash", "seizure"],
        all_types=kinds,
        sector_km=7,
        corridor_km=2.5,
        bandwidth_km=1.5,
        half_life_days=90,
        weights=dict.fromkeys(settings.PRIORITY_WEIGHTS, 0.0),
    )
    assert chosen == {
        "since": None, "until": None, "types": ("clash", "seizure"), "sector_km": 7.0,
        "corridor_km": 2.5, "weights": None, "bandwidth_m": 1500.0, "half_life_days": 90.0,
    }  # fmt: skip
    stored = pd.DataFrame({"date": pd.to_datetime(["2025-03-02", "2024-01-05"])})
    start = default_options(stored, kinds)
    assert (start["since"], start["until"]) == (dt.date(2024, 1, 5), dt.date(2025, 3, 2))
    assert start["types"] is None and start["bandwidth_m"] is None
    assert start["weights"] == {c: float(w) for c, w in settings.PRIORITY_WEIGHTS.items()}
    assert default_options(stored.iloc[:0], kinds)["since"] is None
