"""`portal backup PATH` and `portal restore PATH`: every table (with the migration version and
the stored files) comes back exactly as it was, on SQLite and PostgreSQL; a backup taken while
the portal writes is consistent; a bad backup or a database holding data is refused with a
clear message and leaves the database as it was."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal.ops import backup as ops
from portal_agencies.models import AgencyJoinRequest
from portal.support.services import record
from tests.agencies.support import (add_award, add_expense, add_invite, add_member, add_sro, attach_certificate,
                                    new_agency, signed_in)
from tests.helpers import PASSWORD, get_user, log_in, make_user, row_counts, services, snapshot, submit, table_names
from tests.learning.journey import reach_certificate
from tests.rollcall.support import episode_ids, post_showing, trainer_client
from tests.standards.test_runtime import launch as launch_package
from tests.standards.test_runtime import staff as package_staff
from tests.standards.test_runtime import upload as upload_package

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def dialect(app) -> str:
    return services(app).database.engine.dialect.name


@pytest.fixture
def pg_tools(frozen_app):
    """pg_dump and pg_restore, on PostgreSQL runs: CI must have them; elsewhere skip, saying why."""
    if dialect(frozen_app) == "postgresql":
        try:
            ops.find_pg_tool("pg_dump"), ops.find_pg_tool("pg_restore")
        except ops.BackupError as error:
            if IN_CI:
                pytest.fail(f"CI needs the PostgreSQL client tools (apt package postgresql-client): {error}")
            pytest.skip(f"PostgreSQL client tools missing: {error}")
    return frozen_app


def run(app, *args):
    return app.test_cli_runner().invoke(args=[str(a) for a in args])


def seed_every_table(app) -> str:
    """A learner's whole journey to a certificate, a roll-call showing, a contact request, a
    password reset, a sign-up awaiting confirmation, a provider grant (audited), an agency with
    its award (corrected by its coordinator, so with history), SRO, expense, invite, join request,
    certificate file and deadline reminder, and a cmi5 package uploaded and launched (registration,
    session, statement, state document). Returns the learner's certificate number."""
    make_user(app, "admin@example.gov", "Ada Admin", roles=("admin",))
    make_user(app)
    learner = app.test_client()
    log_in(learner)
    number = reach_certificate(learner, app)
    assert learner.get(f"/certificates/{number}.pdf").status_code == 200
    _, trainer = trainer_client(app)
    assert post_showing(trainer, episode_ids(app)[0], attendees="learner@example.gov").status_code in (302, 303)
    assert submit(app.test_client(), "/contact", {"name": "Vic Visitor", "email": "vic@example.gov",
                                                  "subject": "Certificate", "message": "Where is it?"}
                  ).status_code == 302
    submit(app.test_client(), "/account/password/forgot", {"email": "learner@example.gov"})
    # Reset links are signed, not stored (7730dd3): a sign-up's confirmation link is the stored token.
    submit(app.test_client(), "/account/signup", {"name": "Fresh Person", "email": "fresh@example.gov",
                                                  "agency": "", "password": PASSWORD, "confirm": PASSWORD})
    admin = app.test_client()
    log_in(admin, "admin@example.gov")
    provider = sorted({p.provider.name for p in app.extensions["packs"].all()})[0]
    assert submit(admin, "/reports/providers", {"email": "learner@example.gov", "provider": provider}
                  ).status_code == 303
    agency = new_agency(app)
    add_member(app, agency, "officer@example.gov")
    invite, _ = add_invite(app, agency)
    with services(app).database.session() as db:
        db.add(AgencyJoinRequest(agency_id=agency, user_id=get_user(app, "fresh@example.gov").id, invite_id=invite,
                                 requested_at=services(app).clock.now()))
        db.commit()
    award = add_award(app, agency)
    sro = add_sro(app, award, hire_date=date(2026, 4, 15))
    assert submit(signed_in(app, "coord@example.gov"), f"/agencies/{agency}/awards/{award}/edit",
                  {"award_number": "2026-UL-WX-0042", "award_date": "2026-03-02", "funded_positions": "3",
                   "mou_submitted_on": ""}).status_code == 303
    add_expense(app, sro)
    attach_certificate(app, agency, sro)
    # The award of 2 March 2026 has its MOU due on 31 May: 30 days before, a reminder goes out.
    result = run(app, "sro", "remind", "--as-of", "2026-05-01")
    assert result.exit_code == 0, result.output
    result = run(app, "mail", "send")  # delivers the queued mail and writes the sender's heartbeat
    assert result.exit_code == 0, result.output
    package_staff(app, "packages@example.gov", provider="Academy")
    packages = app.test_client()
    log_in(packages, "packages@example.gov")
    launch_package(packages, upload_package(packages))
    return number


@pytest.fixture
def seeded(pg_tools):
    app = pg_tools
    number = seed_every_table(app)
    empty = sorted(t for t, n in row_counts(app).items() if n == 0)
    assert not empty, f"seed_every_table leaves these tables empty; seed them so backups are tested: {empty}"
    return app, number


def destroy(app) -> None:
    """Delete every row of every table, then write a few rows that were never in the backup."""
    with services(app).database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(table_names(app))} CASCADE"))
        else:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            for table in table_names(app):
                connection.execute(text(f'DELETE FROM "{table}"'))
    make_user(app, "intruder@example.gov", "Not In The Backup")


def certificate_pdf_works(app, number: str) -> None:
    client = app.test_client()
    assert log_in(client).status_code == 302
    response = client.get(f"/certificates/{number}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")


def test_backup_and_restore_bring_back_every_row_of_every_table(seeded, tmp_path):
    app, number = seeded
    before = snapshot(app)
    path = tmp_path / "portal.backup"

    result = run(app, "backup", path)
    assert result.exit_code == 0, result.output
    # It names the migration it was taken at: the core's head and the agencies plugin's.
    heads = ops.migrations_of(app.config["DATABASE_URL"]).heads
    assert "Backed up" in result.output and len(heads) == 2 and all(head in result.output for head in heads)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no partial file left

    destroy(app)
    assert snapshot(app) != before
    result = run(app, "restore", path, "--force")
    assert result.exit_code == 0, result.output
    assert "Restored" in result.output and "db upgrade" not in result.output

    assert snapshot(app) == before
    with services(app).database.engine.connect() as connection:
        versions = {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}
    assert versions == set(ops.migrations_of(app.config["DATABASE_URL"]).heads)
    certificate_pdf_works(app, number)


@pytest.fixture
def empty_database_url(frozen_app, tmp_path):
    """A database with nothing in it, not even tables: where a restore on a new host starts."""
    if dialect(frozen_app) == "sqlite":
        (tmp_path / "new-host").mkdir()
        yield f"sqlite:///{tmp_path / 'new-host' / 'portal.db'}"
        return
    base = make_url(frozen_app.config["DATABASE_URL"])
    name = f"{base.database}_restore"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_restores_into_an_empty_database_without_force(seeded, empty_database_url, make_app, tmp_path):
    app, number = seeded
    path = tmp_path / "portal.backup"
    assert run(app, "backup", path).exit_code == 0

    other = make_app(DATABASE_URL=empty_database_url, CLOCK=services(app).clock)
    result = run(other, "restore", path)
    assert result.exit_code == 0, result.output
    assert snapshot(other) == snapshot(app)
    certificate_pdf_works(other, number)


def test_restore_refuses_to_replace_data_without_force(seeded, tmp_path):
    app, _ = seeded
    path = tmp_path / "portal.backup"
    assert run(app, "backup", path).exit_code == 0
    make_user(app, "later@example.gov", "Signed Up After The Backup")
    before = snapshot(app)

    result = run(app, "restore", path)
    assert result.exit_code == 1
    assert "already holds data" in result.output and "--force" in result.output
    assert snapshot(app) == before


# -- bad backups -----------------------------------------------------------------------------

def raw_backup(app, path) -> None:
    """A backup made without the checks `portal backup` runs, to build bad ones from."""
    url = app.config["DATABASE_URL"]
    if dialect(app) == "sqlite":
        ops._sqlite_backup(ops._sqlite_path(url), path)
    else:
        ops._pg_backup(url, path)


def _future_migration(app, path):
    with services(app).database.engine.begin() as connection:
        old = connection.execute(text("SELECT version_num FROM alembic_version WHERE version_num LIKE '0%'")
                                 ).scalar_one()
        connection.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future' "
                                "WHERE version_num = :old"), {"old": old})
    try:
        raw_backup(app, path)
    finally:
        with services(app).database.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :old "
                                    "WHERE version_num = '9999_from_the_future'"), {"old": old})


def _truncated(app, path):
    raw_backup(app, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _end_cut_off(app, path):
    """On PostgreSQL the archive still lists, so pg_restore starts and fails partway: its one
    transaction must roll back the tables it had already dropped."""
    raw_backup(app, path)
    data = path.read_bytes()
    path.write_bytes(data[:-64])


def _not_a_portal_database(app, path):
    if dialect(app) == "sqlite":
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE notes (body TEXT)")
            connection.execute("INSERT INTO notes VALUES ('hello')")
    else:
        path.write_bytes(b"PGDMP" + bytes(200))


def _the_other_kind(app, path):
    if dialect(app) == "sqlite":
        path.write_bytes(b"PGDMP\x01\x0e\x00" + bytes(100))
    else:
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE alembic_version (version_num TEXT)")


BAD_BACKUPS = {
    "missing": (lambda app, path: None, "no backup file at"),
    "text file": (lambda app, path: path.write_text("hello\n"), "is not a portal backup"),
    "empty file": (lambda app, path: path.write_bytes(b""), "is not a portal backup"),
    "not a portal database": (_not_a_portal_database, "is not a"),
    "truncated": (_truncated, ""),
    "end cut off": (_end_cut_off, ""),
    "newer migration": (_future_migration, "does not know"),
    "other kind of database": (_the_other_kind, "restore a backup taken from the same kind of database"),
}


def test_restore_refuses_each_bad_backup_and_changes_nothing(seeded, tmp_path):
    """Every case on one seeded database (seeding renders a certificate PDF, so it is slow)."""
    app, number = seeded
    for case, (make, message) in BAD_BACKUPS.items():
        path = tmp_path / f"bad-{case.replace(' ', '-')}.backup"
        make(app, path)
        before = snapshot(app)

        result = run(app, "restore", path, "--force")
        assert result.exit_code == 1, (case, result.output)
        assert result.output.startswith("Error: nothing restored: "), (case, result.output)
        assert message in result.output, (case, result.output)
        assert "Traceback" not in result.output, case
        assert snapshot(app) == before, case
    certificate_pdf_works(app, number)


def test_backup_into_a_missing_folder_is_refused_clearly(app, tmp_path):
    result = run(app, "backup", tmp_path / "no-such-folder" / "portal.backup")
    assert result.exit_code == 1
    assert "does not exist" in result.output and "Traceback" not in result.output


def test_pg_tools_missing_or_too_old_give_a_clear_message(monkeypatch):
    monkeypatch.setattr(ops.shutil, "which", lambda name: None)
    monkeypatch.setattr(ops.glob, "glob", lambda pattern: [])
    with pytest.raises(ops.BackupError, match="pg_dump is not installed.*postgresql-client"):
        ops.find_pg_tool("pg_dump")

    monkeypatch.setattr(ops.glob, "glob", lambda pattern: ["/usr/lib/postgresql/14/bin/pg_dump"])
    monkeypatch.setattr(ops, "_tool_major", lambda path: 14)
    with pytest.raises(ops.BackupError, match="server is version 16.*older.*postgresql-client-16"):
        ops.find_pg_tool("pg_dump", server_major=16)
    assert ops.find_pg_tool("pg_dump", server_major=14) == "/usr/lib/postgresql/14/bin/pg_dump"


# -- SQLite: a backup while the portal writes -------------------------------------------------

# SQLite's online backup and locking, so these are generated for the SQLite backend only
# (pg_dump takes its own snapshot, and pg_restore's one transaction is tested above).
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def sqlite_app(frozen_app):
    assert dialect(frozen_app) == "sqlite"
    return frozen_app


def backup_rows(path, action) -> list[tuple]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT detail, COUNT(*) FROM audit_log WHERE action = ? GROUP BY detail",
                                  (action,)).fetchall()


@SQLITE_ONLY
def test_a_backup_taken_during_an_open_write_neither_waits_for_it_nor_holds_half_of_it(sqlite_app, tmp_path):
    app = sqlite_app
    s = services(app)
    path = tmp_path / "during.backup"
    with s.database.write_transaction() as db:  # the server, mid-request, holding the write lock
        for _ in range(5):
            record(db, None, "test.open", None, s.clock.now(), "in flight")
        db.flush()
        result = run(app, "backup", path)
        assert result.exit_code == 0, result.output
    assert backup_rows(path, "test.open") == []
    assert row_counts(app)["audit_log"] == 5  # and the server's write went through


@SQLITE_ONLY
def test_backups_taken_while_the_portal_keeps_writing_hold_only_whole_transactions(sqlite_app, tmp_path):
    app = sqlite_app
    s = services(app)
    committed = []
    stop = threading.Event()
    failures = []

    def writer():
        try:
            while not stop.is_set():
                with s.database.write_transaction() as db:
                    for _ in range(4):
                        record(db, None, "test.batch", None, s.clock.now(), f"batch {len(committed)}")
                committed.append(True)
        except Exception as error:  # reported below; a thread's exception is otherwise lost
            failures.append(error)

    def wait_for(n):
        deadline = time.monotonic() + 30
        while len(committed) < n and not failures:
            assert time.monotonic() < deadline, "the writer stopped committing"
            time.sleep(0.01)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = []
        for i in range(3):
            wait_for(len(committed) + 2)
            path = tmp_path / f"busy-{i}.backup"
            assert run(app, "backup", path).exit_code == 0
            batches = backup_rows(path, "test.batch")
            assert batches and all(count == 4 for _, count in batches), batches
            seen.append(len(batches))
        wait_for(len(committed) + 2)  # the writer carried on after the backups
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not failures, failures
    assert seen == sorted(seen) and seen[-1] > seen[0]


@SQLITE_ONLY
def test_restore_into_a_running_portal_is_all_at_once(sqlite_app, tmp_path):
    """An open connection of the running portal sees the old rows or all the restored ones."""
    app = sqlite_app
    make_user(app, "kept@example.gov", "In The Backup")
    path = tmp_path / "portal.backup"
    assert run(app, "backup", path).exit_code == 0
    destroy(app)
    engine = services(app).database.engine
    with engine.connect() as reader:
        with reader.begin():
            old = reader.execute(text("SELECT email FROM user_account")).scalars().all()
            assert run(app, "restore", path, "--force").exit_code == 0
            assert reader.execute(text("SELECT email FROM user_account")).scalars().all() == old  # its snapshot
        assert reader.execute(text("SELECT email FROM user_account")).scalars().all() == ["kept@example.gov"]


@SQLITE_ONLY
def test_the_database_file_is_neither_a_backup_target_nor_a_backup(sqlite_app):
    app = sqlite_app
    make_user(app)
    before = snapshot(app)
    live = ops._sqlite_path(app.config["DATABASE_URL"])
    for args, message in ((("backup", live), "is the database itself"), (("restore", live, "--force"),
                                                                         "is the database itself")):
        result = run(app, *args)
        assert result.exit_code == 1 and message in result.output, result.output
    assert snapshot(app) == before


@SQLITE_ONLY
def test_a_backup_from_an_older_migration_restores_and_asks_for_db_upgrade(sqlite_app, tmp_path):
    from portal import migrate

    app = sqlite_app
    old = tmp_path / "old.db"
    migrate.upgrade(f"sqlite:///{old}", "0003_rollcall")
    make_user(app)
    result = run(app, "restore", old, "--force")
    assert result.exit_code == 0, result.output
    assert "0003_rollcall" in result.output and "run `portal db upgrade` next" in result.output
    assert row_counts(app)["user_account"] == 0
    assert run(app, "db", "upgrade").exit_code == 0
    make_user(app)
    assert log_in(app.test_client()).status_code == 302
