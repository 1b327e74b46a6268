"""ADL's cmi5 LMS Test Suite (Project CATAPULT), run whole against a real portal.

The suite imports every package of its library through the portal's upload page, launches the
AUs in Chromium (Puppeteer, Debian's /usr/bin/chromium) and checks the statements in the
portal's LRS; `tests/cmi5/lms.portal.js` is the portal's adapter. `make test` builds the suite
into tests/cmi5/build/ (tests/cmi5/build_lts.sh). The JUnit figures are printed; any failing,
erroring or skipped conformance test fails this test.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import IN_CI

HERE = Path(__file__).resolve().parent
LTS = HERE / "build" / "lts"
CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
# The suite's own counts: 21 package-import tests and 66 runtime tests (abandon and waive included).
EXPECTED_TESTS = 87


def _missing() -> str | None:
    if not (LTS / "pkg" / "dist" / ".built").exists():
        return "the cmi5 LMS Test Suite is not built (make test builds it from ../shared/cmi5/lts)"
    if not Path(CHROMIUM).exists():
        return f"Chromium not found at {CHROMIUM}"
    if shutil.which("npx") is None:
        return "npx (Node.js) not found"
    return None


def _free_port_pair() -> int:
    """Two free neighbouring ports in this suite's range: the portal's and the content origin's."""
    for port in range(21100 + (os.getpid() % 200) * 2, 21900, 2):
        sockets = []
        try:
            for p in (port, port + 1):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                sockets.append(s)
            return port
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port pair in 21100-21900")


def _junit_counts(folder: Path) -> tuple[dict[str, int], list[str]]:
    reports = sorted(folder.glob("*.xml"))
    assert reports, "the suite wrote no JUnit report"
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failed = []
    for report in reports:
        root = ET.parse(report).getroot()
        for suite in root.iter("testsuite"):
            for key in totals:
                totals[key] += int(suite.get(key, "0") or 0)
        for case in root.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname')} :: {case.get('name')}")
    return totals, failed


def test_cmi5_lms_test_suite(tmp_path):
    problem = _missing()
    if problem:
        if IN_CI:
            pytest.fail(f"the cmi5 LMS Test Suite cannot run in CI: {problem}")
        pytest.skip(problem)
    from tests.cmi5.server import PortalServers

    servers = PortalServers(_free_port_pair(), tmp_path)
    servers.start()
    try:
        shutil.copy(HERE / "lms.portal.js", LTS / "lib" / "lms.portal.js")
        (LTS / "jest-puppeteer.portal.config.js").write_text(
            "module.exports = {launch: {headless: true, executablePath: %r, "
            "args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage']}};\n" % CHROMIUM)
        (LTS / ".env").write_text("".join(f'{k}="{v}"\n' for k, v in
                                          {**servers.env(), "CATAPULT_LMS": "./lib/lms.portal.js"}.items()))
        shutil.rmtree(LTS / "var", ignore_errors=True)
        env = {**os.environ, "JEST_PUPPETEER_CONFIG": "jest-puppeteer.portal.config.js",
               "PUPPETEER_SKIP_CHROMIUM_DOWNLOAD": "1", "PUPPETEER_EXECUTABLE_PATH": CHROMIUM, "CI": "true"}
        run = subprocess.run(["npx", "jest", "--ci", "--runInBand"], cwd=LTS, env=env, capture_output=True,
                             text=True, timeout=900)
    finally:
        servers.stop()
    totals, failed = _junit_counts(LTS / "var")
    print(f"\ncmi5 LMS Test Suite (JUnit): {totals['tests']} tests, {totals['failures']} failures, "
          f"{totals['errors']} errors, {totals['skipped']} skipped")
    for name in failed:
        print(f"  FAILED {name}")
    assert run.returncode == 0 and not failed, run.stdout[-6000:] + run.stderr[-6000:]
    assert totals["failures"] == totals["errors"] == totals["skipped"] == 0
    assert totals["tests"] == EXPECTED_TESTS
