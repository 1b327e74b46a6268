"""The plugin's hook implementations: everything it adds to the portal goes through here."""

from __future__ import annotations

from pathlib import Path

from portal.plugins import hookimpl

HERE = Path(__file__).parent


@hookimpl
def portal_blueprints():
    from portal_agencies.views import bp

    return [bp]


@hookimpl
def portal_navigation(user):
    from portal_agencies.services import membership_of_user_id

    if getattr(user, "is_authenticated", False):
        from portal.common.web import db

        member = membership_of_user_id(db(), user.user.id)
        if member is not None and member.role == "coordinator":
            return [("Agency", "agencies.home")]
        if user.has_role("admin"):
            return [("Agencies", "agencies.home")]
    return []


@hookimpl
def portal_profile_links(user):
    return [("My agency", "agencies.home")]


@hookimpl
def portal_cli_commands():
    from portal_agencies.cli import sro_group

    return [sro_group]


@hookimpl
def portal_migration_dirs():
    return [HERE / "migrations"]


@hookimpl
def portal_model_modules():
    return ["portal_agencies.models"]


@hookimpl
def portal_mail_template_dirs():
    return [HERE / "mail"]


@hookimpl
def portal_account_notes(db, user_id):
    """Support sees the account's agency role before deactivating it, and a warning when it is
    the agency's only active coordinator."""
    from portal_agencies.services import account_notes

    return account_notes(db, user_id)


@hookimpl
def portal_post_export_formats():
    from portal_agencies.post_export import GENERIC_CSV

    return [GENERIC_CSV]
