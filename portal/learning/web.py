"""Shared pieces of the learning and certificate views."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import abort, current_app, flash, redirect

from portal.learning.services import LearningError
from portal.packs.model import Pack


def packs():
    return current_app.extensions["packs"]


def pack_or_404(pack_id: str) -> Pack:
    pack = packs().get(pack_id)
    if pack is None:
        abort(404)
    return pack


def course_or_404(pack_id: str) -> Pack:
    pack = pack_or_404(pack_id)
    if pack.kind != "course":
        abort(404)
    return pack


def portal_tz() -> ZoneInfo:
    return ZoneInfo(current_app.config["PORTAL_TIMEZONE"])


def refuse(error: LearningError, to: str):
    """Show a rule's message on the page the learner is sent to (303, so a refresh never re-posts);
    nothing was written."""
    flash(error.message, "error")
    return redirect(to, code=303)

