"""First paint in one round trip (issue 15): a first visit's page carries the stylesheet's
first-paint rules inside it, allowed by their hash in the CSP (never 'unsafe-inline'), links the
whole file at the end of the body and remembers in a cookie that the browser has it; later
pages link the file in the head and carry no styles of their own."""

from __future__ import annotations

import base64
import hashlib
import re


def test_a_first_visit_gets_the_first_paint_rules_inside_the_page(client):
    first = client.get("/catalog")
    html = first.get_data(as_text=True)
    style = re.search(r"<style>(.*?)</style>", html, flags=re.S)
    assert style and "header.site" in style.group(1) and "body.projector" not in style.group(1)
    source = "'sha256-" + base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode() + "'"
    policy = first.headers["Content-Security-Policy"]
    assert source in policy and "unsafe-inline" not in policy
    head, body = html.split("</head>", 1)
    assert 'rel="stylesheet"' not in head and re.search(r'<link rel="stylesheet" href="/assets/portal\.[0-9a-f]+\.css">\s*</body>', body)
    cookie = [h for h in first.headers.getlist("Set-Cookie") if h.startswith("portal_css=")]
    assert cookie and "HttpOnly" in cookie[0] and "SameSite=Lax" in cookie[0]


def test_later_pages_link_the_cached_stylesheet_in_the_head(client):
    client.get("/")
    later = client.get("/catalog")
    html = later.get_data(as_text=True)
    assert "<style>" not in html
    head = html.split("</head>", 1)[0]
    assert re.search(r'<link rel="stylesheet" href="/assets/portal\.[0-9a-f]+\.css">', head)
    assert "sha256-" not in later.headers["Content-Security-Policy"]
    assert not [h for h in later.headers.getlist("Set-Cookie") if h.startswith("portal_css=")]


def test_an_old_stylesheet_version_in_the_cookie_gets_the_rules_again(client):
    client.set_cookie("portal_css", "0123456789")
    assert "<style>" in client.get("/").get_data(as_text=True)


def test_a_first_visit_carries_only_the_rules_its_page_uses(client):
    """Every byte before the first paint costs time on a slow link: the page gets the first-paint
    rules whose selectors can match its own elements, not the whole first-paint part."""
    from portal.common import first_paint

    everything = first_paint._stylesheet()[0]
    home = client.get("/").get_data(as_text=True)
    style = re.search(r"<style>(.*?)</style>", home, flags=re.S).group(1)
    assert len(style) < len(everything) * 0.8
    assert "header.site{" in style and ":root{" in style  # the page's own elements and the variables
    assert "fieldset.question" not in style and "table.stack" not in style  # no question, no table here
    assert "fieldset.question" in everything and "table.stack" in everything


def test_first_paint_rules_are_chosen_by_the_elements_and_classes_on_the_page():
    from portal.common.first_paint import rules_for

    css = ":root{--a:1}a{color:red}.x .y{top:0}@media (max-width:1px){fieldset.q{left:0}p{right:0}}label:has(input){x:y}"
    assert rules_for(css, frozenset({"a", "p"}), frozenset()) == ":root{--a:1}a{color:red}@media (max-width:1px){p{right:0}}"
    assert rules_for(css, frozenset({"label"}), frozenset({"x"})) == ":root{--a:1}"
    assert rules_for(css, frozenset({"label", "input", "fieldset"}), frozenset({"x", "y", "q"})) == (
        ":root{--a:1}.x .y{top:0}@media (max-width:1px){fieldset.q{left:0}}label:has(input){x:y}")
