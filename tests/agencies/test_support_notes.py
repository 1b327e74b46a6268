"""Support sees a user's agency role before deactivating the account, with a warning when it
is the agency's only coordinator (issue 17: support deactivated an agency's only coordinator
without a word). Through the portal_account_notes hook."""

from __future__ import annotations

from tests.agencies.support import add_member, new_agency, page_text, signed_in
from tests.helpers import get_user, make_user


def support_page(app, email):
    if get_user(app, "help@example.gov") is None:
        make_user(app, email="help@example.gov", name="Sam Support", roles=("support",))
    client = signed_in(app, "help@example.gov")
    return page_text(client.get(f"/support/users/{get_user(app, email).id}"))


def test_support_is_warned_before_deactivating_an_agencys_only_coordinator(frozen_app):
    new_agency(frozen_app)
    text = support_page(frozen_app, "coord@example.gov")
    assert "Coordinator of Elm City Police Department (member since June 15, 2026)." in text
    assert "This is the only active coordinator of Elm City Police Department: deactivating the account" in text
    # The warning comes before the deactivate button.
    assert text.index("only active coordinator") < text.index("Deactivate")


def test_no_warning_when_another_active_coordinator_remains(frozen_app):
    agency = new_agency(frozen_app)
    add_member(frozen_app, agency, "second@example.gov", name="Sgt. Second", role="coordinator")
    add_member(frozen_app, agency, "officer@example.gov", name="Ofc. Rivera")
    text = support_page(frozen_app, "coord@example.gov")
    assert "Coordinator of Elm City Police Department" in text and "only active coordinator" not in text
    assert "Officer of Elm City Police Department" in support_page(frozen_app, "officer@example.gov")


def test_an_inactive_second_coordinator_does_not_count(frozen_app):
    agency = new_agency(frozen_app)
    add_member(frozen_app, agency, "gone@example.gov", name="Gone", role="coordinator", active=False)
    assert "only active coordinator" in support_page(frozen_app, "coord@example.gov")


def test_an_account_outside_any_agency_has_no_agency_note(frozen_app):
    make_user(frozen_app, email="learner@example.gov")
    text = support_page(frozen_app, "learner@example.gov")
    assert "Coordinator of" not in text and "Officer of" not in text
