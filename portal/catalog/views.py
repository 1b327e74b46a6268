"""The catalog and course pages."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user

from portal.catalog import services as catalog
from portal.common.web import db, now, render, render_page_or_fragment
from portal.learning import services as learning
from portal.learning.forms import StartForm
from portal.learning.progress import describe_enrollments, enrollments_of
from portal.learning.sessions import local_date, session_label, session_year
from portal.learning.web import pack_or_404, packs, portal_tz
from portal.packs.registry import files_base, render_description

bp = Blueprint("catalog", __name__, template_folder="templates")


@bp.get("/catalog")
def index():
    query = catalog.CatalogQuery.from_args(request.args)
    everything = packs().all()
    today = local_date(now(), portal_tz())
    results = catalog.search(everything, query, today)
    resources = []
    if (query.words or query.topic) and not (query.kind or query.provider or query.state):
        from portal.rollcall.library import search_resources

        resources = search_resources(current_app.extensions["resources"], query.words, query.topic)
    context = dict(results=results, query=query, facets=catalog.facets(everything, today), size=catalog.media_size,
                   human_size=catalog.human_size, approval=lambda entry: catalog.approval_status(entry, today),
                   resources=resources, form=StartForm())
    return render_page_or_fragment("catalog/index.html", "catalog/_results.html", "catalog-results", **context)


@bp.get("/courses/<pack_id>")
def course(pack_id: str):
    pack = pack_or_404(pack_id)
    tz = portal_tz()
    year = session_year(now(), tz)
    progress, earlier = None, []
    if current_user.is_authenticated and pack.kind == "course":
        mine = [e for e in enrollments_of(db(), current_user.user.id) if e.pack_id == pack.id]
        statuses = describe_enrollments(db(), mine, packs().packs, now(), tz)
        progress = next((s for s in statuses if s.enrollment.session_year == year), None)
        # Earlier sessions' certificates, issued or waiting for a step, stay in view whatever
        # the learner does in this session.
        earlier = [s for s in statuses if s.enrollment.session_year != year and s.state in ("passed",
                                                                                            "certificate_ready")]
        if progress is None and not earlier and statuses:
            progress = statuses[0]  # the latest expired enrollment: the page says it ended
    today = local_date(now(), tz)
    # A learner part-way through on an older version is told what the new version changed.
    changes = (pack.changes_since(progress.enrollment.pack_version) if progress and not progress.enrollment.passed_at
               and progress.enrollment.session_year == year else ())
    return render("catalog/course.html", pack=pack, description=render_description(pack), progress=progress,
                  changes=changes,
                  earlier=earlier, session=session_label(year), year=year, files=files_base(pack),
                  size=catalog.media_size(pack), human_size=catalog.human_size, form=StartForm(),
                  approval=lambda entry: catalog.approval_status(entry, today))
