"""Two releases behind one proxy during a rolling deploy: a page from either release finds its
content-hashed CSS and JS on every host, and a pack file has the same ETag on every host (its
content decides, not the install's mtimes), so a download resumed elsewhere continues."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from portal.common import assets

NAME = re.compile(r'/assets/(portal\.[0-9a-f]{10}\.css)')


def css_link(client) -> str:
    return NAME.search(client.get("/").get_data(as_text=True)).group(1)


def test_each_release_serves_the_others_assets(make_app, tmp_path, monkeypatch):
    old_app = make_app()
    old_client = old_app.test_client()
    old_name = css_link(old_client)
    old_css = old_client.get(f"/assets/{old_name}").get_data()

    # The next release: the same app with a changed stylesheet.
    new_static = tmp_path / "static"
    shutil.copytree(assets.STATIC_DIR, new_static)
    (new_static / "portal.css").write_text((new_static / "portal.css").read_text() + "\n.next-release { }\n")
    monkeypatch.setattr(assets, "STATIC_DIR", new_static)
    new_app = make_app()
    new_client = new_app.test_client()
    new_name = css_link(new_client)
    assert new_name != old_name

    response = new_client.get(f"/assets/{old_name}")  # an old page's stylesheet, asked of a new host
    assert response.status_code == 200 and response.get_data() == old_css
    assert "immutable" in response.headers["Cache-Control"]
    assert old_client.get(f"/assets/{new_name}").status_code == 200  # and the other way round
    assert new_client.get("/assets/portal.0123456789.css").status_code == 404  # never made up


def test_a_pack_file_has_the_same_etag_whatever_its_mtime(client, app):
    pack = next(p for p in app.extensions["packs"].all() if p.public_files())
    filename = sorted(pack.public_files())[0]
    path = pack.root / filename
    url = f"/packs/{pack.id}/{pack.version}/files/{filename}"
    first = client.get(url)
    assert first.status_code == 200
    stat = path.stat()
    try:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns - 86_400 * 10**9))  # another host's install
        second = client.get(url)
    finally:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert first.headers["ETag"] == second.headers["ETag"]
    resumed = client.get(url, headers={"Range": "bytes=1-", "If-Range": first.headers["ETag"]})
    assert resumed.status_code == 206
