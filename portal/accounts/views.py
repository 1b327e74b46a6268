"""Account pages: each view parses the form, calls a service and renders."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal.accounts import services as accounts
from portal.accounts.auth import sign_in, sign_out
from portal.accounts.forms import (ChangeEmailForm, ChangePasswordForm, ConfirmForm, EmailOnlyForm,
                                   LoginForm, ProfileForm, ResetPasswordForm, SignUpForm)
from portal.common.security import email_key, limiter
from portal.common.web import db, now, render, safe_next, services, writing

bp = Blueprint("accounts", __name__, url_prefix="/account", template_folder="templates")

# Limits run before the view, so before any password is hashed.
PER_IP_STRICT = "10 per minute; 60 per hour"
PER_ADDRESS = "5 per minute; 30 per hour"
# Every form that mails an address draws on one budget per address, whatever the client IP:
# sign-up ("someone tried to sign up"), resend-verification and forgot-password together.
MAIL_PER_ADDRESS = "5 per minute; 30 per hour"
_mail_per_address = limiter.shared_limit(MAIL_PER_ADDRESS, scope="mail-to-address", key_func=email_key,
                                         methods=["POST"])


def _fail(form, error: accounts.AccountError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(PER_IP_STRICT, methods=["POST"])
@_mail_per_address
def signup():
    if current_user.is_authenticated:
        return redirect(url_for("site.home"))
    form = SignUpForm()
    if form.validate_on_submit():
        s = services()
        try:
            # The write lock up front: SQLite refuses at once, without waiting, a read
            # transaction that turns into a write after another sign-up has committed.
            with writing() as w:
                accounts.sign_up(w, s.hasher, s.mailer, now(), s.lifetimes, name=form.name.data,
                                 email=form.email.data, password=form.password.data, agency=form.agency.data)
        except accounts.AccountError as error:
            _fail(form, error)
        else:
            return redirect(url_for("accounts.verify_sent"))
    return render("accounts/signup.html", form=form, status=422 if form.errors else 200)


@bp.get("/verify/sent")
def verify_sent():
    return render("accounts/verify_sent.html", form=EmailOnlyForm())


@bp.route("/verify/resend", methods=["GET", "POST"])
@limiter.limit(PER_IP_STRICT, methods=["POST"])
@_mail_per_address
def verify_resend():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        s = services()
        with writing() as w:  # the write lock up front, as for sign-up
            accounts.resend_verification(w, s.mailer, now(), s.lifetimes, form.email.data)
        flash("If that address has an account waiting for confirmation, we have sent it a new link. "
              "It should arrive within 5 minutes; check your spam or junk folder too.", "info")
        return redirect(url_for("accounts.verify_sent"))
    return render("accounts/verify_resend.html", form=form, status=422 if form.errors else 200)


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify(token: str):
    form = ConfirmForm()
    if accounts.find_valid_token(db(), token, accounts.PURPOSE_VERIFY, now(), services().lifetimes) is None:
        return render("accounts/link_invalid.html", status=404, resend=True)
    if form.validate_on_submit():
        try:
            accounts.verify_email(db(), token, now(), services().lifetimes)
        except accounts.AccountError as error:
            return render("accounts/link_invalid.html", status=404, resend=True, message=error.message)
        flash("Your email address is confirmed. You can now enroll in courses.", "success")
        return redirect(url_for("accounts.profile") if current_user.is_authenticated
                        else url_for("accounts.login"))
    return render("accounts/verify.html", form=form)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(PER_IP_STRICT, methods=["POST"])
@limiter.limit(PER_ADDRESS, methods=["POST"], key_func=email_key)
def login():
    target = safe_next(request.values.get("next"), url_for("site.home"))
    if current_user.is_authenticated:
        return redirect(target)
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(db(), services().hasher, form.email.data, form.password.data)
        except accounts.AccountError as error:
            form.form_errors.append(error.message)
        else:
            sign_in(user, remember=form.remember.data)
            if not user.is_verified:
                flash("Confirm your email address before you enroll: use the link we mailed you.", "info")
            return redirect(target)
    return render("accounts/login.html", form=form, next=target, status=422 if form.errors or form.form_errors else 200)


@bp.post("/logout")
def logout():
    sign_out()  # CSRFProtect has already refused a missing or wrong token
    flash("You have logged out.", "info")
    return redirect(url_for("site.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(PER_IP_STRICT, methods=["POST"])
@_mail_per_address
def forgot_password():
    form = EmailOnlyForm()
    if form.validate_on_submit():
        s = services()
        with writing() as w:  # the write lock up front, as for sign-up
            accounts.request_password_reset(w, s.mailer, now(), s.lifetimes, form.email.data)
        return redirect(url_for("accounts.forgot_password_sent"))
    return render("accounts/forgot.html", form=form, status=422 if form.errors else 200)


@bp.get("/password/forgot/sent")
def forgot_password_sent():
    return render("accounts/forgot_sent.html")


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(PER_IP_STRICT, methods=["POST"])
def reset_password(token: str):
    if accounts.find_valid_token(db(), token, accounts.PURPOSE_RESET, now(), services().lifetimes) is None:
        return render("accounts/link_invalid.html", status=404, forgot=True)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        s = services()
        try:
            accounts.reset_password(db(), s.hasher, s.mailer, now(), token, form.password.data, s.lifetimes)
        except accounts.AccountError as error:
            _fail(form, error)
        else:
            if current_user.is_authenticated:
                sign_out()
            flash("Your password has been changed. Log in with your new password.", "success")
            return redirect(url_for("accounts.login"))
    return render("accounts/reset.html", form=form, status=422 if form.errors or form.form_errors else 200)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user.user)
    if form.validate_on_submit():
        try:
            accounts.update_profile(db(), current_user.user, name=form.name.data, agency=form.agency.data)
        except accounts.AccountError as error:
            _fail(form, error)
        else:
            flash("Your profile has been saved.", "success")
            return redirect(url_for("accounts.profile"))
    return render("accounts/profile.html", form=form, resend_form=EmailOnlyForm(email=current_user.email),
                  status=422 if form.errors else 200)


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
@limiter.limit(PER_IP_STRICT, methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        s = services()
        try:
            accounts.change_password(db(), s.hasher, s.mailer, now(), current_user.user,
                                     form.current_password.data, form.password.data, current_user.token)
        except accounts.AccountError as error:
            _fail(form, error)
        else:
            flash("Your password has been changed. Other devices have been signed out.", "success")
            return redirect(url_for("accounts.profile"))
    return render("accounts/change_password.html", form=form, status=422 if form.errors else 200)


@bp.route("/profile/email", methods=["GET", "POST"])
@login_required
@limiter.limit(PER_IP_STRICT, methods=["POST"])
def change_email():
    form = ChangeEmailForm()
    if form.validate_on_submit():
        s = services()
        try:
            accounts.request_email_change(db(), s.hasher, s.mailer, now(), s.lifetimes, current_user.user,
                                          form.password.data, form.email.data)
        except accounts.AccountError as error:
            _fail(form, error)
        else:
            flash("We have sent a confirmation link to the new address. Your account keeps its current "
                  "address until you follow that link.", "info")
            return redirect(url_for("accounts.profile"))
    return render("accounts/change_email.html", form=form, status=422 if form.errors else 200)


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    if accounts.find_valid_token(db(), token, accounts.PURPOSE_CHANGE_EMAIL, now()) is None:
        return render("accounts/link_invalid.html", status=404)
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            accounts.confirm_email_change(db(), services().mailer, now(), token,
                                          current_user.token if current_user.is_authenticated else None)
        except accounts.AccountError as error:
            return render("accounts/link_invalid.html", status=409, message=error.message)
        flash("Your new email address is confirmed. Log in with it from now on.", "success")
        return redirect(url_for("accounts.profile") if current_user.is_authenticated else url_for("accounts.login"))
    return render("accounts/confirm_email.html", form=form)
