"""Roles, users and who did what: geo.roles, the store's users table, ``python -m geo users``."""

from __future__ import annotations

import pytest

from geo.cli import main
from geo.errors import ConfigurationError, PermissionDeniedError
from geo.ingest import store_report, validate_file
from geo.roles import ACTIONS, ROLES, allows, check_email, require
from geo.store import open_store
from geo.store.base import current_user
from layers.paths import SAMPLE_INCIDENTS_PATH


def test_each_role_allows_what_the_issue_says():
    table = {role: {a for a in ACTIONS if allows(role, a)} for role in ROLES}
    assert table["viewer"] == {"read", "download"}
    assert table["analyst"] == {"read", "download", "upload", "undo_own"}
    assert table["admin"] == set(ACTIONS)
    assert not allows(None, "upload")  # a user without a role is a viewer


def test_require_names_the_user_the_action_and_the_fix():
    with pytest.raises(PermissionDeniedError, match=r"v@x\.org is viewer and may not upload.*"
                       r"users grant EMAIL analyst"):  # fmt: skip
        require("viewer", "upload", user="v@x.org")
    require("admin", "undo_any")


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b", "<img src=x>@x.org", "a b@x.org"])
def test_bad_email_is_refused(bad):
    with pytest.raises(ConfigurationError, match="not an e-mail address"):
        check_email(bad)


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "s.gpkg", create=True)


def test_grant_revoke_and_audit(store):
    assert store.role_of("ana@example.org") is None and store.users().empty
    store.grant("Ana@Example.org ", "analyst", by="boss@example.org")
    assert store.role_of("ANA@example.org") == "analyst"
    store.grant("ana@example.org", "admin", by="boss@example.org")  # replaces
    users = store.users()
    assert users[["email", "role", "granted_by"]].values.tolist() == [
        ["ana@example.org", "admin", "boss@example.org"]
    ]
    assert store.revoke("ana@example.org", by="boss@example.org") is True
    assert store.revoke("ana@example.org") is False
    assert store.role_of("ana@example.org") is None
    audit = store.audit()
    assert audit["action"].tolist() == ["grant", "grant", "revoke"]
    assert audit["user"].tolist() == ["boss@example.org"] * 3
    with pytest.raises(ConfigurationError, match="role 'root' is unknown"):
        store.grant("x@y.org", "root")


def test_uploads_and_undos_are_attributed(store):
    report = validate_file(SAMPLE_INCIDENTS_PATH)
    batch = store_report(store, report, user="ana@example.org")
    store.undo(batch, user="boss@example.org")
    row = store.batches().iloc[0]
    assert (row["ingested_by"], row["undone"], row["undone_by"]) == (
        "ana@example.org",
        True,
        "boss@example.org",
    )
    assert row["undone_at"] >= row["ingested_at"]


def test_the_command_line_user_is_the_default(store):
    batch = store_report(store, validate_file(SAMPLE_INCIDENTS_PATH))
    assert store.batches().set_index("batch_id").loc[batch, "ingested_by"] == current_user()


def test_users_command(store, capsys):
    path = store.location
    assert main(["users", "--store", path, "grant", "Ana@example.org", "analyst"]) == 0
    assert main(["users", "--store", path, "list"]) == 0
    out = capsys.readouterr().out
    assert "ana@example.org\tanalyst\tgranted by" in out
    assert main(["users", "--store", path, "revoke", "ana@example.org"]) == 0
    assert "role revoked" in capsys.readouterr().out
    assert main(["users", "--store", path, "grant", "not-an-address", "admin"]) == 1
    assert "not an e-mail address" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["users", "--store", path, "grant", "x@y.org", "root"])
    assert exit_info.value.code == 2
