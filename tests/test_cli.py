"""The `portal` command: creating an administrator and upgrading the database."""

from __future__ import annotations

from sqlmodel import select

from portal.accounts.models import UserRole
from tests.helpers import get_user, log_in, make_user, row_counts, services, table_names

ADMIN_PASSWORD = "an administrator's long passphrase"


def admin_roles(app, user_id) -> list[str]:
    with services(app).database.session() as db:
        return list(db.exec(select(UserRole.role).where(UserRole.user_id == user_id)).all())


def create_admin(runner, email="Chief@Example.gov", name="Chief Admin", password=ADMIN_PASSWORD):
    return runner.invoke(args=["users", "create-admin", "--email", email, "--name", name, "--password", password])


def test_create_admin_makes_a_confirmed_administrator(app, runner):
    result = create_admin(runner)
    assert result.exit_code == 0, result.output
    assert "chief@example.gov is an administrator." in result.output
    user = get_user(app, "chief@example.gov")
    assert user is not None and user.name == "Chief Admin"
    assert user.email == "chief@example.gov"
    assert user.email_verified_at is not None and user.is_active
    assert user.password_hash.startswith("$argon2id$")
    assert admin_roles(app, user.id) == ["admin"]
    # The new administrator can log in and open the audit log.
    client = app.test_client()
    assert log_in(client, "chief@example.gov", ADMIN_PASSWORD).status_code == 302
    assert client.get("/support/audit").status_code == 200


def test_create_admin_twice_changes_nothing(app, runner):
    create_admin(runner)
    before = row_counts(app)
    result = create_admin(runner, email="chief@example.gov", password="some other passphrase entirely")
    assert result.exit_code == 0, result.output
    assert row_counts(app) == before
    user = get_user(app, "chief@example.gov")
    assert services(app).hasher.verify(user.password_hash, ADMIN_PASSWORD)  # password untouched


def test_create_admin_promotes_an_existing_account(app, runner):
    user = make_user(app, "learner@example.gov")
    result = create_admin(runner, email="learner@example.gov", name="ignored", password="ignored")
    assert result.exit_code == 0, result.output
    assert admin_roles(app, user.id) == ["admin"]


def test_create_admin_refuses_a_weak_password(app, runner):
    before = row_counts(app)
    result = create_admin(runner, password="password1")
    assert result.exit_code != 0
    assert "commonly breached" in result.output
    assert row_counts(app) == before


def test_db_upgrade_is_idempotent(app, runner):
    tables = table_names(app)
    first = runner.invoke(args=["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "Database is up to date." in first.output
    second = runner.invoke(args=["db", "upgrade"])
    assert second.exit_code == 0, second.output
    assert table_names(app) == tables


def test_db_upgrade_builds_an_empty_database(make_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    app = make_app(DATABASE_URL=url)
    runner = app.test_cli_runner()
    assert table_names(app) == []
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
    assert {"user_account", "mail_outbox", "audit_log"} <= set(table_names(app))
    result = runner.invoke(args=["users", "create-admin", "--email", "first@example.gov", "--name", "First",
                                 "--password", ADMIN_PASSWORD])
    assert result.exit_code == 0, result.output


def test_the_portal_command_lists_its_groups(runner):
    result = runner.invoke(args=["--help"])
    assert result.exit_code == 0
    for group in ("db", "users", "mail"):
        assert group in result.output
