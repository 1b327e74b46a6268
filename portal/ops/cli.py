"""`portal backup PATH` and `portal restore PATH`, on the configured DATABASE_URL."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.ops.backup import BackupError, DatabaseNotEmpty, migrations_of


def _migrations():
    return migrations_of(current_app.config["DATABASE_URL"], pm=current_app.extensions["plugins"])


def _describe(info) -> str:
    return f"{len(info.tables)} tables at migration {', '.join(info.revisions)}"


@click.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent copy of the whole database (every table, the migration version,
    stored files) to PATH. Safe while the portal is running."""
    from portal.ops.backup import backup_database

    try:
        info = backup_database(current_app.config["DATABASE_URL"], path)
    except BackupError as error:
        raise click.ClickException(f"backup not written: {error}")
    click.echo(f"Backed up {_describe(info)} to {path}.")


@click.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Replace the database with the backup at PATH, all at once or not at all.
    Stop the web server and the mail sender first."""
    from portal.ops.backup import restore_database

    url, migrations = current_app.config["DATABASE_URL"], _migrations()
    try:
        try:
            info = restore_database(url, path, migrations, force=force)
        except DatabaseNotEmpty as error:
            if not sys.stdin.isatty():
                raise
            click.confirm(f"{error.rows} rows in the database will be replaced by the backup. Continue?",
                          abort=True)
            info = restore_database(url, path, migrations, force=True)
    except BackupError as error:
        raise click.ClickException(f"nothing restored: {error}")
    click.echo(f"Restored {_describe(info)} from {path}.")
    if set(info.revisions) != set(migrations.heads):
        click.echo("The backup is older than this version of the portal: run `portal db upgrade` next.")
