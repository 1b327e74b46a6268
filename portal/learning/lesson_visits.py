"""A signed note of when the server showed a lesson page, carried back by the page's heartbeat
and its "Mark complete" form, so that time on a lesson is measured from the server's own
clock without a GET writing anything (and a browser cannot claim a visit it never had)."""

from __future__ import annotations

from datetime import UTC, datetime

from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "portal.lesson-visit"
MAX_AGE_SECONDS = 24 * 3600


def sign_visit(secret_key: str, enrollment_id: int, lesson_id: str, shown_at: datetime) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps(
        [enrollment_id, lesson_id, shown_at.astimezone(UTC).isoformat()])


def read_visit(secret_key: str, token: str, enrollment_id: int, lesson_id: str, now: datetime) -> datetime | None:
    """When this enrollment's lesson page was shown, or None for a missing, forged, foreign or
    stale token."""
    if not token or len(token) > 300:
        return None
    try:
        owner, lesson, shown = URLSafeTimedSerializer(secret_key, salt=SALT).loads(token)
        shown_at = datetime.fromisoformat(shown)
    except (BadData, ValueError, TypeError):
        return None
    if owner != enrollment_id or lesson != lesson_id or shown_at.tzinfo is None:
        return None
    if not 0 <= (now - shown_at).total_seconds() <= MAX_AGE_SECONDS:
        return None
    return shown_at
