"""The app's writes, each checked on the server side at the moment it is made.

Every function here reads the user's role from the store again (never a role
remembered from sign-in or from an earlier run), calls :func:`geo.roles.require`
for the action, and only then writes, naming the user in the audit. Hiding a
button is only a courtesy: a session that sends a crafted widget value, a batch id
it was not offered or the id of a button it was not shown still ends here.

No streamlit here, so the checks are tested without a browser or a script run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geo import roles
from geo.errors import PermissionDeniedError, StoreError
from webapp.identity import Identity, role_of

if TYPE_CHECKING:
    import pandas as pd

    from geo.ingest import IngestReport
    from geo.store import IncidentStore


def commit_upload(store: IncidentStore, report: IngestReport, identity: Identity) -> str:
    """Store the accepted features of ``report`` as a batch uploaded by ``identity``.

    Returns
    -------
    str
        The batch id.

    Raises
    ------
    PermissionDeniedError
        The user's role, read now, is not one that may upload.
    ValidationError
        Nothing to store, or ids already stored (:func:`geo.ingest.store_report`).
    """
    from geo.ingest import store_report

    roles.require(role_of(store, identity), "upload", user=identity.label)
    return store_report(store, report, accept_partial=True, user=identity.audit_name)


def may_undo(batch: pd.Series, identity: Identity, role: str) -> bool:
    """Return whether ``identity`` with ``role`` may undo ``batch`` (a row of ``batches()``).

    The bundled sample that seeds a new store is never undone from the app (one click
    must not empty the store); an uploaded batch is the analyst's who uploaded it.
    """
    if batch["action"] != "add" or bool(batch["undone"]):
        return False
    return roles.allows(role, _undo_action(batch, identity))


def undo_batch(store: IncidentStore, batch_id: object, identity: Identity) -> int:
    """Undo the uploaded batch ``batch_id`` for ``identity``; return the incidents removed.

    Whose batch it is comes from the store's audit now (``ingested_by``), not from what
    the page offered: the user needs ``undo_own`` for their own upload and ``undo_any``
    for anyone else's.

    Raises
    ------
    StoreError
        No such uploaded batch, or it was already undone.
    PermissionDeniedError
        The user's role, read now, does not allow undoing this batch.
    """
    wanted = str(batch_id)
    batches = store.batches()
    match = batches[(batches["batch_id"] == wanted) & (batches["action"] == "add")]
    if match.empty:
        raise StoreError(f"no uploaded batch {wanted!r} in the store; nothing undone")
    batch = match.iloc[0]
    if bool(batch["undone"]):
        raise StoreError(f"batch {wanted!r} was already undone")
    roles.require(role_of(store, identity), _undo_action(batch, identity), user=identity.label)
    return store.undo(wanted, user=identity.audit_name)


def grant_role(store: IncidentStore, identity: Identity, email: str, role: str) -> str:
    """Give ``email`` the ``role``, as ``identity`` (an admin now); return the address.

    Raises
    ------
    PermissionDeniedError
        The user is not an admin now, or tries to change their own role (that is for
        ``python -m geo users``, so that nobody locks every admin out from the page).
    ConfigurationError
        An e-mail or role that is not valid.
    """
    target = _check_manager(store, identity, email)
    store.grant(target, roles.check_role(role), by=identity.label)
    return target


def revoke_role(store: IncidentStore, identity: Identity, email: str) -> bool:
    """Remove the role of ``email``, as ``identity`` (an admin now); return whether it had one.

    Raises
    ------
    PermissionDeniedError
        As :func:`grant_role`.
    """
    target = _check_manager(store, identity, email)
    return store.revoke(target, by=identity.label)


def _undo_action(batch: pd.Series, identity: Identity) -> str:
    """Return ``undo_own`` when ``batch`` was uploaded by ``identity``, else ``undo_any``."""
    owner = batch.get("ingested_by")
    own = identity.email is not None and isinstance(owner, str) and owner == identity.email
    return "undo_own" if own else "undo_any"


def _check_manager(store: IncidentStore, identity: Identity, email: str) -> str:
    """Return ``email`` checked, if ``identity`` may manage users now and it is not theirs."""
    roles.require(role_of(store, identity), "manage_users", user=identity.label)
    target = roles.check_email(email)
    if identity.email is not None and target == identity.email:
        raise PermissionDeniedError(
            f"{identity.email} may not change their own role from the app; another admin "
            "can, or run python -m geo users on the store's machine"
        )
    return target
