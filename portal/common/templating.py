"""Template globals and filters: navigation, dates in the portal's time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from flask_login import current_user


@dataclass
class NavItem:
    label: str
    url: str
    current: bool = False


def nav_items() -> list[NavItem]:
    items = [NavItem("Home", url_for("site.home")), NavItem("FAQ", url_for("site.faq")),
             NavItem("Contact", url_for("site.contact"))]
    if current_user.is_authenticated and current_user.has_role("support", "admin"):
        items.append(NavItem("Support", url_for("support.search")))
    for item in items:
        item.current = request.path == item.url
    return items


def profile_links() -> list[NavItem]:
    """Links on the profile page that areas add as they arrive (certificates, agencies...)."""
    return list(current_app.extensions.get("profile_links", []))


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"]))
    return local.strftime("%B %-d, %Y, %-I:%M %p %Z")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%B %-d, %Y")


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(nav_items=nav_items, profile_links=profile_links)
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
