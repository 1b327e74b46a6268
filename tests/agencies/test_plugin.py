"""The agencies plugin is wired into the portal only through its entry point and hooks:
loaded from `portal.plugins.v1`, its pages, navigation, command group and migration branch
present; and with PORTAL_SAFE_MODE the portal starts without any of it."""

from __future__ import annotations

import importlib
import re
from importlib.metadata import entry_points
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import Column, Constraint, Index, Table, create_engine, inspect

import portal_agencies.plugin
from portal import migrate
from tests.agencies.support import AGENCY_TABLES, add_member, new_agency, signed_in
from tests.helpers import make_user

PLUGIN_FILE = Path(portal_agencies.plugin.__file__).resolve()

EXPECTED_ENDPOINTS = {
    "agencies.home", "agencies.create", "agencies.join", "agencies.leave", "agencies.members", "agencies.invite",
    "agencies.revoke", "agencies.member_role", "agencies.dashboard", "agencies.roster_import",
    "agencies.roster_export", "agencies.new_award", "agencies.award", "agencies.new_sro", "agencies.sro",
    "agencies.sro_certificate", "agencies.certificate_mail", "agencies.claim", "agencies.delete_expense",
    "agencies.claim_pdf", "agencies.roster_records", "agencies.roster_records_preview",
    "agencies.roster_records_apply", "agencies.award_edit", "agencies.award_delete", "agencies.sro_delete",
    "agencies.member_remove", "agencies.settings", "agencies.decide_join", "agencies.post_export",
}


def nav_labels(response) -> list[str]:
    """The labels of the main navigation, in order, with the path each one links to."""
    body = response.get_data(as_text=True)
    nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', body, flags=re.S)
    assert nav, "no main navigation on the page"
    return [(label.strip(), href) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', nav.group(1))]


# -- the entry point ------------------------------------------------------------

def test_the_plugin_is_installed_under_the_versioned_entry_point_group():
    found = {ep.name: ep for ep in entry_points(group="portal.plugins.v1")}
    assert "agencies" in found
    assert found["agencies"].value == "portal_agencies.plugin"
    assert found["agencies"].dist.name == "portal-agencies"


def test_the_app_loaded_the_plugin_through_its_entry_point(app):
    loaded = [p for p in app.extensions["plugin_report"].loaded if p.group == "portal.plugins.v1"]
    assert [(p.name, p.module, p.distribution) for p in loaded] == [
        ("agencies", "portal_agencies.plugin", "portal-agencies")]
    assert Path(loaded[0].file).resolve() == PLUGIN_FILE
    # registered with the manager under the entry point's name, as that module
    assert app.extensions["plugins"].get_plugin("portal.plugins.v1:agencies") is portal_agencies.plugin


# -- pages ----------------------------------------------------------------------

def test_its_blueprint_and_every_page_are_registered(app):
    assert "agencies" in app.blueprints
    rules = {rule.endpoint: rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("agencies.")}
    assert set(rules) == EXPECTED_ENDPOINTS
    assert all(rule.rule.startswith("/agencies/") for rule in rules.values())
    assert rules["agencies.dashboard"].rule == "/agencies/<int(max=2147483647):agency_id>"
    assert rules["agencies.join"].methods >= {"GET", "POST"}
    assert "GET" not in rules["agencies.leave"].methods and "POST" in rules["agencies.leave"].methods
    # the templates come from the plugin's own folder
    blueprint = app.blueprints["agencies"]
    assert Path(blueprint.root_path, blueprint.template_folder).resolve() == PLUGIN_FILE.parent / "templates"


def test_the_agency_pages_answer(app):
    new_agency(app)
    client = signed_in(app, "coord@example.gov")
    response = client.get("/agencies/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/agencies/1")
    assert client.get("/agencies/1").status_code == 200


# -- navigation -----------------------------------------------------------------

def test_the_agency_nav_item_is_only_for_coordinators_and_agencies_only_for_admins(app):
    agency_id = new_agency(app)
    add_member(app, agency_id, "officer@example.gov", name="Ofc. Rivera")
    make_user(app, email="learner@example.gov")
    make_user(app, email="admin@example.gov", name="Ada Admin", roles=("admin",))

    def plugin_items(client):
        return [(label, href) for label, href in nav_labels(client.get("/")) if label in {"Agency", "Agencies"}]

    assert plugin_items(app.test_client()) == []                                   # anonymous
    assert plugin_items(signed_in(app, "learner@example.gov")) == []
    assert plugin_items(signed_in(app, "officer@example.gov")) == []
    assert plugin_items(signed_in(app, "coord@example.gov")) == [("Agency", "/agencies/")]
    assert plugin_items(signed_in(app, "admin@example.gov")) == [("Agencies", "/agencies/")]


def test_the_plugins_nav_item_comes_after_the_cores(app):
    new_agency(app)
    labels = [label for label, _ in nav_labels(signed_in(app, "coord@example.gov").get("/"))]
    assert labels[0] == "Home"
    assert labels[-1] == "Agency"


# -- command line ---------------------------------------------------------------

def test_the_sro_group_is_on_the_apps_command_line(app, runner):
    assert "sro" in app.cli.commands
    result = runner.invoke(args=["sro", "--help"])
    assert result.exit_code == 0, result.output
    assert "remind" in result.output and "report" in result.output


def test_the_sro_group_is_on_the_portal_command(app):
    from portal.cli import main

    info = ScriptInfo(create_app=lambda: app)
    result = CliRunner().invoke(main, ["--help"], obj=info)
    assert result.exit_code == 0, result.output
    assert re.search(r"^\s+sro\s", result.output, flags=re.M), result.output
    result = CliRunner().invoke(main, ["sro", "remind", "--help"], obj=info)
    assert result.exit_code == 0, result.output
    assert "--as-of" in result.output


# -- migrations -----------------------------------------------------------------

def _model_metadata():
    import portal.models  # noqa: F401  every core table
    from sqlmodel import SQLModel

    for module in migrate.plugin_migration_parts()[1]:
        importlib.import_module(module)
    return SQLModel.metadata


def _tables_named(diff) -> set[str]:
    """The table names one compare_metadata entry is about (entries nest for modify_*)."""
    names: set[str] = set()
    if isinstance(diff, list):
        for part in diff:
            names |= _tables_named(part)
        return names
    for index, part in enumerate(diff):
        if isinstance(part, Table):
            names.add(part.name)
        elif isinstance(part, (Index, Constraint, Column)) and getattr(part, "table", None) is not None:
            names.add(part.table.name)
        elif isinstance(part, str) and index == 2 and diff[0].startswith(("modify_", "add_column", "remove_column")):
            names.add(part)  # ("modify_type", schema, table, column, ...)
    return names


def test_the_plugins_migration_folder_and_models_are_announced(app):
    dirs, modules = migrate.plugin_migration_parts(app.extensions["plugins"])
    assert [Path(d).resolve() for d in dirs] == [PLUGIN_FILE.parent / "migrations"]
    assert modules == ["portal_agencies.models"]


def test_the_agencies_branch_is_applied(app, database_url):
    config = migrate.alembic_config(database_url, app.extensions["plugins"])
    script = ScriptDirectory.from_config(config)
    branch_head = script.get_revision("agencies@head")
    assert branch_head.revision == "a003_agy_annual_hours"
    assert "agencies" in script.get_revision("a001_agencies").branch_labels
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            heads = set(MigrationContext.configure(connection).get_current_heads())
        tables = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    assert "a003_agy_annual_hours" in heads
    assert set(AGENCY_TABLES) <= tables


def test_the_agency_models_agree_with_the_migrations(database_url):
    metadata = _model_metadata()
    assert set(AGENCY_TABLES) <= set(metadata.tables)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": False})
            diffs = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    about_agencies = [d for d in diffs if _tables_named(d) & set(AGENCY_TABLES)]
    assert about_agencies == []


def _table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_agencies_branch_downgrades_and_upgrades_on_its_own(tmp_path):
    url = f"sqlite:///{tmp_path / 'branch.db'}"
    migrate.upgrade(url)
    everything = _table_names(url)
    assert set(AGENCY_TABLES) <= everything
    migrate.downgrade(url, "agencies@base")
    assert _table_names(url) == everything - set(AGENCY_TABLES)   # the core's tables are untouched
    migrate.upgrade(url)
    assert _table_names(url) == everything


# -- safe mode ------------------------------------------------------------------

def test_safe_mode_starts_the_portal_without_the_plugin(make_app):
    app = make_app(PORTAL_SAFE_MODE=True)
    assert app.extensions["plugin_report"].loaded == []
    assert "agencies" not in app.blueprints
    assert not [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/agencies")]
    assert "sro" not in app.cli.commands
    make_user(app, email="admin@example.gov", name="Ada Admin", roles=("admin",))
    make_user(app, email="learner@example.gov")

    anonymous = app.test_client()
    for path in ("/agencies/", "/agencies/1", "/agencies/join/some-token"):
        assert anonymous.get(path).status_code == 404, path
    admin = signed_in(app, "admin@example.gov")
    for path in ("/agencies/", "/agencies/1", "/agencies/1/members", "/agencies/1/roster/export.csv"):
        assert admin.get(path).status_code == 404, path
    assert "Agencies" not in [label for label, _ in nav_labels(admin.get("/"))]

    # the core still works: pages, signing in, the profile, the CLI
    assert anonymous.get("/").status_code == 200
    learner = signed_in(app, "learner@example.gov")
    assert learner.get("/account/profile").status_code == 200
    assert "My agency" not in learner.get("/account/profile").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["users", "create-admin", "--email", "learner@example.gov",
                                                "--name", "x", "--password", "x"])
    assert result.exit_code == 0, result.output


def test_without_safe_mode_the_same_settings_load_the_plugin(make_app):
    """The control for the test above: only PORTAL_SAFE_MODE makes the difference."""
    app = make_app(PORTAL_SAFE_MODE=False)
    assert [p.name for p in app.extensions["plugin_report"].loaded if p.group == "portal.plugins.v1"] == ["agencies"]
    assert app.test_client().get("/agencies/join/some-token").status_code == 404  # the plugin's own "no longer works"
    assert "This invitation no longer works" in app.test_client().get("/agencies/join/x").get_data(as_text=True)
    make_user(app, email="learner@example.gov")
    assert "My agency" in signed_in(app, "learner@example.gov").get("/account/profile").get_data(as_text=True)
