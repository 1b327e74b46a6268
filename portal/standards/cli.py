"""`portal packs import PACKAGE`: the upload page's import, from a shell."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("import")
@click.argument("package", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--provider", required=True, help="The provider organization the package belongs to.")
@with_appcontext
def import_command(package: Path, provider: str) -> None:
    """Import a cmi5 PACKAGE (a zip with cmi5.xml at its root, or a cmi5.xml with absolute AU
    URLs) as a draft of PROVIDER, checked exactly as the upload page checks it."""
    from portal.standards.importer import PackageRefused, Upload, import_package
    from portal.standards.views import limits

    services = current_app.extensions["portal"]
    kind = "application/zip" if package.suffix.lower() == ".zip" else (
        "text/xml" if package.suffix.lower() == ".xml" else "")
    upload = Upload(package.read_bytes(), kind, package.name)
    with current_app.test_request_context(), services.database.write_session() as db:
        try:
            imported = import_package(db, services.storage, upload, limits(), provider.strip(), None,
                                      services.clock.now())
        except PackageRefused as error:
            raise click.ClickException(f"{package.name} was not imported: {error}") from None
        db.commit()
        click.echo(f"Imported {imported.title!r} as a draft of {imported.provider_name}: {imported.file_count} files.\n"
                   f"Preview and publish it at {current_app.config['PORTAL_BASE_URL']}"
                   f"/providers/packages/{imported.uid}")
