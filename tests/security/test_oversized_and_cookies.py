"""Audit finding 12 (informational): a 7.5 MB field was echoed back in full in the 422 page;
cookies lacked the `__Host-` prefix over https. (Its third point, an email change ending the
other sessions, is finding 5: tests/security/test_account_findings.py.)
"""

from __future__ import annotations

import pytest

from portal.common.security import MAX_FIELD_CHARS
from tests.helpers import PASSWORD, log_in, make_user, row_counts, set_cookie_headers, submit

HUGE = "A" * (7_500_000)  # the auditor's field: under MAX_CONTENT_LENGTH, far over any field


def _sign_up(client, **fields):
    data = {"name": "Dana Officer", "email": "dana@example.gov", "agency": "", "password": PASSWORD,
            "confirm": PASSWORD, **fields}
    return submit(client, "/account/signup", data)


@pytest.mark.parametrize("field", ["name", "agency", "email"])
def test_a_huge_field_is_refused_without_being_echoed(client, app, field):
    before = row_counts(app)
    response = _sign_up(client, **{field: HUGE})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert len(page) < 20_000 and "AAAAAAAAAA" not in page
    assert "too long" in page.lower()
    assert row_counts(app) == before


def test_a_field_over_its_own_limit_is_not_echoed_either(client, app):
    long_name = "B" * 5000  # under the global cap, over the name's 120 characters
    assert len(long_name) < MAX_FIELD_CHARS
    response = _sign_up(client, name=long_name)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "BBBBBBBBBB" not in page and len(page) < 20_000
    assert "dana@example.gov" in page  # fields within their limits are kept for the next try


def test_a_long_message_on_a_text_area_is_not_echoed(client):
    response = submit(client, "/contact", {"name": "Vic", "email": "vic@example.gov", "subject": "S",
                                           "message": "C" * 30_000})
    assert response.status_code == 422
    assert "CCCCCCCCCC" not in response.get_data(as_text=True)


@pytest.mark.parametrize(("base_url", "prefixed"), [("https://portal.test", True), ("http://127.0.0.1:19001", False)])
def test_cookies_take_the_host_prefix_over_https(make_app, base_url, prefixed):
    app = make_app(PORTAL_BASE_URL=base_url)
    make_user(app)
    client = app.test_client()
    response = log_in(client, remember=True)
    assert response.status_code == 302
    for name in ("portal_session", "portal_remember"):
        expected = ("__Host-" if prefixed else "") + name
        [header] = set_cookie_headers(response, expected)
        attributes = [part.strip().lower() for part in header.split(";")[1:]]
        assert "path=/" in attributes and not any(a.startswith("domain=") for a in attributes)
        assert ("secure" in attributes) is prefixed
        if prefixed:
            assert set_cookie_headers(response, name) == []
    assert client.get("/account/profile").status_code == 200
