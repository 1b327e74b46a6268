"""The catalog: word search, filters, the same URL with and without JavaScript (htmx
fragment), what each entry and each course page shows, in-person listings, enrolling while
logged out, and bad query strings that never cause a server error."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from portal.catalog.services import human_size, media_size
from tests.helpers import csrf_token, log_in, make_user
from tests.learning.journey import COURSE, enroll, pack, page_text, tags_of, take_test_scoring

ROLLCALL, INPERSON = "rollcall-school-safety", "inperson-sro-basic"
ALL = {COURSE, ROLLCALL, INPERSON}


def result_ids(response) -> set[str]:
    """The packs listed in the results (full page or fragment)."""
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    match = re.search(r'<ul class="results">(.*?)</ul>', html, re.S)
    assert match, html[:500]
    return set(re.findall(r'href="/courses/([^"/?#]+)"', match.group(1)))


def search(client, **params):
    return result_ids(client.get("/catalog", query_string=params))


# -- search and filters -------------------------------------------------------------------------

@pytest.mark.parametrize("q, expected", [
    ("", ALL),
    ("roll call", {ROLLCALL}),
    ("roll", {ROLLCALL}),  # a prefix of a word
    ("roll ca", {ROLLCALL}),  # both words as prefixes
    ("memorandum", {COURSE, INPERSON}),
    ("memo", {COURSE, INPERSON}),
    ("MEMO", {COURSE, INPERSON}),
    ("de-escalation", {ROLLCALL, INPERSON}),
    ("episodes", {ROLLCALL}),
    ("arizona", {COURSE}),
    ("cardinal", {INPERSON}),
    ("resource officer", {COURSE, INPERSON, ROLLCALL}),
    ("school zzzqqq", set()),
    ("quantum", set()),
    ("ool", set()),  # inside a word, not its start
])
def test_search_matches_every_word_as_a_prefix(client, q, expected):
    assert search(client, q=q) == expected


def test_each_filter_on_its_own(client, app):
    assert search(client, topic="grants compliance") == {COURSE}
    assert search(client, topic="Grants Compliance") == {COURSE}
    assert search(client, topic="threat assessment") == {ROLLCALL}
    assert search(client, topic="school law") == {INPERSON}
    assert search(client, topic="school safety") == ALL
    assert search(client, provider="Cardinal Public Safety Training Institute") == {INPERSON}
    assert search(client, provider="School Safety Training Collaborative") == {COURSE, ROLLCALL}
    assert search(client, kind="course") == {COURSE}
    assert search(client, kind="video-series") == {ROLLCALL}
    assert search(client, kind="in-person") == {INPERSON}
    assert search(client, state="AZ") == {COURSE}
    assert search(client, state="az") == {COURSE}
    assert search(client, state="CA") == set()


def test_filters_combine(client):
    assert search(client, topic="school safety", kind="course") == {COURSE}
    assert search(client, q="sro", provider="School Safety Training Collaborative") == {COURSE, ROLLCALL}
    assert search(client, q="sro", provider="School Safety Training Collaborative", kind="video-series") == {ROLLCALL}
    assert search(client, q="de-escalation", kind="in-person") == {INPERSON}
    assert search(client, topic="school resource officers", state="AZ") == {COURSE}
    assert search(client, q="roll call", state="AZ") == set()
    assert search(client, kind="in-person", provider="School Safety Training Collaborative") == set()


def test_the_filter_form_shows_every_facet_and_keeps_the_choices(client):
    html = client.get("/catalog", query_string={"q": "sro", "topic": "school safety", "kind": "course",
                                                "state": "AZ"}).get_data(as_text=True)
    tags = tags_of(html)
    [form] = [f for f in tags.find("form") if f.get("role") == "search"]
    assert form["method"] == "get" and form["action"] == "/catalog"
    assert [i for i in tags.find("input") if i.get("name") == "q"][0]["value"] == "sro"
    assert re.search(r'<option value="course" selected>', html)
    assert re.search(r"<option selected>AZ</option>", html)
    assert re.search(r"<option selected>school safety</option>", html)
    for provider in ("Cardinal Public Safety Training Institute", "School Safety Training Collaborative"):
        assert f"<option>{provider}</option>" in html or f"<option selected>{provider}</option>" in html


# -- without JavaScript and with htmx ---------------------------------------------------------------

def test_a_filtered_url_works_without_javascript_as_a_full_page(client):
    response = client.get("/catalog?q=roll&kind=video-series&topic=de-escalation")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().lower().startswith("<!doctype html>")
    assert "<html" in html and 'id="catalog-results"' in html
    assert result_ids(response) == {ROLLCALL}


def test_htmx_gets_only_the_results_fragment(client):
    url = "/catalog?q=roll&kind=video-series&topic=de-escalation"
    full = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true", "HX-Target": "catalog-results"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200
    assert "<html" not in body.lower() and "<body" not in body.lower() and "<form" not in body.lower()
    assert 'id="catalog-results"' not in body
    assert result_ids(fragment) == result_ids(full) == {ROLLCALL}
    assert "HX-Request" in fragment.headers.get("Vary", "")
    assert "HX-Request" in full.headers.get("Vary", ""), "the full page must vary on HX-Request too"
    # The fragment is exactly what the full page has inside #catalog-results.
    inside = re.search(r'<div id="catalog-results"[^>]*>(.*)</div>\s*</main>', full.get_data(as_text=True), re.S)
    assert inside and " ".join(inside.group(1).split()) == " ".join(body.split())


# -- what entries and course pages show ---------------------------------------------------------------

def test_every_entry_shows_title_provider_hours_accreditation_and_media_size(client, app):
    html = client.get("/catalog").get_data(as_text=True)
    cards = re.findall(r'<li class="card">(.*?)</li>', html, re.S)
    assert len(cards) == 3
    by_id = {re.search(r'href="/courses/([^"]+)"', card).group(1): page_text(card) for card in cards}
    assert set(by_id) == ALL
    for pack_id, text in by_id.items():
        p = pack(app, pack_id)
        assert p.title in text and p.provider.name in text, pack_id
        hours = f"{p.estimated_hours:g} hour{'s' if p.estimated_hours != 1 else ''}"
        assert hours in text, (pack_id, hours, text)
        assert f"media {human_size(media_size(p))}" in text, (pack_id, text)
        for a in p.accreditation:
            if a.status == "approved":
                assert a.statement in text, (pack_id, a.statement)
    assert "Arizona POST Approved Course" in by_id[COURSE]


def course_page_is_complete(text: str, app, pack_id: str) -> None:
    p = pack(app, pack_id)
    assert p.title in text and p.provider.name in text
    first_sentence = " ".join(p.description.split(".")[0].split()).replace("*", "")
    assert first_sentence in text, first_sentence
    for lesson in p.lessons:
        assert lesson.title in text, lesson.title
    for download in p.downloads:
        assert download.title in text and f"({human_size(download.size)})" in text, download.title
    for a in p.accreditation:
        assert a.body in text and a.number in text and a.state in text


def test_the_course_page_shows_everything_a_learner_needs(client, app):
    response = client.get(f"/courses/{COURSE}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = page_text(html)
    course_page_is_complete(text, app, COURSE)
    assert "Arizona POST Approved Course (AZPOST-CE-2026-0417, 4 hours)" in text
    assert "Valid" in text and "January 1, 2026 – December 31, 2026" in text
    assert re.search(r"\d{4} session: January 1 \u2013 December 31, \d{4}", text)
    # Each download link is really served, and its size is the file's.
    p = pack(app)
    for download in p.downloads:
        href = f"/packs/{COURSE}/{p.version}/files/{download.file}?download=1"
        assert href in html
        served = client.get(href)
        assert served.status_code == 200 and len(served.data) == download.size
    assert f'action="/courses/{COURSE}/enroll"' in html


def test_the_course_page_works_for_an_enrolled_learner(client, app):
    """Signed in and enrolled, the course page shows the learner's status and still everything else."""
    make_user(app)
    log_in(client)
    enroll(client)
    take_test_scoring(client, app, "pre", 4)
    response = client.get(f"/courses/{COURSE}")
    assert response.status_code == 200, f"the course page failed with {response.status_code} for an enrolled learner"
    text = page_text(response.get_data(as_text=True))
    course_page_is_complete(text, app, COURSE)
    assert "Your status: In progress: 0 of 6 lessons" in text
    assert f'href="/learn/{COURSE}"' in response.get_data(as_text=True)


def test_the_video_series_page_lists_its_episodes(client, app):
    response = client.get(f"/courses/{ROLLCALL}")
    assert response.status_code == 200
    text = page_text(response.get_data(as_text=True))
    course_page_is_complete(text, app, ROLLCALL)
    assert "Episodes" in text


def test_the_in_person_page_links_to_the_provider_and_has_no_enroll_button(client, app):
    p = pack(app, INPERSON)
    for browser in (client, None):
        if browser is None:
            make_user(app)
            browser = app.test_client()
            log_in(browser)
        response = browser.get(f"/courses/{INPERSON}")
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        text = page_text(html)
        course_page_is_complete(text, app, INPERSON)
        links = [a for a in tags_of(html).find("a") if a.get("href") == p.in_person.registration_url]
        assert links, "no link to the provider's registration page"
        assert all("noopener" in (a.get("rel") or "") for a in links)
        assert "/enroll" not in html and not re.search(r">\s*Enroll\s*<", html)
        for s in p.in_person.sessions:
            assert s.location in text
    # And enrolling by hand is refused without creating anything.
    token = csrf_token(browser, "/my/courses")
    assert browser.post(f"/courses/{INPERSON}/enroll", data={"csrf_token": token}).status_code == 404
    assert browser.post(f"/courses/{ROLLCALL}/enroll", data={"csrf_token": token}).status_code == 404
    assert "not enrolled in any course" in page_text(browser.get("/my/courses").get_data(as_text=True))


def test_enrolling_while_logged_out_goes_to_log_in_and_back(client, app):
    response = enroll(client)
    assert response.status_code in (302, 303)
    parts = urlsplit(response.location)
    assert parts.path == "/account/login"
    assert parts.query == f"next=%2Fcourses%2F{COURSE}" or parts.query == f"next=/courses/{COURSE}"
    make_user(app)
    login_page = client.get(response.location)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page.get_data(as_text=True))
    logged_in = client.post(response.location, data={"csrf_token": token.group(1), "email": "learner@example.gov",
                                                     "password": "correct horse battery staple"})
    assert logged_in.status_code in (302, 303) and logged_in.location.endswith(f"/courses/{COURSE}")


def test_nothing_is_enrolled_by_a_logged_out_post(client, app):
    from tests.helpers import row_counts

    before = row_counts(app)
    enroll(client)
    after = row_counts(app)
    assert after.get("enrollment") == before.get("enrollment") == 0


# -- bad query strings ------------------------------------------------------------------------------------

BAD_QUERIES = [
    "q=" + "a" * 10000,
    "q=" + "school%20" * 2000,
    "kind=podcast",
    "kind=" + "x" * 500,
    "state=ZZ",
    "state=%00%01",
    "topic=%FF%FE%FD",
    "q=%FF%FE%00%C3%28",
    "q=%E2%82&provider=%C0%AF",
    "q=%00",
    "q=<script>alert(1)</script>",
    "q=%27%20OR%201%3D1--",
    "q[]=x&q=y&q=z",
    "q=.*&topic=(",
    "q=%F0%9F%98%80%F0%9F%98%80",
    "page=-1&sort=__class__",
    "state=A%00",
    "kind=course&kind=video-series",
    "q=" + "%ZZ" * 10,
    "%ZZ=%ZZ",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
@pytest.mark.parametrize("htmx", [False, True])
def test_bad_query_strings_never_cause_a_server_error(client, query, htmx):
    headers = {"HX-Request": "true", "HX-Target": "catalog-results"} if htmx else {}
    response = client.get("/catalog?" + query, headers=headers)
    assert response.status_code < 500, (query, response.status_code)
    if response.status_code == 200:
        body = response.get_data(as_text=True)
        assert "<script>alert(1)" not in body
        ids = result_ids(response)
        assert ids <= ALL


@pytest.mark.parametrize("query", ["kind=podcast", "state=ZZ", "q=" + "a" * 10000, "topic=%FF%FE%FD",
                                   "provider=Nobody", "q=%FF%FEzq%00x%C3%28", "q=qzx" + "%00" * 50,
                                   "kind=course&state=ZZ"])
def test_unknown_filters_match_nothing(client, query):
    response = client.get("/catalog?" + query)
    assert response.status_code in (200, 400, 422)
    if response.status_code == 200:
        assert result_ids(response) == set()
        assert "No course matches" in page_text(response.get_data(as_text=True))


def test_unknown_course_pages_are_404(client):
    for pack_id in ("no-such-course", "x" * 300, "%00", "..", "INTRO-SRO-PROGRAMS"):
        assert client.get(f"/courses/{pack_id}").status_code == 404, pack_id
