"""Back up and restore the whole portal database: every table, its migration version
(`alembic_version`) and the stored files (they live in the `stored_file` table).

SQLite: a backup is a plain SQLite file made with SQLite's online backup API, so it is
consistent even while the server writes; a restore copies it back into the configured
file through the same API, in one transaction. PostgreSQL: `pg_dump --format=custom`
and `pg_restore --single-transaction`. Both kinds are written to a temporary file first
and renamed, and both kinds of restore either complete or change nothing.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_MAGIC = b"PGDMP"
BUSY_TIMEOUT_MS = 30_000
# A restore waits this long for a running server's transactions, then gives up unchanged.
PG_LOCK_TIMEOUT = "-c lock_timeout=30000"


# Tables that say nothing about whether a database holds data: the migration version, and the
# static files every app host publishes when it starts.
REGENERATED = {"alembic_version", "release_asset"}


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


class DatabaseNotEmpty(BackupError):
    """The restore would replace data; the operator must say so (`--force`)."""

    def __init__(self, target: str, rows: int):
        super().__init__(f"{target} already holds data ({rows} rows). Restoring replaces all of it; "
                         "run again with --force to do that.")
        self.rows = rows


@dataclass(frozen=True)
class Migrations:
    """The migration ids this code (with its plugins) knows, and the newest ones."""

    known: frozenset[str]
    heads: frozenset[str]


@dataclass(frozen=True)
class BackupInfo:
    kind: str  # "sqlite" or "postgresql"
    revisions: tuple[str, ...]
    tables: tuple[str, ...]


def migrations_of(database_url: str, pm=None) -> Migrations:
    """Every migration of the core and of the installed feature plugins."""
    from alembic.script import ScriptDirectory

    from portal import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config(database_url, pm))
    return Migrations(frozenset(r.revision for r in script.walk_revisions()), frozenset(script.get_heads()))


def kind_of(database_url: str) -> str:
    name = make_url(database_url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def backup_database(database_url: str, destination: Path) -> BackupInfo:
    """Write a consistent copy of the database to `destination` (replaced only when complete)."""
    destination = Path(destination)
    if destination.is_dir():
        raise BackupError(f"{destination} is a folder; give the backup's file name")
    if not destination.parent.is_dir():
        raise BackupError(f"folder {destination.parent} does not exist")
    kind = kind_of(database_url)
    if kind == "sqlite" and destination.resolve() == _sqlite_path(database_url):
        raise BackupError(f"{destination} is the database itself; write the backup somewhere else")
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.partial")
    try:
        if kind == "sqlite":
            _sqlite_backup(_sqlite_path(database_url), temporary)
        else:
            _pg_backup(database_url, temporary)
        try:
            # Any migration will do here: a backup is a copy; restore decides what it accepts.
            info = read_backup(temporary, database_url, None)
        except BackupError as error:
            raise BackupError(f"the copy failed its check: {error}") from error
        os.replace(temporary, destination)
        return info
    finally:
        temporary.unlink(missing_ok=True)


def read_backup(path: Path, database_url: str, migrations: Migrations | None) -> BackupInfo:
    """Check that `path` is a whole portal backup this code (knowing `migrations`; None: any)
    can restore into `database_url`."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"no backup file at {path}")
    kind = kind_of(database_url)
    with path.open("rb") as file:
        magic = file.read(16)
    found = "sqlite" if magic.startswith(SQLITE_MAGIC) else "postgresql" if magic.startswith(PG_MAGIC) else None
    if found is None:
        raise BackupError(f"{path} is not a portal backup (neither a SQLite file nor a pg_dump archive)")
    if found != kind:
        raise BackupError(f"{path} is a {_label(found)} backup but the portal's database is {_label(kind)}; "
                          "restore a backup taken from the same kind of database")
    revisions, tables = _sqlite_contents(path) if kind == "sqlite" else _pg_contents(path)
    if "alembic_version" not in tables or not revisions:
        raise BackupError(f"{path} is not a portal backup: it has no migration version (alembic_version)")
    unknown = sorted(set(revisions) - migrations.known) if migrations else []
    if unknown:
        raise BackupError(f"{path} was taken at migration {', '.join(unknown)}, which this version of the portal "
                          "does not know: upgrade the portal (or install the plugin it came from) first")
    return BackupInfo(kind, tuple(sorted(revisions)), tuple(sorted(tables)))


def restore_database(database_url: str, source: Path, migrations: Migrations, force: bool = False) -> BackupInfo:
    """Replace the database's contents with the backup at `source`, all at once or not at all."""
    # Checked before the file is read: the live database may have pages still in its -wal file.
    if kind_of(database_url) == "sqlite" and Path(source).resolve() == _sqlite_path(database_url):
        raise BackupError(f"{source} is the database itself, not a backup of it")
    info = read_backup(source, database_url, migrations)
    if info.kind == "sqlite":
        target = _sqlite_path(database_url)
        if not force:
            _refuse_if_holding_data(f"sqlite:///{target}", str(target), must_exist=False)
        _sqlite_restore(Path(source), target)
    else:
        _check_pg_target(database_url, info, force)
        _pg_restore(database_url, Path(source))
    return info


def _label(kind: str) -> str:
    return "SQLite" if kind == "sqlite" else "PostgreSQL"


# -- SQLite -------------------------------------------------------------------

def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("the SQLite database is in memory; there is nothing on disk to back up")
    return Path(database).resolve()


def _sqlite_connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    else:
        connection = sqlite3.connect(path)
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def _sqlite_backup(source: Path, temporary: Path) -> None:
    if not source.is_file():
        raise BackupError(f"no database at {source}")
    temporary.unlink(missing_ok=True)
    # Read-write, though it only reads: a read-only connection cannot open a WAL database
    # that no one else has open.
    src = _sqlite_connect(source)
    dst = sqlite3.connect(temporary)
    try:
        # pages=-1: one step under one read snapshot, so writers keep going and the copy is consistent.
        src.backup(dst, pages=-1)
        # One self-contained file, with no -wal beside it.
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.commit()
    except sqlite3.Error as error:
        raise BackupError(f"cannot back up {source}: {error}") from error
    finally:
        dst.close()
        src.close()


def _sqlite_contents(path: Path) -> tuple[list[str], set[str]]:
    try:
        connection = _sqlite_connect(path, read_only=True)
        try:
            # A copy cut short can still pass quick_check: its header says how long it must be.
            pages = connection.execute("PRAGMA page_count").fetchone()[0]
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            if pages * page_size != path.stat().st_size:
                raise BackupError(f"{path} is damaged: {path.stat().st_size} bytes where its header says "
                                  f"{pages * page_size} (a copy cut short?)")
            check = connection.execute("PRAGMA quick_check").fetchall()
            if check != [("ok",)]:
                raise BackupError(f"{path} is damaged: {check[0][0]}")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revisions = []
            if "alembic_version" in tables:
                revisions = [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise BackupError(f"{path} is not a readable SQLite backup: {error}") from error
    return revisions, tables


def _sqlite_restore(source: Path, target: Path) -> None:
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    src = _sqlite_connect(source, read_only=True)
    dst = _sqlite_connect(target)
    try:
        # The backup API writes the whole copy in one transaction of the target: other
        # connections see the old database or the restored one, never a mix, and a failure
        # rolls back. A WAL target stays WAL.
        src.backup(dst, pages=-1)
    except sqlite3.Error as error:
        raise BackupError(f"restore failed and {target} is unchanged: {error}") from error
    finally:
        dst.close()
        src.close()


# -- both: is the target empty? ------------------------------------------------

def _row_counts(database_url: str) -> tuple[dict[str, int], str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = [t for t in inspect(connection).get_table_names() if t not in REGENERATED]
            counts = {t: connection.execute(text(f'SELECT COUNT(*) FROM "{t}"')).scalar_one() for t in tables}
            version = ""
            if engine.dialect.name == "postgresql":
                version = connection.execute(text("SHOW server_version_num")).scalar_one()
            return counts, version
    finally:
        engine.dispose()


def _refuse_if_holding_data(database_url: str, label: str, must_exist: bool = True) -> None:
    if not must_exist and not Path(make_url(database_url).database).exists():
        return
    try:
        counts, _ = _row_counts(database_url)
    except Exception as error:  # an unreadable target holds something; only --force may replace it
        raise BackupError(f"{label} cannot be read ({error.__class__.__name__}); "
                          "run again with --force to replace it with the backup") from error
    rows = sum(counts.values())
    if rows:
        raise DatabaseNotEmpty(label, rows)


# -- PostgreSQL -----------------------------------------------------------------

def _libpq(database_url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI without the password (it goes in the environment, not on a command line)."""
    url = make_url(database_url)
    env = dict(os.environ, PGOPTIONS=PG_LOCK_TIMEOUT)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _tool_major(path: str) -> int | None:
    try:
        output = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", output)
    return int(match.group(1)) if match else None


def find_pg_tool(name: str, server_major: int | None = None) -> str:
    """`pg_dump` or `pg_restore`: from PATH, else from /usr/lib/postgresql/*/bin (newest first),
    at least as new as the server."""
    candidates = [found for found in [shutil.which(name)] if found]
    versioned = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    candidates += sorted(versioned, key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
                         reverse=True)
    if not candidates:
        raise BackupError(f"{name} is not installed: install the PostgreSQL client tools "
                          "(Debian: apt-get install postgresql-client)")
    majors = {}
    for candidate in candidates:
        majors[candidate] = _tool_major(candidate)
        if server_major is None or (majors[candidate] or 0) >= server_major:
            return candidate
    found = ", ".join(f"{c} ({m or 'unknown version'})" for c, m in majors.items())
    raise BackupError(f"the PostgreSQL server is version {server_major} but the only {name} found is older: "
                      f"{found}. Install postgresql-client-{server_major}")


def _run(command: list[str], env: dict[str, str], what: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        detail = result.stderr.strip() or f"exit status {result.returncode}"
        raise BackupError(f"{what}: {detail}")
    return result.stdout


def _pg_backup(database_url: str, temporary: Path) -> None:
    try:
        _, version = _row_counts(database_url)
    except Exception as error:
        raise BackupError(f"cannot reach the database: {error.__class__.__name__}: {error}") from error
    pg_dump = find_pg_tool("pg_dump", int(version) // 10000)
    uri, env = _libpq(database_url)
    _run([pg_dump, "--format=custom", f"--file={temporary}", f"--dbname={uri}"], env, "pg_dump failed")


_TABLE_ENTRY = re.compile(r"^\d+; \d+ \d+ TABLE (\S+) (\S+) ")


def _pg_contents(path: Path) -> tuple[list[str], set[str]]:
    pg_restore = find_pg_tool("pg_restore")
    env = dict(os.environ)
    listing = _run([pg_restore, "--list", str(path)], env, f"{path} is not a readable pg_dump archive")
    tables = {m.group(2) for m in map(_TABLE_ENTRY.match, listing.splitlines()) if m and m.group(1) == "public"}
    revisions = []
    if "alembic_version" in tables:
        script = _run([pg_restore, "--data-only", "--table=alembic_version", "--file=-", str(path)], env,
                      f"cannot read the migration version in {path}")
        inside = False
        for line in script.splitlines():
            if line.startswith("COPY ") and "alembic_version" in line:
                inside = True
            elif inside and line == "\\.":
                break
            elif inside and line:
                revisions.append(line.strip())
    return revisions, tables


def _check_pg_target(database_url: str, info: BackupInfo, force: bool) -> None:
    try:
        counts, _ = _row_counts(database_url)
    except Exception as error:
        raise BackupError(f"cannot reach the database: {error.__class__.__name__}: {error}") from error
    extra = sorted(set(counts) - set(info.tables))
    if extra:
        # pg_restore --clean drops only what the backup holds; these would stay behind.
        raise BackupError("the database has tables the backup does not (" + ", ".join(extra) + "): it is at a "
                          "newer migration or has a plugin's tables. Restore into an empty database instead")
    rows = sum(counts.values())
    if rows and not force:
        raise DatabaseNotEmpty(make_url(database_url).database or "the database", rows)


def _pg_restore(database_url: str, source: Path) -> None:
    _, version = _row_counts(database_url)
    pg_restore = find_pg_tool("pg_restore", int(version) // 10000)
    uri, env = _libpq(database_url)
    # One transaction: any error rolls everything back, so the database is never half restored.
    _run([pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          f"--dbname={uri}", str(source)], env, "restore failed and the database is unchanged")
