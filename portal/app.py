"""The application factory: a readable list of steps."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_compress import Compress
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import SettingError, exit_on_setting_error, finish_config, load_config

PORTAL_DIR = Path(__file__).parent


def create_app(test_config: dict | None = None) -> Flask:
    """Build the portal. `test_config` overrides settings read from the environment."""
    app = Flask(__name__, static_folder=None, template_folder=str(PORTAL_DIR / "common" / "templates"))
    configure_settings(app, test_config)
    configure_logging(app)
    configure_plugins(app)
    configure_services(app)
    configure_security(app)
    configure_accounts(app)
    configure_templates(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    announce_ready(app)
    return app


def create_app_or_exit() -> Flask:
    """`create_app` for servers and the command line: an invalid pack or a broken plugin stops
    start-up with its message alone, never a traceback (tests call `create_app` and see the error)."""
    import sys

    from portal.plugins.manager import PluginError

    try:
        return create_app()
    except PluginError as error:
        print(f"The portal cannot start: {error}", file=sys.stderr, flush=True)
        raise SystemExit(4) from None  # 4: gunicorn's "app failed to load", which stops it retrying


def configure_settings(app: Flask, test_config: dict | None) -> None:
    """Read and check every setting once; a bad one stops start-up with one line (see portal.config)."""
    try:
        config = load_config()
        config.update(test_config or {})
        # Cookies are Secure whenever the portal is served over HTTPS, however the base URL was given.
        secure = config["PORTAL_BASE_URL"].startswith("https://")
        for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
            if not (test_config and key in test_config):
                config[key] = secure
        # Secure cookies take the __Host- prefix: a browser then takes them only over https, for
        # this host and path /, never set by a neighbouring subdomain (cookie tossing).
        for name, flag in (("SESSION_COOKIE_NAME", "SESSION_COOKIE_SECURE"), ("REMEMBER_COOKIE_NAME", "REMEMBER_COOKIE_SECURE")):
            if config[flag] and not config[name].startswith("__Host-") and not (test_config and name in test_config):
                config[name] = "__Host-" + config[name]
        finish_config(config)
    except SettingError as error:
        exit_on_setting_error(error)
    app.config.update(config)
    Path(app.config["PORTAL_DATA_DIR"]).mkdir(parents=True, exist_ok=True)
    if app.config["PROXY_FIX"]:
        # Trust exactly PROXY_FIX hops of X-Forwarded-For/-Proto: a value the visitor forged
        # sits further left and is never taken for the client's address.
        hops = app.config["PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)


def configure_logging(app: Flask) -> None:
    """One-line logs without email addresses, a log line and metrics per request, Sentry if set."""
    from portal.ops import observability

    observability.configure_logging(app.config)
    observability.init_app(app)


def configure_plugins(app: Flask) -> None:
    """Load packs and feature plugins before anything that they extend."""
    from portal import __version__
    from portal.packs.registry import load_registry
    from portal.plugins.manager import get_plugin_manager

    config = app.config
    pm, report = get_plugin_manager(safe_mode=config["PORTAL_SAFE_MODE"],
                                    extra_plugins=tuple(config.get("EXTRA_PLUGINS", ())))
    app.extensions["plugins"] = pm
    app.extensions["plugin_report"] = report
    app.extensions["packs"] = load_registry(
        pm, __version__, invalid=config["PORTAL_INVALID_PACKS"], disabled_ids=config["PORTAL_DISABLED_PACKS"],
        max_file_bytes=config["PACK_MAX_FILE_MB"] * 1024 * 1024, learners=_pack_learners(config))
    configure_resource_library(app)


def _pack_learners(config):
    """Counts a pack's learners per version, asked only when two packs claim one id (before the
    database service exists, so on a short-lived connection of its own)."""
    def count(pack_id: str) -> dict[str, int]:
        from portal.common.db import Database
        from portal.packs.registry import learner_counts

        database = config.get("DATABASE") or Database(config["DATABASE_URL"])
        try:
            return learner_counts(database, pack_id)
        finally:
            if database is not config.get("DATABASE"):
                database.dispose()

    return count


def configure_resource_library(app: Flask) -> None:
    """The operators' resources, the packs' and the plugins', merged once at start-up."""
    from portal.rollcall.library import (DEFAULT_RESOURCES, all_resources, load_operator_resources,
                                         plugin_resources)

    path = Path(app.config.get("PORTAL_RESOURCES_PATH") or DEFAULT_RESOURCES)
    app.extensions["resources"] = all_resources(
        load_operator_resources(path), app.extensions["packs"].all(),
        plugin_resources(app.extensions["plugins"].hook.portal_resources()))


def configure_services(app: Flask) -> None:
    from portal.accounts.passwords import Hasher
    from portal.accounts.services import TokenLifetimes
    from portal.common.clock import Clock
    from portal.common.db import Database
    from portal.common.storage import DatabaseStorage
    from portal.common.web import Services, close_db
    from portal.mail.services import Mailer

    config = app.config
    from portal.plugins.manager import collect

    plugin_mail = collect(app.extensions["plugins"].hook.portal_mail_template_dirs())
    mailer = Mailer([PORTAL_DIR / "mail" / "templates", *sorted(plugin_mail)], {
        "base_url": config["PORTAL_BASE_URL"], "portal_name": config["PORTAL_NAME"],
        "support_email": config["SUPPORT_EMAIL"], "support_phone": config["SUPPORT_PHONE"],
    })
    app.extensions["portal"] = Services(
        database=config.get("DATABASE") or Database(config["DATABASE_URL"], config["SQLITE_BUSY_TIMEOUT_MS"]),
        clock=config.get("CLOCK") or Clock(),
        hasher=Hasher(config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"]),
        mailer=mailer,
        storage=DatabaseStorage(),
        lifetimes=TokenLifetimes(verify=timedelta(hours=config["VERIFY_TOKEN_HOURS"]),
                                 reset=timedelta(minutes=config["RESET_TOKEN_MINUTES"]),
                                 secret=config["SECRET_KEY"]),
        session_idle=timedelta(hours=config["SESSION_IDLE_HOURS"]),
        remember_for=timedelta(days=config["REMEMBER_DAYS"]),
    )
    app.teardown_appcontext(close_db)


def configure_security(app: Flask) -> None:
    from portal.common import security

    security.init_app(app)
    Compress(app)


def configure_accounts(app: Flask) -> None:
    from portal.accounts import auth

    auth.init_app(app)


def configure_templates(app: Flask) -> None:
    from portal.common import assets, first_paint, templating

    assets.init_app(app)
    first_paint.init_app(app)
    templating.init_app(app)


def register_blueprints(app: Flask) -> None:
    from portal.accounts.views import bp as accounts_bp
    from portal.admin.views import bp as admin_bp
    from portal.catalog.views import bp as catalog_bp
    from portal.certificates.views import bp as certificates_bp
    from portal.learning.assessment_views import bp as assessments_bp
    from portal.learning.views import bp as learning_bp
    from portal.reports.views import bp as reports_bp
    from portal.rollcall.views import bp as rollcall_bp
    from portal.packs.views import bp as packs_bp
    from portal.plugins.manager import collect
    from portal.site.views import bp as site_bp
    from portal.support.views import bp as support_bp

    for blueprint in (site_bp, accounts_bp, support_bp, admin_bp, packs_bp, catalog_bp, learning_bp,
                      assessments_bp, certificates_bp, rollcall_bp, reports_bp):
        app.register_blueprint(blueprint)
    from portal.standards import origin as standards_origin

    standards_origin.init_app(app)  # cmi5/SCORM provider pages, and the content origin
    plugin_blueprints = collect(app.extensions["plugins"].hook.portal_blueprints())
    for blueprint in sorted(plugin_blueprints, key=lambda b: b.name):
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    from portal.common import errors

    errors.init_app(app)


def register_commands(app: Flask) -> None:
    from portal import cli

    cli.init_app(app)


def announce_ready(app: Flask) -> None:
    app.extensions["plugins"].hook.portal_app_ready(app=app)
