"""Serving a pack's public files: media, captions, transcripts, posters and downloads.

Only files the manifest names as media or downloads are served; lesson sources
and question banks (with their answer keys) never leave the server.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, redirect, request, send_from_directory

from portal.common.assets import file_etag
from portal.packs.active_content import served_inline
from portal.packs.loader import content_type_of
from portal.packs.registry import files_base

bp = Blueprint("packs", __name__)
ONE_YEAR = 365 * 24 * 3600
# A file that is not plainly passive is a download that can run nothing, even if opened.
SANDBOX_POLICY = "default-src 'none'; sandbox; frame-ancestors 'none'"


def registry():
    return current_app.extensions["packs"]


@bp.get("/packs/<pack_id>/<version>/files/<path:filename>")
def pack_file(pack_id: str, version: str, filename: str):
    pack = registry().get(pack_id)
    if pack is None or filename not in pack.public_files():
        abort(404)
    if version != pack.version:  # an old link after a pack update: send it to the current file
        query = request.query_string.decode("latin-1")
        return redirect(files_base(pack) + filename + (f"?{query}" if query else ""), code=302)
    content_type = content_type_of(filename)
    inline = served_inline(content_type)
    as_download = request.args.get("download") == "1" or not inline
    response = send_from_directory(pack.root, filename, mimetype=content_type, conditional=True,
                                   as_attachment=as_download, max_age=ONE_YEAR,
                                   etag=file_etag(Path(pack.root) / filename))  # the same on every host
    if not inline:
        response.headers["Content-Security-Policy"] = SANDBOX_POLICY
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response
