"""``python -m geo users list|grant EMAIL ROLE|revoke EMAIL``: who may do what.

Roles (:mod:`geo.roles`) are kept in the store that ``--store`` names: ``viewer``
(map, ranking, downloads), ``analyst`` (also uploads and undoes their own batches),
``admin`` (also undoes any batch and manages users). A signed-in user without a role
is a viewer. Whoever can run this command on the store's machine (or reach the
database with its credentials) administers it; every grant and revoke is audited
with the operating-system user who made it.
"""

from __future__ import annotations

import argparse

from geo.cli.options import add_store_option, open_selected_store

ROLE_CHOICES = ("viewer", "analyst", "admin")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``users`` command."""
    parser = subparsers.add_parser(
        "users",
        help="list users and their roles, grant or revoke a role",
        description="Manage who may upload and undo: list the users with a role, grant "
        "EMAIL the role viewer, analyst or admin, or revoke it (the user is a viewer again). "
        "Roles are kept in the store; every change is audited.",
    )
    add_store_option(parser)
    actions = parser.add_subparsers(
        dest="action", metavar="ACTION", required=True, help="list, grant or revoke"
    )
    actions.add_parser("list", help="list the users with a role")
    grant = actions.add_parser("grant", help="give EMAIL a role")
    grant.add_argument("email", metavar="EMAIL", help="the address the user signs in with")
    grant.add_argument("role", metavar="ROLE", choices=ROLE_CHOICES, help="viewer|analyst|admin")
    revoke = actions.add_parser("revoke", help="remove EMAIL's role (a viewer again)")
    revoke.add_argument("email", metavar="EMAIL")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run ``python -m geo users``; return the exit code."""
    from geo.store.base import current_user

    store = open_selected_store(args)
    if args.action == "grant":
        store.grant(args.email, args.role, by=current_user())
        print(f"{args.email.strip().lower()}: {args.role}")
    elif args.action == "revoke":
        had = store.revoke(args.email, by=current_user())
        email = args.email.strip().lower()
        print(f"{email}: role revoked (a viewer)" if had else f"{email} had no role")
    else:
        users = store.users()
        if users.empty:
            print("no user has a role (everyone who signs in is a viewer)")
        for row in users.itertuples(index=False):
            print(f"{row.email}\t{row.role}\tgranted by {row.granted_by} at {row.granted_at}")
    return 0
