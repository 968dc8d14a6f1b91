"""Sign-in for the app: Streamlit's own OpenID Connect login (``st.login``), or local use.

:func:`sign_in` runs first on every script run, before the store is opened:

- ``[auth]`` in ``.streamlit/secrets.toml``: a user who is not signed in sees only the
  sign-in button(s) and nothing of the data; a signed-in user is named by the claims of
  their ID token (``st.user``, signed by the provider and kept by Streamlit in a signed
  cookie).
- no ``[auth]``: the local user, if the server listens on loopback only; otherwise the
  app refuses to serve, says why on the page and logs it
  (:func:`webapp.identity.exposure_problem`).

:func:`account_box` shows who is signed in and their role (read from the store on this
run) with a *Sign out* button (``st.logout``: the identity cookie is removed and the
provider's session ended where it offers an end-session endpoint).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from typing import Any

import streamlit as st
from streamlit import config as st_config
from streamlit.errors import StreamlitAPIException

from mapview import escape_markdown
from webapp.identity import (
    Identity,
    exposure_problem,
    identity_from_claims,
    local_identity,
)

logger = logging.getLogger("webapp.signin")

#: Keys of ``[auth]`` every configuration needs (Streamlit's shared settings).
REQUIRED_AUTH_KEYS = ("redirect_uri", "cookie_secret")


def auth_section() -> Mapping[str, Any] | None:
    """Return the ``[auth]`` section of the secrets, or ``None`` when sign-in is not configured."""
    secrets = st.secrets
    if not secrets.load_if_toml_exists():
        return None
    section = secrets.get("auth")
    return section if isinstance(section, Mapping) else None


def providers(section: Mapping[str, Any]) -> list[str | None]:
    """Return the providers to offer: ``None`` for ``[auth]`` itself, else each ``[auth.NAME]``."""
    named = [
        str(name)
        for name, value in section.items()
        if isinstance(value, Mapping) and ("client_id" in value or "server_metadata_url" in value)
    ]
    return [None] if "client_id" in section or not named else named


def sign_in() -> Identity:
    """Return the user of this session, or stop the script (sign-in page or refusal)."""
    section = auth_section()
    if section is None:
        # st.get_option is this function; read through the module so tests can patch it
        address = st_config.get_option("server.address")
        problem = exposure_problem(address, sys.argv, os.environ)
        if problem:
            logger.error("border monitor refuses to serve: %s", problem)
            st.error("The app refuses to start: " + escape_markdown(problem))
            st.stop()
        return local_identity()
    missing = [k for k in REQUIRED_AUTH_KEYS if not section.get(k)]
    if missing:
        message = f"sign-in is misconfigured: [auth] in .streamlit/secrets.toml lacks {missing}"
        logger.error("border monitor: %s", message)
        st.error(escape_markdown(message))
        st.stop()
    if not st.user.get("is_logged_in"):
        _login_page(section)
        st.stop()
    return identity_from_claims(st.user.to_dict())


def _login_page(section: Mapping[str, Any]) -> None:
    """Draw the sign-in button(s); a click starts the provider's login."""
    st.info("Sign in with your organisation's account to see the border monitor.")
    for provider in providers(section):
        label = "Sign in" if provider is None else f"Sign in with {provider}"
        key = "sign_in" if provider is None else f"sign_in_{provider}"
        if st.button(label, key=key, type="primary"):
            try:
                st.login(provider)
            except StreamlitAPIException as exc:  # a provider section that is incomplete
                logger.error("border monitor: sign-in failed: %s", exc)
                st.error("Sign-in is misconfigured: " + escape_markdown(exc))


def account_box(identity: Identity, role: str) -> None:
    """Show the user and their role in the sidebar, with *Sign out* when signed in."""
    sb = st.sidebar
    if identity.local:
        sb.caption(
            f"Local use without sign-in: you ({escape_markdown(identity.name)}) are the admin "
            "of this machine's incident store. A team signs in instead (README: Team "
            "deployment)."
        )
        return
    shown = escape_markdown(identity.name)
    if identity.email and identity.email != identity.name:
        shown += f" ({escape_markdown(identity.email)})"
    sb.markdown(f"Signed in as **{shown}**")
    sb.caption(f"Role: {role}" + (f" ({escape_markdown(identity.note)})" if identity.note else ""))
    if sb.button("Sign out", key="sign_out"):
        st.logout()
        st.stop()
