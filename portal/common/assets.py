"""Static files under versioned names (`portal.1a2b3c4d5e.css`), cached for a year."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

STATIC_DIR = Path(__file__).with_name("static")
ONE_YEAR = 365 * 24 * 3600

bp = Blueprint("assets", __name__)


@lru_cache(maxsize=None)
def _digest(filename: str) -> str:
    return hashlib.sha256((STATIC_DIR / filename).read_bytes()).hexdigest()[:10]


def asset_url(filename: str) -> str:
    """The versioned URL of a static file; templates call it as `asset('portal.css')`."""
    stem, dot, ext = filename.rpartition(".")
    return f"/assets/{stem}.{_digest(filename)}.{ext}"


@bp.get("/assets/<path:versioned>")
def serve(versioned: str):
    stem, _, ext = versioned.rpartition(".")
    name, _, digest = stem.rpartition(".")
    filename = f"{name}.{ext}"
    path = (STATIC_DIR / filename).resolve()
    if not name or not path.is_file() or STATIC_DIR.resolve() not in path.parents:
        abort(404)
    if digest != _digest(filename):
        abort(404)  # an old version: never cache other content under its name
    response = send_from_directory(STATIC_DIR, filename, max_age=ONE_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


def init_app(app) -> None:
    if not app.debug:
        _digest.cache_clear()
    app.register_blueprint(bp)
    app.jinja_env.globals["asset"] = asset_url
