"""`portal packs new | validate | list`: the provider's authoring tools."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from portal.cli import main
from portal.packs.loader import load_pack, validate_pack
from tests.packs.packtools import (CONTENT_PACKS, PORTAL_VERSION, REPO, PackFolder, bundled_distributions,
                                   installed_pack_dirs)

INTRO = CONTENT_PACKS / "intro-sro-programs"
BUNDLED = bundled_distributions()


@pytest.fixture
def run(tmp_path):
    """Invoke `portal ...` in-process with settings that touch nothing outside tmp_path."""
    env = {"PORTAL_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "cli-test-key", "PORTAL_SAFE_MODE": None,
           "PORTAL_DISABLED_PACKS": None, "PORTAL_INVALID_PACKS": None}  # None: unset

    def invoke(*args, **extra_env):
        result = CliRunner().invoke(main, list(map(str, args)), env={**env, **extra_env}, catch_exceptions=False)
        return result

    return invoke


def _output(result) -> str:
    """stdout and stderr together (click's CliRunner keeps both in .output)."""
    return result.output


# -- packs new ------------------------------------------------------------------------

def test_new_creates_a_pack_that_validates(run, tmp_path):
    result = run("packs", "new", "traffic-stops-101", "--dir", tmp_path)
    assert result.exit_code == 0, _output(result)
    target = tmp_path / "traffic-stops-101"
    assert f"Created {target}" in _output(result)
    assert (target / "pyproject.toml").is_file()
    pyproject = (target / "pyproject.toml").read_text()
    assert '[project.entry-points."portal.content_packs.v1"]' in pyproject
    assert 'traffic-stops-101 = "portal_pack_traffic_stops_101"' in pyproject
    pack_dir = target / "portal_pack_traffic_stops_101" / "pack"
    assert validate_pack(pack_dir, PORTAL_VERSION) == []
    pack = load_pack(pack_dir, PORTAL_VERSION)
    assert pack.id == "traffic-stops-101" and pack.title == "Traffic Stops 101"
    # and `packs validate` agrees, on the distribution folder as on the pack folder
    for path in (target, pack_dir):
        checked = run("packs", "validate", path)
        assert checked.exit_code == 0, _output(checked)
        assert "OK" in _output(checked) and "traffic-stops-101 1.0.0" in _output(checked)


def test_new_with_title(run, tmp_path):
    result = run("packs", "new", "bike-patrol", "--dir", tmp_path, "--title", "Bike Patrol Basics")
    assert result.exit_code == 0, _output(result)
    pack = load_pack(tmp_path / "bike-patrol" / "portal_pack_bike_patrol" / "pack", PORTAL_VERSION)
    assert pack.title == "Bike Patrol Basics"


def test_new_package_imports_and_returns_its_pack_folder(run, tmp_path, monkeypatch):
    assert run("packs", "new", "import-check", "--dir", tmp_path).exit_code == 0
    monkeypatch.syspath_prepend(str(tmp_path / "import-check"))
    import importlib

    module = importlib.import_module("portal_pack_import_check")
    [folder] = module.portal_content_pack_dirs()
    assert folder == tmp_path / "import-check" / "portal_pack_import_check" / "pack"
    assert (folder / "pack.yaml").is_file()


@pytest.mark.parametrize("name", ["Traffic-Stops", "traffic_stops", "x", "-leading", "has space", "a" * 64, "../escape",
                                  "café"])
def test_new_refuses_invalid_name(run, tmp_path, name):
    result = run("packs", "new", "--dir", tmp_path, "--", name)
    assert result.exit_code == 2, _output(result)
    assert "NAME" in _output(result) and "lowercase letters, digits or hyphens" in _output(result)
    assert [p.name for p in tmp_path.iterdir() if p.name != "data"] == []


def test_new_refuses_existing_target(run, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine\n")
    result = run("packs", "new", "taken", "--dir", tmp_path)
    assert result.exit_code == 1, _output(result)
    assert "already exists" in _output(result) and str(tmp_path / "taken") in _output(result)
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["keep.txt"]


# -- packs validate: the bundled packs ------------------------------------------------

@pytest.mark.parametrize("dist, pack_dir", BUNDLED, ids=[d.name for d, _ in BUNDLED])
def test_validate_every_bundled_pack_ok(run, dist, pack_dir):
    if pack_dir is None:
        pytest.skip(f"{dist.name} has no pack.yaml yet (still being written)")
    result = run("packs", "validate", dist)
    assert result.exit_code == 0, _output(result)
    out = _output(result)
    assert "OK" in out and "problem" not in out
    pack = load_pack(pack_dir, PORTAL_VERSION)
    assert f"{pack.id} {pack.version}" in out


def test_validate_content_packs_folder_checks_every_pack(run):
    result = run("packs", "validate", CONTENT_PACKS)
    out = _output(result)
    ready = [d for _, d in BUNDLED if d is not None]
    assert len(ready) >= 1
    assert out.count(": OK") == len(ready), out
    assert result.exit_code == 0, out


def test_validate_folder_without_a_pack(run, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("packs", "validate", tmp_path / "empty")
    assert result.exit_code == 1
    assert "no pack.yaml found" in _output(result)


def test_validate_missing_path(run, tmp_path):
    result = run("packs", "validate", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "does not exist" in _output(result)


# -- packs validate: broken copies of a bundled pack ----------------------------------

@pytest.fixture
def intro_copy(tmp_path) -> PackFolder:
    if not (INTRO / "pyproject.toml").is_file():
        pytest.skip("content_packs/intro-sro-programs is not in this checkout")
    target = tmp_path / "intro-copy"
    shutil.copytree(INTRO, target, ignore=shutil.ignore_patterns("*.egg-info", "__pycache__", "build"))
    [manifest] = target.rglob("pack.yaml")
    folder = PackFolder(manifest.parent)
    assert validate_pack(folder.root, PORTAL_VERSION) == [], "the copy must be valid before a test breaks it"
    return folder


def _problem_lines(result) -> list[str]:
    return [line.strip() for line in _output(result).splitlines() if line.startswith("  ")]


def _shown(path) -> str:
    return os.path.relpath(path)


def test_validate_corrupt_manifest(run, intro_copy):
    intro_copy.replace("kind: course", "kind: course: [broken")
    line = intro_copy.line_of("kind: course: [broken")
    result = run("packs", "validate", intro_copy.root.parents[1])
    assert result.exit_code == 1
    out = _output(result)
    assert "1 problem" in out and "OK" not in out
    assert f"{_shown(intro_copy.root / 'pack.yaml')}:{line}: not valid YAML" in out


def test_validate_deleted_lesson_file(run, intro_copy):
    intro_copy.delete("lessons/03-school-administrators.md")
    line = intro_copy.line_of("file: lessons/03-school-administrators.md")
    result = run("packs", "validate", intro_copy.root)
    assert result.exit_code == 1
    problems = _problem_lines(result)
    assert f"{_shown(intro_copy.root / 'pack.yaml')}:{line}: lessons[2].file names a file that does not exist: " \
           f"lessons/03-school-administrators.md" in problems, _output(result)


def test_validate_video_without_captions(run, intro_copy):
    text = intro_copy.read()
    captions = re.search(r"^ +captions: (\S+)\n", text, re.M)
    assert captions, "the intro pack's first lesson has a captioned video"
    intro_copy.write("pack.yaml", text.replace(captions.group(0), "", 1))
    result = run("packs", "validate", intro_copy.root)
    assert result.exit_code == 1
    out = _output(result)
    [line] = [x for x in _problem_lines(result) if "captions" in x]
    assert line.startswith(_shown(intro_copy.root / "pack.yaml") + ":"), out
    assert re.match(re.escape(_shown(intro_copy.root / "pack.yaml")) + r":\d+: ", line), out
    assert "has no captions" in line and "WebVTT" in line


def test_validate_lists_every_problem_with_file_and_line(run, intro_copy):
    p = intro_copy
    p.delete("lessons/03-school-administrators.md")
    p.replace("pass_mark: 80", "pass_mark: 75")
    p.append("lessons/02-program-mou.md", "\n\n<div>raw html</div>\n")
    html_line = len(p.read("lessons/02-program-mou.md").splitlines())
    result = run("packs", "validate", p.root)
    assert result.exit_code == 1
    problems = _problem_lines(result)
    out = _output(result)
    assert f"{len(problems)} problems" in out, out
    manifest = _shown(p.root / "pack.yaml")
    assert any(x.startswith(f"{manifest}:{p.line_of('pass_mark: 75')}: pass_mark") for x in problems), out
    assert any(x.startswith(f"{manifest}:{p.line_of('file: lessons/03-school-administrators.md')}: ") for x in problems), out
    assert any(x.startswith(f"{_shown(p.root / 'lessons/02-program-mou.md')}:{html_line}: raw HTML") for x in problems), out


def test_validate_with_a_small_size_budget(run, intro_copy):
    result = run("packs", "validate", intro_copy.root, "--max-file-mb", "0")
    assert result.exit_code == 1
    assert "budget" in _output(result)


def test_validate_reports_each_pack_of_a_folder(run, intro_copy, tmp_path):
    """One broken pack among good ones: exit 1, the good one still says OK."""
    good = tmp_path / "good"
    assert run("packs", "new", "good-one", "--dir", good).exit_code == 0
    intro_copy.delete("lessons/01-sro-role.md")
    result = run("packs", "validate", tmp_path)
    assert result.exit_code == 1
    out = _output(result)
    assert "good-one 1.0.0" in out and "01-sro-role.md" in out


def test_validate_with_the_installed_console_script(tmp_path, intro_copy):
    """The real `portal` executable: exit status and stderr as a provider sees them."""
    script = REPO / ".venv" / "bin" / "portal"
    if not script.exists():
        pytest.skip("no .venv/bin/portal")
    env = {**os.environ, "PORTAL_DATA_DIR": str(tmp_path / "data"), "SECRET_KEY": "cli-test-key"}
    ok = subprocess.run([str(script), "packs", "validate", str(intro_copy.root)], capture_output=True, text=True,
                        env=env, cwd=tmp_path, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    intro_copy.delete("lessons/01-sro-role.md")
    bad = subprocess.run([str(script), "packs", "validate", str(intro_copy.root)], capture_output=True, text=True,
                         env=env, cwd=tmp_path, check=False)
    assert bad.returncode == 1
    assert "pack.yaml:" in bad.stderr and "lessons/01-sro-role.md" in bad.stderr
    assert "OK" not in bad.stdout


# -- packs list -----------------------------------------------------------------------

def _installed_valid() -> list:
    packs = []
    for _, path in installed_pack_dirs():
        if not validate_pack(path, PORTAL_VERSION):
            packs.append(load_pack(path, PORTAL_VERSION))
    return packs


def _row(out: str, pack_id: str) -> list[str]:
    rows = [line.split() for line in out.splitlines() if line.split()[:1] == [pack_id]]
    assert len(rows) == 1, f"expected one row for {pack_id}:\n{out}"
    return rows[0]


def test_list_shows_installed_packs_with_version_and_status(run):
    packs = _installed_valid()
    result = run("packs", "list")
    assert result.exit_code == 0, _output(result)
    out = _output(result)
    if not packs:
        assert "No content packs are installed." in out
        return
    assert out.splitlines()[0].split()[:5] == ["id", "version", "kind", "status", "source"]
    for pack in packs:
        row = _row(out, pack.id)
        assert row[1:4] == [pack.version, pack.kind, "enabled"], out
        assert pack.title in out


def test_list_shows_a_disabled_pack(run):
    packs = _installed_valid()
    if not packs:
        pytest.skip("no valid content pack is installed")
    target = packs[0]
    result = run("packs", "list", PORTAL_DISABLED_PACKS=target.id)
    assert result.exit_code == 0, _output(result)
    out = _output(result)
    assert _row(out, target.id)[3] == "disabled"
    assert "PORTAL_DISABLED_PACKS" in out
    for other in packs[1:]:
        assert _row(out, other.id)[3] == "enabled"


def test_list_in_safe_mode(run):
    result = run("packs", "list", PORTAL_SAFE_MODE="1")
    assert result.exit_code == 0
    assert "No content packs are installed. (safe mode is on)" in _output(result)


def test_packs_help_lists_the_commands(run):
    result = run("packs", "--help")
    assert result.exit_code == 0
    for command in ("new", "validate", "list"):
        assert re.search(rf"^\s+{command}\s", _output(result), re.M), _output(result)


def test_packs_commands_do_not_build_the_app(monkeypatch, run, tmp_path):
    """A broken installed pack must not stop a provider validating the pack they are fixing."""
    built = []
    monkeypatch.setattr(main, "create_app", lambda: built.append(True) or pytest.fail("the app was built"))
    assert run("packs", "new", "no-app", "--dir", tmp_path).exit_code == 0
    assert run("packs", "validate", tmp_path / "no-app").exit_code == 0
    assert run("packs", "list").exit_code == 0
    assert built == []
