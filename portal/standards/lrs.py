"""The xAPI 1.0.3 resources cmi5 needs, stored in the portal's database: statements (with
voiding, the query parameters and `more` paging), and the state, agent profile and
activity profile documents. No Flask here: views parse the request and call these."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, select

from portal.standards.models import XapiDocument, XapiStatement

VERSION = "1.0.3"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.I)
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}(:?\d{2})?)$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
PAGE_SIZE = 500


class XapiError(Exception):
    """A request the LRS refuses: `status` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str):
        self.status, self.message = status, message
        super().__init__(message)


def is_uuid(value) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def agent_key(agent) -> str:
    """The inverse functional identifier of an Agent, as one comparable string."""
    if not isinstance(agent, dict):
        raise XapiError(400, "an agent must be a JSON object")
    found = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in agent]
    if len(found) != 1:
        raise XapiError(400, "an agent needs exactly one of mbox, mbox_sha1sum, openid or account")
    kind = found[0]
    if kind == "account":
        account = agent["account"]
        if not isinstance(account, dict) or not isinstance(account.get("homePage"), str) \
                or not isinstance(account.get("name"), str):
            raise XapiError(400, "an account needs homePage and name")
        return f"account:{account['homePage']}|{account['name']}"[:500]
    value = agent[kind]
    if not isinstance(value, str) or (kind == "mbox" and not value.startswith("mailto:")):
        raise XapiError(400, f"agent {kind} is not valid")
    return f"{kind}:{value}"[:500]


def parse_agent_param(text: str | None) -> dict:
    if not text:
        raise XapiError(400, "the agent parameter is required")
    try:
        agent = json.loads(text)
    except ValueError:
        raise XapiError(400, "the agent parameter is not JSON") from None
    agent_key(agent)
    return agent


def parse_timestamp(value: str) -> datetime:
    if not isinstance(value, str) or not _ISO.match(value):
        raise XapiError(400, f"{value!r} is not an ISO 8601 timestamp with a time zone")
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{2}$", text):
        text += ":00"
    elif re.search(r"[+-]\d{4}$", text):
        text = text[:-2] + ":" + text[-2:]
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise XapiError(400, f"{value!r} is not a valid timestamp") from None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def check_statement(statement) -> None:
    """The structural rules of xAPI 1.0.3 section 2 that every statement must meet."""
    if not isinstance(statement, dict):
        raise XapiError(400, "a statement must be a JSON object")
    for key in ("actor", "verb", "object"):
        if key not in statement:
            raise XapiError(400, f"the statement has no {key}")
    if "id" in statement and not is_uuid(statement["id"]):
        raise XapiError(400, "the statement id is not a UUID")
    actor = statement["actor"]
    if not isinstance(actor, dict):
        raise XapiError(400, "the actor must be an object")
    if actor.get("objectType", "Agent") not in ("Agent", "Group"):
        raise XapiError(400, "the actor objectType must be Agent or Group")
    if actor.get("objectType") != "Group" or any(k in actor for k in ("mbox", "mbox_sha1sum", "openid", "account")):
        agent_key(actor)
    verb = statement["verb"]
    if not isinstance(verb, dict) or not isinstance(verb.get("id"), str) or not _IRI.match(verb["id"]):
        raise XapiError(400, "the verb needs an IRI id")
    target = statement["object"]
    if not isinstance(target, dict):
        raise XapiError(400, "the object must be a JSON object")
    kind = target.get("objectType", "Activity")
    if kind == "Activity" and (not isinstance(target.get("id"), str) or not _IRI.match(target["id"])):
        raise XapiError(400, "the activity needs an IRI id")
    if kind == "StatementRef" and not is_uuid(target.get("id")):
        raise XapiError(400, "a StatementRef needs a UUID id")
    if kind not in ("Activity", "Agent", "Group", "StatementRef", "SubStatement"):
        raise XapiError(400, f"unknown object type {kind!r}")
    context = statement.get("context")
    if context is not None:
        if not isinstance(context, dict):
            raise XapiError(400, "the context must be an object")
        if "registration" in context and not is_uuid(context["registration"]):
            raise XapiError(400, "the context registration is not a UUID")
    result = statement.get("result")
    if result is not None:
        if not isinstance(result, dict):
            raise XapiError(400, "the result must be an object")
        score = result.get("score")
        if score is not None:
            if not isinstance(score, dict):
                raise XapiError(400, "the score must be an object")
            scaled = score.get("scaled")
            if scaled is not None and (isinstance(scaled, bool) or not isinstance(scaled, (int, float))
                                       or not -1 <= scaled <= 1):
                raise XapiError(400, "score.scaled must be a number from -1 to 1")
        for key in ("success", "completion"):
            if key in result and not isinstance(result[key], bool):
                raise XapiError(400, f"result.{key} must be true or false")
    if "timestamp" in statement:
        parse_timestamp(statement["timestamp"])


def store_statements(db: Session, statements: list[dict], authority: dict, now: datetime,
                     allow_voiding: bool = True) -> list[str]:
    """Store statements in order, in the caller's transaction; return their ids."""
    ids = []
    for statement in statements:
        check_statement(statement)
        statement = dict(statement)
        statement.setdefault("id", str(uuid.uuid4()))
        statement["id"] = statement["id"].lower()
        existing = db.exec(select(XapiStatement).where(XapiStatement.statement_id == statement["id"])).first()
        if existing is not None:
            stored = json.loads(existing.body)
            if any(stored.get(k) != statement.get(k) for k in ("actor", "verb", "object", "result", "context")):
                raise XapiError(409, f"statement {statement['id']} already exists with different content")
            ids.append(statement["id"])
            continue
        if statement["verb"]["id"] == VOIDED:
            if not allow_voiding:
                raise XapiError(403, "voiding statements are not allowed with these credentials")
            _void(db, statement)
        statement["stored"] = iso(now)
        statement.setdefault("timestamp", statement["stored"])
        statement["authority"] = authority
        statement["version"] = VERSION
        target = statement["object"]
        db.add(XapiStatement(
            statement_id=statement["id"],
            registration=(statement.get("context") or {}).get("registration", "") or "",
            verb_id=statement["verb"]["id"][:2000],
            activity_id=(target.get("id", "") if target.get("objectType", "Activity") == "Activity" else "")[:2000],
            agent_key=agent_key(statement["actor"]) if statement["actor"].get("objectType") != "Group" else "group",
            stored=now, body=json.dumps(statement, separators=(",", ":"))))
        db.flush()
        ids.append(statement["id"])
    return ids


def _void(db: Session, statement: dict) -> None:
    target = statement["object"]
    if target.get("objectType") != "StatementRef":
        raise XapiError(400, "a voiding statement's object must be a StatementRef")
    row = db.exec(select(XapiStatement).where(XapiStatement.statement_id == target["id"].lower())).first()
    if row is not None:
        if row.verb_id == VOIDED:
            raise XapiError(400, "a voiding statement cannot be voided")
        row.voided = True
        db.add(row)


@dataclass(frozen=True)
class StatementQuery:
    statement_id: str | None = None
    voided_statement_id: str | None = None
    registration: str | None = None
    verb: str | None = None
    activity: str | None = None
    agent: str | None = None  # agent key
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 0
    ascending: bool = False
    after_seq: int | None = None  # for `more` pages


def get_statement(db: Session, statement_id: str, voided: bool) -> dict | None:
    row = db.exec(select(XapiStatement).where(XapiStatement.statement_id == statement_id.lower())).first()
    if row is None or row.voided != voided:
        return None
    return json.loads(row.body)


def query_statements(db: Session, query: StatementQuery) -> tuple[list[dict], int | None]:
    """Statements matching the query, and the `seq` to continue from when there are more."""
    limit = min(query.limit or PAGE_SIZE, PAGE_SIZE)
    stmt = select(XapiStatement).where(XapiStatement.voided == False)  # noqa: E712
    if query.registration:
        stmt = stmt.where(XapiStatement.registration == query.registration)
    if query.verb:
        stmt = stmt.where(XapiStatement.verb_id == query.verb)
    if query.activity:
        stmt = stmt.where(XapiStatement.activity_id == query.activity)
    if query.agent:
        stmt = stmt.where(XapiStatement.agent_key == query.agent)
    if query.since:
        stmt = stmt.where(XapiStatement.stored > query.since)
    if query.until:
        stmt = stmt.where(XapiStatement.stored <= query.until)
    if query.after_seq is not None:
        stmt = stmt.where(XapiStatement.seq > query.after_seq if query.ascending else XapiStatement.seq < query.after_seq)
    stmt = stmt.order_by(XapiStatement.seq if query.ascending else XapiStatement.seq.desc()).limit(limit + 1)
    rows = list(db.exec(stmt).all())
    more = rows[limit - 1].seq if len(rows) > limit else None
    return [json.loads(r.body) for r in rows[:limit]], more


# -- documents ----------------------------------------------------------------

@dataclass(frozen=True)
class DocumentKey:
    kind: str  # state | agent_profile | activity_profile
    activity_id: str = ""
    agent_key: str = ""
    registration: str = ""
    doc_id: str = ""


def etag_of(body: bytes) -> str:
    return hashlib.sha1(body).hexdigest()


def _where(stmt, key: DocumentKey, with_id: bool = True):
    stmt = stmt.where(XapiDocument.kind == key.kind, XapiDocument.activity_id == key.activity_id,
                      XapiDocument.agent_key == key.agent_key, XapiDocument.registration == key.registration)
    return stmt.where(XapiDocument.doc_id == key.doc_id) if with_id else stmt


def get_document(db: Session, key: DocumentKey) -> XapiDocument | None:
    return db.exec(_where(select(XapiDocument), key)).first()


def document_ids(db: Session, key: DocumentKey, since: datetime | None) -> list[str]:
    stmt = _where(select(XapiDocument.doc_id), key, with_id=False)
    if since:
        stmt = stmt.where(XapiDocument.updated > since)
    return sorted(db.exec(stmt).all())


def check_preconditions(existing: XapiDocument | None, if_match: str | None, if_none_match: str | None) -> None:
    if if_match is not None:
        tags = {t.strip().strip('"') for t in if_match.split(",")}
        if existing is None or ("*" not in tags and existing.etag not in tags):
            raise XapiError(412, "the document has changed (If-Match)")
    if if_none_match is not None and existing is not None:
        tags = {t.strip().strip('"') for t in if_none_match.split(",")}
        if "*" in tags or existing.etag in tags:
            raise XapiError(412, "the document already exists (If-None-Match)")


def put_document(db: Session, key: DocumentKey, body: bytes, content_type: str, now: datetime,
                 merge: bool = False) -> XapiDocument:
    """PUT replaces; POST (`merge`) merges JSON objects as xAPI 1.0.3 describes."""
    existing = get_document(db, key)
    if merge and existing is not None:
        if not (existing.content_type.startswith("application/json") and content_type.startswith("application/json")):
            raise XapiError(400, "only JSON documents can be merged with POST")
        try:
            old, new = json.loads(existing.body), json.loads(body)
        except ValueError:
            raise XapiError(400, "the document is not valid JSON") from None
        if not isinstance(old, dict) or not isinstance(new, dict):
            raise XapiError(400, "only JSON objects can be merged with POST")
        old.update(new)
        body = json.dumps(old).encode()
    elif merge and content_type.startswith("application/json"):
        try:
            if not isinstance(json.loads(body), dict):
                raise XapiError(400, "only JSON objects can be posted")
        except ValueError:
            raise XapiError(400, "the document is not valid JSON") from None
    row = existing or XapiDocument(kind=key.kind, activity_id=key.activity_id, agent_key=key.agent_key,
                                   registration=key.registration, doc_id=key.doc_id, content_type="", etag="",
                                   body=b"", updated=now)
    row.body, row.content_type, row.etag, row.updated = body, content_type[:200], etag_of(body), now
    db.add(row)
    db.flush()
    return row


def delete_documents(db: Session, key: DocumentKey, all_ids: bool = False) -> None:
    for row in db.exec(_where(select(XapiDocument), key, with_id=not all_ids)).all():
        db.delete(row)
