"""Package import: what a valid cmi5 package becomes, and every kind of bad input refused with
the rule it breaks and nothing stored."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest
from sqlmodel import select

from portal.common.storage import StoredFile
from portal.standards.archive import Limits
from portal.standards.importer import PackageRefused, Upload, file_key, import_package, read_package
from portal.standards.models import StdPackage

LIMITS = Limits(max_file_bytes=2 * 1024 * 1024, max_total_bytes=4 * 1024 * 1024)
NS = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"


def course_xml(url="index.html", au_id="https://example.gov/au/1", extra_au="", head="", move_on="Passed",
               mastery=' masteryScore="0.8"') -> bytes:
    return f"""<?xml version="1.0" encoding="utf-8"?>{head}
<courseStructure xmlns="{NS}">
  <course id="https://example.gov/course/1"><title><langstring lang="en">Use of force</langstring></title>
    <description><langstring lang="en">Policy and practice</langstring></description></course>
  <block id="https://example.gov/block/1"><title><langstring lang="en">Part one</langstring></title>
    <description><langstring lang="en">The law</langstring></description>
    <au id="{au_id}" moveOn="{move_on}"{mastery}><title><langstring lang="en">Lesson one</langstring></title>
      <description><langstring lang="en">Graham v. Connor</langstring></description><url>{url}</url></au>
    {extra_au}
  </block>
</courseStructure>""".encode()


def make_zip(files: dict[str, bytes], symlink: str | None = None, latin1_name: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
        if latin1_name:
            # zipfile always writes non-ASCII names as UTF-8: write an ASCII stand-in, then put
            # the Latin-1 bytes in its place (same length), as old Windows tools leave them.
            archive.writestr(latin1_name.encode("latin-1").decode("ascii", "replace").replace("\ufffd", "_"), b"x")
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, "/etc/passwd")
    data = buffer.getvalue()
    if latin1_name:
        stand_in = latin1_name.encode("latin-1").decode("ascii", "replace").replace("\ufffd", "_").encode()
        data = data.replace(stand_in, latin1_name.encode("latin-1"))
    return data


def zip_upload(files, **kwargs) -> Upload:
    return Upload(make_zip(files, **kwargs), "application/zip", "course.zip")


VALID = {"cmi5.xml": course_xml(), "index.html": b"<!doctype html><title>AU</title>", "js/app.js": b"1;"}


def test_a_valid_package_becomes_a_draft_with_its_files_in_the_database(app):
    s = app.extensions["portal"]
    with s.database.session() as db:
        package = import_package(db, s.storage, zip_upload(VALID), LIMITS, "Academy", None, s.clock.now())
        db.commit()
        uid = package.uid
    with s.database.session() as db:
        package = db.exec(select(StdPackage).where(StdPackage.uid == uid)).one()
        assert (package.status, package.title, package.file_count) == ("draft", "Use of force", 3)
        structure = json.loads(package.structure)
        assert structure["aus"][0]["move_on"] == "Passed" and structure["aus"][0]["mastery_score"] == 0.8
        assert structure["blocks"][0]["children"] == [["au", 0]]
        info, data = s.storage.get(db, file_key(uid, "js/app.js"))
        assert data == b"1;" and info.content_type in ("text/javascript", "application/javascript")


REFUSALS = [
    ("not a zip", Upload(b"this is not a zip", "application/zip", "x.zip"), "14.1.0.0-1", "not a zip"),
    ("markdown", Upload(b"# hello", "text/markdown; charset=UTF-8", "x.md"), "14.0.0.0-1", "zip archive or"),
    ("no cmi5.xml", zip_upload({"index.html": b"x"}), "14.1.0.0-2", "no cmi5.xml"),
    ("missing launch file", zip_upload({"cmi5.xml": course_xml("missing.html")}), "14.1.0.0-4", "not in the package"),
    ("path traversal", zip_upload({**VALID, "../evil.html": b"x"}), "14.1.0.0-1", "outside the package"),
    ("absolute path", zip_upload({**VALID, "/etc/cron.d/x": b"x"}), "14.1.0.0-1", "outside the package"),
    ("backslash", zip_upload({**VALID, "a\\..\\b.html": b"x"}), "14.1.0.0-1", "backslash"),
    ("symlink", zip_upload(VALID, symlink="link.html"), "14.1.0.0-1", "symbolic link"),
    ("duplicate entry", zip_upload({**VALID, "INDEX.html": b"x"}), "14.1.0.0-1", "twice"),
    ("non-UTF-8 name", zip_upload(VALID, latin1_name="caf\u00e9.html"), "14.1.0.0-1", "not UTF-8"),
    ("enormous file", zip_upload({**VALID, "big.bin": b"\0" * (3 * 1024 * 1024)}), "14.1.0.0-1", "limit"),
    ("zip bomb", zip_upload({**VALID, "bomb.bin": b"\0" * (1900 * 1024)}, ), "14.1.0.0-1", "zip bomb"),
    ("non-UTF-8 manifest", zip_upload({**VALID, "cmi5.xml": course_xml().replace(b"Use of", b"Use \xe9f")}),
     "13.2.0.0-1", "not UTF-8"),
    ("latin-1 declared", zip_upload({**VALID, "cmi5.xml": course_xml().replace(b"utf-8", b"iso-8859-1")}),
     "13.2.0.0-1", "only UTF-8"),
    ("XML external entity", zip_upload({**VALID, "cmi5.xml": course_xml(
        head='<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>').replace(b"Part one", b"&e;")}),
     "13.2.0.0-1", "DTDs and entities"),
    ("billion laughs", zip_upload({**VALID, "cmi5.xml": course_xml(
        head='<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]>').replace(b"Part one", b"&b;")}),
     "13.2.0.0-1", "DTDs and entities"),
    ("duplicate AU id", zip_upload({**VALID, "cmi5.xml": course_xml(extra_au=(
        '<au id="https://example.gov/au/1"><title><langstring>x</langstring></title><description>'
        '<langstring>x</langstring></description><url>index.html</url></au>'))}), "13.1.4.0-1", "used twice"),
    ("reserved parameter", zip_upload({**VALID, "cmi5.xml": course_xml("index.html?fetch=x")}), "8.1.0.0-6",
     "launch parameter"),
    ("not an IRI", zip_upload({**VALID, "cmi5.xml": course_xml(au_id="au-1")}), "3.0.0.0-1", "absolute IRI"),
    ("bad moveOn", zip_upload({**VALID, "cmi5.xml": course_xml(move_on="Whenever")}), "13.2.0.0-1", "moveOn"),
    ("bad mastery", zip_upload({**VALID, "cmi5.xml": course_xml(mastery=' masteryScore="80"')}), "13.2.0.0-1",
     "masteryScore"),
    ("broken XML", zip_upload({**VALID, "cmi5.xml": b"<courseStructure><course>"}), "13.2.0.0-1", "well-formed"),
    ("relative url, no zip", Upload(course_xml(), "text/xml", "cmi5.xml"), "14.2.0.0-1", "absolute URLs"),
]


@pytest.mark.parametrize("upload, rule, words", [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_bad_packages_are_refused_with_their_rule_and_nothing_stored(app, upload, rule, words):
    s = app.extensions["portal"]
    with s.database.session() as db:
        with pytest.raises(PackageRefused) as refused:
            import_package(db, s.storage, upload, LIMITS, "Academy", None, s.clock.now())
        db.commit()
        assert refused.value.rule == rule and words in refused.value.message, refused.value
        assert db.exec(select(StdPackage)).all() == [] and db.exec(select(StoredFile)).all() == []


def test_a_refusal_names_the_line_of_the_course_structure():
    bad = course_xml(url="http://example.com index.html")
    with pytest.raises(PackageRefused) as refused:
        read_package(Upload(bad, "text/xml", "cmi5.xml"), LIMITS)
    assert refused.value.rule == "13.1.4.0-2" and "cmi5.xml:8:" in refused.value.message


def test_a_bare_course_structure_with_absolute_urls_imports():
    standard, structure, files = read_package(Upload(course_xml("https://cdn.example.gov/au/1/index.html"), "text/xml",
                                           "cmi5.xml"), LIMITS)
    assert standard == "cmi5" and files == {} and structure["aus"][0]["url"] == "https://cdn.example.gov/au/1/index.html"
