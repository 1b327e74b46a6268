"""What an operator sees: one-line logs (JSON on demand, never an email address), a request
log line per request, Prometheus metrics at /metrics, and errors in Sentry when SENTRY_DSN is set.

docs/operations.md says how to read each.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
import uuid

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger("portal.request")

EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


# -- logs ------------------------------------------------------------------------------------------

def redact(text: str) -> str:
    return EMAIL.sub("[email]", text)


class RedactingFilter(logging.Filter):
    """No learner's address in any log line, whatever logged it (a SQL error, a library)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), ()
        return True


class OneLineFormatter(logging.Formatter):
    """Each record on one line: a traceback becomes its last frame and the error."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return " | ".join(part.strip() for part in text.splitlines() if part.strip()) if "\n" in text else text

    def formatException(self, exc_info) -> str:
        import traceback

        kind, error, tb = exc_info
        frames = traceback.extract_tb(tb)
        where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
        return redact(f"{kind.__name__}: {' '.join(str(error).split())[:500]}{where}")


def configure_logging(config) -> None:
    """One handler on the root logger, set up once per process."""
    root = logging.getLogger()
    if any(getattr(h, "_portal", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._portal = True
    if config.get("LOG_FORMAT") == "json":
        from pythonjsonlogger.json import JsonFormatter

        class OneLineJson(JsonFormatter):
            formatException = OneLineFormatter.formatException

        handler.setFormatter(OneLineJson("%(asctime)s %(levelname)s %(name)s %(message)s",
                                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    # A handler someone else configured (pytest's, gunicorn's) keeps its place; ours is added.
    root.addHandler(handler)
    root.setLevel(getattr(logging, config.get("LOG_LEVEL", "info").upper()))


def _start_request() -> None:
    g.request_started = time.perf_counter()
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _finish_request(response: Response) -> Response:
    started = getattr(g, "request_started", None)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    route = request.url_rule.rule if request.url_rule is not None else "(no route)"
    user = getattr(g, "_login_user", None)  # only if the view loaded it: logging adds no query
    user_id = getattr(user, "id", None) if getattr(user, "is_authenticated", False) else None
    response.headers["X-Request-ID"] = g.request_id
    REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    LATENCY.labels(request.method, route).observe(seconds)
    if response.status_code == 429:
        REFUSALS.labels(route).inc()
    # The route's pattern, never the path: paths carry tokens (reset links) and search words.
    log.info("request id=%s ip=%s method=%s route=%s status=%s ms=%.1f user=%s", g.request_id,
             request.remote_addr, request.method, route, response.status_code, seconds * 1000, user_id or "-",
             extra={"request_id": g.request_id, "client": request.remote_addr, "method": request.method,
                    "route": route, "status": response.status_code, "ms": round(seconds * 1000, 1),
                    "user_id": user_id})
    return response


# -- metrics ---------------------------------------------------------------------------------------

# Request metrics live in the process-wide default registry (one per worker process; see
# docs/operations.md for several workers). Mail figures are read from the database per scrape,
# so they are the same whichever host answers.
REQUESTS = Counter("portal_http_requests_total", "Requests answered", ["method", "route", "status"])
LATENCY = Histogram("portal_http_request_duration_seconds", "Time to answer a request", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
REFUSALS = Counter("portal_rate_limit_refusals_total", "Requests refused by a rate limit (429)", ["route"])


class MailCollector:
    """Outbox depth and age, refusals and the sender's heartbeat, from the shared database."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        from sqlalchemy import func
        from sqlmodel import select

        from portal.mail.models import MailSenderHeartbeat, OutboxMessage

        s = self.app.extensions["portal"]
        now = s.clock.now()
        with s.database.session() as db:
            waiting = OutboxMessage.sent_at.is_(None) & OutboxMessage.failed_at.is_(None)
            depth, oldest = db.exec(select(func.count(), func.min(OutboxMessage.created_at)).where(waiting)).one()
            retrying = db.exec(select(func.count()).where(waiting, OutboxMessage.attempts > 0)).one()
            refused = db.exec(select(func.count()).where(OutboxMessage.failed_at.is_not(None))).one()
            beat, failures = db.exec(select(func.max(MailSenderHeartbeat.beat_at),
                                            func.coalesce(func.sum(MailSenderHeartbeat.failed_total), 0))).one()
        if oldest is not None and oldest.tzinfo is None:
            from datetime import UTC

            oldest = oldest.replace(tzinfo=UTC)
        if beat is not None and beat.tzinfo is None:
            from datetime import UTC

            beat = beat.replace(tzinfo=UTC)
        yield GaugeMetricFamily("portal_mail_outbox_waiting", "Messages waiting to be sent", value=depth)
        yield GaugeMetricFamily("portal_mail_outbox_retrying", "Waiting messages that failed at least once",
                                value=retrying)
        yield GaugeMetricFamily("portal_mail_outbox_oldest_age_seconds", "Age of the oldest waiting message",
                                value=(now - oldest).total_seconds() if oldest else 0)
        yield GaugeMetricFamily("portal_mail_refused", "Messages the mail server refused for good", value=refused)
        yield GaugeMetricFamily("portal_mail_failures", "Failed delivery attempts counted by running senders",
                                value=failures)
        yield GaugeMetricFamily("portal_mail_sender_heartbeat_age_seconds", "Seconds since a mail sender's last pass",
                                value=(now - beat).total_seconds() if beat else float("nan"))


def _metrics_allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        import hmac

        given = request.headers.get("Authorization", "")
        if hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.config["METRICS_ALLOW"])


def metrics_view():
    if not _metrics_allowed():
        abort(403)
    from prometheus_client import REGISTRY

    registry = CollectorRegistry(auto_describe=True)
    registry.register(MailCollector(current_app))
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


# -- Sentry ----------------------------------------------------------------------------------------

def _scrub_event(event, _hint):
    """Nothing personal leaves: no email addresses, no cookies, no form bodies."""
    import json

    request_data = event.get("request") or {}
    for key in ("cookies", "data"):
        request_data.pop(key, None)
    (request_data.get("headers") or {}).pop("Cookie", None)
    return json.loads(redact(json.dumps(event, default=str)))


def init_sentry(config) -> bool:
    if not config.get("SENTRY_DSN"):
        return False
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    sentry_sdk.init(dsn=config["SENTRY_DSN"], environment=config.get("SENTRY_ENVIRONMENT") or None,
                    integrations=[FlaskIntegration()],
                    traces_sample_rate=config.get("SENTRY_TRACES_SAMPLE_RATE", 0.0), before_send=_scrub_event)
    return True


def init_app(app: Flask) -> None:
    init_sentry(app.config)
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.add_url_rule("/metrics", "ops_metrics", metrics_view, methods=["GET"])
