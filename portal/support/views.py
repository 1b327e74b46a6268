"""Support and administration pages for staff."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from portal.accounts.auth import role_required
from portal.accounts.models import STAFF_ROLES, User
from portal.common.web import db, now, render, render_page_or_fragment, services
from portal.plugins.manager import collect
from portal.support import services as support

bp = Blueprint("support", __name__, url_prefix="/support", template_folder="templates")


class ActionForm(FlaskForm):
    reason = StringField("Reason (kept in the audit log)", [Optional(), Length(max=300)])


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r, r.title()) for r in STAFF_ROLES])


def _target(user_id: int) -> User:
    user = db().get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.get("/")
@role_required("support", "admin")
def search():
    query = request.args.get("q", "")[:120]
    users = support.find_users(db(), query)
    return render_page_or_fragment("support/search.html", "support/_results.html", "search-results",
                                   users=users, query=query)


@bp.get("/users/<int(max=2147483647):user_id>")
@role_required("support", "admin")
def user_detail(user_id: int):
    target = _target(user_id)
    state = support.account_state(db(), target, now())
    entries, _ = support.audit_log(db(), per_page=20, target_user_id=target.id)
    notes = collect(current_app.extensions["plugins"].hook.portal_account_notes(db=db(), user_id=target.id))
    return render("support/user.html", state=state, entries=entries, form=ActionForm(), role_form=RoleForm(),
                  notes=sorted(notes, key=lambda n: (not n.get("warning"), n.get("text", ""))))


def _run(user_id: int, action):
    target = _target(user_id)
    form = ActionForm()
    if not form.validate_on_submit():
        flash("The reason is too long (300 characters at most).", "error")
        return redirect(url_for("support.user_detail", user_id=user_id)), 303
    try:
        message = action(target, form.reason.data or "")
    except support.SupportError as error:
        flash(error.message, "error")
        return redirect(url_for("support.user_detail", user_id=user_id)), 303
    flash(message, "success")
    return redirect(url_for("support.user_detail", user_id=user_id)), 303


@bp.post("/users/<int(max=2147483647):user_id>/confirm")
@role_required("support", "admin")
def confirm(user_id: int):
    def act(target, _reason):
        support.confirm_account(db(), current_user.user, target, now())
        return f"{target.email} is now confirmed."
    return _run(user_id, act)


@bp.post("/users/<int(max=2147483647):user_id>/send-reset")
@role_required("support", "admin")
def send_reset(user_id: int):
    def act(target, _reason):
        s = services()
        support.send_password_reset(db(), s.mailer, s.lifetimes, current_user.user, target, now())
        return f"A password reset link has been mailed to {target.email}."
    return _run(user_id, act)


@bp.post("/users/<int(max=2147483647):user_id>/deactivate")
@role_required("support", "admin")
def deactivate(user_id: int):
    def act(target, reason):
        support.deactivate(db(), current_user.user, target, now(), reason)
        return f"{target.email} is deactivated and signed out everywhere."
    return _run(user_id, act)


@bp.post("/users/<int(max=2147483647):user_id>/reactivate")
@role_required("support", "admin")
def reactivate(user_id: int):
    def act(target, _reason):
        support.reactivate(db(), current_user.user, target, now())
        return f"{target.email} is active again."
    return _run(user_id, act)


@bp.post("/users/<int(max=2147483647):user_id>/roles/<action>")
@role_required("admin")
def change_role(user_id: int, action: str):
    if action not in {"grant", "revoke"}:
        abort(404)
    target = _target(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose a role from the list.", "error")
        return redirect(url_for("support.user_detail", user_id=user_id)), 303
    change = support.grant_role if action == "grant" else support.revoke_role
    try:
        change(db(), current_user.user, target, form.role.data, now())
    except support.SupportError as error:
        flash(error.message, "error")
    else:
        flash(f"Role {form.role.data} {'granted to' if action == 'grant' else 'removed from'} {target.email}.",
              "success")
    return redirect(url_for("support.user_detail", user_id=user_id)), 303


@bp.get("/audit")
@role_required("admin")
def audit():
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < int(page) < 100000 else 1
    entries, total = support.audit_log(db(), page=page)
    return render("support/audit.html", entries=entries, page=page, total=total, per_page=50)


@bp.get("/requests")
@role_required("support", "admin")
def contact_requests():
    return render("support/requests.html", requests=support.recent_contact_requests(db()))
