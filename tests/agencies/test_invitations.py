"""Invitations match docs/security.md (issue 17: one link worked three times, with no approval
step): a link is single-use by default, spent by the first join; a coordinator may instead make
a multi-use link, with which each person asks to join and a coordinator approves or declines."""

from __future__ import annotations

import pytest

from portal.support.models import AuditEntry
from portal_agencies.models import AgencyJoinRequest
from tests.agencies.support import (AgencyInvite, add_member, agency_state, count, member_of, new_agency, page_text,
                                    rows, signed_in)
from tests.helpers import csrf_token, get_user, make_user, submit


@pytest.fixture
def agency(frozen_app) -> int:
    return new_agency(frozen_app)


@pytest.fixture
def coord(frozen_app, agency):
    return signed_in(frozen_app, "coord@example.gov")


def make_link(coord, agency, kind) -> str:
    response = coord.post(f"/agencies/{agency}/invites", data={
        "csrf_token": csrf_token(coord, f"/agencies/{agency}/members"), "kind": kind})
    assert response.status_code == 303
    page = coord.get(f"/agencies/{agency}/members").get_data(as_text=True)
    start = page.index("/agencies/join/")
    return page[start:page.index("<", start)]


def officer(app, email, name):
    make_user(app, email=email, name=name)
    return signed_in(app, email)


def test_a_link_is_single_use_by_default(frozen_app, agency, coord):
    link = make_link(coord, agency, "single")
    first = officer(frozen_app, "one@example.gov", "Ofc. One")
    assert submit(first, link, {}).status_code == 303
    assert member_of(frozen_app, "one@example.gov").agency_id == agency
    for email, name in (("two@example.gov", "Ofc. Two"), ("three@example.gov", "Ofc. Three")):
        other = officer(frozen_app, email, name)
        assert other.get(link).status_code == 404
        response = other.post(link, data={"csrf_token": csrf_token(other, "/account/profile")})
        assert response.status_code == 404
        assert member_of(frozen_app, email) is None
    [invite] = rows(frozen_app, AgencyInvite)
    assert invite.used_at is not None and not invite.multi_use
    # A spent link is no longer listed as usable.
    assert "Single-use link created" not in page_text(coord.get(f"/agencies/{agency}/members"))


def test_a_multi_use_link_asks_and_a_coordinator_approves_each_join(frozen_app, agency, coord):
    link = make_link(coord, agency, "multi")
    people = [("one@example.gov", "Ofc. One"), ("two@example.gov", "Ofc. Two"), ("three@example.gov", "Ofc. Three")]
    for email, name in people:
        client = officer(frozen_app, email, name)
        response = submit(client, link, {})
        assert response.status_code == 303
        assert "waiting for a coordinator's approval" in page_text(client.get(response.headers["Location"]))
        assert member_of(frozen_app, email) is None
        assert submit(client, link, {}).status_code == 303  # asking twice makes one request
    assert count(frozen_app, "agency_join_request") == 3
    page = page_text(coord.get(f"/agencies/{agency}/members"))
    assert "Requests to join" in page and "Ofc. Two (two@example.gov)" in page
    token = csrf_token(coord, f"/agencies/{agency}/members")
    by_user = {r.user_id: r.id for r in rows(frozen_app, AgencyJoinRequest)}
    one, two = get_user(frozen_app, "one@example.gov"), get_user(frozen_app, "two@example.gov")
    assert coord.post(f"/agencies/{agency}/join-requests", data={
        "csrf_token": token, "request_id": by_user[one.id], "decision": "approve"}).status_code == 303
    assert coord.post(f"/agencies/{agency}/join-requests", data={
        "csrf_token": token, "request_id": by_user[two.id], "decision": "decline"}).status_code == 303
    assert member_of(frozen_app, "one@example.gov").role == "officer"
    assert member_of(frozen_app, "two@example.gov") is None
    assert count(frozen_app, "agency_join_request") == 1
    actions = [e.action for e in rows(frozen_app, AuditEntry)]
    assert actions.count("agency.member.request") == 3
    assert "agency.member.create" in actions and "agency.member.decline" in actions


def test_another_agencys_coordinator_cannot_decide_a_request(frozen_app, agency, coord):
    link = make_link(coord, agency, "multi")
    submit(officer(frozen_app, "one@example.gov", "Ofc. One"), link, {})
    other = new_agency(frozen_app, name="Oak Town PD", coordinator="oak@example.gov")
    oak = signed_in(frozen_app, "oak@example.gov")
    [request] = rows(frozen_app, AgencyJoinRequest)
    before = agency_state(frozen_app)
    token = csrf_token(oak, f"/agencies/{other}/members")
    for path in (f"/agencies/{other}/join-requests", f"/agencies/{agency}/join-requests"):
        response = oak.post(path, data={"csrf_token": token, "request_id": request.id, "decision": "approve"})
        assert response.status_code == 404, path
    for bad in ("", "x", "99999"):
        response = coord.post(f"/agencies/{agency}/join-requests", data={
            "csrf_token": csrf_token(coord, f"/agencies/{agency}/members"), "request_id": bad, "decision": "approve"})
        assert response.status_code == 404
    assert agency_state(frozen_app) == before
