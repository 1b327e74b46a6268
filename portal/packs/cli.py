"""`portal packs new | validate | list`: authoring tools for provider organizations.

These commands do not build the app, so a broken installed pack cannot stop a
provider from validating the pack they are fixing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from portal.packs.distfile import is_distribution
from portal.packs.loader import ID_PATTERN, MANIFEST, check_pack, validate_pack


def _portal_version() -> str:
    from portal import __version__

    return __version__


def _find_pack_dirs(path: Path) -> list[Path]:
    if (path / MANIFEST).is_file():
        return [path]
    return sorted(p.parent for p in path.rglob(MANIFEST) if ".venv" not in p.parts and "build" not in p.parts)


@click.group("packs")
def packs_group() -> None:
    """Content packs: create, check and list them."""


@packs_group.command("validate")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--max-file-mb", default=25, show_default=True, help="Size budget for one file (PACK_MAX_FILE_MB).")
def validate(path: Path, max_file_mb: int) -> None:
    """Check the pack at PATH (its folder, the distribution holding it, or a built wheel or sdist)
    and list every problem, then every warning."""
    if path.is_file():
        if not is_distribution(path):
            click.echo(f"{path}: not a pack folder, wheel (.whl) or sdist (.tar.gz)", err=True)
            sys.exit(1)
        sys.exit(1 if _validate_distribution(path, max_file_mb * 1024 * 1024) else 0)
    pack_dirs = _find_pack_dirs(path)
    if not pack_dirs:
        click.echo(f"{path}: no {MANIFEST} found here or below", err=True)
        sys.exit(1)
    failed = False
    for pack_dir in pack_dirs:
        failed |= _report(pack_dir, os.path.relpath(pack_dir), max_file_mb * 1024 * 1024) is None
    sys.exit(1 if failed else 0)


def _report(pack_dir: Path, shown: str, max_file_bytes: int):
    """Print the problems and warnings of one pack folder; return the pack, or None when it is invalid."""
    from portal.packs.loader import load_pack

    found = check_pack(pack_dir, _portal_version(), max_file_bytes=max_file_bytes)
    problems = [p for p in found if not p.warning]
    if problems:
        click.echo(f"{shown}: {len(problems)} problem{'s' if len(problems) != 1 else ''}", err=True)
    for problem in found:
        click.echo(f"  {os.path.join(shown, str(problem))}", err=True)
    if problems:
        return None
    pack = load_pack(pack_dir, _portal_version(), max_file_bytes=max_file_bytes)

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    click.echo(f"{shown}: OK — {pack.id} {pack.version} ({pack.kind}, "
               f"{count(len(pack.lessons), 'episode' if pack.kind == 'video-series' else 'lesson')}, "
               f"{count(len(pack.questions), 'question')}, {count(len(pack.downloads), 'download')})")
    return pack


def _validate_distribution(path: Path, max_file_bytes: int) -> bool:
    """Unpack a wheel or sdist and check it as installed; True when something is wrong."""
    import tempfile

    from portal.packs.distfile import DistributionUnreadable, unpack, wheel_problems

    with tempfile.TemporaryDirectory(prefix="portal-pack-") as temp:
        unpacked = Path(temp)
        try:
            unpack(path, unpacked)
        except DistributionUnreadable as error:
            click.echo(f"{path}: cannot be opened as a wheel or sdist: {error}", err=True)
            return True
        pack_dirs = _find_pack_dirs(unpacked)
        if not pack_dirs:
            click.echo(f"{path}: holds no {MANIFEST}: is `pack/**/*` listed under [tool.setuptools.package-data]?",
                       err=True)
            return True
        failed, versions = False, {}
        for pack_dir in pack_dirs:
            inside = pack_dir.relative_to(unpacked).as_posix()
            pack = _report(pack_dir, f"{path.name}!/{inside}", max_file_bytes)
            failed |= pack is None
            if pack is not None:
                versions[inside] = pack.version
        if path.name.endswith(".whl"):
            for problem in wheel_problems(unpacked, versions):
                failed = True
                click.echo(f"  {path.name}!/{problem}", err=True)
        if failed:
            click.echo(f"{path.name}: a file the manifest names but the wheel lacks was left out of the package "
                       "data; check [tool.setuptools.package-data] in pyproject.toml", err=True)
        return failed


@packs_group.command("build")
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--outdir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where to write the wheel (default: PATH/dist).")
@click.option("--max-file-mb", default=25, show_default=True, help="Size budget for one file (PACK_MAX_FILE_MB).")
def build(path: Path, outdir: Path | None, max_file_mb: int) -> None:
    """Validate the pack distribution at PATH, build the wheel an operator installs, and check the wheel."""
    from portal.packs.distfile import build_wheel

    if not (path / "pyproject.toml").is_file():
        click.echo(f"{path}: no pyproject.toml; give the distribution's folder (the one `packs new` made)", err=True)
        sys.exit(1)
    pack_dirs = _find_pack_dirs(path)
    if not pack_dirs or any(_report(d, os.path.relpath(d), max_file_mb * 1024 * 1024) is None for d in pack_dirs):
        click.echo("Not built: fix the problems above first.", err=True)
        sys.exit(1)
    wheel, output = build_wheel(path, outdir or path / "dist")
    if wheel is None:
        click.echo(f"pip could not build the wheel:\n{output}", err=True)
        sys.exit(1)
    if _validate_distribution(wheel, max_file_mb * 1024 * 1024):
        sys.exit(1)
    click.echo(f"Built {os.path.relpath(wheel)}. Install it with: pip install {os.path.relpath(wheel)}")


@packs_group.command("list")
def list_packs() -> None:
    """Show installed packs, their versions and whether they are served."""
    from portal.config import load_config
    from portal.packs.registry import load_registry
    from portal.plugins.manager import get_plugin_manager

    config = load_config()
    pm, _ = get_plugin_manager(safe_mode=config["PORTAL_SAFE_MODE"])
    registry = load_registry(pm, _portal_version(), invalid="disable",
                             disabled_ids=config["PORTAL_DISABLED_PACKS"])
    rows = [(p.id, p.version, p.kind, "enabled", registry.sources[p.id], p.title) for p in registry.all()]
    rows += [(d.name, "-", "-", "disabled", d.source, d.reason) for d in registry.disabled]
    if not rows:
        click.echo("No content packs are installed." + (" (safe mode is on)" if config["PORTAL_SAFE_MODE"] else ""))
        return
    widths = [max(len(str(r[i])) for r in rows + [("id", "version", "kind", "status", "source", "title")])
              for i in range(5)]
    header = ("id", "version", "kind", "status", "source", "title")
    for row in [header, *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row[:5], widths)) + "  " + str(row[5]))
    for d in registry.disabled:
        for problem in d.problems:
            click.echo(f"  {d.name}: {problem}")


@packs_group.command("new")
@click.argument("name")
@click.option("--dir", "parent", default="content_packs", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder to create the pack in.")
@click.option("--title", default=None, help="Course title (defaults to the name).")
def new(name: str, parent: Path, title: str | None) -> None:
    """Write a valid starter course pack named NAME (lowercase letters, digits, hyphens)."""
    from portal.packs.starter import write_starter_pack

    if not ID_PATTERN.match(name):
        raise click.BadParameter("use 2-63 lowercase letters, digits or hyphens, like 'traffic-stops-101'",
                                 param_hint="NAME")
    target = parent / name
    if target.exists():
        raise click.ClickException(f"{target} already exists")
    pack_dir = write_starter_pack(target, name, title or name.replace("-", " ").title())
    problems = validate_pack(pack_dir, _portal_version())
    if problems:  # the starter must always be valid; say so loudly if it is not
        raise click.ClickException("the starter pack failed validation:\n" + "\n".join(map(str, problems)))
    click.echo(f"Created {target}. Next:\n"
               f"  edit {pack_dir / MANIFEST} and the files beside it (see docs/content-packs.md)\n"
               f"  .venv/bin/portal packs validate {target}\n"
               f"  .venv/bin/pip install -e {target}   (make run installs every pack under content_packs/)")


from portal.standards.cli import import_command  # noqa: E402  cmi5 packages: portal/standards

packs_group.add_command(import_command)
