"""The content origin: package files, the cmi5 fetch URL and the xAPI LRS.

Everything here is answered only on CONTENT_BASE_URL's host, never on the portal's (see
`origin.py`): imported HTML and JavaScript run there, where the portal's cookies and pages
are out of reach. Requests carry per-launch credentials, never a log-in session.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Blueprint, Response, abort, current_app, jsonify, request
from sqlmodel import select

from portal.common.web import db, now, writing
from portal.standards import cmi5, lrs, scorm
from portal.standards.importer import file_key, structure_of
from portal.standards.lrs import XapiError
from portal.standards.models import StdPackage, StdRegistration, StdSession
from portal.standards.origin import on_content_origin

bp = Blueprint("std_content", __name__, url_prefix="/std", template_folder="templates")
API_JS = Path(__file__).parent / "static" / "scorm12_api.js"
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, X-Experience-API-Version, If-Match, If-None-Match",
    "Access-Control-Allow-Methods": "GET, PUT, POST, DELETE, OPTIONS",
    "Access-Control-Expose-Headers": "ETag, Last-Modified, X-Experience-API-Version, "
                                     "X-Experience-API-Consistent-Through",
}


def ids_for(package: StdPackage) -> cmi5.Ids:
    return cmi5.Ids(current_app.config["PORTAL_BASE_URL"], package.uid)


def credit_lesson_of(session, package: StdPackage, registration: StdRegistration, moment) -> None:
    """A course lesson made of this package's unit is complete once the unit is satisfied."""
    from portal.learning.web import portal_tz
    from portal.standards.pack_lessons import credit_lesson

    credit_lesson(session, package, registration, current_app.extensions["packs"], moment, portal_tz())


def content_base() -> str:
    return current_app.config["CONTENT_BASE_URL"]


def portal_origin() -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(current_app.config["PORTAL_BASE_URL"])
    return f"{parts.scheme}://{parts.netloc}"


@bp.after_request
def _headers(response: Response) -> Response:
    if not on_content_origin():
        return response  # the portal origin's 404 for a content path: the portal's own headers
    if request.path.startswith(("/std/xapi", "/std/fetch")):
        response.headers.update(CORS_HEADERS)
        response.headers["X-Experience-API-Version"] = lrs.VERSION
        response.headers["Cache-Control"] = "no-store"
    # Package pages may be framed by the portal only (the player page), and by nothing else.
    response.headers["Content-Security-Policy"] = f"frame-ancestors 'self' {portal_origin()}"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _xapi_error(error: XapiError) -> Response:
    response = jsonify({"error": error.message})
    response.status_code = error.status
    return response


@bp.errorhandler(XapiError)
def _handle(error: XapiError):
    return _xapi_error(error)


# -- package files --------------------------------------------------------------

@bp.get("/c/<content_key>/<path:path>")
def package_file(content_key: str, path: str):
    """A file of the launched package, under the session's own unguessable path."""
    session = db().exec(select(StdSession).where(StdSession.content_key == content_key)).first()
    if session is None:
        abort(404)
    registration = db().get(StdRegistration, session.registration_id)
    package = db().get(StdPackage, registration.package_id)
    found = current_app.extensions["portal"].storage.get(db(), file_key(package.uid, path))
    if found is None:
        abort(404)
    info, data = found
    response = Response(data, content_type=info.content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["ETag"] = f'"{info.sha256}"'
    return response


# -- cmi5 fetch URL ---------------------------------------------------------------

@bp.route("/fetch/<fetch_key>", methods=["POST", "OPTIONS"])
def fetch(fetch_key: str):
    if request.method == "OPTIONS":
        return Response(status=204)
    with writing() as session:
        answer = cmi5.fetch_token(session, fetch_key, now())
        session.commit()
    return jsonify(answer)  # 200 with an error object when refused (cmi5 8.2.3)


# -- xAPI --------------------------------------------------------------------------

def _reporting() -> tuple[str, str]:
    return current_app.config["LRS_REPORTING_KEY"], current_app.config["LRS_REPORTING_SECRET"]


def _require_version() -> None:
    if not request.headers.get("X-Experience-API-Version", "").startswith("1.0"):
        raise XapiError(400, "the X-Experience-API-Version header is required (1.0.3)")


def _json_body():
    try:
        return json.loads(request.get_data() or b"null")
    except ValueError:
        raise XapiError(400, "the body is not valid JSON") from None


@bp.route("/xapi/<path:resource>", methods=["OPTIONS"])
def preflight(resource: str):
    return Response(status=204)


@bp.get("/xapi/about")
def about():
    return jsonify({"version": [lrs.VERSION]})


@bp.route("/xapi/statements", methods=["GET", "PUT", "POST"])
def statements():
    _require_version()
    if request.method == "GET":
        return _get_statements()
    with writing() as session:
        caller = cmi5.authenticate(session, request.headers.get("Authorization"), _reporting())
        if caller.reporting:
            raise XapiError(403, "the reporting account is read-only")
        body = _json_body()
        items = body if isinstance(body, list) else [body]
        if request.method == "PUT":
            statement_id = request.args.get("statementId", "")
            if not lrs.is_uuid(statement_id) or isinstance(body, list):
                raise XapiError(400, "PUT needs a statementId parameter and one statement")
            if isinstance(body, dict) and "id" in body and str(body["id"]).lower() != statement_id.lower():
                raise XapiError(400, "the statement id differs from statementId")
            if isinstance(body, dict):
                body.setdefault("id", statement_id)
        scope = cmi5.scope_of(session, caller.session, ids_for)
        verbs = cmi5.check_au_statements(scope, items, post=request.method == "POST")
        moment = now()
        authority = {"objectType": "Agent", "account": {"homePage": current_app.config["PORTAL_BASE_URL"],
                                                        "name": f"launch-{caller.session.code}"}}
        stored = lrs.store_statements(session, items, authority, moment, allow_voiding=False)
        cmi5.apply_au_statements(session, scope, items, verbs, moment, ids_for(scope.package))
        credit_lesson_of(session, scope.package, scope.registration, moment)
        session.commit()
    if request.method == "PUT":
        return Response(status=204)
    return jsonify(stored)


def _get_statements():
    caller = cmi5.authenticate(db(), request.headers.get("Authorization"), _reporting())
    args = request.args
    if args.get("statementId") or args.get("voidedStatementId"):
        voided = bool(args.get("voidedStatementId"))
        statement = lrs.get_statement(db(), args.get("voidedStatementId") or args["statementId"], voided)
        if statement is None or (caller.session and not _visible(caller, statement)):
            raise XapiError(404, "no such statement")
        return jsonify(statement)
    try:
        query = lrs.StatementQuery(
            registration=args.get("registration"), verb=args.get("verb"), activity=args.get("activity"),
            agent=lrs.agent_key(lrs.parse_agent_param(args["agent"])) if args.get("agent") else None,
            since=lrs.parse_timestamp(args["since"]) if args.get("since") else None,
            until=lrs.parse_timestamp(args["until"]) if args.get("until") else None,
            limit=int(args.get("limit", "0") or 0), ascending=args.get("ascending", "false") == "true",
            after_seq=int(args["after"]) if args.get("after", "").isdigit() else None)
    except ValueError:
        raise XapiError(400, "a query parameter is not valid") from None
    if caller.session:
        # A launch sees its own registration only.
        registration = db().get(StdRegistration, caller.session.registration_id)
        query = lrs.StatementQuery(**{**query.__dict__, "registration": registration.code})
    found, more = lrs.query_statements(db(), query)
    more_url = ""
    if more is not None:
        params = {k: v for k, v in args.items() if k != "after"}
        params["after"] = str(more)
        more_url = f"/std/xapi/statements?{urlencode(params)}"
    return jsonify({"statements": found, "more": more_url})


def _visible(caller, statement: dict) -> bool:
    registration = db().get(StdRegistration, caller.session.registration_id)
    return (statement.get("context") or {}).get("registration") == registration.code


def _document_response(row) -> Response:
    response = Response(row.body, content_type=row.content_type)
    response.headers["ETag"] = f'"{row.etag}"'
    response.headers["Last-Modified"] = row.updated.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return response


def _document(kind: str, key: lrs.DocumentKey, id_param: str, caller_session, session, scope=None):
    """GET, PUT, POST and DELETE of one document resource, or GET of its ids."""
    moment = now()
    if request.method == "GET":
        if not key.doc_id:
            since = lrs.parse_timestamp(request.args["since"]) if request.args.get("since") else None
            return jsonify(lrs.document_ids(session, key, since)), None
        row = lrs.get_document(session, key)
        if row is None:
            raise XapiError(404, "no such document")
        return _document_response(row), row
    if request.method == "DELETE":
        existing = lrs.get_document(session, key) if key.doc_id else None
        lrs.check_preconditions(existing, request.headers.get("If-Match"), None)
        lrs.delete_documents(session, key, all_ids=not key.doc_id)
        return Response(status=204), None
    if not key.doc_id:
        raise XapiError(400, f"the {id_param} parameter is required")
    content_type = request.headers.get("Content-Type", "application/octet-stream")
    existing = lrs.get_document(session, key)
    lrs.check_preconditions(existing, request.headers.get("If-Match"), request.headers.get("If-None-Match"))
    lrs.put_document(session, key, request.get_data(), content_type, moment, merge=request.method == "POST")
    return Response(status=204), None


@bp.route("/xapi/activities/state", methods=["GET", "PUT", "POST", "DELETE"])
def state():
    _require_version()
    args = request.args
    with writing() as session:
        caller = cmi5.authenticate(session, request.headers.get("Authorization"), _reporting())
        agent = lrs.parse_agent_param(args.get("agent"))
        if not args.get("activityId"):
            raise XapiError(400, "the activityId parameter is required")
        registration = args.get("registration", "")
        if registration and not lrs.is_uuid(registration):
            raise XapiError(400, "registration is not a UUID")
        state_id = args.get("stateId", "")
        if caller.reporting:
            if request.method != "GET":
                raise XapiError(403, "the reporting account is read-only")
        else:
            scope = cmi5.scope_of(session, caller.session, ids_for)
            if lrs.agent_key(agent) != lrs.agent_key(scope.actor):
                raise XapiError(403, "the agent must be the launch's actor (cmi5 8.1.3.0-3)")
            if registration and registration != scope.registration.code:
                raise XapiError(403, "the registration must be the launch's (cmi5 8.1.4.0-3)")
            if args["activityId"] != scope.activity_id:
                raise XapiError(403, "this launch may only keep state for its own activity")
            if state_id == "LMS.LaunchData" and request.method != "GET":
                raise XapiError(403, "the AU must not change LMS.LaunchData (cmi5 10.2.1.0-5)")
            if not state_id and request.method == "DELETE":
                raise XapiError(403, "the AU may not delete every state document at once")
        key = lrs.DocumentKey("state", args["activityId"], lrs.agent_key(agent), registration, state_id)
        response, row = _document("state", key, "stateId", caller.session, session)
        if caller.session and state_id == "LMS.LaunchData" and row is not None:
            caller.session.launch_data_fetched = True
        if caller.session:
            caller.session.last_request_at = now()
            session.add(caller.session)
        session.commit()
    return response


@bp.route("/xapi/agents/profile", methods=["GET", "PUT", "POST", "DELETE"])
def agent_profile():
    _require_version()
    args = request.args
    with writing() as session:
        caller = cmi5.authenticate(session, request.headers.get("Authorization"), _reporting())
        agent = lrs.parse_agent_param(args.get("agent"))
        profile_id = args.get("profileId", "")
        if caller.reporting:
            if request.method != "GET":
                raise XapiError(403, "the reporting account is read-only")
        else:
            scope = cmi5.scope_of(session, caller.session, ids_for)
            if lrs.agent_key(agent) != lrs.agent_key(scope.actor):
                raise XapiError(403, "the agent must be the launch's actor (cmi5 11.0.0.0-1)")
            if profile_id == "cmi5LearnerPreferences":
                if request.method == "DELETE":
                    raise XapiError(403, "the AU may not delete the learner preferences")
                if request.method in ("PUT", "POST"):
                    cmi5.check_learner_preferences(request.get_data(), request.headers.get("Content-Type", ""))
        key = lrs.DocumentKey("agent_profile", "", lrs.agent_key(agent), "", profile_id)
        try:
            response, _ = _document("agent_profile", key, "profileId", caller.session, session)
        except XapiError as error:
            if error.status == 404 and caller.session and profile_id == "cmi5LearnerPreferences":
                caller.session.learner_prefs_fetched = True
                session.add(caller.session)
                session.commit()
            raise
        if caller.session:
            if profile_id == "cmi5LearnerPreferences" and request.method == "GET":
                caller.session.learner_prefs_fetched = True
            caller.session.last_request_at = now()
            session.add(caller.session)
        session.commit()
    return response


@bp.route("/xapi/activities/profile", methods=["GET", "PUT", "POST", "DELETE"])
def activity_profile():
    _require_version()
    args = request.args
    with writing() as session:
        caller = cmi5.authenticate(session, request.headers.get("Authorization"), _reporting())
        if not args.get("activityId"):
            raise XapiError(400, "the activityId parameter is required")
        if caller.reporting:
            if request.method != "GET":
                raise XapiError(403, "the reporting account is read-only")
        else:
            scope = cmi5.scope_of(session, caller.session, ids_for)
            if args["activityId"] != scope.activity_id and request.method != "GET":
                raise XapiError(403, "this launch may only write its own activity's profile")
        key = lrs.DocumentKey("activity_profile", args["activityId"], "", "", args.get("profileId", ""))
        response, _ = _document("activity_profile", key, "profileId", caller.session, session)
        session.commit()
    return response


@bp.get("/xapi/activities")
def activities():
    _require_version()
    cmi5.authenticate(db(), request.headers.get("Authorization"), _reporting())
    activity_id = request.args.get("activityId")
    if not activity_id:
        raise XapiError(400, "the activityId parameter is required")
    return jsonify({"objectType": "Activity", "id": activity_id})


@bp.get("/xapi/agents")
def agents():
    _require_version()
    cmi5.authenticate(db(), request.headers.get("Authorization"), _reporting())
    agent = lrs.parse_agent_param(request.args.get("agent"))
    person: dict = {"objectType": "Person"}
    for key in ("name", "mbox", "mbox_sha1sum", "openid", "account"):
        if key in agent:
            person[key] = [agent[key]]
    return jsonify(person)


# -- SCORM 1.2 runtime -----------------------------------------------------------

def _scorm_session(content_key: str):
    session = db().exec(select(StdSession).where(StdSession.content_key == content_key)).first()
    if session is None:
        abort(404)
    return session


@bp.get("/scorm-api.js")
def scorm_api():
    """The API adapter (window.API), from the content origin like the SCO it serves."""
    response = Response(API_JS.read_bytes(), content_type="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/scorm/<content_key>/player")
def scorm_player(content_key: str):
    """The frame a SCO runs in: window.API here, the SCO in a frame of its own below it."""
    from flask import render_template

    session = _scorm_session(content_key)
    registration = db().get(StdRegistration, session.registration_id)
    package = db().get(StdPackage, registration.package_id)
    sco = structure_of(package)["aus"][session.au_index]
    parts = urlsplit(sco["url"])
    sco_url = sco["url"] if parts.scheme else f"/std/c/{content_key}/{sco['url']}"
    return render_template("standards/scorm_player.html", title=sco["title"], sco_url=sco_url,
                           api_url="/std/scorm-api.js", runtime=f"/std/scorm/{content_key}")


@bp.get("/scorm/<content_key>/data")
def scorm_data(content_key: str):
    from portal.accounts.models import User

    session = _scorm_session(content_key)
    if session.terminated or session.abandoned:
        return jsonify({"error": "this launch has ended"}), 401
    registration = db().get(StdRegistration, session.registration_id)
    user = db().get(User, registration.user_id)
    response = jsonify(scorm.initial_data(db(), session, user.name if user else ""))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/scorm/<content_key>/commit")
def scorm_commit(content_key: str):
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("values"), dict):
        return jsonify({"error": "expected {values: {...}, finish: true|false}"}), 400
    with writing() as session:
        row = session.exec(select(StdSession).where(StdSession.content_key == content_key)).first()
        if row is None:
            abort(404)
        try:
            moment = now()
            scorm.commit(session, row, body["values"], bool(body.get("finish")), moment)
            registration = session.get(StdRegistration, row.registration_id)
            credit_lesson_of(session, session.get(StdPackage, registration.package_id), registration, moment)
        except PermissionError as error:
            return jsonify({"error": str(error)}), 401
        except scorm.ScormRefused as error:
            return jsonify({"error": str(error)}), 400
        session.commit()
    return Response(status=204)
