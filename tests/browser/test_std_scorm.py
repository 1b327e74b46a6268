"""SCORM 1.2 in a real browser: our own test SCO drives window.API (on the content origin)
through the data model and its error codes, leaves with cmi.core.exit = suspend, and on its
second launch resumes where it was (entry, lesson_location, suspend_data, total_time); the
portal records its score, time and completion."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from sqlmodel import select

from tests.browser.test_std_packages import log_in, port_pair, upload  # noqa: F401  (shared helpers)
from tests.cmi5.server import PortalServers

pytestmark = pytest.mark.browser

CHILDREN = ("student_id,student_name,lesson_location,credit,lesson_status,entry,score,total_time,lesson_mode,"
            "exit,session_time")
# (call, arguments, what it returns, the error code after it)
FIRST = [
    ("LMSGetValue", ["cmi.core.student_id"], "", "301"),
    ("LMSInitialize", ["x"], "false", "201"),
    ("LMSInitialize", [""], "true", "0"),
    ("LMSInitialize", [""], "false", "101"),
    ("LMSGetValue", ["cmi.core._children"], CHILDREN, "0"),
    ("LMSGetValue", ["cmi.core.entry"], "ab-initio", "0"),
    ("LMSGetValue", ["cmi.core.lesson_status"], "not attempted", "0"),
    ("LMSGetValue", ["cmi.core.credit"], "credit", "0"),
    ("LMSGetValue", ["cmi.core.lesson_mode"], "normal", "0"),
    ("LMSGetValue", ["cmi.core.student_name"], "LTS Provider", "0"),
    ("LMSGetValue", ["cmi.launch_data"], "start=intro", "0"),
    ("LMSGetValue", ["cmi.student_data.mastery_score"], "80", "0"),
    ("LMSGetValue", ["cmi.core.exit"], "", "404"),
    ("LMSGetValue", ["cmi.core.session_time"], "", "404"),
    ("LMSGetValue", ["cmi.core.lesson_location._children"], "", "202"),
    ("LMSGetValue", ["cmi.core._count"], "", "203"),
    ("LMSGetValue", ["cmi.core.bogus"], "", "201"),
    ("LMSGetValue", [""], "", "201"),
    ("LMSSetValue", ["cmi.core.student_id", "someone"], "false", "403"),
    ("LMSSetValue", ["cmi.core._children", "x"], "false", "402"),
    ("LMSSetValue", ["cmi.objectives._count", "3"], "false", "402"),
    ("LMSSetValue", ["cmi.core.lesson_status", "not attempted"], "false", "405"),
    ("LMSSetValue", ["cmi.core.lesson_status", "done"], "false", "405"),
    ("LMSSetValue", ["cmi.core.score.raw", "abc"], "false", "405"),
    ("LMSSetValue", ["cmi.core.score.raw", "101"], "false", "405"),
    ("LMSSetValue", ["cmi.core.score.raw", "72"], "true", "0"),
    ("LMSGetValue", ["cmi.core.score.raw"], "72", "0"),
    ("LMSSetValue", ["cmi.core.lesson_location", "page-3"], "true", "0"),
    ("LMSSetValue", ["cmi.core.lesson_location", "x" * 256], "false", "405"),
    ("LMSSetValue", ["cmi.suspend_data", "x" * 4097], "false", "405"),
    ("LMSSetValue", ["cmi.suspend_data", "state-A"], "true", "0"),
    ("LMSSetValue", ["cmi.objectives.1.id", "obj-2"], "false", "201"),
    ("LMSSetValue", ["cmi.objectives.0.id", "obj-1"], "true", "0"),
    ("LMSSetValue", ["cmi.objectives.0.status", "passed"], "true", "0"),
    ("LMSGetValue", ["cmi.objectives._count"], "1", "0"),
    ("LMSGetValue", ["cmi.objectives.0.score._children"], "raw,min,max", "0"),
    ("LMSSetValue", ["cmi.interactions.0.id", "q1"], "true", "0"),
    ("LMSSetValue", ["cmi.interactions.0.type", "choice"], "true", "0"),
    ("LMSSetValue", ["cmi.interactions.0.result", "maybe"], "false", "405"),
    ("LMSSetValue", ["cmi.interactions.0.result", "correct"], "true", "0"),
    ("LMSSetValue", ["cmi.interactions.0.time", "25:00:00"], "false", "405"),
    ("LMSGetValue", ["cmi.interactions.0.id"], "", "404"),
    ("LMSGetValue", ["cmi.interactions._count"], "1", "0"),
    ("LMSSetValue", ["cmi.student_preference.audio", "101"], "false", "405"),
    ("LMSSetValue", ["cmi.student_preference.audio", "50"], "true", "0"),
    ("LMSSetValue", ["cmi.core.session_time", "1:30"], "false", "405"),
    ("LMSSetValue", ["cmi.core.session_time", "00:01:30"], "true", "0"),
    ("LMSSetValue", ["cmi.core.exit", "away"], "false", "405"),
    ("LMSSetValue", ["cmi.core.exit", "suspend"], "true", "0"),
    ("LMSGetErrorString", ["403"], "Element is read only", None),
    ("LMSGetErrorString", ["405"], "Incorrect Data Type", None),
    ("LMSCommit", ["x"], "false", "201"),
    ("LMSCommit", [""], "true", "0"),
    ("LMSFinish", [""], "true", "0"),
    ("LMSGetValue", ["cmi.core.lesson_location"], "", "301"),
    ("LMSFinish", [""], "false", "301"),
]
RESUME = [
    ("LMSInitialize", [""], "true", "0"),
    ("LMSGetValue", ["cmi.core.entry"], "resume", "0"),
    ("LMSGetValue", ["cmi.core.lesson_location"], "page-3", "0"),
    ("LMSGetValue", ["cmi.suspend_data"], "state-A", "0"),
    ("LMSGetValue", ["cmi.core.total_time"], "0000:01:30.00", "0"),
    ("LMSGetValue", ["cmi.core.score.raw"], "72", "0"),
    ("LMSGetValue", ["cmi.objectives.0.id"], "obj-1", "0"),
    ("LMSGetValue", ["cmi.objectives.0.status"], "passed", "0"),
    ("LMSGetValue", ["cmi.interactions._count"], "1", "0"),
    ("LMSGetValue", ["cmi.student_preference.audio"], "50", "0"),
    ("LMSSetValue", ["cmi.interactions.0.id", "q1-again"], "false", "201"),
    ("LMSSetValue", ["cmi.interactions.1.id", "q2"], "true", "0"),
    ("LMSSetValue", ["cmi.core.score.raw", "90"], "true", "0"),
    ("LMSSetValue", ["cmi.core.session_time", "00:00:45.5"], "true", "0"),
    ("LMSSetValue", ["cmi.core.exit", ""], "true", "0"),
    ("LMSFinish", [""], "true", "0"),
]

SCO = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Data model SCO</title></head><body>
<script>
function findAPI(win) {
  for (let i = 0; win && i < 10; i += 1) { if (win.API) { return win.API; } win = win.parent === win ? null : win.parent; }
  return null;
}
const api = findAPI(window.parent);
const xhr = new XMLHttpRequest();
xhr.open("GET", "ops.json", false);
xhr.send();
const scenarios = JSON.parse(xhr.responseText);
const results = [];
function run(list) {
  for (const [call, args] of list) {
    results.push([api[call](...args), api.LMSGetLastError()]);
  }
}
run(scenarios.before);  // up to and including LMSInitialize("")
const entry = api.LMSGetValue("cmi.core.entry");
run(entry === "ab-initio" ? scenarios.first : scenarios.resume);
const pre = document.createElement("pre");
pre.id = "results";
pre.textContent = JSON.stringify({entry, results});
document.body.appendChild(pre);
</script></body></html>"""


def scorm_package(ops: dict) -> bytes:
    manifest = """<?xml version="1.0" encoding="UTF-8"?>
<manifest identifier="portal-test-sco" version="1"
  xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="org">
    <organization identifier="org"><title>Data model course</title>
      <item identifier="item-1" identifierref="res-1"><title>Data model SCO</title>
        <adlcp:masteryscore>80</adlcp:masteryscore><adlcp:datafromlms>start=intro</adlcp:datafromlms></item>
    </organization>
  </organizations>
  <resources>
    <resource identifier="res-1" type="webcontent" adlcp:scormtype="sco" href="sco/index.html">
      <file href="sco/index.html"/></resource>
  </resources>
</manifest>"""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("imsmanifest.xml", manifest)
        archive.writestr("sco/index.html", SCO)
        archive.writestr("sco/ops.json", json.dumps(ops))
    return buffer.getvalue()


@pytest.fixture
def portal(tmp_path):
    servers = PortalServers(port_pair(), tmp_path)
    servers.start()
    yield servers
    servers.stop()


def play(page) -> dict:
    page.get_by_role("button", name="Launch").first.click()
    sco = page.frame_locator("iframe.package-frame").frame_locator("iframe")
    return json.loads(sco.locator("#results").text_content(timeout=15000))


def check(expected: list, got: list) -> None:
    problems = []
    for (call, args, ret, err), (got_ret, got_err) in zip(expected, got):
        if got_ret != ret or (err is not None and got_err != err):
            problems.append(f"{call}{tuple(a[:20] for a in args)}: expected {ret!r}/{err}, got {got_ret!r}/{got_err}")
    assert len(got) == len(expected) and not problems, "\n".join(problems)


def test_scorm_12_data_model_error_codes_and_resume(portal, browser, tmp_path):
    before, first, resume = FIRST[:3], FIRST[3:], RESUME[1:]
    ops = {name: [[c, a] for c, a, _, _ in rows] for name, rows in
           (("before", before), ("first", first), ("resume", resume))}
    package = tmp_path / "scorm12-test-sco.zip"
    package.write_bytes(scorm_package(ops))
    page = browser.new_page()
    log_in(page, portal.url, None)
    upload(page, portal.url, package)
    page.get_by_text("imported as a draft").wait_for()
    played = play(page)
    assert played["entry"] == "ab-initio"
    check(FIRST, played["results"])
    page.get_by_role("link", name="Back to").click()
    played = play(page)
    assert played["entry"] == "resume"
    check(before + resume, played["results"])
    from portal.standards.models import StdRegistrationAu
    with portal.app.extensions["portal"].database.session() as db:
        row = db.exec(select(StdRegistrationAu)).one()
    # mastery 80: the first finish (raw 72) is failed, the second (raw 90) passed and completed
    assert row.passed and row.completed and row.satisfied and row.score_scaled == 0.9
    assert row.seconds == 90 + 45
    page.close()
