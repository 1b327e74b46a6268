"""Settings: one declarative table, read from the environment and validated once at start-up.

To add a setting, add one `Setting(...)` row to `SETTINGS` (name, parser, default, doc) and a
row to the README's settings table; `tests/test_settings.py` fails until both agree. A value
the parser refuses stops start-up with one line naming the variable and what it accepts.
"""

from __future__ import annotations

import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingError(ValueError):
    """A setting's value is unusable; the message names the variable and what is allowed."""


# -- parsers: text in, value out; a ValueError's message says what is allowed ----------------

def text(value: str) -> str:
    return value.strip()


def boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"", "0", "false", "no", "off"}:
        return False
    raise ValueError("use 1/true/yes/on or 0/false/no/off")


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value.strip())
        except ValueError:
            raise ValueError("use a whole number") from None
        if minimum is not None and number < minimum or maximum is not None and number > maximum:
            bounds = f"from {minimum}" + (f" to {maximum}" if maximum is not None else " up")
            raise ValueError(f"use a whole number {bounds}")
        return number
    return parse


def number(minimum: float = 0.0) -> Callable[[str], float]:
    def parse(value: str) -> float:
        try:
            result = float(value.strip())
        except ValueError:
            raise ValueError("use a number of seconds") from None
        if not result > minimum:
            raise ValueError(f"use a number above {minimum:g}")
        return result
    return parse


def choice(*allowed: str) -> Callable[[str], str]:
    """One of a few words, case-insensitively: `Disable` means `disable`, `Fial` is refused."""
    def parse(value: str) -> str:
        lowered = value.strip().lower()
        if lowered not in allowed:
            raise ValueError("use one of " + ", ".join(allowed))
        return lowered
    return parse


def timezone(value: str) -> str:
    name = value.strip()
    try:
        if not name:
            raise ValueError
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("use an IANA time zone name such as America/New_York") from None
    return name


def networks(value: str) -> tuple:
    import ipaddress

    try:
        return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in value.split(",") if part.strip())
    except ValueError:
        raise ValueError("use comma-separated addresses or networks, e.g. 127.0.0.1,10.0.0.0/8") from None


def fraction(value: str) -> float:
    try:
        result = float(value.strip())
    except ValueError:
        result = -1.0
    if not 0.0 <= result <= 1.0:
        raise ValueError("use a number from 0 to 1")
    return result


def comma_set(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def existing_file(value: str) -> str:
    path = value.strip()
    if path and not Path(path).is_file():
        raise ValueError("no such file")
    return path


def web_url(value: str) -> str:
    url = value.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise ValueError("use an http:// or https:// address")
    return url


def database_url(value: str) -> str:
    url = value.strip()
    if not url.startswith(("sqlite:", "postgres://", "postgresql://", "postgresql+psycopg://")):
        raise ValueError("use sqlite:///PATH or postgresql://user:pass@host:5432/db")
    return normalise_database_url(url)


def storage_uri(value: str) -> str:
    uri = value.strip()
    if not uri.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
        raise ValueError("use memory:// or redis://host:6379/0")
    return uri


def normalise_database_url(url: str) -> str:
    """Point plain PostgreSQL URLs at psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Setting:
    """One environment variable. `default` is text fed to `parse`, or a function of the
    settings read so far (rows are read in order) that returns the text."""

    name: str
    parse: Callable[[str], Any]
    default: str | Callable[[Mapping[str, Any]], str]
    doc: str
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("PORT", integer(1, 65535), "5000", "port `make run` and `portal serve` listen on"),
    Setting("HOST", text, "127.0.0.1", "address `portal serve` listens on"),
    Setting("PORTAL_DATA_DIR", lambda v: str(Path(v.strip() or "instance").resolve()), "instance",
            "SQLite database, mail files, the generated secret key"),
    Setting("DATABASE_URL", database_url, lambda s: f"sqlite:///{Path(s['PORTAL_DATA_DIR']) / 'portal.db'}",
            "SQLite in the data folder, or PostgreSQL through psycopg 3"),
    Setting("SQLITE_BUSY_TIMEOUT_MS", integer(0), "5000",
            "how long a write waits for another's lock before a 503; PostgreSQL's lock_timeout"),
    Setting("PORTAL_BASE_URL", web_url, lambda s: f"http://127.0.0.1:{s['PORT']}",
            "the public address every link in mail is built from"),
    Setting("PORTAL_NAME", text, "Public Safety Training Portal", "the portal's name in pages and mail"),
    Setting("SECRET_KEY", text, "", "signs sessions; the same on every host", secret=True),
    Setting("ALLOW_GENERATED_SECRET_KEY", boolean, "0",
            "start with a per-host generated key even on PostgreSQL or https"),
    Setting("PORTAL_TIMEZONE", timezone, "America/New_York", "the zone course sessions run in"),
    Setting("PORTAL_SAFE_MODE", boolean, "0", "start with no third-party packs or plugins"),
    # "fail" stops start-up on an invalid pack; "disable" sets it aside and serves the rest.
    Setting("PORTAL_INVALID_PACKS", choice("fail", "disable"), "fail", "what an invalid pack does"),
    Setting("PORTAL_DISABLED_PACKS", comma_set, "", "pack ids not to serve"),
    Setting("PACK_MAX_FILE_MB", integer(1), "25", "largest file a pack may ship"),
    # cmi5 / SCORM packages run on their own origin, never the portal's (portal/standards).
    Setting("CONTENT_BASE_URL", web_url, lambda s: f"http://localhost:{s['PORT'] + 1}",
            "the separate origin imported package files and the LRS are served from"),
    Setting("STD_MAX_PACKAGE_MB", integer(1), "200", "largest cmi5/SCORM package, unpacked"),
    Setting("LRS_REPORTING_KEY", text, "", "key of the read-only LRS reporting account (empty: none)"),
    Setting("LRS_REPORTING_SECRET", text, "", "its secret", secret=True),
    Setting("PORTAL_FAQ_PATH", existing_file, "", "your own FAQ, in Markdown"),
    Setting("PORTAL_RESOURCES_PATH", existing_file, "", "your own resource library entries"),
    Setting("SUPPORT_EMAIL", text, "support@portal.invalid", "where contact requests go"),
    Setting("SUPPORT_PHONE", text, "1-833-650-7910", "shown on every page"),
    # Mail: "file" writes .eml files under the data folder; "smtp" delivers.
    Setting("MAIL_TRANSPORT", choice("file", "smtp"), "file", "how mail leaves"),
    Setting("MAIL_FROM", text, "Training Portal <no-reply@portal.invalid>", "the sender address"),
    Setting("SMTP_HOST", text, "localhost", "mail relay"),
    Setting("SMTP_PORT", integer(1, 65535), "25", "mail relay port"),
    Setting("SMTP_SECURITY", choice("none", "starttls", "tls"), "none", "TLS to the relay"),
    Setting("SMTP_USERNAME", text, "", "relay credentials"),
    Setting("SMTP_PASSWORD", text, "", "relay credentials", secret=True),
    Setting("SMTP_TIMEOUT", number(), "10", "seconds to wait for the relay"),
    Setting("MAIL_SENDER_MAX_SILENCE", integer(0), "120",
            "seconds without a mail sender heartbeat before /readyz fails (0: not checked)"),
    # Tokens and sessions.
    Setting("VERIFY_TOKEN_HOURS", integer(1), "48", "life of an email confirmation link"),
    Setting("RESET_TOKEN_MINUTES", integer(1), "60", "life of a password reset link"),
    Setting("SESSION_IDLE_HOURS", integer(1), "12", "a session unused this long ends"),
    Setting("REMEMBER_DAYS", integer(1), "30", "life of \"remember me\""),
    Setting("SESSION_ABSOLUTE_DAYS", integer(1), "30", "a session ends this long after log-in, however busy"),
    Setting("ARGON2_TIME_COST", integer(1), "3", "password hashing cost"),
    Setting("ARGON2_MEMORY_COST", integer(8), "65536", "password hashing memory, KiB"),
    # Rate limits: memory by default (one process); redis:// shares them between workers and hosts.
    Setting("RATELIMIT_STORAGE_URI", storage_uri, "memory://", "where rate limits are counted"),
    Setting("RATELIMIT_ENABLED", boolean, "1", "switch rate limits off (tests only)"),
    Setting("MAX_CONTENT_LENGTH", integer(1024), str(8 * 1024 * 1024), "largest request body, bytes"),
    # The number of reverse proxies in front that append to X-Forwarded-For; only their hops are trusted.
    Setting("PROXY_FIX", lambda v: integer(0, 5)({"off": "0", "": "0"}.get(v.strip().lower(), v)), "0",
            "number of trusted reverse proxies"),
)

# Observability (docs/operations.md): logs, metrics, error reports.
SETTINGS += (
    Setting("LOG_FORMAT", choice("text", "json"), "text", "one line per record, as text or JSON"),
    Setting("LOG_LEVEL", choice("debug", "info", "warning", "error"), "info", "least severe level logged"),
    Setting("METRICS_ALLOW", networks, "127.0.0.1,::1", "addresses that may read /metrics without a token"),
    Setting("METRICS_TOKEN", text, "", "bearer token that may read /metrics from anywhere", secret=True),
    Setting("SENTRY_DSN", text, "", "report errors to Sentry (empty: off)", secret=True),
    Setting("SENTRY_ENVIRONMENT", text, "", "environment name in Sentry"),
    Setting("SENTRY_TRACES_SAMPLE_RATE", fraction, "0", "share of requests traced in Sentry"),
)

# Flask and extension settings that are not the operator's to choose.
FIXED: dict[str, Any] = {
    "SESSION_COOKIE_NAME": "portal_session",
    "REMEMBER_COOKIE_NAME": "portal_remember",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    "COMPRESS_MIMETYPES": [
        "text/html", "text/css", "application/javascript", "text/javascript",
        "application/json", "text/csv", "text/plain", "image/svg+xml", "text/vtt",
    ],
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    # Brotli 6 takes 6-8% off a page for about a millisecond more than the default 4 (11 would take
    # another 12% for 12 ms): on Slow 3G every 50 bytes before the first paint cost a millisecond.
    "COMPRESS_BR_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 256,
}


def read_settings(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every setting, parsed; raises SettingError naming the first bad one."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        raw = env.get(setting.name)
        if raw is None or raw.strip() == "":  # `NAME=` in an env file means "not set"
            raw = setting.default(values) if callable(setting.default) else setting.default
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as error:
            shown = "(hidden)" if setting.secret else repr(raw)
            raise SettingError(f"{setting.name}={shown} is not valid: {error}") from None
    return values


def load_config(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The settings as Flask config: the table's values, derived cookie flags and fixed ones.
    The secret key is not generated here (see `finish_config`), so reading settings writes nothing."""
    config = {**FIXED, **read_settings(environ)}
    derive(config)
    return config


def derive(config: dict[str, Any]) -> None:
    """Values that follow from others."""
    secure = config["PORTAL_BASE_URL"].startswith("https://")
    config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = secure
    config["PREFERRED_URL_SCHEME"] = "https" if secure else "http"


def finish_config(config: dict[str, Any]) -> None:
    """Checks across settings, then the secret key: a per-host generated key breaks every
    log-in behind a load balancer, so it is refused where the portal is evidently shared
    (PostgreSQL or https) unless the operator allows it."""
    if config.get("SECRET_KEY"):
        return
    shared = config["DATABASE_URL"].startswith("postgresql") or config["PORTAL_BASE_URL"].startswith("https://")
    if shared and not config.get("ALLOW_GENERATED_SECRET_KEY"):
        raise SettingError("SECRET_KEY is not set: with PostgreSQL or an https base URL every host needs the "
                           "same key (set SECRET_KEY, or ALLOW_GENERATED_SECRET_KEY=1 for a single host)")
    config["SECRET_KEY"] = _generated_secret_key(Path(config["PORTAL_DATA_DIR"]))


def _generated_secret_key(data_dir: Path) -> str:
    """One key generated once and kept in the data folder (fine for one host)."""
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def exit_on_setting_error(error: SettingError) -> None:
    """Stop start-up with one line and no traceback. Status 4 is gunicorn's "app failed to
    load", which stops its master too instead of restarting workers forever."""
    print(f"portal: configuration error: {error}", file=sys.stderr, flush=True)
    raise SystemExit(4)
