"""SCORM 1.2 packages: imsmanifest.xml import with its refusals, and the runtime endpoints the
API adapter talks to, checked again on the server (tests/browser/test_std_scorm.py drives the
adapter itself in Chromium)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from portal.standards.importer import PackageRefused, Upload, read_package
from portal.standards.models import StdRegistrationAu
from tests.helpers import log_in, submit
from tests.standards.test_import import LIMITS, make_zip
from tests.standards.test_runtime import staff, upload


def manifest(items='<item identifier="i1" identifierref="r1"><title>One</title></item>',
             resources='<resource identifier="r1" type="webcontent" adlcp:scormtype="sco" href="sco/index.html"/>',
             version="1.2", head="") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>{head}
<manifest identifier="m" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>{version}</schemaversion></metadata>
  <organizations default="o"><organization identifier="o"><title>Report writing</title>{items}</organization>
  </organizations>
  <resources>{resources}</resources>
</manifest>""".encode()


def package(**kwargs) -> Upload:
    return Upload(make_zip({"imsmanifest.xml": manifest(**kwargs), "sco/index.html": b"<title>x</title>"}),
                  "application/zip", "scorm.zip")


def test_a_scorm_12_package_reads_its_scos_in_order():
    items = ('<item identifier="i1" identifierref="r1" parameters="?part=1"><title>One</title>'
             '<adlcp:masteryscore>75</adlcp:masteryscore></item>'
             '<item identifier="folder"><title>Folder</title>'
             '<item identifier="i2" identifierref="r1"><title>Two</title></item></item>')
    standard, structure, files = read_package(package(items=items), LIMITS)
    assert standard == "scorm12" and structure["title"] == "Report writing"
    assert [(s["title"], s["url"], s["mastery_score"]) for s in structure["aus"]] == [
        ("One", "sco/index.html?part=1", 75.0), ("Two", "sco/index.html", None)]


REFUSED = [
    ("SCORM 2004", dict(version="2004 3rd Edition"), "only SCORM 1.2"),
    ("missing resource", dict(items='<item identifier="i1" identifierref="nope"><title>x</title></item>'),
     "does not exist"),
    ("missing launch file", dict(resources='<resource identifier="r1" adlcp:scormtype="sco" href="gone.html"/>'),
     "not in the package"),
    ("escaping launch file", dict(resources='<resource identifier="r1" adlcp:scormtype="sco" '
                                            'href="../../etc/passwd"/>'), "not in the package"),
    ("duplicate item", dict(items='<item identifier="i1" identifierref="r1"><title>a</title></item>'
                                  '<item identifier="i1" identifierref="r1"><title>b</title></item>'), "used twice"),
    ("bad scormtype", dict(resources='<resource identifier="r1" adlcp:scormtype="app" href="sco/index.html"/>'),
     "scormtype"),
    ("nothing to launch", dict(items='<item identifier="i1"><title>empty</title></item>'), "no item"),
    ("XML entity", dict(head='<!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'), "DTDs and entities"),
]


@pytest.mark.parametrize("kwargs, words", [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_bad_manifests_are_refused_naming_the_manifest(kwargs, words):
    with pytest.raises(PackageRefused) as refused:
        read_package(package(**kwargs), LIMITS)
    assert "imsmanifest.xml" in refused.value.message and words in refused.value.message, refused.value.message


def test_commits_are_checked_again_on_the_server_and_end_with_the_session(make_app):
    app = make_app(CONTENT_BASE_URL="http://content.test")
    staff(app)
    client = app.test_client()
    log_in(client, "staff@example.gov")
    uid = upload(client, make_zip({"imsmanifest.xml": manifest(), "sco/index.html": b"<title>x</title>"}))
    page = submit(client, f"/providers/packages/{uid}/launch", {"au": "0", "mode": "Normal"},
                  form_page=f"/providers/packages/{uid}").get_data(as_text=True)
    player = re.search(r'data-launch-url="([^"]+)"', page).group(1)
    runtime = player.replace("http://content.test", "").rsplit("/", 1)[0]
    content = app.test_client()
    wrapper = content.get(runtime + "/player", base_url="http://content.test").get_data(as_text=True)
    assert 'src="/std/scorm-api.js"' in wrapper and f"/std/c/{runtime.split('/')[-1]}/sco/index.html" in wrapper
    assert client.get(runtime + "/data").status_code == 404  # not on the portal's origin
    data = content.get(runtime + "/data", base_url="http://content.test").get_json()
    assert data["entry"] == "ab-initio" and data["lesson_status"] == "not attempted" and data["credit"] == "credit"

    def send(values, finish=False):
        return content.post(runtime + "/commit", base_url="http://content.test",
                            json={"values": values, "finish": finish})

    assert send({"lesson_status": "not attempted"}).status_code == 400
    assert send({"score_raw": "150"}).status_code == 400
    assert send({"suspend_data": "x" * 4097}).status_code == 400
    assert send({"session_time": "90 seconds"}, finish=True).status_code == 400
    assert send({"lesson_status": "completed", "session_time": "00:02:00"}, finish=True).status_code == 204
    assert send({"lesson_status": "passed"}).status_code == 401  # the session has ended
    assert content.get(runtime + "/data", base_url="http://content.test").status_code == 401
    with app.extensions["portal"].database.session() as db:
        row = db.exec(select(StdRegistrationAu)).one()
    assert row.completed and row.satisfied and not row.passed and row.seconds == 120
    api = content.get("/std/scorm-api.js", base_url="http://content.test")
    assert api.mimetype == "text/javascript" and b"window.API = {" in api.data
    assert client.get("/std/scorm-api.js").status_code == 404
