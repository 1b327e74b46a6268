"""Settings read from the environment, with safe defaults for `make run`."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(data_dir: Path) -> str:
    """Use SECRET_KEY, else one generated once and kept in the data folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def load_config() -> dict:
    """Collect every setting the portal reads; each has an environment variable."""
    env = os.environ
    data_dir = Path(env.get("PORTAL_DATA_DIR", "instance")).resolve()
    database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'portal.db'}"
    base_url = env.get("PORTAL_BASE_URL", f"http://127.0.0.1:{env.get('PORT', '5000')}")
    secure = base_url.startswith("https://")
    return {
        "SECRET_KEY": _secret_key(data_dir),
        "PORTAL_DATA_DIR": str(data_dir),
        "DATABASE_URL": normalise_database_url(database_url),
        "SQLITE_BUSY_TIMEOUT_MS": int(env.get("SQLITE_BUSY_TIMEOUT_MS", "5000")),
        "PORTAL_BASE_URL": base_url.rstrip("/"),
        "PORTAL_NAME": env.get("PORTAL_NAME", "Public Safety Training Portal"),
        "PORTAL_TIMEZONE": env.get("PORTAL_TIMEZONE", "America/New_York"),
        "PORTAL_SAFE_MODE": _bool(env.get("PORTAL_SAFE_MODE")),
        # "fail" stops start-up on an invalid pack; "disable" sets it aside and serves the rest.
        "PORTAL_INVALID_PACKS": env.get("PORTAL_INVALID_PACKS", "fail"),
        "PORTAL_DISABLED_PACKS": frozenset(
            p.strip() for p in env.get("PORTAL_DISABLED_PACKS", "").split(",") if p.strip()),
        "PACK_MAX_FILE_MB": int(env.get("PACK_MAX_FILE_MB", "25")),
        "PORTAL_FAQ_PATH": env.get("PORTAL_FAQ_PATH", ""),
        "PORTAL_RESOURCES_PATH": env.get("PORTAL_RESOURCES_PATH", ""),
        "SUPPORT_EMAIL": env.get("SUPPORT_EMAIL", "support@portal.invalid"),
        "SUPPORT_PHONE": env.get("SUPPORT_PHONE", "1-833-650-7910"),
        # Mail: "file" writes .eml files under the data folder; "smtp" delivers.
        "MAIL_TRANSPORT": env.get("MAIL_TRANSPORT", "file"),
        "MAIL_FROM": env.get("MAIL_FROM", "Training Portal <no-reply@portal.invalid>"),
        "SMTP_HOST": env.get("SMTP_HOST", "localhost"),
        "SMTP_PORT": int(env.get("SMTP_PORT", "25")),
        "SMTP_SECURITY": env.get("SMTP_SECURITY", "none"),  # none | starttls | tls
        "SMTP_USERNAME": env.get("SMTP_USERNAME", ""),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD", ""),
        "SMTP_TIMEOUT": float(env.get("SMTP_TIMEOUT", "10")),
        "MAIL_BACKGROUND_SENDER": _bool(env.get("MAIL_BACKGROUND_SENDER"), default=False),
        # Tokens and sessions.
        "VERIFY_TOKEN_HOURS": int(env.get("VERIFY_TOKEN_HOURS", "48")),
        "RESET_TOKEN_MINUTES": int(env.get("RESET_TOKEN_MINUTES", "60")),
        "SESSION_IDLE_HOURS": int(env.get("SESSION_IDLE_HOURS", "12")),
        "REMEMBER_DAYS": int(env.get("REMEMBER_DAYS", "30")),
        "ARGON2_TIME_COST": int(env.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(env.get("ARGON2_MEMORY_COST", "65536")),
        # Rate limits: memory by default; redis://127.0.0.1:6379 for several workers.
        "RATELIMIT_STORAGE_URI": env.get("RATELIMIT_STORAGE_URI", "memory://"),
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), default=True),
        # Cookies.
        "SESSION_COOKIE_NAME": "portal_session",
        "REMEMBER_COOKIE_NAME": "portal_remember",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure,
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024))),
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
        "COMPRESS_MIMETYPES": [
            "text/html", "text/css", "application/javascript", "text/javascript",
            "application/json", "text/csv", "text/plain", "image/svg+xml", "text/vtt",
        ],
        "COMPRESS_ALGORITHM": ["br", "gzip"],
        "COMPRESS_MIN_SIZE": 256,
    }
