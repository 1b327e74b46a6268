"""Award, SRO and travel-claim pages of the agency plugin."""

from __future__ import annotations

from decimal import Decimal
from email.message import EmailMessage

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.common.web import db, now, render, services
from portal_agencies import editing, history, rules
from portal_agencies import services as agencies
from portal_agencies.forms import AwardForm, ButtonForm, ExpenseForm, MouForm, SroForm
from portal_agencies.views import MAX_ID, _fail, bp, coordinated, today

ALLOWED_CERTIFICATE_TYPES = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
MAX_CERTIFICATE_BYTES = 5 * 1024 * 1024
RESPONSE_CENTER = "AskCopsRC@usdoj.gov"


def _award(agency_id: int, award_id: int):
    award = agencies.award_of(db(), agency_id, award_id)
    if award is None:
        abort(404)
    return award


def _sro(agency_id: int, sro_id: int):
    found = agencies.sro_of(db(), agency_id, sro_id)
    if found is None:
        abort(404)
    return found


@bp.route(f"/<{MAX_ID}:agency_id>/awards/new", methods=["GET", "POST"])
@login_required
def new_award(agency_id: int):
    agency = coordinated(agency_id)
    form = AwardForm()
    if form.validate_on_submit():
        try:
            award = agencies.add_award(db(), agency, form.award_number.data, form.award_date.data,
                                       form.funded_positions.data, form.mou_submitted_on.data, now(), today(),
                                       actor_id=current_user.user.id)
        except agencies.AgencyError as error:
            _fail(form, error)
        else:
            flash(f"Award {award.award_number} recorded. The MOU is due {rules.mou_due(award.award_date):%B %-d, %Y}.",
                  "success")
            return redirect(url_for("agencies.award", agency_id=agency.id, award_id=award.id), code=303)
    return render("agencies/award_form.html", agency=agency, form=form, award=None,
                  status=422 if form.errors or form.form_errors else 200)


@bp.route(f"/<{MAX_ID}:agency_id>/awards/<{MAX_ID}:award_id>", methods=["GET", "POST"])
@login_required
def award(agency_id: int, award_id: int):
    agency = coordinated(agency_id)
    award = _award(agency.id, award_id)
    form = MouForm(obj=award)
    if form.validate_on_submit():
        if form.mou_submitted_on.data and form.mou_submitted_on.data < award.award_date:
            form.mou_submitted_on.errors = ["The MOU submission date is before the award letter date."]
        elif form.mou_submitted_on.data and form.mou_submitted_on.data > today():
            form.mou_submitted_on.errors = ["The MOU submission date cannot be in the future."]
        else:
            editing.set_mou(db(), award, form.mou_submitted_on.data, current_user.user.id, now())
            flash("MOU date saved.", "success")
            return redirect(url_for("agencies.award", agency_id=agency.id, award_id=award.id), code=303)
    items = [i for i in agencies.dashboard(db(), agency.id, today()) if i.award.id == award.id]
    return render("agencies/award.html", agency=agency, award=award, form=form, items=items,
                  mou_due=rules.mou_due(award.award_date), changes=history.history_of(db(), agency.id, "award", award.id),
                  status=422 if form.errors else 200)


def _read_certificate(form: SroForm):
    upload = request.files.get("certificate")
    if upload is None or not upload.filename:
        return None
    kind = upload.mimetype
    if kind not in ALLOWED_CERTIFICATE_TYPES:
        raise agencies.AgencyError("The certificate must be a PDF, PNG or JPEG file.", "certificate")
    data = upload.read(MAX_CERTIFICATE_BYTES + 1)
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise agencies.AgencyError("The certificate file is larger than 5 MB.", "certificate")
    signatures = {"application/pdf": b"%PDF", "image/png": b"\x89PNG", "image/jpeg": b"\xff\xd8"}
    if not data.startswith(signatures[kind]):
        raise agencies.AgencyError("That file is not the kind its name says it is.", "certificate")
    return data, kind


def _save_sro(agency, award, sro, form):
    try:
        certificate = _read_certificate(form)
        saved = agencies.save_sro(db(), award, sro, name=form.name.data, role=form.role.data,
                                  hire_date=form.hire_date.data, placement_date=form.placement_date.data,
                                  training_completed=form.training_completed.data,
                                  expenses_submitted=form.expenses_submitted.data, today=today(), now=now(),
                                  actor_id=current_user.user.id,
                                  response_center_reported_on=form.response_center_reported_on.data,
                                  response_center_answer=form.response_center_answer.data or "")
        if certificate:
            data, kind = certificate
            key = f"agencies/{agency.id}/sro/{saved.id}/certificate{ALLOWED_CERTIFICATE_TYPES[kind]}"
            if saved.certificate_key and saved.certificate_key != key:  # a new file type replaces the old file
                services().storage.delete(db(), saved.certificate_key)
            services().storage.put(db(), key, data, kind, now())
            saved.certificate_key = key
            saved.certificate_filename = f"nasro-certificate-{saved.id}{ALLOWED_CERTIFICATE_TYPES[kind]}"
            db().add(saved)
            db().commit()
        return saved
    except agencies.AgencyError as error:
        db().rollback()
        _fail(form, error)
        return None


@bp.route(f"/<{MAX_ID}:agency_id>/awards/<{MAX_ID}:award_id>/sros/new", methods=["GET", "POST"])
@login_required
def new_sro(agency_id: int, award_id: int):
    agency = coordinated(agency_id)
    award = _award(agency.id, award_id)
    form = SroForm()
    if form.validate_on_submit() and (saved := _save_sro(agency, award, None, form)):
        flash(f"{saved.name} added to award {award.award_number}.", "success")
        return redirect(url_for("agencies.award", agency_id=agency.id, award_id=award.id), code=303)
    return render("agencies/sro_form.html", agency=agency, award=award, sro=None, form=form,
                  status=422 if form.errors or form.form_errors else 200)


@bp.route(f"/<{MAX_ID}:agency_id>/sros/<{MAX_ID}:sro_id>", methods=["GET", "POST"])
@login_required
def sro(agency_id: int, sro_id: int):
    agency = coordinated(agency_id)
    record, award = _sro(agency.id, sro_id)
    form = SroForm(obj=record)
    if form.validate_on_submit() and _save_sro(agency, award, record, form):
        flash(f"{record.name}'s record is saved.", "success")
        return redirect(url_for("agencies.sro", agency_id=agency.id, sro_id=record.id), code=303)
    evaluation = None
    try:
        completed = agencies.counted_completion(record, award)
        evaluation = rules.evaluate_sro(record.role, award.award_date, record.hire_date, record.placement_date,
                                        completed, record.expenses_submitted if completed else None, today())
    except rules.RuleError:
        pass
    return render("agencies/sro_form.html", cops_task=agencies.response_center_task(record, evaluation), agency=agency, award=award, sro=record, form=form, evaluation=evaluation,
                  response_center=rules.RESPONSE_CENTER_REMINDER,
                  changes=history.history_of(db(), agency.id, "sro", record.id),
                  status=422 if form.errors or form.form_errors else 200)


@bp.get(f"/<{MAX_ID}:agency_id>/sros/<{MAX_ID}:sro_id>/certificate")
@login_required
def sro_certificate(agency_id: int, sro_id: int):
    agency = coordinated(agency_id)
    record, _ = _sro(agency.id, sro_id)
    found = services().storage.get(db(), record.certificate_key) if record.certificate_key else None
    if found is None:
        abort(404)
    info, data = found
    return Response(data, mimetype=info.content_type, headers={
        "Content-Disposition": f'attachment; filename="{record.certificate_filename}"'})


@bp.get(f"/<{MAX_ID}:agency_id>/sros/<{MAX_ID}:sro_id>/certificate-mail.eml")
@login_required
def certificate_mail(agency_id: int, sro_id: int):
    """The mail to the CHP Program Manager and the COPS Office Response Center, with the
    certificate attached, ready for the coordinator to send from their own mail program."""
    agency = coordinated(agency_id)
    record, award = _sro(agency.id, sro_id)
    found = services().storage.get(db(), record.certificate_key) if record.certificate_key else None
    if found is None or record.training_completed is None:
        abort(404)
    info, data = found
    message = EmailMessage()
    message["From"] = current_user.email
    message["To"] = ", ".join(filter(None, [agency.chp_program_manager_email, RESPONSE_CENTER]))
    # One line: an award number may hold a line break, which a mail header must not.
    message["Subject"] = " ".join(f"NASRO Basic SRO Course certificate: {record.name}, "
                                  f"CHP award {award.award_number}".split())
    message.set_content(render_template("agencies/certificate_mail.txt", agency=agency, award=award, sro=record,
                                        sender=current_user.name))
    maintype, subtype = info.content_type.split("/", 1)
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=record.certificate_filename)
    return Response(bytes(message), mimetype="message/rfc822", headers={
        "Content-Disposition": f'attachment; filename="certificate-mail-{record.id}.eml"'})


def _claim_context(agency, record, award):
    expenses = agencies.expenses_of(db(), record.id)
    total = sum((e.amount for e in expenses), Decimal("0"))
    cap = rules.REIMBURSEMENT_CAP
    evaluation = None
    try:
        evaluation = rules.evaluate_sro(record.role, award.award_date, record.hire_date, record.placement_date,
                                        record.training_completed, record.expenses_submitted, today())
    except rules.RuleError:
        pass
    running, lines = Decimal("0"), []
    for expense in expenses:
        running += expense.amount
        lines.append((expense, running))
    blocker = agencies.claim_blocker(record, award)
    return dict(agency=agency, sro=record, award=award, lines=lines, total=total, cap=cap, blocker=blocker,
                over=max(total - cap, Decimal("0")),
                reimbursable=Decimal("0.00") if blocker else rules.reimbursable_amount(total, record.role),
                evaluation=evaluation, categories=agencies.EXPENSE_CATEGORIES)


@bp.route(f"/<{MAX_ID}:agency_id>/sros/<{MAX_ID}:sro_id>/claim", methods=["GET", "POST"])
@login_required
def claim(agency_id: int, sro_id: int):
    agency = coordinated(agency_id)
    record, award = _sro(agency.id, sro_id)
    form = ExpenseForm()
    if form.validate_on_submit():
        try:
            agencies.add_expense(db(), record, form.category.data, form.description.data, form.incurred_on.data,
                                 agencies.parse_amount(form.amount.data), agency_id=agency.id,
                                 actor_id=current_user.user.id, now=now(), today=today())
        except agencies.AgencyError as error:
            db().rollback()
            _fail(form, error)
            return render("agencies/claim.html", form=form, button=ButtonForm(),
                          **_claim_context(agency, record, award), status=error.status)
        else:
            return redirect(url_for("agencies.claim", agency_id=agency.id, sro_id=record.id), code=303)
    return render("agencies/claim.html", form=form, button=ButtonForm(), **_claim_context(agency, record, award),
                  status=422 if form.errors or form.form_errors else 200)


@bp.post(f"/<{MAX_ID}:agency_id>/sros/<{MAX_ID}:sro_id>/claim/<{MAX_ID}:expense_id>/delete")
@login_required
def delete_expense(agency_id: int, sro_id: int, expense_id: int):
    agency = coordinated(agency_id)
    record, _ = _sro(agency.id, sro_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        agencies.delete_expense(db(), record.id, expense_id, agency_id=agency.id, actor_id=current_user.user.id,
                                now=now())
    except agencies.AgencyError:
        abort(404)
    return redirect(url_for("agencies.claim", agency_id=agency.id, sro_id=record.id), code=303)


@bp.get(f"/<{MAX_ID}:agency_id>/sros/<{MAX_ID}:sro_id>/claim.pdf")
@login_required
def claim_pdf(agency_id: int, sro_id: int):
    agency = coordinated(agency_id)
    record, award = _sro(agency.id, sro_id)
    from weasyprint import HTML  # only printing a claim pays for WeasyPrint

    html = render_template("agencies/claim_pdf.html", portal_name=current_app.config["PORTAL_NAME"],
                           **_claim_context(agency, record, award))
    return Response(HTML(string=html).write_pdf(), mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="travel-claim-{record.id}.pdf"'})
