"""The cmi5 launching system: registrations, launches with per-session tokens, the rules the
LMS enforces on what an AU sends (cmi5 sections 8-11), moveOn evaluation and the statements
the LMS writes itself (launched, satisfied, waived, abandoned). No Flask here."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlmodel import Session, select

from portal.standards import lrs
from portal.standards.importer import structure_of
from portal.standards.lrs import XapiError
from portal.standards.models import StdPackage, StdRegistration, StdRegistrationAu, StdSession

CAT_CMI5 = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
CAT_MOVEON = "https://w3id.org/xapi/cmi5/context/categories/moveon"
EXT = "https://w3id.org/xapi/cmi5/context/extensions/"
EXT_SESSION = EXT + "sessionid"
EXT_MASTERY = EXT + "masteryscore"
EXT_REASON = "https://w3id.org/xapi/cmi5/result/extensions/reason"
V = "http://adlnet.gov/expapi/verbs/"
ADL = "https://w3id.org/xapi/adl/verbs/"
INITIALIZED, TERMINATED, COMPLETED, PASSED, FAILED = (V + v for v in
                                                      ("initialized", "terminated", "completed", "passed", "failed"))
LAUNCHED = V + "launched"
SATISFIED, WAIVED, ABANDONED = ADL + "satisfied", ADL + "waived", ADL + "abandoned"
LAUNCH_MODES = ("Normal", "Browse", "Review")
WAIVE_REASONS = ("Tested", "Excused", "Equivalent", "Administrative")
_UTC = re.compile(r"(Z|\+00:?(00)?)$")
_DURATION = re.compile(r"^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
LANGUAGE_PREFERENCE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*(,[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)*$")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def seconds_of(duration) -> int:
    match = _DURATION.match(duration) if isinstance(duration, str) else None
    if not match:
        return 0
    days, hours, minutes, seconds = (float(g or 0) for g in match.groups())
    return int(days * 86400 + hours * 3600 + minutes * 60 + seconds)


def duration_of(seconds: float) -> str:
    return f"PT{max(seconds, 0):.2f}S"


@dataclass(frozen=True)
class Ids:
    """The LMS's own activity ids for one package: never the publisher's (cmi5 8.1.5.0-3)."""

    base: str
    uid: str

    @property
    def course(self) -> str:
        return f"{self.base}/std/{self.uid}"

    def block(self, index: int) -> str:
        return f"{self.base}/std/{self.uid}/block/{index}"

    def au(self, index: int) -> str:
        return f"{self.base}/std/{self.uid}/au/{index}"


def actor_for(user_id: int, base_url: str) -> dict:
    """The learner as an xAPI Agent with an account IFI (cmi5 9.2): a number, not a name."""
    return {"objectType": "Agent", "account": {"homePage": base_url, "name": str(user_id)}}


def lms_authority(base_url: str) -> dict:
    return {"objectType": "Agent", "account": {"homePage": base_url, "name": "portal-lms"}}


# -- registrations and moveOn -------------------------------------------------------

def registration_for(db: Session, package: StdPackage, user_id: int, base_url: str, now: datetime,
                     ids: Ids) -> StdRegistration:
    """The learner's registration in this package, made (and evaluated for moveOn) on first use."""
    registration = db.exec(select(StdRegistration).where(StdRegistration.package_id == package.id,
                                                         StdRegistration.user_id == user_id)).first()
    if registration is not None:
        return registration
    structure = structure_of(package)
    registration = StdRegistration(code=str(uuid.uuid4()), package_id=package.id, user_id=user_id,
                                   actor=json.dumps(actor_for(user_id, base_url)), created_at=now)
    db.add(registration)
    db.flush()
    for au in structure["aus"]:
        db.add(StdRegistrationAu(registration_id=registration.id, au_index=au["index"],
                                 satisfied=au["move_on"] == "NotApplicable"))
    db.flush()
    # NotApplicable AUs are satisfied from the start: blocks and the course may be too (9.6.1.1-3).
    if package.standard == "cmi5":
        evaluate_move_on(db, package, registration, str(uuid.uuid4()), now, ids)
    return registration


def _au_rows(db: Session, registration: StdRegistration) -> dict[int, StdRegistrationAu]:
    return {r.au_index: r for r in db.exec(select(StdRegistrationAu).where(
        StdRegistrationAu.registration_id == registration.id)).all()}


def evaluate_move_on(db: Session, package: StdPackage, registration: StdRegistration, session_code: str,
                     now: datetime, ids: Ids) -> None:
    """Write a satisfied statement for each block, then the course, that has just become satisfied."""
    structure = structure_of(package)
    rows = _au_rows(db, registration)
    done = set(json.loads(registration.satisfied_nodes))
    written: list[tuple[str, str, str]] = []

    def satisfied(kind: str, index: int) -> bool:
        if kind == "au":
            return rows[index].satisfied
        block = structure["blocks"][index]
        result = all([satisfied(k, i) for k, i in block["children"]])
        key = f"block:{index}"
        if result and key not in done:
            done.add(key)
            written.append(("block", ids.block(index), block["publisher_id"]))
        return result

    course_done = all([satisfied(k, i) for k, i in structure["children"]])
    if course_done and "course" not in done:
        done.add("course")
        written.append(("course", ids.course, structure["publisher_id"]))
    if not written:
        return
    actor = json.loads(registration.actor)
    for kind, lms_id, publisher_id in written:
        lrs.store_statements(db, [{
            "id": str(uuid.uuid4()), "timestamp": lrs.iso(now), "actor": actor,
            "verb": {"id": SATISFIED, "display": {"en-US": "satisfied"}},
            "object": {"id": lms_id, "objectType": "Activity",
                       "definition": {"type": f"https://w3id.org/xapi/cmi5/activitytype/{kind}"}},
            "context": {"registration": registration.code,
                        "contextActivities": {"category": [{"id": CAT_CMI5}], "grouping": [{"id": publisher_id}]},
                        "extensions": {EXT_SESSION: session_code}},
        }], lms_authority(ids.base), now)
    registration.satisfied_nodes = json.dumps(sorted(done))
    db.add(registration)


# -- launching ---------------------------------------------------------------------

@dataclass(frozen=True)
class Launch:
    session: StdSession
    url: str
    launch_method: str


def launch(db: Session, package: StdPackage, registration: StdRegistration, au_index: int, launch_mode: str,
           now: datetime, ids: Ids, content_base: str, return_url: str) -> Launch:
    """Start a session: abandon any session left open, write LMS.LaunchData and `launched`,
    and build the launch URL with a one-time fetch URL (cmi5 8.1, 8.2, 10)."""
    structure = structure_of(package)
    if not 0 <= au_index < len(structure["aus"]):
        raise ValueError("no such AU")
    if launch_mode not in LAUNCH_MODES:
        raise ValueError("unknown launch mode")
    au = structure["aus"][au_index]
    for open_session in db.exec(select(StdSession).where(StdSession.registration_id == registration.id,
                                                         StdSession.terminated == False,  # noqa: E712
                                                         StdSession.abandoned == False)).all():  # noqa: E712
        abandon(db, open_session, now, ids)
    code = str(uuid.uuid4())
    fetch_key = secrets.token_urlsafe(32)
    actor = json.loads(registration.actor)
    activity_id = ids.au(au_index)
    template = {"contextActivities": {"grouping": [{"id": au["publisher_id"]}]}, "extensions": {EXT_SESSION: code}}
    session = StdSession(code=code, registration_id=registration.id, au_index=au_index, launch_mode=launch_mode,
                         content_key=secrets.token_urlsafe(24), fetch_key_hash=_hash(fetch_key),
                         context_template=json.dumps(template), created_at=now, last_request_at=now)
    db.add(session)
    db.flush()
    parts = urlsplit(au["url"])
    if parts.scheme:
        base_url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    else:
        base_url = f"{content_base}/std/c/{session.content_key}/{parts.path}"
    params = parse_qsl(parts.query, keep_blank_values=True) + [
        ("endpoint", f"{content_base}/std/xapi"), ("fetch", f"{content_base}/std/fetch/{fetch_key}"),
        ("actor", json.dumps(actor, separators=(",", ":"))), ("registration", registration.code),
        ("activityId", activity_id)]
    url = base_url + "?" + urlencode(params) + (f"#{parts.fragment}" if parts.fragment else "")
    launch_data = {"contextTemplate": template, "launchMode": launch_mode, "launchMethod": au["launch_method"],
                   "moveOn": au["move_on"], "returnURL": return_url}
    if au["mastery_score"] is not None:
        launch_data["masteryScore"] = au["mastery_score"]
    if au["launch_parameters"]:
        launch_data["launchParameters"] = au["launch_parameters"]
    if au["entitlement_key"]:
        launch_data["entitlementKey"] = {"courseStructure": au["entitlement_key"]}
    lrs.put_document(db, lrs.DocumentKey("state", activity_id, lrs.agent_key(actor), registration.code,
                                         "LMS.LaunchData"), json.dumps(launch_data).encode(), "application/json", now)
    extensions = {EXT_SESSION: code, EXT + "launchmode": launch_mode, EXT + "launchurl": url,
                  EXT + "moveon": au["move_on"]}
    if au["launch_parameters"]:
        extensions[EXT + "launchparameters"] = au["launch_parameters"]
    if au["mastery_score"] is not None:
        extensions[EXT_MASTERY] = au["mastery_score"]
    lrs.store_statements(db, [{
        "id": str(uuid.uuid4()), "timestamp": lrs.iso(now), "actor": actor,
        "verb": {"id": LAUNCHED, "display": {"en-US": "launched"}},
        "object": {"id": activity_id, "objectType": "Activity"},
        "context": {"registration": registration.code,
                    "contextActivities": {"category": [{"id": CAT_CMI5}], "grouping": [{"id": au["publisher_id"]}]},
                    "extensions": extensions},
    }], lms_authority(ids.base), now)
    return Launch(session, url, au["launch_method"])


def fetch_token(db: Session, fetch_key: str, now: datetime) -> dict:
    """Answer a POST to the fetch URL: the auth token once, an error object after (cmi5 8.2)."""
    session = db.exec(select(StdSession).where(StdSession.fetch_key_hash == _hash(fetch_key))).first()
    if session is None:
        return {"error-code": "3", "error-text": "this fetch URL is not known"}
    if session.fetched:
        return {"error-code": "1", "error-text": "the authorization token was already fetched for this session"}
    if session.terminated or session.abandoned:
        return {"error-code": "2", "error-text": "this session has ended"}
    secret = secrets.token_urlsafe(32)
    session.fetched, session.auth_key_hash, session.last_request_at = True, _hash(secret), now
    db.add(session)
    return {"auth-token": base64.b64encode(f"{session.code}:{secret}".encode()).decode()}


@dataclass(frozen=True)
class Caller:
    """Who an LRS request comes from: one launch, or the reporting account (read-only)."""

    session: StdSession | None
    reporting: bool = False


def authenticate(db: Session, header: str | None, reporting: tuple[str, str] | None) -> Caller:
    if not header or not header.startswith("Basic "):
        raise XapiError(401, "credentials are required")
    try:
        key, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise XapiError(401, "credentials are not valid") from None
    if reporting and reporting[0] and reporting[1] and hmac.compare_digest(key, reporting[0]) \
            and hmac.compare_digest(secret, reporting[1]):
        return Caller(None, reporting=True)
    session = db.exec(select(StdSession).where(StdSession.code == key)).first() if lrs.is_uuid(key) else None
    if session is None or session.auth_key_hash is None or not hmac.compare_digest(session.auth_key_hash,
                                                                                   _hash(secret)):
        raise XapiError(401, "credentials are not valid")
    if session.terminated or session.abandoned:
        raise XapiError(401, "this session has ended")
    return Caller(session)


@dataclass
class Scope:
    """Everything one launch may touch."""

    session: StdSession
    registration: StdRegistration
    package: StdPackage
    au: dict
    au_row: StdRegistrationAu
    actor: dict
    activity_id: str


def scope_of(db: Session, session: StdSession, ids_for) -> Scope:
    registration = db.get(StdRegistration, session.registration_id)
    package = db.get(StdPackage, registration.package_id)
    au = structure_of(package)["aus"][session.au_index]
    row = _au_rows(db, registration)[session.au_index]
    return Scope(session, registration, package, au, row, json.loads(registration.actor),
                 ids_for(package).au(session.au_index))


def _forbid(rule: str, message: str):
    raise XapiError(403, f"{message} (cmi5 {rule})")


def check_au_statements(scope: Scope, statements: list, post: bool) -> list[str]:
    """The rules an LMS enforces on statements an AU sends (cmi5 9); return cmi5 verbs in order."""
    session = scope.session
    if not session.learner_prefs_fetched:
        _forbid("11.0.0.0-3", "the AU must read the learner preferences before sending statements")
    template = json.loads(session.context_template)
    seen: list[str] = []
    for st in statements:
        if not isinstance(st, dict) or not isinstance(st.get("verb"), dict) or not isinstance(st.get("object"), dict) \
                or not isinstance(st.get("actor"), dict):
            raise XapiError(400, "a statement needs actor, verb and object objects")
        verb = st["verb"].get("id")
        if "id" not in st:
            _forbid("9.1.0.0-1", "the AU must give every statement an id")
        if verb == lrs.VOIDED:
            _forbid("6.3.0.0-1", "AUs may not void statements")
        if "timestamp" not in st:
            _forbid("9.7.0.0-1", "every statement needs a timestamp")
        if not isinstance(st["timestamp"], str) or not _UTC.search(st["timestamp"]):
            _forbid("9.7.0.0-2", "timestamps must be in UTC")
        actor = st["actor"]
        if actor.get("objectType", "Agent") != "Agent":
            _forbid("9.2.0.0-2", "the actor must be an Agent")
        try:
            same_actor = lrs.agent_key(actor) == lrs.agent_key(scope.actor)
        except XapiError:
            same_actor = False
        if not same_actor:
            _forbid("8.1.3.0-3", "the actor must be the launch's actor")
        context = st.get("context")
        if not isinstance(context, dict):
            _forbid("9.6.0.0-1", "every statement needs a context")
        activities = context.get("contextActivities")
        if not isinstance(activities, dict):
            _forbid("10.2.1.0-6", "the context must follow the contextTemplate")
        for kind, expected in template["contextActivities"].items():
            given = activities.get(kind)
            if not isinstance(given, list) or [a.get("id") for a in given[:len(expected)] if isinstance(a, dict)] \
                    != [a["id"] for a in expected]:
                _forbid("10.2.1.0-6", "the context must follow the contextTemplate")
        extensions = context.get("extensions")
        if not isinstance(extensions, dict) or not extensions.get(EXT_SESSION):
            _forbid("9.6.3.1-4", "every statement needs the session id extension")
        if extensions.get(EXT_SESSION) != session.code:
            _forbid("10.2.1.0-6", "the session id must be this launch's")
        category = activities.get("category") or []
        category_ids = {a.get("id") for a in category if isinstance(a, dict)} if isinstance(category, list) else set()
        cmi5_defined = CAT_CMI5 in category_ids
        if CAT_MOVEON in category_ids and (not cmi5_defined or verb not in (PASSED, FAILED, COMPLETED)):
            _forbid("9.6.2.2-2", "only passed, failed and completed statements carry the moveOn category")
        if not context.get("registration"):
            _forbid("9.6.1.0-1", "the context needs the registration")
        if context.get("registration") != scope.registration.code:
            _forbid("9.6.1.0-1", "the registration must be the launch's")
        if not session.initialized and verb != INITIALIZED and INITIALIZED not in seen:
            _forbid("9.3.0.0-4", "initialized must be the first statement")
        if not cmi5_defined:
            continue
        if st["object"].get("id") != scope.activity_id:
            _forbid("8.1.5.0-6", "cmi5 defined statements must use the launch's activityId")
        if session.launch_mode in ("Browse", "Review") and verb in (COMPLETED, PASSED, FAILED):
            _forbid("10.2.2.0-2" if session.launch_mode == "Browse" else "10.2.2.0-3",
                    f"no completion or success may be recorded in {session.launch_mode} mode")
        result = st.get("result")
        if result is not None and not isinstance(result, dict):
            raise XapiError(400, "the result must be an object")
        result = result or {}
        if "completion" in result and verb != COMPLETED:
            _forbid("9.5.3.0-2", "only completed statements carry result.completion")
        if verb == COMPLETED and result.get("completion") is not True:
            _forbid("9.5.3.0-1", "completed statements need result.completion true")
        if "success" in result and verb not in (PASSED, FAILED):
            _forbid("9.5.2.0-3", "only passed and failed statements carry result.success")
        if verb == PASSED and result.get("success") is not True:
            _forbid("9.5.2.0-1", "passed statements need result.success true")
        if verb == FAILED and result.get("success") is not False:
            _forbid("9.5.2.0-2", "failed statements need result.success false")
        if ("completion" in result or "success" in result) and CAT_MOVEON not in category_ids:
            _forbid("9.6.2.2-1", "statements with completion or success need the moveOn category")
        score = result.get("score")
        if score is not None:
            if verb not in (PASSED, FAILED):
                _forbid("9.5.1.0-2", "only passed and failed statements carry a score")
            if not isinstance(score, dict):
                raise XapiError(400, "the score must be an object")
            if "raw" in score and ("min" not in score or "max" not in score):
                _forbid("9.5.1.0-3", "a raw score needs min and max")
        mastery = scope.au["mastery_score"]
        # A passed/failed "based on the masteryScore" is one that reports a score (9.6.3.2-2).
        if verb in (PASSED, FAILED) and mastery is not None and score is not None:
            if extensions.get(EXT_MASTERY) != mastery:
                _forbid("9.6.3.2-2", "passed and failed statements must carry the launch's masteryScore")
            scaled = score.get("scaled") if isinstance(score, dict) else None
            if isinstance(scaled, (int, float)) and verb == PASSED and scaled < mastery:
                _forbid("9.3.4.0-2", "a passed statement's score must reach the masteryScore")
            if isinstance(scaled, (int, float)) and verb == FAILED and scaled >= mastery:
                _forbid("9.3.5.0-2", "a failed statement's score must be below the masteryScore")
        if verb in (TERMINATED, COMPLETED, PASSED, FAILED) and "duration" not in result:
            rule = {TERMINATED: "9.5.4.1-1", COMPLETED: "9.5.4.1-2", PASSED: "9.5.4.1-3", FAILED: "9.5.4.1-4"}[verb]
            _forbid(rule, "this statement needs result.duration")
        if verb == INITIALIZED:
            if session.initialized or INITIALIZED in seen:
                _forbid("9.3.0.0-2", "the session is already initialized")
        elif verb == TERMINATED:
            if TERMINATED in seen:
                _forbid("9.3.0.0-2", "the session is already terminated")
        elif verb == COMPLETED:
            if session.completed or COMPLETED in seen:
                _forbid("9.3.0.0-2", "completed was already sent in this session")
            if scope.au_row.completed:
                _forbid("9.3.0.0-6", "completed was already recorded for this registration")
        elif verb == PASSED:
            if session.passed or PASSED in seen:
                _forbid("9.3.0.0-2", "passed was already sent in this session")
            if session.failed or FAILED in seen:
                _forbid("9.3.0.0-3", "failed was already sent in this session")
            if scope.au_row.passed:
                _forbid("9.3.0.0-7", "passed was already recorded for this registration")
        elif verb == FAILED:
            if session.failed or FAILED in seen:
                _forbid("9.3.0.0-2", "failed was already sent in this session")
            if session.passed or PASSED in seen or scope.au_row.passed:
                _forbid("9.3.0.0-8", "failed may not follow passed")
        else:
            _forbid("9.3.0.0-1", f"{verb} is not a verb an AU may send as cmi5 defined")
        seen.append(verb)
    return seen


def apply_au_statements(db: Session, scope: Scope, statements: list[dict], verbs: list[str], now: datetime,
                        ids: Ids) -> None:
    """After the AU's statements are stored: update the session and registration, evaluate moveOn."""
    session, row, au = scope.session, scope.au_row, scope.au
    for st in statements:
        verb = st["verb"]["id"]
        result = st.get("result") or {}
        if verb == INITIALIZED and verb in verbs:
            session.initialized = True
        elif verb == TERMINATED and verb in verbs:
            session.terminated = True
            row.seconds += seconds_of(result.get("duration"))
        elif verb == COMPLETED and verb in verbs:
            session.completed = row.completed = True
        elif verb == PASSED and verb in verbs:
            session.passed = row.passed = True
            scaled = (result.get("score") or {}).get("scaled")
            if isinstance(scaled, (int, float)):
                row.score_scaled = float(scaled)
        elif verb == FAILED and verb in verbs:
            session.failed = True
            scaled = (result.get("score") or {}).get("scaled")
            if isinstance(scaled, (int, float)) and row.score_scaled is None:
                row.score_scaled = float(scaled)
    move_on = au["move_on"]
    now_satisfied = not row.satisfied and (
        (move_on == "Completed" and row.completed) or (move_on == "Passed" and row.passed)
        or (move_on == "CompletedOrPassed" and (row.completed or row.passed))
        or (move_on == "CompletedAndPassed" and row.completed and row.passed))
    session.last_request_at = now
    db.add(session)
    if now_satisfied:
        row.satisfied = True
    db.add(row)
    db.flush()
    if now_satisfied:
        evaluate_move_on(db, scope.package, scope.registration, session.code, now, ids)


def abandon(db: Session, session: StdSession, now: datetime, ids: Ids) -> None:
    """End a session the AU never terminated, with an `abandoned` statement (cmi5 9.3.8)."""
    if session.terminated or session.abandoned:
        return
    registration = db.get(StdRegistration, session.registration_id)
    package = db.get(StdPackage, registration.package_id)
    au = structure_of(package)["aus"][session.au_index]
    session.abandoned = True
    db.add(session)
    lrs.store_statements(db, [{
        "id": str(uuid.uuid4()), "timestamp": lrs.iso(now), "actor": json.loads(registration.actor),
        "verb": {"id": ABANDONED, "display": {"en-US": "abandoned"}},
        "object": {"id": ids.au(session.au_index), "objectType": "Activity"},
        "result": {"duration": duration_of((session.last_request_at - session.created_at).total_seconds())},
        "context": {"registration": registration.code,
                    "contextActivities": {"category": [{"id": CAT_CMI5}], "grouping": [{"id": au["publisher_id"]}]},
                    "extensions": {EXT_SESSION: session.code}},
    }], lms_authority(ids.base), now)


def waive(db: Session, package: StdPackage, registration: StdRegistration, au_index: int, reason: str,
          now: datetime, ids: Ids) -> None:
    """Waive an AU for a registration: `waived`, then any satisfied blocks and course (cmi5 9.3.7)."""
    if reason not in WAIVE_REASONS:
        raise ValueError(f"the reason must be one of {', '.join(WAIVE_REASONS)}")
    au = structure_of(package)["aus"][au_index]
    row = _au_rows(db, registration)[au_index]
    if row.satisfied:
        raise ValueError("this AU is already satisfied for this registration")
    code = str(uuid.uuid4())
    lrs.store_statements(db, [{
        "id": str(uuid.uuid4()), "timestamp": lrs.iso(now), "actor": json.loads(registration.actor),
        "verb": {"id": WAIVED, "display": {"en-US": "waived"}},
        "object": {"id": ids.au(au_index), "objectType": "Activity"},
        "result": {"success": True, "completion": True, "extensions": {EXT_REASON: reason}},
        "context": {"registration": registration.code,
                    "contextActivities": {"category": [{"id": CAT_CMI5}, {"id": CAT_MOVEON}],
                                          "grouping": [{"id": au["publisher_id"]}]},
                    "extensions": {EXT_SESSION: code}},
    }], lms_authority(ids.base), now)
    row.satisfied, row.waived, row.waived_reason = True, True, reason
    db.add(row)
    db.flush()
    evaluate_move_on(db, package, registration, code, now, ids)


def check_learner_preferences(body: bytes, content_type: str) -> None:
    """The cmi5LearnerPreferences document's rules (cmi5 11)."""
    if not content_type.startswith("application/json"):
        _forbid("11.0.0.0-5", "learner preferences must be a JSON document")
    try:
        document = json.loads(body)
    except ValueError:
        _forbid("11.0.0.0-5", "learner preferences must be a JSON object")
    if not isinstance(document, dict) or "languagePreference" not in document or "audioPreference" not in document:
        _forbid("11.0.0.0-5", "learner preferences need languagePreference and audioPreference")
    if not isinstance(document["languagePreference"], str) \
            or not LANGUAGE_PREFERENCE.match(document["languagePreference"]):
        _forbid("11.1.0.0-1", "languagePreference must be a comma-separated list of language tags")
    if document["audioPreference"] not in ("on", "off"):
        _forbid("11.2.0.0-1", "audioPreference must be on or off")
