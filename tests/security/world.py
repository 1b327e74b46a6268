"""A seeded world for access-control tests: one signed-in browser per role, each with real
objects of its own and of others, on a database that can be put back as it was in a moment.

    world = open_world("sqlite", tmp_path)      # or ("postgresql", tmp_path, PORTAL_TEST_DATABASE_URL)
    client = world.browser("learner")           # a fresh copy of that role's signed-in browser
    client.post(path, data={"csrf_token": world.csrf("learner"), ...})
    world.changed()                             # did anything but log-in bookkeeping change?
    world.reset()                               # the database exactly as built
    world.ids["attempt"], world.ids["agency_b"] # the objects, by name (listed below)
    world.close()

Roles (ROLES): anonymous; unverified (signed up, email not confirmed); learner (enrolled in
intro-sro-programs, passed it, holds a certificate, officer of agency A, attended showing A);
outsider (verified, enrolled in nothing, in no agency); provider (provider staff of the
course's provider); other_provider (staff of another provider); support; admin;
coordinator (of agency A, trainer of showing A); other_officer (officer of agency B,
trainer of showing B).

world.ids: user_<role or person> (user ids); attempt (the learner's passed post-test) and
peer_attempt (the peer's failed one); certificate and peer_certificate (numbers); lesson,
episode (first ids); pack_version, pack_file (a public file of the course); asset (the path
part of a versioned asset); showing_a (the coordinator's), showing_b (the other officer's);
agency_a/b, award_a/b, sro_a/b (each with a certificate file and training completed),
expense_a/b, invite_a/b and invite_token_a/b, member_a (the learner in A), member_b (the other
officer in B); provider_name, other_provider_name. Mailed-link tokens are in TOKENS.

Other people (no browser): peer (enrolled in the course, failed then passed the post-test,
has a certificate); coord_b (coordinator of B); subject (verified, no roles: the target of
support actions, password-reset and email-change links); inactive (deactivated).

The clock is frozen at 2026-06-15 14:00 UTC, so log-in sessions never move their last-seen time
and a reset really is "as built". Building takes a few seconds (two certificate PDFs are rendered);
a reset takes milliseconds (a file copy on SQLite, rows copied back from a schema on PostgreSQL).
Build one world per test module (a module-scoped fixture) and reset after anything that writes.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from portal import create_app, migrate
from portal.common.clock import FrozenClock
from tests.helpers import csrf_token, log_in, make_user, services, snapshot, submit

ROLES = ("anonymous", "unverified", "learner", "outsider", "provider", "other_provider", "support", "admin",
         "coordinator", "other_officer")
EMAILS = {
    "unverified": "unverified@example.gov", "learner": "learner@example.gov", "outsider": "outsider@example.gov",
    "provider": "provider@example.gov", "other_provider": "other-provider@example.gov",
    "support": "support@example.gov", "admin": "admin@example.gov", "coordinator": "coord-a@example.gov",
    "other_officer": "officer-b@example.gov", "peer": "peer@example.gov", "coord_b": "coord-b@example.gov",
    "subject": "subject@example.gov", "inactive": "inactive@example.gov",
}
COURSE = "intro-sro-programs"
SERIES = "rollcall-school-safety"
IN_PERSON = "inperson-sro-basic"
AGENCY_A, AGENCY_B = "Elm City Police Department", "Oak County Sheriff"
NOW = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)
# Known tokens for the mailed links, so tests can build their URLs.
TOKENS = {"verify": "verify-token-of-the-unverified-user-0001", "reset": "reset-token-of-the-subject-user-00001",
          "change_email": "change-email-token-of-the-subject-0001"}
# What log-in bookkeeping may change on any request without it counting as a write.
BOOKKEEPING = {"login_session": {"last_seen_at", "expires_at"}}


def app_config(database_url: str, data_dir: Path) -> dict:
    return {
        "TESTING": True, "DATABASE_URL": database_url, "PORTAL_DATA_DIR": str(data_dir),
        "PORTAL_BASE_URL": "https://portal.test", "SECRET_KEY": "test-secret-key", "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024, "RATELIMIT_ENABLED": False, "MAIL_TRANSPORT": "file",
        "SUPPORT_EMAIL": "support@portal.test", "CLOCK": FrozenClock(NOW),
    }


@dataclass
class World:
    app: object
    backend: str
    ids: dict = field(default_factory=dict)
    _cookies: dict = field(default_factory=dict)
    _csrf: dict = field(default_factory=dict)
    _built: dict | None = None
    _restore: object = None
    _drop: object = None
    _fingerprint_sql: str = ""
    _built_fingerprint: list | None = None

    def browser(self, role: str):
        """A new test client holding a copy of the role's cookies (anonymous: only a CSRF session)."""
        client = self.app.test_client()
        client._cookies.update(self._cookies[role])
        return client

    def csrf(self, role: str) -> str:
        """A CSRF token valid for the role's browser session."""
        return self._csrf[role]

    def state(self) -> dict:
        return snapshot(self.app, BOOKKEEPING)

    def changed(self) -> bool:
        """Whether any row differs from the world as built (log-in bookkeeping aside)."""
        if self._fingerprint_sql:
            return self._fingerprint() != self._built_fingerprint
        return self.state() != self._built

    def diff(self) -> dict[str, tuple[list, list]]:
        """Per changed table: rows gone, rows new."""
        now, before = self.state(), self._built
        return {t: (sorted(set(before.get(t, [])) - set(now.get(t, []))),
                    sorted(set(now.get(t, [])) - set(before.get(t, []))))
                for t in set(now) | set(before) if now.get(t) != before.get(t)}

    def reset(self) -> None:
        """Put the database back exactly as it was built."""
        self._restore()

    def close(self) -> None:
        services(self.app).database.dispose()
        if self._drop:
            self._drop()

    def _fingerprint(self):
        with services(self.app).database.engine.connect() as connection:
            return sorted(tuple(row) for row in connection.execute(text(self._fingerprint_sql)))


def open_world(backend: str, workdir: Path, pg_url: str = "") -> World:
    """Build the world on a new database of `backend` ("sqlite" or "postgresql" at pg_url)."""
    workdir.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        run, template = workdir / "world.db", workdir / "world-template.db"
        url = f"sqlite:///{run}"
        migrate.upgrade(url)
    else:
        url, drop = _pg_database(pg_url)
    app = create_app(app_config(url, workdir / "data"))
    world = World(app=app, backend=backend)
    _seed(world)
    world._built = world.state()
    if backend == "sqlite":
        services(app).database.dispose()
        shutil.copy(run, template)

        def restore():
            services(app).database.dispose()
            for suffix in ("-wal", "-shm"):
                Path(str(run) + suffix).unlink(missing_ok=True)
            shutil.copy(template, run)
        world._restore = restore
    else:
        world._restore, world._fingerprint_sql = _pg_keep_a_copy(app)
        world._built_fingerprint = world._fingerprint()

        def close_pg():
            services(app).database.dispose()
            drop()
        world._drop = close_pg
    return world


_pg_count = 0


def _pg_database(pg_url: str):
    """A new migrated database of this process's own, and a function that drops it."""
    import os

    from sqlalchemy.engine import make_url

    from portal.config import normalise_database_url

    global _pg_count
    _pg_count += 1
    base = make_url(normalise_database_url(pg_url))
    name = f"{base.database}_{os.getpid()}_world{_pg_count}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)

    def drop():
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return url, drop


def _pg_keep_a_copy(app):
    """Copy every table into a schema of its own, and return (restore, fingerprint query):
    restoring copies the rows back and sets the sequences, all on the server in one transaction,
    which is much quicker than making a database from a template for each reset."""
    from sqlalchemy import inspect

    from tests.helpers import table_names

    engine = services(app).database.engine
    tables = table_names(app)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS world_as_built CASCADE"))
        connection.execute(text("CREATE SCHEMA world_as_built"))
        for table in tables:
            connection.execute(text(f'CREATE TABLE world_as_built."{table}" AS SELECT * FROM public."{table}"'))
        sequences = connection.execute(text(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")).all()
    statements = ["SET LOCAL session_replication_role = replica"]  # no FK checks while rows come back
    for table in tables:
        statements += [f'DELETE FROM public."{table}"',
                       f'INSERT INTO public."{table}" OVERRIDING SYSTEM VALUE SELECT * FROM world_as_built."{table}"']
    for name, last in sequences:
        statements.append(f"SELECT setval('public.\"{name}\"', {last}, true)" if last is not None
                          else f"SELECT setval('public.\"{name}\"', 1, false)")
    restore_sql = ";\n".join(statements)

    def restore():
        with engine.begin() as connection:
            connection.exec_driver_sql(restore_sql)

    inspector = inspect(engine)
    parts = []
    for table in tables:
        columns = [c["name"] for c in inspector.get_columns(table) if c["name"] not in BOOKKEEPING.get(table, ())]
        row = "ROW(" + ", ".join(f'x."{c}"' for c in columns) + ")::text"
        parts.append(f"SELECT '{table}', count(*), md5(coalesce(string_agg({row}, '|' ORDER BY {row}), '')) "
                     f'FROM public."{table}" x')
    return restore, "\nUNION ALL\n".join(parts)


# -- seeding --------------------------------------------------------------------------

def _seed(world: World) -> None:
    app, ids = world.app, world.ids
    for person, email in EMAILS.items():
        roles = {"support": ("support",), "admin": ("admin",)}.get(person, ())
        user = make_user(app, email=email, name=person.replace("_", " ").title(), roles=roles,
                         verified=person != "unverified", active=person != "inactive")
        ids[f"user_{person}"] = user.id
    _seed_provider_staff(app, ids)
    _seed_agencies(app, ids)
    _seed_learning(app, ids)
    _seed_rollcall(app, ids)
    _seed_tokens(app, ids)
    from portal.common.assets import asset_url
    ids["asset"] = asset_url("portal.css").removeprefix("/assets/")
    course = app.extensions["packs"].get(COURSE)
    ids["pack_version"], ids["pack_file"] = course.version, sorted(course.public_files())[0]
    ids["lesson"] = course.lessons[0].id
    ids["episode"] = app.extensions["packs"].get(SERIES).lessons[0].id
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            response = log_in(client, EMAILS[role])
            assert response.status_code == 302, (role, response.status_code)
        world._csrf[role] = csrf_token(client, "/account/profile" if role != "anonymous" else "/account/login")
        world._cookies[role] = dict(client._cookies)


def _seed_provider_staff(app, ids) -> None:
    packs = app.extensions["packs"]
    ids["provider_name"] = packs.get(COURSE).provider.name
    ids["other_provider_name"] = packs.get(IN_PERSON).provider.name
    assert ids["provider_name"] != ids["other_provider_name"]
    with services(app).database.engine.begin() as connection:
        for person, name in (("provider", ids["provider_name"]), ("other_provider", ids["other_provider_name"])):
            connection.execute(text("INSERT INTO provider_staff (user_id, provider_name, granted_at) "
                                    "VALUES (:u, :p, :t)"), {"u": ids[f"user_{person}"], "p": name,
                                                              "t": NOW.replace(tzinfo=None)})


def _seed_agencies(app, ids) -> None:
    from tests.agencies.support import (add_award, add_expense, add_invite, add_member, add_sro,
                                        attach_certificate, new_agency)

    for suffix, name, coordinator, officer in (("a", AGENCY_A, "coordinator", "learner"),
                                               ("b", AGENCY_B, "coord_b", "other_officer")):
        agency = new_agency(app, name=name, coordinator=EMAILS[coordinator],
                            program_manager=f"pm-{suffix}@cops.example.gov")
        member = add_member(app, agency, EMAILS[officer])
        award = add_award(app, agency, number=f"2026-UL-WX-00{suffix.upper()}1")
        sro = add_sro(app, award, name=f"Ofc. Record {suffix.upper()}", hire_date=date(2026, 4, 15),
                      training_completed=date(2026, 6, 1))
        attach_certificate(app, agency, sro)
        expense = add_expense(app, sro, "120.00", "lodging", f"Hotel {suffix.upper()}")
        invite, token = add_invite(app, agency, by_email=EMAILS[coordinator])
        ids.update({f"agency_{suffix}": agency, f"member_{suffix}": member, f"award_{suffix}": award,
                    f"sro_{suffix}": sro, f"expense_{suffix}": expense, f"invite_{suffix}": invite,
                    f"invite_token_{suffix}": token})


def _seed_learning(app, ids) -> None:
    from tests.learning.journey import (attempts_of_user, backdate_post_attempts, certificate_number,
                                        complete_all_lessons, enroll,
                                        take_test_scoring)

    for person in ("learner", "peer"):
        client = app.test_client()
        log_in(client, EMAILS[person])
        assert enroll(client).status_code == 303
        take_test_scoring(client, app, "pre", 5, EMAILS[person])
        complete_all_lessons(client, app)
        if person == "peer":
            take_test_scoring(client, app, "post", 3, EMAILS[person])
            backdate_post_attempts(app, 11, EMAILS[person])  # the retake comes after the cooldown
        take_test_scoring(client, app, "post", 10, EMAILS[person])
        response = submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
        assert response.status_code == 303
        number = certificate_number(client.get(response.location).get_data(as_text=True))
        posts = attempts_of_user(app, EMAILS[person], "post")
        prefix = "" if person == "learner" else "peer_"
        ids[prefix + "certificate"] = number
        ids[prefix + "attempt"] = posts[0].id  # the peer's first post-test is the failed one


def _seed_rollcall(app, ids) -> None:
    from tests.rollcall.support import post_showing, showings

    episode = app.extensions["packs"].get(SERIES).lessons[0].id
    for person, agency, suffix in (("coordinator", AGENCY_A, "a"), ("other_officer", AGENCY_B, "b")):
        client = app.test_client()
        log_in(client, EMAILS[person])
        response = post_showing(client, episode, agency=agency, attendees=EMAILS["learner"] if suffix == "a" else "",
                                notes=f"showing {suffix}")
        assert response.status_code == 303, response.get_data(as_text=True)[:300]
        ids[f"showing_{suffix}"] = showings(app)[-1]["id"]


def _seed_tokens(app, ids) -> None:
    from portal.accounts.models import AccountToken
    from portal.accounts.services import PURPOSE_CHANGE_EMAIL, PURPOSE_RESET, PURPOSE_VERIFY
    from portal.accounts.sessions import hash_token

    rows = [(TOKENS["verify"], "unverified", PURPOSE_VERIFY, EMAILS["unverified"]),
            (TOKENS["reset"], "subject", PURPOSE_RESET, EMAILS["subject"]),
            (TOKENS["change_email"], "subject", PURPOSE_CHANGE_EMAIL, "subject-new@example.gov")]
    with services(app).database.session() as db:
        for token, person, purpose, email in rows:
            db.add(AccountToken(token_hash=hash_token(token), user_id=ids[f"user_{person}"], purpose=purpose,
                                email=email, created_at=NOW, expires_at=NOW + timedelta(hours=2)))
        db.commit()
