"""Home, FAQ and contact pages."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, redirect, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from portal.common.markdown import render_markdown_cached
from portal.common.security import email_key, limiter
from portal.common.web import db, now, render, services
from portal.support.services import submit_contact_request

bp = Blueprint("site", __name__, template_folder="templates")

DEFAULT_FAQ = Path(__file__).with_name("faq.md")


class ContactForm(FlaskForm):
    name = StringField("Your name", [DataRequired("Enter your name."), Length(max=120)])
    email = EmailField("Your email address", [DataRequired("Enter your email address."), Length(max=254),
                                              Email("Enter an email address like name@example.gov.",
                                                    check_deliverability=False)])
    subject = StringField("Subject", [DataRequired("Say what it is about."), Length(max=150)])
    message = TextAreaField("Message", [DataRequired("Write your message."),
                                        Length(max=5000, message="Use at most 5,000 characters.")])


def faq_path() -> Path:
    """Operators edit the FAQ by pointing PORTAL_FAQ_PATH at their own Markdown file."""
    configured = current_app.config.get("PORTAL_FAQ_PATH")
    return Path(configured) if configured else DEFAULT_FAQ


@bp.get("/")
def home():
    return render("site/home.html")


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers and the benchmarks' floor: no database, no session."""
    return "ok\n", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.get("/readyz")
def readyz():
    """Readiness: every dependency, as JSON; a 503 with Retry-After names what is wrong."""
    from flask import jsonify

    from portal.ops.readiness import readiness

    result = readiness(current_app)
    response = jsonify(result.as_json())
    response.status_code = 200 if result.ok else 503
    response.headers["Cache-Control"] = "no-store"
    if not result.ok:
        response.headers["Retry-After"] = "5"
    return response


@bp.get("/faq")
def faq():
    path = faq_path()
    text = path.read_text(encoding="utf-8")
    html = render_markdown_cached(("faq", str(path), path.stat().st_mtime_ns), text)
    return render("site/faq.html", faq_html=html)


@bp.route("/contact", methods=["GET", "POST"])
@limiter.limit("5 per minute; 30 per hour", methods=["POST"])
@limiter.limit("5 per minute; 30 per hour", methods=["POST"], key_func=email_key)  # per address, any IP
def contact():
    form = ContactForm()
    if not form.is_submitted() and current_user.is_authenticated:
        form.name.data, form.email.data = current_user.name, current_user.email
    if form.validate_on_submit():
        submit_contact_request(
            db(), services().mailer, now(), current_app.config["SUPPORT_EMAIL"],
            name=form.name.data, email=form.email.data, subject=form.subject.data,
            message=form.message.data,
            user_id=current_user.user.id if current_user.is_authenticated else None)
        flash("Thank you. Your message has been sent to the support team; we reply by email.", "success")
        return redirect(url_for("site.contact_sent"))
    return render("site/contact.html", form=form, status=422 if form.errors else 200)


@bp.get("/contact/sent")
def contact_sent():
    return render("site/contact_sent.html")
