"""Built distributions of a pack: check a wheel or sdist as an operator will install it, and build
the wheel. A pack that validates as a folder can still ship broken, when a file is left out of
the package data or the entry point is missing; only the built file shows that."""

from __future__ import annotations

import configparser
import subprocess
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

from packaging.version import InvalidVersion, Version

from portal.packs.loader import MANIFEST, Problem

ENTRY_POINT_GROUP = "portal.content_packs.v1"
DIST_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip")
MAX_UNPACKED_BYTES = 4 * 1024 ** 3  # far above any pack; stops a zip bomb before the disk fills


class DistributionUnreadable(Exception):
    """The file is not a wheel or sdist the validator can open."""


def is_distribution(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(DIST_SUFFIXES)


def unpack(path: Path, into: Path) -> None:
    """Extract a wheel (zip) or sdist (tar) into `into`, refusing paths that leave it."""
    try:
        if path.name.lower().endswith((".whl", ".zip")):
            with zipfile.ZipFile(path) as archive:
                total = 0
                for info in archive.infolist():
                    name = PurePosixPath(info.filename)
                    if name.is_absolute() or ".." in name.parts:
                        raise DistributionUnreadable(f"{info.filename} would be written outside the folder")
                    total += info.file_size
                    if total > MAX_UNPACKED_BYTES:
                        raise DistributionUnreadable("it unpacks to more than 4 GB")
                archive.extractall(into)
        else:
            with tarfile.open(path) as archive:
                archive.extractall(into, filter="data")
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as error:
        raise DistributionUnreadable(str(error)) from error


def wheel_problems(unpacked: Path, pack_versions: dict[str, str]) -> list[Problem]:
    """What a wheel's metadata gets wrong: no entry point for the portal, or a version that is not the
    pack's. `pack_versions` maps each pack's folder (relative to the wheel) to its manifest version."""
    problems: list[Problem] = []
    infos = sorted(unpacked.glob("*.dist-info"))
    if not infos:
        return [Problem("(wheel)", None, "has no .dist-info folder: build it with `portal packs build`")]
    info = infos[0]
    rel = info.name
    entry_points = configparser.ConfigParser()
    try:
        entry_points.read(info / "entry_points.txt", encoding="utf-8")
    except configparser.Error as error:
        problems.append(Problem(f"{rel}/entry_points.txt", None, f"cannot be read: {error}"))
    if not entry_points.has_section(ENTRY_POINT_GROUP):
        problems.append(Problem(f"{rel}/entry_points.txt", None,
                                f"declares no [{ENTRY_POINT_GROUP}] entry point, so the portal will never find "
                                f"this pack: add [project.entry-points.\"{ENTRY_POINT_GROUP}\"] to pyproject.toml"))
    try:
        metadata = HeaderParser().parsestr((info / "METADATA").read_text(encoding="utf-8"))
        declared = metadata.get("Version", "")
    except OSError:
        declared = ""
    for folder, version in pack_versions.items():
        try:
            same = Version(declared) == Version(version)
        except InvalidVersion:
            same = declared == version
        if not same:
            problems.append(Problem(f"{folder}/{MANIFEST}", None,
                                    f"version is {version} but the wheel is version {declared}: raise the version "
                                    "in pack.yaml and pyproject.toml together, then build again"))
    return problems


def build_wheel(source: Path, outdir: Path) -> tuple[Path | None, str]:
    """Build the wheel of the pack distribution in `source` with pip (in an isolated build
    environment, as an operator's pip would). Returns the wheel, or None and pip's output."""
    outdir.mkdir(parents=True, exist_ok=True)
    before = set(outdir.glob("*.whl"))
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
                          str(outdir), str(source)], capture_output=True, text=True)
    made = sorted(set(outdir.glob("*.whl")) - before, key=lambda p: p.stat().st_mtime)
    if run.returncode != 0:
        return None, (run.stdout + run.stderr).strip()
    if not made:  # the same file name again: pip replaced it
        made = sorted(outdir.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    return (made[-1] if made else None), (run.stdout + run.stderr).strip()
