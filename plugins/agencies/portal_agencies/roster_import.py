"""Reading a roster file the way spreadsheets and HR systems write it, and planning what
importing it would change. No Flask, no writes: `plan_import` only reads the agency's
records; `apply_import` (in services_import) writes the plan in one transaction.

What is accepted, and the rule for dates (also shown on the import page):

* Encodings: UTF-8 (with or without a byte order mark), UTF-16 (with its byte order mark),
  and Windows-1252 (what Excel's plain "CSV" writes in the U.S.). Anything else is refused.
* Separators: comma, semicolon or tab, recognised from the header row.
* Columns: the roster report's (officer, award_number, award_date, hire_date, role,
  placement_date, training_completed, expenses_submitted) in any order and any case;
  "Award Number" means award_number. Other columns are listed and ignored.
* Dates: YYYY-MM-DD, or month/day/year with a four-digit year (3/4/2026 is March 4, 2026:
  what Excel writes in the U.S.; a trailing midnight time "0:00" is ignored). Refused, with
  the reason: two-digit years, and every slash date in a file that has a day-first date
  (a first number over 12, like 31/1/2026), because there 3/4/2026 could mean either.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date

from portal_agencies import rules
from portal_agencies.roster import REQUIRED_COLUMNS

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
DATE_COLUMNS = ("award_date", "hire_date", "placement_date", "training_completed", "expenses_submitted")
SRO_FIELDS = ("role", "hire_date", "placement_date", "training_completed", "expenses_submitted")
DATE_RULE = ("Dates are YYYY-MM-DD or month/day/year with a four-digit year (3/4/2026 is March 4, 2026, "
             "as Excel writes it in the U.S.). Two-digit years are refused, and so is every slash date in a "
             "file that also has a day-first date such as 31/1/2026, because there 3/4/2026 could mean either.")


class RosterFileError(ValueError):
    """The file as a whole cannot be imported (encoding, no header, missing columns...)."""


# -- reading the file -------------------------------------------------------------------

def decode(raw: bytes) -> tuple[str, str]:
    """The file's text and the name of the encoding it was read with."""
    if raw.startswith(codecs.BOM_UTF8):
        candidates = ["utf-8-sig"]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = ["utf-16"]
    elif b"\x00" in raw[:400]:
        # UTF-16 without a byte order mark: the zero bytes sit on the side of each ASCII letter.
        candidates = ["utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be"]
    else:
        candidates = ["utf-8", "cp1252"]
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text.removeprefix("\ufeff"), {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "cp1252": "Windows-1252"}.get(
            encoding, "UTF-16")
    raise RosterFileError("This file is not text in UTF-8, UTF-16 or Windows-1252. Save the spreadsheet as "
                          "\"CSV UTF-8\" and try again.")


def column_key(name: str) -> str:
    """'Award Number' and ' award-number ' both mean award_number."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line
    return ""


def sniff_delimiter(text: str) -> str:
    """The separator under which the header names the most roster columns (comma on a tie)."""
    line = _first_line(text)
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        cells = next(csv.reader([line], delimiter=delimiter), [])
        score = sum(1 for cell in cells if column_key(cell) in REQUIRED_COLUMNS)
        if score > best_score:
            best, best_score = delimiter, score
    return best


DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass
class RosterFile:
    header: list[str]
    positions: dict[str, int]
    ignored_columns: list[str]
    rows: list[tuple[int, list[str]]]  # (line number, cells)
    encoding: str
    delimiter: str


def read_roster(raw: bytes) -> RosterFile:
    if len(raw) > MAX_BYTES:
        raise RosterFileError("The roster is larger than 2 MB; split it into smaller files.")
    text, encoding = decode(raw)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((reader.line_num, cells))
                if len(rows) > MAX_ROWS + 1:
                    raise RosterFileError(f"The roster has more than {MAX_ROWS:,} rows; split it into smaller files.")
    except csv.Error as error:
        raise RosterFileError(f"Line {reader.line_num} is not valid CSV ({error}).") from None
    if not rows:
        raise RosterFileError("The file is empty: it needs a header row naming the columns "
                              f"{', '.join(REQUIRED_COLUMNS)}.")
    (_, header), data = rows[0], rows[1:]
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        key = column_key(name)
        if key in REQUIRED_COLUMNS:
            if key in positions:
                raise RosterFileError(f"The header names the column {key} twice.")
            positions[key] = index
        elif name.strip():
            ignored.append(name.strip())
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        raise RosterFileError(f"The header is missing the column{'s' if len(missing) > 1 else ''} "
                              f"{', '.join(missing)}. A roster needs the columns {', '.join(REQUIRED_COLUMNS)}.")
    return RosterFile(header, positions, ignored, data, encoding, delimiter)


# -- dates ------------------------------------------------------------------------------

_ISO = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})")
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d+)")
_MIDNIGHT = re.compile(r"\s+0?0:00(:00)?$")


def is_day_first(text: str) -> bool:
    if "/" not in text:
        return False
    match = _SLASH.fullmatch(_MIDNIGHT.sub("", text.strip()))
    return bool(match) and int(match.group(1)) > 12


def parse_import_date(column: str, value: str, day_first_line: int | None) -> date | None:
    """A date cell under DATE_RULE; a RuleError naming the column when it breaks the rule.
    `day_first_line` is the line of a day-first date elsewhere in the file, if any."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) == 10 and text[4] == "-":  # the common case, YYYY-MM-DD, without a regular expression
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    text = _MIDNIGHT.sub("", text)
    if match := _ISO.fullmatch(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _SLASH.fullmatch(text):
        month, day, year_text = match.groups()
        if len(year_text) != 4:
            raise rules.RuleError(column, f"{column}: {text!r} has a two-digit year; write it with four digits, "
                                          f"like {month}/{day}/20{year_text[-2:]}")
        if int(month) > 12:
            raise rules.RuleError(column, f"{column}: {text!r} is day/month/year, but slash dates are read as "
                                          "month/day/year (as Excel writes them in the U.S.); write dates as YYYY-MM-DD")
        if day_first_line is not None:
            raise rules.RuleError(column, f"{column}: {text!r} is ambiguous: this file has day-first dates "
                                          f"(line {day_first_line}), so it could be month/day or day/month; "
                                          "write dates as YYYY-MM-DD")
        month, day, year = int(month), int(day), int(year_text)
    else:
        raise rules.RuleError(column, f"{column}: {text!r} is not a date; write YYYY-MM-DD or month/day/year")
    try:
        return date(year, month, day)
    except ValueError:
        raise rules.RuleError(column, f"{column}: {text!r} is not a real date") from None


# -- planning ---------------------------------------------------------------------------

NEW, CHANGED, UNCHANGED, ERROR = "new", "changed", "unchanged", "error"


@dataclass
class PlannedRow:
    line: int
    officer: str
    award_number: str
    action: str
    errors: list[str] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (column, before, after)
    values: dict = field(default_factory=dict)
    sro_id: int | None = None


@dataclass
class NewAward:
    award_number: str
    award_date: date
    funded_positions: int


@dataclass
class ImportPlan:
    rows: list[PlannedRow]
    new_awards: dict[str, NewAward]
    ignored_columns: list[str]
    encoding: str
    delimiter: str

    def count(self, action: str) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def to_apply(self) -> list[PlannedRow]:
        return [row for row in self.rows if row.action in (NEW, CHANGED)]

    @property
    def digest(self) -> str:
        """Names exactly what applying will do, so an apply refuses when the records moved."""
        parts = [f"{r.line}|{r.action}|{r.sro_id}|{r.changes}|{sorted(r.values.items())}" for r in self.to_apply]
        parts += [f"{a.award_number}|{a.award_date}|{a.funded_positions}" for a in self.new_awards.values()]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass
class ExistingSro:
    id: int
    award_number: str
    name: str
    role: str
    hire_date: date | None
    placement_date: date | None
    training_completed: date | None
    expenses_submitted: date | None


@dataclass
class ExistingAward:
    award_number: str
    award_date: date
    funded_positions: int


def name_key(name: str) -> str:
    return " ".join((name or "").split()).casefold()


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    return value.isoformat() if isinstance(value, date) else str(value)


def plan_import(roster: RosterFile, awards: dict[str, ExistingAward], sros: list[ExistingSro],
                as_of: date) -> ImportPlan:
    """Every row of the file as new, changed, unchanged or error (each error naming its
    column), against the agency's awards (keyed by award number case-folded) and SROs.
    An SRO is the same record when its award number and name match (any case, any spaces);
    the name is the key, so an import never renames a record (rename it on its page)."""
    by_key: dict[tuple[str, str], list[ExistingSro]] = {}
    for sro in sros:
        by_key.setdefault((sro.award_number.casefold(), name_key(sro.name)), []).append(sro)

    cells_of = roster.positions
    day_first_line = None
    for line, cells in roster.rows:
        if any(is_day_first(cells[cells_of[c]]) for c in DATE_COLUMNS if cells_of[c] < len(cells)):
            day_first_line = line
            break

    planned: list[PlannedRow] = []
    seen: dict[tuple[str, str], int] = {}
    file_award_dates: dict[str, tuple[date, int]] = {}
    width = len(roster.header)
    for line, cells in roster.rows:
        padded = cells + [""] * (width - len(cells))
        value = {column: padded[index].strip() for column, index in cells_of.items()}
        officer = " ".join(value["officer"].split())
        award_number = " ".join(value["award_number"].split())
        row = PlannedRow(line, officer, award_number, ERROR)
        planned.append(row)
        if not officer or len(officer) > 120:
            row.errors.append("officer: enter the officer's name (at most 120 characters)")
        if not award_number or len(award_number) > 60:
            row.errors.append("award_number: enter the award number (at most 60 characters)")
        parsed: dict[str, object] = {}
        try:
            parsed["role"] = rules.parse_role(value["role"]).value
        except rules.RuleError as error:
            row.errors.append(error.message)
        for column in DATE_COLUMNS:
            try:
                parsed[column] = parse_import_date(column, value[column], day_first_line)
            except rules.RuleError as error:
                row.errors.append(error.message)
        if row.errors:
            continue
        key = (award_number.casefold(), name_key(officer))
        if key in seen:
            row.errors.append(f"officer: {officer} on award {award_number} is already on line {seen[key]}")
            continue
        seen[key] = line
        existing_award = awards.get(award_number.casefold())
        award_date = parsed.pop("award_date")
        if existing_award is not None:
            if award_date is not None and award_date != existing_award.award_date:
                row.errors.append(f"award_date: award {existing_award.award_number} is recorded with the award date "
                                  f"{existing_award.award_date.isoformat()}, not {award_date.isoformat()}; correct "
                                  "the award on its page first")
                continue
            award_date = existing_award.award_date
        else:
            if award_date is None:
                row.errors.append(f"award_date: award {award_number} is not recorded yet; give its award date")
                continue
            earlier = file_award_dates.setdefault(award_number.casefold(), (award_date, line))
            if earlier[0] != award_date:
                row.errors.append(f"award_date: line {earlier[1]} gives award {award_number} the date "
                                  f"{earlier[0].isoformat()}")
                continue
            if award_date > as_of:
                row.errors.append("award_date: the award letter date cannot be in the future")
                continue
        try:
            rules.evaluate_sro(parsed["role"], award_date, parsed["hire_date"], parsed["placement_date"],
                               parsed["training_completed"], parsed["expenses_submitted"], as_of)
        except rules.RuleError as error:
            row.errors.append(error.message)
            continue
        matches = by_key.get(key, [])
        if len(matches) > 1:
            row.errors.append(f"officer: award {award_number} has {len(matches)} records named {officer}; "
                              "correct them on their pages")
            continue
        row.values = {"name": officer, **parsed}
        if not matches:
            row.action = NEW
            continue
        current = matches[0]
        row.sro_id = current.id
        for column in SRO_FIELDS:
            before, after = getattr(current, column), parsed[column]
            if before != after:
                row.changes.append((column, _show(before), _show(after)))
        row.action = CHANGED if row.changes else UNCHANGED

    _check_positions(planned, awards, sros)
    new_awards: dict[str, NewAward] = {}
    for row in planned:
        if row.action in (NEW, CHANGED, UNCHANGED) and row.award_number.casefold() not in awards:
            found = new_awards.setdefault(row.award_number.casefold(), NewAward(
                row.award_number, file_award_dates[row.award_number.casefold()][0], 0))
            found.funded_positions += row.values["role"] == "initial"
    for award in new_awards.values():
        award.funded_positions = max(award.funded_positions, 1)
    return ImportPlan(planned, new_awards, roster.ignored_columns, roster.encoding,
                      DELIMITER_NAMES[roster.delimiter])


def _check_positions(planned: list[PlannedRow], awards: dict[str, ExistingAward], sros: list[ExistingSro]) -> None:
    """An award funds so many initial SROs; a row that would be one too many is an error."""
    touched = {row.sro_id for row in planned if row.sro_id is not None}
    initial: dict[str, int] = {}
    for sro in sros:
        if sro.role == "initial" and sro.id not in touched:
            initial[sro.award_number.casefold()] = initial.get(sro.award_number.casefold(), 0) + 1
    for row in planned:
        award = awards.get(row.award_number.casefold())
        if award is None or row.action == ERROR or row.values.get("role") != "initial":
            continue
        count = initial.get(row.award_number.casefold(), 0) + 1
        if count > award.funded_positions:
            row.action, row.changes = ERROR, []
            row.errors.append(f"role: award {award.award_number} funds {award.funded_positions} SRO position"
                              f"{'s' if award.funded_positions != 1 else ''}; record this officer as a backfill "
                              "or raise the award's funded positions")
            continue
        initial[row.award_number.casefold()] = count
