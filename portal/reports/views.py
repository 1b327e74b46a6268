"""Report pages for administrators and providers, each table also as CSV."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlmodel import select

from portal.accounts.services import find_user_by_email
from portal.common.csv_export import csv_text
from portal.common.web import db, now, render
from portal.reports import charts
from portal.reports import services as reports
from portal.reports.models import ProviderStaff
from portal.support.services import record

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")


class ButtonForm(FlaskForm):
    pass


def visible_packs():
    """Every course for administrators; a provider's own courses for provider staff."""
    courses = [p for p in current_app.extensions["packs"].all() if p.kind == "course"]
    if current_user.has_role("admin"):
        return courses
    providers = set(db().exec(select(ProviderStaff.provider_name).where(
        ProviderStaff.user_id == current_user.user.id)).all())
    if not providers:
        abort(403)
    return [p for p in courses if p.provider.name in providers]


def _filters(packs):
    args = request.args
    year = args.get("year", "")
    year = int(year) if year.isdigit() and 2000 <= int(year) <= 2999 else None
    chosen = [p for p in packs
              if (not args.get("course") or p.id == args["course"])
              and (not args.get("provider") or p.provider.name == args["provider"])
              and (not args.get("state") or any(a.state == args["state"] and a.status == "approved"
                                                 for a in p.accreditation))]
    return year, chosen


@bp.get("/")
@login_required
def index():
    packs = visible_packs()
    year, chosen = _filters(packs)
    rows = reports.course_years(db(), [p.id for p in chosen], year)
    titles = {p.id: p.title for p in packs}
    growth_rows = [(f"{titles.get(r.pack_id, r.pack_id)} {r.year}",
                    [None if "mean_pre" in r.suppressed else r.mean_pre,
                     None if "mean_post" in r.suppressed else r.mean_post]) for r in rows]
    months = reports.completions_by_month(db(), [p.id for p in chosen], year)
    return render("reports/index.html", rows=rows, titles=titles, packs=packs, year=year, args=request.args,
                  providers=sorted({p.provider.name for p in packs}),
                  states=sorted({a.state for p in packs for a in p.accreditation if a.status == "approved"}),
                  growth_chart=charts.grouped_bars("Mean pre-test and post-test score by course and year",
                                                   growth_rows, ["Pre-test", "Post-test"], 100, "%"),
                  months=months, months_chart=charts.columns("Completions per month", months),
                  min_group=reports.MIN_GROUP)


def _item_rows():
    """The chosen course (one the user may see, else 404) and its item analysis."""
    packs = {p.id: p for p in visible_packs()}
    pack = packs.get(request.args.get("course", ""))
    if pack is None:
        abort(404)
    year, _ = _filters([pack])
    return pack, year, reports.item_analysis(db(), pack.id, year)


@bp.get("/items")
@login_required
def items():
    pack, year, rows = _item_rows()
    texts = {q.id: q.text for q in pack.questions}
    times = {t.lesson_id: t for t in reports.lesson_times(db(), pack.id, year)}
    return render("reports/items.html", pack=pack, rows=rows, texts=texts, year=year, min_group=reports.MIN_GROUP,
                  easy=reports.EASY, hard=reports.HARD, times=times)


def _csv(name: str, header: list[str], rows: list[list]) -> Response:
    return Response(csv_text(header, rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _fmt(row, name, value, digits=1, percent=False):
    if name in row.suppressed or value is None:
        return "suppressed" if name in row.suppressed else ""
    return f"{value * 100:.{digits}f}" if percent else f"{value:.{digits}f}"


@bp.get("/courses.csv")
@login_required
def courses_csv():
    packs = visible_packs()
    year, chosen = _filters(packs)
    rows = reports.course_years(db(), [p.id for p in chosen], year)
    return _csv("course-report", ["course", "session_year", "enrollments", "completions", "completion_rate_percent",
                                  "median_days_to_complete", "mean_pre_score", "mean_post_score", "growth",
                                  "first_attempt_pass_rate_percent", "attempts_per_learner"],
                [[r.pack_id, r.year, "suppressed" if "enrollments" in r.suppressed else r.enrollments,
                  "suppressed" if "completions" in r.suppressed else r.completions,
                  _fmt(r, "completion_rate", r.completion_rate, percent=True),
                  _fmt(r, "median_days", r.median_days), _fmt(r, "mean_pre", r.mean_pre),
                  _fmt(r, "mean_post", r.mean_post), _fmt(r, "growth", r.growth),
                  _fmt(r, "first_attempt_pass_rate", r.first_attempt_pass_rate, percent=True),
                  _fmt(r, "attempts_per_learner", r.attempts_per_learner, digits=2)] for r in rows])


@bp.get("/items.csv")
@login_required
def items_csv():
    pack, _, rows = _item_rows()
    pct = lambda v: "suppressed" if v is None else f"{v * 100:.1f}"  # noqa: E731
    return _csv(f"items-{pack.id}", ["question_id", "pre_answers", "pre_percent_correct", "post_answers",
                                     "post_percent_correct", "flag"],
                [[r.question_id, r.pre_n, pct(r.pre_correct), r.post_n, pct(r.post_correct), r.flag] for r in rows])


@bp.get("/completions.csv")
@login_required
def completions_csv():
    packs = visible_packs()
    year, chosen = _filters(packs)
    months = reports.completions_by_month(db(), [p.id for p in chosen], year)
    return _csv("completions-by-month", ["month", "completions"],
                [[m, "suppressed" if n is None else n] for m, n in months])


@bp.route("/providers", methods=["GET", "POST"])
@login_required
def providers():
    """Administrators give an account access to one provider organization's reports."""
    if not current_user.has_role("admin"):
        abort(403)
    names = sorted({p.provider.name for p in current_app.extensions["packs"].all()})
    form = ButtonForm()
    if request.method == "POST" and form.validate_on_submit():
        user = find_user_by_email(db(), request.form.get("email", ""))
        provider = request.form.get("provider", "")
        if request.form.get("action") == "revoke":
            row = db().get(ProviderStaff, int(request.form.get("id", "0") or 0)) \
                if (request.form.get("id", "") or "").isdigit() and len(request.form["id"]) < 10 else None
            if row is None:
                abort(404)
            record(db(), current_user.user.id, "provider.revoke", row.user_id, now(), row.provider_name)
            db().delete(row)
            db().commit()
            flash("Access removed.", "info")
        elif user is None or provider not in names:
            flash("Choose a provider and give the email of an existing account.", "error")
            return redirect(url_for("reports.providers"), code=303)
        else:
            exists = db().exec(select(ProviderStaff).where(ProviderStaff.user_id == user.id,
                                                           ProviderStaff.provider_name == provider)).first()
            if not exists:
                db().add(ProviderStaff(user_id=user.id, provider_name=provider, granted_at=now()))
                record(db(), current_user.user.id, "provider.grant", user.id, now(), provider)
                db().commit()
            flash(f"{user.email} can now read {provider}'s reports.", "success")
        return redirect(url_for("reports.providers"), code=303)
    from portal.accounts.models import User

    staff = db().exec(select(ProviderStaff, User.email).join(User, User.id == ProviderStaff.user_id)
                      .order_by(ProviderStaff.provider_name, User.email)).all()
    return render("reports/providers.html", names=names, staff=staff, form=form)
