"""Hostile text in every field people type: each cross-site scripting vector of the pack
Markdown suite (tests/packs/test_xss.py) as a display name, an agency name, an officer's
name, an award number, a roster cell, a roll-call agency and notes, a contact message and a
search query. Every page, CSV and mail that shows them must show them as text: parsed with
html.parser, no page may hold an element or attribute the same page never has with benign
values, an event handler, a script that is not the portal's own, or a link with a scheme
that runs code, and each vector's text must be visible on the page (so the test cannot pass
because nothing was shown)."""

from __future__ import annotations

import csv
import email
import io
import re
from email import policy
from html.parser import HTMLParser

import pytest
from sqlalchemy import text

from portal.mail.services import build_email
from tests.helpers import csrf_token, get_user, log_in, make_user, outbox, services, submit
from tests.packs.packtools import url_problem
from tests.packs.test_xss import VECTORS

# PostgreSQL cannot store NUL, and the portal refuses it with a 400 (see the last test), so
# the stored vectors are the suite's vectors without it.
STORED = list(dict.fromkeys(v.replace("\x00", "") for v in VECTORS))
assert len(STORED) >= 150

URL_ATTRIBUTES = {"href", "src", "srcset", "action", "formaction", "xlink:href", "background", "poster", "data",
                  "cite", "longdesc", "usemap", "hx-get", "hx-post", "hx-put", "hx-patch", "hx-delete"}
ALWAYS_DANGEROUS = {"iframe", "object", "embed", "frame", "frameset", "applet", "base", "svg", "math", "template",
                    "noscript", "marquee", "audio", "video", "source", "style"}


def fit(value: str, length: int) -> str:
    """The vector cut to the field's maximum length (still hostile: an unclosed tag is a vector too)."""
    return value[:length]


def as_exported(value: str) -> str:
    """A cell as a formula-safe CSV export holds it: behind an apostrophe when a spreadsheet
    would take it for a formula (a plain number stays a number)."""
    if re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", value):
        return value
    runs = value[:1] in ("\t", "\r") or value.lstrip(" \t\r\n\u00a0\u3000").startswith(
        ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"))
    return "'" + value if runs else value


def shown(value: str) -> str:
    """The vector as the page's visible text has it: whitespace collapsed."""
    return " ".join(value.split())


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> _Tags:
    parser = _Tags()
    parser.feed(page)
    parser.close()
    return parser


def template_markup() -> set[tuple[str, str]]:
    """Every (element, attribute) pair the portal's own HTML templates can write, Jinja removed."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    found: set[tuple[str, str | None]] = set()
    for folder in ("portal", "plugins"):
        for path in (root / folder).rglob("templates/**/*.html"):
            source = re.sub(r"\{#.*?#\}|\{%.*?%\}", "", path.read_text(encoding="utf-8"), flags=re.S)
            for tag, attrs in parse(re.sub(r"\{\{.*?\}\}", "x", source, flags=re.S)).tags:
                found.update((tag, name) for name, _ in attrs)
    assert ("form", "action") in found and ("input", "name") in found, "the templates were not found"
    return found


class Inspector:
    """Knows the elements the pages have with benign values and the attributes those pages and
    the portal's templates have (a flash or a form error adds some), then reports what a hostile
    page has beyond them, plus whatever could run script whatever the baseline."""

    TEMPLATES: set | None = None

    def __init__(self):
        if Inspector.TEMPLATES is None:
            Inspector.TEMPLATES = template_markup()
        self.known: set[tuple[str, str | None]] = set(Inspector.TEMPLATES)
        self.own: set[tuple[str, str, str | None]] = set()  # the portal's own attribute values
        self.dangerous: dict[str, int] = {}  # e.g. the PDF's own <style>: how many a benign page has

    def learn(self, page: str) -> None:
        tags = parse(page).tags
        for name in ALWAYS_DANGEROUS:
            self.dangerous[name] = max(self.dangerous.get(name, 0), sum(tag == name for tag, _ in tags))
        for tag, attrs in tags:
            self.known.add((tag, None))
            self.known.update((tag, name) for name, _ in attrs)
            self.own.update((tag, name, value) for name, value in attrs)

    def problems(self, page: str) -> list[str]:
        found = []
        tags = parse(page).tags
        for name in ALWAYS_DANGEROUS:
            if sum(tag == name for tag, _ in tags) > self.dangerous.get(name, 0):
                found.append(f"<{name}> element beyond the page's own")
        for tag, attrs in tags:
            if (tag, None) not in self.known:
                found.append(f"<{tag}> element the page never has")
            for name, value in attrs:
                if (tag, name, value) in self.own:
                    continue
                value = value or ""
                if (tag, name) not in self.known:
                    found.append(f"<{tag} {name}=...> attribute the page never has")
                if name.startswith("on") or name.startswith("hx-on") or name in ("srcdoc", "formaction"):
                    found.append(f"<{tag} {name}={value!r}> can run script")
                if tag == "script" and name == "src" and not value.startswith("/assets/"):
                    found.append(f"<script src={value!r}> is not the portal's own script")
                if name == "style" and re.search(r"url\(|expression|javascript", value, re.I):
                    found.append(f"<{tag} style={value!r}>")
                if name in URL_ATTRIBUTES and not (tag == "img" and name == "src" and value.startswith("data:image/")):
                    if why := url_problem(value):
                        found.append(f"<{tag} {name}={value!r}> {why}")
            if tag == "script" and "src" not in dict(attrs):
                found.append("an inline <script>")
        return found

    def check(self, page: str, where: str, *values: str) -> None:
        """`page` is inert and shows each value as text (or holds it as a form field's value)."""
        problems = self.problems(page)
        assert problems == [], f"{where}: {problems[:5]}"
        parsed = parse(page)
        visible = shown("".join(parsed.text)) + "\n".join(shown(v or "") for _, attrs in parsed.tags for _, v in attrs)
        missing = [v for v in values if shown(v) not in visible]
        assert not missing, f"{where}: not shown as text: {missing[:3]!r}"


def body(response, where: str, status: int = 200) -> str:
    assert response.status_code == status, f"{where}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    return response.get_data(as_text=True)


def plain_text_mail(row, where: str) -> email.message.EmailMessage:
    """Mail is plain text only: no HTML part exists for a vector to run in, and the headers
    the vector could reach stay one line each."""
    message = email.message_from_bytes(bytes(build_email(row, "Portal <no-reply@portal.test>")),
                                       policy=policy.default)
    kinds = [part.get_content_type() for part in message.walk()]
    assert kinds == ["text/plain"], f"{where}: parts {kinds}"
    assert sorted(message.keys()) == ["Content-Transfer-Encoding", "Content-Type", "Date", "From", "MIME-Version",
                                      "Message-ID", "Subject", "To"], f"{where}: headers {message.keys()}"
    return message


def signed_in(app, email_address):
    client = app.test_client()
    assert log_in(client, email_address).status_code == 302
    return client


# -- accounts: display names and agencies, support pages, the profile ------------------------

def test_names_and_agencies_are_inert_on_support_pages(app):
    make_user(app, email="support@example.gov", name="Sam Support", roles=("support",))
    staff = signed_in(app, "support@example.gov")
    inspector = Inspector()
    benign = make_user(app, email="g0-benign@example.gov", name="Benign Name", agency="Benign Agency")
    inspector.learn(body(staff.get("/support/?q=g0-"), "search"))
    inspector.learn(body(staff.get("/support/?q=g0-", headers={"HX-Request": "true", "HX-Target": "search-results"}),
                         "search fragment"))
    inspector.learn(body(staff.get(f"/support/users/{benign.id}"), "user page"))
    users = []
    for i, vector in enumerate(STORED):
        users.append(make_user(app, email=f"g{1 + i // 40}-{i}@example.gov", name=fit(vector, 120),
                               agency=fit(vector, 160)))
    for group in range(1, 2 + len(STORED) // 40):
        names = [u.name for u in users if u.email.startswith(f"g{group}-")]
        page = body(staff.get(f"/support/?q=g{group}-"), "search")
        inspector.check(page, f"support search g{group}-", *names)
        fragment = body(staff.get(f"/support/?q=g{group}-", headers={"HX-Request": "true",
                                                                     "HX-Target": "search-results"}), "fragment")
        inspector.check(fragment, f"support search fragment g{group}-", *names)
    for user in users:
        page = body(staff.get(f"/support/users/{user.id}"), "user page")
        inspector.check(page, f"support user page of {user.name!r}", user.name, user.agency)


def test_profile_fields_are_inert_wherever_the_account_shows_them(app):
    make_user(app)
    learner = signed_in(app, "learner@example.gov")
    inspector = Inspector()
    log_form = "/series/rollcall-school-safety/" + app.extensions["packs"].get("rollcall-school-safety").lessons[0].id + "/log"
    pages = ["/account/profile", "/my/courses", "/contact", "/rollcall/log", "/agencies/", log_form]
    for path in pages:
        inspector.learn(body(learner.get(path), path))
    token = csrf_token(learner, "/account/profile")
    visitor = app.test_client()
    for vector in STORED:
        name, agency = fit(vector, 120), fit(vector, 160)
        response = learner.post("/account/profile", data={"csrf_token": token, "name": name, "agency": agency})
        assert response.status_code in (302, 303), (vector, response.status_code)
        user = get_user(app, "learner@example.gov")
        assert (user.name, user.agency) == (name, agency) or (shown(user.name), shown(user.agency or "")) == (
            shown(name), shown(agency)), vector
        profile = body(learner.get("/account/profile"), "profile")
        inspector.check(profile, f"profile with {vector!r}")
        fields = {attrs_dict.get("name"): attrs_dict.get("value") for tag, attrs in parse(profile).tags
                  if tag == "input" for attrs_dict in [dict(attrs)]}
        assert shown(fields["name"]) == shown(user.name) and shown(fields["agency"]) == shown(user.agency), vector
        # the contact form fills in the name; the log form fills in the agency
        contact = body(learner.get("/contact"), "contact")
        inspector.check(contact, f"contact form with {vector!r}")
        inspector.check(body(learner.get(log_form), "log form"), f"roll-call form with {vector!r}")
        # mail that greets the account by name: plain text only, the name as typed
        submit(visitor, "/account/password/forgot", {"email": "learner@example.gov"})
        [mail] = outbox(app, "learner@example.gov")[-1:]
        assert shown(name) in shown(plain_text_mail(mail, f"reset mail for {vector!r}").get_content()), vector
    for path in pages:
        inspector.check(body(learner.get(path), path), path)


# -- contact requests, their mail and support's list; query echoes ---------------------------

def test_contact_requests_are_inert_for_support_and_in_mail(app):
    make_user(app, email="support@example.gov", name="Sam Support", roles=("support",))
    staff = signed_in(app, "support@example.gov")
    inspector = Inspector()
    visitor = app.test_client()
    token = csrf_token(visitor, "/contact")
    visitor.post("/contact", data={"csrf_token": token, "name": "Benign", "email": "b@example.gov",
                                   "subject": "Benign", "message": "Benign"})
    inspector.learn(body(staff.get("/support/requests"), "requests"))
    batch = []
    for i, vector in enumerate(STORED):
        data = {"name": fit(vector, 120), "email": f"visitor{i}@example.gov", "subject": fit(vector, 150),
                "message": vector}
        response = visitor.post("/contact", data={"csrf_token": token, **data})
        assert response.status_code in (302, 303), (vector, response.status_code, response.get_data(as_text=True)[:300])
        batch.append(data)
        if len(batch) == 80 or i == len(STORED) - 1:  # the page lists the latest 100
            page = body(staff.get("/support/requests"), "requests")
            inspector.check(page, "support requests", *(d[k] for d in batch for k in ("name", "subject", "message")))
            batch = []
    mails = outbox(app, "support@portal.test")
    assert len(mails) == len(STORED) + 1
    for row, vector in zip(mails[1:], STORED):
        message = plain_text_mail(row, f"contact mail for {vector!r}")
        assert shown(vector) in shown(message.get_content()), vector
        assert "\n" not in message["Subject"] and "\r" not in message["Subject"]


def test_search_queries_are_echoed_inert(app):
    make_user(app, email="support@example.gov", name="Sam Support", roles=("support",))
    make_user(app)
    staff = signed_in(app, "support@example.gov")
    learner = signed_in(app, "learner@example.gov")
    anonymous = app.test_client()
    inspector = Inspector()
    for client, path in ((staff, "/support/?q=benign"), (learner, "/rollcall/log?agency=benign"),
                         (anonymous, "/resources?q=benign"), (anonymous, "/verify?number=benign"),
                         (anonymous, "/verify/benign")):
        inspector.learn(body(client.get(path, follow_redirects=True), path,
                             status=404 if "verify" in path else 200))
    for vector in STORED:
        echoed = {
            "support search": (staff, "/support/", {"q": vector}, 200, fit(vector, 120)),
            "roll-call log filter": (learner, "/rollcall/log", {"agency": vector}, 200, fit(vector, 160)),
            "resource search": (anonymous, "/resources", {"q": vector}, 200, fit(vector, 200)),
            "verify search": (anonymous, "/verify", {"number": vector}, None, None),
        }
        for where, (client, path, args, status, visible) in echoed.items():
            response = client.get(path, query_string=args)
            if response.status_code in (301, 302, 303):
                continue  # a number-shaped query goes to its own page, checked below
            assert response.status_code == status or (status is None and response.status_code in (200, 404)), \
                (where, vector, response.status_code)
            page = response.get_data(as_text=True)
            inspector.check(page, f"{where} echoing {vector!r}", *([visible] if visible else []))
        # the number in the path: percent-encoded, so it reaches the page as typed (or is a 404)
        from urllib.parse import quote

        response = anonymous.get("/verify/" + quote(vector, safe=""))
        assert response.status_code in (404, 308), (vector, response.status_code)
        if response.status_code == 404:
            inspector.check(response.get_data(as_text=True), f"verify page for {vector!r}")


# -- agencies --------------------------------------------------------------------------------

def test_agency_names_are_inert_on_every_agency_page(app):
    from tests.agencies.support import add_invite, add_member, new_agency

    make_user(app, email="admin@example.gov", name="Ada Admin", roles=("admin",))
    admin = signed_in(app, "admin@example.gov")
    agency_id = new_agency(app, name="Benign Agency")
    coordinator = signed_in(app, "coord@example.gov")
    add_member(app, agency_id, "officer@example.gov")
    officer = signed_in(app, "officer@example.gov")
    _, token = add_invite(app, agency_id)
    stranger = app.test_client()
    make_user(app, email="stranger@example.gov")
    log_in(stranger, "stranger@example.gov")
    pages = [(coordinator, f"/agencies/{agency_id}"), (coordinator, f"/agencies/{agency_id}/members"),
             (officer, "/agencies/"), (stranger, f"/agencies/join/{token}"), (admin, "/agencies/")]
    inspector = Inspector()
    for client, path in pages:
        inspector.learn(body(client.get(path), path))

    # through the admin's form: the name is stored as typed (spaces collapsed) and listed
    admin_token = csrf_token(admin, "/agencies/")
    names = []
    for i, vector in enumerate(STORED):
        make_user(app, email=f"coord{i}@example.gov", name=f"Coordinator {i}")
        if shown(fit(vector, 160)).casefold() in {n.casefold() for n in names}:  # names are unique, in any case
            vector = f"{i} {vector}"
        response = admin.post("/agencies/create", data={"csrf_token": admin_token, "name": fit(vector, 160),
                                                        "coordinator_email": f"coord{i}@example.gov"})
        assert response.status_code == 303, (vector, response.status_code, response.get_data(as_text=True)[:400])
        inspector.check(body(admin.get(response.location), "after create"), f"flash for {vector!r}", shown(fit(vector, 160)))
        names.append(shown(fit(vector, 160)))
    with services(app).database.engine.connect() as connection:
        stored = [r[0] for r in connection.execute(text("SELECT name FROM agency WHERE id <> :a ORDER BY id"),
                                                   {"a": agency_id})]
    assert stored == names
    inspector.check(body(admin.get("/agencies/"), "admin agency list"), "admin agency list", *names)

    # every page of one agency, renamed to each stored name in turn
    for name in names:
        with services(app).database.engine.begin() as connection:
            connection.execute(text("UPDATE agency SET name = :n WHERE id = :a"), {"n": name + " (copy)", "a": agency_id})
        for client, path in pages[:4]:
            inspector.check(body(client.get(path), path), f"{path} of agency {name!r}", name + " (copy)")


def test_officers_awards_and_members_are_inert_on_agency_pages(app):
    """Awards and SROs typed into their forms, members' names: 4 agencies of about 40 vectors each
    (an award page shows the agency's whole dashboard, so one agency of 160 would be slow)."""
    from datetime import date

    from tests.agencies.support import PDF, add_award, add_expense, add_member, add_sro, attach_certificate, new_agency

    inspector = Inspector()
    groups = [STORED[i:i + 41] for i in range(0, len(STORED), 41)]
    for g, vectors in enumerate(groups):
        agency_id = new_agency(app, name=f"Agency {g}", coordinator=f"coord{g}@example.gov",
                               program_manager="pm@cops.example.gov")
        coordinator = signed_in(app, f"coord{g}@example.gov")
        if g == 0:
            benign = add_award(app, agency_id, number="BENIGN-1")
            benign_sro = add_sro(app, benign, name="Benign Officer", training_completed=date(2026, 5, 1))
            add_expense(app, benign_sro)
            for path in (f"/agencies/{agency_id}", f"/agencies/{agency_id}/members",
                         f"/agencies/{agency_id}/awards/new", f"/agencies/{agency_id}/awards/{benign}",
                         f"/agencies/{agency_id}/awards/{benign}/sros/new", f"/agencies/{agency_id}/sros/{benign_sro}",
                         f"/agencies/{agency_id}/sros/{benign_sro}/claim"):
                inspector.learn(body(coordinator.get(path), path))
        token = csrf_token(coordinator, f"/agencies/{agency_id}/awards/new")
        records = []  # (award id, award number, sro id, sro name)
        for i, vector in enumerate(vectors):
            number = fit(vector, 60).strip()
            if number in [r[1] for r in records]:  # award numbers are unique in an agency
                number = f"{i}:{number}"[:60]
            response = coordinator.post(f"/agencies/{agency_id}/awards/new", data={
                "csrf_token": token, "award_number": number, "award_date": "2026-03-02", "funded_positions": "2"})
            assert response.status_code == 303, (vector, response.status_code, response.get_data(as_text=True)[:400])
            award_id = int(response.location.rstrip("/").rsplit("/", 1)[1])
            inspector.check(body(coordinator.get(response.location), "award"), f"award {number!r}", number)
            new_sro = f"/agencies/{agency_id}/awards/{award_id}/sros/new"
            response = coordinator.post(new_sro, data={"csrf_token": token, "name": fit(vector, 120),
                                                       "role": "initial", "hire_date": "2026-04-01",
                                                       "training_completed": "2026-05-01"})
            assert response.status_code == 303, (vector, response.status_code, response.get_data(as_text=True)[:400])
            with services(app).database.engine.connect() as connection:
                sro_id = connection.execute(text("SELECT MAX(id) FROM chp_sro")).scalar_one()
            records.append((award_id, number, sro_id, shown(fit(vector, 120))))
            add_member(app, agency_id, f"member{g}-{i}@example.gov", name=fit(vector, 120))

        dashboard = body(coordinator.get(f"/agencies/{agency_id}"), "dashboard")
        inspector.check(dashboard, "dashboard", *(r[1] for r in records), *(r[3] for r in records))
        members = body(coordinator.get(f"/agencies/{agency_id}/members"), "members")
        inspector.check(members, "members", *(r[3] for r in records))
        for award_id, number, sro_id, name in records:
            inspector.check(body(coordinator.get(f"/agencies/{agency_id}/sros/{sro_id}"), "sro"), f"SRO {name!r}",
                            name)
            claim = body(coordinator.get(f"/agencies/{agency_id}/sros/{sro_id}/claim"), "claim")
            inspector.check(claim, f"claim of {name!r}", name)
            # the certificate mail a coordinator downloads: plain text, one-line headers
            attach_certificate(app, agency_id, sro_id, PDF)
            response = coordinator.get(f"/agencies/{agency_id}/sros/{sro_id}/certificate-mail.eml")
            assert response.status_code == 200, (name, number, response.status_code)
            message = email.message_from_bytes(response.get_data(), policy=policy.default)
            assert [p.get_content_type() for p in message.walk()] == ["multipart/mixed", "text/plain",
                                                                     "application/pdf"]
            assert sorted(message.keys()) == ["Content-Type", "From", "MIME-Version", "Subject", "To"], message.keys()
            assert name in shown(message.get_body(("plain",)).get_content())
        # the roster export: a CSV download, never a page, holding the text as typed
        export = coordinator.get(f"/agencies/{agency_id}/roster/export.csv")
        assert export.mimetype == "text/csv" and export.headers["Content-Disposition"].startswith("attachment;")
        assert export.headers["X-Content-Type-Options"] == "nosniff"
        # (a cell a spreadsheet would run as a formula is written with a leading apostrophe, and
        # only such a cell: the apostrophe is compared, never stripped, so a missing one fails)
        cells = {shown(c) for row in csv.reader(io.StringIO(export.get_data(as_text=True))) for c in row}
        assert {as_exported(r[3]) for r in records} <= cells
        assert {as_exported(shown(r[1])) for r in records} <= cells


def test_roster_import_cells_are_inert(app):
    from tests.agencies.support import new_agency

    agency_id = new_agency(app)
    coordinator = signed_in(app, "coord@example.gov")
    token = csrf_token(coordinator, f"/agencies/{agency_id}")
    header = ["officer", "award_number", "award_date", "hire_date", "role", "placement_date", "training_completed",
              "expenses_submitted"]

    def upload(rows, download=False):
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        data = {"csrf_token": token, "as_of": "2026-06-15",
                "roster": (io.BytesIO(out.getvalue().encode()), "roster.csv")}
        if download:
            data["download"] = "1"
        return coordinator.post(f"/agencies/{agency_id}/roster/import", data=data, content_type="multipart/form-data")

    inspector = Inspector()
    inspector.learn(body(upload([["Benign", "B-1", "2026-03-02", "2026-04-01", "initial", "", "", ""]]), "benign"))
    rows = [[v, v, "2026-03-02", "2026-04-01", "initial", "", "", ""] for v in STORED]
    rows += [["Ofc. Bad Dates", "B-2", v, v, v, v, v, v] for v in STORED[:40]]  # cells the engine reports as errors
    page = body(upload(rows), "roster report")
    inspector.check(page, "roster report", *STORED)
    report = upload(rows, download=True)
    assert report.mimetype == "text/csv" and report.headers["Content-Disposition"].startswith("attachment;")


# -- roll call -----------------------------------------------------------------------------

def test_rollcall_agency_and_notes_are_inert_in_the_log_and_history(app):
    from tests.rollcall.support import SERIES, showing_form

    make_user(app, email="attendee@example.gov", name="Ofc. Attendee")
    make_user(app, email="trainer@example.gov", name="Sgt. Trainer")
    trainer = signed_in(app, "trainer@example.gov")
    attendee = signed_in(app, "attendee@example.gov")
    episode = app.extensions["packs"].get(SERIES).lessons[0].id
    log_path = f"/series/{SERIES}/{episode}/log"
    token = csrf_token(trainer, log_path)
    inspector = Inspector()
    trainer.post(log_path, data={"csrf_token": token, **showing_form(agency="Benign PD", notes="Benign notes",
                                                                     attendees="attendee@example.gov")})
    for client, path in ((trainer, "/rollcall/log"), (attendee, "/my/roll-calls")):
        inspector.learn(body(client.get(path), path))
    logged = []
    for vector in STORED:
        agency, notes = fit(vector, 160), fit(vector, 1000)
        response = trainer.post(log_path, data={"csrf_token": token, **showing_form(
            agency=agency, notes=notes, attendees="attendee@example.gov")})
        assert response.status_code == 303, (vector, response.status_code, response.get_data(as_text=True)[:400])
        logged.append((shown(agency), notes))
    inspector.check(body(trainer.get("/rollcall/log"), "log"), "roll-call log",
                    *(a for a, _ in logged), *(n for _, n in logged))
    inspector.check(body(attendee.get("/my/roll-calls"), "history"), "attendee history", *(a for a, _ in logged))
    export = trainer.get("/rollcall/log.csv")
    assert export.mimetype == "text/csv" and export.headers["Content-Disposition"].startswith("attachment;")
    cells = [shown(c) for row in csv.reader(io.StringIO(export.get_data(as_text=True))) for c in row]
    # a cell a spreadsheet would run as a formula is written so that it is text
    formulas = [c for c in cells if c[:1] in ("=", "+", "-", "@")]
    assert not formulas, formulas[:3]
    for agency, notes in logged:
        assert any(agency in c for c in cells) and any(shown(notes).lstrip("=+-@") in c for c in cells), agency


# -- certificates: the page, verification, the PDF's source and text --------------------------

def test_learner_names_are_inert_on_certificates(app):
    from portal.certificates.views import _pdf_html
    from tests.learning.journey import reach_certificate

    make_user(app, name="Benign Learner")
    learner = signed_in(app, "learner@example.gov")
    number = reach_certificate(learner, app)
    anonymous = app.test_client()
    pages = [(learner, f"/certificates/{number}"), (anonymous, f"/verify/{number}")]
    inspector = Inspector()
    for client, path in pages:
        inspector.learn(body(client.get(path), path))
    from portal.certificates import services as certificates

    def pdf_source():
        with app.test_request_context():
            with services(app).database.session() as db:
                return _pdf_html(certificates.find_by_number(db, number))()

    inspector.learn(pdf_source())
    inspector.learn(body(learner.get("/my/certificates"), "mine"))
    for vector in STORED:
        name = fit(vector, 120)
        with services(app).database.engine.begin() as connection:
            connection.execute(text("UPDATE certificate SET learner_name = :n WHERE number = :c"), {"n": name, "c": number})
        for client, path in pages:
            inspector.check(body(client.get(path), path), f"{path} for {vector!r}", name)
        inspector.check(pdf_source(), f"PDF source for {vector!r}", name)
        inspector.check(body(learner.get("/my/certificates"), "mine"), f"my certificates for {vector!r}")


def test_the_pdf_shows_hostile_names_as_text(app):
    """WeasyPrint would fetch or draw markup it were given: the PDF must carry the typed text."""
    import io as _io

    from pypdf import PdfReader

    from tests.learning.journey import reach_certificate

    make_user(app)
    learner = signed_in(app, "learner@example.gov")
    number = reach_certificate(learner, app)
    from portal.certificates import services as certificates
    from portal.certificates.views import store_certificate_pdf

    for vector in ("<img src=x onerror=alert(1)>", "<b>Bold</b> & <i>it</i>", "<script>alert(1)</script>"):
        with services(app).database.engine.begin() as connection:
            connection.execute(text("UPDATE certificate SET learner_name = :n, pdf_key = NULL WHERE number = :c"),
                               {"n": vector, "c": number})
            connection.execute(text("DELETE FROM stored_file WHERE key = :k"), {"k": f"certificates/{number}.pdf"})
        with app.test_request_context():
            with services(app).database.session() as db:
                store_certificate_pdf(certificates.find_by_number(db, number))
        response = learner.get(f"/certificates/{number}.pdf")
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        reader = PdfReader(_io.BytesIO(response.get_data()))
        words = " ".join(" ".join(page.extract_text() or "" for page in reader.pages).split())
        assert vector in words, (vector, words[:300])


# -- NUL: refused with a clear 400, never a 500 -----------------------------------------------

@pytest.mark.parametrize("vector", [v for v in VECTORS if "\x00" in v], ids=["nul-1", "nul-2"])
def test_a_nul_character_is_refused_with_a_clear_message(app, vector):
    make_user(app)
    learner = signed_in(app, "learner@example.gov")
    before = get_user(app, "learner@example.gov").name
    response = submit(learner, "/account/profile", {"name": vector, "agency": vector})
    assert response.status_code == 400
    assert "NUL character" in response.get_data(as_text=True)
    assert get_user(app, "learner@example.gov").name == before
    assert app.test_client().get("/resources?q=ok&q=" + vector.replace("\x00", "%00")).status_code == 400


# -- the inspector itself catches markup that got through ---------------------------------------

def test_the_inspector_flags_every_vector_written_unescaped(app):
    """Were a template to write a name with |safe, each vector that makes markup would be caught."""
    user = make_user(app, email="support@example.gov", name="Benign Name", roles=("support",))
    staff = signed_in(app, "support@example.gov")
    page = body(staff.get(f"/support/users/{user.id}"), "user page")
    inspector = Inspector()
    inspector.learn(page)
    assert page.count("Benign Name") >= 1 and inspector.problems(page) == []
    makes_markup = [v for v in STORED if parse(v).tags]
    assert len(makes_markup) >= 75
    missed = [v for v in makes_markup if not inspector.problems(page.replace("Benign Name", v))]
    assert missed == []
