"""The cmi5 runtime on the content origin, through HTTP: launch, the one-time fetch URL, the LRS
rules an AU meets, per-launch scoping, the reporting account, documents, and the provider pages'
access rules. (ADL's suite, tests/cmi5, covers the whole specification in a browser.)"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlmodel import select

from portal.reports.models import ProviderStaff
from portal.standards.models import StdPackage, XapiStatement
from tests.helpers import log_in, make_user, submit
from tests.standards.test_import import VALID, make_zip

V = "http://adlnet.gov/expapi/verbs/"
XAPI = {"X-Experience-API-Version": "1.0.3"}


@pytest.fixture
def std_app(make_app):
    return make_app(LRS_REPORTING_KEY="report", LRS_REPORTING_SECRET="report-secret",
                    CONTENT_BASE_URL="http://content.test")


def staff(app, email="staff@example.gov", provider="Academy"):
    user = make_user(app, email=email)
    with app.extensions["portal"].database.session() as db:
        db.add(ProviderStaff(user_id=user.id, provider_name=provider, granted_at=datetime.now(UTC)))
        db.commit()
    return user


def upload(client, data=None) -> str:
    page = client.get("/providers/packages/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/providers/packages/", data={
        "csrf_token": token, "provider": "Academy",
        "package": (__import__("io").BytesIO(data or make_zip(VALID)), "course.zip", "application/zip")},
        content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rstrip("/").split("/")[-1]


def launch(client, uid, mode="Normal") -> dict:
    response = submit(client, f"/providers/packages/{uid}/launch", {"au": "0", "mode": mode},
                      form_page=f"/providers/packages/{uid}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    url = re.search(r'data-launch-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    return {"url": url, **query, "actor": json.loads(query["actor"])}


def content(app):
    return app.test_client()


def fetch_auth(app, launched) -> str:
    client = content(app)
    answer = client.post(urlsplit(launched["fetch"]).path, base_url="http://content.test").get_json()
    return "Basic " + answer["auth-token"]


def xapi(app, method, path, auth, **kwargs):
    headers = {**XAPI, **({"Authorization": auth} if auth else {}), **kwargs.pop("headers", {})}
    return content(app).open("/std/xapi/" + path, method=method, base_url="http://content.test",
                             headers=headers, **kwargs)


def statement(launched, verb, session_id, **more):
    return {"id": str(uuid.uuid4()), "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "actor": launched["actor"], "verb": {"id": V + verb}, "object": {"id": launched["activityId"]},
            "context": {"registration": launched["registration"],
                        "contextActivities": {"grouping": [{"id": "https://example.gov/au/1"}],
                                              "category": [{"id": "https://w3id.org/xapi/cmi5/context/"
                                                                  "categories/cmi5"}]},
                        "extensions": {"https://w3id.org/xapi/cmi5/context/extensions/sessionid": session_id}},
            **more}


@pytest.fixture
def launched(std_app):
    staff(std_app)
    client = std_app.test_client()
    log_in(client, "staff@example.gov")
    uid = upload(client)
    return std_app, client, uid, launch(client, uid)


def session_of(app, launched, auth):
    state = xapi(app, "GET", "activities/state", auth, query_string={
        "stateId": "LMS.LaunchData", "activityId": launched["activityId"], "agent": json.dumps(launched["actor"]),
        "registration": launched["registration"]})
    assert state.status_code == 200
    return state.get_json()["contextTemplate"]["extensions"]["https://w3id.org/xapi/cmi5/context/extensions/sessionid"]


def test_launch_writes_launched_and_the_fetch_url_answers_once(launched):
    app, _, uid, info = launched
    assert info["url"].startswith("http://content.test/std/c/") and "index.html?" in info["url"]
    assert info["activityId"] != "https://example.gov/au/1"  # the LMS's own id, never the publisher's
    first = content(app).post(urlsplit(info["fetch"]).path, base_url="http://content.test")
    assert first.status_code == 200 and first.mimetype == "application/json" and "auth-token" in first.get_json()
    second = content(app).post(urlsplit(info["fetch"]).path, base_url="http://content.test").get_json()
    assert second["error-code"] == "1" and "auth-token" not in second
    with app.extensions["portal"].database.session() as db:
        rows = db.exec(select(XapiStatement).where(XapiStatement.registration == info["registration"])).all()
    assert [r.verb_id for r in rows] == [V + "launched"]


def test_the_lrs_enforces_cmi5_on_what_an_au_sends(launched):
    app, _, _, info = launched
    auth = fetch_auth(app, info)
    session_id = session_of(app, info, auth)
    init = statement(info, "initialized", session_id)
    put = lambda st: xapi(app, "PUT", "statements", auth, query_string={"statementId": st["id"]}, json=st)  # noqa: E731
    assert put(init).status_code == 403  # learner preferences not read yet (11.0.0.0-3)
    prefs = xapi(app, "GET", "agents/profile", auth, query_string={"profileId": "cmi5LearnerPreferences",
                                                                   "agent": json.dumps(info["actor"])})
    assert prefs.status_code == 404
    assert put(statement(info, "experienced", session_id)).status_code == 403  # initialized comes first
    assert put(init).status_code == 204
    voiding = statement(info, "voided", session_id, object={"objectType": "StatementRef", "id": init["id"]})
    assert put(voiding).status_code == 403
    other = dict(statement(info, "experienced", session_id), actor={"mbox": "mailto:someone@example.gov"})
    assert put(other).status_code == 403
    terminated = statement(info, "terminated", session_id, result={"duration": "PT42S"})
    assert put(terminated).status_code == 204
    assert put(statement(info, "experienced", session_id)).status_code == 401  # the session is over
    with app.extensions["portal"].database.session() as db:
        verbs = [r.verb_id for r in db.exec(select(XapiStatement).order_by(XapiStatement.seq)).all()]
    assert verbs == [V + "launched", V + "initialized", V + "terminated"]


def test_a_launch_sees_only_its_own_registration_and_the_reporting_account_only_reads(launched):
    app, client, uid, info = launched
    auth = fetch_auth(app, info)
    # another learner's launch of the same package
    other = make_user(app, email="second@example.gov")
    with app.extensions["portal"].database.session() as db:
        db.add(ProviderStaff(user_id=other.id, provider_name="Academy", granted_at=datetime.now(UTC)))
        db.commit()
    second = app.test_client()
    log_in(second, "second@example.gov")
    theirs = launch(second, uid)
    assert theirs["registration"] != info["registration"]
    mine = xapi(app, "GET", "statements", auth, query_string={"registration": theirs["registration"]}).get_json()
    assert all(s["context"]["registration"] == info["registration"] for s in mine["statements"])
    state = xapi(app, "GET", "activities/state", auth, query_string={
        "stateId": "LMS.LaunchData", "activityId": theirs["activityId"], "agent": json.dumps(theirs["actor"])})
    assert state.status_code == 403
    reporting = "Basic " + base64.b64encode(b"report:report-secret").decode()
    every = xapi(app, "GET", "statements", reporting, query_string={"ascending": "true"}).get_json()["statements"]
    assert {s["context"]["registration"] for s in every} == {info["registration"], theirs["registration"]}
    assert xapi(app, "POST", "statements", reporting, json=every[0]).status_code == 403
    assert xapi(app, "GET", "statements", "Basic " + base64.b64encode(b"report:wrong").decode()).status_code == 401
    assert xapi(app, "GET", "statements", None).status_code == 401
    assert content(app).get("/std/xapi/statements", base_url="http://content.test",
                            headers={"Authorization": reporting}).status_code == 400  # no version header


def test_state_documents_merge_and_honour_preconditions(launched):
    app, _, _, info = launched
    auth = fetch_auth(app, info)
    query = {"stateId": "bookmark", "activityId": info["activityId"], "agent": json.dumps(info["actor"]),
             "registration": info["registration"]}
    assert xapi(app, "PUT", "activities/state", auth, query_string=query, json={"page": 3}).status_code == 204
    assert xapi(app, "POST", "activities/state", auth, query_string=query, json={"seen": [1, 2]}).status_code == 204
    got = xapi(app, "GET", "activities/state", auth, query_string=query)
    assert got.get_json() == {"page": 3, "seen": [1, 2]}
    stale = xapi(app, "PUT", "activities/state", auth, query_string=query, json={"page": 1},
                 headers={"If-Match": '"not-the-etag"'})
    assert stale.status_code == 412
    assert xapi(app, "PUT", "activities/state", auth, query_string=query, json={"page": 4},
                headers={"If-Match": got.headers["ETag"]}).status_code == 204
    launch_data = dict(query, stateId="LMS.LaunchData")
    assert xapi(app, "PUT", "activities/state", auth, query_string=launch_data, json={}).status_code == 403
    assert xapi(app, "DELETE", "activities/state", auth, query_string=query).status_code == 204
    assert xapi(app, "GET", "activities/state", auth, query_string=query).status_code == 404


def test_package_files_are_served_on_the_content_origin_only(launched):
    app, client, _, info = launched
    path = urlsplit(info["url"]).path
    served = content(app).get(path, base_url="http://content.test")
    assert served.status_code == 200 and served.data == VALID["index.html"]
    assert served.headers["Content-Security-Policy"] == "frame-ancestors 'self' https://portal.test"
    assert client.get(path).status_code == 404  # not on the portal's origin
    assert content(app).get(path.replace("index.html", "cmi5.xml"), base_url="http://content.test").status_code == 200
    assert content(app).get("/std/c/unknown/index.html", base_url="http://content.test").status_code == 404
    assert content(app).get("/", base_url="http://content.test").status_code == 404


def test_provider_pages_belong_to_their_provider(std_app):
    staff(std_app)
    staff(std_app, email="rival@example.gov", provider="Rival Academy")
    make_user(std_app, email="learner@example.gov")
    owner = std_app.test_client()
    log_in(owner, "staff@example.gov")
    uid = upload(owner)
    rival = std_app.test_client()
    log_in(rival, "rival@example.gov")
    assert rival.get(f"/providers/packages/{uid}").status_code == 404
    assert "course.zip" not in rival.get("/providers/packages/").get_data(as_text=True)
    learner = std_app.test_client()
    log_in(learner, "learner@example.gov")
    assert learner.get("/providers/packages/").status_code == 403
    launch(owner, uid)
    page = owner.get(f"/providers/packages/{uid}").get_data(as_text=True)
    assert "Pat Learner" in page and "staff@example.gov" in page and "not yet" in page  # the learners table
    response = submit(owner, f"/providers/packages/{uid}/publish", {}, form_page=f"/providers/packages/{uid}")
    assert response.status_code == 303
    with std_app.extensions["portal"].database.session() as db:
        assert db.exec(select(StdPackage)).one().status == "published"


def test_an_upload_refusal_is_a_422_with_the_rule_and_nothing_kept(std_app):
    staff(std_app)
    client = std_app.test_client()
    log_in(client, "staff@example.gov")
    page = client.get("/providers/packages/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/providers/packages/", data={
        "csrf_token": token, "provider": "Academy",
        "package": (__import__("io").BytesIO(make_zip({"index.html": b"x"})), "course.zip", "application/zip")},
        content_type="multipart/form-data")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-refusal-rule="14.1.0.0-2"' in html and "no cmi5.xml" in html
    with std_app.extensions["portal"].database.session() as db:
        assert db.exec(select(StdPackage)).all() == []
