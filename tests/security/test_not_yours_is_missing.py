"""Someone else's object answers exactly as a missing one does (OWASP ASVS 5.0 V8.2: object-level
access; a different answer would tell an attacker which ids exist). For each kind of object
that belongs to someone (another learner's attempt and certificate, another trainer's roll-call
showing, agency B's records seen by agency A's coordinator, another provider's course report),
the request with the real id and the same request with an id that does not exist get the same
status, the same body once CSRF tokens and the requested ids are blanked, and the same headers;
and a refused POST writes nothing.

Certificates: /certificates/<number> and /certificates/<number>.pdf are the holder's own print
view and PDF (owner only, everyone else a 404 like an unknown number). What anyone may learn from
a number is what /verify/<number> shows on purpose: holder's name, course, completion date and
validity, for employers and academies checking a certificate; numbers are random, not sequential.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import without_csrf
from tests.security.world import AGENCY_A, AGENCY_B, COURSE

MISSING = 999999
NO_CERTIFICATE = "PSTP-2026-ZZZZ-ZZZZ"
# Headers that must match; Content-Length follows from the body and is compared through it.
HEADERS = ("Content-Type", "Cache-Control", "Vary", "Content-Disposition", "Location", "Allow",
           "Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy")

# name: (role, method, path with someone else's object, the same path with missing ids, form data)
# Paths are formatted with world.ids; "{x}" stands for MISSING.
CASES = {
    # learning: another learner's post-test result, through one's own enrollment
    "another learner's result": ("learner", "GET", "/learn/{course}/results/{peer_attempt}",
                                 "/learn/{course}/results/{x}", None),
    "submitting another learner's attempt": ("learner", "POST", "/learn/{course}/tests/post/submit",
                                             "/learn/{course}/tests/post/submit", "attempt"),
    "a result, not enrolled": ("outsider", "GET", "/learn/{course}/results/{attempt}",
                               "/learn/{course}/results/{x}", None),
    # certificates: the print view and the PDF are the holder's alone
    "another learner's certificate": ("learner", "GET", "/certificates/{peer_certificate}",
                                      "/certificates/{no_certificate}", None),
    "another learner's certificate PDF": ("learner", "GET", "/certificates/{peer_certificate}.pdf",
                                          "/certificates/{no_certificate}.pdf", None),
    "a certificate PDF, as support": ("support", "GET", "/certificates/{certificate}.pdf",
                                      "/certificates/{no_certificate}.pdf", None),
    "a certificate PDF, as administrator": ("admin", "GET", "/certificates/{certificate}.pdf",
                                            "/certificates/{no_certificate}.pdf", None),
    "a certificate, as the learner's coordinator": ("coordinator", "GET", "/certificates/{certificate}",
                                                    "/certificates/{no_certificate}", None),
    # roll call: another trainer's showing
    "deleting another trainer's showing": ("coordinator", "POST", "/rollcall/log/{showing_b}/delete",
                                           "/rollcall/log/{x}/delete", {}),
    "deleting a showing one attended": ("learner", "POST", "/rollcall/log/{showing_a}/delete",
                                        "/rollcall/log/{x}/delete", {}),
    # agency B seen by agency A's coordinator: at B's own addresses …
    "B's dashboard": ("coordinator", "GET", "/agencies/{agency_b}", "/agencies/{x}", None),
    "B's members": ("coordinator", "GET", "/agencies/{agency_b}/members", "/agencies/{x}/members", None),
    "B's roster export": ("coordinator", "GET", "/agencies/{agency_b}/roster/export.csv",
                          "/agencies/{x}/roster/export.csv", None),
    "B's award": ("coordinator", "GET", "/agencies/{agency_b}/awards/{award_b}", "/agencies/{x}/awards/{x}", None),
    "B's SRO": ("coordinator", "GET", "/agencies/{agency_b}/sros/{sro_b}", "/agencies/{x}/sros/{x}", None),
    "B's claim": ("coordinator", "GET", "/agencies/{agency_b}/sros/{sro_b}/claim", "/agencies/{x}/sros/{x}/claim",
                  None),
    "B's claim PDF": ("coordinator", "GET", "/agencies/{agency_b}/sros/{sro_b}/claim.pdf",
                      "/agencies/{x}/sros/{x}/claim.pdf", None),
    "B's SRO certificate": ("coordinator", "GET", "/agencies/{agency_b}/sros/{sro_b}/certificate",
                            "/agencies/{x}/sros/{x}/certificate", None),
    "B's certificate mail": ("coordinator", "GET", "/agencies/{agency_b}/sros/{sro_b}/certificate-mail.eml",
                             "/agencies/{x}/sros/{x}/certificate-mail.eml", None),
    "deleting B's expense": ("coordinator", "POST", "/agencies/{agency_b}/sros/{sro_b}/claim/{expense_b}/delete",
                             "/agencies/{x}/sros/{x}/claim/{x}/delete", {}),
    "revoking B's invitation": ("coordinator", "POST", "/agencies/{agency_b}/invites/{invite_b}/revoke",
                                "/agencies/{x}/invites/{x}/revoke", {}),
    "changing a B member's role": ("coordinator", "POST", "/agencies/{agency_b}/members/{member_b}/role",
                                   "/agencies/{x}/members/{x}/role", {"role": "coordinator"}),
    # … and through A's own address with B's object ids
    "B's award via A": ("coordinator", "GET", "/agencies/{agency_a}/awards/{award_b}",
                        "/agencies/{agency_a}/awards/{x}", None),
    "B's SRO via A": ("coordinator", "GET", "/agencies/{agency_a}/sros/{sro_b}", "/agencies/{agency_a}/sros/{x}",
                      None),
    "B's claim via A": ("coordinator", "GET", "/agencies/{agency_a}/sros/{sro_b}/claim",
                        "/agencies/{agency_a}/sros/{x}/claim", None),
    "B's claim PDF via A": ("coordinator", "GET", "/agencies/{agency_a}/sros/{sro_b}/claim.pdf",
                            "/agencies/{agency_a}/sros/{x}/claim.pdf", None),
    "B's SRO certificate via A": ("coordinator", "GET", "/agencies/{agency_a}/sros/{sro_b}/certificate",
                                  "/agencies/{agency_a}/sros/{x}/certificate", None),
    "B's certificate mail via A": ("coordinator", "GET", "/agencies/{agency_a}/sros/{sro_b}/certificate-mail.eml",
                                   "/agencies/{agency_a}/sros/{x}/certificate-mail.eml", None),
    "B's expense via A's SRO": ("coordinator", "POST", "/agencies/{agency_a}/sros/{sro_a}/claim/{expense_b}/delete",
                                "/agencies/{agency_a}/sros/{sro_a}/claim/{x}/delete", {}),
    "B's invitation via A": ("coordinator", "POST", "/agencies/{agency_a}/invites/{invite_b}/revoke",
                             "/agencies/{agency_a}/invites/{x}/revoke", {}),
    "B's member via A": ("coordinator", "POST", "/agencies/{agency_a}/members/{member_b}/role",
                         "/agencies/{agency_a}/members/{x}/role", {"role": "coordinator"}),
    "B's SRO saved via A": ("coordinator", "POST", "/agencies/{agency_a}/sros/{sro_b}", "/agencies/{agency_a}/sros/{x}",
                            {"name": "Taken Over", "role": "initial", "hire_date": "2026-04-15"}),
    "B's award's MOU via A": ("coordinator", "POST", "/agencies/{agency_a}/awards/{award_b}",
                              "/agencies/{agency_a}/awards/{x}", {"mou_submitted_on": "2026-05-01"}),
    "an SRO added to B's award via A": ("coordinator", "POST", "/agencies/{agency_a}/awards/{award_b}/sros/new",
                                        "/agencies/{agency_a}/awards/{x}/sros/new",
                                        {"name": "Planted", "role": "initial", "hire_date": "2026-04-15"}),
    "an expense added to B's claim via A": ("coordinator", "POST", "/agencies/{agency_a}/sros/{sro_b}/claim",
                                            "/agencies/{agency_a}/sros/{x}/claim",
                                            {"category": "lodging", "description": "Hotel",
                                             "incurred_on": "2026-06-01", "amount": "50.00"}),
    # reports: another provider's course looks like a course that does not exist
    "another provider's item analysis": ("other_provider", "GET", "/reports/items?course={course}",
                                         "/reports/items?course=no-such-course", None),
    "another provider's item CSV": ("other_provider", "GET", "/reports/items.csv?course={course}",
                                    "/reports/items.csv?course=no-such-course", None),
    "another provider's course report": ("other_provider", "GET", "/reports/?course={course}",
                                         "/reports/?course=no-such-course", None),
    "another provider's course CSV": ("other_provider", "GET", "/reports/courses.csv?course={course}",
                                      "/reports/courses.csv?course=no-such-course", None),
    "another provider's completions CSV": ("other_provider", "GET", "/reports/completions.csv?course={course}",
                                           "/reports/completions.csv?course=no-such-course", None),
}




def values(world) -> dict:
    return {**world.ids, "course": COURSE, "x": MISSING, "no_certificate": NO_CERTIFICATE}


def ask(world, role, method, path, data, real: bool):
    client = world.browser(role)
    if method == "GET":
        return client.get(path)
    if data == "attempt":  # the attempt's id travels in the form: the real one, or a missing one
        data = {"attempt_id": str(world.ids["peer_attempt"] if real else MISSING)}
    return client.post(path, data={"csrf_token": world.csrf(role), **data})


def blank(body: str, path: str, requested: list[str]) -> str:
    """The body with CSRF tokens, the requested address and the requested non-numeric ids blanked
    (a number like 2 is blanked only as part of the address: it may well be on the page for
    other reasons)."""
    from urllib.parse import quote

    body = without_csrf(body)
    for value in (path, quote(path, safe=""), quote(path)):
        body = body.replace(value, "{path}")
    for value in sorted({v for v in requested if not v.isdigit()}, key=len, reverse=True):
        body = re.sub(r"(?<![\w-])" + re.escape(value) + r"(?![\w-])", "{requested}", body)
    return body


def requested_ids(template: str, filled: dict) -> list[str]:
    return [str(filled[name]) for name in re.findall(r"{(\w+)}", template)] + re.findall(r"no-such-course", template)


@pytest.mark.parametrize("name", list(CASES))
def test_someone_elses_object_answers_like_a_missing_one(world, name):
    role, method, real_template, missing_template, data = CASES[name]
    filled = values(world)
    real_path, missing_path = real_template.format(**filled), missing_template.format(**filled)
    before = world.state()
    real = ask(world, role, method, real_path, data, real=True)
    missing = ask(world, role, method, missing_path, data, real=False)
    changed = world.state() != before
    if changed:
        diff = world.diff()
        world.reset()
        pytest.fail(f"{method} {real_path} as {role} wrote: {diff}")
    assert real.status_code == missing.status_code, (real.status_code, missing.status_code)
    assert real.status_code in (403, 404) or name.startswith("another provider's"), \
        f"{method} {real_path} as {role} was served ({real.status_code})"
    for header in HEADERS:
        assert real.headers.get(header) == missing.headers.get(header), header
    assert [h.split("=", 1)[0] for h in real.headers.getlist("Set-Cookie")] == \
        [h.split("=", 1)[0] for h in missing.headers.getlist("Set-Cookie")]
    real_body = blank(real.get_data(as_text=True), real_path, requested_ids(real_template, filled))
    missing_body = blank(missing.get_data(as_text=True), missing_path, requested_ids(missing_template, filled))
    assert real_body == missing_body, _first_difference(real_body, missing_body)


def _first_difference(a: str, b: str) -> str:
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    return (f"bodies differ at {at}:\n  real:    {a[max(0, at - 80):at + 120]!r}\n"
            f"  missing: {b[max(0, at - 80):at + 120]!r}")


def test_the_real_objects_are_there_for_their_owners(world):
    """So that the 404s above are about who asks: each object answers its owner."""
    owners = [
        ("learner", "/learn/{course}/results/{attempt}"), ("learner", "/certificates/{certificate}"),
        ("learner", "/certificates/{certificate}.pdf"), ("coordinator", "/agencies/{agency_a}"),
        ("coordinator", "/agencies/{agency_a}/awards/{award_a}"), ("coordinator", "/agencies/{agency_a}/sros/{sro_a}"),
        ("coordinator", "/agencies/{agency_a}/sros/{sro_a}/claim"),
        ("coordinator", "/agencies/{agency_a}/sros/{sro_a}/certificate"),
        ("coordinator", "/agencies/{agency_a}/sros/{sro_a}/certificate-mail.eml"),
        ("provider", "/reports/items?course={course}"), ("admin", "/reports/items?course={course}"),
        ("coordinator", "/rollcall/log"),
    ]
    filled = values(world)
    for role, template in owners:
        path = template.format(**filled)
        assert world.browser(role).get(path).status_code == 200, (role, path)
    assert AGENCY_A in world.browser("coordinator").get("/rollcall/log").get_data(as_text=True)
    assert AGENCY_B in world.browser("other_officer").get("/rollcall/log").get_data(as_text=True)


def test_a_certificate_number_is_publicly_verifiable_by_design(world):
    """What a number does reveal, to anyone: the verification page; an unknown number is a 404."""
    anonymous = world.browser("anonymous")
    page = anonymous.get(f"/verify/{world.ids['peer_certificate']}")
    assert page.status_code == 200 and "Valid" in page.get_data(as_text=True)
    assert anonymous.get(f"/verify/{NO_CERTIFICATE}").status_code == 404
    assert anonymous.get(f"/certificates/{world.ids['peer_certificate']}.pdf").status_code == 302  # to log in
