"""A signed token naming one learner's one test attempt, carried in the test form.

When a submission arrives after the log-in session ended (log-out in another tab, the idle
limit), its CSRF token is no longer valid and nobody is signed in; the answers would be lost.
This token proves the form came from that learner's own test page, so the answers are kept as
the attempt's draft (never scored) and restored after the learner signs in again."""

from __future__ import annotations

from itsdangerous import BadData, URLSafeTimedSerializer

SALT = "portal.attempt-answers"
MAX_AGE_SECONDS = 30 * 24 * 3600  # an attempt also ends with its session year


def sign_attempt(secret_key: str, user_id: int, attempt_id: int) -> str:
    return URLSafeTimedSerializer(secret_key, salt=SALT).dumps([user_id, attempt_id])


def read_attempt_token(secret_key: str, token: str) -> tuple[int, int] | None:
    """(user_id, attempt_id), or None for a token that is missing, forged or too old."""
    if not token or len(token) > 200:
        return None
    try:
        user_id, attempt_id = URLSafeTimedSerializer(secret_key, salt=SALT).loads(token, max_age=MAX_AGE_SECONDS)
    except (BadData, ValueError, TypeError):
        return None
    if not (isinstance(user_id, int) and isinstance(attempt_id, int)):
        return None
    return user_id, attempt_id
