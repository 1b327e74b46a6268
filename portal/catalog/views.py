"""The catalog and course pages."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask_login import current_user

from portal.catalog import services as catalog
from portal.common.web import db, now, render, render_page_or_fragment
from portal.learning import services as learning
from portal.learning.forms import StartForm
from portal.learning.progress import describe_enrollments
from portal.learning.sessions import session_label, session_year
from portal.learning.web import pack_or_404, packs, portal_tz
from portal.packs.registry import files_base, render_description

bp = Blueprint("catalog", __name__, template_folder="templates")


@bp.get("/catalog")
def index():
    query = catalog.CatalogQuery.from_args(request.args)
    everything = packs().all()
    results = catalog.search(everything, query)
    resources = []
    if (query.words or query.topic) and not (query.kind or query.provider or query.state):
        from portal.rollcall.library import search_resources

        resources = search_resources(current_app.extensions["resources"], query.words, query.topic)
    context = dict(results=results, query=query, facets=catalog.facets(everything), size=catalog.media_size,
                   human_size=catalog.human_size, states=catalog.approved_states, resources=resources)
    return render_page_or_fragment("catalog/index.html", "catalog/_results.html", "catalog-results", **context)


@bp.get("/courses/<pack_id>")
def course(pack_id: str):
    pack = pack_or_404(pack_id)
    tz = portal_tz()
    progress = None
    if current_user.is_authenticated and pack.kind == "course":
        enrollment = learning.enrollment_for_study(db(), current_user.user.id, pack.id, now(), tz)
        if enrollment:
            [progress] = describe_enrollments(db(), [enrollment], packs().packs, now(), tz)
    year = session_year(now(), tz)
    return render("catalog/course.html", pack=pack, description=render_description(pack), progress=progress,
                  session=session_label(year), year=year, files=files_base(pack), size=catalog.media_size(pack),
                  human_size=catalog.human_size, form=StartForm())
