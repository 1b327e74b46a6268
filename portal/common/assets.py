"""Static files under versioned names (`portal.1a2b3c4d5e.css`), cached for a year."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from functools import lru_cache
from pathlib import Path

import brotli
from flask import Blueprint, Response, abort, request

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
    encoding = _best_encoding(request.headers.get("Accept-Encoding", ""))
    response = Response(_encoded(filename, encoding), mimetype=_mimetype(filename))
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.set_etag(_digest(filename) + "-" + encoding)
    return response.make_conditional(request)


def _best_encoding(accept: str) -> str:
    offered = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return "br" if "br" in offered else "gzip" if "gzip" in offered else "identity"


def _mimetype(filename: str) -> str:
    return "text/javascript" if filename.endswith(".js") else mimetypes.guess_type(filename)[0] or "application/octet-stream"


@lru_cache(maxsize=None)
def _encoded(filename: str, encoding: str) -> bytes:
    """Static files compressed once per process, at the highest level: they never change."""
    data = (STATIC_DIR / filename).read_bytes()
    if encoding == "br":
        return brotli.compress(data, quality=11)
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    return data


def init_app(app) -> None:
    _digest.cache_clear()
    _encoded.cache_clear()
    app.register_blueprint(bp)
    app.jinja_env.globals["asset"] = asset_url
