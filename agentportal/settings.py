"""Agent Portal settings: one file, every deployment difference comes from the environment.

Environment variables:
    DEBUG            "1"/"true" turns on debug mode (development only). Default: off.
    SECRET_KEY       required when DEBUG is off.
    ALLOWED_HOSTS    comma-separated host names. Default: localhost names when DEBUG is on.
    CSRF_TRUSTED_ORIGINS  comma-separated origins, e.g. https://portal.example.com.
    PORTAL_BASE_URL  where people reach the portal, for links in e-mail, e.g.
                     https://portal.example.com. Default: http://127.0.0.1:8000 with DEBUG, else
                     https:// and the first host of ALLOWED_HOSTS.
    DATABASE_URL     postgres://user:pass@host:5432/agentportal; default: SQLite in the project.
    CONN_MAX_AGE     seconds a database connection is kept between requests. Default: 60.
    CONN_HEALTH_CHECKS  "0" to skip checking a kept connection before a request uses it (behind
                     a pooler that checks for you). Default: on; see DATABASES below.
    SECURE_SSL_REDIRECT, SECURE_HSTS_SECONDS  see the README's production section.
    EMAIL_HOST, EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS  outgoing mail.
    EMAIL_TIMEOUT    seconds the mail worker waits on the SMTP server. Default: 20.
    MAIL_MAX_ATTEMPTS  tries before a message is given up (the admin's outbox can retry it).
    LOGIN_FAILURE_LIMIT, LOGIN_LOCKOUT_MINUTES  login throttling. Default: 5 failures, 15 minutes.
    TRUSTED_PROXY_COUNT  reverse proxies in front of the app that append to X-Forwarded-For.
                     Default: 0 (the client address is REMOTE_ADDR; the header is ignored).
    MARKETPLACE_NAME the Claude Code marketplace's name (kebab-case, not reserved by Claude Code);
                     people install <collection>@<name>. Default: agent-portal.
    MARKETPLACE_OWNER_NAME, MARKETPLACE_OWNER_EMAIL  who runs it, as marketplace.json says.
    AGENT_LINT_DESCRIPTION_TOKEN_BUDGET  description tokens the portal's agents may spend
                     together in the main conversation (lint). Default: 15000.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    # Development only: a throwaway key that changes each run would log everyone out on reload,
    # so a fixed, obviously insecure one is used, and only when DEBUG is on.
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])


def portal_base_url() -> str:
    """Where people reach the portal (scheme, host, port; no path): e-mail links start with it."""
    url = os.environ.get("PORTAL_BASE_URL", "").strip().rstrip("/")
    if not url:
        if DEBUG:
            return "http://127.0.0.1:8000"  # the development server of `make run`
        hosts = [host.lstrip(".") for host in ALLOWED_HOSTS if host != "*"]
        if not hosts:
            raise ImproperlyConfigured(
                "PORTAL_BASE_URL must be set when DEBUG is off and ALLOWED_HOSTS names no host: "
                "links in e-mail start with it, e.g. PORTAL_BASE_URL=https://portal.example.com"
            )
        url = f"https://{hosts[0]}"
    if not url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"PORTAL_BASE_URL must start with http:// or https://, not {url!r}"
        )
    return url


PORTAL_BASE_URL = portal_base_url()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "django_htmx",
    "agents",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "agentportal.middleware.BadInputMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "agentportal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "agents.context_processors.portal",
            ],
        },
    },
]

WSGI_APPLICATION = "agentportal.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        # Kept on (issue 11): a connection kept from an earlier request is checked (one
        # "SELECT 1") before the first query of the next request that uses it. Without the
        # check, after a database restart or failover every worker answers one request with an
        # error before dropping its dead connection. bench/scale.py measures the download's
        # throughput both ways: the check costs a few per cent at most, under the noise of a
        # shared machine, and a download already runs three queries (session, user, file).
        conn_health_checks=env_bool("CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    # psycopg prepares a query once a connection has run it this many times; Django's cursors
    # bind parameters on the client and are never prepared, so only the one-file download's
    # query is (distribution.files.published_file: planning was most of its time). Set
    # DATABASE_PREPARED_STATEMENTS=0 behind a pooler in transaction mode that cannot follow
    # prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Write transactions take the database lock when they begin, so two of them cannot both
    # read an agent and then both save it (PostgreSQL uses row locks for the same guarantee).
    DATABASES["default"].setdefault("OPTIONS", {})["transaction_mode"] = "IMMEDIATE"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Only while it exists: git keeps no empty folder, and a missing one fails check --deploy (W004).
STATICFILES_DIRS = [path for path in [BASE_DIR / "static"] if path.is_dir()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT wrong passwords for one account from
# one address, that account cannot sign in from that address until the cool-off has passed or
# an admin unlocks it (Access attempts in the admin). Counted in the database, so every app
# server sees the same failures.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "agents.logins.lockout_response"
AXES_CLIENT_IP_CALLABLE = "agents.logins.client_ip"
# How many proxies we run in front of the app, each appending the address it was reached from to
# X-Forwarded-For. 0: the header is ignored, since anyone can send one.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))

# Uploads: agent files are small; anything bigger is refused before it reaches our code.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Files per request and bytes of files per request are bounded by the first handler, at the
# import's batch limits (500 files, 10 MB), which says which limit was hit; Django's own cap on
# the number of files (100 by default) would answer a bare "400 Bad Request" before it.
FILE_UPLOAD_HANDLERS = [
    "agents.uploads.BoundedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_NUMBER_FILES = None

# Security: on by default whenever DEBUG is off.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is the domain owner's decision (it binds the parent domain and every subdomain to
# HTTPS and takes months to undo), so it stays opt-in and check --deploy does not nag about it.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts, styles and everything else
# only from this site's own static files; no inline script, no inline event handler, no inline
# style, no third-party origin, no framing. Pages keep all behaviour in static/agents/*.js.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
# Django waits forever by default; the mail worker would hang on a server that never answers.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "agent-portal@localhost")

# Mail goes through the outbox (agents.OutgoingMail): the request writes it, the task worker
# (`manage.py db_worker`) delivers it, retrying with a growing delay: one minute, then doubled
# each time up to an hour, and given up after MAIL_MAX_ATTEMPTS tries.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "10"))
MAIL_RETRY_DELAY = timedelta(minutes=1)
MAIL_RETRY_MAX_DELAY = timedelta(hours=1)

# Agent lint: Claude Code warns past 15,000 tokens of agent descriptions.
AGENT_LINT_DESCRIPTION_TOKEN_BUDGET = int(
    os.environ.get("AGENT_LINT_DESCRIPTION_TOKEN_BUDGET", "15000")
)

# The Claude Code plugin marketplace (/marketplace.json): checked at start-up by `manage.py check`
# (agents.distribution.marketplace), since Claude Code refuses reserved or malformed names. Its
# links start with PORTAL_BASE_URL.
MARKETPLACE_NAME = os.environ.get("MARKETPLACE_NAME", "agent-portal")
MARKETPLACE_OWNER_NAME = os.environ.get("MARKETPLACE_OWNER_NAME", "Agent Portal")
MARKETPLACE_OWNER_EMAIL = os.environ.get("MARKETPLACE_OWNER_EMAIL", "")

# The REST API (agents/api/): the session (with CSRF) and personal access tokens; JSON errors
# everywhere; throttled per person and per token in the shared cache (CACHES below).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "agents.api.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.MultiPartParser",
        "rest_framework.parsers.FormParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "agents.api.throttling.PerUserThrottle",
        "agents.api.throttling.PerTokenThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_USER_RATE", "3000/hour"),
        "token": os.environ.get("API_TOKEN_RATE", "1000/hour"),
    },
    "EXCEPTION_HANDLER": "agents.api.errors.handle",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Agent Portal API",
    "DESCRIPTION": (
        "Everything the browser can do, for scripts and CI, under the same rules. "
        "Authenticate with the session or a personal access token (Authorization: Bearer ...)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"AgentStateEnum": "agents.models.Agent.Status"},
}

# The cache every app server shares: the throttles count in it. The database by default (the
# table is created by migration 0014), "locmem://" for one process, or "redis://host:6379/0".
CACHE_URL = os.environ.get("CACHE_URL", "db://")
if CACHE_URL.startswith("redis://"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
    }
elif CACHE_URL.startswith("locmem://"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "agent_portal_cache",
        }
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
