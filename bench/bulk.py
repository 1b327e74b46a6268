"""Bulk row writing for benchmark fixtures: COPY on PostgreSQL, executemany on SQLite.

A benchmark fixture, not portal code: rows are tuples in the column order given.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.engine import Engine


def _sqlite_value(value):
    """What SQLAlchemy's SQLite types store: naive UTC text for datetimes, floats for decimals."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


class BulkWriter:
    """Buffers rows per table and writes them in batches, parents before children."""

    def __init__(self, engine: Engine, columns: dict[str, str], batch: int = 20000):
        self.engine, self.columns, self.batch = engine, columns, batch
        self.postgres = engine.dialect.name == "postgresql"
        self.raw = engine.raw_connection()
        self.cursor = self.raw.cursor()
        self.buffers: dict[str, list] = {table: [] for table in columns}
        self.counts: dict[str, int] = {table: 0 for table in columns}

    def add(self, table: str, row: tuple) -> None:
        self.buffers[table].append(row)
        if len(self.buffers[table]) >= self.batch:
            self.flush_all()

    def flush_all(self) -> None:
        for table in self.columns:  # dict order is parent-first, so foreign keys find their rows
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self.buffers[table]
        if not rows:
            return
        if self.postgres:
            with self.cursor.copy(f"COPY {table} ({self.columns[table]}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in self.columns[table].split(","))
            self.cursor.executemany(
                f"INSERT INTO {table} ({self.columns[table]}) VALUES ({marks})",
                [tuple(_sqlite_value(v) for v in row) for row in rows])
        self.counts[table] += len(rows)
        rows.clear()

    def finish(self, analyze: bool = True) -> dict[str, int]:
        """Write what is left, move PostgreSQL's id sequences past the ids given, analyze."""
        self.flush_all()
        self.raw.commit()
        if self.postgres:
            for table in self.columns:
                self.cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"GREATEST((SELECT MAX(id) FROM {table}), 1))")
            self.raw.commit()
            if analyze:
                self.raw.driver_connection.autocommit = True  # VACUUM cannot run inside a transaction
                self.raw.driver_connection.execute("VACUUM ANALYZE")
        elif analyze:
            self.cursor.execute("ANALYZE")
            self.raw.commit()
        self.raw.close()
        return self.counts


def next_ids(engine: Engine, tables) -> dict[str, int]:
    """The first free id of each table, for fixtures added to a database that has rows."""
    with engine.connect() as connection:
        return {t: (connection.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")).scalar() or 0) + 1
                for t in tables}
