"""The database row by row, to say exactly what a request changed: rows inserted, deleted,
and for each updated row the columns that moved; then whether those changes stay within what
the request may do and in rows that belong to whoever sent it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import inspect
from sqlalchemy import text as sql

from tests.helpers import services


def table_rows(app) -> dict[str, dict[tuple, dict]]:
    engine = services(app).database.engine
    inspector = inspect(engine)
    result = {}
    with engine.connect() as connection:
        for table in inspector.get_table_names():
            if table == "alembic_version":
                continue
            keys = inspector.get_pk_constraint(table)["constrained_columns"]
            rows = connection.execute(sql(f'SELECT * FROM "{table}"')).mappings().all()
            result[table] = {tuple(row[k] for k in keys): dict(row) for row in rows}
    return result


@dataclass
class Change:
    table: str
    op: str  # insert | update | delete
    row: dict  # the row after (before, for a delete)
    columns: set = field(default_factory=set)  # for an update: the columns that changed

    def __str__(self):
        shown = {k: v for k, v in self.row.items() if k not in ("data", "password_hash", "body_text")}
        return f"{self.op} {self.table} {sorted(self.columns) if self.columns else ''} {shown}"


def changes(before, after) -> list[Change]:
    found = []
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, {}), after.get(table, {})
        for key in new.keys() - old.keys():
            found.append(Change(table, "insert", new[key]))
        for key in old.keys() - new.keys():
            found.append(Change(table, "delete", old[key]))
        for key in old.keys() & new.keys():
            cols = {c for c in new[key] if new[key][c] != old[key].get(c)}
            if cols:
                found.append(Change(table, "update", new[key], cols))
    return found


# What a request may change: table -> the ops it may do ("insert", "delete") and the columns it may update.
def allowed(changes_made: list[Change], allow: dict[str, set[str]]) -> list[str]:
    bad = []
    for change in changes_made:
        permitted = allow.get(change.table, set())
        if change.op == "update":
            extra = change.columns - permitted
            if extra:
                bad.append(f"{change} (may not change {sorted(extra)})")
        elif change.op not in permitted:
            bad.append(f"{change} (may not {change.op})")
    return bad


def owned(changes_made: list[Change], key: str, values) -> list[str]:
    """Rows written, changed or deleted must belong where the request's real fields and URL
    say: `user_id` (any table) or `enrollment.user_id` (one table) must be one of `values`.
    An `id` key names the only rows that may be changed or deleted (new rows get new ids)."""
    table, column = key.split(".", 1) if "." in key else (None, key)
    values = set(values)
    return [f"{change} has {column}={change.row[column]!r}, not one of {sorted(values, key=str)}"
            for change in changes_made if (table is None or change.table == table) and column in change.row
            and not (column == "id" and change.op == "insert") and change.row[column] not in values]


def inserted(made, table):
    return [c.row for c in made if c.table == table and c.op == "insert"]


def updated(made, table):
    return [c.row for c in made if c.table == table and c.op == "update"]
