"""The shortest path through the core: sign up, verify, log in, log out."""

from tests.helpers import PASSWORD, get_user, link_in, log_in, outbox, submit


def test_sign_up_verify_log_in_and_out(client, app):
    response = submit(client, "/account/signup", {
        "name": "Dana Officer", "email": "Dana@Example.gov", "agency": "Springfield PD",
        "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/account/verify/sent")
    user = get_user(app, "dana@example.gov")
    assert user is not None and user.email_verified_at is None
    [mail] = outbox(app, "dana@example.gov")
    path = link_in(mail.body_text, "/account/verify/")
    assert client.get(path).status_code == 200
    assert get_user(app, "dana@example.gov").email_verified_at is None  # GET changes nothing
    assert submit(client, path, {}).status_code == 302
    assert get_user(app, "dana@example.gov").email_verified_at is not None
    response = log_in(client, "dana@example.gov")
    assert response.status_code == 302
    assert "Dana Officer" in client.get("/account/profile").get_data(as_text=True)
    submit(client, "/account/logout", {}, form_page="/account/profile")
    assert client.get("/account/profile").status_code == 302
