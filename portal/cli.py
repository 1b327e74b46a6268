"""The `portal` command: Flask's CLI group for this app, with the portal's own commands."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext


def _create_app() -> Flask:
    from portal.app import create_app_or_exit

    return create_app_or_exit()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=True, load_dotenv=False)
def main() -> None:
    """Manage and serve the training portal."""


# -- database ---------------------------------------------------------------

@click.group("db")
def db_group() -> None:
    """Database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="heads", show_default=True)
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from alembic.util import CommandError

    from portal import migrate

    try:
        migrate.upgrade(current_app.config["DATABASE_URL"], revision, pm=current_app.extensions["plugins"])
    except CommandError as error:
        hint = " Safe mode is on: plugins' migrations are not loaded." if current_app.config["PORTAL_SAFE_MODE"] else ""
        raise click.ClickException(f"cannot upgrade the database: {error}.{hint}")
    click.echo("Database is up to date.")


@db_group.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("target")
@with_appcontext
def db_downgrade(target: str) -> None:
    """Undo migrations of one branch: `core@-1` (the core's last), `agencies@-1`,
    `agencies@base` (remove a plugin's tables), or a revision id."""
    from alembic.util import CommandError

    from portal import migrate

    if target.lstrip("-").isdigit() or target.startswith("-"):
        # A bare step count is ambiguous with plugin branches: Alembic may undo a plugin's
        # revision instead of the core's.
        branches = ", ".join(f"{b}@-1" for b in migrate.branch_names(current_app.extensions["plugins"]))
        raise click.UsageError(f"say which branch to step back: {branches} (or a revision id)")
    try:
        migrate.downgrade(current_app.config["DATABASE_URL"], target, pm=current_app.extensions["plugins"])
    except CommandError as error:
        raise click.ClickException(f"cannot downgrade the database: {error}")
    click.echo(f"Database downgraded to {target}.")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="what the change does, e.g. 'lesson notes'")
@click.option("--branch", default="core", show_default=True, help="core, or a plugin's branch (agencies)")
@with_appcontext
def db_revision(message: str, branch: str) -> None:
    """Write the next migration of BRANCH from the models (for developers: review it before committing)."""
    from portal import migrate

    try:
        path = migrate.revision(message, branch, pm=current_app.extensions["plugins"])
    except ValueError as error:
        raise click.UsageError(str(error))
    click.echo(f"Wrote {path}: check what it does, then run `portal db upgrade`.")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the revision the database is at."""
    from portal import migrate

    migrate.current(current_app.config["DATABASE_URL"], pm=current_app.extensions["plugins"])


# -- reports ----------------------------------------------------------------

@click.group("reports")
def reports_group() -> None:
    """Report summaries."""


@reports_group.command("rebuild")
@with_appcontext
def reports_rebuild() -> None:
    """Recompute the report summaries (scores per enrollment, item statistics) from the attempts,
    after a bulk import or to repair them. Safe to run at any time."""
    from sqlalchemy import text

    from portal.common.web import services
    from portal.reports.summaries import rebuild

    with services().database.session() as db:
        rebuild(db)
        enrollments = db.connection().execute(text("SELECT COUNT(*) FROM enrollment")).scalar_one()
        items = db.connection().execute(text("SELECT COUNT(*) FROM item_stat")).scalar_one()
    click.echo(f"Report summaries rebuilt: {enrollments} enrollments, {items} item statistics.")


# -- users ------------------------------------------------------------------

@click.group("users")
def users_group() -> None:
    """Accounts."""


@users_group.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    """Create a confirmed administrator, or make an existing account one."""
    from portal.accounts.models import ROLE_ADMIN, User, UserRole
    from portal.accounts.passwords import password_problems
    from portal.accounts.services import find_user_by_email, normalise_email, roles_of
    from portal.common.web import services

    s = services()
    now = s.clock.now()
    with s.database.session() as db:
        user = find_user_by_email(db, email)
        if user is None:
            problems = password_problems(password, email=email)
            if problems:
                raise click.ClickException(problems[0])
            user = User(email=normalise_email(email), name=name.strip(), password_hash=s.hasher.hash(password),
                        created_at=now, password_changed_at=now, email_verified_at=now)
            db.add(user)
            db.flush()
        if ROLE_ADMIN not in roles_of(db, user.id):
            db.add(UserRole(user_id=user.id, role=ROLE_ADMIN, granted_at=now))
        db.commit()
        click.echo(f"{user.email} is an administrator.")


# -- mail -------------------------------------------------------------------

@click.group("mail")
def mail_group() -> None:
    """The mail outbox."""


@mail_group.command("send")
@click.option("--watch", is_flag=True, help="Keep running, checking the outbox every INTERVAL seconds.")
@click.option("--interval", default=5.0, show_default=True)
@with_appcontext
def mail_send(watch: bool, interval: float) -> None:
    """Deliver queued mail; failed messages are retried later with back-off.

    One pass exits 0 when nothing failed, 1 when a message failed (it will be retried) or was
    refused for good, 2 when the mail server refuses the portal itself (say, its password)."""
    from portal.mail.sender import watch_outbox, one_pass

    if watch:
        watch_outbox(current_app, interval)
        return
    report, waiting = one_pass(current_app)
    click.echo(f"sent {report.sent}, failed {report.failed}, refused {report.refused}, waiting {waiting}")
    if report.problem:
        click.echo(f"error: {report.problem}", err=True)
        sys.exit(2)
    sys.exit(1 if report.failed or report.refused else 0)


# -- serving ----------------------------------------------------------------

@main.command("serve")
@click.option("--host", default=None, type=str, help="Address to listen on.  [default: $HOST or 127.0.0.1]")
@click.option("--port", default=None, type=int, help="Port to listen on; also the base URL's port unless "
              "PORTAL_BASE_URL is set.  [default: $PORT or 5000]")
@click.option("--workers", default=1, show_default=True, type=int,
              help="Worker processes; more than one needs RATELIMIT_STORAGE_URI=redis://...")
@click.option("--threads", default=8, show_default=True, type=int)
@click.option("--mail-sender/--no-mail-sender", default=True, show_default=True,
              help="Also run `portal mail send --watch` beside the web server.")
def serve(host: str | None, port: int | None, workers: int, threads: int, mail_sender: bool) -> None:
    """Serve the portal with gunicorn (the production server), plus the mail sender.

    SIGTERM or SIGINT is passed on to both; the command exits once they have."""
    from portal.config import SettingError, exit_on_setting_error, finish_config, load_config

    env = dict(os.environ)
    if host is not None:
        env["HOST"] = host
    if port is not None:
        env["PORT"] = str(port)  # the base URL's default follows it, in this process and the children
    try:
        config = load_config(env)
        finish_config(config)
    except SettingError as error:
        exit_on_setting_error(error)
    if workers > 1 and config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        # Each process would keep its own counts: "10 per minute" would mean 10 per worker.
        raise click.UsageError(f"--workers {workers} needs RATELIMIT_STORAGE_URI=redis://... (memory:// counts "
                               "rate limits per process); use --threads for more concurrency on one worker")
    children = Supervisor(env)
    if mail_sender:
        children.start("mail sender", [sys.executable, "-m", "portal.cli", "mail", "send", "--watch"], restart=True)
    click.echo(f"Serving the portal on http://{config['HOST']}:{config['PORT']}/ (links use {config['PORTAL_BASE_URL']})")
    from portal.standards.origin import local_content_binds

    children.start("gunicorn", [sys.executable, "-m", "gunicorn", "--bind", f"{config['HOST']}:{config['PORT']}",
                                *local_content_binds(config),  # cmi5/SCORM packages' own origin, when local
                                "--workers", str(workers), "--threads", str(threads),
                                "--access-logfile", "-", "--forwarded-allow-ips", "127.0.0.1",
                                "portal.app:create_app_or_exit()"], main=True)
    sys.exit(children.run())


class Supervisor:
    """Runs `portal serve`'s children: passes SIGTERM/SIGINT on, restarts a crashed helper (the
    mail sender) with back-off, and returns the main child's exit status once all have ended."""

    def __init__(self, env: dict):
        self.env = env
        self.children: dict[str, tuple[list[str], bool, subprocess.Popen]] = {}
        self.main: str | None = None
        self.stopping = False

    def start(self, name: str, command: list[str], *, restart: bool = False, main: bool = False) -> None:
        self.children[name] = (command, restart, subprocess.Popen(command, env=self.env))
        if main:
            self.main = name

    def _stop(self, signum, _frame) -> None:
        self.stopping = True
        for _, _, process in self.children.values():
            if process.poll() is None:
                process.send_signal(signum)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        delays: dict[str, float] = {}
        status = 0
        while True:
            alive = False
            for name, (command, restart, process) in list(self.children.items()):
                code = process.poll()
                if code is None:
                    alive = True
                    continue
                if name == self.main:
                    status = code
                    if not self.stopping:  # the server ended on its own: take the rest down with it
                        self._stop(signal.SIGTERM, None)
                elif restart and not self.stopping:
                    delays[name] = min(60.0, delays.get(name, 0.5) * 2)
                    click.echo(f"portal serve: {name} exited with status {code}; restarting in {delays[name]:g}s",
                               err=True)
                    time.sleep(delays[name])
                    self.start(name, command, restart=True)
                    alive = True
            if not alive:
                return status
            time.sleep(0.2)


def init_app(app: Flask) -> None:
    """Register command groups on the app, so `flask --app portal` sees them too,
    with the commands feature plugins add."""
    from portal.ops.cli import backup_command, restore_command
    from portal.plugins.manager import collect

    plugin_commands = collect(app.extensions["plugins"].hook.portal_cli_commands())
    for group in (db_group, users_group, mail_group, reports_group, backup_command, restore_command,
                  *sorted(plugin_commands, key=lambda c: c.name)):
        if group.name not in app.cli.commands:
            app.cli.add_command(group)


def _register_packs_commands() -> None:
    from portal.packs.cli import packs_group

    main.add_command(packs_group)


_register_packs_commands()


if __name__ == "__main__":
    main()
