"""`portal packs import` (the command, on the test app): the example package imports; a bad one is
refused with its rule. tests/test_cli.py-style `portal packs --help` lists it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.standards.cli import import_command
from portal.standards.models import StdPackage
from tests.cmi5.paths import example
from tests.conftest import IN_CI

GEOLOGY = example("masteryscore_responsive.zip")


def test_import_stores_a_draft_and_prints_where_to_preview_it(app, runner):
    if GEOLOGY is None:
        if IN_CI:
            pytest.fail("ADL's cmi5 examples are not on this machine (set CMI5_SHARED_DIR)")
        pytest.skip("ADL's cmi5 examples are not on this machine (set CMI5_SHARED_DIR)")
    result = runner.invoke(import_command, args=[str(GEOLOGY), "--provider", "Geology Dept"])
    assert result.exit_code == 0, result.output
    with app.extensions["portal"].database.session() as db:
        package = db.exec(select(StdPackage)).one()
    assert package.status == "draft" and package.provider_name == "Geology Dept"
    assert f"/providers/packages/{package.uid}" in result.output


def test_a_refused_package_exits_non_zero_with_the_rule(app, runner, tmp_path):
    bad = tmp_path / "course.zip"
    bad.write_bytes(b"not a zip at all")
    result = runner.invoke(import_command, args=[str(bad), "--provider", "Academy"])
    assert result.exit_code == 1
    assert "not imported" in result.output and "14.1.0.0-1" in result.output
    with app.extensions["portal"].database.session() as db:
        assert db.exec(select(StdPackage)).all() == []


def test_packs_group_lists_import():
    from click.testing import CliRunner

    from portal.packs.cli import packs_group

    assert "import" in CliRunner().invoke(packs_group, ["--help"]).output
