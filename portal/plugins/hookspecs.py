"""Every hook the portal calls. Names start with `portal_`; docs/hooks.md documents each.

pluggy calls implementations last-registered first, so callers sort what they
collect and never rely on the order.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from portal.plugins import hookspec

if TYPE_CHECKING:
    import click
    from flask import Blueprint, Flask


@hookspec
def portal_content_pack_dirs() -> list[Path]:
    """Return the folders of the content packs this distribution ships.

    Each folder holds a `pack.yaml` manifest and the files it names. A content
    pack's whole Python code is usually this one hook.
    """


@hookspec
def portal_blueprints() -> list["Blueprint"]:
    """Return Flask blueprints to register: a feature plugin's own pages."""


@hookspec
def portal_navigation(user: Any) -> list[tuple[str, str]]:
    """Return (label, endpoint) pairs for the main navigation, given the current user
    (an anonymous user when nobody is signed in). Endpoints must exist."""


@hookspec
def portal_profile_links(user: Any) -> list[tuple[str, str]]:
    """Return (label, endpoint) pairs shown on a signed-in user's profile page."""


@hookspec
def portal_cli_commands() -> list["click.Command"]:
    """Return click commands or groups to add to the `portal` command line."""


@hookspec
def portal_migration_dirs() -> list[Path]:
    """Return Alembic version folders holding this plugin's own migrations.

    A plugin's first migration sets `branch_labels` to its own name and
    `depends_on` the core revision it needs.
    """


@hookspec
def portal_model_modules() -> list[str]:
    """Return importable module names that define this plugin's SQLModel tables,
    so migrations and the model/migration agreement test see them."""


@hookspec
def portal_mail_template_dirs() -> list[Path]:
    """Return folders of mail templates (`mail/<name>.txt`, first line `Subject: ...`)."""


@hookspec
def portal_app_ready(app: "Flask") -> None:
    """Called once when the app is built, after blueprints are registered."""


@hookspec
def portal_resources() -> list[dict]:
    """Return external resources for the resource library: dicts with `title`,
    `description`, `url` and optional `topics`."""


@hookspec
def portal_certificate_issued(certificate: Any, user: Any, pack: Any) -> None:
    """Called after a certificate is issued and committed (for example to update an
    agency's records). Must not raise; errors are logged and ignored."""


@hookspec
def portal_account_notes(db: Any, user_id: int) -> list[dict]:
    """Return notes support staff read on an account's page before acting on it: dicts with
    `text` and `warning` (True when deactivating the account would leave something without
    someone it needs, for example an agency's only coordinator)."""


@hookspec
def portal_post_export_formats() -> list[dict]:
    """Return state POST training-record export formats: dicts with `id` (a unique slug),
    `label`, `source` (where the layout is published; empty for a portal-defined format)
    and `columns(records) -> (header, rows)`, given the agency's training records as dicts
    (see docs/hooks.md). The portal writes the CSV, every cell formula-safe."""
