"""Django settings for gunmane.

Everything a deployment changes comes from the environment (the full table, in Japanese, is
docs/deployment.md):
GUNMANE_DATABASE_URL (sqlite:///PATH or postgresql://…; unset = embedded SQLite in the data folder),
GUNMANE_DATA_DIR (database, kept upload files, secret key; default ./var next to the package),
GUNMANE_SECRET_KEY, GUNMANE_DEBUG, GUNMANE_ALLOWED_HOSTS, GUNMANE_LANG (ja|en),
GUNMANE_PRODUCTION (HTTPS only, HSTS, secure cookies, a required strong secret key),
GUNMANE_CSRF_TRUSTED_ORIGINS, GUNMANE_BEHIND_PROXY, GUNMANE_HSTS_SECONDS, GUNMANE_ADMIN_PATH,
GUNMANE_SESSION_IDLE_MINUTES, GUNMANE_LOGIN_FAILURE_LIMIT, GUNMANE_LOGIN_LOCKOUT_MINUTES.
"""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

PACKAGE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("GUNMANE_DATA_DIR", PACKAGE_DIR.parent / "var")).resolve()
_ENGLISH = os.environ.get("GUNMANE_LANG") == "en"


def _refuse(ja: str, en: str) -> ImproperlyConfigured:
    """A configuration error in the operator's language (the server must not start half-secured)."""
    return ImproperlyConfigured(en if _ENGLISH else ja)


def _flag(name: str) -> bool:
    return os.environ.get(name, "0").strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise _refuse(f"環境変数 {name} には {minimum} 以上の整数を指定してください（指定値: {raw!r}）。",
                      f"{name} must be an integer >= {minimum} (got {raw!r}).")
    return value


def _list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# GUNMANE_PRODUCTION=1: a server that other people reach over the network (docs/deployment.md).
PRODUCTION = _flag("GUNMANE_PRODUCTION")
_KEY_HELP = 'python -c "import secrets; print(secrets.token_urlsafe(50))"'


def _weak_secret_key(key: str) -> str | None:
    """Why the key is unfit for production, or None; the same rule as Django's check security.W009."""
    if not key:
        return "未設定です"
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
        return "短すぎるか、推測されやすい値です（50文字以上・5種類以上の文字が必要）"
    return None


def _secret_key() -> str:
    """Use GUNMANE_SECRET_KEY, else a random key kept in the data folder (stable across restarts).

    In production the key must come from the environment and be strong: a key file left in a
    copied data folder, or a short key, would let anyone who has it forge sessions.
    """
    key = os.environ.get("GUNMANE_SECRET_KEY", "")
    if PRODUCTION:
        if problem := _weak_secret_key(key):
            raise _refuse(
                f"本番モード（GUNMANE_PRODUCTION=1）では環境変数 GUNMANE_SECRET_KEY が必要ですが、{problem}。"
                f"次のコマンドで作った値を設定してから起動してください: {_KEY_HELP}",
                "Production (GUNMANE_PRODUCTION=1) needs a strong GUNMANE_SECRET_KEY (at least 50 characters, "
                f"not guessable). Create one with: {_KEY_HELP}")
        return key
    if key:
        return key
    path = DATA_DIR / "secret_key"
    if path.exists():
        return path.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.write_text(key)
    path.chmod(0o600)
    return key


SECRET_KEY = _secret_key()
DEBUG = _flag("GUNMANE_DEBUG")
if PRODUCTION and DEBUG:
    raise _refuse("本番モード（GUNMANE_PRODUCTION=1）では GUNMANE_DEBUG=1 を使えません。"
                  "デバッグ画面は設定や個人情報を表示するため、GUNMANE_DEBUG を外して起動してください。",
                  "GUNMANE_DEBUG=1 is not allowed with GUNMANE_PRODUCTION=1 (the debug page shows settings and data).")
ALLOWED_HOSTS = _list("GUNMANE_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "simple_history",
    "axes",  # login throttling and lockout (below: AXES_*)
    "django_tasks",  # long work off the request (below: TASKS; docs/tasks.md)
    "django_tasks_db",
    "gunmane.web.common",
    "gunmane.web.jobs",
    "gunmane.web.accounts",
    "gunmane.web.registry",
    "gunmane.web.groups",
    "gunmane.web.analysis",
    "gunmane.web.surveys",
    "gunmane.web.guide",
    "gunmane.web.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # the URL table (gunmane.web.access) decides the method and whether a login is needed (it extends
    # Django's LoginRequiredMiddleware: only OPEN and PUBLIC URLs let a visitor in)
    "gunmane.web.access.UrlRuleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Axes turns a locked-out login into the lockout page; its documentation asks for it last.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "gunmane.web.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "web" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
WSGI_APPLICATION = "gunmane.web.wsgi.application"


def database_config() -> dj_database_url.DBConfig:
    url = os.environ.get("GUNMANE_DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{DATA_DIR / 'gunmane.sqlite3'}"
    config = dj_database_url.parse(url, conn_max_age=60)
    if config["ENGINE"].endswith("sqlite3"):
        # WAL lets the web app read while a background import writes; a generous timeout
        # avoids "database is locked" on slow office disks.
        config["OPTIONS"] = {
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
        config["CONN_MAX_AGE"] = 0
    return config


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out user before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"  # the public home page (the six questions), not a bare login form

LANGUAGE_CODE = "en" if _ENGLISH else "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [PACKAGE_DIR / "web" / "static"]
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns when it is missing
MEDIA_ROOT = DATA_DIR / "uploads"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if PRODUCTION:  # hashed, compressed copies made by `collectstatic` (gunmane serve --production runs it)
    STORAGES["staticfiles"] = {"BACKEND": "gunmane.web.common.staticfiles.StaticFilesStorage"}
# Serve static files from the app directories without collectstatic (one-command start); in production the
# collected copies in STATIC_ROOT come first.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Imports run on the task queue below like the rest of the long work (registry.imports.records.start).

# -- Task queue (docs/tasks.md) -------------------------------------------------------------------------
# Long work — the national frames, generated files — runs on django-tasks' database queue: the web request
# records a job and returns at once; `gunmane worker` (started by `gunmane serve` too) runs it. GUNMANE_TASKS=
# immediate runs every task inside the request that asks (the tests; a single process without a worker).
GUNMANE_TASKS = os.environ.get("GUNMANE_TASKS", "database").strip().lower()
TASKS = {
    "default": {
        "BACKEND": ("django_tasks.backends.immediate.ImmediateBackend" if GUNMANE_TASKS == "immediate"
                    else "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    },
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

# -- REST API (gunmane.web.api; docs/api.md) --------------------------------------------------------
# Tokens first (a token request needs no CSRF token), then the browser's session. The permission is the URL
# table's rule (access.URL_RULES), checked by the web's own permission functions (api.permissions.UrlRule).
# Throttling counts per process (the default local-memory cache): GUNMANE_API_RATE per user,
# GUNMANE_API_ANON_RATE per address for visitors without a token.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "gunmane.web.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["gunmane.web.api.permissions.UrlRule"],
    "DEFAULT_PAGINATION_CLASS": "gunmane.web.api.pagination.Pages",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("GUNMANE_API_ANON_RATE", "300/minute"),
        "user": os.environ.get("GUNMANE_API_RATE", "3000/minute"),
    },
    "EXCEPTION_HANDLER": "gunmane.web.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "gunmane 群マネ API",
    "DESCRIPTION": "施設台帳・点検・措置、取り込み、カルテ、群と効果試算を、画面と同じ権限で読み書きする API。"
                   "API トークンは利用者ページ（/accounts/）で作ります。",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"HealthGradeEnum": "gunmane.web.registry.models.HealthGrade"},
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "gunmane.web.api.schema.add_error_responses"],
}

# -- Sign-in: idle timeout and lockout ------------------------------------------------------------
# A session ends after this many minutes without a request (shared office PCs are left signed in):
# the cookie's age is the idle time, and every request saves the session to push the expiry on.
SESSION_IDLE_MINUTES = _int("GUNMANE_SESSION_IDLE_MINUTES", 60, minimum=1)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = True

# After AXES_FAILURE_LIMIT wrong passwords in a row, the login is locked for AXES_COOLOFF_TIME
# (each further try restarts it). The lock is per user name *and* address: a whole municipal office
# behind one NAT address is never locked because one person mistyped, and an outsider cannot lock
# a user out from elsewhere. Admins unlock in the admin (利用者: 「ログインのロックを解除する」, or Axes ›
# Access attempts) or with
# `gunmane manage axes_reset_username NAME`.
AXES_FAILURE_LIMIT = _int("GUNMANE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=_int("GUNMANE_LOGIN_LOCKOUT_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "gunmane.web.accounts.signin.lockout_response"
AXES_CLIENT_IP_CALLABLE = "gunmane.web.accounts.signin.client_ip"
AXES_COOLOFF_MESSAGE = "ログインに続けて失敗したため、一時的にロックしました。"

# -- Reverse proxy (nginx / IIS in front of waitress) ---------------------------------------------
# Only when the app port is reachable from the proxy alone: then X-Forwarded-Proto says whether the
# browser used HTTPS, and the last X-Forwarded-For entry (added by the proxy) is the client address.
BEHIND_PROXY = _flag("GUNMANE_BEHIND_PROXY")
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = _list("GUNMANE_CSRF_TRUSTED_ORIGINS")

# -- Production: HTTPS only ---------------------------------------------------------------------------
if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = _int("GUNMANE_HSTS_SECONDS", 365 * 24 * 3600, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# security.W021 asks for SECURE_HSTS_PRELOAD. Preloading commits the whole registered domain
# (e.g. city.example.lg.jp) to HTTPS in every browser for months; that is the municipality's IT
# section's decision for all its sites, not this application's, so it is left off.
SILENCED_SYSTEM_CHECKS = ["security.W021"]

# The admin's address; a less obvious one keeps casual scanners off the admin login.
_admin_path = os.environ.get("GUNMANE_ADMIN_PATH", "admin/").strip().strip("/")
if not re.fullmatch(r"[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*", _admin_path):
    raise _refuse(f"GUNMANE_ADMIN_PATH には英数字・-・_ と / だけのパスを指定してください（指定値: {_admin_path!r}）。",
                  f"GUNMANE_ADMIN_PATH must be a path of letters, digits, - and _ (got {_admin_path!r}).")
ADMIN_PATH = f"{_admin_path}/"

# -- Content-Security-Policy (django-csp 4) ---------------------------------------------------------
# Every script, style, font and image is served by gunmane itself (closed government networks), so
# the page may load from its own origin only: no inline script or style, no eval, no framing.
# On in development too, so that a template that breaks the rule fails in the tests.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# Errors on stderr, which gunicorn, waitress and systemd's journal keep (docs/deployment.md): Django's default sends
# an unhandled exception (the 500 page) only to ADMINS by mail when DEBUG is off, so a server without mail kept no
# trace of it. gunmane's own warnings (a refused job, a rebuilt frame) go the same way.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [pid %(process)d] %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.request": {"handlers": ["stderr"], "level": "ERROR", "propagate": False},
        "gunmane": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
    },
}
