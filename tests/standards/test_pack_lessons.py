"""Lessons of three kinds in one course pack: Markdown, a cmi5 AU and a SCORM 1.2 SCO. The
validator checks the packages; a learner launches them from the lesson page; the lesson is
credited through the learning service when the package says so, never by "Mark complete"."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from portal.learning.models import LessonProgress
from tests.helpers import log_in, make_user, submit
from tests.learning.journey import take_test
from tests.packs.packtools import PackDirs, expect_problem, new_starter
from tests.standards.test_import import VALID, course_xml, make_zip
from tests.standards.test_scorm import manifest

PACK = "mixed-course"
AU = "https://example.gov/au/1"


def mixed_pack(parent):
    pack = new_starter(parent, PACK, "Mixed Course")
    pack.write("packages/use-of-force.zip", make_zip(VALID))
    pack.write("packages/reports.zip", make_zip({"imsmanifest.xml": manifest(), "sco/index.html": b"<title>x</title>"}))
    pack.replace("    file: lessons/01-welcome.md\n", f'    cmi5: {{package: packages/use-of-force.zip, au: "{AU}"}}\n')
    pack.replace("    file: lessons/02-key-ideas.md\n", "    scorm: {package: packages/reports.zip}\n")
    return pack


def test_a_pack_takes_cmi5_and_scorm_lessons_and_checks_them(tmp_path):
    pack = mixed_pack(tmp_path)
    assert pack.problems() == []
    pack.replace(f'au: "{AU}"', 'au: "https://example.gov/au/none"')
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("au/none"), "has no AU")
    pack.replace('cmi5: {package: packages/use-of-force.zip, au: "https://example.gov/au/none"}',
                 "cmi5: {package: packages/reports.zip}")
    line = pack.line_of("cmi5:")
    expect_problem(pack.problems(), "pack.yaml", line, "SCORM 1.2 package", "scorm:")
    pack.write("packages/reports.zip", b"not a zip")
    expect_problem(pack.problems(), "pack.yaml", line, "not a package", "14.1.0.0-1")
    pack.replace("cmi5: {package: packages/reports.zip}", "cmi5: {package: packages/reports.zip}\n    file: lessons/01-welcome.md")
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("- id: welcome"), "keep one")


def test_a_package_lesson_cannot_hold_a_minimum_time(tmp_path):
    # The package says when its lesson is complete; a minimum time on the lesson page would keep
    # a satisfied AU from ever crediting the lesson.
    pack = mixed_pack(tmp_path)
    pack.replace(f'au: "{AU}"}}\n', f'au: "{AU}"}}\n    min_minutes: 5\n')
    expect_problem(pack.problems(), "pack.yaml", pack.line_of("min_minutes"), "min_minutes", "cmi5")


@pytest.fixture
def course(make_app, tmp_path):
    pack = mixed_pack(tmp_path)
    app = make_app(EXTRA_PLUGINS=[PackDirs("mixed_plugin", pack.root)], CONTENT_BASE_URL="http://content.test")
    make_user(app)
    client = app.test_client()
    log_in(client)
    submit(client, f"/courses/{PACK}/enroll", {}, form_page=f"/courses/{PACK}")
    take_test(client, app, "pre", pack_id=PACK)
    return app, client


def launch(client, lesson_id):
    page = f"/learn/{PACK}/lessons/{lesson_id}"
    html = client.get(page).get_data(as_text=True)
    assert "Mark complete" not in html and "course window" in html
    response = submit(client, page + "/package", {}, form_page=page)
    assert response.status_code == 200, response.get_data(as_text=True)[:400]
    return re.search(r'data-launch-url="([^"]+)"', response.get_data(as_text=True)).group(1).replace("&amp;", "&")


def completed(app) -> set[str]:
    with app.extensions["portal"].database.session() as db:
        return {r.lesson_id for r in db.exec(select(LessonProgress)).all() if r.completed_at is not None}


def test_mark_complete_is_refused_for_a_package_lesson(course):
    app, client = course
    page = f"/learn/{PACK}/lessons/welcome"
    response = submit(client, page + "/complete", {}, form_page=page)
    assert response.status_code in (302, 303, 409) and completed(app) == set()


def test_a_cmi5_lesson_is_credited_when_its_au_is_satisfied(course):
    app, client = course
    url = launch(client, "welcome")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    content = app.test_client()
    token = content.post(urlsplit(query["fetch"]).path, base_url="http://content.test").get_json()["auth-token"]
    headers = {"X-Experience-API-Version": "1.0.3", "Authorization": "Basic " + token}
    actor = json.loads(query["actor"])

    def xapi(method, path, **kwargs):
        return content.open("/std/xapi/" + path, method=method, base_url="http://content.test", headers=headers,
                            **kwargs)

    launch_data = xapi("GET", "activities/state", query_string={
        "stateId": "LMS.LaunchData", "activityId": query["activityId"], "agent": query["actor"],
        "registration": query["registration"]}).get_json()
    assert launch_data["returnURL"].endswith(f"/learn/{PACK}/lessons/welcome")
    xapi("GET", "agents/profile", query_string={"profileId": "cmi5LearnerPreferences", "agent": query["actor"]})
    context = dict(launch_data["contextTemplate"], registration=query["registration"])
    context["contextActivities"] = dict(context["contextActivities"], category=[
        {"id": "https://w3id.org/xapi/cmi5/context/categories/cmi5"}])

    def send(verb, result=None, moveon=False):
        ctx = json.loads(json.dumps(context))
        if moveon:
            ctx["contextActivities"]["category"].append({"id": "https://w3id.org/xapi/cmi5/context/categories/moveon"})
        st = {"id": str(uuid.uuid4()), "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
              "actor": actor, "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
              "object": {"id": query["activityId"]}, "context": ctx}
        if result:
            st["result"] = result
        return xapi("PUT", "statements", query_string={"statementId": st["id"]}, json=st).status_code

    assert send("initialized") == 204
    assert completed(app) == set()
    # moveOn is Passed with masteryScore 0.8 (see tests/standards/test_import.py's course)
    assert send("passed", {"success": True, "duration": "PT5M", "score": {"scaled": 0.9}}, moveon=True) == 403
    ctx_mastery = context.setdefault("extensions", {})
    ctx_mastery["https://w3id.org/xapi/cmi5/context/extensions/masteryscore"] = 0.8
    assert send("passed", {"success": True, "duration": "PT5M", "score": {"scaled": 0.9}}, moveon=True) == 204
    assert completed(app) == {"welcome"}


def test_a_scorm_lesson_is_credited_when_the_sco_completes(course):
    app, client = course
    player = launch(client, "key-ideas")
    runtime = urlsplit(player).path.rsplit("/", 1)[0]
    content = app.test_client()
    data = content.get(runtime + "/data", base_url="http://content.test").get_json()
    assert data["entry"] == "ab-initio" and data["credit"] == "credit"
    assert content.post(runtime + "/commit", base_url="http://content.test", json={
        "values": {"lesson_status": "incomplete", "lesson_location": "p2", "exit": "suspend",
                   "session_time": "00:03:00"}, "finish": True}).status_code == 204
    assert completed(app) == set()
    player = launch(client, "key-ideas")  # resume
    runtime = urlsplit(player).path.rsplit("/", 1)[0]
    data = content.get(runtime + "/data", base_url="http://content.test").get_json()
    assert data["entry"] == "resume" and data["lesson_location"] == "p2"
    assert content.post(runtime + "/commit", base_url="http://content.test", json={
        "values": {"lesson_status": "completed", "session_time": "00:01:00"}, "finish": True}).status_code == 204
    assert completed(app) == {"key-ideas"}
    assert "You have completed it" in client.get(f"/learn/{PACK}/lessons/key-ideas").get_data(as_text=True)
