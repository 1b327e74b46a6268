"""Support work: finding learners, helping them, staff roles, the audit log, and the contact form."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.accounts.models import LoginSession, UserRole
from portal.support.models import AuditEntry, ContactRequest
from tests.helpers import (clone_client, csrf_token, get_user, link_in, log_in, make_user, outbox, row_counts,
                           services, submit)

HTMX = {"HX-Request": "true", "HX-Target": "search-results"}


@pytest.fixture
def people(frozen_app):
    app = frozen_app
    return {
        "admin": make_user(app, "admin@example.gov", name="Ada Admin", roles=("admin",)),
        "support": make_user(app, "helper@example.gov", name="Sam Support", roles=("support",)),
        "learner": make_user(app, "pat.learner@example.gov", name="Pat Learner", agency="Springfield PD"),
        "unverified": make_user(app, "new.person@example.gov", name="Nora Newcomer", verified=False),
    }


def staff_client(app, who="helper@example.gov"):
    client = app.test_client()
    assert log_in(client, who).status_code == 302
    return client


def audit_entries(app) -> list[AuditEntry]:
    with services(app).database.session() as db:
        return list(db.exec(select(AuditEntry).order_by(AuditEntry.id)).all())


def act(client, user_id, action, data=None):
    token = csrf_token(client, f"/support/users/{user_id}")
    return client.post(f"/support/users/{user_id}/{action}", data={"csrf_token": token, **(data or {})})


def roles(app, user_id) -> set[str]:
    with services(app).database.session() as db:
        return set(db.exec(select(UserRole.role).where(UserRole.user_id == user_id)).all())


def signed_in(client) -> bool:
    return client.get("/account/profile").status_code == 200


# -- who may enter ------------------------------------------------------------------------------

SUPPORT_PAGES = ["/support/", "/support/?q=pat", "/support/users/1", "/support/requests", "/support/audit"]


def test_visitors_are_sent_to_log_in(frozen_app, people):
    for path in SUPPORT_PAGES:
        response = frozen_app.test_client().get(path)
        assert response.status_code == 302, path
        assert response.location.startswith("/account/login"), path


def test_learners_get_403(frozen_app, people):
    learner = staff_client(frozen_app, "pat.learner@example.gov")
    for path in SUPPORT_PAGES:
        response = learner.get(path)
        assert response.status_code == 403, path
        assert "Not allowed" in response.get_data(as_text=True)


@pytest.mark.parametrize("action", ["confirm", "send-reset", "deactivate", "reactivate", "roles/grant"])
def test_learners_cannot_post_support_actions(frozen_app, people, action):
    client = staff_client(frozen_app, "pat.learner@example.gov")
    before = row_counts(frozen_app)
    token = csrf_token(client, "/account/profile")
    target = people["unverified"].id
    response = client.post(f"/support/users/{target}/{action}", data={"csrf_token": token, "role": "admin"})
    assert response.status_code == 403
    assert row_counts(frozen_app) == before
    assert get_user(frozen_app, "new.person@example.gov").email_verified_at is None


def test_support_pages_open_for_support_and_admin(frozen_app, people):
    for who in ("helper@example.gov", "admin@example.gov"):
        client = staff_client(frozen_app, who)
        assert client.get("/support/").status_code == 200
        assert client.get(f"/support/users/{people['learner'].id}").status_code == 200
        assert client.get("/support/requests").status_code == 200


def test_only_admins_read_the_audit_log(frozen_app, people):
    assert staff_client(frozen_app).get("/support/audit").status_code == 403
    assert staff_client(frozen_app, "admin@example.gov").get("/support/audit").status_code == 200


def test_an_unknown_user_is_404(frozen_app, people):
    assert staff_client(frozen_app).get("/support/users/999999").status_code == 404


# -- search -------------------------------------------------------------------------------------

def test_search_by_email_or_name(frozen_app, people):
    client = staff_client(frozen_app)
    for query in ["pat.learner@example.gov", "PAT.LEARNER", "example.gov", "Pat Lea", "pat learner", "learner"]:
        page = client.get("/support/", query_string={"q": query}).get_data(as_text=True)
        assert "pat.learner@example.gov" in page, query
        assert f'/support/users/{people["learner"].id}"' in page, query


def test_search_finds_only_matches(frozen_app, people):
    page = staff_client(frozen_app).get("/support/?q=nora").get_data(as_text=True)
    assert "new.person@example.gov" in page and "pat.learner@example.gov" not in page
    page = staff_client(frozen_app).get("/support/?q=nobody-like-this").get_data(as_text=True)
    assert "No account matches" in page


def test_search_treats_wildcards_as_text(frozen_app, people):
    client = staff_client(frozen_app)
    for query in ["%", "_", "\\", "%@%"]:
        page = client.get("/support/", query_string={"q": query}).get_data(as_text=True)
        assert "pat.learner@example.gov" not in page and "No account matches" in page, query


def test_htmx_search_returns_only_the_results_partial(frozen_app, people):
    client = staff_client(frozen_app)
    partial = client.get("/support/?q=pat", headers=HTMX)
    full = client.get("/support/?q=pat")
    assert partial.status_code == full.status_code == 200
    html = partial.get_data(as_text=True)
    assert "pat.learner@example.gov" in html and "<table>" in html
    for whole_page_part in ("<html", "<main", "<header", "<footer", "<h1", 'id="search-results"', "<form"):
        assert whole_page_part not in html
    assert "<main" in full.get_data(as_text=True) and 'id="search-results"' in full.get_data(as_text=True)
    for response in (partial, full):
        assert "HX-Request" in response.headers.get("Vary", "")


def test_account_state_is_shown(frozen_app, people):
    learner = people["learner"]
    other = frozen_app.test_client()
    log_in(other, "pat.learner@example.gov")
    page = staff_client(frozen_app).get(f"/support/users/{learner.id}").get_data(as_text=True)
    for fact in ("Pat Learner", "pat.learner@example.gov", "Springfield PD", "Active", "<dt>Signed-in devices</dt><dd>1</dd>",
                 "Learner"):
        assert fact in page
    assert "Not confirmed" not in page
    page = staff_client(frozen_app).get(f"/support/users/{people['unverified'].id}").get_data(as_text=True)
    assert "Not confirmed" in page and "Confirm account" in page


# -- actions, each audited ----------------------------------------------------------------------

def assert_audited(app, actor, action, target, clock):
    entries = [e for e in audit_entries(app) if e.action == action]
    assert len(entries) == 1, audit_entries(app)
    [entry] = entries
    assert (entry.actor_id, entry.target_user_id, entry.created_at) == (actor.id, target.id, clock.now())
    return entry


def test_confirm_an_account_by_hand(frozen_app, people, clock):
    client = staff_client(frozen_app)
    target = people["unverified"]
    response = act(client, target.id, "confirm")
    assert response.status_code == 303
    assert get_user(frozen_app, "new.person@example.gov").email_verified_at == clock.now()
    assert_audited(frozen_app, people["support"], "account.confirm", target, clock)
    # A second press changes nothing and writes nothing more.
    act(client, target.id, "confirm")
    assert len(audit_entries(frozen_app)) == 1


def test_send_a_reset_link(frozen_app, people, clock):
    client = staff_client(frozen_app)
    target = people["learner"]
    assert act(client, target.id, "send-reset").status_code == 303
    [mail] = outbox(frozen_app, "pat.learner@example.gov")
    path = link_in(mail.body_text, "/account/password/reset/")
    assert frozen_app.test_client().get(path).status_code == 200
    assert_audited(frozen_app, people["support"], "account.send_reset", target, clock)


def test_deactivate_ends_that_users_sessions_and_reactivate_restores_log_in(frozen_app, people, clock):
    target = people["learner"]
    learner_browser = frozen_app.test_client()
    log_in(learner_browser, "pat.learner@example.gov", remember=True)
    copy = clone_client(frozen_app, learner_browser)
    client = staff_client(frozen_app)

    assert act(client, target.id, "deactivate", {"reason": "left the agency"}).status_code == 303
    assert not get_user(frozen_app, "pat.learner@example.gov").is_active
    assert not signed_in(learner_browser) and not signed_in(copy)
    with services(frozen_app).database.session() as db:
        sessions = db.exec(select(LoginSession).where(LoginSession.user_id == target.id)).all()
        assert sessions and all(s.ended_at == clock.now() for s in sessions)
    entry = assert_audited(frozen_app, people["support"], "account.deactivate", target, clock)
    assert entry.detail == "left the agency"
    assert log_in(frozen_app.test_client(), "pat.learner@example.gov").status_code == 422

    clock.advance(minutes=5)
    assert act(client, target.id, "reactivate").status_code == 303
    assert get_user(frozen_app, "pat.learner@example.gov").is_active
    assert_audited(frozen_app, people["support"], "account.reactivate", target, clock)
    assert log_in(frozen_app.test_client(), "pat.learner@example.gov").status_code == 302
    assert not signed_in(learner_browser)  # old sessions stay ended


def test_staff_cannot_deactivate_themselves(frozen_app, people):
    client = staff_client(frozen_app, "admin@example.gov")
    act(client, people["admin"].id, "deactivate")
    assert get_user(frozen_app, "admin@example.gov").is_active
    assert audit_entries(frozen_app) == []


@pytest.mark.parametrize("target", ["admin", "support"])
def test_support_staff_cannot_deactivate_staff(frozen_app, people, target):
    other_support = make_user(frozen_app, "helper2@example.gov", name="Second Helper", roles=("support",))
    victim = people[target] if target == "admin" else other_support
    client = staff_client(frozen_app)
    response = act(client, victim.id, "deactivate")
    assert response.status_code == 303
    page = client.get(response.location).get_data(as_text=True)
    assert "Only an administrator" in page
    assert get_user(frozen_app, victim.email).is_active
    assert audit_entries(frozen_app) == []


def test_an_admin_can_deactivate_support_staff(frozen_app, people, clock):
    act(staff_client(frozen_app, "admin@example.gov"), people["support"].id, "deactivate")
    assert not get_user(frozen_app, "helper@example.gov").is_active
    assert_audited(frozen_app, people["admin"], "account.deactivate", people["support"], clock)


# -- staff roles --------------------------------------------------------------------------------

def test_only_admins_grant_or_revoke_roles(frozen_app, people):
    learner = people["learner"]
    support_client = staff_client(frozen_app)
    for action in ("grant", "revoke"):
        response = act(support_client, learner.id, f"roles/{action}", {"role": "support"})
        assert response.status_code == 403
    response = act(support_client, people["support"].id, "roles/grant", {"role": "admin"})
    assert response.status_code == 403
    assert roles(frozen_app, people["support"].id) == {"support"}
    assert roles(frozen_app, learner.id) == set()
    assert audit_entries(frozen_app) == []


def test_an_admin_grants_and_revokes_roles_with_an_audit_trail(frozen_app, people, clock):
    learner = people["learner"]
    admin_client = staff_client(frozen_app, "admin@example.gov")
    assert act(admin_client, learner.id, "roles/grant", {"role": "support"}).status_code == 303
    assert roles(frozen_app, learner.id) == {"support"}
    grant = assert_audited(frozen_app, people["admin"], "role.grant", learner, clock)
    assert grant.detail == "support"
    # The new role works at once.
    assert staff_client(frozen_app, "pat.learner@example.gov").get("/support/").status_code == 200

    clock.advance(minutes=1)
    assert act(admin_client, learner.id, "roles/revoke", {"role": "support"}).status_code == 303
    assert roles(frozen_app, learner.id) == set()
    assert_audited(frozen_app, people["admin"], "role.revoke", learner, clock)
    assert staff_client(frozen_app, "pat.learner@example.gov").get("/support/").status_code == 403


def test_roles_are_only_the_staff_roles(frozen_app, people):
    admin_client = staff_client(frozen_app, "admin@example.gov")
    act(admin_client, people["learner"].id, "roles/grant", {"role": "superuser"})
    assert roles(frozen_app, people["learner"].id) == set()
    assert audit_entries(frozen_app) == []


def test_an_unconfirmed_account_gets_no_staff_role(frozen_app, people):
    act(staff_client(frozen_app, "admin@example.gov"), people["unverified"].id, "roles/grant", {"role": "support"})
    assert roles(frozen_app, people["unverified"].id) == set()


def test_an_admin_cannot_remove_their_own_admin_role(frozen_app, people):
    act(staff_client(frozen_app, "admin@example.gov"), people["admin"].id, "roles/revoke", {"role": "admin"})
    assert roles(frozen_app, people["admin"].id) == {"admin"}


def test_the_audit_page_lists_actor_action_target(frozen_app, people):
    act(staff_client(frozen_app), people["unverified"].id, "confirm")
    page = staff_client(frozen_app, "admin@example.gov").get("/support/audit").get_data(as_text=True)
    assert "1 entry" in page
    for text in ("helper@example.gov", "account.confirm", "new.person@example.gov", "June 15, 2026"):
        assert text in page


# -- contact form -------------------------------------------------------------------------------

def test_the_contact_form_stores_a_request_and_mails_support(frozen_app, clock):
    client = frozen_app.test_client()
    response = submit(client, "/contact", {"name": " Vic  Visitor ", "email": "Vic@Example.gov",
                                           "subject": "Certificate   missing", "message": "Where is it?\nThanks."})
    assert response.status_code == 302 and response.location.endswith("/contact/sent")
    with services(frozen_app).database.session() as db:
        [request] = db.exec(select(ContactRequest)).all()
    assert (request.name, request.email, request.subject) == ("Vic Visitor", "vic@example.gov", "Certificate missing")
    assert request.message == "Where is it?\nThanks." and request.user_id is None
    assert request.created_at == clock.now()
    [mail] = outbox(frozen_app)
    assert mail.to_address == frozen_app.config["SUPPORT_EMAIL"] == "support@portal.test"
    assert mail.subject == f"[Contact #{request.id}] Certificate missing"
    assert "vic@example.gov" in mail.body_text and "Where is it?" in mail.body_text


def test_a_signed_in_contact_is_linked_to_the_account(frozen_app, people):
    client = staff_client(frozen_app, "pat.learner@example.gov")
    form = client.get("/contact").get_data(as_text=True)
    assert 'value="pat.learner@example.gov"' in form  # filled in for them
    submit(client, "/contact", {"name": "Pat Learner", "email": "pat.learner@example.gov",
                                "subject": "Hello", "message": "A question."})
    with services(frozen_app).database.session() as db:
        [request] = db.exec(select(ContactRequest)).all()
    assert request.user_id == people["learner"].id
    assert f"(account #{people['learner'].id})" in outbox(frozen_app)[0].body_text
    page = staff_client(frozen_app).get("/support/requests").get_data(as_text=True)
    assert "A question." in page and f"/support/users/{people['learner'].id}" in page


@pytest.mark.parametrize("field", ["name", "email", "subject", "message"])
def test_an_incomplete_contact_form_stores_nothing(frozen_app, field):
    data = {"name": "Vic", "email": "vic@example.gov", "subject": "S", "message": "M", field: ""}
    before = row_counts(frozen_app)
    assert submit(frozen_app.test_client(), "/contact", data).status_code == 422
    assert row_counts(frozen_app) == before
