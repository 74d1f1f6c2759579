"""Settings come from the environment: each test starts a fresh Python with the variables given,
because settings are read once per process."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SETTINGS_VARIABLES = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
)
PRINT_DATABASE = (
    "import django; django.setup(); from django.conf import settings; "
    "db = settings.DATABASES['default']; print(db['ENGINE'], db['NAME'], db.get('HOST', ''))"
)


def run(args: list[str], **variables: str) -> subprocess.CompletedProcess[str]:
    """Run ``python <args>`` in the project with only the settings variables given."""
    env = {key: value for key, value in os.environ.items() if key not in SETTINGS_VARIABLES}
    env |= variables
    env["DJANGO_SETTINGS_MODULE"] = "agentportal.settings"
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def production() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
    }


def test_deploy_check_passes_with_production_settings():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_fails_when_debug_is_on():
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], DEBUG="1", **production()
    )
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on in deployment


def test_settings_refuse_to_load_without_a_secret_key_when_debug_is_off():
    result = run(["-c", "import django; django.setup()"], DEBUG="0")
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_development_needs_no_secret_key():
    result = run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.ALLOWED_HOSTS)",
        ],
        DEBUG="1",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['localhost', '127.0.0.1', '[::1]']"


def test_database_url_selects_postgresql():
    result = run(
        ["-c", PRINT_DATABASE],
        DATABASE_URL="postgres://portal:secret@db.internal:5432/agentportal",
        **production(),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.postgresql", "agentportal", "db.internal"]


def test_without_database_url_the_database_is_sqlite_in_the_project():
    result = run(["-c", PRINT_DATABASE], **production())
    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()[:2]
    assert engine == "django.db.backends.sqlite3"
    assert Path(name) == PROJECT / "db.sqlite3"


def test_allowed_hosts_and_trusted_origins_are_comma_separated():
    variables = production() | {
        "ALLOWED_HOSTS": "portal.example.com, internal.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://portal.example.com,https://internal.example.com",
    }
    result = run(
        [
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.ALLOWED_HOSTS); print(settings.CSRF_TRUSTED_ORIGINS)",
        ],
        **variables,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "['portal.example.com', 'internal.example.com']",
        "['https://portal.example.com', 'https://internal.example.com']",
    ]
