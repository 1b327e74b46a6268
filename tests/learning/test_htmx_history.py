"""Back after an htmx swap (issue 15, B3): htmx asks for the page again with
HX-History-Restore-Request, and must get the whole page, header and footer included; every
response that varies on the htmx headers says so in Vary, so no cache hands one for the other."""

from __future__ import annotations

import pytest

from tests.helpers import log_in, make_user

RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true", "HX-Current-URL": "http://x/catalog"}


@pytest.mark.parametrize("headers", [RESTORE, {**RESTORE, "HX-Target": "catalog-results"}])
def test_b3_a_history_restore_gets_the_whole_page(client, headers):
    html = client.get("/catalog?kind=course", headers=headers).get_data(as_text=True)
    assert "<header" in html and "<footer" in html and "<nav" in html
    assert "<html" in html


def test_b3_the_fragment_still_comes_for_a_real_htmx_swap(client):
    html = client.get("/catalog?kind=course", headers={"HX-Request": "true", "HX-Target": "catalog-results"}) \
        .get_data(as_text=True)
    assert "<header" not in html and "result" in html


@pytest.mark.parametrize("path", ["/catalog", "/catalog?q=sro", "/faq", "/courses/intro-sro-programs", "/my/courses"])
def test_b3_vary_names_every_htmx_header_that_changes_the_response(app, client, path):
    make_user(app)
    log_in(client)
    vary = {v.strip().lower() for v in client.get(path).headers.get("Vary", "").split(",")}
    assert {"hx-request", "hx-history-restore-request", "hx-boosted"} <= vary, (path, vary)
    if path.startswith("/catalog"):
        assert "hx-target" in vary
