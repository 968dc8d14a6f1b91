"""Sign-in and roles in the app, through AppTest (``at.user`` is what ``st.user`` reads).

Without ``[auth]`` the app is one local admin on loopback and refuses any other address;
with ``[auth]`` a user signs in, and what they may do is their role in the store, read
on every run. A viewer's session that sets widget state itself, or replays the id of a
button it was never shown, stores and undoes nothing.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.util import patch_config_options

import layers
from geo import settings
from mapview import escape_markdown

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
TIMEOUT = 180
#: A complete [auth] section (never contacted: AppTest fakes the signed-in user).
AUTH = {
    "auth": {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "a-test-secret-that-is-long-enough-0123456789",
        "client_id": "border-monitor",
        "client_secret": "not-a-secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}


def _upload(prefix: str, n: int = 3) -> bytes:
    """A GeoJSON upload of ``n`` incidents on the border, ids ``prefix-0..``."""
    point = layers.load_border_line().interpolate(0.6, normalized=True)
    features = [
        {
            "type": "Feature",
            "properties": {
                "id": f"{prefix}-{i}",
                "date": f"2025-03-0{i + 1}",
                "type": "smuggling",
                "source": "test",
            },
            "geometry": {"type": "Point", "coordinates": [point.x, point.y]},
        }
        for i in range(n)
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A store seeded with the sample: ana and bo analysts, ada admin, bo's upload stored."""
    from geo.ingest import open_seeded_store, validate_file
    from webapp.actions import commit_upload
    from webapp.identity import Identity

    monkeypatch.setenv(settings.STORE_ENV_VAR, str(tmp_path / "team" / "incidents.gpkg"))
    store = open_seeded_store()
    store.grant("ana@example.org", "analyst")
    store.grant("bo@example.org", "analyst")
    store.grant("ada@example.org", "admin")
    report = validate_file(
        _upload("BO"), filename="bo.geojson", existing=store, border=layers.load_border_line()
    )
    commit_upload(store, report, Identity(email="bo@example.org", name="Bo"))
    return store


def _signed_in(email: str | None, **claims) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets = AUTH
    at.user = {"is_logged_in": email is not None, **({"email": email} if email else {}), **claims}
    return at.run()


def _live_uploads(store) -> list[str]:
    batches = store.batches()
    return batches[(batches["action"] == "add") & ~batches["undone"]]["batch_id"].tolist()


def _texts(at: AppTest) -> str:
    parts = [*at.markdown, *at.caption, *at.info, *at.error, *at.success]
    return "\n".join(str(e.value) for e in parts)


# --- without [auth] -------------------------------------------------------------------------


def test_without_auth_on_loopback_the_local_user_is_the_admin(store):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert "Local use without sign-in" in caption and "admin" in caption
    assert not [b for b in at.button if b.key == "sign_out"]
    assert at.file_uploader  # uploads as before
    assert [e.label for e in at.sidebar.expander] == ["Users"]  # the admin of their store


@pytest.mark.parametrize("address", ["0.0.0.0", "", "192.168.1.20", None])
def test_without_auth_another_address_is_refused(store, address, caplog):
    with caplog.at_level(logging.ERROR), patch_config_options({"server.address": address}):
        at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "The app refuses to start" in at.error[0].value
    assert not at.tabs and not at.dataframe and not at.file_uploader  # nothing is served
    assert any("refuses to serve" in r.getMessage() for r in caplog.records)  # the server log


def test_without_auth_the_address_environment_variable_is_checked(store, monkeypatch):
    monkeypatch.setenv("STREAMLIT_SERVER_ADDRESS", "0.0.0.0")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert "STREAMLIT\\_SERVER\\_ADDRESS" in at.error[0].value
    assert not at.tabs


# --- with [auth] ----------------------------------------------------------------------------


def test_with_auth_a_visitor_sees_only_the_sign_in(store):
    at = _signed_in(None)
    assert not at.exception
    assert at.button(key="sign_in").label == "Sign in"
    assert not at.tabs and not at.dataframe and not at.sidebar.slider
    assert str(store.location) not in _texts(at)  # nothing about the data either


def test_with_auth_and_no_address_check_needed_on_any_interface(store):
    with patch_config_options({"server.address": "0.0.0.0"}):
        at = _signed_in("vic@example.org")
    assert not at.exception and not at.error
    assert at.tabs


def test_a_viewer_sees_the_map_and_downloads_but_cannot_upload_or_undo(store):
    at = _signed_in("vic@example.org", name="Vic <b>**")
    assert not at.exception
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "Signed in as **Vic \\<b\\>\\*\\*" in sidebar  # the name escaped
    assert "Role: viewer" in [c.value for c in at.sidebar.caption]
    assert at.button(key="sign_out")
    assert any("rank" in d.value.columns for d in at.dataframe)  # the ranking
    assert at.button(key="prepare_downloads")
    assert not at.file_uploader
    assert not [b for b in at.button if b.key in ("commit", "undo")]
    assert "uploading incidents needs the analyst role" in _texts(at)
    assert not at.sidebar.expander  # no Users


def test_a_viewer_who_sets_widget_state_or_replays_button_ids_changes_nothing(store):
    # The ids of the widgets that write, from an analyst's and an admin's pages.
    ana = _signed_in("ana@example.org")
    ana.file_uploader[0].set_value(("a.geojson", _upload("ANA"), "application/geo+json")).run()
    ada = _signed_in("ada@example.org")
    writers = {"commit", "undo", "undo_batch", "grant", "grant_email", "grant_role"}
    ids = {w.key: w.id for at in (ana, ada) for w in at._tree if getattr(w, "key", None) in writers}
    assert set(ids) == writers
    uploads, count, users = _live_uploads(store), store.count(), store.users()

    vic = _signed_in("vic@example.org")
    for key in ("commit", "undo", "upload_0", "grant"):  # widget state set by hand
        vic.session_state[key] = True
    vic.session_state["undo_batch"] = uploads[-1]
    vic.session_state["grant_email"] = "vic@example.org"
    vic.session_state["grant_role"] = "admin"
    vic.run()
    assert not vic.exception
    # A crafted request: the analyst's and admin's buttons triggered by id, bo's batch
    # chosen for undo, and vic named for the admin role.
    states = vic._tree.get_widget_states()
    crafted = {"undo_batch": uploads[-1], "grant_email": "vic@example.org", "grant_role": "admin"}
    for key, widget_id in ids.items():
        state = states.widgets.add()
        state.id = widget_id
        if key in crafted:
            state.string_value = crafted[key]
        else:
            state.trigger_value = True
    vic._run(WidgetStates(widgets=states.widgets))
    assert not vic.exception
    assert "Role: viewer" in [c.value for c in vic.sidebar.caption]  # still signed in
    assert store.count() == count and _live_uploads(store) == uploads
    assert store.users().equals(users) and store.role_of("vic@example.org") is None


def test_an_analyst_uploads_and_the_batch_is_theirs(store):
    at = _signed_in("ana@example.org", name="Ana")
    assert "Role: analyst" in [c.value for c in at.sidebar.caption]
    at.file_uploader[0].set_value(("a.geojson", _upload("ANA"), "application/geo+json")).run()
    at.button(key="commit").click().run()
    assert not at.exception
    assert "Stored 3 incident(s)" in at.success[0].value
    batches = store.batches()
    assert batches["ingested_by"].iloc[-1] == "ana@example.org"
    shown = next(d.value for d in at.dataframe if "ingested_by" in d.value.columns)
    assert shown["ingested_by"].tolist()[-2:] == ["bo@example.org", "ana@example.org"]
    assert {"undone_by", "undone_at"} <= set(shown.columns)


def test_a_revoked_analyst_replaying_commit_stores_nothing(store):
    at = _signed_in("ana@example.org")
    at.file_uploader[0].set_value(("a.geojson", _upload("ANA"), "application/geo+json")).run()
    commit = at.button(key="commit")
    count = store.count()
    store.revoke("ana@example.org")  # after the page was drawn with Commit
    commit.click().run()
    assert not at.exception
    assert store.count() == count
    assert "Role: viewer" in [c.value for c in at.sidebar.caption]  # read again, not kept


def test_an_analyst_cannot_undo_another_users_batch(store):
    bo_batch = _live_uploads(store)[-1]
    at = _signed_in("ana@example.org")
    assert not [b for b in at.button if b.key == "undo"]  # bo's upload is not offered
    assert "you may undo only the batches you uploaded" in _texts(at)
    at.session_state["undo_batch"] = bo_batch  # set by hand: still nothing
    at.session_state["undo"] = True
    at.run()
    assert not at.exception
    assert _live_uploads(store) == [bo_batch]
    # ... and undoes their own (in a new session: the hand-set "undo" above would fire the
    # button as soon as it is drawn, on ana's own batch)
    at = _signed_in("ana@example.org")
    at.file_uploader[0].set_value(("a.geojson", _upload("ANA"), "application/geo+json")).run()
    at.button(key="commit").click().run()
    assert not at.exception
    assert len(at.selectbox(key="undo_batch").options) == 1
    at.button(key="undo").click().run()
    assert "Removed 3 incident(s)" in at.success[0].value
    batches = store.batches().set_index("batch_id")
    assert not batches.loc[bo_batch, "undone"]
    assert batches["undone_by"].dropna().tolist() == ["ana@example.org"]


def test_an_admin_undoes_any_batch_and_manages_users(store):
    bo_batch = _live_uploads(store)[-1]
    at = _signed_in("ada@example.org")
    assert "Role: admin" in [c.value for c in at.sidebar.caption]
    choice = at.selectbox(key="undo_batch")
    assert "by bo@example.org" in choice.options[0]
    at.button(key="undo").click().run()
    assert not at.exception
    assert "Removed 3 incident(s)" in at.success[0].value
    assert store.batches().set_index("batch_id").loc[bo_batch, "undone_by"] == "ada@example.org"
    # the Users expander: grant a role, then see it listed
    assert [e.label for e in at.sidebar.expander] == ["Users"]
    at.text_input(key="grant_email").set_value("Vic@Example.org")
    at.selectbox(key="grant_role").set_value("analyst")
    at.button(key="grant").click().run()
    assert store.role_of("vic@example.org") == "analyst"
    assert store.users().set_index("email").loc["vic@example.org", "granted_by"] == (
        "ada@example.org"
    )
    assert at.sidebar.success[0].value == escape_markdown("vic@example.org: analyst")


def test_signing_out_ends_the_session(store):
    at = _signed_in("ana@example.org")
    at.button(key="sign_out").click().run()
    assert at.user.get("is_logged_in") is False
    at.run()
    assert at.button(key="sign_in")
    assert not at.tabs and not at.file_uploader


def test_an_unverified_email_gets_no_role(store):
    at = _signed_in("ada@example.org", email_verified=False)
    caption = " ".join(c.value for c in at.sidebar.caption)
    assert "Role: viewer" in caption and "not verified" in caption
    assert not at.file_uploader and not at.sidebar.expander
