"""The SRO roster report: `portal sro report ROSTER.csv [--as-of YYYY-MM-DD]`.

Reads a roster CSV (one CHP-funded SRO a row) and returns it with the rules engine's
verdict appended to every row. Standard library only; the click command lives elsewhere.

Input: a header row naming (in any order, any case, surrounding spaces ignored) the
columns officer, award_number, award_date, hire_date, role, placement_date,
training_completed, expenses_submitted. Dates are YYYY-MM-DD, empty where unknown; role is
`initial` or `backfill` in any case. Other columns are kept as they are, where they are.
A UTF-8 byte order mark, CRLF line endings, surrounding spaces in cells and blank lines are
all tolerated.

Output: the same rows and columns, then OUTPUT_COLUMNS. A row the rules cannot evaluate
gets training_status `error`, the reason (naming the column) in `error`, and the other
computed columns empty; the other rows are still computed. Columns named like an output
column in the input are dropped and recomputed, so a report can be re-run on a report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date

from portal.common.csv_export import formula_safe_writer
from portal_agencies.rules import RuleError, evaluate_sro, parse_date, parse_role

REQUIRED_COLUMNS: tuple[str, ...] = (
    "officer", "award_number", "award_date", "hire_date", "role",
    "placement_date", "training_completed", "expenses_submitted",
)
DATE_COLUMNS: tuple[str, ...] = (
    "award_date", "hire_date", "placement_date", "training_completed", "expenses_submitted",
)
OUTPUT_COLUMNS: tuple[str, ...] = (
    "training_due", "training_status", "days_left", "prior_training",
    "mou_due", "expenses_due", "records_keep_until", "error",
)
ERROR_STATUS = "error"

_RISKY_FIRST_CHARACTERS = ("=", "+", "-", "@", "\t", "\r")


class RosterError(ValueError):
    """The file as a whole cannot be read as a roster (no header, missing columns, bad CSV)."""


def _key(name: object) -> str:
    return str(name).strip().lower()


def _safe(cell: str) -> str:
    """A computed cell a spreadsheet will not run as a formula. Computed cells never start
    with = + @ (dates, statuses, messages that begin with a column name); a negative
    days_left such as -5 is a plain number and is left alone."""
    if cell.startswith(_RISKY_FIRST_CHARACTERS) and not (cell.startswith("-") and cell[1:].isdigit()):
        return "'" + cell
    return cell


def _error_columns(messages: list[str]) -> dict[str, str]:
    row = dict.fromkeys(OUTPUT_COLUMNS, "")
    row["training_status"] = ERROR_STATUS
    row["error"] = _safe("; ".join(messages))
    return row


def _iso(d: date | None) -> str:
    return d.isoformat() if d is not None else ""


def evaluate_row(row: Mapping[str, object], as_of: date) -> dict[str, str]:
    """The OUTPUT_COLUMNS for one roster row (values str, date or None; missing = empty)."""
    values = {_key(k): v for k, v in row.items()}
    errors: list[str] = []
    parsed: dict[str, object] = {}
    for column in REQUIRED_COLUMNS:
        try:
            if column == "role":
                parsed[column] = parse_role(values.get(column))
            elif column in DATE_COLUMNS:
                parsed[column] = parse_date(column, values.get(column))
        except RuleError as error:
            errors.append(error.message)
    if errors:
        return _error_columns(errors)
    try:
        evaluation = evaluate_sro(parsed["role"], parsed["award_date"], parsed["hire_date"], parsed["placement_date"],
                                  parsed["training_completed"], parsed["expenses_submitted"], as_of)
    except RuleError as error:
        return _error_columns([error.message])
    computed = {
        "training_due": _iso(evaluation.training_due),
        "training_status": evaluation.training_status.value,
        "days_left": "" if evaluation.days_left is None else str(evaluation.days_left),
        "prior_training": evaluation.prior_training.value if evaluation.prior_training else "",
        "mou_due": _iso(evaluation.mou_due),
        "expenses_due": _iso(evaluation.expenses_due),
        "records_keep_until": _iso(evaluation.records_keep_until),
        "error": "",
    }
    return {column: _safe(value) for column, value in computed.items()}


def evaluate_rows(rows: list[dict], as_of: date) -> list[dict]:
    """Each row with the OUTPUT_COLUMNS added (replacing any of the same name)."""
    return [{**row, **evaluate_row(row, as_of)} for row in rows]


def _read(input_text: str) -> list[tuple[int, list[str]]]:
    """The non-blank rows of the CSV, each with its line number."""
    reader = csv.reader(io.StringIO(input_text.removeprefix("\ufeff"), newline=""))
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, cells))
    except csv.Error as error:
        raise RosterError(f"line {reader.line_num}: the file is not valid CSV ({error})") from None
    return rows


def _columns(header: list[str]) -> dict[str, int]:
    """Where each required column is; RosterError when one is missing or repeated."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _key(name)
        if key in REQUIRED_COLUMNS:
            if key in positions:
                raise RosterError(f"the header names the column {key} twice")
            positions[key] = index
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        raise RosterError(f"the header is missing the column{'s' if len(missing) > 1 else ''} "
                          f"{', '.join(missing)}; a roster needs the columns {', '.join(REQUIRED_COLUMNS)}")
    return positions


def report(input_text: str, as_of: date, *, formula_safe: bool = False) -> tuple[str, bool]:
    """The roster with OUTPUT_COLUMNS appended, as CSV text, and whether any row had an
    error (the command exits non-zero then). RosterError when the file has no usable header.

    formula_safe: every cell through the portal's formula-safe CSV writer, for downloads
    from the web pages. Off by default, because `portal sro report` writes its input cells
    back byte for byte and scripts depend on that output (tests/agencies/test_sro_report_golden.py)."""
    rows = _read(input_text)
    if not rows:
        raise RosterError(f"the file is empty; expected a header row with the columns {', '.join(REQUIRED_COLUMNS)}")
    (_, header), data = rows[0], rows[1:]
    positions = _columns(header)
    kept = [index for index, name in enumerate(header) if _key(name) not in OUTPUT_COLUMNS]

    out = io.StringIO()
    writer = (formula_safe_writer if formula_safe else csv.writer)(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow([header[index] for index in kept] + list(OUTPUT_COLUMNS))
    had_error = False
    for line, cells in data:
        padded = cells + [""] * (len(header) - len(cells))
        extra = [cell for cell in cells[len(header):] if cell.strip()]
        if extra:
            computed = _error_columns([f"line {line} has {len(cells)} cells but the header has {len(header)} "
                                       f"(extra: {', '.join(repr(cell) for cell in extra)})"])
        else:
            computed = evaluate_row({column: padded[index] for column, index in positions.items()}, as_of)
        had_error = had_error or computed["training_status"] == ERROR_STATUS
        writer.writerow([padded[index] for index in kept] + [computed[column] for column in OUTPUT_COLUMNS])
    return out.getvalue(), had_error
