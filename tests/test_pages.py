"""The site's pages: content, weight budgets, cached assets, accessible structure,
and error pages in the portal's own layout."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser

import pytest
from sqlalchemy.exc import OperationalError

from portal.common.assets import ONE_YEAR
from tests.helpers import PASSWORD, csrf_token, get_user, issue_links, log_in, make_user, path_for, submit

KB = 1024
PAGES = ["/", "/faq", "/contact"]


class PageStructure(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.ids: list[str] = []
        self._label_depth = 0
        self.assets: list[str] = []
        self.h1_text: list[str] = []
        self._in_h1 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "label":
            self._label_depth += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        if tag in {"input", "select", "textarea"}:
            kind = (a.get("type") or "text").lower()
            if not (tag == "input" and kind in {"hidden", "submit", "button", "reset", "image"}):
                self.controls.append({"tag": tag, "id": a.get("id"), "name": a.get("name"),
                                      "wrapped": self._label_depth > 0})
        if tag == "link" and a.get("rel") == "stylesheet":
            self.assets.append(a["href"])
        if tag == "script" and a.get("src"):
            self.assets.append(a["src"])
        if tag == "h1":
            self._in_h1 = True

    def handle_endtag(self, tag):
        if tag == "label":
            self._label_depth -= 1
        if tag == "h1":
            self._in_h1 = False

    def handle_data(self, data):
        if self._in_h1:
            self.h1_text.append(data)


def structure(html: str) -> PageStructure:
    parser = PageStructure()
    parser.feed(html)
    return parser


def assert_accessible_page(html: str, where):
    page = structure(html)
    assert page.tags.count("h1") == 1, (where, page.tags.count("h1"))
    assert page.tags.count("main") == 1, where
    for control in page.controls:
        labelled = (control["id"] and control["id"] in page.label_for) or control["wrapped"]
        assert labelled, (where, control)
    # A label must point at exactly one element.
    ambiguous = {i for i in page.label_for if page.ids.count(i) != 1}
    assert not ambiguous, (where, ambiguous)


# -- the pages ----------------------------------------------------------------------------------

def test_home_page(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Free online training for public safety" in html
    assert 'href="/account/signup"' in html and 'href="/faq"' in html


def test_faq_renders_the_markdown_file(client):
    html = client.get("/faq").get_data(as_text=True)
    assert "<h1>Frequently asked questions</h1>" in html
    assert "<h3>Do I need to attest to an honor code?</h3>" in html
    assert "I hereby attest that I have completed the full course" in html
    assert "80%" in html
    assert "<blockquote>" in html and '<a href="/contact">contact form</a>' in html
    assert "###" not in html and "**Sign up**" not in html  # rendered, not shown raw


def test_the_faq_can_come_from_the_operators_own_file(make_app, tmp_path):
    faq = tmp_path / "faq.md"
    faq.write_text("# Our questions\n\nCall <script>alert(1)</script> [us](javascript:alert(1)).\n")
    app = make_app(PORTAL_FAQ_PATH=str(faq))
    html = app.test_client().get("/faq").get_data(as_text=True)
    assert "<h1>Our questions</h1>" in html
    assert "<script>alert(1)</script>" not in html and 'href="javascript:' not in html


def test_contact_page(client):
    html = client.get("/contact").get_data(as_text=True)
    assert "<h1>Contact support</h1>" in html
    for name in ("name", "email", "subject", "message"):
        assert f'name="{name}"' in html


@pytest.mark.parametrize("path", PAGES)
def test_page_html_is_under_14_kb(client, path):
    """A first visit carries the first-paint styles inside the page (portal/common/first_paint.py):
    on the wire, compressed, it still fits the first round trip; later visits' pages are under
    14 KB even uncompressed."""
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200 and first.headers.get("Content-Encoding") == "gzip"
    assert len(first.get_data()) < 14 * KB, len(first.get_data())
    later = client.get(path)
    assert "<style>" not in later.get_data(as_text=True)
    assert len(later.get_data()) < 14 * KB, len(later.get_data())


@pytest.mark.parametrize("path", PAGES)
def test_first_load_is_under_40_kb_gzipped(client, path):
    gz = {"Accept-Encoding": "gzip"}
    page = client.get(path, headers=gz)
    assert page.headers.get("Content-Encoding") == "gzip"
    html = gzip.decompress(page.get_data()).decode()
    total = len(page.get_data())
    sizes = {path: total}
    for asset in structure(html).assets:
        response = client.get(asset, headers=gz)
        assert response.status_code == 200, asset
        sizes[asset] = len(response.get_data())
        total += sizes[asset]
    assert len(sizes) >= 3, sizes  # the page, its CSS and its JS
    assert total < 40 * KB, sizes


# -- assets -------------------------------------------------------------------------------------

def page_assets(client) -> list[str]:
    assets = structure(client.get("/").get_data(as_text=True)).assets
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    return assets


@pytest.mark.parametrize("signed_in", [False, True], ids=["visitor", "signed-in"])
def test_assets_are_versioned_and_cached_for_a_year(client, app, signed_in):
    if signed_in:
        make_user(app)
        log_in(client)
    for asset in page_assets(client):
        assert re.fullmatch(r"/assets/[\w.-]+\.[0-9a-f]{10}\.(css|js)", asset), asset
        response = client.get(asset)
        assert response.status_code == 200
        cache = response.headers.get("Cache-Control", "")
        assert f"max-age={ONE_YEAR}" in cache and "immutable" in cache, (asset, cache)
        assert "no-store" not in cache
        assert ONE_YEAR == 31536000


def test_an_old_or_unversioned_asset_name_is_404(client):
    for asset in page_assets(client):
        stem, digest, ext = asset.rsplit(".", 2)
        old = f"{stem}.{'0' * 10}.{ext}"
        assert client.get(old).status_code == 404, old
        assert client.get(f"{stem}.{ext}").status_code == 404
    for bad in ("/assets/../config.py", "/assets/..%2Fconfig.py", "/assets/nothing.0123456789.css", "/assets/"):
        assert client.get(bad).status_code == 404, bad


def test_assets_have_the_right_types(client):
    for asset in page_assets(client):
        response = client.get(asset)
        expected = "text/css" if asset.endswith(".css") else ("text/javascript", "application/javascript")
        assert response.mimetype in (expected if isinstance(expected, tuple) else (expected,))


# -- structure of every page --------------------------------------------------------------------

@pytest.fixture
def every_page(frozen_app):
    """(who, path, html) for every GET page that answers 200 with HTML, for three kinds of visitor."""
    app = frozen_app
    make_user(app, "admin@example.gov", name="Ada Admin", roles=("admin",))
    learner = make_user(app)
    links = issue_links(app)
    clients = {"visitor": app.test_client(), "learner": app.test_client(), "admin": app.test_client()}
    log_in(clients["learner"], "learner@example.gov")
    log_in(clients["admin"], "admin@example.gov")
    values = {"user_id": learner.id, "action": "grant"}
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and rule.endpoint != "assets.serve":
            paths.add(path_for(app, rule, values))
    paths |= set(links.values()) | {"/support/?q=learner"}
    pages = []
    for who, client in clients.items():
        for path in sorted(paths):
            response = client.get(path)
            if response.status_code == 200 and response.mimetype == "text/html":
                pages.append((who, path, response.get_data(as_text=True)))
    assert len(pages) > 20
    return pages


def test_every_page_has_one_h1_a_main_and_labelled_inputs(every_page):
    for who, path, html in every_page:
        assert_accessible_page(html, (who, path))


def test_every_page_names_its_language_and_title(every_page):
    for who, path, html in every_page:
        assert '<html lang="en">' in html, (who, path)
        assert re.search(r"<title>[^<]+ · [^<]+</title>", html), (who, path)


def test_form_errors_are_tied_to_their_fields(client):
    response = submit(client, "/account/signup", {"name": "", "email": "bad", "agency": "",
                                                  "password": "x", "confirm": "y"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for field in ("name", "email", "password"):
        assert f'id="{field}-error"' in html
        assert re.search(rf'<input[^>]*aria-describedby="{field}-error"[^>]*aria-invalid="true"|'
                         rf'<input[^>]*aria-invalid="true"[^>]*aria-describedby="{field}-error"', html), field
    assert_accessible_page(html, "signup with errors")


# -- error pages --------------------------------------------------------------------------------

def assert_error_page(response, status: int, title: str):
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html, html[:500]
    assert "<main" in html and '<header class="site">' in html and "<footer" in html
    assert "Traceback" not in html and 'File "' not in html
    assert_accessible_page(html, status)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert "frame-ancestors 'none'" in response.headers.get("Content-Security-Policy", "")


def test_400_page(client):
    assert_error_page(client.post("/contact", data={"name": "x"}), 400, "Bad request")


def test_403_page(client, app):
    make_user(app)
    log_in(client)
    assert_error_page(client.get("/support/"), 403, "Not allowed")


def test_404_page(client):
    assert_error_page(client.get("/no/such/page"), 404, "Page not found")


def test_405_page(client):
    response = client.get("/account/logout")
    assert_error_page(response, 405, "Method not allowed")
    assert "POST" in response.headers.get("Allow", "")


def test_413_page(make_app):
    app = make_app(MAX_CONTENT_LENGTH=4 * KB)
    client = app.test_client()
    token = csrf_token(client, "/contact")
    response = client.post("/contact", data={"csrf_token": token, "name": "x", "email": "x@example.gov",
                                             "subject": "s", "message": "m" * (8 * KB)})
    assert_error_page(response, 413, "Too large")


def test_413_at_the_default_limit(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    assert limit == 8 * KB * KB
    token = csrf_token(client, "/contact")
    response = client.post("/contact", data={"csrf_token": token, "message": "m" * (limit + 1)})
    assert_error_page(response, 413, "Too large")


def test_429_page(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    client = app.test_client()
    token = csrf_token(client, "/contact")
    data = {"csrf_token": token, "name": "Vic", "email": "vic@example.gov", "subject": "s", "message": "m"}
    for _ in range(5):
        client.post("/contact", data=data)
    assert_error_page(client.post("/contact", data=data), 429, "Too many attempts")


@pytest.mark.parametrize("testing", [True, False])
def test_500_page_never_shows_the_error(make_app, testing):
    app = make_app(TESTING=testing)

    @app.get("/test-boom")
    def boom():
        raise RuntimeError("secret-internal-detail-42")

    response = app.test_client().get("/test-boom")
    assert_error_page(response, 500, "Something went wrong")
    assert "secret-internal-detail-42" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_a_busy_database_gets_a_503_page_with_retry_after(make_app):
    app = make_app()

    @app.get("/test-locked")
    def locked():
        raise OperationalError("UPDATE x", {}, Exception("database is locked"))

    response = app.test_client().get("/test-locked")
    assert_error_page(response, 503, "Busy")
    assert response.headers.get("Retry-After") == "5"


def test_an_htmx_error_is_a_fragment_not_a_whole_page(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<h1>Page not found</h1>" in html and "<html" not in html


def test_a_signed_in_error_page_still_works(client, app):
    """Error pages render for signed-in users too (the layout shows their name)."""
    make_user(app)
    log_in(client)
    response = client.get("/no/such/page")
    assert_error_page(response, 404, "Page not found")
    assert "Pat Learner" in response.get_data(as_text=True)
    assert get_user(app, "learner@example.gov") is not None
    assert PASSWORD not in response.get_data(as_text=True)
