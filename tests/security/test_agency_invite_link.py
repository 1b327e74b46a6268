"""Audit finding 10: the agency members page printed any `?link=` value as "the invitation
link to share", so a crafted address put a phishing link in a coordinator's own page, framed
as the portal's. The new link now travels in the coordinator's session, never the address.
"""

from __future__ import annotations


from tests.agencies.support import new_agency, signed_in
from tests.helpers import csrf_token

PHISH = "https://evil.example/agencies/join/steal"


def test_the_members_page_ignores_a_link_in_its_address(app):
    agency = new_agency(app)
    coordinator = signed_in(app, "coord@example.gov")
    page = coordinator.get(f"/agencies/{agency}/members", query_string={"link": PHISH}).get_data(as_text=True)
    assert "evil.example" not in page and "/join/steal" not in page
    page = coordinator.get(f"/agencies/{agency}/members",
                           query_string={"link": "/agencies/join/made-up-token"}).get_data(as_text=True)
    assert "made-up-token" not in page


def test_a_new_invitation_link_is_shown_once_to_its_maker_and_works(app):
    agency = new_agency(app)
    coordinator = signed_in(app, "coord@example.gov")
    members = f"/agencies/{agency}/members"
    response = coordinator.post(f"/agencies/{agency}/invites", data={"csrf_token": csrf_token(coordinator, members)})
    assert response.status_code == 303
    assert "link=" not in response.location and "/join/" not in response.location  # no token in the address
    page = coordinator.get(response.location).get_data(as_text=True)
    marker = "Invitation link: <code>https://portal.test"
    assert marker in page
    path = page.split(marker, 1)[1].split("</code>", 1)[0]
    assert path.startswith("/agencies/join/")
    assert coordinator.get(path).status_code == 200  # the real link works
    assert marker not in coordinator.get(members).get_data(as_text=True)  # shown once
    second_browser = signed_in(app, "coord@example.gov")  # the same coordinator elsewhere: not there either
    assert path not in second_browser.get(members).get_data(as_text=True)
