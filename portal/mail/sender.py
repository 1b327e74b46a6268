"""The mail sender process: `portal mail send [--watch]`, also run by `portal serve`.

It survives outages: a database that is away or locked, or a mail server that is down, only
makes it wait (with back-off) and try again; it never exits on its own. Every pass writes a
heartbeat, so /readyz and the admin page can tell a dead or stuck sender from a quiet one.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from datetime import datetime

from flask import Flask

from portal.mail.services import OutboxSender, SendReport, pending_count, record_heartbeat
from portal.mail.transports import transport_from_config

log = logging.getLogger("portal.mail.sender")

# Seconds to wait after the 1st, 2nd, ... pass in a row that could not reach the database or
# met a sender-wide problem; the last value repeats.
OUTAGE_BACKOFF = (1, 2, 4, 8, 15, 30, 60)


def sender_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _sender(app: Flask) -> OutboxSender:
    s = app.extensions["portal"]
    return OutboxSender(s.database.session, transport_from_config(app.config), app.config["MAIL_FROM"], s.clock.now)


def _beat(app: Flask, started_at: datetime, report: SendReport | None, problem: str | None) -> None:
    s = app.extensions["portal"]
    with s.database.session() as db:
        record_heartbeat(db, sender_name(), started_at, s.clock.now(), report, problem)


def one_pass(app: Flask) -> tuple[SendReport, int]:
    """For cron: deliver what is due once; returns the report and how many still wait."""
    s = app.extensions["portal"]
    started_at = s.clock.now()
    report = _sender(app).run_pass()
    _beat(app, started_at, report, report.problem)
    with s.database.session() as db:
        return report, pending_count(db)


def watch_outbox(app: Flask, interval: float) -> None:
    """Run until SIGTERM or SIGINT, finishing the message in hand."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    s = app.extensions["portal"]
    sender = _sender(app)
    started_at = s.clock.now()
    troubles = 0
    log.info("mail sender %s started (every %gs)", sender_name(), interval)
    while not stop.is_set():
        try:
            report = sender.run_pass()
            _beat(app, started_at, report, report.problem)
        except Exception as error:  # the database is away or locked: wait and try again
            troubles += 1
            wait = OUTAGE_BACKOFF[min(troubles, len(OUTAGE_BACKOFF)) - 1]
            reason = " ".join(str(getattr(error, "orig", None) or error).split())[:300]
            log.warning("mail sender: %s: %s; trying again in %ss", type(error).__name__, reason, wait)
            stop.wait(wait)
            continue
        if report.sent or report.failed or report.refused:
            log.info("mail: sent %s, failed %s, refused %s", report.sent, report.failed, report.refused)
        if report.problem:
            troubles += 1
            stop.wait(max(interval, OUTAGE_BACKOFF[min(troubles, len(OUTAGE_BACKOFF)) - 1]))
            continue
        troubles = 0
        stop.wait(interval)
    log.info("mail sender %s stopped", sender_name())
