"""Migrations as an operator runs them: two hosts upgrading one database at once, data the
schema change needs rebuilt by the migration itself, `portal reports rebuild`, plugin branches
that go down on their own, and a built wheel that carries every migration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import migrate
from tests.reports.factory import learner_with_scores
from tests.helpers import services

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def at(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    finally:
        engine.dispose()


def heads() -> set[str]:
    return set(ScriptDirectory.from_config(migrate.alembic_config("sqlite://")).get_heads())


def core_chain() -> list[str]:
    """Core revisions, oldest first (the branch labelled `core`)."""
    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    head = next(r for r in script.get_revisions("core@head"))
    chain = [r.revision for r in script.iterate_revisions(head.revision, "base")]
    return chain[::-1]


def environment(**settings) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_TEST_")}
    env.update(SECRET_KEY="migration-test", PYTHONUNBUFFERED="1", **settings)
    return env


def portal(*args, env: dict, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portal.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=180)


# -- two hosts, one empty database -------------------------------------------------------------

@pytest.fixture
def empty_pg_database():
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI must race the upgrades on PostgreSQL: set PORTAL_TEST_DATABASE_URL")
        pytest.skip("set PORTAL_TEST_DATABASE_URL to race upgrades on PostgreSQL")
    from portal.config import normalise_database_url

    base = make_url(normalise_database_url(PG_URL))
    name = f"ops_race_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def race_upgrades(url: str, tmp_path: Path, hosts: int = 2) -> list[subprocess.CompletedProcess]:
    processes = []
    for n in range(hosts):
        env = environment(DATABASE_URL=url, PORTAL_DATA_DIR=str(tmp_path / f"host{n}"))
        processes.append(subprocess.Popen([sys.executable, "-m", "portal.cli", "db", "upgrade"], cwd=ROOT, env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    results = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return results


def test_two_hosts_upgrading_an_empty_postgresql_database_at_once(empty_pg_database, tmp_path):
    """One used to exit with a stack trace; now the second waits for the first's lock and
    finds nothing left to do."""
    results = race_upgrades(empty_pg_database, tmp_path)
    for result in results:
        assert result.returncode == 0, result.stderr[-3000:]
        assert "Traceback" not in result.stderr
        assert "Database is up to date." in result.stdout
    assert at(empty_pg_database) == heads()


def test_two_hosts_upgrading_an_empty_sqlite_database_at_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    for result in race_upgrades(url, tmp_path):
        assert result.returncode == 0, result.stderr[-3000:]
    assert at(url) == heads()


# -- data a schema change needs ------------------------------------------------------------------

def summaries(app):
    with services(app).database.session() as db:
        connection = db.connection()
        enrollments = connection.execute(text(
            "SELECT id, pre_score, best_post_score, post_attempts, first_post_passed FROM enrollment ORDER BY id")).all()
        items = connection.execute(text("SELECT pack_id, session_year, kind, question_id, answered, correct "
                                        "FROM item_stat ORDER BY 1, 2, 3, 4")).all()
    return [tuple(r) for r in enrollments], [tuple(r) for r in items]


def seed(app):
    with services(app).database.session() as db:
        for n in range(3):
            learner_with_scores(db, n, pre=40.0 + n * 10, posts=[(60.0, False), (90.0, True)],
                                items={"q1": (False, True), "q2": (True, True)})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_upgrading_from_0003_with_data_fills_the_report_summaries(app, database_url):
    seed(app)
    expected = summaries(app)
    assert expected[0][0][1] is not None and expected[1]
    migrate.downgrade(database_url, "0003_rollcall")  # as the database was before report summaries
    migrate.upgrade(database_url)
    assert summaries(app) == expected


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_portal_reports_rebuild(app, runner):
    seed(app)
    expected = summaries(app)
    with services(app).database.session() as db:
        db.connection().execute(text("UPDATE enrollment SET pre_score = NULL, best_post_score = NULL"))
        db.connection().execute(text("DELETE FROM item_stat"))
        db.commit()
    assert summaries(app) != expected
    result = runner.invoke(args=["reports", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "3 enrollments" in result.output
    assert summaries(app) == expected


# -- branches: the core and each plugin go down on their own -----------------------------------

def test_plugin_and_core_branches_downgrade_on_their_own(tmp_path):
    url = f"sqlite:///{tmp_path / 'branches.db'}"
    env = environment(DATABASE_URL=url, PORTAL_DATA_DIR=str(tmp_path / "data"))
    assert portal("db", "upgrade", env=env).returncode == 0
    before = at(url)
    chain = core_chain()

    refused = portal("db", "downgrade", "-1", env=env)
    assert refused.returncode != 0 and "core@-1" in refused.stderr and "Traceback" not in refused.stderr
    assert at(url) == before

    result = portal("db", "downgrade", "core@-1", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert at(url) == (before - {chain[-1]}) | {chain[-2]}  # the plugins' heads untouched

    result = portal("db", "downgrade", "agencies@base", env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    engine = create_engine(url)
    with engine.connect() as connection:
        names = {row[0] for row in connection.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
    engine.dispose()
    assert "agency" not in names and "user_account" in names
    assert at(url) == {chain[-2]}

    assert portal("db", "upgrade", env=env).returncode == 0
    assert at(url) == before


# -- the wheel -----------------------------------------------------------------------------------

def test_the_built_wheel_carries_every_migration_and_upgrades_from_it(tmp_path):
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the working tree
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("portal", "migrations"):
        shutil.copytree(ROOT / name, source / name, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("safety_training_portal-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if "/migrations/versions/" in n and n.endswith(".py")}
    in_tree = {p.name for p in (ROOT / "migrations" / "versions").glob("*.py")}
    assert shipped == in_tree
    assert any(n.endswith("migrations/env.py") for n in names)

    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    url = f"sqlite:///{tmp_path / 'from-wheel.db'}"
    env = environment(DATABASE_URL=url, PORTAL_DATA_DIR=str(tmp_path / "data"), PYTHONPATH=str(installed))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = portal("db", "upgrade", env=env, cwd=elsewhere)  # not from the source tree
    assert result.returncode == 0, result.stderr[-3000:]
    assert at(url) == heads()
