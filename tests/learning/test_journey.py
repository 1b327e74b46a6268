"""The whole journey with the test client: enroll, pre-test, lessons, post-test
(fail, then pass), honor code, certificate, PDF and public verification."""

from __future__ import annotations

from portal.learning.honor_code import HONOR_CODE
from tests.helpers import log_in, make_user, submit
from tests.learning.journey import (COURSE, certificate_number, complete_all_lessons, enroll, take_test)


def test_learner_completes_a_course_and_verifies_the_certificate(frozen_app, clock):
    app = frozen_app
    client = app.test_client()
    make_user(app)
    log_in(client)
    assert enroll(client).status_code == 303
    assert client.get(f"/learn/{COURSE}").location.endswith(f"/learn/{COURSE}/tests/pre")
    _, response = take_test(client, app, "pre")
    assert response.status_code == 303
    complete_all_lessons(client, app)
    attempt, response = take_test(client, app, "post", right=False)
    result = client.get(response.location).get_data(as_text=True)
    assert "You need 80% to pass" in result and "Lessons to review" in result
    clock.advance(minutes=10)  # the cooldown after a failed try
    attempt, response = take_test(client, app, "post", right=True)
    result = client.get(response.location).get_data(as_text=True)
    assert "100%" in result and "You passed" in result
    page = client.get(f"/learn/{COURSE}/honor-code").get_data(as_text=True)
    assert "I hereby attest that I have completed the full course." in page
    response = submit(client, f"/learn/{COURSE}/honor-code", {"answer": "yes"})
    assert response.status_code == 303
    certificate_page = client.get(response.location).get_data(as_text=True)
    number = certificate_number(certificate_page)
    assert "Pat Learner" in certificate_page and "Arizona POST Approved Course" in certificate_page
    pdf = client.get(f"/certificates/{number}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert number in client.get("/my/certificates").get_data(as_text=True)
    public = client.application.test_client()
    verified = public.get(f"/verify/{number}").get_data(as_text=True)
    assert "Pat Learner" in verified and "Valid" in verified
    assert public.get("/verify/PSTP-2026-ZZZZ-ZZZZ").status_code == 404
    assert HONOR_CODE.startswith("I hereby attest")
