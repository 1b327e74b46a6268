"""Administrators see which packs and plugins are loaded, and which were set aside and why."""

from __future__ import annotations

from flask import Blueprint, current_app

from portal.accounts.auth import role_required
from portal.common.web import render

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")


@bp.get("/packs")
@role_required("admin")
def packs():
    from portal.ops.readiness import readiness

    return render("admin/packs.html", registry=current_app.extensions["packs"],
                  plugins=current_app.extensions["plugin_report"].loaded,
                  safe_mode=current_app.config["PORTAL_SAFE_MODE"],
                  health=readiness(current_app))  # the same checks as /readyz: a dead mail sender shows here
