"""My Certificates, the print view and PDF for their owner, and public verification."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.certificates import services as certificates
from portal.certificates.models import Certificate
from portal.common.security import limiter
from portal.common.web import db, now, render, services, writing
from portal.learning import services as learning
from portal.learning.models import Enrollment
from portal.learning.progress import hours_and_minutes, seconds_on_lessons
from portal.learning.web import course_or_404, portal_tz, refuse

bp = Blueprint("certificates", __name__, template_folder="templates")

# Per client address, shared by the form and the address: enough for an employer checking a
# stack of certificates, far too few to guess at (numbers carry 80 bits besides).
VERIFY_LIMIT = "20 per minute; 300 per hour"
_verify_limit = limiter.shared_limit(VERIFY_LIMIT, scope="certificate-verify")


def _verify_url(certificate: Certificate) -> str:
    return f"{current_app.config['PORTAL_BASE_URL']}/verify/{certificate.number}"


def _own(number: str) -> Certificate:
    """The signed-in learner's certificate; anyone else's answers exactly like a missing one."""
    certificate = certificates.find_by_number(db(), number)
    if certificate is None or certificate.user_id != current_user.user.id:
        abort(404)
    return certificate


@bp.get("/my/certificates")
@login_required
def mine():
    held = certificates.certificates_of(db(), current_user.user.id)
    seconds = seconds_on_lessons(db(), [c.enrollment_id for c in held])
    return render("certificates/mine.html", certificates=held,
                  times={c.id: hours_and_minutes(seconds.get(c.enrollment_id, 0)) for c in held})


@bp.post("/learn/<pack_id>/certificate")
@login_required
def issue(pack_id: str):
    """Issue (or fetch) the certificate of this course's completed enrollment; safe to repeat."""
    pack = course_or_404(pack_id)
    enrollment = learning.enrollment_for_study(db(), current_user.user.id, pack.id, now(), portal_tz())
    if enrollment is None:
        abort(404)
    try:
        with writing() as w:
            certificate, issued = certificates.issue_or_find_certificate(
                w, w.get(Enrollment, enrollment.id), w.get(type(current_user.user), current_user.user.id),
                pack, now(), portal_tz())
    except learning.LearningError as error:
        return refuse(error, url_for("learning.resume", pack_id=pack.id))
    if issued:
        store_certificate_pdf(certificate)
    return redirect(url_for("certificates.view", number=certificate.number), code=303)


def _pdf_html(certificate: Certificate):
    def html() -> str:
        return render_template("certificates/pdf.html", certificate=certificate, verify_url=_verify_url(certificate),
                               qr=certificates.qr_png_data_uri(_verify_url(certificate)),
                               portal_name=current_app.config["PORTAL_NAME"])
    return html


def store_certificate_pdf(certificate: Certificate) -> None:
    """Render the PDF once, right after issue (a POST) and outside any transaction, then keep
    it, so later GETs only read it."""
    pdf = certificates.render_certificate_pdf(_pdf_html(certificate)())
    with writing() as w:
        certificates.save_pdf(w, services().storage, certificate, pdf, now())


@bp.get("/certificates/<number>")
@login_required
def view(number: str):
    certificate = _own(number)
    return render("certificates/view.html", certificate=certificate, verify_url=_verify_url(certificate),
                  qr=certificates.qr_svg_data_uri(_verify_url(certificate)))


@bp.get("/certificates/<number>.pdf")
@login_required
def pdf(number: str):
    certificate = _own(number)
    data = certificates.stored_pdf_or_render(db(), services().storage, certificate, _pdf_html(certificate))
    disposition = "attachment" if request.args.get("download") == "1" else "inline"
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'{disposition}; filename="certificate-{certificate.number}.pdf"'})


@bp.get("/verify")
@_verify_limit
def verify_form():
    number = request.args.get("number", "")
    if number:
        normalised = certificates.normalise_number(number)
        if normalised:
            return redirect(url_for("certificates.verify", number=normalised))
    return render("certificates/verify.html", certificate=None, number=number, searched=bool(number))


@bp.get("/verify/<number>")
@_verify_limit
def verify(number: str):
    certificate = certificates.find_by_number(db(), number)
    status = 200 if certificate else 404
    return render("certificates/verify.html", certificate=certificate, number=number, searched=True, status=status)
