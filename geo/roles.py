"""Who may do what: the three roles of a team's monitor and the actions they allow.

============  ===========================================================
role          may
============  ===========================================================
``viewer``    see the map and the ranking, download files and the report
``analyst``   also upload incidents and undo the batches they uploaded
``admin``     also undo any batch and manage users (grant and revoke roles)
============  ===========================================================

Roles are kept in the store (:meth:`geo.store.IncidentStore.grant`), managed with
``python -m geo users``. A signed-in user without a role is a viewer. Every check is
:func:`require`, called on the server side by whatever acts (the app's upload and
undo handlers, the command line), never only by hiding a button.

May import: ``geo.errors`` only.
"""

from __future__ import annotations

import re

from geo.errors import ConfigurationError, PermissionDeniedError

#: The roles, least to most allowed.
ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")
#: The role of a signed-in user that no admin has granted one.
DEFAULT_ROLE = "viewer"
#: Actions and the least role that may take each.
ACTIONS: dict[str, str] = {
    "read": "viewer",
    "download": "viewer",
    "upload": "analyst",
    "undo_own": "analyst",
    "undo_any": "admin",
    "manage_users": "admin",
}
_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


def check_role(role: str) -> str:
    """Return ``role`` if it is one of :data:`ROLES`.

    Raises
    ------
    ConfigurationError
        For any other value.
    """
    if role not in ROLES:
        raise ConfigurationError(f"role {role!r} is unknown; use one of: {', '.join(ROLES)}")
    return role


def check_email(email: str) -> str:
    """Return ``email`` lower-cased and stripped, if it looks like an address.

    Raises
    ------
    ConfigurationError
        When it is not ``name@domain.tld``.
    """
    value = str(email).strip().lower()
    if not _EMAIL.match(value):
        raise ConfigurationError(
            f"{email!r} is not an e-mail address; fix: give the address the user signs in with"
        )
    return value


def allows(role: str | None, action: str) -> bool:
    """Return whether ``role`` (``None``: :data:`DEFAULT_ROLE`) may take ``action``."""
    least = ACTIONS[action]
    return ROLES.index(role or DEFAULT_ROLE) >= ROLES.index(least)


def require(role: str | None, action: str, *, user: str | None = None) -> None:
    """Raise unless ``role`` may take ``action``.

    Raises
    ------
    PermissionDeniedError
        Naming the user, their role, the action and the role it needs.
    """
    if not allows(role, action):
        who = user or "this user"
        raise PermissionDeniedError(
            f"{who} is {role or DEFAULT_ROLE} and may not {action.replace('_', ' ')}; "
            f"it needs the role {ACTIONS[action]} (an admin grants it with "
            f"python -m geo users grant EMAIL {ACTIONS[action]})"
        )
