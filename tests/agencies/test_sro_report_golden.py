"""`portal sro report` keeps its output exactly: stdout, the error line and the exit status
of the real command, byte for byte, for every case in sro_report_golden/cases.py.

Regenerate the expected files only on purpose (the output is a published interface):
    PORTAL_SRO_GOLDEN_WRITE=1 .venv/bin/python -m pytest tests/agencies/test_sro_report_golden.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.agencies.sro_report_golden.cases import CASES

GOLDEN = Path(__file__).parent / "sro_report_golden"
PORTAL = Path(sys.executable).parent / "portal"


def run_report(tmp_path: Path, name: str, data: bytes | None, args: list[str]) -> dict:
    roster = tmp_path / f"{name}.csv"
    if data is not None:
        roster.write_bytes(data)
    result = subprocess.run([str(PORTAL), "sro", "report", roster.name, *args], cwd=tmp_path,
                            capture_output=True, timeout=60,
                            env={**os.environ, "PORTAL_TIMEZONE": "America/New_York"})
    # The portal's start-up log lines (plugins loaded) are not the command's output.
    stderr = [line for line in result.stderr.decode("utf-8", "replace").splitlines()
              if " INFO " not in line and " WARNING " not in line]
    return {"stdout": result.stdout.decode("utf-8"), "stderr": stderr, "exit": result.returncode}


@pytest.mark.parametrize("name,data,args", CASES, ids=[c[0] for c in CASES])
def test_sro_report_output_is_unchanged(tmp_path, name, data, args):
    got = run_report(tmp_path, name, data, args)
    expected_file = GOLDEN / f"{name}.json"
    if os.environ.get("PORTAL_SRO_GOLDEN_WRITE") == "1":
        expected_file.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(expected_file.read_text(encoding="utf-8"))
    assert got == expected
