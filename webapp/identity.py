"""Who is using the app, and whether the app may serve them at all.

Two ways to run the app:

- **Local** (no ``[auth]`` in ``.streamlit/secrets.toml``): one analyst on their own
  machine, the server bound to a loopback address. That user is the admin of their own
  store; the audit names them by their operating-system user name.
- **Team** (``[auth]`` configured): everyone signs in with the organisation's OpenID
  Connect provider (``st.login``); their e-mail address names them in the audit and finds
  their role in the store (:mod:`geo.roles`), read again at every action.

Without ``[auth]`` the app refuses to serve anyone when the server may listen on any
address other than loopback (:func:`exposure_problem`): a local app started on a shared
network would otherwise let anyone who reaches the port upload and undo as its admin.

No streamlit here: :mod:`webapp.signin` reads the secrets, the options and ``st.user``
and passes plain values in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from geo import roles
from geo.errors import ConfigurationError

if TYPE_CHECKING:
    from geo.store import IncidentStore

#: Role of the local user (no sign-in): the admin of their own store.
LOCAL_ROLE = "admin"
#: Environment variable Streamlit reads ``server.address`` from.
ADDRESS_ENV = "STREAMLIT_SERVER_ADDRESS"
#: Command-line flag that sets ``server.address``.
ADDRESS_FLAG = "--server.address"


@dataclass(frozen=True)
class Identity:
    """The user of one session.

    Attributes
    ----------
    email
        The verified e-mail address the user signed in with (lower-cased), or ``None``:
        the local user, or a signed-in user whose provider gave no usable address.
    name
        What the app shows (the provider's ``name`` claim, else the e-mail; the local
        user's operating-system name). Untrusted text: escape it before showing it.
    local
        Whether this is the local user of an app without sign-in.
    note
        Why a signed-in user's e-mail cannot be used for a role, if it cannot.
    """

    email: str | None
    name: str
    local: bool = False
    note: str = ""

    @property
    def audit_name(self) -> str | None:
        """Return the name the audit records (``None``: the operating-system user)."""
        return None if self.local else self.email

    @property
    def label(self) -> str:
        """Return who generated a report or took an action, as written in files."""
        if self.local:
            from geo.store.base import current_user

            return current_user()
        return self.email or self.name or "unknown signed-in user"


def local_identity() -> Identity:
    """Return the identity of the local user (no sign-in configured)."""
    from geo.store.base import current_user

    return Identity(email=None, name=current_user(), local=True)


def identity_from_claims(claims: Mapping[str, object]) -> Identity:
    """Return the identity of a signed-in user from their ID-token claims (``st.user``).

    The ``email`` claim names the user; a provider that says the address is not
    verified (``email_verified`` false) gets no role from it (the user stays a viewer),
    since anyone could otherwise claim an admin's address.

    Parameters
    ----------
    claims
        The claims of ``st.user`` (``email``, ``email_verified``, ``name``, ``sub``).
    """
    raw = claims.get("email")
    name = str(claims.get("name") or raw or claims.get("sub") or "").strip()
    if not raw:
        return Identity(
            email=None,
            name=name,
            note="the identity provider gave no e-mail address; ask for the email scope",
        )
    try:
        email = roles.check_email(str(raw))
    except ConfigurationError:
        return Identity(email=None, name=name, note="the identity provider's e-mail is invalid")
    if str(claims.get("email_verified")).strip().lower() == "false":  # False, or "false"
        return Identity(
            email=None, name=name or email, note=f"{email} is not verified by the provider"
        )
    return Identity(email=email, name=name or email)


def role_of(store: IncidentStore, identity: Identity) -> str:
    """Return the role of ``identity`` now, read from the store (never cached).

    The local user is :data:`LOCAL_ROLE`; a signed-in user without a usable e-mail, or
    without a granted role, is :data:`geo.roles.DEFAULT_ROLE`.

    Parameters
    ----------
    store
        The incident store, which keeps the roles.
    identity
        The session's user.
    """
    if identity.local:
        return LOCAL_ROLE
    if identity.email is None:
        return roles.DEFAULT_ROLE
    return store.role_of(identity.email) or roles.DEFAULT_ROLE


def is_loopback(address: str | None) -> bool:
    """Return whether a server bound to ``address`` is reachable from this machine only.

    ``None`` or empty means every interface (Streamlit's default): not loopback.
    ``localhost`` and any address of 127.0.0.0/8 or ``::1`` are.
    """
    text = (address or "").strip().strip("[]").lower()
    if not text:
        return False
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to any interface


def addresses_from_argv(argv: Sequence[str]) -> list[str]:
    """Return the values of ``--server.address`` on a command line (``X`` or ``=X``)."""
    found = []
    for i, word in enumerate(argv):
        if word == ADDRESS_FLAG and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif word.startswith(ADDRESS_FLAG + "="):
            found.append(word.split("=", 1)[1])
    return found


def exposure_problem(option: str | None, argv: Sequence[str], env: Mapping[str, str]) -> str | None:
    """Return why an app without sign-in must not serve, or ``None`` when it may.

    Every place the address can come from is checked: the effective option
    (``st.get_option("server.address")``), the ``--server.address`` flag and
    ``$STREAMLIT_SERVER_ADDRESS``. Any that is not loopback (an empty address means
    every interface) is a reason to refuse.

    Parameters
    ----------
    option
        The ``server.address`` option in force.
    argv
        The server's command line (``sys.argv``).
    env
        The server's environment (``os.environ``).
    """
    sources = [("server.address", option)]
    sources += [(ADDRESS_FLAG, a) for a in addresses_from_argv(argv)]
    if ADDRESS_ENV in env:
        sources.append((f"${ADDRESS_ENV}", env[ADDRESS_ENV]))
    for source, address in sources:
        if not is_loopback(address):
            shown = repr(address) if address else "empty (every network interface)"
            return (
                f"the server may listen on {shown} ({source}), not only on this machine, "
                "and no sign-in is configured: anyone reaching it could upload and undo as "
                "an admin. Fix: start it on 127.0.0.1 (python -m streamlit run app.py "
                "--server.address 127.0.0.1), or configure sign-in in "
                ".streamlit/secrets.toml [auth] (README: Team deployment)"
            )
    return None
