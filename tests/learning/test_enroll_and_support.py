"""The FAQ says to click "Enroll" beside a course, and the support address is on the site
(issue 15): an Enroll button beside each online course in the catalog (a form that works without
JavaScript, in the htmx results too), and the support email in every page's footer."""

from __future__ import annotations

import re

from tests.helpers import log_in, make_user
from tests.learning.journey import COURSE, enrollments_of_user


def test_the_catalog_has_an_enroll_button_beside_each_online_course(app, client):
    for headers in ({}, {"HX-Request": "true", "HX-Target": "catalog-results"}):
        html = client.get("/catalog", headers=headers).get_data(as_text=True)
        assert f'action="/courses/{COURSE}/enroll"' in html
        courses = [p for p in app.extensions["packs"].all() if p.kind == "course"]
        assert len(re.findall(r'action="/courses/[^"]+/enroll"', html)) == len(courses)
        assert 'name="csrf_token"' in html


def test_enroll_from_the_catalog_enrolls_a_signed_in_learner(app, client):
    make_user(app)
    log_in(client)
    html = client.get("/catalog").get_data(as_text=True)
    form = re.search(rf'<form method="post" action="/courses/{COURSE}/enroll".*?</form>', html, flags=re.S).group(0)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    response = client.post(f"/courses/{COURSE}/enroll", data={"csrf_token": token})
    assert response.status_code == 303
    assert [e.pack_id for e in enrollments_of_user(app)] == [COURSE]


def test_the_support_email_is_on_every_page(client, app):
    email = app.config["SUPPORT_EMAIL"]
    for path in ("/", "/catalog", "/faq", "/contact", f"/courses/{COURSE}"):
        assert f'href="mailto:{email}"' in client.get(path).get_data(as_text=True), path
