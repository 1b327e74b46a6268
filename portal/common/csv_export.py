"""The one CSV writer for every export of the portal and its plugins.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula (CSV injection):
`=HYPERLINK(...)` in an officer's name becomes a link that leaks the sheet, `=cmd|...` asked
older Excel to start a program. Leading tabs, carriage returns and spaces do not stop some of
them, nor do the full-width forms. Every text cell that could be read as a formula is written
with a leading apostrophe, which spreadsheets show as text and hide; numbers (`-3.5`) stay
numbers. Plugins import it as `from portal.common.csv_export import formula_safe_writer`.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any, Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LEADING_BLANKS = " \t\r\n\u00a0\u3000"
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def formula_safe_cell(value: Any) -> str:
    """A cell's text as a spreadsheet will show it and never run it."""
    text = "" if value is None else str(value)
    if _NUMBER.fullmatch(text):
        return text
    if text[:1] in ("\t", "\r", "\n") or text.lstrip(_LEADING_BLANKS).startswith(FORMULA_STARTS):
        return "'" + text
    return text


class FormulaSafeWriter:
    """csv.writer's interface, with every cell made formula-safe on the way out.

    Rows are formed with a CRLF terminator whatever the caller's: the csv module quotes a
    cell only for the characters of the terminator, so with "\n" a bare CR in a cell would
    go out unquoted and start a new row, whose first cell a spreadsheet could run."""

    def __init__(self, out, lineterminator: str = "\r\n", **options):
        self._out, self._end = out, lineterminator
        self._row = io.StringIO()
        self._writer = csv.writer(self._row, lineterminator="\r\n", **options)

    def writerow(self, row: Iterable[Any]) -> int:
        self._row.seek(0)
        self._row.truncate()
        self._writer.writerow([formula_safe_cell(cell) for cell in row])
        return self._out.write(self._row.getvalue()[:-2] + self._end)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def formula_safe_writer(out, **options) -> FormulaSafeWriter:
    """A writer for an export: `lineterminator` defaults to CRLF, as RFC 4180 and Excel expect."""
    options.setdefault("lineterminator", "\r\n")
    return FormulaSafeWriter(out, **options)


def csv_text(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """A whole export as text: the header, then the rows, every cell formula-safe."""
    out = io.StringIO()
    writer = formula_safe_writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
