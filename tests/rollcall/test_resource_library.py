"""The resource library: the operators' entries (portal/rollcall/resources.yaml), entries
from packs' `resources:`, search by words and topic on /resources and in the catalog,
validation of pack and operator entries, one entry per URL, and escaped text."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
import yaml
from markupsafe import escape

from portal import create_app
from portal.packs.loader import PackInvalid, load_pack
from portal.packs.starter import write_starter_pack
from portal.plugins import hookimpl
from portal.rollcall.library import DEFAULT_RESOURCES
from tests.rollcall.support import has_text

OPERATORS = yaml.safe_load(DEFAULT_RESOURCES.read_text(encoding="utf-8"))["resources"]
PACK_ID = "resource-test-pack"
PACK_TITLE = "Resource Test Pack"


class PackDirs:
    """A plugin object for EXTRA_PLUGINS that contributes content pack folders."""

    def __init__(self, *dirs: Path):
        self.dirs = list(dirs)

    @hookimpl
    def portal_content_pack_dirs(self) -> list[Path]:
        return self.dirs


def pack_with_resources(tmp_path: Path, resources_yaml: str, name: str = PACK_ID, title: str = PACK_TITLE) -> Path:
    pack_dir = write_starter_pack(tmp_path / name, name, title)
    manifest = pack_dir / "pack.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + resources_yaml, encoding="utf-8")
    return pack_dir


PACK_RESOURCES = """resources:
  - title: Campus Mediation Handbook
    description: Step-by-step mediation for disputes between students, written for school resource officers.
    url: https://mediation.example.org/handbook
    topics: [mediation, school resource officers]
  - title: Restorative Circles Toolkit
    description: Facilitation scripts for restorative circles after a campus incident.
    url: https://restorative.example.org/
    topics: [restorative practice]
"""


def results(page: str) -> list[str]:
    """Titles of the resource cards on a page, in order."""
    block = page.split("<h2>Resources</h2>", 1)[-1] if "<h2>Resources</h2>" in page else page
    return [html.unescape(t) for t in re.findall(r'<li class="card"><h3><a href="[^"]*"[^>]*>(.*?)</a></h3>', block,
                                                 re.S)]


def resources_page(client, query: str = "") -> list[str]:
    response = client.get("/resources" + (f"?{query}" if query else ""))
    assert response.status_code == 200
    return results(response.get_data(as_text=True))


# -- the operators' library -------------------------------------------------------------

def test_the_library_lists_every_operator_entry(client):
    page = client.get("/resources").get_data(as_text=True)
    titles = results(page)
    assert sorted(titles) == sorted(r["title"] for r in OPERATORS)
    for entry in OPERATORS:
        assert f'href="{escape(entry["url"])}"' in page
        assert has_text(page, entry["description"])
    for name in ("Readiness and Emergency Management for Schools (REMS) TA Center",
                 "National Threat Assessment Center (NTAC)", "Youth.gov"):
        assert name in titles


def test_the_library_is_sorted_by_title(client):
    titles = resources_page(client)
    assert titles == sorted(titles, key=str.lower)


@pytest.mark.parametrize("query, expected", [
    ("q=threat", ["National Threat Assessment Center (NTAC)"]),
    ("q=emergency+management", ["Readiness and Emergency Management for Schools (REMS) TA Center"]),
    ("q=EMERG", ["Readiness and Emergency Management for Schools (REMS) TA Center"]),
    ("q=per+diem", ["GSA per diem rates"]),
    ("q=youth+programs", ["Youth.gov"]),
    ("q=threat+youth", []),
    ("q=zzzz-nothing", []),
])
def test_search_by_words(client, query, expected):
    assert resources_page(client, query) == expected


@pytest.mark.parametrize("topic", ["grants compliance", "Grants Compliance"])
def test_search_by_topic(client, topic):
    found = resources_page(client, f"topic={topic.replace(' ', '+')}")
    assert sorted(found) == ["COPS Hiring Program (CHP)", "GSA per diem rates"]


def test_words_and_topic_combine(client):
    assert resources_page(client, "q=threat&topic=school+safety") == ["National Threat Assessment Center (NTAC)"]
    assert resources_page(client, "q=threat&topic=travel") == []


def test_no_match_says_so(client):
    assert "No resource matches." in client.get("/resources?q=zzzz-nothing").get_data(as_text=True)


def test_the_topic_choices_are_the_library_topics(client):
    page = client.get("/resources").get_data(as_text=True)
    select = re.search(r'<select id="rtopic".*?</select>', page, re.S).group(0)
    offered = {html.unescape(t) for t in re.findall(r"<option[^>]*>([^<]+)</option>", select)} - {"All topics"}
    assert offered == {t for r in OPERATORS for t in r["topics"]}


def test_the_catalog_search_shows_matching_resources(client):
    page = client.get("/catalog?q=threat").get_data(as_text=True)
    assert "National Threat Assessment Center (NTAC)" in results(page)
    assert "GSA per diem rates" not in results(page)
    assert results(client.get("/catalog?q=per+diem").get_data(as_text=True)) == ["GSA per diem rates"]


def test_the_catalog_topic_filter_shows_resources_on_that_topic(client):
    found = results(client.get("/catalog?topic=emergency+management").get_data(as_text=True))
    assert found == ["Readiness and Emergency Management for Schools (REMS) TA Center"]


# -- resources from a pack ----------------------------------------------------------------

@pytest.fixture
def pack_app(make_app, tmp_path):
    return make_app(EXTRA_PLUGINS=[PackDirs(pack_with_resources(tmp_path, PACK_RESOURCES))])


def test_a_packs_resources_appear_in_the_library(pack_app):
    client = pack_app.test_client()
    assert pack_app.extensions["packs"].get(PACK_ID) is not None
    page = client.get("/resources").get_data(as_text=True)
    titles = results(page)
    assert "Campus Mediation Handbook" in titles and "Restorative Circles Toolkit" in titles
    assert "Youth.gov" in titles, "the operators' entries must stay"
    assert 'href="https://mediation.example.org/handbook"' in page
    assert has_text(page, PACK_TITLE), "a pack's entry does not say where it came from"
    assert resources_page(client, "q=mediation") == ["Campus Mediation Handbook"]
    assert resources_page(client, "topic=restorative+practice") == ["Restorative Circles Toolkit"]


def test_a_packs_resources_are_found_by_the_catalog_search(pack_app):
    client = pack_app.test_client()
    assert "Campus Mediation Handbook" in results(client.get("/catalog?q=mediation").get_data(as_text=True))


@pytest.mark.parametrize("url", ["javascript:alert(document.cookie)", "JavaScript:alert(1)",
                                 "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)",
                                 "//evil.example/path", "ftp://files.example.org/x"])
def test_a_resource_url_that_is_not_http_is_a_validation_problem(tmp_path, url):
    pack_dir = pack_with_resources(tmp_path, f"""resources:
  - title: Bad link
    description: Not a web page.
    url: "{url}"
""")
    with pytest.raises(PackInvalid) as caught:
        load_pack(pack_dir, "0.1.0")
    messages = [str(p) for p in caught.value.problems]
    assert any("url" in m and "pack.yaml" in m for m in messages), messages


def test_a_pack_with_a_javascript_resource_stops_start_up(app_config, tmp_path):
    pack_dir = pack_with_resources(tmp_path, """resources:
  - title: Bad link
    description: Not a web page.
    url: javascript:alert(1)
""")
    with pytest.raises(Exception) as caught:
        create_app({**app_config, "EXTRA_PLUGINS": [PackDirs(pack_dir)]})
    assert PACK_ID in str(caught.value) and "url" in str(caught.value)


def test_a_disabled_invalid_pack_adds_no_resources(make_app, tmp_path):
    pack_dir = pack_with_resources(tmp_path, """resources:
  - title: Bad link from a broken pack
    description: Not a web page.
    url: javascript:alert(1)
  - title: Good link from a broken pack
    description: A web page.
    url: https://good.example.org/
""")
    app = make_app(EXTRA_PLUGINS=[PackDirs(pack_dir)], PORTAL_INVALID_PACKS="disable")
    page = app.test_client().get("/resources").get_data(as_text=True)
    assert "javascript:" not in page and "broken pack" not in page


# -- one entry per URL -------------------------------------------------------------------

def test_duplicate_urls_are_shown_once(make_app, tmp_path):
    pack_dir = pack_with_resources(tmp_path, """resources:
  - title: REMS again, from a pack
    description: The same technical assistance center.
    url: https://rems.ed.gov
    topics: [emergency management]
  - title: REMS in capitals
    description: The same address with the host in capitals.
    url: https://REMS.ED.GOV/
  - title: Mediation
    description: Listed twice in this pack.
    url: https://mediation.example.org/handbook
  - title: Mediation (again)
    description: Listed twice in this pack.
    url: https://mediation.example.org/handbook
""")
    client = make_app(EXTRA_PLUGINS=[PackDirs(pack_dir)]).test_client()
    page = client.get("/resources").get_data(as_text=True)
    rems = [t for t in results(page) if "REMS" in t]
    assert rems == ["Readiness and Emergency Management for Schools (REMS) TA Center"], \
        "the operators' entry should win and appear once"
    assert len([t for t in results(page) if t.startswith("Mediation")]) == 1
    assert len(results(page)) == len(OPERATORS) + 1
    catalog = results(client.get("/catalog?q=emergency").get_data(as_text=True))
    assert len([t for t in catalog if "REMS" in t]) == 1


def test_duplicate_urls_in_the_operators_file_are_shown_once(make_app, tmp_path):
    path = tmp_path / "resources.yaml"
    path.write_text("""resources:
  - title: One Site
    description: First listing.
    url: https://one.example.org/
  - title: One Site (listed again)
    description: Second listing.
    url: https://one.example.org
""", encoding="utf-8")
    client = make_app(PORTAL_RESOURCES_PATH=str(path)).test_client()
    assert resources_page(client) == ["One Site"]


# -- escaping -----------------------------------------------------------------------------

HOSTILE = """resources:
  - title: "<script>alert('title')</script> Safety Guide"
    description: "<img src=x onerror=alert('description')> Read <b>this</b>."
    url: "https://hostile.example.org/?a=1&b=\\"><script>alert('url')</script>"
    topics: ["<i>hostile</i>"]
"""


def assert_escaped(page: str):
    assert "<script>alert(" not in page and "<img src=x" not in page and "<b>this</b>" not in page
    assert "<i>hostile</i>" not in page
    assert "&lt;script&gt;alert(" in page and "&lt;img src=x onerror=alert(" in page


def test_html_in_a_packs_resources_is_escaped(make_app, tmp_path):
    client = make_app(EXTRA_PLUGINS=[PackDirs(pack_with_resources(tmp_path, HOSTILE))]).test_client()
    page = client.get("/resources").get_data(as_text=True)
    assert_escaped(page)
    assert "<script>alert('title')</script> Safety Guide" in results(page)
    assert_escaped(client.get("/catalog?q=safety+guide").get_data(as_text=True))
    assert "<script>alert('title')</script> Safety Guide" in results(
        client.get("/catalog?q=safety+guide").get_data(as_text=True))
    assert_escaped(client.get("/resources?q=hostile").get_data(as_text=True))


def test_html_in_the_operators_file_is_escaped(make_app, tmp_path):
    path = tmp_path / "resources.yaml"
    path.write_text(HOSTILE, encoding="utf-8")
    client = make_app(PORTAL_RESOURCES_PATH=str(path)).test_client()
    assert_escaped(client.get("/resources").get_data(as_text=True))


# -- the operators' file -----------------------------------------------------------------

def test_portal_resources_path_replaces_the_bundled_library(make_app, tmp_path):
    path = tmp_path / "resources.yaml"
    path.write_text("""resources:
  - title: County Crisis Line
    description: 24-hour crisis line for students and families.
    url: https://crisis.example.org/
    topics: [crisis intervention]
""", encoding="utf-8")
    client = make_app(PORTAL_RESOURCES_PATH=str(path)).test_client()
    assert resources_page(client) == ["County Crisis Line"]


@pytest.mark.parametrize("content", [
    "resources:\n  - title: Broken\n    url: [unclosed\n",                       # not YAML at all
    "resources:\n  - title: Broken\n\tdescription: tab\n",                       # a tab: not YAML
    "resources:\n  - title: No address\n    description: The url is missing.\n",  # an entry without url
    "resources:\n  - title: Bad\n    description: Bad.\n    url: javascript:alert(1)\n",
    "resources: not-a-list\n",
    "- title: A list at the top\n  description: Not a mapping.\n  url: https://x.example.org/\n",
    "just some text\n",
], ids=["syntax", "tab", "no-url", "javascript-url", "resources-not-a-list", "top-level-list", "top-level-text"])
def test_an_invalid_operators_file_stops_start_up_naming_the_file(app_config, tmp_path, content):
    path = tmp_path / "my-resources.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(Exception) as caught:
        create_app({**app_config, "PORTAL_RESOURCES_PATH": str(path)})
    assert str(path) in str(caught.value), f"the error does not name the file: {caught.value!r}"


def test_a_missing_operators_file_stops_start_up_naming_the_file(app_config, tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(Exception) as caught:
        create_app({**app_config, "PORTAL_RESOURCES_PATH": str(path)})
    assert str(path) in str(caught.value)
