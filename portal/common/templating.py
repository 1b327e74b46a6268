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


def _items(results: list) -> list[NavItem]:
    # pluggy returns the core's trylast answer last; show the core's items first.
    items = [NavItem(label, url_for(endpoint)) for result in reversed(results) for label, endpoint in result or []]
    for item in items:
        item.current = request.path == item.url
    return items


def nav_items() -> list[NavItem]:
    """Main navigation: the core's items, then those plugins add."""
    return _items(current_app.extensions["plugins"].hook.portal_navigation(user=current_user))


def profile_links() -> list[NavItem]:
    """Links on the profile page that areas and plugins add (certificates, agencies...)."""
    return _items(current_app.extensions["plugins"].hook.portal_profile_links(user=current_user))


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    local = value.astimezone(ZoneInfo(current_app.config["PORTAL_TIMEZONE"]))
    return local.strftime("%B %-d, %Y, %-I:%M %p %Z")


def format_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%B %-d, %Y")


def format_hours(value: float) -> str:
    return f"{value:g} hour{'s' if value != 1 else ''}"


def format_mmss(seconds: float) -> str:
    seconds = int(seconds or 0)
    return f"{seconds // 60}:{seconds % 60:02d}"


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(nav_items=nav_items, profile_links=profile_links)
    app.jinja_env.filters["hours"] = format_hours
    app.jinja_env.filters["mmss"] = format_mmss
    app.jinja_env.filters["datetime"] = format_datetime
    app.jinja_env.filters["date"] = format_date
