"""Inputs for the golden test of `portal sro report`: each case is (name, file bytes or None
for a missing file, extra arguments). The expected stdout, stderr and exit status of each were
recorded from the command before the agencies plugin grew its roster import (issue 17), and
must never change: outside scripts read this output."""

HEADER = "officer,award_number,award_date,hire_date,role,placement_date,training_completed,expenses_submitted"

MIXED = "\n".join([
    HEADER,
    "Ofc. Adams,15CHP-001,2026-01-15,2026-03-01,initial,,,",
    "Ofc. Baker,15CHP-001,2026-01-15,,backfill,2026-02-10,2026-04-20,2026-05-05",
    "Ofc. Cruz,15CHP-002,2026-02-01,,initial,,2025-03-01,",
    "Ofc. Diaz,15CHP-003,2025-06-30,2025-07-15,initial,,,",
    "Ofc. Evans,15CHP-003,2026-02-30,,initial,,,",
    "Ofc. Ford,15CHP-004,2025-05-31,,initial,,2026-03-02,2026-03-20",
    "Ofc. Gray,15CHP-005,2024-02-29,,initial,,2023-02-28,",
    "Ofc. Hale,15CHP-005,2024-02-29,,initial,,2023-02-27,",
    "Ofc. Ito,15CHP-006,2025-11-30,2026-05-31,initial,,,",
    "Ofc. Jones,15CHP-007,2026-01-15,,backfill,2025-08-31,2024-08-31,",
    "A,X,2026-13-01,,chief,,yesterday,",
    "A,X,2026-01-15,,,,,",
    "A,X,,2026-03-01,initial,,,",
    "B,X,2026-01-15,,backfill,,,",
    "A,X,2026-01-15,,initial,,2026-04-02,2026-04-01",
    "A,X,2026-01-15,,initial,,,2026-04-01",
    "A,X,2026-01-15,,initial,,2026-06-01,",
    "A,X,3/4/2026,,initial,,,",
    "A,X,0206-05-31,,initial,,,",
    "A,X,2026-01-15,2026-03-01,initial",
    "B,X,2026-01-15,,initial,,,,stray",
    "C,X,2026-01-15,,initial,,,,,",
    "=HYPERLINK(\"http://x\"),+1,2026-01-15,,initial,,,",
    "\"Ofc. Quote, Jr.\",\"15CHP\n008\",2026-01-15,,initial,,,",
]) + "\n"

EXTRA_COLUMNS = (
    "notes,role,officer,award_date,district,hire_date,award_number,placement_date,"
    "expenses_submitted,training_completed,training_status,error\n"
    '"=SUM(A1)",initial,Ofc. Adams,2026-01-15,"North, East",2026-03-01,15CHP-001,,,,stale,old\n'
    "  keep my spaces  ,backfill,Ofc. Baker,2026-01-15,-7,,15CHP-001,2026-02-10,,,,\n"
)

BOM_CRLF = ("\ufeff" + HEADER + "\r\n\r\n"
            "Ofc. Adams , 15CHP-001 , 2026-01-15 , 2026-03-01 , INITIAL ,,,\r\n\r\n,,,,,,,\r\n"
            "   ,  ,,,,,,\r\nOfc. Baker,15CHP-001,2026-01-15,,Backfill,2026-02-10,,\r\n")

CASES = [
    ("mixed", MIXED.encode(), ["--as-of", "2026-05-30"]),
    ("mixed_later", MIXED.encode(), ["--as-of", "2027-01-31"]),
    ("clean", (HEADER + "\nOfc. Adams,15CHP-001,2026-01-15,2026-03-01,initial,,,\n").encode(),
     ["--as-of", "2026-05-30"]),
    ("extra_columns", EXTRA_COLUMNS.encode(), ["--as-of", "2026-05-30"]),
    ("bom_crlf", BOM_CRLF.encode("utf-8"), ["--as-of", "2026-05-30"]),
    ("header_only", (HEADER + "\n").encode(), ["--as-of", "2026-05-30"]),
    ("missing_columns", b"officer,award_number,hire_date\nA,1,2026-01-01\n", ["--as-of", "2026-05-30"]),
    ("twice", (HEADER + ",role\n").encode(), ["--as-of", "2026-05-30"]),
    ("empty", b"", ["--as-of", "2026-05-30"]),
    ("blank_lines", b"\n\n  \n", ["--as-of", "2026-05-30"]),
    ("semicolons", HEADER.replace(",", ";").encode() + b"\nA;X;2026-01-15;;initial;;;\n",
     ["--as-of", "2026-05-30"]),
    ("cp1252", (HEADER + "\nOfc. Pe\u00f1a,X,2026-01-15,,initial,,,\n").encode("cp1252"),
     ["--as-of", "2026-05-30"]),
    ("utf16", (HEADER + "\nA,X,2026-01-15,,initial,,,\n").encode("utf-16"), ["--as-of", "2026-05-30"]),
    ("bad_csv", (HEADER + '\nA,"X\n').encode(), ["--as-of", "2026-05-30"]),
    ("bad_as_of", (HEADER + "\n").encode(), ["--as-of", "30/05/2026"]),
    ("no_file", None, ["--as-of", "2026-05-30"]),
]
