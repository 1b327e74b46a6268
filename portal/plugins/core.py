"""The core's own hook implementations, registered through the same manager as any
plugin; `trylast` so that plugins come first where order matters."""

from __future__ import annotations

from portal.plugins import hookimpl


@hookimpl(trylast=True)
def portal_navigation(user):
    items = [("Home", "site.home"), ("Catalog", "catalog.index")]
    if getattr(user, "is_authenticated", False):
        items.append(("My courses", "learning.my_courses"))
    items += [("Roll call", "rollcall.index"), ("Resources", "rollcall.resources"), ("FAQ", "site.faq"),
              ("Contact", "site.contact")]
    if getattr(user, "is_authenticated", False) and user.has_role("support", "admin"):
        items.append(("Support", "support.search"))
    if getattr(user, "is_authenticated", False) and user.has_role("admin"):
        items.append(("Reports", "reports.index"))
        items.append(("Admin", "admin.packs"))
    return items


@hookimpl(trylast=True)
def portal_profile_links(user):
    links = [("My Courses", "learning.my_courses"), ("My Certificates", "certificates.mine"),
             ("Roll-call training history", "rollcall.history"), ("My roll-call log (trainers)", "rollcall.my_log")]
    if getattr(user, "is_authenticated", False) and (user.has_role("admin") or _is_provider_staff(user)):
        links.append(("Reports", "reports.index"))
    return links


def _is_provider_staff(user) -> bool:
    from sqlmodel import select

    from portal.common.web import db
    from portal.reports.models import ProviderStaff

    return db().exec(select(ProviderStaff.id).where(ProviderStaff.user_id == user.user.id)).first() is not None
