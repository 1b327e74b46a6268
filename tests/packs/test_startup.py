"""Start-up with packs: a broken, duplicate or incompatible pack or a misspelt hook stops
the portal loudly (or, with PORTAL_INVALID_PACKS=disable, is set aside and shown to
administrators); safe mode and PORTAL_DISABLED_PACKS; and serving pack files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from markupsafe import escape

from portal.packs.loader import load_pack, validate_pack
from portal.plugins import CONTENT_PACKS_GROUP, hookimpl
from portal.plugins.manager import PluginError
from tests.helpers import log_in, make_user
from tests.packs.fixtures import failing_hook_plugin, misspelt_hook_plugin
from tests.packs.packtools import CONTENT_PACKS, PORTAL_VERSION, PackDirs, installed_pack_dirs, new_starter

INTRO_ID = "intro-sro-programs"
INTRO_DIR = CONTENT_PACKS / "intro-sro-programs" / "portal_pack_intro_sro" / "pack"
ADMIN = "admin@example.gov"


def _installed() -> dict[str, tuple[str, Path]]:
    """Valid installed packs by id: (plugin name, folder)."""
    found = {}
    for source, path in installed_pack_dirs():
        if not validate_pack(path, PORTAL_VERSION):
            found[load_pack(path, PORTAL_VERSION).id] = (source, path)
    return found


@pytest.fixture(scope="module")
def installed() -> dict[str, tuple[str, Path]]:
    return _installed()


@pytest.fixture
def intro_plugins(installed) -> list:
    """Extra plugins that make the intro course available: none when it is installed."""
    if INTRO_ID in installed:
        return []
    if not (INTRO_DIR / "pack.yaml").is_file():
        pytest.skip("the intro-sro-programs pack is neither installed nor in this checkout")
    return [PackDirs("intro_from_checkout", INTRO_DIR)]


@pytest.fixture
def broken_pack(tmp_path):
    """A starter course whose second lesson file is missing."""
    folder = new_starter(tmp_path, "broken-course", "Broken Course")
    folder.delete("lessons/02-key-ideas.md")
    return folder


def _admin_client(app):
    make_user(app, email=ADMIN, name="Ada Admin", roles=("admin",))
    client = app.test_client()
    assert log_in(client, ADMIN).status_code == 302
    return client


# -- an invalid pack ------------------------------------------------------------------

def test_invalid_pack_stops_start_up(make_app, broken_pack):
    plugin = PackDirs("broken_course_plugin", broken_pack.root)
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[plugin])
    message = str(raised.value)
    assert "broken_course_plugin" in message
    assert str(broken_pack.root / "pack.yaml") in message
    assert "is invalid" in message
    line = broken_pack.line_of("file: lessons/02-key-ideas.md")
    assert f"{broken_pack.root / 'pack.yaml'}:{line}: lessons[1].file names a file that does not exist: " \
           f"lessons/02-key-ideas.md" in message


def test_invalid_pack_error_names_the_pack_by_its_id(make_app, tmp_path):
    """A readable manifest gives the pack's id; the error and the admin listing use it,
    not the folder name (every bundled pack's folder is called `pack`)."""
    folder = new_starter(tmp_path / "dist", "named-course", "Named Course")
    generic = tmp_path / "somewhere" / "pack"
    shutil.copytree(folder.root, generic)
    (generic / "lessons" / "02-key-ideas.md").unlink()
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[PackDirs("some_plugin", generic)])
    assert "named-course" in str(raised.value)
    app = make_app(EXTRA_PLUGINS=[PackDirs("some_plugin", generic)], PORTAL_INVALID_PACKS="disable")
    [disabled] = [d for d in app.extensions["packs"].disabled if d.path == str(generic)]
    assert disabled.name == "named-course"


def test_unreadable_manifest_stops_start_up(make_app, broken_pack):
    broken_pack.write("pack.yaml", "id: [unclosed\n")
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[PackDirs("broken_course_plugin", broken_pack.root)])
    assert f"{broken_pack.root / 'pack.yaml'}:" in str(raised.value) and "not valid YAML" in str(raised.value)


def test_pack_dir_that_does_not_exist_stops_start_up(make_app, tmp_path):
    missing = tmp_path / "gone" / "pack"
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[PackDirs("ghost_plugin", missing)])
    assert str(missing / "pack.yaml") in str(raised.value) and "missing" in str(raised.value)


def test_invalid_pack_disabled_and_shown_to_admins(make_app, broken_pack, installed):
    app = make_app(EXTRA_PLUGINS=[PackDirs("broken_course_plugin", broken_pack.root)],
                   PORTAL_INVALID_PACKS="disable")
    registry = app.extensions["packs"]
    [disabled] = registry.disabled
    assert disabled.path == str(broken_pack.root)
    assert disabled.source == "broken_course_plugin"
    assert "invalid" in disabled.reason
    assert any("lessons/02-key-ideas.md" in p and "does not exist" in p for p in disabled.problems)
    assert registry.get("broken-course") is None
    # every good installed pack is still served
    assert sorted(registry.packs) == sorted(installed)
    client = _admin_client(app)
    page = client.get("/admin/packs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Set aside" in html
    assert str(escape(disabled.path)) in html
    for problem in disabled.problems:
        assert str(escape(problem)) in html
    for pack in registry.all():
        assert str(escape(pack.title)) in html and pack.version in html


def test_packs_page_is_for_admins_only(make_app):
    app = make_app()
    anonymous = app.test_client().get("/admin/packs")
    assert anonymous.status_code == 302 and "/account/login" in anonymous.location
    make_user(app, email="learner@example.gov")
    learner = app.test_client()
    log_in(learner, "learner@example.gov")
    assert learner.get("/admin/packs").status_code == 403
    make_user(app, email="support@example.gov", roles=("support",))
    support = app.test_client()
    log_in(support, "support@example.gov")
    assert support.get("/admin/packs").status_code == 403


def test_disabled_pack_files_are_not_served(make_app, broken_pack):
    broken_pack.write("downloads/handout.txt", "still here\n")
    app = make_app(EXTRA_PLUGINS=[PackDirs("broken_course_plugin", broken_pack.root)],
                   PORTAL_INVALID_PACKS="disable")
    client = app.test_client()
    assert client.get("/packs/broken-course/1.0.0/files/downloads/handout.txt").status_code == 404


# -- duplicates, misspelt hooks, failing hooks, versions --------------------------------

@pytest.fixture
def twin_packs(tmp_path):
    first = new_starter(tmp_path / "a", "twin-course", "Twin Course")
    second_root = tmp_path / "b" / "pack"
    shutil.copytree(first.root, second_root)
    return first.root, second_root


def test_duplicate_pack_id_stops_start_up_naming_both(make_app, twin_packs):
    first, second = twin_packs
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[PackDirs("twin_plugin_a", first), PackDirs("twin_plugin_b", second)])
    message = str(raised.value)
    assert "'twin-course'" in message
    assert "twin_plugin_a" in message and "twin_plugin_b" in message
    assert str(second / "pack.yaml") in message


def test_duplicate_pack_id_disabled_keeps_the_first(make_app, twin_packs):
    first, second = twin_packs
    app = make_app(EXTRA_PLUGINS=[PackDirs("twin_plugin_a", first), PackDirs("twin_plugin_b", second)],
                   PORTAL_INVALID_PACKS="disable")
    registry = app.extensions["packs"]
    assert registry.get("twin-course").root == first
    assert registry.sources["twin-course"] == "twin_plugin_a"
    [disabled] = registry.disabled
    assert disabled.name == "twin-course" and disabled.path == str(second)
    assert "twin_plugin_a" in disabled.reason


def test_copy_of_an_installed_pack_stops_start_up(make_app, installed, tmp_path):
    if not installed:
        pytest.skip("no valid content pack is installed")
    pack_id, (source, path) = sorted(installed.items())[0]
    copy = tmp_path / "copy" / "pack"
    shutil.copytree(path, copy)
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[PackDirs("zz_copycat", copy)])
    message = str(raised.value)
    assert repr(pack_id) in message and source in message and "zz_copycat" in message


class MisspeltHook:
    """An object whose author wrote portal_content_pack_dir (no s)."""

    __name__ = "misspelt_object"

    @hookimpl
    def portal_content_pack_dir(self):
        return []


def test_misspelt_hook_on_an_object_stops_start_up(make_app):
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[MisspeltHook()])
    message = str(raised.value)
    assert "portal_content_pack_dir" in message and "misspelt_object" in message
    assert "docs/hooks.md" in message


def test_misspelt_hook_in_a_module_stops_start_up_naming_its_file(make_app):
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[misspelt_hook_plugin])
    message = str(raised.value)
    assert "portal_content_pack_dir" in message
    assert misspelt_hook_plugin.__file__ in message


def test_misspelt_hook_in_a_module_without_a_file_stops_start_up(make_app):
    import types

    module = types.ModuleType("generated_plugin")

    @hookimpl
    def portal_contnet_pack_dirs():
        return []

    module.portal_contnet_pack_dirs = portal_contnet_pack_dirs
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[module])
    assert "portal_contnet_pack_dirs" in str(raised.value) and "generated_plugin" in str(raised.value)


def test_failing_pack_dirs_hook_stops_start_up(make_app):
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[failing_hook_plugin])
    message = str(raised.value)
    assert "the pack folder could not be located" in message
    assert failing_hook_plugin.__file__ in message


def test_incompatible_portal_version_stops_start_up(make_app, tmp_path):
    folder = new_starter(tmp_path, "future-course", "Future Course")
    folder.replace('portal_versions: ">=0.1,<1"', 'portal_versions: ">=2"')
    with pytest.raises(PluginError) as raised:
        make_app(EXTRA_PLUGINS=[PackDirs("future_plugin", folder.root)])
    message = str(raised.value)
    assert f"{folder.root / 'pack.yaml'}:{folder.line_of('portal_versions:')}: " in message
    assert ">=2" in message and PORTAL_VERSION in message


def test_good_extra_pack_is_served(make_app, tmp_path, installed):
    folder = new_starter(tmp_path, "extra-course", "Extra Course")
    app = make_app(EXTRA_PLUGINS=[PackDirs("extra_plugin", folder.root)])
    registry = app.extensions["packs"]
    assert registry.get("extra-course").title == "Extra Course"
    assert sorted(registry.packs) == sorted([*installed, "extra-course"])
    assert registry.disabled == []
    response = app.test_client().get("/packs/extra-course/1.0.0/files/downloads/handout.txt")
    assert response.status_code == 200 and b"Replace this handout" in response.data


# -- safe mode and PORTAL_DISABLED_PACKS ----------------------------------------------

def test_plugin_report_lists_installed_packs(make_app, installed):
    app = make_app()
    report = app.extensions["plugin_report"]
    names = {p.name for p in report.loaded if p.group == CONTENT_PACKS_GROUP}
    assert names == {source.split(":", 1)[1] for source, _ in installed.values()}
    assert sorted(app.extensions["packs"].packs) == sorted(installed)


def test_safe_mode_loads_no_entry_point_packs(make_app):
    app = make_app(PORTAL_SAFE_MODE=True)
    assert app.extensions["packs"].packs == {}
    assert app.extensions["packs"].disabled == []
    assert app.extensions["plugin_report"].loaded == []
    client = _admin_client(app)
    html = client.get("/admin/packs").get_data(as_text=True)
    assert "Safe mode is on" in html and "No packs are installed." in html


def test_safe_mode_ignores_a_broken_installed_pack(make_app, monkeypatch):
    """Safe mode is the way to start when an installed pack is broken: no entry point is even imported."""
    import portal.plugins.manager as manager

    def no_entry_points(group):
        raise AssertionError(f"safe mode read the {group} entry points")

    monkeypatch.setattr(manager, "_entry_points", no_entry_points)
    app = make_app(PORTAL_SAFE_MODE=True)
    assert app.extensions["packs"].packs == {}


def test_disabled_packs_setting_disables_just_that_one(make_app, intro_plugins, installed):
    app = make_app(EXTRA_PLUGINS=intro_plugins, PORTAL_DISABLED_PACKS=frozenset({INTRO_ID}))
    registry = app.extensions["packs"]
    assert registry.get(INTRO_ID) is None
    [disabled] = registry.disabled
    assert disabled.name == INTRO_ID and "PORTAL_DISABLED_PACKS" in disabled.reason
    assert sorted(registry.packs) == sorted(set(installed) - {INTRO_ID})
    client = app.test_client()
    assert client.get(f"/packs/{INTRO_ID}/1.0.0/files/downloads/mou-checklist.pdf").status_code == 404


# -- serving pack files ---------------------------------------------------------------

@pytest.fixture
def served(make_app, intro_plugins):
    app = make_app(EXTRA_PLUGINS=intro_plugins)
    pack = app.extensions["packs"].get(INTRO_ID)
    assert pack is not None
    return app, pack


def _video_lesson(pack):
    return next(lesson for lesson in pack.lessons if lesson.video and lesson.video.file)


def _url(pack, filename, version=None):
    return f"/packs/{pack.id}/{version or pack.version}/files/{filename}"


def test_video_served_with_immutable_caching(served):
    app, pack = served
    video = _video_lesson(pack).video
    response = app.test_client().get(_url(pack, video.file))
    assert response.status_code == 200
    cache = [part.strip() for part in response.headers["Cache-Control"].split(",")]
    assert "immutable" in cache and "public" in cache and "max-age=31536000" in cache
    assert response.mimetype == "video/mp4"
    assert response.headers.get("Accept-Ranges") == "bytes"
    assert response.data == (pack.root / video.file).read_bytes()


def test_every_public_file_of_every_pack_is_served(served):
    app, _ = served
    client = app.test_client()
    for pack in app.extensions["packs"].all():
        for filename in sorted(pack.public_files()):
            response = client.get(_url(pack, filename))
            assert response.status_code == 200, (pack.id, filename)
            assert "immutable" in response.headers["Cache-Control"], (pack.id, filename)
            assert response.data == (pack.root / filename).read_bytes(), (pack.id, filename)


def test_captions_served_as_webvtt(served):
    app, pack = served
    video = _video_lesson(pack).video
    response = app.test_client().get(_url(pack, video.captions))
    assert response.status_code == 200 and response.mimetype == "text/vtt"
    assert response.data.startswith(b"WEBVTT")


@pytest.mark.parametrize("header, start, end", [
    ("bytes=0-99", 0, 99), ("bytes=100-199", 100, 199), ("bytes=-50", None, None), ("bytes=1000-", 1000, None)])
def test_range_requests(served, header, start, end):
    app, pack = served
    video = _video_lesson(pack).video
    data = (pack.root / video.file).read_bytes()
    size = len(data)
    if start is None:
        start, end = size - 50, size - 1
    if end is None:
        end = size - 1
    response = app.test_client().get(_url(pack, video.file), headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes {start}-{end}/{size}"
    assert response.data == data[start:end + 1]
    assert "immutable" in response.headers["Cache-Control"]


def test_range_request_on_compressible_file_with_accept_encoding(served):
    """A browser asks for part of a captions file and accepts gzip: the 206 must hold the
    exact bytes of that range, not a compressed body."""
    app, pack = served
    captions = _video_lesson(pack).video.captions
    data = (pack.root / captions).read_bytes()
    response = app.test_client().get(_url(pack, captions), headers={"Range": "bytes=0-99",
                                                                    "Accept-Encoding": "gzip, br"})
    assert response.status_code == 206
    assert "Content-Encoding" not in response.headers
    assert response.data == data[:100]


def test_unsatisfiable_range(served):
    app, pack = served
    video = _video_lesson(pack).video
    size = (pack.root / video.file).stat().st_size
    response = app.test_client().get(_url(pack, video.file), headers={"Range": f"bytes={size + 10}-"})
    assert response.status_code == 416


def test_conditional_request_returns_304(served):
    app, pack = served
    video = _video_lesson(pack).video
    client = app.test_client()
    first = client.get(_url(pack, video.file))
    again = client.get(_url(pack, video.file), headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_download_as_attachment(served):
    app, pack = served
    download = pack.downloads[0]
    response = app.test_client().get(_url(pack, download.file) + "?download=1")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert Path(download.file).name in response.headers["Content-Disposition"]
    assert int(response.headers["Content-Length"]) == download.size


@pytest.mark.parametrize("filename", [
    "pack.yaml", "questions.yaml", "lessons/01-sro-role.md", "lessons/02-program-mou.md",
    "../pack.yaml", "media/../questions.yaml", "media/../pack.yaml", "..%2fpack.yaml", "%2e%2e/pack.yaml",
    "media/%2e%2e/questions.yaml", "../../../../../../etc/passwd", "%2fetc%2fpasswd", "/etc/passwd",
    "./media/01-sro-role.vtt", "media//01-sro-role.vtt", "MEDIA/01-sro-role.vtt", "media/01-sro-role.vtt/",
    "media/01-sro-role.vtt%00.txt", "media", "", "../portal_pack_intro_sro/__init__.py", "../../pyproject.toml",
])
def test_non_public_paths_are_404(served, filename):
    app, pack = served
    # (Werkzeug may first redirect `//` to `/`; wherever the URL ends up, nothing is served)
    response = app.test_client().get(f"/packs/{pack.id}/{pack.version}/files/{filename}", follow_redirects=True)
    assert response.status_code == 404, (filename, response.status_code, response.request.path)


def test_non_public_paths_via_raw_path_info(served):
    """The same, bypassing any URL normalising the test client might do."""
    app, pack = served
    client = app.test_client()
    captions = _video_lesson(pack).video.captions
    control = client.get("/", environ_overrides={"PATH_INFO": _url(pack, captions)})
    assert control.status_code == 200, "PATH_INFO overrides must reach the route for this test to mean anything"
    for raw in ("../pack.yaml", "media/../questions.yaml", "media/../../pack/questions.yaml"):
        response = client.get("/", environ_overrides={"PATH_INFO": f"/packs/{pack.id}/{pack.version}/files/{raw}"})
        assert response.status_code == 404, raw


def test_unknown_pack_is_404(served):
    app, pack = served
    video = _video_lesson(pack).video
    client = app.test_client()
    assert client.get(f"/packs/no-such-pack/1.0.0/files/{video.file}").status_code == 404
    assert client.get(f"/packs/{pack.id.upper()}/{pack.version}/files/{video.file}").status_code == 404


def test_old_version_redirects_to_current(served):
    app, pack = served
    video = _video_lesson(pack).video
    client = app.test_client()
    response = client.get(_url(pack, video.captions, version="0.9.0"))
    assert response.status_code == 302
    assert response.location == _url(pack, video.captions)
    followed = client.get(response.location)
    assert followed.status_code == 200 and followed.data == (pack.root / video.captions).read_bytes()


def test_old_version_of_a_private_file_is_404_not_a_redirect(served):
    app, pack = served
    client = app.test_client()
    for filename in ("pack.yaml", "questions.yaml", "../pack.yaml"):
        assert client.get(_url(pack, filename, version="0.9.0")).status_code == 404


def test_old_version_redirect_keeps_the_download_query(served):
    """An old `?download=1` link must still download after a pack update."""
    app, pack = served
    download = pack.downloads[0]
    response = app.test_client().get(_url(pack, download.file, version="0.9.0") + "?download=1")
    assert response.status_code == 302
    assert response.location == _url(pack, download.file) + "?download=1"

