"""Error pages in the portal's look, for every status we send; never a stack trace."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from portal.common.db import is_lock_timeout, is_unavailable
from portal.common.web import render

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Check what you entered and try again."),
    403: ("Not allowed", "You do not have permission to see this page."),
    404: ("Page not found", "We could not find that page. Check the address, or start again from the home page."),
    405: ("Method not allowed", "That action cannot be done this way."),
    413: ("Too large", "What you sent is larger than the portal accepts."),
    429: ("Too many attempts", "You have tried this too many times. Wait a few minutes and try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. It has been logged; please try again."),
    503: ("Busy", "The portal is busy right now. Nothing you sent was lost; please try again in a moment."),
}


def error_page(status: int, detail: str | None = None):
    title, message = MESSAGES.get(status, ("Error", "The request could not be completed."))
    response = render("errors/error.html", status=status, title=title,
                      message=detail or message, code=status)
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


def _page_without_database(status: int):
    """The error page when the database is out of reach: drop the request's session (its
    connection is dead) and show the page as to a visitor, since the signed-in user's menu
    would need the database."""
    from portal.common.web import close_db

    close_db()
    g._login_user = current_app.login_manager.anonymous_user()
    return error_page(status)


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return error_page(400, "Your form expired or came from another page. Go back, reload the page and try again.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        response = error_page(error.code)
        if error.code == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(DBAPIError)
    def _database(error: DBAPIError):
        if is_lock_timeout(error):
            log.warning("database busy on %s %s", request.method, request.path)
            return error_page(503)
        if is_unavailable(error):
            log.warning("database unavailable on %s %s: %s", request.method, request.path, error.orig)
            return _page_without_database(503)
        log.exception("database error")
        return error_page(500)

    @app.errorhandler(PoolTimeout)
    def _pool(error: PoolTimeout):
        log.warning("no database connection free on %s %s", request.method, request.path)
        return error_page(503)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_page(500)
