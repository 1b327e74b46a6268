"""Static files under versioned names (`portal.1a2b3c4d5e.css`), cached for a year."""

from __future__ import annotations

import gzip
import hashlib
import logging
import mimetypes
from datetime import datetime
from functools import lru_cache
from pathlib import Path

import brotli
from flask import Blueprint, Response, abort, request
from sqlalchemy import LargeBinary
from sqlmodel import Field, SQLModel

from portal.common.db import UTCDateTime

STATIC_DIR = Path(__file__).with_name("static")
ONE_YEAR = 365 * 24 * 3600
_published: dict[str, bytes] = {}  # other releases' assets this process has already read
log = logging.getLogger(__name__)

bp = Blueprint("assets", __name__)


class ReleaseAsset(SQLModel, table=True):
    """A static file under its hashed name, as some release of the portal served it."""

    __tablename__ = "release_asset"

    name: str = Field(primary_key=True, max_length=200)  # e.g. portal.1a2b3c4d5e.css
    sha256: str = Field(max_length=64)
    data: bytes = Field(sa_type=LargeBinary)
    published_at: datetime = Field(sa_type=UTCDateTime)


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
        return _other_release(versioned, filename, digest)
    encoding = _best_encoding(request.headers.get("Accept-Encoding", ""))
    response = Response(_encoded(filename, encoding), mimetype=_mimetype(filename))
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.set_etag(_digest(filename) + "-" + encoding)
    return response.make_conditional(request)


def _other_release(versioned: str, filename: str, digest: str):
    """During a rolling deploy a page from one release asks another release's host for its
    assets: every host publishes its assets to the shared database at start-up, so any
    content-hashed name any release has served is found here (and never other content)."""
    from portal.common.web import services

    found = _published.get(versioned)
    if found is None:
        with services().database.session() as db:
            stored = db.get(ReleaseAsset, versioned)
        if stored is None or stored.sha256[:10] != digest:
            abort(404)
        found = _published[versioned] = stored.data
    response = Response(found, mimetype=_mimetype(filename))
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    response.set_etag(digest)
    return response.make_conditional(request)


def publish(app) -> None:
    """Store this release's assets under their hashed names (once per name, shared by all hosts)."""
    from sqlalchemy.exc import SQLAlchemyError

    s = app.extensions["portal"]
    try:
        with s.database.session() as db:
            for path in sorted(p for p in STATIC_DIR.iterdir() if p.is_file()):
                name = asset_url(path.name).removeprefix("/assets/")
                if db.get(ReleaseAsset, name) is None:
                    data = path.read_bytes()
                    db.add(ReleaseAsset(name=name, sha256=hashlib.sha256(data).hexdigest(), data=data,
                                        published_at=s.clock.now()))
            db.commit()
    except SQLAlchemyError as error:  # not migrated yet, or another host published the same at once
        log.info("assets not published to the database (%s); this host serves its own", type(error).__name__)


def file_etag(path: Path) -> str:
    """An ETag from a file's content, the same on every host (mtimes differ between installs),
    so a download resumed on another host continues instead of starting again."""
    stat = path.stat()
    return _content_digest(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4096)
def _content_digest(path: str, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:32]


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
    _published.clear()
    app.register_blueprint(bp)
    publish(app)
    app.jinja_env.globals["asset"] = asset_url
