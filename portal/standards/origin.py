"""Keep the two origins apart: the content blueprint answers only on CONTENT_BASE_URL's host,
and nothing else answers there, so imported script can never reach a portal page."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, request

log = logging.getLogger(__name__)
CONTENT_BLUEPRINT = "std_content"


def init_app(app: Flask) -> None:
    from portal.common.security import csrf
    from portal.standards.content_views import bp
    from portal.standards.views import bp as provider_bp
    from portal.standards.views import learn_bp

    app.register_blueprint(provider_bp)
    app.register_blueprint(learn_bp)

    def _package_upload_limit():
        # Packages are larger than any form: raise the body limit for this one page, before
        # the NUL check and CSRF protection (which run first) read the form.
        if request.endpoint == "standards.upload":
            request.max_content_length = (app.config["STD_MAX_PACKAGE_MB"] + 1) * 1024 * 1024
    app.before_request_funcs.setdefault(None, []).insert(0, _package_upload_limit)

    content_host = urlsplit(app.config["CONTENT_BASE_URL"]).netloc.lower()
    portal_host = urlsplit(app.config["PORTAL_BASE_URL"]).netloc.lower()
    if content_host == portal_host:
        log.warning("CONTENT_BASE_URL has the portal's own host: packages cannot be served until it differs")
    # Launch credentials, not cookies, authorize these requests: a CSRF token has no meaning here.
    csrf.exempt(bp)
    app.register_blueprint(bp)

    @app.before_request
    def _one_origin_each():
        from portal.common.errors import error_page

        if on_content_origin() != (request.blueprint == CONTENT_BLUEPRINT):
            return error_page(404)
        return None


def on_content_origin() -> bool:
    """Whether this request came to CONTENT_BASE_URL's host (never when it is the portal's own)."""
    from flask import current_app

    content_host = urlsplit(current_app.config["CONTENT_BASE_URL"]).netloc.lower()
    portal_host = urlsplit(current_app.config["PORTAL_BASE_URL"]).netloc.lower()
    return request.host.lower() == content_host and content_host != portal_host


def local_content_binds(config: dict) -> list[str]:
    """gunicorn `--bind` arguments that also serve a local CONTENT_BASE_URL (`make run`): the
    content origin is then a second port of the same app. A content host elsewhere (production)
    is routed to the app by the operator's proxy, so nothing is added."""
    parts = urlsplit(config["CONTENT_BASE_URL"])
    if parts.hostname not in ("localhost", "127.0.0.1") or parts.port in (None, config["PORT"]):
        return []
    return ["--bind", f"{config['HOST']}:{parts.port}"]
