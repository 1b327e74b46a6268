"""`portal packs validate` on a wheel or sdist, and `portal packs build`: the file an operator
installs is what gets checked."""

from __future__ import annotations

import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from portal.cli import main
from tests.packs.packtools import new_starter


@pytest.fixture
def run(tmp_path):
    env = {"PORTAL_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "cli-test-key"}

    def invoke(*args):
        return CliRunner().invoke(main, list(map(str, args)), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def dist(tmp_path) -> Path:
    """The starter's distribution folder (the one holding pyproject.toml)."""
    return new_starter(tmp_path).root.parent.parent


def hand_made_wheel(dist: Path, target: Path, *, entry_point: bool = True, leave_out: str = "",
                    version: str = "1.0.0") -> Path:
    """A wheel laid out as setuptools lays it out, zipped by hand (faster than pip, and able to be wrong)."""
    wheel = target / f"portal_pack_starter_course-{version}-py3-none-any.whl"
    info = f"portal_pack_starter_course-{version}.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path in sorted((dist / "portal_pack_starter_course").rglob("*")):
            rel = path.relative_to(dist).as_posix()
            if path.is_file() and not (leave_out and rel.endswith(leave_out)):
                archive.write(path, rel)
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: portal-pack-starter-course\n"
                                             f"Version: {version}\n")
        if entry_point:
            archive.writestr(f"{info}/entry_points.txt", "[portal.content_packs.v1]\n"
                                                         "starter-course = portal_pack_starter_course\n")
    return wheel


def hand_made_sdist(dist: Path, target: Path, leave_out: str = "") -> Path:
    sdist = target / "portal_pack_starter_course-1.0.0.tar.gz"
    with tarfile.open(sdist, "w:gz") as archive:
        for path in sorted(dist.rglob("*")):
            rel = path.relative_to(dist).as_posix()
            if path.is_file() and not (leave_out and rel.endswith(leave_out)):
                archive.add(path, f"portal_pack_starter_course-1.0.0/{rel}")
    return sdist


def test_build_makes_a_wheel_that_validates_and_installs_the_pack(run, dist, tmp_path):
    result = run("packs", "build", dist, "--outdir", tmp_path / "out")
    assert result.exit_code == 0, result.output
    [wheel] = (tmp_path / "out").glob("*.whl")
    assert "Built " in result.output and wheel.name in result.output
    names = zipfile.ZipFile(wheel).namelist()
    assert "portal_pack_starter_course/pack/pack.yaml" in names
    assert "portal_pack_starter_course/pack/downloads/handout.txt" in names
    checked = run("packs", "validate", wheel)
    assert checked.exit_code == 0 and f"{wheel.name}!/portal_pack_starter_course/pack: OK" in checked.output


def test_build_refuses_an_invalid_pack_before_building(run, dist, tmp_path):
    manifest = dist / "portal_pack_starter_course" / "pack" / "pack.yaml"
    manifest.write_text(manifest.read_text().replace("pass_mark: 80", "passmark: 80"))
    result = run("packs", "build", dist, "--outdir", tmp_path / "out")
    assert result.exit_code == 1
    assert "did you mean `pass_mark`" in result.output and "Not built" in result.output
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.whl"))


def test_wheel_missing_a_file_the_manifest_names(run, dist, tmp_path):
    wheel = hand_made_wheel(dist, tmp_path, leave_out="downloads/handout.txt")
    result = run("packs", "validate", wheel)
    assert result.exit_code == 1
    assert f"{wheel.name}!/portal_pack_starter_course/pack/pack.yaml:" in result.output
    assert "does not exist: downloads/handout.txt" in result.output
    assert "[tool.setuptools.package-data]" in result.output


def test_wheel_without_the_entry_point(run, dist, tmp_path):
    result = run("packs", "validate", hand_made_wheel(dist, tmp_path, entry_point=False))
    assert result.exit_code == 1
    assert "declares no [portal.content_packs.v1] entry point" in result.output


def test_wheel_whose_version_is_not_the_packs(run, dist, tmp_path):
    result = run("packs", "validate", hand_made_wheel(dist, tmp_path, version="1.1.0"))
    assert result.exit_code == 1
    assert "version is 1.0.0 but the wheel is version 1.1.0" in result.output


def test_sdist_validates_like_its_folder(run, dist, tmp_path):
    good = run("packs", "validate", hand_made_sdist(dist, tmp_path))
    assert good.exit_code == 0, good.output
    (tmp_path / "bad").mkdir()
    bad = run("packs", "validate", hand_made_sdist(dist, tmp_path / "bad", leave_out="02-key-ideas.md"))
    assert bad.exit_code == 1 and "lessons/02-key-ideas.md" in bad.output


@pytest.mark.parametrize("name, content", [
    ("broken.whl", b"this is not a zip file"),
    ("broken.tar.gz", b"\x1f\x8b this is not gzip"),
    ("notes.txt", b"not a distribution"),
])
def test_unreadable_distribution_is_a_message_not_a_traceback(run, tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    result = run("packs", "validate", path)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert str(path) in result.output


def test_wheel_with_a_path_outside_the_folder_is_refused(run, tmp_path):
    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("../../escaped.txt", "x")
    result = run("packs", "validate", wheel)
    assert result.exit_code == 1 and "outside the folder" in result.output
    assert not (tmp_path.parent / "escaped.txt").exists()
