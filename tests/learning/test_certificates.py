"""Certificates: exactly one per enrollment however many requests race for it, a stable
number format, a PDF that says everything and is rendered once, public verification that
shows only what it should, and privacy between learners."""

from __future__ import annotations

import io
import re
import subprocess
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from portal.accounts.models import User
from portal.certificates import services as certificates
from portal.certificates.models import Certificate
from portal.common.storage import StoredFile
from portal.learning import services as learning
from portal.learning.models import Enrollment
from tests.helpers import csrf_token, log_in, make_user, services, submit, utc, without_csrf
from tests.learning.journey import (COURSE, complete_all_lessons, enroll, enrollments_of_user, pack, page_text,
                                    reach_certificate, take_test_scoring)

NY = ZoneInfo("America/New_York")
# 16 symbols of Crockford's base32 (80 bits) in four groups; tests/security/test_certificate_numbers.py
NUMBER = re.compile(r"^PSTP-(\d{4})-([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})-([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})$")
AGENCY = "Maricopa County Sheriff's Office"
THREADS = 50


def new_learner(app, email="learner@example.gov", name="Pat Learner", agency=AGENCY):
    make_user(app, email=email, name=name, agency=agency)
    client = app.test_client()
    log_in(client, email)
    return client


def passed_and_attested(app, client, email="learner@example.gov", score=10) -> Enrollment:
    """A learner who has passed and attested but has no certificate yet."""
    enroll(client)
    take_test_scoring(client, app, "pre", 5, email)
    complete_all_lessons(client, app)
    take_test_scoring(client, app, "post", score, email)
    [enrollment] = enrollments_of_user(app, email)
    s = services(app)
    with s.database.write_session() as w:
        learning.attest_honor_code(w, w.get(Enrollment, enrollment.id), "yes", s.clock.now())
    assert all_certificates(app) == []
    return enrollment


def all_certificates(app) -> list[Certificate]:
    with services(app).database.session() as db:
        return list(db.exec(select(Certificate).order_by(Certificate.id)).all())


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())


# -- exactly one ---------------------------------------------------------------------------------

def test_fifty_concurrent_issues_make_exactly_one_certificate(app):
    client = new_learner(app)
    enrollment = passed_and_attested(app, client)
    s = services(app)
    the_pack = pack(app)
    numbers, errors = [], []
    barrier = threading.Barrier(THREADS)

    def issue():
        try:
            barrier.wait()
            with s.database.write_session() as w:
                row = w.get(Enrollment, enrollment.id)
                user = w.get(User, row.user_id)
                numbers.append(certificates.issue_certificate(w, row, user, the_pack, s.clock.now(), NY).number)
        except Exception as error:  # noqa: BLE001 - every failure is reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=issue) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(numbers) == THREADS and len(set(numbers)) == 1
    [certificate] = all_certificates(app)
    assert certificate.number == numbers[0] and certificate.enrollment_id == enrollment.id


def test_fifty_concurrent_certificate_posts_make_exactly_one_certificate(app):
    client = new_learner(app)
    passed_and_attested(app, client)
    browsers = []
    for _ in range(THREADS):  # fifty separate browsers, each logged in on its own
        browser = app.test_client()
        log_in(browser)
        browsers.append((browser, csrf_token(browser, "/my/courses")))
    statuses, locations, errors = [], [], []
    barrier = threading.Barrier(THREADS)

    def post(browser, token):
        try:
            barrier.wait()
            response = browser.post(f"/learn/{COURSE}/certificate", data={"csrf_token": token})
            statuses.append(response.status_code)
            locations.append(response.location)
        except Exception as error:  # noqa: BLE001
            errors.append(repr(error))

    threads = [threading.Thread(target=post, args=pair) for pair in browsers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = all_certificates(app)
    summary = f"{len(rows)} certificate row(s); statuses: {sorted(statuses)}"
    assert errors == [] and len(statuses) == THREADS, (errors, summary)
    assert len(rows) == 1, summary
    assert all(status < 500 for status in statuses), summary
    assert set(statuses) == {303} and set(locations) == {f"/certificates/{rows[0].number}"}, summary


def test_the_honor_code_and_certificate_posts_are_safe_to_repeat(app):
    client = new_learner(app)
    number = reach_certificate(client, app)
    for _ in range(3):
        response = submit(client, f"/learn/{COURSE}/certificate", {}, form_page="/my/courses")
        assert response.status_code == 303 and response.location.endswith(f"/certificates/{number}")
        assert submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"},
                      form_page="/my/courses").status_code in (302, 303)
    assert [c.number for c in all_certificates(app)] == [number]


def test_no_certificate_without_passing_and_attesting(app):
    client = new_learner(app)
    enroll(client)
    take_test_scoring(client, app, "pre", 5)
    complete_all_lessons(client, app)
    assert submit(client, f"/learn/{COURSE}/certificate", {}, form_page="/my/courses").status_code == 303
    take_test_scoring(client, app, "post", 10)
    response = submit(client, f"/learn/{COURSE}/certificate", {}, form_page="/my/courses")
    assert response.status_code == 303 and "/certificates/" not in response.location
    assert all_certificates(app) == []


# -- the number -------------------------------------------------------------------------------------

def test_certificate_number_format(frozen_app, clock):
    clock.set(utc(2026, 7, 1, 16, 0))
    client = new_learner(frozen_app)
    number = reach_certificate(client, frozen_app)
    match = NUMBER.match(number)
    assert match and match.group(1) == "2026"
    [certificate] = all_certificates(frozen_app)
    assert certificate.number == number and certificate.session_year == 2026
    for _ in range(2000):
        assert NUMBER.match(certificates.new_certificate_number(2031)).group(1) == "2031"


# -- the PDF ---------------------------------------------------------------------------------------

@pytest.fixture
def certified(frozen_app, clock):
    clock.set(utc(2026, 6, 15, 14, 0))  # 10:00 in New York
    client = new_learner(frozen_app)
    number = reach_certificate(client, frozen_app)
    return frozen_app, client, number


@pytest.fixture
def passed(frozen_app, clock):
    """A learner who passed the post-test on June 15, 2026 and has not attested yet."""
    clock.set(utc(2026, 6, 15, 14, 0))
    client = new_learner(frozen_app)
    enroll(client)
    take_test_scoring(client, frozen_app, "pre", 5)
    complete_all_lessons(client, frozen_app)
    take_test_scoring(client, frozen_app, "post", 10)
    return frozen_app, client


def forged_host(app, client):
    """The same browser, its requests forged to name another host (cookies sent by hand,
    since the test client only sends them to the host that set them)."""
    cookies = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    forger = app.test_client(use_cookies=False)
    return forger, dict(headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example", "Cookie": cookies},
                        base_url="http://evil.example")


def test_the_pdf_says_everything_and_links_to_the_configured_base_url(passed):
    """Every request that could render the PDF (the issuing POST, then the GETs) names a forged host."""
    app, client = passed
    the_pack = pack(app)
    forger, forged = forged_host(app, client)
    token = csrf_token(client, f"/learn/{COURSE}/honor-code")
    issued = forger.post(f"/learn/{COURSE}/honor-code", data={"answer": "yes", "csrf_token": token}, **forged)
    assert issued.status_code == 303, issued.status_code
    number = issued.location.rsplit("/", 1)[-1]
    assert NUMBER.match(number)
    response = forger.get(f"/certificates/{number}.pdf", **forged)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data)
    for expected in ("Pat Learner", the_pack.title, the_pack.provider.name, "June 15, 2026", "2026 session",
                     "4 hours", "Arizona POST Approved Course (AZ), approval AZPOST-CE-2026-0417, 4 credit hours",
                     number, f"https://portal.test/verify/{number}"):
        assert expected in text, f"{expected!r} missing from the PDF text:\n{text}"
    assert "evil.example" not in text
    page = forger.get(f"/certificates/{number}", **forged).get_data(as_text=True)
    assert f"https://portal.test/verify/{number}" in page and "evil.example" not in page


def test_the_pdf_is_rendered_once_and_then_served_as_stored(passed, monkeypatch):
    app, client = passed
    real = certificates.render_certificate_pdf
    calls = []

    def render_once(html):
        calls.append(1)
        if len(calls) > 1:
            raise AssertionError("the certificate PDF was rendered a second time")
        return real(html)

    monkeypatch.setattr(certificates, "render_certificate_pdf", render_once)
    issued = submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    assert issued.status_code == 303
    number = issued.location.rsplit("/", 1)[-1]
    first = client.get(f"/certificates/{number}.pdf")
    assert first.status_code == 200 and first.data.startswith(b"%PDF")
    second = client.get(f"/certificates/{number}.pdf?download=1")
    assert second.status_code == 200 and second.data == first.data
    assert "attachment" in second.headers["Content-Disposition"]
    assert "inline" in first.headers["Content-Disposition"]
    other_browser = app.test_client()
    log_in(other_browser)
    assert other_browser.get(f"/certificates/{number}.pdf").data == first.data
    again = submit(client, f"/learn/{COURSE}/certificate", {}, form_page="/my/certificates")
    assert again.status_code == 303 and again.location.endswith(f"/certificates/{number}")
    assert client.get(f"/certificates/{number}.pdf").data == first.data
    assert len(calls) == 1
    with services(app).database.session() as db:
        stored = db.get(StoredFile, f"certificates/{number}.pdf")
        certificate = db.exec(select(Certificate).where(Certificate.number == number)).one()
    assert stored is not None and stored.data == first.data and stored.content_type == "application/pdf"
    assert certificate.pdf_key == stored.key


def test_the_pdf_is_small_and_renders_to_a_visible_page(certified, tmp_path):
    app, client, number = certified
    data = client.get(f"/certificates/{number}.pdf").data
    assert len(data) < 50 * 1024, f"the PDF is {len(data)} bytes"
    (tmp_path / "cert.pdf").write_bytes(data)
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(tmp_path / "cert.pdf"), str(tmp_path / "page")],
                   check=True, capture_output=True, timeout=60)
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) == 1, "the certificate should be a single page"
    assert pages[0].stat().st_size > 2 * 1024
    from PIL import Image

    with Image.open(pages[0]) as image:
        gray = image.convert("L")
        width, height = gray.size
        assert width > height  # landscape
        dark = sum(gray.histogram()[:200])  # pixels darker than light grey
    assert dark > 0.01 * width * height, "the rendered page is (almost) blank"


# -- public verification -------------------------------------------------------------------------------

def test_public_verification_shows_the_facts_and_nothing_private(frozen_app, clock):
    clock.set(utc(2026, 6, 15, 14, 0))
    client = new_learner(frozen_app)
    enroll(client)
    take_test_scoring(client, frozen_app, "pre", 5)
    complete_all_lessons(client, frozen_app)
    take_test_scoring(client, frozen_app, "post", 9)
    response = submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    number = response.location.rsplit("/", 1)[-1]
    public = frozen_app.test_client()
    response = public.get(f"/verify/{number}")
    assert response.status_code == 200
    text = page_text(response.get_data(as_text=True))
    for expected in ("Pat Learner", pack(frozen_app).title, "June 15, 2026", "2026", "Valid", number):
        assert expected in text, expected
    lowered = text.lower()
    for private in ("learner@example.gov", "example.gov", AGENCY, "Maricopa", "90%", "score"):
        assert private.lower() not in lowered, private


def test_an_unknown_number_is_not_found(app):
    public = app.test_client()
    for number in ("PSTP-2026-ZZZZ-ZZZZ", "PSTP-2026-2222-2222", "nonsense", "x" * 200, "%00", "PSTP-2026"):
        response = public.get(f"/verify/{number}")
        assert response.status_code == 404, number
        assert "not found" in page_text(response.get_data(as_text=True)).lower(), number


def test_typed_numbers_are_normalised(certified):
    app, _, number = certified
    public = app.test_client()
    year, first, second = NUMBER.match(number).groups()
    for typed in (number.lower(), f"  {number}  ", f" {number.lower()}\t", f"PSTP - {year} - {first} - {second}",
                  f"pstp-{year}-{first.lower()}-{second}"):
        response = public.get("/verify", query_string={"number": typed})
        assert response.status_code in (301, 302, 303) and response.location.endswith(f"/verify/{number}"), typed
        assert "Pat Learner" in page_text(public.get(response.location).get_data(as_text=True))
    # A number typed straight into the address is normalised too.
    assert public.get(f"/verify/{number.lower()}").status_code == 200


def test_other_learners_get_404_for_my_certificate(certified):
    app, _, number = certified
    other = new_learner(app, "other@example.gov", "Other Learner", agency=None)
    for path in (f"/certificates/{number}", f"/certificates/{number}.pdf", f"/certificates/{number}.pdf?download=1"):
        mine = other.get(path)
        missing = other.get(path.replace(number, "PSTP-2026-ZZZZ-ZZZZ"))
        assert mine.status_code == missing.status_code == 404, path
        assert without_csrf(mine.get_data(as_text=True)) == without_csrf(missing.get_data(as_text=True))
    assert number not in other.get("/my/certificates").get_data(as_text=True)
    anonymous = app.test_client()
    for path in (f"/certificates/{number}", f"/certificates/{number}.pdf"):
        response = anonymous.get(path)
        assert response.status_code == 302 and "/account/login" in response.location


def test_my_certificates_lists_every_certificate(certified, clock):
    app, client, first = certified
    clock.set(utc(2027, 4, 20, 14, 0))
    log_in(client)
    second = reach_certificate(client, app)
    page = client.get("/my/certificates")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = page_text(html)
    assert first in html and second in html
    assert "June 15, 2026" in text and "April 20, 2027" in text
    assert text.count(pack(app).title) >= 2
    for number in (first, second):
        assert f'href="/certificates/{number}"' in html and f"/certificates/{number}.pdf" in html
