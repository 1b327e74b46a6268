"""Settings: the README's table and the code agree, and a bad value stops start-up with one
clear line and a non-zero status, before anything is served."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from portal.config import SETTINGS, SettingError, read_settings

ROOT = Path(__file__).resolve().parent.parent
NAME = r"[A-Z][A-Z0-9_]+"


def readme_settings() -> set[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(rf"`({NAME})`", line.split("|")[1]))
    return names


def variables_read_by_code() -> dict[str, str]:
    """Environment variables the portal and its bundled plugins read, wherever they read them."""
    pattern = re.compile(rf"""(?:environ\.get\(|environ\[|getenv\(|env\.get\(|env\[)\s*["']({NAME})["'](?!\]\s*=[^=])""")
    found = {}
    for path in [*ROOT.joinpath("portal").rglob("*.py"), *ROOT.joinpath("plugins").glob("*/src/**/*.py"),
                 *ROOT.joinpath("plugins").glob("*/*/*.py"), ROOT / "migrations" / "env.py"]:
        if "tests" in path.parts:
            continue
        for name in pattern.findall(path.read_text()):
            found.setdefault(name, str(path.relative_to(ROOT)))
    return found


def test_every_setting_is_in_the_readme_and_every_readme_row_is_a_setting():
    in_code = {s.name for s in SETTINGS}
    in_readme = readme_settings()
    assert in_code - in_readme == set(), "settings the README's table does not list"
    assert in_readme - in_code == set(), "README rows no code reads"


def test_code_reads_the_environment_only_through_the_settings_table():
    in_code = {s.name for s in SETTINGS}
    stray = {name: where for name, where in variables_read_by_code().items() if name not in in_code}
    assert stray == {}, "read from the environment but not in portal/config.py's SETTINGS"


def test_every_setting_has_a_doc_and_a_unique_name():
    names = [s.name for s in SETTINGS]
    assert len(names) == len(set(names))
    assert all(s.doc.strip() for s in SETTINGS)


def test_defaults_are_valid():
    values = read_settings({})
    assert values["PORTAL_TIMEZONE"] == "America/New_York" and values["PROXY_FIX"] == 0
    assert values["PORTAL_BASE_URL"] == "http://127.0.0.1:5000"
    assert read_settings({"PORT": "18123"})["PORTAL_BASE_URL"] == "http://127.0.0.1:18123"


@pytest.mark.parametrize("name, value, allowed", [
    ("PORTAL_TIMEZONE", "America/New_Yrok", "IANA time zone"),
    ("PORTAL_INVALID_PACKS", "skip", "fail, disable"),
    ("MAIL_TRANSPORT", "sendmail", "file, smtp"),
    ("SMTP_SECURITY", "ssl", "none, starttls, tls"),
    ("SMTP_PORT", "twenty-five", "whole number"),
    ("SMTP_PORT", "70000", "from 1 to 65535"),
    ("SMTP_TIMEOUT", "0", "above 0"),
    ("PROXY_FIX", "yes", "whole number"),
    ("RATELIMIT_ENABLED", "maybe", "1/true/yes/on"),
    ("RATELIMIT_STORAGE_URI", "127.0.0.1:6379", "redis://"),
    ("DATABASE_URL", "mysql://db/portal", "postgresql://"),
    ("PORTAL_BASE_URL", "training.example.gov", "https://"),
    ("PORTAL_FAQ_PATH", "/nonexistent/faq.md", "no such file"),
])
def test_a_bad_value_names_the_variable_and_what_is_allowed(name, value, allowed):
    with pytest.raises(SettingError) as raised:
        read_settings({name: value})
    message = str(raised.value)
    assert message.startswith(f"{name}=") and allowed in message and "\n" not in message


def test_an_empty_value_means_the_default():
    """An empty PORTAL_TIMEZONE used to start, then fail every course page."""
    values = read_settings({"PORTAL_TIMEZONE": "", "PORTAL_INVALID_PACKS": " ", "SMTP_PORT": ""})
    assert (values["PORTAL_TIMEZONE"], values["PORTAL_INVALID_PACKS"], values["SMTP_PORT"]) == (
        "America/New_York", "fail", 25)


def test_words_are_read_case_insensitively():
    """PORTAL_INVALID_PACKS=Disable used to behave as `fail` without a word."""
    assert read_settings({"PORTAL_INVALID_PACKS": "Disable"})["PORTAL_INVALID_PACKS"] == "disable"
    assert read_settings({"PROXY_FIX": "1"})["PROXY_FIX"] == 1


def test_secrets_are_not_echoed():
    with pytest.raises(SettingError) as raised:
        read_settings({"SMTP_PASSWORD": "hunter2", "SMTP_PORT": "x"})
    assert "hunter2" not in str(raised.value)


def _environment(tmp_path, **settings) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in {s.name for s in SETTINGS}}
    env.update(PORTAL_DATA_DIR=str(tmp_path / "data"), **settings)
    return env


def _run(command: list[str], env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_command_line_stops_with_one_line_and_a_non_zero_status(tmp_path):
    result = _run([sys.executable, "-m", "portal.cli", "db", "current"],
                  _environment(tmp_path, PORTAL_TIMEZONE="Europe/Lodnon"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "portal: configuration error: PORTAL_TIMEZONE='Europe/Lodnon' is not valid: "
        "use an IANA time zone name such as America/New_York"]


def test_gunicorn_stops_instead_of_restarting_workers(tmp_path):
    result = _run([sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1",
                   "portal:create_app()"], _environment(tmp_path, PORTAL_INVALID_PACKS="skip"))
    assert result.returncode != 0
    lines = (result.stdout + result.stderr).splitlines()
    assert "portal: configuration error: PORTAL_INVALID_PACKS='skip' is not valid: use one of fail, disable" in lines
    assert not any("Traceback" in line for line in lines)


def test_serve_checks_settings_before_starting_anything(tmp_path):
    result = _run([sys.executable, "-m", "portal.cli", "serve", "--port", "18990"],
                  _environment(tmp_path, SMTP_PORT="smtp"))
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1].startswith("portal: configuration error: SMTP_PORT=")


# -- the secret key: a per-host generated one breaks log-in behind a load balancer ----------------

def _create_app_from_environment(monkeypatch, tmp_path, **settings):
    from portal import create_app

    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    app = create_app()
    app.extensions["portal"].database.dispose()
    return app


@pytest.mark.parametrize("settings", [
    {"PORTAL_BASE_URL": "https://training.example.gov"},
    {"DATABASE_URL": "postgresql://portal@127.0.0.1:1/portal"},
])
def test_no_generated_secret_key_where_the_portal_is_evidently_shared(monkeypatch, tmp_path, capsys, settings):
    with pytest.raises(SystemExit) as raised:
        _create_app_from_environment(monkeypatch, tmp_path, **settings)
    assert raised.value.code != 0
    assert "SECRET_KEY is not set" in capsys.readouterr().err
    assert not (tmp_path / "data" / "secret_key").exists()


def test_a_generated_key_is_kept_for_one_host_or_when_allowed(monkeypatch, tmp_path):
    local = _create_app_from_environment(monkeypatch, tmp_path)
    assert local.config["SECRET_KEY"] == (tmp_path / "data" / "secret_key").read_text()
    allowed = _create_app_from_environment(monkeypatch, tmp_path, PORTAL_BASE_URL="https://one.example.gov",
                                           ALLOW_GENERATED_SECRET_KEY="1")
    assert allowed.config["SECRET_KEY"] == local.config["SECRET_KEY"]
    given = _create_app_from_environment(monkeypatch, tmp_path, PORTAL_BASE_URL="https://one.example.gov",
                                         SECRET_KEY="the-same-on-every-host")
    assert given.config["SECRET_KEY"] == "the-same-on-every-host"
