"""The app's panels that write: the stored batches with their undo, and the users.

Each button hands its request to :mod:`webapp.actions`, which reads the role from the
store again and checks it before writing; what is drawn here (which batches are
offered, whether the Users expander shows) only follows the role read on this run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd
import streamlit as st

from geo import roles
from geo.errors import BorderMonitorError
from mapview import escape_frame, escape_markdown
from webapp import actions

if TYPE_CHECKING:
    from geo.store import IncidentStore
    from webapp.identity import Identity

#: Key of the choice of the upload to undo (forgotten after each commit and undo, so the
#: latest upload is offered first).
UNDO_CHOICE = "undo_batch"
#: Columns of the stored-batches table, in order.
BATCH_COLUMNS = (
    "batch_id",
    "ingested_at",
    "ingested_by",
    "action",
    "source_file",
    "accepted_count",
    "rejected_count",
    "rows",
    "undone",
    "undone_by",
    "undone_at",
)


def batches_panel(
    store: IncidentStore, identity: Identity, role: str, batches: pd.DataFrame
) -> None:
    """Show the stored batches (who uploaded and who undid each) and the undo control.

    ``batches``: :meth:`IncidentStore.batches` of the store's current content.
    """
    live = batches[~batches["undone"]]
    with st.expander(f"Stored batches ({len(live)})"):
        shown = batches[[c for c in BATCH_COLUMNS if c in batches.columns]]
        st.dataframe(escape_frame(pd.DataFrame(shown)), hide_index=True, key="batches")
    uploads = live[live["action"] == "add"]
    if uploads.empty:
        st.caption("No upload to undo: the stored batches are the bundled sample only.")
        return
    mine = uploads[[actions.may_undo(row, identity, role) for _, row in uploads.iterrows()]]
    if mine.empty:
        st.caption(
            f"You are {role}: "
            + (
                "you may undo only the batches you uploaded."
                if roles.allows(role, "undo_own")
                else "undoing a batch needs the analyst role."
            )
        )
        return
    options = mine["batch_id"].astype(str).tolist()[::-1]  # the latest first
    details = {
        str(r["batch_id"]): f"{r['source_file']} · {int(r['rows'])} incident(s) · by "
        f"{r['ingested_by']} · {r['batch_id']}"
        for _, r in mine.iterrows()
    }
    chosen = st.selectbox(
        "Upload to undo",
        options,
        format_func=lambda b: details.get(b, str(b)),
        key=UNDO_CHOICE,
        help="Analysts undo their own uploads; admins any upload.",
    )
    rows = uploads.set_index(uploads["batch_id"].astype(str))["rows"].get(str(chosen))
    label = "Undo this upload" + (f" ({int(rows)} incident(s))" if rows is not None else "")
    if st.button(label, key="undo"):
        try:
            removed = actions.undo_batch(store, chosen, identity)
        except BorderMonitorError as exc:
            st.error(escape_markdown(exc))
        else:
            st.session_state.pop(UNDO_CHOICE, None)
            st.session_state.flash = (
                f"Removed {removed} incident(s) of batch {escape_markdown(chosen)}."
            )
            st.rerun()


def users_panel(store: IncidentStore, identity: Identity, role: str) -> None:
    """Draw the admin's *Users* expander: who has which role, grant and revoke."""
    if not roles.allows(role, "manage_users"):
        return
    with st.sidebar.expander("Users"):
        st.caption(
            "Anyone who signs in is a viewer until given a role. Also: "
            "python -m geo users list|grant EMAIL ROLE|revoke EMAIL."
        )
        flash = st.session_state.pop("users_flash", None)
        if flash:
            st.success(escape_markdown(flash))
        users = store.users()
        if users.empty:
            st.caption("No one has a role yet.")
        else:
            st.dataframe(escape_frame(users), hide_index=True, key="users_table")
        email = st.text_input("E-mail", key="grant_email")
        new_role = st.selectbox("Role", roles.ROLES, index=1, key="grant_role")
        if st.button("Grant", key="grant"):
            _manage(lambda: f"{actions.grant_role(store, identity, email, new_role)}: {new_role}")
        if len(users):
            gone = st.selectbox("Revoke the role of", users["email"].tolist(), key="revoke_email")
            if st.button("Revoke", key="revoke"):
                _manage(lambda: _revoke(store, identity, gone))


def _revoke(store: IncidentStore, identity: Identity, email: str) -> str:
    """Revoke ``email``'s role; return what happened."""
    had = actions.revoke_role(store, identity, email)
    return f"{email}: " + ("role revoked (a viewer)" if had else "had no role")


def _manage(change: Callable[[], str]) -> None:
    """Run a grant or revoke; show its error, or rerun saying what was done."""
    try:
        done = change()
    except BorderMonitorError as exc:
        st.error(escape_markdown(exc))
    else:
        st.session_state.users_flash = done
        st.rerun()
